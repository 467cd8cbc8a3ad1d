"""The notebook presenter, built from core ipywidgets (the one ipywidgets importer).

While waiting it shows the provider as the title with a quiet spinner, an "Open sign-in page"
button (the link, new tab) and the code (large, selectable) with a Copy button and a countdown
(``frontend.CodeHelper``, running in the browser), a status line and Cancel. When the sign-in
ends, the link and code are removed from the widgets' state and from the display's text/plain and
text/html, so a saved notebook does not keep them; signed in, it is one line with a Sign out button
(which asks first: it also revokes); expired, cancelled, denied or failed, it offers Sign in again.

Clicks reach the kernel by two paths (``ui.relay``): the comm, and nbauth's server extension while
a cell waits. Without anywidget's front end, core widgets stand in (the style sheet in
``markup.STYLE``): the expiry as text the kernel refreshes, the code selectable, "Use a code
instead" for the browser's choices, and the buttons over the comm.
"""
from __future__ import annotations

import sys
import threading
from dataclasses import replace
from typing import Any, Dict, Optional

import ipywidgets as widgets

from . import markup
from .base import BrowserActions, Presenter
from .browser import BrowserHelper
from .frontend import CodeHelper
from .relay import Inbox, check_click, new_key, runtime_folder, unseal
from .text import FlowState, Status, message
from ..clock import system_clock

#: How often the pending sign-in's thread reads the relay, and refreshes the kernel's expiry text.
RELAY_POLL_SECONDS = 0.25
EXPIRY_TEXT_SECONDS = 15.0
TICKER_JOIN_SECONDS = 2.0
_BOX = {"padding": "6px 12px", "margin": "4px 0", "width": "fit-content", "max_width": "100%"}
_ROW = {"align_items": "center", "flex_flow": "row wrap", "max_width": "100%"}
#: The buttons, by the action their click asks for: (label, style, tooltip).
_BUTTONS = {
    "use_code": ("Use a code instead", "", "Sign in with a code on any device"),
    "cancel": ("Cancel", "", "Stop waiting for sign-in"),
    "retry": ("Sign in again", "primary", "Start a new sign-in"),
    "sign_out": ("Sign out", "", "Forget this account here and revoke its sign-in"),
    "confirm_sign_out": ("Sign out and revoke", "danger", "Forget this account and revoke its sign-in"),
    "keep": ("Keep signed in", "", "Do not sign out"),
}
_DEFAULT: Any = object()  # the runtime folder's relay
_colab: Dict[str, bool] = {}  # whether Colab's custom widget manager was enabled


class WidgetPresenter(Presenter):
    """Displays itself on the first ``show``; later states update the same widgets in place."""

    def __init__(self, *, browser: Optional[BrowserActions] = None, relay_folder: Any = _DEFAULT, **actions: Any):
        super().__init__(**actions)
        self.state = FlowState(status=Status.SIGN_IN_NEEDED)
        self._lock = threading.RLock()
        self._display: Any = None
        self._shown_in: Optional[str] = None  # the cell (request id) it was last displayed in
        self._published = ""  # the text/plain of the display as last sent
        self._confirming = False  # Sign out asked its question
        self._ticker: Optional[threading.Thread] = None  # reads the relay while a sign-in is pending
        self._wake = threading.Event()  # ends its wait early
        self._acting = False  # it is taking the relay's clicks
        self._browser_actions = browser
        self._key = b""  # seals the pending browser sign-in's answer for the relay
        self.inbox = Inbox(self._act, runtime_folder() if relay_folder is _DEFAULT else relay_folder)
        relay_id = self.inbox.id if self.inbox.open else ""
        self.header, self.prompt, self.code = widgets.HTML(), widgets.HTML(), widgets.HTML()
        self.expiry = widgets.HTML()
        self.helper = CodeHelper(relay_id=relay_id)
        self.helper.on_msg(lambda _widget, content, _buffers: self._from_comm(content))
        self.status = widgets.HTML(layout=widgets.Layout(margin="0 12px 0 0", flex="1 1 auto", min_width="0"))
        self.buttons = {name: self._button(name) for name in _BUTTONS}
        self.cancel_button, self.retry_button = self.buttons["cancel"], self.buttons["retry"]
        self.sign_out_button = self.buttons["sign_out"]
        self.buttons["use_code"].add_class("nbauth-fallback-only")  # the browser's own choices replace it
        self.code_row = widgets.HBox([self.code, self.helper, self.expiry], layout=widgets.Layout(**_ROW))
        status_row = widgets.HBox([self.status, *self.buttons.values()], layout=widgets.Layout(**_ROW))
        self.browser = None if browser is None else BrowserHelper(self._from_comm, relay_id=relay_id)
        pending = [part for part in (self.browser, self.prompt, self.code_row) if part is not None]
        for part in pending:
            part.add_class("nbauth-pending")  # hidden once the kernel restarted (markup.STYLE)
        parts = [widgets.HTML(markup.STYLE), self.header, *pending, status_row]
        self.view = widgets.VBox(parts, layout=widgets.Layout(**_BOX))
        self.view.add_class("nbauth-signin")

    def _button(self, action: str) -> widgets.Button:
        label, style, tooltip = _BUTTONS[action]
        button = widgets.Button(description=label, button_style=style, tooltip=tooltip,
                                layout=widgets.Layout(width="auto", display="none"))
        button.add_class(f"nbauth-act-{action}")  # CodeHelper takes its clicks, with an id, both ways
        button.on_click(lambda _: self.inbox.take({"action": action}))  # a core click: the comm alone
        return button

    # ---- drawing ------------------------------------------------------------------------------
    def render(self, state: FlowState) -> None:
        with self._lock:
            self.state, self._confirming = state, False
            self._draw()
            self._publish()
            ticker = self._follow(state.status is Status.WAITING)
        if ticker is not None and ticker is not threading.current_thread():
            ticker.join(TICKER_JOIN_SECONDS)  # it ends at once: it was waiting, not acting on a click

    def _follow(self, waiting: bool) -> Optional[threading.Thread]:
        """Start the pending sign-in's thread, or wake it to end; the thread to join, if any."""
        if waiting and self._ticker is None:
            self._wake.clear()
            self._ticker = threading.Thread(target=self._tick, name="nbauth-widget", daemon=True)
            self._ticker.start()
        elif not waiting and self._ticker is not None:
            self._wake.set()
            return None if self._acting else self._ticker
        return None

    def _draw(self) -> None:
        state = self.state
        waiting = state.status is Status.WAITING
        code = waiting and not state.method  # a device code to show
        if self.browser is not None:
            self.browser.phase = state.method if waiting and state.method in ("choose", "browser") else ""
        self.header.value = markup.header(state)
        _show(self.header, state.status is not Status.SIGNED_IN)  # signed in, the widget is one line
        self.prompt.value = markup.action(state) if code else ""
        self.code.value = markup.user_code(state.user_code) if code else ""
        self.helper.code = state.user_code if code else ""
        self.helper.expires_at = state.expires_at if code else 0.0
        self._draw_expiry()
        self.status.value = markup.confirm_sign_out(state) if self._confirming else \
            markup.status(replace(state, expires_at=0.0))  # the countdown says when it expires
        shown = {
            "use_code": waiting and state.method == "choose" and self._browser_actions is not None,
            "cancel": waiting and state.method != "choose",
            "retry": state.status.can_retry and self.on_retry is not None,
            "sign_out": state.status is Status.SIGNED_IN and self.on_sign_out is not None and not self._confirming,
            "confirm_sign_out": self._confirming, "keep": self._confirming,
        }
        for name, button in self.buttons.items():
            _show(button, shown[name])
        _show(self.prompt, code)
        _show(self.code_row, code)
        (self.view.add_class if waiting else self.view.remove_class)("nbauth-waiting")

    def _draw_expiry(self) -> None:
        """The kernel's expiry text, for front ends where the countdown cannot run."""
        state = self.state
        shown = state.status is Status.WAITING and not state.method and state.expires_at
        self.expiry.value = (f'<span class="nbauth-expiry">{markup.expiry_note(state.expires_at, system_clock())}'
                             '</span>') if shown else ""

    def _publish(self) -> None:
        """Display on first use; afterwards refresh the display's text fallbacks in place when a code
        comes or goes or the sign-in ends. Not between the browser's phases: a front end renders an
        updated display anew, and the new view would not know the sign-in window the old one opened."""
        from IPython.display import display

        text = message(self.state)
        if self._display is None:
            self._shown_in = _current_cell()
            self._display = display(self, display_id=True) or False
        elif self._display and text != self._published and not (
                self.state.status is Status.WAITING and self.state.method in ("choose", "browser")):
            self._display.update(self)
        self._published = text

    def reveal(self) -> None:
        """Display the widget again in the cell running now, when it was shown in another (the
        display keeps one id, so both outputs follow it)."""
        from IPython.display import display

        with self._lock:
            here = _current_cell()
            if not self._display or here == self._shown_in:
                return  # never shown (the next show displays it here), or already here
            self._shown_in = here
            display(self, display_id=self._display.display_id)

    def clicks_reach_busy_kernel(self, timeout: float = 5.0) -> bool:
        return self.inbox.open and self.inbox.heard.wait(timeout)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """The widget view, with the same sign-in as text/plain and text/html where widgets cannot
        show (and, on Colab, the metadata that has its custom widget manager render it)."""
        bundle = dict(self.view._repr_mimebundle_(**kwargs) or {})
        bundle["text/plain"] = message(self.state)
        bundle["text/html"] = markup.document(self.state)
        metadata = _colab_metadata()
        return (bundle, metadata) if metadata else bundle

    # ---- the person's clicks -------------------------------------------------------------------
    def _tick(self) -> None:
        """While the sign-in is pending: read the relay's clicks, and now and then the expiry text."""
        since = system_clock()
        while True:
            with self._lock:
                if self.state.status is not Status.WAITING:
                    self._ticker = None
                    return
                if system_clock() - since >= EXPIRY_TEXT_SECONDS:
                    self._draw_expiry()
                    since = system_clock()
                self._acting = True
            try:
                self.inbox.poll()  # outside the lock: a click may change the state
            finally:
                self._acting = False
            self._wake.wait(RELAY_POLL_SECONDS)

    def _from_comm(self, content: Any) -> None:
        """A front-end piece's message: a click (with the browser's answer, when it is one)."""
        try:
            click = dict(check_click(content.get("click") if isinstance(content, dict) else None))
        except ValueError:
            return
        params = content.get("params")
        if click["action"] == "redirect" and isinstance(params, dict):
            click["params"] = params
        self.inbox.take(click)

    def _act(self, click: Dict[str, Any]) -> None:
        """Do what a click asks, once (``Inbox.take`` drops the second copy), if it still applies."""
        action, status = click["action"], self.state.status
        if action == "cancel" and status is Status.WAITING:
            self.cancel()
        elif action == "retry" and status.can_retry and self.on_retry is not None:
            self.on_retry()
        elif action in ("sign_out", "keep") and status is Status.SIGNED_IN:
            self._ask(action == "sign_out")
        elif action == "confirm_sign_out" and self._confirming and self.on_sign_out is not None:
            self._confirming = False
            self.on_sign_out()
        elif self._browser_actions is not None:
            self._browser_act(click)

    def _ask(self, asking: bool) -> None:
        with self._lock:
            self._confirming = asking
            self._draw()

    def _browser_act(self, click: Dict[str, Any]) -> None:
        actions, action = self._browser_actions, click["action"]
        if action == "start":
            auth_uri = actions.start(click.get("redirect_uri"))
            self._key = new_key() if auth_uri else b""
            self.browser.answer(click["id"], auth_uri, self._key)
        elif action == "redirect":
            params = click.get("params")
            if params is None and self._key and isinstance(click.get("sealed"), str):
                try:
                    params = unseal(self._key, click["sealed"], self.inbox.id)
                except ValueError:
                    return
            if isinstance(params, dict):
                actions.redirect(params)
        elif action == "closed":
            actions.closed(click.get("cut_off") is True)
        elif action == "use_code":
            actions.use_code()


def _show(widget: widgets.DOMWidget, visible: bool) -> None:
    widget.layout.display = None if visible else "none"


def _current_cell() -> Optional[str]:
    """The id of the request (cell) the kernel is running now, if any."""
    from IPython import get_ipython

    header = getattr(get_ipython(), "parent_header", None) or {}
    return header.get("msg_id") if isinstance(header, dict) else None


def _colab_metadata() -> dict:
    """On Colab, the display metadata for its custom widget manager (enabled once), which renders
    anywidget views; elsewhere nothing."""
    output = sys.modules.get("google.colab.output")
    if output is None:
        return {}
    if not _colab.get("enabled"):
        output.enable_custom_widget_manager()
        _colab["enabled"] = True
    url = getattr(getattr(output, "_widgets", None), "_installed_url", None)
    return {"application/vnd.jupyter.widget-view+json": {"colab": {"custom_widget_manager": {"url": url}}}} \
        if url else {}
