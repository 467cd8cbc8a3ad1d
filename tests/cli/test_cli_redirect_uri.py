"""``nbauth redirect-uri``: the redirect URI to register for browser sign-in from a notebook."""
from __future__ import annotations

import pytest

from nbauth.cli.command import main


@pytest.mark.parametrize("argv, expected", [
    (["http://127.0.0.1:8888/lab"], "http://127.0.0.1:8888/nbauth/callback"),
    (["https://nb.example.org", "--base-url", "/jupyter/"], "https://nb.example.org/jupyter/nbauth/callback"),
    (["https://hub.example.org/user/ann/lab", "--hub"], "https://hub.example.org/hub/user-redirect/nbauth/callback"),
    (["https://example.org", "--hub", "/jh/hub/"], "https://example.org/jh/hub/user-redirect/nbauth/callback"),
])
def test_prints_the_uri_and_where_to_register_it(argv, expected, capsys):
    assert main(["redirect-uri", *argv]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == expected
    assert "Mobile and desktop applications" in out[1]


def test_a_url_it_cannot_use_is_named(capsys):
    assert main(["redirect-uri", "http://jupyter.example.org/lab"]) != 0
    assert "https" in capsys.readouterr().err
