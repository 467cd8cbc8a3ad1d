"""The leak audit: every flow against the local provider, everything nbauth could show searched for
every secret that crossed the wire.

Each test runs flows with every logger at DEBUG and ``http.client``'s wire dump on, through an
``http_client`` that records every request's form and headers and every response body; the
secrets are taken from there (codes, verifiers, refresh tokens, passwords, device codes, client
secrets and assertions sent; access, refresh and ID tokens received), plus the private keys,
passphrases and wrong passwords the test holds. Then every log record (with its traceback), every
line on stdout and stderr, every warning, every exception's message and traceback, and the repr
and str of every public object (apps, caches and their entries, flows, results, accounts, the
notebook handle, presenters, the widget's HTML, text and saved state) must contain none of them.
The user code and the verification link are what a person must see, and may appear. (The runs
in other processes, a saved notebook and the ``nbauth`` command, are in
``test_leak_audit_processes.py``.)

``http.client``'s own debug lines ("send:", "reply:", "header:") print request bodies and
headers as they go on the wire, passwords and secrets included; no library above it can stop
that. They are left out of the search, and the test asserts they do show request secrets, to
keep the documentation honest: turning ``http.client`` debugging on prints credentials.
"""
from __future__ import annotations

import base64
import http.client
import json
import logging
import threading
import warnings
from typing import Any, Callable, Iterable, List, Set
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest

from idp.browser import login
from idp.server import CLIENT_SECRET, CONFIDENTIAL_CLIENT, CONFIDENTIAL_POST_CLIENT, NATIVE_CLIENT, PKJWT_CLIENT, \
    USERS, WEB_REDIRECT_URI
from support.leaks import SENT_SECRETS, WIRE_DUMP, RecordingSession, encrypted, key_lines, traceback_text

SCOPES = ["api:read"]
BROWSER = "test-browser"  # the thread the test's browser runs in: its own logging is not nbauth's
RECEIVED_SECRETS = ("access_token", "refresh_token", "id_token", "device_code")


class Wire(RecordingSession):
    """Every request's form and headers (as ``RecordingSession``), and every response's body."""

    def __init__(self) -> None:
        super().__init__()
        self.bodies: List[str] = []

    def request(self, method, url, **kwargs):
        response = super().request(method, url, **kwargs)
        self.bodies.append(response.text)
        return response

    def secrets(self) -> Set[str]:
        """(kind, value) of every secret sent or received."""
        found = set()
        for sent in self.sent:
            form = sent["data"] if isinstance(sent["data"], dict) else {}
            found |= {(k, str(form[k])) for k in SENT_SECRETS if form.get(k)}
            found |= _basic_credentials(sent["headers"].get("Authorization", ""))
        for body in self.bodies:
            answer = _json_object(body)
            found |= {(k, str(answer[k])) for k in RECEIVED_SECRETS if answer.get(k)}
        return found


def _basic_credentials(header: str) -> Set[tuple]:
    if not header.startswith("Basic "):
        return set()
    encoded = header[len("Basic "):]
    secret = base64.b64decode(encoded).decode().split(":", 1)[1]
    return {("client_secret", encoded), ("client_secret", secret), ("client_secret", unquote(secret))}


def _json_object(text: str) -> dict:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


class _Records(logging.Handler):
    """Every record of every logger, formatted with its traceback; the test's browser excluded."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: List[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.threadName != BROWSER:
            self.lines.append(self.format(record))


class Audit:
    """What a test showed, and the check that none of it holds a secret."""

    def __init__(self, capfd, wire: Wire, records: _Records) -> None:
        self.capfd = capfd
        self.wire = wire
        self.records = records
        self.shown: List[tuple] = []  # (where, text)
        self.known: Set[tuple] = set()  # secrets the test holds that may never cross the wire
        self.warnings: List[warnings.WarningMessage] = []

    def show(self, where: str, *objects: Any) -> None:
        """Record the repr and str of each object, as a notebook or a log line would show it."""
        for thing in objects:
            self.shown += [(where, repr(thing)), (where, str(thing))]

    def failing(self, where: str, call: Callable[[], Any]) -> BaseException:
        """Run a call that must raise; record its message, repr and traceback."""
        with pytest.raises(Exception) as caught:
            call()
        self.shown += [(where, str(caught.value)), (where, repr(caught.value)),
                       (where, traceback_text(caught.value))]
        return caught.value

    def check(self, must_have_seen: Iterable[str]) -> None:
        """No secret anywhere; and each kind in ``must_have_seen`` really crossed the wire."""
        out, err = self.capfd.readouterr()
        dump = WIRE_DUMP.findall(out)
        printed = WIRE_DUMP.sub("", out)
        seen = self.wire.secrets() | self.known
        assert set(must_have_seen) <= {kind for kind, _ in seen}, "a flow did not run as the audit expects"
        places = [("log", line) for line in self.records.lines] + [("stdout", printed), ("stderr", err)]
        places += [("warning", str(w.message)) for w in self.warnings] + self.shown
        leaks = sorted({(kind, value[:12] + "...", where) for kind, value in seen if len(value) >= 6
                        for where, text in places if value in text})
        assert leaks == []
        sent = {value for kind, value in self.wire.secrets() if kind in SENT_SECRETS}
        assert any(value in "\n".join(dump) for value in sent), "http.client's wire dump shows request bodies"
        assert any(line.startswith("nbauth") for line in self.records.lines)


@pytest.fixture
def audit(capfd):
    """Every logger at DEBUG into one handler, http.client's dump on, warnings recorded."""
    records, root = _Records(), logging.getLogger()
    loggers = [logger for logger in logging.root.manager.loggerDict.values() if isinstance(logger, logging.Logger)]
    levels = {logger: logger.level for logger in [root, *loggers]}
    for logger in levels:
        logger.setLevel(logging.DEBUG)
    root.addHandler(records)
    unpropagated = [logger for logger in loggers if not logger.propagate]
    for logger in unpropagated:
        logger.addHandler(records)
    http.client.HTTPConnection.debuglevel = 1
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = Audit(capfd, Wire(), records)
            result.warnings = caught
            yield result
    finally:
        http.client.HTTPConnection.debuglevel = 0
        root.removeHandler(records)
        for logger in unpropagated:
            logger.removeHandler(records)
        for logger, level in levels.items():
            logger.setLevel(level)


def as_browser(action: Callable[[], Any], *, wait: bool = True) -> Any:
    """Run the test's browser in its own thread (its logs are its own); its result if ``wait``."""
    box: dict = {}
    thread = threading.Thread(target=lambda: box.setdefault("result", action()), name=BROWSER, daemon=True)
    thread.start()
    if wait:
        thread.join(60)
        return box["result"]
    return None


def redirect_query(url: str) -> dict:
    return dict(parse_qsl(urlsplit(url).query))


def cache_entries(cache) -> list:
    kinds = cache.CredentialType
    return [entry for kind in (kinds.ACCESS_TOKEN, kinds.REFRESH_TOKEN, kinds.ID_TOKEN, kinds.ACCOUNT)
            for entry in cache.search(kind)]


# ---- the flows ---------------------------------------------------------------------------------
def public_app(idp, audit, cache=None):
    from nbauth import PublicClientApplication, TokenCache

    return PublicClientApplication(NATIVE_CLIENT, oidc_authority=idp.issuer, http_client=audit.wire,
                                   token_cache=cache if cache is not None else TokenCache())


def browse_to_loopback(url: str, idp) -> None:
    """The person signing in, then their browser following the redirect to nbauth's listener."""
    import requests

    requests.get(login(url, "alice", verify=idp.ca_path), timeout=10)


def test_public_client_flows_leak_nothing(idp, audit, tmp_path):
    from nbauth import PersistedTokenCache

    cache = PersistedTokenCache(tmp_path / "token_cache.json")
    app = public_app(idp, audit, cache)
    flow, refused = app.initiate_device_flow(SCOPES), app.initiate_device_flow(SCOPES)
    idp.approve_device(flow["user_code"], "alice")
    idp.deny_device(refused["user_code"])
    results = [app.acquire_token_by_device_flow(flow), app.acquire_token_by_device_flow(refused),
               app.acquire_token_by_username_password("bob", USERS["bob"], SCOPES),
               app.acquire_token_by_username_password("bob", "not-bobs-password", SCOPES)]
    assert [r.get("error") for r in results] == [None, "access_denied", None, "invalid_grant"]
    account = app.get_accounts(username="alice@example.test")[0]
    results += [app.acquire_token_silent(SCOPES, account),
                app.acquire_token_silent(SCOPES, account, force_refresh=True),
                app.acquire_token_by_refresh_token(results[2]["refresh_token"], SCOPES),
                app.acquire_token_interactive(SCOPES, timeout=30, redirect_uri="http://127.0.0.1/callback",
                                              open_browser=lambda url: as_browser(
                                                  lambda: browse_to_loopback(url, idp), wait=False))]
    assert all("access_token" in r for r in results[4:])
    audit.show("public", app, cache, flow, refused, *results, *app.get_accounts(), *cache_entries(cache))
    app.remove_account(account)
    audit.check({"device_code", "password", "refresh_token", "code", "code_verifier", "access_token", "id_token"})


PASSPHRASE = "right-passphrase-7Kq"


def confidential_app(idp, audit, client_id, credential):
    from nbauth import ConfidentialClientApplication, TokenCache

    return ConfidentialClientApplication(client_id, credential, oidc_authority=idp.issuer, http_client=audit.wire,
                                         token_cache=TokenCache())


def signed_assertion(idp) -> Callable[[], str]:
    """A client assertion callable for the private_key_jwt client, signing a fresh one each time."""
    import time
    import uuid

    import jwt

    def sign() -> str:
        now = int(time.time())
        return jwt.encode({"iss": PKJWT_CLIENT, "sub": PKJWT_CLIENT, "aud": idp.metadata()["token_endpoint"],
                           "iat": now, "exp": now + 120, "jti": str(uuid.uuid4())}, idp.client_key_pem,
                          algorithm="RS256")
    return sign


def web_sign_in(app, idp) -> tuple:
    flow = app.initiate_auth_code_flow(SCOPES, redirect_uri=WEB_REDIRECT_URI)
    return flow, redirect_query(as_browser(lambda: login(flow["auth_uri"], "alice", verify=idp.ca_path)))


def test_confidential_client_flows_leak_nothing(idp, audit):
    certificate = {"private_key": encrypted(idp.client_key_pem, PASSPHRASE), "passphrase": PASSPHRASE,
                   "public_certificate": idp.client_cert_pem}
    apps = [confidential_app(idp, audit, *client) for client in (
        (CONFIDENTIAL_CLIENT, CLIENT_SECRET),
        (CONFIDENTIAL_POST_CLIENT, {"client_secret": CLIENT_SECRET, "token_endpoint_auth_method": "client_secret_post"}),
        (PKJWT_CLIENT, certificate), (PKJWT_CLIENT, {"client_assertion": signed_assertion(idp)}),
        (CONFIDENTIAL_CLIENT, "wrong-secret-Zq8vX2"))]
    results = [app.acquire_token_for_client(SCOPES) for app in apps]
    assert [r.get("error") for r in results] == [None] * 4 + ["invalid_client"]
    web = apps[0]
    user_token = public_app(idp, audit).acquire_token_by_username_password("alice", USERS["alice"], SCOPES)
    results.append(web.acquire_token_on_behalf_of(user_token["access_token"], ["api:write"]))
    flow, response = web_sign_in(web, idp)
    results.append(web.acquire_token_by_auth_code_flow(flow, response))
    assert all("access_token" in r for r in results[-2:])
    tampered, response = web_sign_in(web, idp)
    audit.known.add(("code", response["code"]))  # never redeemed, so never on the wire
    audit.failing("tampered state", lambda: web.acquire_token_by_auth_code_flow(tampered, dict(response, state="x")))
    audit.failing("wrong passphrase", lambda: confidential_app(idp, audit, PKJWT_CLIENT,
                                                                dict(certificate, passphrase="wrong-passphrase-3Vb")))
    audit.known |= {("passphrase", PASSPHRASE), ("passphrase", "wrong-passphrase-3Vb")}
    audit.known |= {("private_key", line) for pem in (idp.client_key_pem, certificate["private_key"])
                    for line in key_lines(pem)}
    audit.show("confidential", *apps, *results, flow, tampered, *web.get_accounts(), *cache_entries(web.token_cache))
    audit.check({"client_secret", "client_assertion", "assertion", "code", "code_verifier", "access_token",
                 "id_token", "refresh_token", "private_key", "passphrase"})


def widget_views(presenter) -> list:
    """What a notebook shows and saves of the widget: its display bundle and every widget's state."""
    import ipywidgets

    return [presenter._repr_mimebundle_(), json.dumps(ipywidgets.Widget.get_manager_state())]


@pytest.mark.parametrize("ui", ["widget", "terminal"])
def test_the_notebook_handle_leaks_nothing(idp, audit, tmp_path, ui):
    import nbauth

    me = nbauth.login(NATIVE_CLIENT, oidc_authority=idp.issuer, scopes=SCOPES, ui=ui, method="device",
                      http_client=audit.wire, cache=nbauth.PersistedTokenCache(tmp_path / "token_cache.json"))
    assert me.wait_until(lambda state: state.user_code, 30)  # the widget asks in the background
    audit.show(f"{ui}: waiting", me, me.state, me.presenter, *(widget_views(me.presenter) if ui == "widget" else []))
    idp.approve_device(me.state.user_code, "alice")
    assert me.token(timeout=30)
    audit.show(f"{ui}: signed in", me, me.state, me.account, *(widget_views(me.presenter) if ui == "widget" else []))
    me.sign_out()  # revokes the refresh token: it goes on the wire once more
    audit.show(f"{ui}: signed out", me, *(widget_views(me.presenter) if ui == "widget" else []))
    denied = nbauth.login(NATIVE_CLIENT, oidc_authority=idp.issuer, scopes=SCOPES, ui=ui, method="device",
                          http_client=audit.wire, cache=nbauth.SerializableTokenCache())
    assert denied.wait_until(lambda state: state.user_code, 30)
    idp.deny_device(denied.state.user_code)
    assert denied.wait(30).value == "denied"
    audit.failing(f"{ui}: denied", lambda: denied.token(timeout=0))
    audit.show(f"{ui}: denied", denied, *(widget_views(denied.presenter) if ui == "widget" else []))
    audit.check({"device_code", "access_token", "refresh_token", "id_token", "token"})


def test_network_failures_leak_nothing(make_idp, audit):
    provider = make_idp()
    app = public_app(provider, audit)
    signed_in = app.acquire_token_by_username_password("alice", USERS["alice"], SCOPES)
    (account,) = app.get_accounts()
    provider.stop()
    audit.failing("refresh, provider down", lambda: app.acquire_token_silent(SCOPES, account, force_refresh=True))
    audit.failing("password, provider down",
                  lambda: app.acquire_token_by_username_password("bob", USERS["bob"], SCOPES))
    audit.show("provider down", app, signed_in)
    audit.check({"password", "refresh_token", "access_token"})


def test_the_integrations_leak_nothing(idp, audit, fake_server):
    """The requests auth (through a 401 challenge and its retry), the azure-core credential and the
    token source: their objects, what they log and their errors hold no token."""
    from nbauth import BearerAuth, NbauthCredential, authorized_session
    from nbauth.integrations.source import token_source

    app = public_app(idp, audit)
    app.acquire_token_by_username_password("alice", USERS["alice"], SCOPES)
    (account,) = app.get_accounts()
    fake_server.route("GET", "/data", (200, {}, {"rows": 3}))
    fake_server.enqueue("GET", "/data", (401, {"WWW-Authenticate": 'Bearer error="invalid_token"'}, ""))
    auth = BearerAuth(app, SCOPES, account=account)
    session = authorized_session(app, SCOPES, account=account)
    answers = [session.get(fake_server.url + "/data", timeout=10), session.get(fake_server.url + "/data", timeout=10)]
    assert [a.status_code for a in answers] == [200, 200] and len(fake_server.requests_to("/data")) == 3
    credential = NbauthCredential(app, account=account)
    token, info = credential.get_token(*SCOPES), credential.get_token_info(*SCOPES)
    source = token_source(app, account=account)
    audit.show("integrations", auth, session, credential, token, info, source(SCOPES), *answers)
    app.remove_account(account)
    audit.failing("integrations", lambda: credential.get_token(*SCOPES))
    audit.failing("integrations", lambda: session.get(fake_server.url + "/data", timeout=10))
    audit.check({"password", "refresh_token", "access_token", "id_token"})
