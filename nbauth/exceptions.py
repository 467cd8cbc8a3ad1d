"""nbauth's one error tree.

Every message names what went wrong and where, and never carries a token, code, secret,
password or assertion: the constructors take only descriptive text.
"""
from __future__ import annotations

import functools
from typing import List, Optional, Sequence, TypeVar


class NbauthError(Exception):
    """Base of every error nbauth raises."""


class ConfigurationError(NbauthError, ValueError):
    """An argument given to nbauth is not usable (the message names it)."""


class AuthorityError(ConfigurationError):
    """An authority URL is malformed or not allowed (e.g. http:// on a non-loopback host)."""


class TransportError(NbauthError):
    """The network failed: connection refused or reset, timeout, TLS failure."""

    def __init__(self, message: str, *, url: str = ""):
        super().__init__(message)
        self.url = url


class DiscoveryError(NbauthError):
    """The authority's OpenID configuration could not be fetched or is not valid."""

    def __init__(self, message: str, *, authority: str):
        super().__init__(f"{message} (authority {authority})")
        self.authority = authority
        self.reason = message

    def __reduce__(self) -> tuple:  # its constructor's keyword, so it crosses to other processes
        return functools.partial(type(self), authority=self.authority), (self.reason,), self.__dict__


class ProtocolError(NbauthError):
    """A server answered with something that is not valid OAuth 2.0 / OpenID Connect.

    ``status`` and ``retry_after`` (the header as sent) are the HTTP answer's, when it was an error.
    """

    def __init__(self, message: str, *, status: Optional[int] = None, retry_after: Optional[str] = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class OAuthError(NbauthError):
    """The provider answered with an OAuth error (RFC 6749 section 5.2)."""

    def __init__(
        self,
        error: str,
        description: str = "",
        *,
        error_codes: Optional[Sequence[int]] = None,
        correlation_id: Optional[str] = None,
        status: Optional[int] = None,
        claims: Optional[str] = None,
        retry_after: Optional[str] = None,
    ):
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error
        self.description = description
        self.error_codes = list(error_codes or [])
        self.correlation_id = correlation_id
        self.status = status
        self.claims = claims
        self.retry_after = retry_after  # the Retry-After header as sent, if any

    def to_result(self) -> dict:
        """The MSAL-style result dict for this error."""
        result = {"error": self.error, "error_description": self.description}
        if self.error_codes:
            result["error_codes"] = list(self.error_codes)
        if self.correlation_id:
            result["correlation_id"] = self.correlation_id
        if self.claims:
            result["claims"] = self.claims
        return result


class IdTokenError(NbauthError):
    """An ID token failed validation (signature, issuer, audience, expiry or nonce)."""


class FlowError(NbauthError, ValueError):
    """An authorization flow was misused or its response does not match it (e.g. state).

    A ``ValueError`` too, as MSAL raises there, so web apps written for MSAL keep working.
    """


class InteractionUnavailable(NbauthError):
    """Sign-in needs a person, and none can be reached here (no notebook, no terminal, CI, a batch run)."""

    def _render_traceback_(self) -> list:
        """IPython (a notebook, nbconvert's report) shows this error as one line: nbauth's frames add nothing."""
        cause = f" (the provider refused the saved sign-in: {self.__cause__})" if self.__cause__ else ""
        return [f"{type(self).__name__}: {self}{cause}"]


class SignInInterrupted(KeyboardInterrupt):
    """Ctrl-C ended a wait for sign-in, and cancelled it. Still a ``KeyboardInterrupt`` (a script stops
    as on any Ctrl-C), raised without the waiting thread's frames; IPython shows it as one line."""

    def _render_traceback_(self) -> list:
        return [f"{type(self).__name__}: {self}"]


class CacheWarning(UserWarning):
    """The token cache file was damaged, unsafe, locked or unwritable, and nbauth carried on.

    The message names the file and what was done (e.g. where a damaged file was moved).
    """


class SignInTimeout(NbauthError, TimeoutError):
    """A wait for a pending sign-in ran out; the sign-in goes on (wait again, or cancel it)."""


E = TypeVar("E", bound=BaseException)


class _OneLine:
    """IPython's ``_render_traceback_`` for an error shown as one line (picklable, unlike a lambda)."""

    def __init__(self, line: str):
        self.line = line

    def __call__(self) -> List[str]:
        return [self.line]


def brief(error: E, text: Optional[str] = None) -> E:
    """``error`` itself, which IPython (a notebook, its terminal) now shows as one line, ``text`` or
    its message after its type's name, instead of a traceback through nbauth's frames: for an
    outcome a person must act on (a sign-in that failed, was denied, or could not start), not a bug.
    Without ``text``, an error made brief before keeps its line."""
    if text is None and isinstance(getattr(error, "_render_traceback_", None), _OneLine):
        return error
    line = " ".join((text or str(error)).split())
    error._render_traceback_ = _OneLine(f"{type(error).__name__}: {line}")  # type: ignore[attr-defined]
    return error
