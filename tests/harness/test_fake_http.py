"""The scripted loopback HTTP server used for what a real provider cannot show."""
from __future__ import annotations

import threading

import pytest
import requests

from support.fake_http import DROP, DropConnection, FakeServer


def test_a_handler_sees_the_whole_request(fake_server):
    fake_server.route("POST", "/token", lambda r: (200, {"X-Seen": r.headers["x-trace"]},
                                                   {"form": r.form, "query": r.query}))
    response = requests.post(fake_server.url + "/token?api-version=1.0", data={"grant_type": "password", "a": ""},
                             headers={"X-Trace": "abc"}, timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["X-Seen"] == "abc"
    assert response.json() == {"form": {"grant_type": "password", "a": ""}, "query": {"api-version": "1.0"}}

    (request,) = fake_server.requests
    assert (request.method, request.path) == ("POST", "/token")
    assert request.body == b"grant_type=password&a="
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_canned_responses_are_used_up_in_order(fake_server):
    fake_server.route("GET", "/meta", [(503, {"Retry-After": "2"}, "busy"), (200, {}, {"issuer": "x"})])
    first = requests.get(fake_server.url + "/meta", timeout=5)
    assert (first.status_code, first.headers["Retry-After"], first.text) == (503, "2", "busy")
    assert requests.get(fake_server.url + "/meta", timeout=5).json() == {"issuer": "x"}
    exhausted = requests.get(fake_server.url + "/meta", timeout=5)
    assert exhausted.status_code == 500
    assert exhausted.json()["error"] == "fake_http: no canned response left"


def test_enqueued_responses_come_before_the_handler(fake_server):
    fake_server.route("GET", "/x", (200, {}, "normal"))
    fake_server.enqueue("GET", "/x", (429, {"Retry-After": "1"}, ""))
    answers = [requests.get(fake_server.url + "/x", timeout=5) for _ in range(3)]
    assert [(a.status_code, a.text) for a in answers] == [(429, ""), (200, "normal"), (200, "normal")]


def test_unknown_routes_answer_404_and_are_recorded(fake_server):
    response = requests.delete(fake_server.url + "/nowhere", timeout=5)
    assert response.status_code == 404
    assert [(r.method, r.path) for r in fake_server.requests] == [("DELETE", "/nowhere")]


def test_a_raising_handler_answers_500_and_keeps_the_traceback(fake_server):
    def broken(request):
        raise KeyError("missing")

    fake_server.route("GET", "/broken", broken)
    assert requests.get(fake_server.url + "/broken", timeout=5).status_code == 500
    (error,) = fake_server.errors
    assert "KeyError: 'missing'" in error


def hang_up(request):
    raise DropConnection


@pytest.mark.parametrize("responder", [[DROP], hang_up], ids=["canned", "handler"])
def test_dropped_connections_reach_the_client_as_connection_errors(fake_server, responder):
    fake_server.route("POST", "/token", responder)
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.post(fake_server.url + "/token", data={"a": "b"}, timeout=5)


def test_requests_are_recorded_on_arrival_so_tests_can_wait_for_them(fake_server):
    release = threading.Event()
    fake_server.route("GET", "/slow", lambda r: (200, {}, "done") if release.wait(5) else (504, {}, ""))
    answers = []
    client = threading.Thread(target=lambda: answers.append(requests.get(fake_server.url + "/slow", timeout=10)))
    client.start()
    try:
        (request,) = fake_server.wait_for_requests(1, timeout=5, path="/slow")
        assert request.path == "/slow" and answers == []  # seen while still being answered
    finally:
        release.set()
        client.join(10)
    assert answers[0].text == "done"


def test_waiting_for_requests_that_never_come_times_out(fake_server):
    requests.get(fake_server.url + "/other", timeout=5)
    with pytest.raises(TimeoutError, match=r"GET /other"):
        fake_server.wait_for_requests(1, timeout=0.2, path="/expected")


def test_wait_for_requests_counts_requests_from_many_threads(fake_server):
    fake_server.route("POST", "/token", (200, {}, {}))
    threads = [threading.Thread(target=requests.post, args=(fake_server.url + "/token",), kwargs={"timeout": 5})
               for _ in range(8)]
    for thread in threads:
        thread.start()
    assert len(fake_server.wait_for_requests(8, timeout=10, path="/token", method="post")) == 8
    for thread in threads:
        thread.join(5)
    assert len(fake_server.requests_to("/token")) == 8


def test_https_with_the_session_ca(session_ca):
    with FakeServer(ca=session_ca) as server:
        server.route("GET", "/.well-known/openid-configuration", (200, {}, "{not json"))
        assert server.url.startswith("https://127.0.0.1:")
        response = requests.get(server.url + "/.well-known/openid-configuration", timeout=5)  # env trusts the CA
        assert response.text == "{not json"
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(server.url + "/", verify=requests.certs.where(), timeout=5)


def test_stop_cuts_kept_alive_connections_and_a_restart_reuses_the_port():
    server = FakeServer().start()
    try:
        server.route("GET", "/ping", (200, {}, "pong"))
        session = requests.Session()
        assert session.get(server.url + "/ping", timeout=5).text == "pong"
        url = server.url
        server.stop()  # an outage
        with pytest.raises(requests.exceptions.ConnectionError):
            session.get(url + "/ping", timeout=5)
        server.start()  # back again, same address, same routes
        assert server.url == url
        assert session.get(url + "/ping", timeout=5).text == "pong"
    finally:
        server.close()


def test_head_requests_get_headers_only(fake_server):
    fake_server.route("HEAD", "/file", (200, {"ETag": "v1"}, b"0123456789"))
    response = requests.head(fake_server.url + "/file", timeout=5)
    assert (response.status_code, response.headers["ETag"], response.content) == (200, "v1", b"")
    assert response.headers["Content-Length"] == "10"
