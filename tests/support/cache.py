"""Token events shaped like the ones MSAL's flows hand to the cache (helpers, no tests)."""
import base64
import json

NOW = 1_700_000_000
ENTRA_ENDPOINT = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
OIDC_ENDPOINT = "https://127.0.0.1:8443/oidc/token"


def b64(value: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def unsigned_jwt(claims: dict) -> str:
    """A JWT-shaped ID token; the cache only files tokens by its claims, it does not verify them."""
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}.c2ln"


def entra_event(uid="uid-1", tenant="tenant-1", client_id="client-1", scopes=("User.Read",),
                username="alice@example.com", grant_type="urn:ietf:params:oauth:grant-type:device_code",
                **response):
    """A sign-in at Entra ID: client_info, ID token, access and refresh tokens."""
    body = {
        "access_token": f"at-{uid}-{'.'.join(scopes)}", "token_type": "Bearer", "expires_in": 3600,
        "refresh_token": f"rt-{uid}", "client_info": b64({"uid": uid, "utid": tenant}),
        "id_token": unsigned_jwt({"sub": "pairwise-" + uid, "oid": uid, "tid": tenant,
                                  "preferred_username": username, "iss": "x", "aud": client_id}),
        "scope": " ".join(scopes),
    }
    body.update(response)
    return {"client_id": client_id, "scope": list(scopes), "grant_type": grant_type,
            "token_endpoint": ENTRA_ENDPOINT.format(tenant=tenant), "response": body, "data": {}}


def oidc_event(sub="alice", client_id="nbauth-native", scopes=("openid", "profile", "api"), **response):
    """A sign-in at a plain OpenID provider: no client_info, so the account is the ID token's sub."""
    body = {
        "access_token": f"at-{sub}-{'.'.join(scopes)}", "token_type": "Bearer", "expires_in": 600,
        "refresh_token": f"rt-{sub}", "id_token": unsigned_jwt({"sub": sub, "iss": "x", "aud": client_id}),
        "scope": " ".join(scopes),
    }
    body.update(response)
    return {"client_id": client_id, "scope": list(scopes), "grant_type": "password",
            "token_endpoint": OIDC_ENDPOINT, "response": body, "data": {"username": sub}}


def app_event(client_id="daemon", scopes=("https://graph.microsoft.com/.default",), tenant="tenant-1"):
    """A client-credentials token: no user, so no account, ID token or refresh token."""
    return {"client_id": client_id, "scope": list(scopes), "grant_type": "client_credentials",
            "token_endpoint": ENTRA_ENDPOINT.format(tenant=tenant),
            "response": {"access_token": "app-at", "token_type": "Bearer", "expires_in": 3599}, "data": {}}


TESTS_DIR = __import__("pathlib").Path(__file__).resolve().parents[1]


def python_child(code: str, *args: str, env=None, **popen):
    """A separate Python process running ``code`` (``sys.argv[1:]`` = ``args``), pipes on stdin/stdout.

    ``tests/`` is on its path, so it can import these helpers; it talks to the test by lines.
    ``env`` replaces the environment it inherits.
    """
    import os
    import subprocess
    import sys

    env = dict(os.environ if env is None else env)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS_DIR), env.get("PYTHONPATH")]))
    return subprocess.Popen([sys.executable, "-c", code, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, env=env, **popen)


def expect_line(child, wanted: str) -> str:
    """Block until the child prints a line starting with ``wanted`` (it fails the test if it dies first)."""
    for line in child.stdout:
        if line.startswith(wanted):
            return line.strip()
    raise AssertionError(f"child exited ({child.wait()}) before saying {wanted!r}")


#: A child that holds the cache's lock until its stdin closes.
HOLD_LOCK = """
import sys
from nbauth.cache.lock import FileLock
with FileLock(sys.argv[1]).hold(timeout=10):
    print("locked", flush=True)
    sys.stdin.read()
"""


def kill(child) -> None:
    """SIGKILL the child (as a crash would end it), reap it and close its pipes."""
    import signal

    if child.poll() is None:
        child.send_signal(signal.SIGKILL)
    child.wait(10)
    child.stdin.close()
    child.stdout.close()

def run_together(children, timeout=90):
    """Start the children's work at once (all are ready first); return their outputs (each
    given ``timeout`` seconds to finish)."""
    try:
        for child in children:
            expect_line(child, "ready")
        for child in children:
            child.stdin.write("go\n")
            child.stdin.flush()
        outputs = [child.communicate(timeout=timeout)[0] for child in children]
        assert [child.returncode for child in children] == [0] * len(children)
        return outputs
    finally:
        for child in children:
            kill(child)


def _fixtures():
    """Fixtures for cache tests (import them by name into a test module)."""
    import warnings

    import pytest

    from nbauth.exceptions import CacheWarning

    @pytest.fixture
    def cache_path(tmp_path):
        """``token_cache.json`` in an owner-only folder."""
        folder = tmp_path / "nbauth"
        folder.mkdir(mode=0o700)
        return folder / "token_cache.json"

    @pytest.fixture
    def cache_warnings_fail():
        """Any CacheWarning the test does not expect fails it."""
        with warnings.catch_warnings():
            warnings.simplefilter("error", CacheWarning)
            yield

    return cache_path, cache_warnings_fail


cache_path, cache_warnings_fail = _fixtures()
