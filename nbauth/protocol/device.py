"""The device authorization grant (RFC 8628) as a state machine over poll results.

``parse_device_authorization`` turns the provider's answer into MSAL's flow fields;
``after_poll`` decides, from one poll's error code, whether to keep polling and how often.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Mapping, Optional

from ..exceptions import AuthorityError, OAuthError, ProtocolError
from .oauth2 import as_seconds
from .urls import web_url

DEFAULT_INTERVAL = 5  # RFC 8628 section 3.2
DEFAULT_EXPIRES_IN = 1800  # what MSAL assumes when a provider omits it
SLOW_DOWN_STEP = 5  # RFC 8628 section 3.5


class Poll(enum.Enum):
    PENDING = "authorization_pending"
    SLOW_DOWN = "slow_down"
    SUCCESS = "success"
    DENIED = "access_denied"
    EXPIRED = "expired_token"
    FAILED = "failed"


#: Error codes by outcome; Entra also says authorization_declined and code_expired.
_OUTCOMES = {
    "authorization_pending": Poll.PENDING, "slow_down": Poll.SLOW_DOWN,
    "access_denied": Poll.DENIED, "authorization_declined": Poll.DENIED,
    "expired_token": Poll.EXPIRED, "code_expired": Poll.EXPIRED,
}


@dataclass(frozen=True)
class PollStep:
    """What one poll means: its outcome and the interval to keep from now on."""

    outcome: Poll
    interval: int

    @property
    def keep_polling(self) -> bool:
        return self.outcome in (Poll.PENDING, Poll.SLOW_DOWN)


def after_poll(error: Optional[str], interval: int) -> PollStep:
    """Classify a poll by its error code (None for a token); slow_down adds 5 s for good."""
    outcome = Poll.SUCCESS if error is None else _OUTCOMES.get(error, Poll.FAILED)
    return PollStep(outcome, interval + SLOW_DOWN_STEP if outcome is Poll.SLOW_DOWN else interval)


def has_expired(expires_at: float, now: float) -> bool:
    return now >= expires_at


def cancelled_error() -> OAuthError:
    """The result when the flow was cancelled (MSAL's poller also ends as still pending)."""
    return OAuthError("authorization_pending", "The device flow was cancelled before the sign-in was completed.")


def expired_error() -> OAuthError:
    """The result when the code's lifetime ran out here before the provider said so."""
    return OAuthError("expired_token", "The device code expired before the sign-in was completed.")


def default_message(verification_uri: str, user_code: str) -> str:
    """The instruction Microsoft Entra ID sends, for providers that send none."""
    return (f"To sign in, use a web browser to open the page {verification_uri} "
            f"and enter the code {user_code} to authenticate.")


def parse_device_authorization(body: Mapping[str, Any], now: float) -> dict:
    """MSAL's flow fields from a device authorization response (RFC 8628 section 3.2).

    ``verification_url`` (Entra v1, Google) is accepted for ``verification_uri``; the links must
    have one reading (``urls.web_url``) and are kept as rebuilt from it; ``interval`` and
    ``expires_in`` become ints (defaults 5 and 1800) and ``expires_at`` is added.
    """
    flow = dict(body)
    for name in ("device_code", "user_code"):
        if not isinstance(flow.get(name), str) or not flow[name]:
            raise ProtocolError(f"the device authorization response has no {name}")
    uri = flow.get("verification_uri") or flow.get("verification_url")
    if not isinstance(uri, str) or not uri:
        raise ProtocolError("the device authorization response has no verification_uri")
    flow["verification_uri"] = uri = _link(uri, "verification_uri")
    if flow.get("verification_uri_complete") is not None:
        flow["verification_uri_complete"] = _link(flow["verification_uri_complete"], "verification_uri_complete")
    flow["interval"] = max(1, as_seconds(flow.get("interval", DEFAULT_INTERVAL), "interval"))
    flow["expires_in"] = as_seconds(flow.get("expires_in", DEFAULT_EXPIRES_IN), "expires_in")
    flow["expires_at"] = now + flow["expires_in"]
    if not isinstance(flow.get("message"), str) or not flow["message"]:
        flow["message"] = default_message(uri, flow["user_code"])
    return flow


def _link(value: Any, name: str) -> str:
    """A verification link read once, or the ProtocolError naming what is wrong with it."""
    try:
        return web_url(value, name).url
    except AuthorityError as error:
        raise ProtocolError(f"the device authorization response's {error}") from None
