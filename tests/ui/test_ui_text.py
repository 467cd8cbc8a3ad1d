"""The words and HTML of a sign-in: pure functions of the flow state."""
import re
import time

import pytest

from nbauth.ui import markup
from nbauth.ui.text import (
    MAX_PROVIDER_TEXT, FlowState, Status, clean, instruction, message, remaining, safe_url, status_line,
    verification_link,
)

NOW = 1_700_000_000.0
FLOW = {"verification_uri": "https://idp.example/device", "user_code": "WDJB-MJHT", "expires_at": NOW + 300,
        "device_code": "secret-device-code", "interval": 5}


def waiting(**flow):
    return FlowState.from_flow({**FLOW, **flow}, "https://idp.example")


def test_waiting_message_names_link_code_and_countdown():
    text = message(waiting(), NOW + 61)
    assert text == ("To sign in, open https://idp.example/device and enter the code WDJB-MJHT\n"
                    "Waiting for you to sign in; the code expires in 3:59.")
    assert "secret-device-code" not in text


def test_complete_uri_is_preferred_and_the_code_is_checked_not_typed():
    state = waiting(verification_uri_complete="https://idp.example/device?user_code=WDJB-MJHT")
    assert verification_link(state) == "https://idp.example/device?user_code=WDJB-MJHT"
    assert instruction(state).endswith("and check the code WDJB-MJHT")


def test_unsafe_complete_uri_falls_back_to_the_plain_one():
    state = waiting(verification_uri_complete="javascript:alert(1)")
    assert verification_link(state) == "https://idp.example/device"


def test_static_output_gives_the_clock_time_of_expiry():
    line = status_line(waiting(expires_at=NOW + 300))
    assert line == "Waiting for you to sign in; the code expires at %s." % time.strftime(
        "%H:%M:%S %Z", time.localtime(NOW + 300)).strip()


@pytest.mark.parametrize("seconds, shown", [(0, "0:00"), (-30, "0:00"), (59.6, "1:00"), (600, "10:00")])
def test_remaining(seconds, shown):
    assert remaining(NOW + seconds, NOW) == shown


@pytest.mark.parametrize("status, detail, line", [
    (Status.SIGNED_IN, "alice", "Signed in as alice at https://idp.example. Tokens refresh automatically."),
    (Status.DENIED, "End-User aborted interaction", "Sign-in was denied: End-User aborted interaction."),
    (Status.EXPIRED, "", "The code expired before sign-in; sign in again for a new code."),
    (Status.CANCELLED, "", "Sign-in cancelled."),
    (Status.ERROR, "invalid_client", "Sign-in failed: invalid_client."),
    (Status.SIGN_IN_NEEDED, "the refresh token was revoked", "Sign-in needed: the refresh token was revoked."),
    (Status.SIGNED_OUT, "alice", "Signed out: alice."),
])
def test_final_lines(status, detail, line):
    state = waiting().settle(status, detail)
    assert status_line(state, NOW) == line == message(state, NOW)


def test_leaving_waiting_drops_link_and_code():
    for status in Status:
        if status is not Status.WAITING:
            state = waiting().settle(status, "x")
            assert (state.user_code, state.verification_uri, state.expires_at) == ("", "", 0.0)
            assert state.authority == "https://idp.example"
            assert "WDJB" not in markup.document(state) + message(state)


def test_can_retry_everywhere_but_waiting_and_signed_in():
    assert {s for s in Status if s.can_retry} == set(Status) - {Status.WAITING, Status.SIGNED_IN}


def test_clean_strips_control_and_bidi_characters_and_bounds_length():
    assert clean("a\x1b[2Jb\r\nc\u202ed\x00") == "a [2Jb c d"
    assert clean(None) == ""
    long = clean("x" * 1000)
    assert len(long) == MAX_PROVIDER_TEXT and long.endswith("\u2026")


def test_provider_escape_sequences_never_reach_the_text():
    state = waiting(user_code="AB\x1b]52;c;ZXZpbA==\x07CD", verification_uri="https://e/\x1b[31m")
    assert "\x1b" not in message(state, NOW) and "\x07" not in message(state, NOW)


@pytest.mark.parametrize("url, ok", [
    ("https://idp.example/device", True),
    ("http://127.0.0.1:8080/device", True),
    ("http://[::1]/device", True),
    ("http://localhost/device", True),
    ("http://idp.example/device", False),
    ("javascript:alert(1)", False),
    ("JaVaScRiPt:alert(1)", False),
    ("data:text/html,<script>alert(1)</script>", False),
    ("https://", False),
    ("https://idp.example/a b", False),
    ("//idp.example/device", False),
    ("https://[::1", False),
    ("", False),
])
def test_safe_url(url, ok):
    assert (safe_url(url) == url) is ok


HOSTILE = '<img src=x onerror="alert(1)"><script>alert(2)</script>'


@pytest.mark.parametrize("field", ["verification_uri", "user_code"])
def test_html_escapes_provider_strings(field):
    html = markup.document(waiting(**{field: HOSTILE}))
    assert "<img" not in html and "<script" not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html or "&lt;img src=x onerror=\"alert(1)\"&gt;" in html


def test_javascript_link_is_inert_text():
    html = markup.document(waiting(verification_uri="javascript:alert(document.cookie)"))
    assert "href" not in html
    assert '<code class="nbauth-unsafe-link">javascript:alert(document.cookie)</code>' in html


def test_safe_link_opens_in_a_new_tab_without_opener():
    html = markup.link('https://idp.example/device?a=1&b="2"')
    assert re.search(r'href="https://idp.example/device\?a=1&amp;b=&quot;2&quot;"', html)
    assert 'target="_blank"' in html and 'rel="noopener noreferrer"' in html


def test_error_detail_and_authority_are_escaped():
    state = FlowState(status=Status.ERROR, detail=HOSTILE, authority='https://a/"><b>')
    html = markup.status(state) + markup.title(state)
    assert "<img" not in html and "<script" not in html and '"><b>' not in html
