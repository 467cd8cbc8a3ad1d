"""The loopback redirect listener (RFC 8252 section 7.3)."""
import socket
import threading

import pytest
import requests

from nbauth.exceptions import ConfigurationError, FlowError
from nbauth.flows.loopback import LoopbackListener


@pytest.fixture
def listener():
    with LoopbackListener("state-1", redirect_uri="http://127.0.0.1/callback") as listening:
        yield listening


def get(listener, path):
    return requests.get(f"http://127.0.0.1:{listener.port}{path}", timeout=5)


def test_it_listens_on_an_ephemeral_loopback_port(listener):
    assert listener.port > 0 and listener.redirect_uri == f"http://127.0.0.1:{listener.port}/callback"


def test_default_redirect_uri_is_msals_localhost_form():
    with LoopbackListener("s") as listening:
        assert listening.redirect_uri == f"http://localhost:{listening.port}"
        assert get(listening, "/?code=c&state=s").status_code == 200


def test_only_the_matching_callback_ends_the_wait(listener):
    assert get(listener, "/favicon.ico").status_code == 404
    assert get(listener, "/callback?code=c&state=other").status_code == 400
    assert get(listener, "/callback?code=c").status_code == 400
    with pytest.raises(FlowError, match="no sign-in response"):
        listener.wait(0.05)
    page = get(listener, "/callback?code=the-code&state=state-1")
    assert page.status_code == 200 and "the-code" not in page.text
    assert listener.wait(1) == {"code": "the-code", "state": "state-1"}
    assert get(listener, "/callback?code=again&state=state-1").status_code == 409
    assert listener.wait(1)["code"] == "the-code"


def test_a_waiting_caller_wakes_when_the_callback_arrives(listener):
    box = {}
    waiter = threading.Thread(target=lambda: box.update(params=listener.wait(10)))
    waiter.start()
    get(listener, "/callback?code=c&state=state-1")
    waiter.join(5)
    assert box["params"]["code"] == "c"


def test_templates_show_the_error_escaped():
    with LoopbackListener("s", success_template="<h1>Yes</h1>", error_template="<h1>No: $error_description</h1>") as listening:
        page = get(listening, "/?error=access_denied&error_description=<script>x</script>&state=s")
    assert "<h1>No: &lt;script&gt;x&lt;/script&gt;</h1>" in page.text


def test_closing_frees_the_port():
    listening = LoopbackListener("s")
    port = listening.port
    listening.close()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))  # free again


def test_a_given_port_is_used_and_a_busy_one_is_a_clear_error():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(ConfigurationError, match=f"cannot listen on 127.0.0.1:{busy.getsockname()[1]}"):
            LoopbackListener("s", port=busy.getsockname()[1])


@pytest.mark.parametrize("uri", ["https://localhost/", "http://example.com/cb", "http://localhost/cb?x=1"])
def test_non_loopback_redirect_uris_are_refused(uri):
    with pytest.raises(ConfigurationError, match="redirect URI"):
        LoopbackListener("s", redirect_uri=uri)


def test_the_browser_gets_the_whole_page_even_when_the_caller_closes_at_once():
    """The sign-in ends (and the listener closes) as soon as the wait returns: the page that tells
    the person they may close the window must still arrive whole (seen cut off under load)."""
    for attempt in range(30):
        with LoopbackListener(f"s{attempt}", redirect_uri="http://127.0.0.1/callback") as listening:
            closer = threading.Thread(target=lambda: (listening.wait(10), listening.close()))
            closer.start()
            page = get(listening, f"/callback?code=c&state=s{attempt}")
            closer.join(10)
        assert page.status_code == 200 and "close this window" in page.text, attempt
