"""The presenter interface: how a sign-in reaches a person, whatever the front end."""
from __future__ import annotations

import abc
import threading
from typing import Callable, Optional

from .text import FlowState

Action = Callable[[], None]


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

    def cancel(self) -> None:
        """Stop the pending sign-in (what a Cancel button or Ctrl-C does)."""
        self.cancel_event.set()
        if self.on_cancel is not None:
            self.on_cancel()

    @abc.abstractmethod
    def render(self, state: FlowState) -> None:
        """Bring the display in line with ``state`` (every state carries all it needs)."""
