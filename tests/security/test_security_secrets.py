"""Secrets in copies: tokens in result dicts and the credentials an application holds are values
whose repr is masked, so copies of results (``dict(result)``, ``{**result}``), ``vars(app)`` and
tracebacks that show locals do not print them, while their value (str, f-strings, ``==``, hashing,
JSON, pickling, what requests sends) is unchanged."""
from __future__ import annotations

import copy
import json
import os
import pickle
import pprint
import subprocess
import sys
import textwrap
import traceback
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import serialization

from support.fake_provider import CLIENT_ID, FakeProvider, new_rsa_key
from nbauth import ConfidentialClientApplication
from nbauth.cache import TokenCache

ROOT = Path(__file__).resolve().parents[2]
AT, RT = "at-SECRET-3f9a1c", "rt-SECRET-77b2e0"


@pytest.fixture
def provider(fake_server):
    provider = FakeProvider(fake_server)
    provider.extra_response = {"access_token": AT, "refresh_token": RT}
    id_token = provider.sign(provider.claims())
    provider.id_token = lambda claims, p: id_token
    return provider


def secrets_of(result) -> list:
    return [result[key] for key in ("access_token", "refresh_token", "id_token") if key in result]


def assert_masked(text: str, secrets) -> None:
    for secret in secrets:
        assert str(secret) not in text
    assert "<redacted>" in text


def results(provider):
    """A result from the provider and one answered from the cache (the silent hit path)."""
    app = provider.app()
    redeemed = app.acquire_token_by_refresh_token("rt-0", ["api:read"])
    hit = app.acquire_token_silent(["api:read"], app.get_accounts()[0])
    assert redeemed["access_token"] == AT and hit["token_source"] == "cache"
    return redeemed, hit


def test_copies_of_results_print_tokens_masked(provider):
    for result in results(provider):
        secrets = secrets_of(result)
        assert len(secrets) in (1, 3)
        for shown in (repr(dict(result)), str({**result}), pprint.pformat(dict(result)), repr(list(result.values())),
                      repr(copy.deepcopy(dict(result)))):
            assert_masked(shown, secrets)


def test_token_values_are_unchanged(provider):
    redeemed, hit = results(provider)
    for result in (redeemed, hit):
        plain = {key: str(value) if isinstance(value, str) else value for key, value in result.items()}
        assert json.dumps(result) == json.dumps(plain) and json.loads(json.dumps(dict(result))) == plain
        assert result["access_token"] == AT and hash(result["access_token"]) == hash(AT)
        assert f"Bearer {result['access_token']}" == f"Bearer {AT}" and str(result["access_token"]) == AT
        assert type(str(result["access_token"])) is str
    assert {redeemed["refresh_token"]: 1}[RT] == 1


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_a_secret_pickles_as_itself(protocol):
    from nbauth.redact import Secret

    back = pickle.loads(pickle.dumps(Secret(AT), protocol))
    assert back == AT and isinstance(back, str) and repr(back) == "<redacted>"


def test_requests_sends_the_real_token(provider, fake_server):
    redeemed, hit = results(provider)
    fake_server.route("GET", "/api", lambda request: (200, {}, {"seen": request.headers["Authorization"]}))
    for token in (redeemed["access_token"], hit["access_token"]):
        for header in (f"Bearer {token}", "Bearer " + token):
            seen = requests.get(fake_server.url + "/api", headers={"Authorization": header}, timeout=5).json()
            assert seen == {"seen": f"Bearer {AT}"}


def test_a_traceback_with_locals_shows_no_token(provider):
    redeemed, hit = results(provider)
    copied, spread = dict(redeemed), {**hit}
    try:
        raise RuntimeError("the caller's code failed")
    except RuntimeError as exc:
        shown = "".join(traceback.TracebackException.from_exception(exc, capture_locals=True).format())
    assert "copied" in shown and "spread" in shown
    assert_masked(shown, secrets_of(copied))


def test_ipython_verbose_traceback_shows_no_token(provider):
    ultratb = pytest.importorskip("IPython.core.ultratb")
    copied = dict(results(provider)[0])
    try:
        raise RuntimeError(f"the caller's code failed with {copied}")  # verbose mode shows the line's locals
    except RuntimeError:
        shown = ultratb.VerboseTB(theme_name="nocolor").text(*sys.exc_info())
    assert "copied" in shown
    assert_masked(shown, secrets_of(copied))


CHILD_TEST = """
from support.fake_provider import CLIENT_ID
from nbauth import PublicClientApplication

def test_holds_a_result():
    app = PublicClientApplication(CLIENT_ID, oidc_authority={issuer!r})
    result = app.acquire_token_by_refresh_token("rt-0", ["api:read"])
    copied = dict(result)
    spread = {{**result}}
    assert not copied, "fails on purpose so pytest prints the locals"
"""


def test_pytest_showlocals_in_another_process_shows_no_token(provider, tmp_path):
    (tmp_path / "test_child.py").write_text(textwrap.dedent(CHILD_TEST.format(issuer=provider.issuer)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "tests")]))
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--showlocals",
                          "test_child.py"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "copied" in run.stdout and "spread" in run.stdout and "fails on purpose" in run.stdout
    assert provider.token_requests()
    assert_masked(run.stdout + run.stderr, [AT, RT, provider.id_token({}, provider)])


def encrypted_key(passphrase: bytes) -> bytes:
    return new_rsa_key().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.BestAvailableEncryption(passphrase))


@pytest.mark.parametrize("make_credential", [
    lambda: ("client-SECRET-9c1d", ["client-SECRET-9c1d"]),
    lambda: ({"client_secret": "client-SECRET-9c1d", "token_endpoint_auth_method": "client_secret_post"},
             ["client-SECRET-9c1d"]),
    lambda: ({"client_assertion": "eyJ.assertion-SECRET.sig"}, ["assertion-SECRET"]),
    lambda: ((lambda key: ({"private_key": key, "passphrase": b"pass-SECRET-41", "thumbprint": "a" * 40},
                           [key.decode()[40:120], "pass-SECRET-41"]))(encrypted_key(b"pass-SECRET-41"))),
    lambda: ((lambda key: ({"private_key": key.decode(), "passphrase": "pass-SECRET-41", "thumbprint": "a" * 40},
                           [key.decode()[40:120], "pass-SECRET-41"]))(encrypted_key(b"pass-SECRET-41"))),
], ids=["secret", "secret-post", "assertion", "key-bytes", "key-str"])
def test_vars_of_an_application_shows_no_credential(provider, make_credential):
    credential, secrets = make_credential()
    app = ConfidentialClientApplication(CLIENT_ID, credential, oidc_authority=provider.issuer,
                                        token_cache=TokenCache())
    shown = repr(vars(app)) + pprint.pformat(vars(app)) + repr(dict(vars(app)))
    for secret in secrets:
        assert secret not in shown
    assert app.client_credential == credential  # the value MSAL code reads back is the one given


def test_a_masked_secret_still_authenticates_the_app(provider):
    app = ConfidentialClientApplication(CLIENT_ID, {"client_secret": "client-SECRET-9c1d",
                                                    "token_endpoint_auth_method": "client_secret_post"},
                                        oidc_authority=provider.issuer, token_cache=TokenCache())
    result = app.acquire_token_for_client(["api:read"])
    assert result["access_token"] == AT and repr(dict(result)).count("<redacted>") >= 2
    (sent,) = provider.token_requests()
    assert sent.form["client_secret"] == "client-SECRET-9c1d"
