"""The presenter interface: how a sign-in reaches a person, whatever the front end."""
from __future__ import annotations

import abc
import threading
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional

from .text import FlowState

Action = Callable[[], None]


@dataclass(frozen=True)
class BrowserActions:
    """What the widget's browser sign-in asks of the kernel (``nbauth.notebook.SignIn``'s methods).

    ``start`` gets the page's redirect URI and returns the ``auth_uri`` to open (None: refused, the
    status says why); ``redirect`` gets the redirect's parameters; ``closed`` says the window closed
    without an answer (``cut_off``: by the provider's COOP, with no callback page to answer).
    """

    start: Callable[[Any], Optional[str]]
    redirect: Callable[[Mapping[str, Any]], None]
    closed: Callable[[bool], None]
    use_code: Callable[[], None]


class Presenter(abc.ABC):
    """Shows one sign-in at a time and tells the flow when the person cancels.

    The flow calls ``ready`` before asking the provider for a code, ``show`` with each new code,
    ``update`` when the status changes while waiting, and ``finish`` with the final state. The
    person's requests come back through ``cancel_event`` (set on cancel, and ``on_cancel`` is
    called so the flow can stop polling at once) and the ``on_retry`` / ``on_sign_out`` actions,
    which presenters with buttons call.
    """

    def __init__(self, *, on_cancel: Optional[Action] = None, on_retry: Optional[Action] = None,
                 on_sign_out: Optional[Action] = None):
        self.cancel_event = threading.Event()
        self.on_cancel = on_cancel
        self.on_retry = on_retry
        self.on_sign_out = on_sign_out

    def ready(self) -> None:
        """Raise ``InteractionUnavailable`` if no person can be reached (before any request)."""

    def show(self, state: FlowState) -> None:
        """Show a new link and code; a new code also clears an earlier cancellation."""
        self.cancel_event.clear()
        self.render(state)

    def update(self, state: FlowState) -> None:
        """The status changed while the code is still pending."""
        self.render(state)

    def finish(self, state: FlowState) -> None:
        """The sign-in ended (signed in, denied, expired, cancelled, failed or signed out)."""
        self.render(state)

    def reveal(self) -> None:
        """Show this sign-in again in the output of the cell running now (a notebook presenter),
        so a sign-in a later cell needs appears where the person is; elsewhere nothing to do."""

    def clicks_reach_busy_kernel(self, timeout: float = 5.0) -> bool:
        """Whether the person's clicks reach the kernel while a cell waits (the widget, through
        nbauth's click relay), waiting up to ``timeout`` seconds for its front end to say so."""
        return False

    def cancel(self) -> None:
        """Stop the pending sign-in (what a Cancel button or Ctrl-C does)."""
        self.cancel_event.set()
        if self.on_cancel is not None:
            self.on_cancel()

    @abc.abstractmethod
    def render(self, state: FlowState) -> None:
        """Bring the display in line with ``state`` (every state carries all it needs)."""
