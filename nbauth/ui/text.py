"""Sign-in state and the words that describe it, shared by every presenter (pure: ``now`` is passed in).

Provider strings (links, codes, error descriptions) are cleaned of control characters here, so a
terminal never receives an escape sequence from a provider; ``printable`` is the one rule for every
string nbauth writes to a terminal. HTML escaping is ``markup``'s job.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, replace
from typing import Any, Mapping, Optional

from ..exceptions import AuthorityError
from ..protocol.status import Status
from ..protocol.urls import web_url

#: Provider strings longer than this are cut (a description is a sentence, not a page).
MAX_PROVIDER_TEXT = 300

#: C0 and C1 controls and DEL (escape sequences, cursor moves), zero-width and bidi marks,
#: embeddings, overrides and isolates (text that reads in another order than it is stored).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]+")

#: Providers people know by name rather than by host.
_NAMES = {"login.microsoftonline.com": "Microsoft Entra ID", "login.microsoftonline.us": "Microsoft Entra ID",
          "login.partner.microsoftonline.cn": "Microsoft Entra ID", "accounts.google.com": "Google"}


@dataclass(frozen=True)
class FlowState:
    """What a presenter shows. The link and code are only kept while the status is waiting."""

    status: Status = Status.WAITING
    verification_uri: str = ""
    verification_uri_complete: str = ""
    user_code: str = ""
    expires_at: float = 0.0
    detail: str = ""
    authority: str = ""
    #: How the person is asked while waiting: "" a device code; "choose" between the browser and a
    #: code; "browser" a sign-in window is open; "contacting" nothing yet, the provider is being asked.
    method: str = ""
    #: Waiting with a code while the provider does not answer (polling goes on, with backoff).
    retrying: bool = False
    #: Signed in from the saved (cached) sign-in, without asking the person.
    saved: bool = False

    @classmethod
    def from_flow(cls, flow: Mapping[str, Any], authority: str) -> "FlowState":
        """The waiting state of an MSAL-style device flow dict (RFC 8628 section 3.2 fields)."""
        return cls(
            status=Status.WAITING,
            verification_uri=clean(flow.get("verification_uri") or flow.get("verification_url")),
            verification_uri_complete=clean(flow.get("verification_uri_complete")),
            user_code=clean(flow.get("user_code")),
            expires_at=float(flow.get("expires_at") or 0.0),
            authority=clean(authority),
        )

    def settle(self, status: Status, detail: str = "") -> "FlowState":
        """This state moved to ``status``; leaving waiting drops the link and the code."""
        if status is Status.WAITING:
            return replace(self, detail=clean(detail))
        return FlowState(status=status, detail=clean(detail), authority=self.authority)


def printable(text: str) -> str:
    """``text`` fit for a terminal: each run of control or bidi characters becomes one space."""
    return _CONTROL.sub(" ", text)


def clean(text: Any) -> str:
    """A provider string made safe to print: ``printable``, trimmed, of bounded length."""
    if text is None:
        return ""
    text = printable(str(text)).strip()
    return text if len(text) <= MAX_PROVIDER_TEXT else text[:MAX_PROVIDER_TEXT - 1] + "\u2026"


def safe_url(url: str) -> Optional[str]:
    """``url`` as read once (see ``protocol.urls``) when it may be offered as a link: https, or
    http on a loopback host; else None."""
    try:
        parsed = web_url(url, "link")
    except AuthorityError:
        return None
    return parsed.url if parsed.is_safe else None


def verification_link(state: FlowState) -> str:
    """The address to open: the complete URI (code filled in) when it is a safe link."""
    if state.verification_uri_complete and safe_url(state.verification_uri_complete):
        return state.verification_uri_complete
    return state.verification_uri or state.verification_uri_complete


def code_prefilled(state: FlowState) -> bool:
    """The link to open already carries the code (the person only checks it)."""
    return bool(state.verification_uri_complete) and verification_link(state) == state.verification_uri_complete


def remaining(expires_at: float, now: float) -> str:
    """Time left as ``m:ss`` (``0:00`` once past)."""
    seconds = max(0, int(expires_at - now + 0.5))
    return f"{seconds // 60}:{seconds % 60:02d}"


def instruction(state: FlowState) -> str:
    """The sentence that tells the person what to do with the link and the code."""
    verb = "check" if code_prefilled(state) else "enter"
    return f"To sign in, open {verification_link(state)} and {verb} the code {state.user_code}"


def expiry(expires_at: float, now: Optional[float]) -> str:
    """``in m:ss`` counted from ``now``, or the clock time ``at HH:MM:SS ZONE`` for static output."""
    if now is not None:
        return f"in {remaining(expires_at, now)}"
    return "at " + time.strftime("%H:%M:%S %Z", time.localtime(expires_at)).strip()


def provider_name(authority: str) -> str:
    """What the person knows the provider as: its name for a few well-known hosts, else its host."""
    try:
        where = web_url(authority, "authority")
    except AuthorityError:
        return authority
    return _NAMES.get(where.host, where.netloc)


def status_line(state: FlowState, now: Optional[float] = None) -> str:
    """One line saying where the sign-in stands (while waiting: when the code expires, if known)."""
    status, detail = state.status, state.detail
    if status is Status.WAITING and state.method == "choose":
        return f"{detail}; choose how to sign in." if detail else "Choose how to sign in."
    if status is Status.WAITING and state.method == "browser":
        return "Waiting for you to sign in in the sign-in window."
    if status is Status.WAITING and state.method == "contacting":
        return f"Contacting {provider_name(state.authority) if state.authority else 'the provider'}\u2026"
    if status is Status.WAITING:
        left = f"; the code expires {expiry(state.expires_at, now)}" if state.expires_at else ""
        blip = "; the provider is not answering, retrying" if state.retrying else ""
        return f"Waiting for you to sign in{blip}{left}."
    if status is Status.SIGNED_IN:
        where = f" at {state.authority}" if state.authority else ""
        saved = " (saved sign-in)" if state.saved else ""
        return f"Signed in as {detail or 'an unnamed account'}{where}{saved}. Tokens refresh automatically."
    if status is Status.EXPIRED:
        detail = ""  # the provider's words only say it again ("the device code expired")
    return _ENDINGS[status] + (f": {detail.rstrip('.')}" if detail else "") + "."


_ENDINGS = {
    Status.DENIED: "Sign-in was denied",
    Status.EXPIRED: "The code expired before sign-in; sign in again for a new code",
    Status.CANCELLED: "Sign-in cancelled",
    Status.ERROR: "Sign-in failed",
    Status.SIGN_IN_NEEDED: "Sign-in needed",
    Status.SIGNED_OUT: "Signed out",
}


def message(state: FlowState, now: Optional[float] = None) -> str:
    """The whole message as plain text: the instruction while waiting, then the status line."""
    line = status_line(state, now)
    return f"{instruction(state)}\n{line}" if state.status is Status.WAITING and not state.method else line
