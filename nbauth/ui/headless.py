"""The presenter for when no person can be reached: it fails before any request is sent.

In a notebook run in batch (``detect.batch_run``) the outcomes it can still report, a saved sign-in
used or a sign-out, are a plain display (text/plain and text/html, no widget), so an HTML export of the
executed notebook shows them; elsewhere (a script with nobody there) they are not shown.
"""
from __future__ import annotations

from typing import Any

from ..exceptions import InteractionUnavailable
from . import markup
from .base import Presenter
from .text import FlowState, Status, status_line

OPTIONS = (
    "a token already in the per-user cache (sign in once where a person can, e.g. in a notebook or "
    "a terminal, and later runs are silent)",
    "a confidential client (ConfidentialClientApplication.acquire_token_for_client with a client "
    "secret or certificate)",
    "acquire_token_by_refresh_token or acquire_token_by_username_password where the provider allows it",
    "NBAUTH_UI=widget or NBAUTH_UI=terminal (or ui=...) to force a presentation if a person is there",
)


def unavailable_message(reason: str) -> str:
    """One line: why nobody can be asked, and the non-interactive options."""
    return (f"sign-in needs a person, and none can be reached here ({reason}). "
            f"Non-interactive options: {'; '.join(OPTIONS)}.")


class HeadlessPresenter(Presenter):
    """No person to ask (no notebook front end, no terminal, CI or a batch run): interactive sign-in
    fails at once, naming the alternatives. Ended states are shown in ``shell``'s output (the IPython
    kernel's shell, when there is one) as a plain display, so no widget state is needed to see them."""

    def __init__(self, reason: str = "no notebook kernel and no terminal", *, shell: Any = None, **actions: Any):
        super().__init__(**actions)
        self.reason = reason
        self.shell = shell

    def ready(self) -> None:
        raise InteractionUnavailable(unavailable_message(self.reason))

    def render(self, state: FlowState) -> None:
        if state.status is Status.WAITING:
            self.ready()
        if self.shell is not None:  # the kernel's display publisher, which IPython.display uses
            self.shell.display_pub.publish({"text/plain": status_line(state), "text/html": markup.document(state)},
                                           metadata={})
