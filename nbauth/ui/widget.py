"""The notebook presenter, built from core ipywidgets (the one ipywidgets importer).

While waiting it shows the link (new tab), the code (large, selectable), a Copy button and a
countdown (``frontend.CodeHelper``, running in the browser), a status line and Cancel. When the
sign-in ends, the link and code are removed from the widgets' state and from the display's
text/plain and text/html, so a saved notebook does not keep them; signed in, it is one line with a
Sign out button; expired, cancelled, denied or failed, it offers Sign in again.
"""
from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any, Optional

import ipywidgets as widgets

from . import markup
from .base import Presenter
from .browser import BrowserActions, BrowserHelper
from .frontend import CodeHelper
from .text import FlowState, Status, message

_BOX = {"border": "1px solid var(--jp-border-color2, #ddd)", "padding": "6px 12px", "margin": "4px 0",
        "width": "fit-content", "max_width": "100%"}


class WidgetPresenter(Presenter):
    """Displays itself on the first ``show``; later states update the same widgets in place."""

    def __init__(self, *, browser: Optional[BrowserActions] = None, **actions: Any):
        super().__init__(**actions)
        self.state = FlowState(status=Status.SIGN_IN_NEEDED)
        self._lock = threading.Lock()
        self._display: Any = None
        self.prompt = widgets.HTML()
        self.code = widgets.HTML()
        self.helper = CodeHelper()
        self.status = widgets.HTML(layout=widgets.Layout(margin="0 12px 0 0", width="auto", flex="0 0 auto"))
        self.cancel_button = widgets.Button(description="Cancel", icon="times", tooltip="Stop waiting for sign-in")
        self.retry_button = widgets.Button(description="Sign in again", button_style="primary")
        self.sign_out_button = widgets.Button(description="Sign out", tooltip="Forget this account here")
        self.cancel_button.on_click(lambda _: self.cancel())
        if self.on_retry is not None:
            self.retry_button.on_click(lambda _: self.on_retry())
        if self.on_sign_out is not None:
            self.sign_out_button.on_click(lambda _: self.on_sign_out())
        buttons = [self.cancel_button, self.retry_button, self.sign_out_button]
        self.code_row = widgets.HBox([self.code, self.helper], layout=widgets.Layout(align_items="center"))
        status_row = widgets.HBox([self.status, *buttons], layout=widgets.Layout(align_items="center"))
        parts = [self.prompt, self.code_row, status_row]
        self.browser = BrowserHelper(browser) if browser is not None else None
        if self.browser is not None:
            parts.insert(0, self.browser)
        self.view = widgets.VBox(parts, layout=widgets.Layout(**_BOX))
        self.view.add_class("nbauth-signin")

    def render(self, state: FlowState) -> None:
        with self._lock:
            self.state = state
            waiting = state.status is Status.WAITING and not state.method  # a device code to show
            if self.browser is not None:
                self.browser.phase = state.method if state.status is Status.WAITING else ""
            self.prompt.value = markup.instruction(state) if waiting else ""
            self.code.value = markup.user_code(state.user_code) if waiting else ""
            self.helper.code = state.user_code if waiting else ""
            self.helper.expires_at = state.expires_at if waiting else 0.0
            self.status.value = markup.status(replace(state, expires_at=0.0))  # the helper counts down
            _show(self.prompt, waiting)
            _show(self.code_row, waiting)
            _show(self.cancel_button, waiting or state.method == "browser")
            _show(self.retry_button, state.status.can_retry and self.on_retry is not None)
            _show(self.sign_out_button, state.status is Status.SIGNED_IN and self.on_sign_out is not None)
            self._publish()

    def reveal(self) -> None:
        """A new display of the same widget in the cell running now (its views stay in step)."""
        from IPython.display import display

        with self._lock:
            self._display = display(self, display_id=True) or False

    def _publish(self) -> None:
        """Display on first use; afterwards refresh the display's text fallbacks in place."""
        from IPython.display import display

        if self._display is None:
            self._display = display(self, display_id=True) or False
        elif self._display:
            self._display.update(self)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        """The widget view, with the same sign-in as text/plain and text/html where widgets cannot show."""
        bundle = dict(self.view._repr_mimebundle_(**kwargs) or {})
        bundle["text/plain"] = message(self.state)
        bundle["text/html"] = markup.document(self.state)
        return bundle


def _show(widget: widgets.DOMWidget, visible: bool) -> None:
    widget.layout.display = None if visible else "none"
