"""The device authorization grant (RFC 8628) as a value and a pure step function.

``parse_device_authorization`` turns the provider's answer into a frozen ``DeviceFlow``;
``advance(flow, answer, now)`` takes one poll's answer and says what comes next: poll again at a
time, or done, denied, expired, failed. A poll the provider did not answer (``Unanswered``: the
network failed, a 5xx, a 429) is polled again with backoff until the code expires, since the code
the person may be typing stays valid at the provider. ``msal_view`` / ``from_msal`` are MSAL's flow
dict. No I/O, no clock reads: ``now`` is passed in.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Dict, Mapping, NamedTuple, Optional, Sequence, Tuple, Union

from ..exceptions import AuthorityError, ConfigurationError, OAuthError, ProtocolError
from ..redact import Secret
from .oauth2 import as_seconds
from .status import Outcome, device_poll_outcome
from .urls import web_url

DEFAULT_INTERVAL = 5  # RFC 8628 section 3.2
DEFAULT_EXPIRES_IN = 1800  # what MSAL assumes when a provider omits it
SLOW_DOWN_STEP = 5  # RFC 8628 section 3.5
#: Longest wait between polls the provider did not answer (the backoff doubles up to it).
MAX_BACKOFF = 30.0


@dataclass(frozen=True)
class DeviceFlow:
    """One device-code sign-in: what to show, how often to poll, until when. The device code is
    kept out of the repr; ``fields`` keeps the provider's other fields for MSAL's dict."""

    device_code: str = field(repr=False)
    user_code: str
    verification_uri: str
    message: str
    interval: int
    expires_at: float
    next_poll_at: float
    scopes: Tuple[str, ...] = ()
    verification_uri_complete: Optional[str] = None
    claims_challenge: Optional[str] = None
    polled_at: Optional[float] = None  # when the latest poll was sent
    unanswered: int = 0  # polls in a row the provider did not answer
    fields: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def expired(self, now: float) -> bool:
        return now >= self.expires_at

    @property
    def retrying(self) -> bool:
        """The latest poll went unanswered: polling goes on, with backoff."""
        return self.unanswered > 0


@dataclass(frozen=True)
class Unanswered:
    """A poll the provider did not answer: the network failed, or it said 5xx or 429.
    ``retry_after``: the seconds it asked to wait (``Retry-After``), if it said."""

    retry_after: Optional[float] = None


#: One poll's answer: None (tokens), an OAuth error code, or ``Unanswered``.
Answer = Union[None, str, Unanswered]


def backoff(interval: int, unanswered: int) -> float:
    """The wait after ``unanswered`` polls in a row went unanswered: the interval, doubled for
    each further one, at most ``MAX_BACKOFF`` (never less than the interval)."""
    return max(float(interval), min(MAX_BACKOFF, interval * 2.0 ** (unanswered - 1)))


class Step(NamedTuple):
    """What one poll means: ``outcome`` (PENDING: poll again at ``at``) and, for the flow's
    ends, ``error`` when the flow itself decided it (the provider's own error is the poll's)."""

    outcome: Outcome
    at: Optional[float] = None
    error: Optional[OAuthError] = None


def advance(flow: DeviceFlow, answer: Answer, now: float) -> Tuple[DeviceFlow, Step]:
    """The flow after a poll sent at ``now`` answered ``answer`` (an OAuth error code, None for
    tokens, or ``Unanswered``). slow_down adds 5 s to the interval for good; an unanswered poll is
    tried again after ``backoff`` (or the provider's Retry-After, if longer); a code past its
    lifetime is expired."""
    if isinstance(answer, Unanswered):
        unanswered = flow.unanswered + 1
        delay = max(backoff(flow.interval, unanswered), answer.retry_after or 0.0)
        flow = replace(flow, polled_at=now, unanswered=unanswered, next_poll_at=now + delay)
    else:
        outcome = device_poll_outcome(answer)
        flow = replace(flow, polled_at=now, unanswered=0)
        if outcome is not Outcome.PENDING:
            return flow, Step(outcome)
        interval = flow.interval + SLOW_DOWN_STEP if answer == "slow_down" else flow.interval
        flow = replace(flow, interval=interval, next_poll_at=now + interval)
    if flow.expired(now):
        return flow, Step(Outcome.EXPIRED, error=expired_error())
    return flow, Step(Outcome.PENDING, at=flow.next_poll_at)


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


def parse_device_authorization(body: Mapping[str, Any], now: float, scopes: Sequence[str] = (),
                               claims_challenge: Optional[str] = None) -> DeviceFlow:
    """A ``DeviceFlow`` from a device authorization response (RFC 8628 section 3.2).

    ``verification_url`` (Entra v1, Google) is accepted for ``verification_uri``; the links must
    have one reading (``urls.web_url``) and are kept as rebuilt from it; ``interval`` and
    ``expires_in`` become ints (defaults 5 and 1800). The first poll is due at once.
    """
    for name in ("device_code", "user_code"):
        if not isinstance(body.get(name), str) or not body[name]:
            raise ProtocolError(f"the device authorization response has no {name}")
    uri = body.get("verification_uri") or body.get("verification_url")
    if not isinstance(uri, str) or not uri:
        raise ProtocolError("the device authorization response has no verification_uri")
    uri = _link(uri, "verification_uri")
    complete = body.get("verification_uri_complete")
    complete = None if complete is None else _link(complete, "verification_uri_complete")
    expires_in = as_seconds(body.get("expires_in", DEFAULT_EXPIRES_IN), "expires_in")
    message = body.get("message")
    fields = dict(body, verification_uri=uri, expires_in=expires_in)
    if complete is not None:
        fields["verification_uri_complete"] = complete
    return DeviceFlow(
        device_code=body["device_code"], user_code=body["user_code"], verification_uri=uri,
        message=message if isinstance(message, str) and message else default_message(uri, body["user_code"]),
        interval=max(1, as_seconds(body.get("interval", DEFAULT_INTERVAL), "interval")),
        expires_at=now + expires_in, next_poll_at=now, scopes=tuple(scopes),
        verification_uri_complete=complete, claims_challenge=claims_challenge, fields=fields)


def msal_view(flow: DeviceFlow) -> Dict[str, Any]:
    """MSAL's flow dict for ``flow``: the provider's fields, normalised, plus ``expires_at``,
    ``scope`` and, once polled, ``latest_attempt_at``."""
    view = dict(flow.fields, device_code=Secret(flow.device_code), user_code=flow.user_code,
                verification_uri=flow.verification_uri, message=flow.message, interval=flow.interval,
                expires_at=flow.expires_at, scope=list(flow.scopes))
    if flow.polled_at is not None:
        view["latest_attempt_at"] = flow.polled_at
    return view


def from_msal(view: Mapping[str, Any], now: float, scopes: Sequence[str] = (),
              claims_challenge: Optional[str] = None) -> DeviceFlow:
    """The ``DeviceFlow`` of an MSAL flow dict: nbauth's, MSAL's own, or either after a JSON
    round trip. ``scopes`` is used when the dict has none; a dict without ``expires_at`` counts
    as cancelled (MSAL's reading)."""
    if not isinstance(view, dict) or not isinstance(view.get("device_code"), str) or not view["device_code"]:
        raise ConfigurationError("flow must be a dict from initiate_device_flow() with a device_code")
    uri = view.get("verification_uri") or view.get("verification_url") or ""
    try:
        expires_at = float(view.get("expires_at") or 0)
        interval = max(1, int(view.get("interval") or DEFAULT_INTERVAL))
        polled_at = None if view.get("latest_attempt_at") is None else float(view["latest_attempt_at"])
    except (TypeError, ValueError):
        raise ConfigurationError("the flow's expires_at, interval and latest_attempt_at must be numbers") from None
    scope = view.get("scope") or scopes
    if isinstance(scope, str) or not all(isinstance(s, str) for s in scope):
        raise ConfigurationError("the flow's scope must be a list of scope strings")
    return DeviceFlow(
        device_code=view["device_code"], user_code=str(view.get("user_code") or ""), verification_uri=str(uri),
        message=str(view.get("message") or ""), interval=interval, expires_at=expires_at,
        next_poll_at=now,  # as MSAL: each call polls at once
        scopes=tuple(scope), verification_uri_complete=_text(view.get("verification_uri_complete")),
        claims_challenge=claims_challenge, polled_at=polled_at, fields=dict(view))


def _text(value: Any) -> Optional[str]:
    return value if isinstance(value, str) and value else None


def _link(value: Any, name: str) -> str:
    """A verification link read once, or the ProtocolError naming what is wrong with it."""
    try:
        return web_url(value, name).url
    except AuthorityError as error:
        raise ProtocolError(f"the device authorization response's {error}") from None
