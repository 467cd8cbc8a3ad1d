"""The notebook entry point: ``nbauth.login(...)`` returns at once with a ``SignIn`` handle.

A silent sign-in from the per-user cache comes first (shown as one line); otherwise the device
code is shown by the presenter for this process (widget, terminal, or an error where nobody can
be reached) and polled for in a daemon thread, so the cell finishes and the kernel stays free. In
the notebook widget nothing that can wait on the network runs in the cell: only a saved sign-in
that needs no request is taken at once; a refresh, discovery and the request for a code run in
the background behind "Contacting <provider>..." (``_ask``), and a sign-in that cannot start is
shown as one sentence naming the client id or authority (``flows.problems``). Polling rides out
a provider that does not answer until the code expires (``flows.device``).
Once signed in, the token is renewed ahead of need by the process's background refresher
(``nbauth.tokens.refresher``), so ``token()`` answers from the cache; if the provider refuses the refresh
token, the status says sign-in is needed and ``token()`` starts a new sign-in, shown in the cell that
asked (or, where nobody can be reached, raises the provider's ``OAuthError``, e.g. ``invalid_grant``).
Errors ``token()`` raises show as one line in IPython (``exceptions.brief``).
"""
from __future__ import annotations

import functools
import threading
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Callable, Optional, Sequence, Tuple

from .clock import Clock, Wait
from .exceptions import (
    ConfigurationError,
    FlowError,
    IdTokenError,
    InteractionUnavailable,
    NbauthError,
    OAuthError,
    SignInInterrupted,
    SignInTimeout,
    brief,
)
from .flows.browser import BrowserFlow, browser_flow_for, browser_method
from .flows.cell import running_cell, started_in
from .flows.problems import setup_problem
from .notebook_browser import BrowserSignIn, name_of
from .protocol.device import DeviceFlow, msal_view
from .protocol.status import INTERACTION_REQUIRED, STATUS_OF, Outcome, device_poll_outcome
from .tokens.refresher import RefreshStatus, Renewal, background_refresher
from .ui import FlowState, Presenter, Status, choose, make_presenter
from .ui.base import BrowserActions
from .ui.text import remaining

if TYPE_CHECKING:
    from .apps.public import PublicClientApplication

#: How long ``cancel`` waits for the polling thread to stop (it only waits for a poll in flight).
CANCEL_JOIN_SECONDS = 10.0
_UNCHANGED = object()  # ``_settle``'s default: keep the account as it is
#: What the person is shown next, and the device flow to poll for it (None: nothing to poll).
Next = Tuple[FlowState, Optional[DeviceFlow]]


class SignIn(BrowserSignIn):
    """One account's sign-in, for notebooks and scripts.

    ``token()`` gives an access token (waiting for a pending sign-in); ``cancel()``,
    ``sign_in_again()`` and ``sign_out()`` are what the widget's buttons do; ``app`` is the
    ``PublicClientApplication`` underneath, whose MSAL-style methods work as usual, and
    ``service`` its token engine, which the handle uses. Every change of
    state goes through ``_settle``, which also keeps a signed-in account's token fresh in the
    background (a ``Renewal`` of the process's refresher) and stops that when it signs out.
    """

    def __init__(self, app: "PublicClientApplication", scopes: Sequence[str], *, authority: str,
                 ui: Optional[str] = None, username: Optional[str] = None, keep_fresh: bool = True,
                 clock: Optional[Clock] = None, wait: Optional[Wait] = None, method: str = "device"):
        if isinstance(scopes, str) or not all(isinstance(scope, str) for scope in scopes):
            raise ConfigurationError("scopes must be a list of scope strings, e.g. ['api:read']")
        self.app = app
        self.service = app.service
        self.scopes = list(scopes)
        self.authority = authority
        self.username = username
        self.keep_fresh = keep_fresh
        self._ui = ui
        self._clock = clock or self.service.clock  # time and waits: the app's unless given (tests pass fakes)
        self._wait = wait or self.service.wait
        self._changed = threading.Condition()
        self._state = FlowState(status=Status.SIGN_IN_NEEDED, authority=authority)
        self._account: Optional[dict] = None
        self._error: Optional[Exception] = None  # why the sign-in ended without a token
        self._attempt = 0
        self._cells_waiting = 0  # calls of token() waiting now: a choice offered meanwhile becomes a code
        self._thread: Optional[threading.Thread] = None
        self._presenter: Optional[Presenter] = None
        self._renewal: Optional[Renewal] = None
        self._kind = choose(ui).kind
        self._method = browser_method(method, self._kind)  # "auto" is settled once the provider is known
        self._browser: Optional[BrowserFlow] = None  # the browser sign-in offered (None: a device code)

    # ---- what a notebook asks ----------------------------------------------------------------
    @property
    def status(self) -> Status:
        return self._state.status

    @property
    def state(self) -> FlowState:
        """What the presenter shows: while waiting, the link and the code."""
        return self._state

    @property
    def account(self) -> Optional[dict]:
        """The signed-in account (MSAL's account dict), or None."""
        return self._account

    @property
    def presenter(self) -> Optional[Presenter]:
        """What shows this sign-in to the person (widget, terminal or headless), once one was needed."""
        return self._presenter

    @property
    def renewal(self) -> Optional[Renewal]:
        """The background renewal keeping the signed-in account's token fresh, or None."""
        return self._renewal

    def wait(self, timeout: Optional[float] = None) -> Status:
        """Wait until the pending sign-in ends (or ``timeout`` seconds); Ctrl-C cancels it."""
        try:
            with self._changed:
                self._changed.wait_for(lambda: self._state.status is not Status.WAITING, timeout)
                return self._state.status
        except KeyboardInterrupt:
            self.cancel()
            raise SignInInterrupted("sign-in cancelled (Ctrl-C); call sign_in_again() for a new code") from None

    def wait_for(self, status: "Status | str", timeout: Optional[float] = None) -> bool:
        """Wait until the sign-in reaches ``status`` (a ``Status`` or its value, e.g. ``"signed_in"``;
        ValueError for another string), or ``timeout`` seconds; whether it did."""
        wanted = Status(status)
        return self.wait_until(lambda state: state.status is wanted, timeout)

    def wait_until(self, condition: Callable[[FlowState], Any], timeout: Optional[float] = None) -> bool:
        """Wait until ``condition(state)`` holds (e.g. ``lambda state: state.user_code``: the code is
        shown), or ``timeout`` seconds; whether it does."""
        with self._changed:
            return bool(self._changed.wait_for(lambda: condition(self._state), timeout))

    def token(self, timeout: Optional[float] = None, *, scopes: Optional[Sequence[str]] = None) -> str:
        """An access token: at once when signed in, else after the pending sign-in (or raises).

        ``timeout`` (seconds) bounds the wait; by default it lasts as long as the sign-in can (a
        code's lifetime), then raises why it ended. When the provider refused the refresh token,
        this starts a new sign-in, shown in the output of the cell that asked, and waits for it;
        where nobody can be reached (``choose``), it raises the refusal (``OAuthError``, e.g.
        ``invalid_grant``: MSAL's interaction-required errors), with every field the provider
        sent (``claims``, ``error_codes``, ``correlation_id``). Called while the widget offers the
        browser sign-in, it shows a device code instead unless the widget's clicks reach a waiting
        cell's kernel (nbauth's click relay): without it the kernel hears no click until the cell
        ends (ipykernel 6, 7.4), and the code needs none. Errors show as one line in IPython, with
        their types and fields unchanged.
        """
        with self._changed:
            self._cells_waiting += 1
            self._changed.notify_all()
        try:
            return self._token(timeout, scopes)
        except NbauthError as error:
            raise brief(error).with_traceback(None) from error.__cause__  # from this frame: no nbauth internals
        finally:
            with self._changed:
                self._cells_waiting -= 1

    def _token(self, timeout: Optional[float], scopes: Optional[Sequence[str]]) -> str:
        choosing = self._state.status is Status.WAITING and self._state.method == "choose"
        if choosing and not self._presenter.clicks_reach_busy_kernel():
            self._begin_device()
        for _ in range(2):  # a token, or a refusal found now and one new sign-in
            status = self.wait(timeout)
            if status is Status.SIGN_IN_NEEDED and self._account is not None and self._kind != "none":
                self._sign_in_again_here()  # the refresh token was refused, and a person can sign in
                status = self.wait(timeout)
            if status is not Status.SIGNED_IN:
                raise self._why_not(status, timeout)
            token = self._cached_token(scopes)
            if token is not None:
                return token
        raise self._why_not(self.status, timeout)

    def _cached_token(self, scopes: Optional[Sequence[str]]) -> Optional[str]:
        """The signed-in account's token for ``scopes``; None when the provider refused the sign-in
        just now and a person can sign in again (else that refusal raises)."""
        try:
            result = self.service.silent(list(scopes or self.scopes), self._account)
        except OAuthError as error:
            if error.error not in INTERACTION_REQUIRED:  # transient: the next call tries again
                raise
            refusal = error
        else:
            if result is not None:
                return result.access_token
            refusal = OAuthError("no_token", "no usable token in the cache")
        self._settle(self._attempt, self._state.settle(Status.SIGN_IN_NEEDED, refusal.description), error=refusal)
        if self._kind == "none":
            raise refusal
        return None

    def _sign_in_again_here(self) -> None:
        """A new sign-in, shown in the output of the cell running now (the one that needs it), which
        may be far below the first one, or after its output was cleared."""
        shown = self._presenter
        self.sign_in_again()
        if shown is not None:  # else it was just shown for the first time, here
            shown.reveal()

    def cancel(self) -> None:
        """Stop a pending sign-in now; returns once polling has stopped."""
        method = self._state.method if self._state.status is Status.WAITING else None
        if method in ("choose", "contacting"):  # nothing polls yet; a code asked for meanwhile is dropped
            self._settle(self._attempt, self._state.settle(Status.CANCELLED))
        if self._presenter is not None:
            self._presenter.cancel()  # sets the event the poller waits on, as the widget's Cancel button does
        thread = self._thread
        if thread is not None and thread is not threading.current_thread() and method != "contacting":
            thread.join(CANCEL_JOIN_SECONDS)

    def sign_in_again(self) -> None:
        """Start a new sign-in (after expiry, cancel, denial, sign-out or failure)."""
        if self.status is Status.WAITING:
            self.cancel()
        self._begin()

    def _sign_in_again_from_button(self) -> None:
        """The widget's button: nobody would see an exception there, so a failure is shown instead."""
        try:
            self.sign_in_again()
        except NbauthError as exc:
            self._settle(self._attempt, self._state.settle(Status.ERROR, str(exc)), error=exc)

    def sign_out(self) -> None:
        """Forget the account here and revoke its refresh token at the provider (RFC 7009)."""
        account = self._account
        if self.status is Status.WAITING:
            self.cancel()
        if account is None:
            return
        try:
            self.service.revoke(account)
        finally:
            self.service.remove(account)
            self._settle(self._attempt, self._state.settle(Status.SIGNED_OUT, account.get("username") or ""),
                         account=None)

    # ---- how it gets there -------------------------------------------------------------------
    def start(self) -> "SignIn":
        """Sign in silently if the cache allows, else show a device code (or the widget's choice)
        and poll in the background. In the widget, only a saved sign-in that needs no request is
        taken here; the rest runs in the background behind "Contacting <provider>...".

        Where nobody can be reached, ``InteractionUnavailable`` is raised; when the provider had
        refused the cached sign-in, that refusal (``OAuthError``) is its ``__cause__``.
        """
        if self._in_background and not self._saved_at_once():
            self._contact(self._ask_first)
            return self
        refusal = self._sign_in_silently()
        if self.status is Status.SIGNED_IN:
            return self
        try:
            self._begin()
        except InteractionUnavailable as unavailable:
            if refusal is None:
                raise
            raise unavailable from refusal
        return self

    @property
    def _in_background(self) -> bool:
        """Whether asking the provider runs behind the cell (the notebook widget) or in it (terminal,
        script: the next line needs the answer, and Ctrl-C stops it)."""
        return self._kind == "widget"

    def _saved_at_once(self) -> bool:
        """Whether the cache signs in without a request: a token for a saved account, the provider's
        configuration known here."""
        if not self.service.knows_provider():
            return False
        return any(self.service.silent_at_once(self.scopes, account) is not None
                   for account in self.service.accounts(username=self.username))

    def _sign_in_silently(self) -> Optional[NbauthError]:
        """Settle as signed in with the first cached account that has a token, shown as one line
        (the saved sign-in, with Sign out); else the provider's refusal of the last one tried
        (None if none was refused)."""
        refusal: Optional[NbauthError] = None
        for account in self.service.accounts(username=self.username):
            try:
                result = self.service.silent(self.scopes, account)
            except (OAuthError, IdTokenError) as exc:  # refused or unusable: a new sign-in follows
                refusal = exc
                continue
            if result is not None:
                self._presenter = self._presenter or self._make_presenter()
                saved = replace(self._state.settle(Status.SIGNED_IN, name_of(account)), saved=True)
                self._settle(self._attempt, saved, account=account)
                return None
        return refusal

    def _make_presenter(self) -> Presenter:
        browser = None if self._method == "device" else BrowserActions(
            self._browser_start, self._browser_redirect, self._browser_closed, self._begin_device)
        return make_presenter(self._ui, on_sign_out=self.sign_out, on_retry=self._sign_in_again_from_button,
                              browser=browser)

    def _ready_presenter(self) -> Presenter:
        presenter = self._presenter or self._make_presenter()
        presenter.ready()  # raises InteractionUnavailable before any request where nobody is there
        self._presenter = presenter
        return presenter

    def _show_new(self, state: FlowState) -> int:
        """Start a new attempt showing ``state``; its number."""
        with self._changed:
            self._attempt += 1
            attempt, self._state, self._error = self._attempt, state, None
            self._changed.notify_all()
        self._presenter.show(state)
        return attempt

    def _begin(self) -> None:
        self._contact(self._ask_choice_or_code)

    def _begin_device(self) -> None:
        self._contact(self._ask_code)

    def _contact(self, ask: Callable[[], Next]) -> None:
        """Ask the provider what to show (``ask``: network) and show it, polling for a code: in the
        background behind "Contacting <provider>..." in the widget, else here (errors raise)."""
        presenter = self._ready_presenter()
        if not self._in_background:
            state, flow = ask()
            attempt = self._show_new(state)
            if flow is not None:
                self._thread = threading.Thread(target=self._poll, args=(attempt, flow, state, presenter.cancel_event),
                                                name="nbauth-device-flow", daemon=True)
                self._thread.start()
            return
        attempt = self._show_new(FlowState(status=Status.WAITING, method="contacting", authority=self.authority))
        self._thread = threading.Thread(target=self._contacted, args=(attempt, ask, presenter.cancel_event),
                                        name="nbauth-sign-in", daemon=True)
        self._thread.start()

    def _contacted(self, attempt: int, ask: Callable[[], Next], cancelled: threading.Event) -> None:
        """``_contact``'s background half: the answer replaces "Contacting..." unless the attempt was
        cancelled or replaced meanwhile; a failure is shown as one sentence (``setup_problem``)."""
        try:
            state, flow = ask()
        except Exception as exc:  # the thread's edge: whatever ends the asking must end the waiting too
            problem = setup_problem(exc, self.app.client_id, self.authority)
            error = brief(exc, problem) if isinstance(exc, NbauthError) else exc
            self._settle(attempt, self._state.settle(Status.ERROR, problem), error=error, while_method="contacting")
            return
        if cancelled.is_set():
            state, flow = self._state.settle(Status.CANCELLED), None
        if self._settle(attempt, state, while_method="contacting") and flow is not None:
            self._poll(attempt, flow, state, cancelled)

    def _ask_first(self) -> Next:
        """The first contact in the widget: a saved sign-in that needs the provider (a refresh), else
        the choice or a code. A signed-in state is returned as it was settled."""
        self._sign_in_silently()
        if self.status is Status.SIGNED_IN:
            return self._state, None
        return self._ask_choice_or_code()

    def _ask_choice_or_code(self) -> Next:
        """The widget's choice when the browser sign-in is offered (``browser_flow_for``: discovery for
        ``"auto"``), else a new device code; a code too while a cell waits in ``token()`` and the widget's
        clicks cannot reach it (no click relay), as there."""
        if self._browser is None:
            self._browser = browser_flow_for(self.app, self.scopes, self._method)
        if self._browser is None or (self._cells_waiting and not self._presenter.clicks_reach_busy_kernel()):
            return self._ask_code()
        self._browser.forget()
        return FlowState(status=Status.WAITING, method="choose", authority=self.authority), None

    def _ask_code(self) -> Next:
        """A new device code from the provider (section 3.1 of RFC 8628)."""
        if self._browser is not None:
            self._browser.forget()
        flow = self.service.start_device_flow(self.scopes)
        return FlowState.from_flow(msal_view(flow), self.authority), flow

    def _poll(self, attempt: int, flow: DeviceFlow, state: FlowState, cancelled: threading.Event) -> None:
        def on_poll(polled: DeviceFlow) -> None:  # "the provider is not answering, retrying", and back
            if polled.retrying != self._state.retrying:
                self._settle(attempt, replace(state, retrying=polled.retrying), while_method="")

        account: Any = _UNCHANGED
        try:
            result = self.service.redeem_device_flow(flow, cancelled, clock=self._clock, wait=self._wait,
                                                     on_poll=on_poll, ride_out=True)
            account = result.account
            outcome, detail, error = Outcome.SIGNED_IN, name_of(account), None
        except OAuthError as exc:
            outcome = Outcome.CANCELLED if cancelled.is_set() else device_poll_outcome(exc.error)
            detail, error = exc.description or exc.error, exc
            if outcome is Outcome.CANCELLED:
                detail, error = "", FlowError("the sign-in was cancelled; call sign_in_again() for a new code")
        except Exception as exc:  # the thread's edge: whatever ends the polling must end the waiting too
            outcome, detail, error = Outcome.FAILED, str(exc) or type(exc).__name__, exc
        self._settle(attempt, state.settle(STATUS_OF[outcome], detail), account=account, error=error)

    def _settle(self, attempt: int, state: FlowState, *, account: Any = _UNCHANGED,
                error: Optional[Exception] = None, while_method: Optional[str] = None) -> bool:
        """The one place the state changes; a stale attempt's outcome is dropped, and with
        ``while_method`` so is one for a state no longer waiting that way. Waiters resume once the
        presenter has shown the change (a script's next line comes after it). Whether it changed."""
        with self._changed:
            if attempt != self._attempt:
                return False
            if while_method is not None and (self._state.status is not Status.WAITING
                                             or self._state.method != while_method):
                return False
            self._state, self._error = state, error
            if account is not _UNCHANGED:
                self._account = account
            self._follow_renewal(state)
            if self._presenter is not None:
                if state.status is Status.WAITING:
                    self._presenter.update(state)
                else:
                    self._presenter.finish(state)
            self._changed.notify_all()
            return True

    def _follow_renewal(self, state: FlowState) -> None:
        """Signed in, the account's token is renewed in the background; any other state ends that."""
        signed_in = self.keep_fresh and state.status is Status.SIGNED_IN and self._account is not None
        if self._renewal is not None and not (signed_in and self._renewal.account is self._account):
            self._renewal.cancel()
            self._renewal = None
        if signed_in and self._renewal is None:
            self._renewal = background_refresher().keep_fresh(self.service, self._account, self.scopes,
                                                              functools.partial(self._renewed, self._attempt))

    def _renewed(self, attempt: int, status: RefreshStatus) -> None:
        """The refresher's report (from its thread): a refused refresh token means sign-in is needed,
        shown even where the silent sign-in had shown nothing (unless nobody can be reached)."""
        if STATUS_OF[status.outcome] is not Status.SIGN_IN_NEEDED:
            return
        if self._presenter is None and choose(self._ui).kind != "none":
            self._presenter = self._make_presenter()
        reason = getattr(status.error, "error", "") or "no token"
        self._settle(attempt, self._state.settle(
            Status.SIGN_IN_NEEDED, f"the provider no longer accepts this sign-in ({reason})"), error=status.error)

    def _why_not(self, status: Status, timeout: Optional[float]) -> Exception:
        if status is Status.WAITING:
            left = remaining(self._state.expires_at, self._clock())
            return SignInTimeout(f"no sign-in within {timeout} s (the code is valid for {left} more): "
                                f"call token() again to keep waiting, or cancel()")
        return self._error or FlowError(f"not signed in ({status.value}): call sign_in_again()")

    def __reduce__(self) -> tuple:
        """Pickled as its recipe (``nbauth.cluster``): a worker gets a ``ClusterSignIn``, never a token."""
        from .cluster import ClusterSignIn

        return ClusterSignIn.from_recipe, (ClusterSignIn(self).recipe,)

    def __dask_tokenize__(self) -> tuple:
        from .cluster import ClusterSignIn

        return ("nbauth.SignIn", ClusterSignIn(self).recipe.fields())

    def __repr__(self) -> str:
        who = f" as {name_of(self._account)}" if self._account else ""
        return f"<nbauth.SignIn {self.status.value}{who} at {self.authority}>"


def login(client_id: str, authority: Optional[str] = None, scopes: Sequence[str] = (), *,
          oidc_authority: Optional[str] = None, ui: Optional[str] = None, cache: Any = None,
          username: Optional[str] = None, keep_fresh: bool = True, method: str = "auto",
          **app_options: Any) -> SignIn:
    """Sign in from a notebook cell or a script, without blocking; returns a ``SignIn`` handle.

    ``authority`` / ``oidc_authority`` are MSAL's (Entra ID, or any OpenID provider). ``cache``
    defaults to the per-user persisted cache, so a later kernel signs in silently. ``ui`` forces
    the presentation (``"widget"``, ``"terminal"``, ``"none"``; also env ``NBAUTH_UI``).
    ``username`` picks among cached accounts. ``keep_fresh`` (default) renews the token in the
    background while signed in; a short-lived process turns it off. ``method``: ``"browser"`` offers
    sign-in in a browser window from the widget (with a code as the alternative), ``"device"`` a
    code only, ``"auto"`` the browser where it can work (a widget, a provider with an authorization
    endpoint). Other keyword arguments go to ``PublicClientApplication``. Running the same notebook
    cell again cancels the sign-in it left pending.
    """
    from .apps.public import PublicClientApplication
    from .cache import PersistedTokenCache

    app = PublicClientApplication(client_id, authority=authority, oidc_authority=oidc_authority,
                                  token_cache=PersistedTokenCache() if cache is None else cache, **app_options)
    sign_in = SignIn(app, scopes, authority=app.authority.url, ui=ui, username=username,
                     keep_fresh=keep_fresh, method=method)
    earlier = started_in(running_cell(), sign_in)
    if earlier is not None and earlier.status is Status.WAITING:
        earlier.cancel()  # the cell ran again: its earlier sign-in is not wanted any more
    return sign_in.start()
