"""HTML for the sign-in (pure): the widget's parts and the text/html fallback of its display.

Every provider string goes through ``html.escape``; only https (or http on loopback) addresses
become links, anything else is shown as inert text.
"""
from __future__ import annotations

from html import escape
from typing import Optional

from .text import FlowState, Status, code_prefilled, safe_url, status_line, verification_link

_COLOURS = {
    Status.SIGNED_IN: "var(--jp-success-color1, #2e7d32)",
    Status.DENIED: "var(--jp-error-color1, #c62828)",
    Status.ERROR: "var(--jp-error-color1, #c62828)",
    Status.EXPIRED: "var(--jp-warn-color1, #b26a00)",
    Status.SIGN_IN_NEEDED: "var(--jp-warn-color1, #b26a00)",
}
_MARKS = {Status.SIGNED_IN: "\u2714 ", Status.DENIED: "\u2716 ", Status.ERROR: "\u2716 "}

CODE_STYLE = ("font-family: var(--jp-code-font-family, monospace); font-size: 1.6em; font-weight: 600; "
              "letter-spacing: 0.08em; user-select: all; -webkit-user-select: all; cursor: text; "
              "padding: 2px 8px; border-radius: 4px; background: var(--jp-layout-color2, #eee)")


def link(url: str) -> str:
    """An anchor opening ``url`` in a new tab, or the address as inert text when it is not safe."""
    safe = safe_url(url)
    if safe:
        return (f'<a class="nbauth-link" href="{escape(safe, quote=True)}" target="_blank" '
                f'rel="noopener noreferrer" style="color: var(--jp-content-link-color, #1a73e8); '
                f'text-decoration: underline">{escape(safe)}</a>')
    return f'<code class="nbauth-unsafe-link">{escape(url)}</code>'


def user_code(code: str) -> str:
    """The code, large and selectable with one click."""
    return f'<span class="nbauth-code" style="{CODE_STYLE}">{escape(code)}</span>'


def instruction(state: FlowState) -> str:
    """Where to sign in, and the sentence with the link (the code goes beside it, see ``user_code``)."""
    verb = "check" if code_prefilled(state) else "enter"
    return (f'{title(state)}<div class="nbauth-prompt" style="line-height: 1.6">'
            f'To sign in, open {link(verification_link(state))} and {verb} the code:</div>')


def status(state: FlowState, now: Optional[float] = None) -> str:
    """The status line, coloured by outcome."""
    colour = _COLOURS.get(state.status, "inherit")
    return (f'<span class="nbauth-status nbauth-status-{state.status.value}" style="color: {colour}">'
            f'{_MARKS.get(state.status, "")}{escape(status_line(state, now))}</span>')


def title(state: FlowState) -> str:
    where = f" to <code>{escape(state.authority)}</code>" if state.authority else ""
    return f'<b class="nbauth-title">Sign in{where}</b>'


def document(state: FlowState, now: Optional[float] = None) -> str:
    """The whole sign-in as one HTML fragment, for front ends that cannot show widgets."""
    waiting = state.status is Status.WAITING and not state.method  # a device code to show
    body = f'{instruction(state)}<div style="margin: 6px 0">{user_code(state.user_code)}</div>' if waiting else ""
    return f'<div class="nbauth-signin">{body}<div>{status(state, now)}</div></div>'
