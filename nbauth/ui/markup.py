"""HTML for the sign-in (pure): the widget's parts, its style sheet, and the text/html fallback.

Every provider string goes through ``html.escape``; only https (or http on loopback) addresses
become links, anything else is shown as inert text. Colours read on light and dark themes alike:
JupyterLab's variables where they are defined, else mid tones and translucent greys on the
inherited text colour (never a light background under text that may be light).
"""
from __future__ import annotations

from html import escape
from typing import Optional

from .text import FlowState, Status, code_prefilled, provider_name, safe_url, status_line, verification_link

SUCCESS = "var(--jp-success-color1, #3b9b40)"
ERROR = "var(--jp-error-color1, #e0483e)"
WARN = "var(--jp-warn-color1, #c98500)"
LINK = "var(--jp-content-link-color, #3b82f6)"
GREY = "rgba(127, 127, 127, 0.35)"  # a border or a tint that shows on any background
_COLOURS = {Status.SIGNED_IN: SUCCESS, Status.DENIED: ERROR, Status.ERROR: ERROR, Status.EXPIRED: WARN,
            Status.SIGN_IN_NEEDED: WARN}
_MARKS = {Status.SIGNED_IN: "\u2714 ", Status.DENIED: "\u2716 ", Status.ERROR: "\u2716 "}
CODE_STYLE = ("font-family: var(--jp-code-font-family, monospace); font-size: 1.6em; font-weight: 600; "
              "letter-spacing: 0.08em; user-select: all; -webkit-user-select: all; cursor: text; color: inherit; "
              f"padding: 2px 8px; border-radius: 4px; background: rgba(127, 127, 127, 0.14); border: 1px solid {GREY}")

#: The widget's style sheet (a core HTML widget carries it, so it applies without any widget
#: JavaScript): text wraps; the error box of a front-end piece that could not load is hidden, and
#: the kernel's expiry text and "Use a code instead" button stand in for it; a quiet spinner while
#: waiting; after a kernel restart a waiting sign-in says it ended instead of counting down.
STYLE = f"""<style>
.nbauth-signin {{ border: 1px solid var(--jp-border-color2, {GREY}); border-radius: 6px; color: inherit; }}
.nbauth-signin .widget-html-content {{ white-space: normal; overflow-wrap: anywhere; line-height: 1.5; }}
.nbauth-signin .jupyter-widgets-error-widget {{ display: none !important; }}
.nbauth-signin:has(.nbauth-helper) .nbauth-expiry,
.nbauth-signin:has(.nbauth-browser) .nbauth-fallback-only {{ display: none !important; }}
.nbauth-signin .nbauth-header {{ display: flex; align-items: center; gap: 8px; font-size: 1.1em; }}
.nbauth-signin .nbauth-spinner {{ width: 10px; height: 10px; border-radius: 50%; flex: none;
  border: 2px solid {GREY}; border-top-color: var(--jp-brand-color1, #1976d2);
  animation: nbauth-spin 1.2s linear infinite; }}
@keyframes nbauth-spin {{ to {{ transform: rotate(360deg); }} }}
@media (prefers-reduced-motion: reduce) {{ .nbauth-signin .nbauth-spinner {{ animation: none; }} }}
.nbauth-signin a.nbauth-primary {{ display: inline-block; padding: 4px 14px; border-radius: 4px;
  background: var(--jp-brand-color1, #1976d2); color: #fff !important; text-decoration: none !important;
  font-weight: 600; margin-right: 8px; }}
.nbauth-signin .jupyter-button {{ color: var(--jp-ui-font-color1, inherit);
  background-color: var(--jp-layout-color2, rgba(127, 127, 127, 0.2)); }}
.nbauth-signin .jupyter-button.mod-primary {{ color: #fff; background-color: var(--jp-brand-color1, #1976d2); }}
.nbauth-signin .jupyter-button.mod-danger {{ color: #fff; background-color: var(--jp-error-color1, #d32f2f); }}
.nbauth-signin .nbauth-muted {{ opacity: 0.75; font-size: 0.92em; }}
.nbauth-signin .nbauth-expiry {{ margin-left: 12px; opacity: 0.8; }}
.nbauth-signin.jupyter-widgets-disconnected .jupyter-button,
.nbauth-signin.jupyter-widgets-disconnected .nbauth-spinner,
.nbauth-signin.jupyter-widgets-disconnected.nbauth-waiting .nbauth-pending,
.nbauth-signin.jupyter-widgets-disconnected.nbauth-waiting .nbauth-status,
.nbauth-signin.jupyter-widgets-disconnected::before,
.nbauth-signin .jupyter-widgets-disconnected::before {{ display: none !important; }}
.nbauth-signin.jupyter-widgets-disconnected.nbauth-waiting::after {{ padding: 4px 0; color: {WARN};
  content: "This sign-in stopped: the kernel restarted. Run the cell again to sign in."; }}
</style>"""


def link(url: str) -> str:
    """An anchor opening ``url`` in a new tab, or the address as inert text when it is not safe."""
    safe = safe_url(url)
    if safe:
        return (f'<a class="nbauth-link" href="{escape(safe, quote=True)}" target="_blank" '
                f'rel="noopener noreferrer" style="color: {LINK}; text-decoration: underline">{escape(safe)}</a>')
    return f'<code class="nbauth-unsafe-link">{escape(url)}</code>'


def user_code(code: str) -> str:
    """The code, large and selectable with one click."""
    return f'<span class="nbauth-code" style="{CODE_STYLE}">{escape(code)}</span>'


def instruction(state: FlowState) -> str:
    """Where to sign in, and the sentence with the link (the code goes beside it, see ``user_code``)."""
    verb = "check" if code_prefilled(state) else "enter"
    return (f'{title(state)}<div class="nbauth-prompt" style="line-height: 1.6">'
            f'To sign in, open {link(verification_link(state))} and {verb} the code:</div>')


def action(state: FlowState) -> str:
    """The widget's call to action: an "Open sign-in page" button (the link) and what to do there,
    with the address itself for another device; the address as inert text when it is not safe."""
    address = verification_link(state)
    verb = "check" if code_prefilled(state) else "enter"
    safe = safe_url(address)
    if not safe:
        return f'<div class="nbauth-prompt">To sign in, go to {link(address)} and {verb} this code:</div>'
    button = (f'<a class="nbauth-link nbauth-primary" href="{escape(safe, quote=True)}" target="_blank" '
              f'rel="noopener noreferrer">Open sign-in page</a>')
    plain = state.verification_uri if safe_url(state.verification_uri) else safe
    return (f'<div class="nbauth-prompt">{button}and {verb} this code:</div>'
            f'<div class="nbauth-muted">On another device, go to <span class="nbauth-address">'
            f'{escape(plain)}</span></div>')


def expiry_note(expires_at: float, now: float) -> str:
    """When the code expires, in words fit for a display the kernel refreshes now and then."""
    left = expires_at - now
    if left <= 0:
        return "Code expired"
    minutes = round(left / 60)
    return "Code expires in under a minute" if minutes < 1 else \
        f"Code expires in about {minutes} minute{'s' if minutes != 1 else ''}"


def status(state: FlowState, now: Optional[float] = None) -> str:
    """The status line, coloured by outcome."""
    colour = WARN if state.retrying else _COLOURS.get(state.status, "inherit")
    return (f'<span class="nbauth-status nbauth-status-{state.status.value}" style="color: {colour}">'
            f'{_MARKS.get(state.status, "")}{escape(status_line(state, now))}</span>')


def confirm_sign_out(state: FlowState) -> str:
    """The question Sign out asks first (it also revokes the sign-in at the provider)."""
    where = provider_name(state.authority) if state.authority else "the provider"
    return (f'<span class="nbauth-status nbauth-confirm" style="color: {WARN}">Sign out? This also revokes '
            f'the sign-in at {escape(where)}, so every kernel using it must sign in again.</span>')


def title(state: FlowState) -> str:
    where = f" to {escape(provider_name(state.authority))}" if state.authority else ""
    return f'<b class="nbauth-title">Sign in{where}</b>'


def header(state: FlowState) -> str:
    """The widget's title line, with a quiet spinner while the sign-in is under way."""
    busy = '<span class="nbauth-spinner nbauth-pending" role="status" aria-label="waiting"></span>' \
        if state.status is Status.WAITING else ""
    return f'<div class="nbauth-header">{busy}{title(state)}</div>'


def document(state: FlowState, now: Optional[float] = None) -> str:
    """The whole sign-in as one HTML fragment, for front ends that cannot show widgets."""
    waiting = state.status is Status.WAITING and not state.method  # a device code to show
    body = f'{instruction(state)}<div style="margin: 6px 0">{user_code(state.user_code)}</div>' if waiting else ""
    return f'<div class="nbauth-signin">{body}<div>{status(state, now)}</div></div>'
