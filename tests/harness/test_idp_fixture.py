"""The local OpenID provider fixture: every flow nbauth relies on, driven with plain requests."""
from __future__ import annotations

import base64
import hashlib
import os
import secrets
import select
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests

import idp.server as idp_server
from idp.browser import BrowserError, approve_device_via_html, deny_device_via_html, login
from idp.server import (
    API_RESOURCE,
    CLIENT_SECRET,
    CONFIDENTIAL_CLIENT,
    CONFIDENTIAL_POST_CLIENT,
    EMAILS,
    GRANT_DEVICE_CODE,
    GRANT_JWT_BEARER,
    NATIVE_CLIENT,
    PKJWT_CLIENT,
    WEB_REDIRECT_URI,
    IdPStartError,
    LocalIdP,
)
from support.processes import TESTS_DIR

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


# ---- helpers ------------------------------------------------------------------------------------
def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def post(idp: LocalIdP, endpoint: str, **kwargs) -> requests.Response:
    return requests.post(idp.metadata()[endpoint], timeout=10, **kwargs)


def token(idp: LocalIdP, *, auth=None, **data) -> requests.Response:
    return post(idp, "token_endpoint", data=data, auth=auth)


def password_grant(idp: LocalIdP, user="alice", scope="openid offline_access email api:read",
                   auth=None) -> dict:
    client = {} if auth else {"client_id": NATIVE_CLIENT}
    response = token(idp, auth=auth, **client, grant_type="password", username=user,
                     password=idp_server.USERS[user], scope=scope)
    assert response.status_code == 200, response.text
    return response.json()


def refresh(idp: LocalIdP, refresh_token: str) -> requests.Response:
    return token(idp, client_id=NATIVE_CLIENT, grant_type="refresh_token", refresh_token=refresh_token)


def start_device_flow(idp: LocalIdP, scope="openid offline_access email profile api:read") -> dict:
    response = post(idp, "device_authorization_endpoint", data={"client_id": NATIVE_CLIENT, "scope": scope})
    assert response.status_code == 200, response.text
    return response.json()


def poll(idp: LocalIdP, flow: dict) -> requests.Response:
    return token(idp, client_id=NATIVE_CLIENT, grant_type=GRANT_DEVICE_CODE, device_code=flow["device_code"])


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorization_url(idp: LocalIdP, client_id: str, redirect_uri: str, challenge: str | None,
                      scope="openid offline_access email profile api:read") -> tuple[str, str, str]:
    state, nonce = secrets.token_urlsafe(8), secrets.token_urlsafe(8)
    params = {"client_id": client_id, "response_type": "code", "redirect_uri": redirect_uri,
              "scope": scope, "state": state, "nonce": nonce}
    if challenge:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    url = requests.Request("GET", idp.metadata()["authorization_endpoint"], params=params).prepare().url
    return url, state, nonce


def callback_params(redirect: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(redirect).query).items()}


def client_assertion(idp: LocalIdP, *, algorithm="RS256", headers=None, audience=None) -> str:
    now = int(time.time())
    payload = {"iss": PKJWT_CLIENT, "sub": PKJWT_CLIENT, "aud": audience or idp.metadata()["token_endpoint"],
               "jti": str(uuid.uuid4()), "iat": now, "exp": now + 60}
    return jwt.encode(payload, idp.client_key_pem, algorithm=algorithm, headers=headers)


def verified_access_token(idp: LocalIdP, access_token: str) -> dict:
    key = jwt.PyJWKClient(idp.metadata()["jwks_uri"]).get_signing_key_from_jwt(access_token)
    return jwt.decode(access_token, key.key, algorithms=["RS256"], audience=API_RESOURCE, issuer=idp.issuer)


def group_members(pgid: int) -> list[int]:
    """Pids of live processes in process group ``pgid`` (from /proc)."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry))
    return members


# ---- the provider itself --------------------------------------------------------------------------
def test_discovery_is_served_over_https_under_oidc(idp):
    meta = idp.metadata()
    parts = urlsplit(idp.issuer)
    assert (parts.scheme, parts.hostname, parts.path) == ("https", "127.0.0.1", "/oidc")
    assert meta["issuer"] == idp.issuer
    for name in ("authorization_endpoint", "token_endpoint", "device_authorization_endpoint",
                 "revocation_endpoint", "introspection_endpoint", "jwks_uri"):
        assert meta[name].startswith(idp.issuer + "/"), name
    assert {"password", GRANT_JWT_BEARER, GRANT_DEVICE_CODE, "refresh_token", "client_credentials",
            "authorization_code"} <= set(meta["grant_types_supported"])
    # The environment trusts the session CA (conftest); the system bundle alone does not.
    assert requests.get(idp.issuer + "/.well-known/openid-configuration", timeout=10).ok
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(idp.issuer + "/jwks", verify=requests.certs.where(), timeout=10)
    outside = f"https://127.0.0.1:{parts.port}/.well-known/openid-configuration"
    assert requests.get(outside, timeout=10).status_code == 404


# ---- device flow ------------------------------------------------------------------------------------
def test_device_flow_pending_then_approved(idp):
    flow = start_device_flow(idp)
    assert flow["interval"] == 1
    assert flow["verification_uri_complete"].startswith(idp.issuer + "/device?user_code=")

    pending = poll(idp, flow)
    assert (pending.status_code, pending.json()["error"]) == (400, "authorization_pending")

    idp.approve_device(flow["user_code"], user="bob")
    tokens = poll(idp, flow).json()
    assert {"access_token", "id_token", "refresh_token"} <= tokens.keys()
    assert claims(tokens["id_token"])["email"] == EMAILS["bob"]
    access = verified_access_token(idp, tokens["access_token"])
    assert (access["sub"], access["client_id"], access["scope"]) == ("bob", NATIVE_CLIENT, "api:read")

    again = poll(idp, flow)  # a device code is good for one token response
    assert again.json()["error"] == "invalid_grant"


def test_device_flow_denied(idp):
    flow = start_device_flow(idp)
    idp.deny_device(flow["user_code"])
    assert poll(idp, flow).json()["error"] == "access_denied"
    with pytest.raises(AssertionError, match="409"):
        idp.approve_device(flow["user_code"])  # already decided


def test_device_flow_through_the_html_pages(idp):
    flow = start_device_flow(idp)
    page = approve_device_via_html(flow["verification_uri_complete"], user="bob")
    assert "Sign-in Success" in page
    tokens = poll(idp, flow).json()
    assert claims(tokens["id_token"])["sub"] == "bob"

    refused = start_device_flow(idp)
    deny_device_via_html(refused["verification_uri_complete"])
    assert poll(idp, refused).json()["error"] == "access_denied"


def test_scripted_slow_down_answers_the_next_polls(idp):
    flow = start_device_flow(idp)
    idp.slow_down(flow["user_code"], count=2)
    errors = [poll(idp, flow).json()["error"] for _ in range(3)]
    assert errors == ["slow_down", "slow_down", "authorization_pending"]


def test_token_log_records_each_poll_with_its_user_code(idp):
    flow = start_device_flow(idp)
    before_ms = int(time.time() * 1000)
    poll(idp, flow)
    idp.approve_device(flow["user_code"])
    poll(idp, flow)
    after_ms = int(time.time() * 1000)

    polls = idp.token_log("device_code", user_code=flow["user_code"])
    assert [p["outcome"] for p in polls] == ["authorization_pending", "ok"]
    assert all(p["client_id"] == NATIVE_CLIENT and p["grant_type"] == GRANT_DEVICE_CODE for p in polls)
    times = [p["t_ms"] for p in polls]
    assert before_ms - 5 <= times[0] <= times[1] <= after_ms + 5  # node's clock is this clock


# ---- authorization code ---------------------------------------------------------------------------
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_auth_code_with_pkce_on_any_loopback_port(idp, host):
    verifier, challenge = pkce_pair()
    redirect_uri = f"http://{host}:{secrets.randbelow(20000) + 40000}/callback"
    url, state, nonce = authorization_url(idp, NATIVE_CLIENT, redirect_uri, challenge)

    redirect = login(url, "alice")
    assert redirect.startswith(redirect_uri + "?")
    params = callback_params(redirect)
    assert (params["state"], params["iss"]) == (state, idp.issuer)

    tokens = token(idp, client_id=NATIVE_CLIENT, grant_type="authorization_code", code=params["code"],
                   redirect_uri=redirect_uri, code_verifier=verifier).json()
    id_claims = claims(tokens["id_token"])
    assert (id_claims["sub"], id_claims["email"], id_claims["name"]) == ("alice", EMAILS["alice"], "Alice Example")
    assert "refresh_token" in tokens  # offline_access without prompt=consent, as with Entra

    params = callback_params(login(authorization_url(idp, NATIVE_CLIENT, redirect_uri, challenge)[0]))
    wrong = token(idp, client_id=NATIVE_CLIENT, grant_type="authorization_code", code=params["code"],
                  redirect_uri=redirect_uri, code_verifier=pkce_pair()[0])
    assert wrong.json()["error"] == "invalid_grant"


def test_native_client_needs_pkce(idp):
    url, _, _ = authorization_url(idp, NATIVE_CLIENT, "http://127.0.0.1:5000/callback", challenge=None)
    params = callback_params(login(url, "alice"))
    assert params["error"] == "invalid_request"


def test_login_rejects_a_wrong_password(idp):
    url, _, _ = authorization_url(idp, NATIVE_CLIENT, "http://127.0.0.1:5000/callback", pkce_pair()[1])
    with pytest.raises(BrowserError, match="Invalid username or password"):
        login(url, "alice", "not-her-password")


def test_web_app_auth_code_for_a_confidential_client(idp):
    verifier, challenge = pkce_pair()
    url, state, _ = authorization_url(idp, CONFIDENTIAL_CLIENT, WEB_REDIRECT_URI, challenge)
    params = callback_params(login(url, "bob"))
    assert params["state"] == state
    tokens = token(idp, auth=(CONFIDENTIAL_CLIENT, CLIENT_SECRET), grant_type="authorization_code",
                   code=params["code"], redirect_uri=WEB_REDIRECT_URI, code_verifier=verifier).json()
    assert claims(tokens["id_token"])["aud"] == CONFIDENTIAL_CLIENT
    assert claims(tokens["access_token"])["sub"] == "bob"
    assert "refresh_token" in tokens


# ---- client credentials -------------------------------------------------------------------------------
def test_client_credentials_with_basic_and_post_secrets(idp):
    basic = token(idp, auth=(CONFIDENTIAL_CLIENT, CLIENT_SECRET), grant_type="client_credentials", scope="api:read")
    posted = token(idp, client_id=CONFIDENTIAL_POST_CLIENT, client_secret=CLIENT_SECRET,
                   grant_type="client_credentials", scope="api:read")
    for response, client_id in ((basic, CONFIDENTIAL_CLIENT), (posted, CONFIDENTIAL_POST_CLIENT)):
        assert response.status_code == 200, response.text
        access = verified_access_token(idp, response.json()["access_token"])
        assert (access["client_id"], access["scope"]) == (client_id, "api:read")

    wrong = token(idp, auth=(CONFIDENTIAL_CLIENT, "nope"), grant_type="client_credentials", scope="api:read")
    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")
    # The log tells how each client authenticated.
    logged = [(e["client_id"], e["client_auth"]) for e in idp.token_log("client_credentials")[-3:]]
    assert logged == [(CONFIDENTIAL_CLIENT, "client_secret_basic"),
                      (CONFIDENTIAL_POST_CLIENT, "client_secret_post"),
                      (CONFIDENTIAL_CLIENT, "client_secret_basic")]


@pytest.mark.parametrize("algorithm, with_kid", [("RS256", True), ("RS256", False), ("PS256", False)])
def test_client_credentials_with_private_key_jwt(idp, algorithm, with_kid):
    headers = {"kid": idp.client_key_id} if with_kid else None
    assertion = client_assertion(idp, algorithm=algorithm, headers=headers)
    data = {"client_id": PKJWT_CLIENT, "grant_type": "client_credentials", "scope": "api:read",
            "client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion}
    response = token(idp, **data)
    assert response.status_code == 200, response.text
    assert claims(response.json()["access_token"])["client_id"] == PKJWT_CLIENT
    replayed = token(idp, **data)
    assert replayed.json()["error"] == "invalid_client"


def test_private_key_jwt_rejects_a_foreign_kid(idp):
    assertion = client_assertion(idp, headers={"kid": "someone-else"})
    response = token(idp, client_id=PKJWT_CLIENT, grant_type="client_credentials", scope="api:read",
                     client_assertion_type=ASSERTION_TYPE, client_assertion=assertion)
    assert response.json()["error"] == "invalid_client"


# ---- password, refresh, on-behalf-of ------------------------------------------------------------------
def test_password_grant(idp):
    tokens = password_grant(idp, "alice", scope="openid profile offline_access api:write")
    assert claims(tokens["id_token"])["name"] == "Alice Example"
    assert verified_access_token(idp, tokens["access_token"])["scope"] == "api:write"
    wrong = token(idp, client_id=NATIVE_CLIENT, grant_type="password", username="alice", password="bob-pw")
    assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_grant")


def test_refresh_tokens_rotate_and_a_reused_one_revokes_the_grant(idp):
    first = password_grant(idp)
    second = refresh(idp, first["refresh_token"]).json()
    assert second["refresh_token"] != first["refresh_token"]
    assert verified_access_token(idp, second["access_token"])["scope"] == "api:read"
    third = refresh(idp, second["refresh_token"]).json()
    assert "access_token" in third

    assert refresh(idp, first["refresh_token"]).json()["error"] == "invalid_grant"  # reuse
    assert refresh(idp, third["refresh_token"]).json()["error"] == "invalid_grant"  # grant gone


def test_jwt_bearer_on_behalf_of(idp):
    user = password_grant(idp, "bob")
    response = token(idp, auth=(CONFIDENTIAL_CLIENT, CLIENT_SECRET), grant_type=GRANT_JWT_BEARER,
                     assertion=user["access_token"], requested_token_use="on_behalf_of", scope="api:write")
    assert response.status_code == 200, response.text
    access = verified_access_token(idp, response.json()["access_token"])
    assert (access["sub"], access["client_id"], access["scope"]) == ("bob", CONFIDENTIAL_CLIENT, "api:write")

    forged = token(idp, auth=(CONFIDENTIAL_CLIENT, CLIENT_SECRET), grant_type=GRANT_JWT_BEARER,
                   assertion=user["access_token"][:-4] + "AAAA", requested_token_use="on_behalf_of",
                   scope="api:write")
    assert forged.json()["error"] == "invalid_grant"
    wrong_use = token(idp, auth=(CONFIDENTIAL_CLIENT, CLIENT_SECRET), grant_type=GRANT_JWT_BEARER,
                      assertion=user["access_token"], requested_token_use="something_else")
    assert wrong_use.json()["error"] == "invalid_request"


# ---- revocation and introspection -----------------------------------------------------------------------
def test_revocation_endpoint_and_introspection(idp):
    auth = (CONFIDENTIAL_CLIENT, CLIENT_SECRET)
    tokens = password_grant(idp, "alice", auth=auth)
    rt = tokens["refresh_token"]
    assert post(idp, "introspection_endpoint", auth=auth, data={"token": rt}).json()["active"] is True

    revoked = post(idp, "revocation_endpoint", auth=auth, data={"token": rt, "token_type_hint": "refresh_token"})
    assert revoked.status_code == 200
    assert post(idp, "introspection_endpoint", auth=auth, data={"token": rt}).json() == {"active": False}
    again = token(idp, auth=auth, grant_type="refresh_token", refresh_token=rt)
    assert again.json()["error"] == "invalid_grant"
    # RFC 7009: unknown tokens are not an error
    assert post(idp, "revocation_endpoint", auth=auth, data={"token": "no-such-token"}).status_code == 200


def test_test_routes_revoke_refresh_tokens_by_user_and_by_grant(idp):
    alice, bob_1, bob_2 = password_grant(idp, "alice"), password_grant(idp, "bob"), password_grant(idp, "bob")
    assert idp.revoke_user_refresh_tokens("bob") >= 2
    assert refresh(idp, bob_1["refresh_token"]).json()["error"] == "invalid_grant"
    assert refresh(idp, bob_2["refresh_token"]).json()["error"] == "invalid_grant"
    still = refresh(idp, alice["refresh_token"]).json()
    assert "access_token" in still

    assert idp.revoke_grant_refresh_tokens(still["refresh_token"]) == 1
    assert refresh(idp, still["refresh_token"]).json()["error"] == "invalid_grant"


# ---- counters and logs -------------------------------------------------------------------------------------
def test_stats_count_by_grant_type_and_outcome(idp):
    idp.reset_stats()
    password_grant(idp)
    token(idp, client_id=NATIVE_CLIENT, grant_type="password", username="alice", password="wrong")
    token(idp, auth=(CONFIDENTIAL_CLIENT, CLIENT_SECRET), grant_type="client_credentials", scope="api:read")
    flow = start_device_flow(idp)
    poll(idp, flow)

    assert idp.stats() == {
        "password:ok": 1,
        "password:invalid_grant": 1,
        "client_credentials:ok": 1,
        f"{GRANT_DEVICE_CODE}:authorization_pending": 1,
    }
    assert idp.count("device_code", "authorization_pending") == 1
    endpoints = [entry["endpoint"] for entry in idp.request_log()]
    assert endpoints == ["token", "token", "token", "device_authorization", "token"]
    assert [e["client_id"] for e in idp.token_log()] == [NATIVE_CLIENT, NATIVE_CLIENT, CONFIDENTIAL_CLIENT, NATIVE_CLIENT]

    idp.reset_stats()
    assert idp.stats() == {} and idp.request_log() == []


# ---- configured providers -------------------------------------------------------------------------------------
def test_lifetimes_interval_and_enforced_polling_come_from_the_config(make_idp):
    op = make_idp(access_token_ttl=7, refresh_token_ttl=11, id_token_ttl=13, device_code_ttl=17,
                  device_interval=2, enforce_device_interval=True)
    flow = start_device_flow(op)
    assert (flow["interval"], flow["expires_in"]) == (2, 17)
    assert poll(op, flow).json()["error"] == "authorization_pending"
    assert poll(op, flow).json()["error"] == "slow_down"  # sooner than 2 s after the first poll
    assert op.count("device_code", "slow_down") == 1

    tokens = password_grant(op)
    assert tokens["expires_in"] == 7
    access, id_token = claims(tokens["access_token"]), claims(tokens["id_token"])
    assert (access["exp"] - access["iat"], id_token["exp"] - id_token["iat"]) == (7, 13)
    rt = post(op, "introspection_endpoint",
              data={"client_id": NATIVE_CLIENT, "token": tokens["refresh_token"]}).json()
    assert rt["exp"] - rt["iat"] == 11


def test_opaque_access_tokens_work_at_userinfo(make_idp):
    op = make_idp(access_token_format="opaque")
    tokens = password_grant(op, "bob", scope="openid email")
    assert tokens["access_token"].count(".") != 2  # not a JWT
    me = requests.get(op.metadata()["userinfo_endpoint"],
                      headers={"Authorization": f"Bearer {tokens['access_token']}"}, timeout=10)
    assert me.json() == {"sub": "bob", "email": EMAILS["bob"], "email_verified": True}


def test_the_real_msal_package_accepts_the_provider(idp):
    msal = pytest.importorskip("msal")
    cca = msal.ConfidentialClientApplication(CONFIDENTIAL_CLIENT, client_credential=CLIENT_SECRET,
                                             oidc_authority=idp.issuer)
    result = cca.acquire_token_for_client(scopes=["api:read"])
    assert claims(result["access_token"])["client_id"] == CONFIDENTIAL_CLIENT, result
    assert idp.token_log("client_credentials")[-1]["client_auth"] == "client_secret_post"  # msal's way

    pca = msal.PublicClientApplication(NATIVE_CLIENT, oidc_authority=idp.issuer)
    flow = pca.initiate_device_flow(scopes=["api:read"])
    idp.approve_device(flow["user_code"], user="alice")
    result = pca.acquire_token_by_device_flow(flow)  # approved already: the first poll succeeds
    assert result["id_token_claims"]["sub"] == "alice", result


# ---- process lifecycle ---------------------------------------------------------------------------------------
def test_stop_leaves_no_process_behind(session_ca):
    op = LocalIdP(ca=session_ca).start()
    pid = op.pid
    assert group_members(pid) == [pid]
    assert "provider.mjs" in Path(f"/proc/{pid}/cmdline").read_text()
    op.stop()
    assert op.exit_code == 0  # it shut down on SIGTERM rather than being killed
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert group_members(pid) == []
    op.stop()  # idempotent


@pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="needs os.pidfd_open (Linux)")
def test_provider_exits_when_its_python_parent_is_killed(tmp_path):
    script = ("import sys; from idp.server import LocalIdP; op = LocalIdP().start(); "
              "print(op.pid, flush=True); sys.stdin.read()")
    parent = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              env={**os.environ, "PYTHONPATH": str(TESTS_DIR), "TMPDIR": str(tmp_path)},
                              text=True)
    try:
        node_pid = int(parent.stdout.readline())
        pidfd = os.pidfd_open(node_pid)
    finally:
        parent.kill()  # SIGKILL: no atexit, no stop(); only the closed stdin pipe tells node
        parent.wait()
    try:
        readable, _, _ = select.select([pidfd], [], [], 10)
        assert readable, "the provider outlived its parent"
    finally:
        os.close(pidfd)


def test_missing_packages_give_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(idp_server, "IDP_DIR", tmp_path)
    with pytest.raises(IdPStartError, match=r"npm ci --prefix tests/idp"):
        LocalIdP().start()


def test_missing_node_gives_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(IdPStartError, match="node is not on PATH"):
        LocalIdP().start()
