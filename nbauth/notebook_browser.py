"""The ``SignIn`` handle's browser sign-in from the widget (``nbauth.notebook``): the widget's
"Sign in with browser" starts an attempt (``nbauth.flows.browser``), its window's answer is redeemed
in a thread, and the attempt ends on an answer, a closed window, a cancel or ``BROWSER_TIMEOUT``.
The page half is ``nbauth.ui.browser``."""
from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any, Optional

from .clock import Wait
from .exceptions import NbauthError, OAuthError, SignInTimeout
from .flows.browser import BrowserFlow
from .ui import FlowState, Presenter, Status

#: How long a browser sign-in's window may take to answer.
BROWSER_TIMEOUT = 600.0
CUT_OFF = ("The provider's page cut the sign-in window off from this notebook (Cross-Origin-Opener-Policy) "
           "and nbauth's server extension is not active on this Jupyter server to bring the answer back "
           "(jupyter server extension enable nbauth.serverext); use a code instead")


def name_of(account: Optional[dict]) -> str:
    """How a signed-in account is named to a person: its username, else its id."""
    return (account or {}).get("username") or (account or {}).get("home_account_id") or ""


class BrowserSignIn:
    """The browser half of ``SignIn``: a mixin on the handle's attempt and state, which it changes
    through the handle's ``_show_new`` and ``_settle``."""

    _attempt: int
    _state: FlowState
    _browser: Optional[BrowserFlow]
    _presenter: Optional[Presenter]
    _thread: Optional[threading.Thread]
    _wait: Wait

    def _browser_start(self, redirect_uri: Any) -> Optional[str]:
        """The widget's "Sign in with browser": the URL for its window (None: refused, shown why)."""
        try:
            auth_uri = self._browser.start(redirect_uri)
        except NbauthError as exc:
            self._settle(self._attempt, self._state.settle(Status.ERROR, str(exc)), error=exc)
            return None
        attempt = self._show_new(replace(self._state, method="browser", detail=""))
        self._thread = threading.Thread(target=self._browser_deadline, args=(attempt, self._presenter.cancel_event),
                                        name="nbauth-browser-sign-in", daemon=True)
        self._thread.start()
        return auth_uri

    def _browser_deadline(self, attempt: int, cancelled: threading.Event) -> None:
        """Ends the attempt when cancelled, or when no answer came within ``BROWSER_TIMEOUT``."""
        was_cancelled = self._wait(BROWSER_TIMEOUT, cancelled)
        if attempt != self._attempt or self._state.method != "browser":
            return
        self._browser.forget()
        if was_cancelled:
            self._settle(attempt, self._state.settle(Status.CANCELLED))
        else:
            late = f"no answer from the sign-in window within {BROWSER_TIMEOUT / 60:g} minutes"
            self._settle(attempt, self._state.settle(Status.ERROR, f"{late}; sign in again"),
                         error=SignInTimeout(f"{late}: call sign_in_again()"))

    def _browser_redirect(self, params: Any) -> None:
        """The redirect's parameters from the page: redeemed in a thread (the kernel stays free)."""
        threading.Thread(target=self._browser_redeem, args=(self._attempt, self._state, params),
                         name="nbauth-browser-redeem", daemon=True).start()

    def _browser_redeem(self, attempt: int, state: FlowState, params: Any) -> None:
        try:
            result = self._browser.answer(params)
        except OAuthError as exc:
            status = Status.DENIED if exc.error == "access_denied" else Status.ERROR
            self._settle(attempt, state.settle(status, exc.description or exc.error), error=exc)
            return
        except NbauthError as exc:
            self._settle(attempt, state.settle(Status.ERROR, str(exc)), error=exc)
            return
        if result is not None:  # else another sign-in's answer, or one already taken
            self._settle(attempt, state.settle(Status.SIGNED_IN, name_of(result.account)), account=result.account)

    def _browser_closed(self, cut_off: bool) -> None:
        """The sign-in window closed with no answer: back to the choices (a late answer still counts)."""
        if self._state.method != "browser":
            return
        detail = CUT_OFF if cut_off else "The sign-in window was closed before sign-in finished"
        self._settle(self._attempt, replace(self._state, method="choose", detail=detail))
