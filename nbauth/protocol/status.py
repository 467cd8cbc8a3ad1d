"""Where a sign-in stands, and the one table that says which outcome leads to which status.

The device flow's steps, the background refresher's reports and a silent call's refusal all
end in an ``Outcome``; ``STATUS_OF`` turns it into the ``Status`` a person sees (the notebook
handle, the CLI). Pure: no I/O.
"""
from __future__ import annotations

from enum import Enum
from typing import Mapping, Optional

from ..exceptions import OAuthError, ProtocolError, TransportError


class Status(str, Enum):
    """Where a sign-in stands."""

    WAITING = "waiting"
    SIGNED_IN = "signed_in"
    DENIED = "denied"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    ERROR = "error"
    SIGN_IN_NEEDED = "sign_in_needed"
    SIGNED_OUT = "signed_out"

    @property
    def can_retry(self) -> bool:
        """A person may start a new sign-in from here (every state but waiting and signed in)."""
        return self not in (Status.WAITING, Status.SIGNED_IN)


class Outcome(str, Enum):
    """What an attempt to get or keep a token came to."""

    PENDING = "pending"  # device flow: not yet signed in; poll again
    SIGNED_IN = "signed_in"  # device flow: the provider sent tokens
    DENIED = "denied"  # the person refused
    EXPIRED = "expired"  # the device code ran out
    CANCELLED = "cancelled"  # stopped here, before the person finished
    FAILED = "failed"  # any other error
    FRESH = "fresh"  # refresher: the cached token is fresh (renewed now, elsewhere, or not yet due)
    RETRYING = "retrying"  # refresher: renewing failed for now; tried again later
    SIGN_IN_NEEDED = "sign_in_needed"  # the refresh token was refused or is gone


#: The one table: what each outcome shows.
STATUS_OF: Mapping[Outcome, Status] = {
    Outcome.PENDING: Status.WAITING, Outcome.SIGNED_IN: Status.SIGNED_IN, Outcome.DENIED: Status.DENIED,
    Outcome.EXPIRED: Status.EXPIRED, Outcome.CANCELLED: Status.CANCELLED, Outcome.FAILED: Status.ERROR,
    Outcome.FRESH: Status.SIGNED_IN, Outcome.RETRYING: Status.SIGNED_IN,
    Outcome.SIGN_IN_NEEDED: Status.SIGN_IN_NEEDED,
}

#: OAuth errors that no retry can fix: a person must sign in again (MSAL's interaction-required).
INTERACTION_REQUIRED = frozenset({"invalid_grant", "interaction_required", "login_required", "consent_required"})
#: HTTP statuses that mean the provider did not handle a request: try again later.
UNANSWERED_STATUSES = frozenset({429, 500, 502, 503, 504})
#: OAuth errors by which a provider says it cannot answer now (RFC 6749 4.1.2.1).
UNAVAILABLE = frozenset({"temporarily_unavailable", "server_error"})


def unanswered_status(status: Optional[int]) -> bool:
    """Whether an HTTP status means the provider did not handle the request (try again later)."""
    return status in UNANSWERED_STATUSES


def provider_unanswered(error: BaseException) -> bool:
    """Whether ``error`` means the provider was not reached or did not handle the request (the
    network, a 5xx or 429, ``temporarily_unavailable``): it says nothing of the credential sent."""
    if isinstance(error, TransportError):
        return True
    if isinstance(error, OAuthError) and error.error in UNAVAILABLE:
        return True
    return isinstance(error, (OAuthError, ProtocolError)) and unanswered_status(error.status)

#: Device-code poll errors by outcome (RFC 8628 3.5; Entra also says authorization_declined and
#: code_expired). Any other error fails the flow.
_DEVICE_POLL = {
    "authorization_pending": Outcome.PENDING, "slow_down": Outcome.PENDING,
    "access_denied": Outcome.DENIED, "authorization_declined": Outcome.DENIED,
    "expired_token": Outcome.EXPIRED, "code_expired": Outcome.EXPIRED,
}


def device_poll_outcome(error: Optional[str]) -> Outcome:
    """The outcome of one device-code poll from its error code (None: the provider sent tokens)."""
    return Outcome.SIGNED_IN if error is None else _DEVICE_POLL.get(error, Outcome.FAILED)

