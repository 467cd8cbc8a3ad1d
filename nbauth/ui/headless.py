"""The presenter for when no person can be reached: it fails before any request is sent."""
from __future__ import annotations

from ..exceptions import InteractionUnavailable
from .base import Presenter
from .text import FlowState

OPTIONS = (
    "a token already in the per-user cache (sign in once where a person can, e.g. in a notebook or "
    "a terminal, and later runs are silent)",
    "a confidential client (ConfidentialClientApplication.acquire_token_for_client with a client "
    "secret or certificate)",
    "acquire_token_by_refresh_token or acquire_token_by_username_password where the provider allows it",
    "NBAUTH_UI=widget or NBAUTH_UI=terminal (or ui=...) to force a presentation if a person is there",
)


def unavailable_message(reason: str) -> str:
    options = "".join(f"\n  - {option}" for option in OPTIONS)
    return f"sign-in needs a person, and none can be reached here ({reason}). Non-interactive options:{options}"


class HeadlessPresenter(Presenter):
    """No notebook, no terminal, or CI: interactive sign-in fails at once, naming the alternatives."""

    def __init__(self, reason: str = "no notebook kernel and no terminal", **actions):
        super().__init__(**actions)
        self.reason = reason

    def ready(self) -> None:
        raise InteractionUnavailable(unavailable_message(self.reason))

    def render(self, state: FlowState) -> None:
        self.ready()
