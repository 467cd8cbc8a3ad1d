"""Processes sharing a PersistedTokenCache redeem each refresh token once: one refreshes, the others
wait for the account's refresh lock and use the token it wrote; a hung holder delays them boundedly."""
import hashlib
import time

import pytest

from idp.server import NATIVE_CLIENT
from nbauth import PublicClientApplication
from nbauth.cache import PersistedTokenCache
from support.processes import expect_line, kill, python_child

SCOPES = ["api:read"]
pytestmark = pytest.mark.timeout(120)

#: An application on the shared cache whose clock runs ``skew`` seconds ahead (its token expired).
CHILD_APP = """
import hashlib, sys, time
from nbauth import PublicClientApplication
from nbauth.cache import PersistedTokenCache
path, issuer, skew = sys.argv[1], sys.argv[2], float(sys.argv[3])
clock = lambda: time.time() + skew
app = PublicClientApplication("nbauth-native", oidc_authority=issuer, clock=clock,
                              token_cache=PersistedTokenCache(path, clock=clock))
(account,) = app.get_accounts()
"""

#: Waits for "go", then asks for a token silently and says where it came from (and its hash).
ASK_AT_ONCE = CHILD_APP + """
print("ready", flush=True)
sys.stdin.readline()
result = app.acquire_token_silent(["api:read"], account)
print("done", result["token_source"], hashlib.sha256(result["access_token"].encode()).hexdigest(), flush=True)
"""

#: Takes the account's refresh lock and keeps it until its stdin closes (a hung process).
HOLD_REFRESH_LOCK = CHILD_APP + """
with app.token_cache.refresh_lock((app.client_id, account["environment"], account["home_account_id"]), 5):
    print("holding", flush=True)
    sys.stdin.readline()
"""


def sign_in(provider, path):
    app = PublicClientApplication(NATIVE_CLIENT, oidc_authority=provider.issuer, token_cache=PersistedTokenCache(path))
    assert "access_token" in app.acquire_token_by_username_password("alice", "alice-pw", SCOPES)
    return app


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def test_four_processes_at_expiry_send_one_refresh(make_idp, tmp_path):
    provider = make_idp(access_token_ttl=60)
    path = tmp_path / "token_cache.json"
    sign_in(provider, path)
    children = [python_child(ASK_AT_ONCE, str(path), provider.issuer, "60") for _ in range(4)]
    try:
        for child in children:
            expect_line(child, "ready")
        provider.reset_stats()
        for child in children:
            child.stdin.write("go\n")
            child.stdin.flush()
        answers = [expect_line(child, "done").split() for child in children]
    finally:
        for child in children:
            kill(child)
    assert provider.count("refresh_token") == 1 and provider.count("refresh_token", "invalid_grant") == 0
    assert sorted(source for _, source, _ in answers) == ["cache"] * 3 + ["identity_provider"]
    assert len({token_hash for _, _, token_hash in answers}) == 1
    (lock,) = (p for p in tmp_path.iterdir() if p.name.startswith("token_cache.json.refresh-"))
    assert "alice" not in lock.name and lock.stat().st_mode & 0o777 == 0o600  # one lock file, the account's


def test_a_hung_lock_holder_delays_a_refresh_only_until_the_timeout(make_idp, tmp_path):
    provider = make_idp(access_token_ttl=60)
    path = tmp_path / "token_cache.json"
    sign_in(provider, path)
    holder = python_child(HOLD_REFRESH_LOCK, str(path), provider.issuer, "0")
    try:
        expect_line(holder, "holding")
        skewed = lambda: time.time() + 60  # noqa: E731
        app = PublicClientApplication(NATIVE_CLIENT, oidc_authority=provider.issuer, clock=skewed,
                                      token_cache=PersistedTokenCache(path, clock=skewed))
        app.service.refresh_lock_timeout = 1.0
        started = time.monotonic()
        result = app.acquire_token_silent(SCOPES, app.get_accounts()[0])
        waited = time.monotonic() - started
    finally:
        kill(holder)
    assert result["token_source"] == "identity_provider" and 1.0 <= waited < 10


def test_a_refresh_token_another_process_rotated_is_read_again_before_it_is_redeemed(idp, tmp_path):
    path = tmp_path / "token_cache.json"
    sign_in(idp, path)
    ours, theirs = (PublicClientApplication(NATIVE_CLIENT, oidc_authority=idp.issuer,
                                            token_cache=PersistedTokenCache(path)) for _ in range(2))
    account = ours.get_accounts()[0]  # our memory now holds the first refresh token
    before, refused = idp.count("refresh_token"), idp.count("refresh_token", "invalid_grant")
    rotated = theirs.acquire_token_silent(SCOPES, theirs.get_accounts()[0], force_refresh=True)
    mine = ours.acquire_token_silent(SCOPES, account, force_refresh=True)
    assert idp.count("refresh_token") == before + 2 and idp.count("refresh_token", "invalid_grant") == refused
    assert mine["access_token"] != rotated["access_token"]
    assert digest(mine["refresh_token"]) != digest(rotated["refresh_token"])
