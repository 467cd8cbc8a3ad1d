"""No escape sequence from a provider or the cache reaches a terminal.

A user name like ``alice\\x1b[2J`` (clear the screen) or one with a right-to-left override comes
out of every command cleaned; the device-code prompt is cleaned where it is written.
"""
import io
import json

import pytest

from nbauth.cache import PersistedTokenCache
from nbauth.ui import FlowState, Status
from nbauth.ui.terminal import TerminalPresenter
from nbauth.ui.text import printable
from support.cache import entra_event
from support.cli import cache_path, ci_env, env, nbauth_command  # noqa: F401

#: Clears the screen, sets the window title, then reverses the rest of the line.
HOSTILE = "alice\x1b[2J\x1b]0;owned\x07\x9b31m\u202eevil\u2066x\u2069\u200f\u061c@example.com"
ENTRA = ["--client-id", "client-1", "--authority", "https://login.microsoftonline.com/tenant-1"]


def assert_clean(text):
    bad = [ch for ch in text if (ord(ch) < 0x20 and ch not in "\n\t") or 0x7f <= ord(ch) <= 0x9f
           or ch in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"]
    assert bad == [], repr(text)


@pytest.mark.parametrize("char", ["\x1b", "\x07", "\x00", "\x7f", "\x9b", "\r", "\x08", "\u202e", "\u2066",
                                  "\u2069", "\u200e", "\u200f", "\u061c", "\u202a"])
def test_printable_drops_every_character_that_moves_the_cursor_or_the_reading_order(char):
    assert printable(f"a{char}b") == "a b"


@pytest.fixture
def hostile_cache(cache_path):
    """Two Entra accounts whose names carry escape sequences, in the cache file the CLI reads."""
    cache = PersistedTokenCache(cache_path)
    cache.add(entra_event(uid="u1", username=HOSTILE))
    cache.add(entra_event(uid="u2", username="bob\x1b[1A\u202e@example.com"))
    return cache_path


def test_accounts_prints_cached_user_names_cleaned(hostile_cache, ci_env):
    run = nbauth_command("accounts", *ENTRA, env=ci_env)
    assert run.returncode == 0, run.stderr
    assert_clean(run.stdout)
    assert "alice [2J ]0;owned 31m evil x @example.com\t" in run.stdout
    as_json = nbauth_command("accounts", "--json", *ENTRA, env=ci_env)
    assert HOSTILE in [a["username"] for a in json.loads(as_json.stdout)]  # exact, and escaped by JSON
    assert_clean(as_json.stdout)


def test_error_lines_naming_cached_accounts_are_cleaned(hostile_cache, ci_env):
    run = nbauth_command("logout", *ENTRA, env=ci_env)
    assert run.returncode == 2 and "several accounts are signed in (" in run.stderr
    assert_clean(run.stderr)


def test_cache_status_prints_saved_settings_cleaned(hostile_cache, ci_env):
    hostile_cache.with_name("token_cache.cli.json").write_text(json.dumps({"client_id": "c\x1b[2J", "username": HOSTILE}))
    run = nbauth_command("cache", env=ci_env)
    assert run.returncode == 0, run.stderr
    assert "client_id=c [2J" in run.stdout
    assert_clean(run.stdout)


def test_the_terminal_presenter_writes_provider_strings_cleaned():
    out = io.StringIO()
    presenter = TerminalPresenter(out)
    presenter.render(FlowState(verification_uri="https://idp.example/device\x1b[2J", user_code="AB\u202eCD",
                               authority="https://idp.example"))
    presenter.render(FlowState(status=Status.DENIED, detail="no\x1b]0;owned\x07", authority="https://idp.example"))
    assert_clean(out.getvalue())
    assert "open https://idp.example/device [2J and enter the code AB CD" in out.getvalue()
