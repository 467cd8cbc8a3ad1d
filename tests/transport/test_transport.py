"""The transport against a loopback server: retries, Retry-After, timeouts, the User-Agent."""
import threading

import pytest
import requests

from nbauth import __version__
from nbauth.exceptions import TransportError
from nbauth.transport import RetryPolicy, Transport
from support.fake_http import DROP

SECRET_FORM = {"grant_type": "refresh_token", "refresh_token": "rt-secret-value"}


def test_user_agent_names_nbauth_and_its_version(fake_server):
    fake_server.route("GET", "/doc", (200, {}, {"ok": True}))
    response = Transport().get(fake_server.url + "/doc")
    assert response.json() == {"ok": True}
    assert fake_server.requests[0].headers["User-Agent"].startswith(f"nbauth/{__version__} ")


def test_503_then_success_is_retried(fake_server):
    fake_server.enqueue("GET", "/doc", (503, {"Retry-After": "0"}, ""), (200, {}, {"ok": 1}))
    assert Transport().get(fake_server.url + "/doc").status_code == 200
    assert len(fake_server.requests_to("/doc")) == 2


def test_429_waits_for_retry_after(fake_server):
    fake_server.enqueue("POST", "/token", (429, {"Retry-After": "1"}, {"error": "throttled"}), (200, {}, {"ok": 1}))
    response = Transport().post_form(fake_server.url + "/token", SECRET_FORM, repeatable=False)
    assert response.status_code == 200
    first, second = fake_server.requests_to("/token")
    assert second.received_at - first.received_at >= 0.95


def test_retries_are_bounded_and_the_last_answer_is_returned(fake_server):
    fake_server.route("GET", "/doc", (503, {"Retry-After": "0"}, "busy"))
    response = Transport(retry=RetryPolicy(max_attempts=3)).get(fake_server.url + "/doc")
    assert response.status_code == 503 and len(fake_server.requests_to("/doc")) == 3


def test_a_consumable_grant_is_not_resent_after_a_server_error(fake_server):
    fake_server.enqueue("POST", "/token", (500, {}, "oops"), (200, {}, {"ok": 1}))
    response = Transport().post_form(fake_server.url + "/token", SECRET_FORM, repeatable=False)
    assert response.status_code == 500 and len(fake_server.requests_to("/token")) == 1


def test_a_consumable_grant_is_not_resent_after_a_dropped_connection(fake_server):
    fake_server.enqueue("POST", "/token", DROP, (200, {}, {"ok": 1}))
    with pytest.raises(TransportError, match="connection failed") as info:
        Transport().post_form(fake_server.url + "/token", SECRET_FORM, repeatable=False)
    assert len(fake_server.requests_to("/token")) == 1
    assert "rt-secret-value" not in str(info.value) and info.value.__cause__ is None


def test_a_repeatable_request_is_resent_after_a_dropped_connection(fake_server):
    fake_server.enqueue("POST", "/token", DROP, (200, {}, {"ok": 1}))
    response = Transport(retry=RetryPolicy(backoff=0.01)).post_form(
        fake_server.url + "/token", {"grant_type": "client_credentials"}, repeatable=True)
    assert response.status_code == 200 and len(fake_server.requests_to("/token")) == 2


def test_slow_answer_times_out_with_a_clear_error(fake_server):
    release = threading.Event()

    def slow(request):
        release.wait(5)
        return 200, {}, "late"

    fake_server.route("GET", "/slow", slow)
    transport = Transport(timeout=(2, 0.3), retry=RetryPolicy(max_attempts=1))
    try:
        with pytest.raises(TransportError, match="no answer before the timeout"):
            transport.get(fake_server.url + "/slow?hint=secret")
    finally:
        release.set()


def test_redirects_are_not_followed_for_posts(fake_server):
    fake_server.route("POST", "/token", (307, {"Location": "https://elsewhere.example/token"}, ""))
    response = Transport().post_form(fake_server.url + "/token", SECRET_FORM, repeatable=False)
    assert response.status_code == 307


def test_an_injected_http_client_is_used(fake_server):
    session = requests.Session()
    session.headers["X-Injected"] = "yes"
    fake_server.route("GET", "/doc", (200, {}, {}))
    Transport(http_client=session).get(fake_server.url + "/doc")
    assert fake_server.requests[0].headers["X-Injected"] == "yes"


def test_proxy_settings_come_from_the_environment(fake_server, monkeypatch):
    """requests reads HTTPS_PROXY/NO_PROXY; a proxy that is down proves it was used."""
    fake_server.route("GET", "/doc", (200, {}, {}))
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "")
    monkeypatch.delenv("no_proxy", raising=False)
    with pytest.raises(TransportError):
        Transport(retry=RetryPolicy(max_attempts=1)).get(fake_server.url + "/doc")
    assert fake_server.requests == []
