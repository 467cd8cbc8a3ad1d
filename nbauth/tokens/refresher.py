"""Background renewal: one daemon thread per process renews tokens before anyone needs them.

A token is kept fresh by registering it: ``app.keep_fresh(account, scopes, listener)`` (any
nbauth application; ``background_refresher().keep_fresh(service, ...)`` with the token engine
underneath), which the notebook's ``SignIn`` handle does once signed in. The thread
starts with the first registration and sleeps on an event until the earliest renewal is due: the
token's ``refresh_on``, else nine tenths through its lifetime, plus jitter within the renewal
window so that kernels sharing a cache spread out. It renews through the engine's silent
path (``TokenService.renew_if_due``), so concurrent callers share the refresh, processes sharing a ``PersistedTokenCache`` take
the account's refresh lock, and a token another process already renewed is used as it is.

Each outcome goes to the registration's listener (from this thread; it never touches a UI, and
logs outcomes at INFO only, since a notebook would show warnings in whichever cell runs):
``FRESH`` with the next due time; ``RETRYING`` after a transient failure (network, provider
error), tried again after a bounded exponential backoff while the cached token stays usable; and
``SIGN_IN_NEEDED`` when the provider refuses the refresh token (``invalid_grant`` and the other
interaction-required errors: revoked, expired, password changed) or the account's tokens left the
cache; that registration then ends. After it, the application's silent methods answer MSAL's
``{"error": "invalid_grant"}`` once the access token expires, and the notebook handle says
"Sign-in needed" and starts a new sign-in on the next ``token()`` call (where nobody can be
reached, e.g. in CI, that call raises the provider's ``OAuthError`` instead).

The thread is a daemon, stopped at interpreter (kernel) exit: an idle one at once, one renewing
after the renewal is saved (a provider that rotates refresh tokens has already spent the old one).
"""
from __future__ import annotations

import atexit
import logging
import os
import random
import threading
from typing import Any, Callable, List, Mapping, NamedTuple, Optional, Protocol, Sequence

from ..clock import Clock, Wait, system_clock, system_wait
from ..exceptions import ConfigurationError, OAuthError
from ..protocol.lifecycle import RenewalWindow
from ..protocol.status import INTERACTION_REQUIRED, Outcome

logger = logging.getLogger("nbauth")

#: Retry delays after transient failures: 2, 4, 8 ... seconds, at most 5 minutes, each jittered.
FIRST_BACKOFF, MAX_BACKOFF = 2.0, 300.0
#: How far into its renewal window jitter may push a renewal: a quarter of the window, at most a minute
#: (the rest of the window is left for the refresh and its retries).
JITTER_SHARE, MAX_JITTER = 0.25, 60.0
#: How long interpreter exit waits for a renewal in flight (so a rotated refresh token is saved).
EXIT_JOIN_SECONDS = 10.0


class RefreshStatus(NamedTuple):
    """What a listener hears after each renewal: the outcome (FRESH, RETRYING or SIGN_IN_NEEDED),
    when the next is due (epoch seconds; None once stopped) and, after a failure, its exception."""

    outcome: Outcome
    next_at: Optional[float]
    error: Optional[Exception] = None


Listener = Callable[[RefreshStatus], None]


def needs_sign_in(error: BaseException) -> bool:
    """Whether ``error`` means the refresh token is of no more use (a person must sign in)."""
    return isinstance(error, OAuthError) and error.error in INTERACTION_REQUIRED


def backoff(failures: int, draw: float) -> float:
    """Seconds to wait after the ``failures``-th failure in a row; ``draw`` in [0, 1) jitters it."""
    return min(MAX_BACKOFF, FIRST_BACKOFF * 2 ** (failures - 1)) * (0.5 + draw / 2)


class Renewer(Protocol):
    """What renews a token: ``TokenService.renew_if_due``."""

    def renew_if_due(self, scopes: Sequence[str], account: Mapping[str, Any]) -> Optional[RenewalWindow]: ...


class Renewal:
    """One token kept fresh (a token service, an account, scopes); ``cancel()`` stops it."""

    def __init__(self, refresher: "Refresher", service: Renewer, account: dict, scopes: List[str],
                 listener: Optional[Listener]) -> None:
        self.service, self.account, self.scopes, self.listener = service, account, scopes, listener
        self.status: Optional[RefreshStatus] = None  # the last outcome
        self.active = True
        self._refresher = refresher
        self._due_at = 0.0  # at once: the first wake-up reads the token's renewal window
        self._failures = 0

    def cancel(self) -> None:
        self._refresher._remove(self)

    def __repr__(self) -> str:
        state = self.status.outcome.value if self.status else "new"
        return f"<nbauth.Renewal {state} of {self.account.get('username') or 'an account'} for {self.scopes}>"


class Refresher:
    """The renewal thread and what it keeps fresh; ``background_refresher()`` is the process's one."""

    def __init__(self, *, clock: Clock = system_clock, draw: Callable[[], float] = random.random,
                 wait: Wait = system_wait) -> None:
        self._clock = clock
        self._wait = wait  # sleeps until the next renewal, woken early by ``_wake``
        self._draw = draw
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._renewals: List[Renewal] = []
        self._thread: Optional[threading.Thread] = None
        self._stopping = False

    def keep_fresh(self, service: Renewer, account: dict, scopes: Sequence[str],
                   listener: Optional[Listener] = None) -> Renewal:
        """Renew ``account``'s token for ``scopes`` ahead of need, through ``service`` (an
        application's ``service``; see the module's docstring)."""
        if not account or not account.get("home_account_id"):
            raise ConfigurationError("keep_fresh needs an account, one of app.get_accounts()")
        if isinstance(scopes, str) or not all(isinstance(scope, str) for scope in scopes):
            raise ConfigurationError("scopes must be a list of scope strings, e.g. ['api:read']")
        renewal = Renewal(self, service, account, list(scopes), listener)
        with self._lock:
            self._renewals.append(renewal)
            self._stopping = False
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="nbauth-refresher", daemon=True)
                self._thread.start()
        self._wake.set()
        return renewal

    @property
    def renewals(self) -> List[Renewal]:
        """The renewals kept fresh now (a copy)."""
        with self._lock:
            return list(self._renewals)

    @property
    def thread(self) -> Optional[threading.Thread]:
        """The renewal thread, once started (None after ``stop``)."""
        return self._thread

    def stop(self, timeout: float = EXIT_JOIN_SECONDS) -> None:
        """End every renewal and the thread (a later ``keep_fresh`` starts it again); waits up to
        ``timeout`` for a renewal in flight."""
        with self._lock:
            for renewal in self._renewals:
                renewal.active = False
            self._renewals.clear()
            self._stopping, thread = True, self._thread
        self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _remove(self, renewal: Renewal) -> None:
        with self._lock:
            renewal.active = False
            if renewal in self._renewals:
                self._renewals.remove(renewal)
        self._wake.set()

    def _run(self) -> None:
        while True:
            with self._lock:
                self._wake.clear()  # before reading the schedule: a change after this wakes the wait
                if self._stopping:
                    self._thread = None
                    return
                now = self._clock()
                due = [r for r in self._renewals if r._due_at <= now]
                later = min((r._due_at for r in self._renewals), default=None)
            for renewal in due:
                self._renew(renewal)
            if not due and later is None:
                self._wake.wait()  # nothing to renew until a registration or stop wakes it
            elif not due:
                self._wait(later - now, self._wake)

    def _renew(self, renewal: Renewal) -> None:
        try:
            status = self._renewed(renewal, renewal.service.renew_if_due(renewal.scopes, renewal.account))
        except Exception as exc:  # the thread's edge: no failure may end the renewals
            status = self._failed(renewal, exc)
        with self._lock:
            if not renewal.active:
                return
            renewal.status = status
        if status.outcome is Outcome.SIGN_IN_NEEDED:
            self._remove(renewal)
        if renewal.listener is not None:
            try:
                renewal.listener(status)
            except Exception:  # a listener's bug must not stop the thread
                logger.warning("a token renewal listener failed", exc_info=True)

    def _renewed(self, renewal: Renewal, window: Optional[RenewalWindow]) -> RefreshStatus:
        if window is None:
            return RefreshStatus(Outcome.SIGN_IN_NEEDED, None, OAuthError(
                "interaction_required", "the account's tokens are no longer in the cache (signed out?)"))
        renewal._failures = 0
        renewal._due_at = window.start + self._draw() * min(JITTER_SHARE * (window.end - window.start), MAX_JITTER)
        return RefreshStatus(Outcome.FRESH, renewal._due_at)

    def _failed(self, renewal: Renewal, error: Exception) -> RefreshStatus:
        if needs_sign_in(error):
            logger.info("background token renewal stopped: the provider refused the refresh token (%s)",
                           getattr(error, "error", ""))
            return RefreshStatus(Outcome.SIGN_IN_NEEDED, None, error)
        renewal._failures += 1
        renewal._due_at = self._clock() + backoff(renewal._failures, self._draw())
        logger.info("background token renewal failed (%s); trying again in %.0f s",
                       type(error).__name__, renewal._due_at - self._clock())
        return RefreshStatus(Outcome.RETRYING, renewal._due_at, error)


_background: Optional[Refresher] = None
_background_lock = threading.Lock()


def background_refresher() -> Refresher:
    """The process's refresher (its thread starts with the first ``keep_fresh``, stops at exit)."""
    global _background
    with _background_lock:
        if _background is None:
            _background = Refresher()
            atexit.register(_background.stop)
        return _background


def _forget_after_fork() -> None:
    """A forked child starts with no renewals: its parent's are the parent's to run."""
    global _background, _background_lock
    _background, _background_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)
