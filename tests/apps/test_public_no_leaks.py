"""No token, code, verifier or password in a log line, a repr or a printed result."""
import logging
import threading
from urllib.parse import parse_qs, urlsplit

import requests

from idp.browser import login
from idp.server import NATIVE_CLIENT
from nbauth import PublicClientApplication


def test_a_whole_session_logs_and_shows_no_secret(idp, caplog, capsys):
    """nbauth's own log lines (the test's browser may log what it likes), prints and reprs."""
    caplog.set_level(logging.DEBUG)
    app = PublicClientApplication(NATIVE_CLIENT, oidc_authority=idp.issuer)
    flow = app.initiate_device_flow(["api:read"])
    idp.approve_device(flow["user_code"], "alice")
    device = app.acquire_token_by_device_flow(flow)
    password = app.acquire_token_by_username_password("bob", "bob-pw", ["api:read"])
    account = app.get_accounts(username="alice@example.test")[0]
    refreshed = app.acquire_token_silent(["api:read"], account, force_refresh=True)
    seen = {}

    def browser(url):
        def run():
            redirect = login(url, "alice", verify=idp.ca_path)
            seen["code"] = parse_qs(urlsplit(redirect).query)["code"][0]
            requests.get(redirect, timeout=10)
        threading.Thread(target=run, daemon=True).start()

    interactive = app.acquire_token_interactive(["api:read"], open_browser=browser, timeout=30,
                                                redirect_uri="http://127.0.0.1/callback")
    secrets = {flow["device_code"], "bob-pw", seen["code"]}
    for result in (device, password, refreshed, interactive):
        secrets |= {result[k] for k in ("access_token", "refresh_token", "id_token")}
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("nbauth"))
    shown = "\n".join([logged, capsys.readouterr().out, repr(app), repr(flow), repr(app.token_cache),
                       *(repr(r) for r in (device, password, refreshed, interactive)),
                       *(str(r) for r in (device, password, refreshed, interactive))])
    assert len(secrets) >= 10 and all(secret for secret in secrets)
    assert [s[:12] for s in secrets if s in shown] == []
    assert "POST" in logged and "/token" in logged  # nbauth's debug logging really was on
