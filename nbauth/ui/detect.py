"""Choosing how to reach a person: a notebook widget, the terminal, or nobody (cheap, no IPython import).

Order: the ``ui`` argument, then ``NBAUTH_UI``, then detection: ``CI`` set means nobody; a live
IPython kernel means the widget; a terminal on stderr means the terminal; otherwise nobody.
"""
from __future__ import annotations

import os
import sys
from typing import Any, Mapping, NamedTuple, Optional, TextIO

from ..exceptions import ConfigurationError
from .base import Action, Presenter

ENV_VAR = "NBAUTH_UI"
KINDS = ("widget", "terminal", "none")


class Choice(NamedTuple):
    kind: str  # one of KINDS
    reason: str


def choose(ui: Optional[str] = None, *, environ: Optional[Mapping[str, str]] = None,
           modules: Optional[Mapping[str, Any]] = None, stderr: Optional[TextIO] = None) -> Choice:
    """Which presentation to use, and why (the reason goes into the headless error)."""
    environ = os.environ if environ is None else environ
    if ui not in (None, "", "auto"):
        return Choice(_checked(ui, "ui"), f"ui={ui!r}")
    forced = environ.get(ENV_VAR, "").strip().lower()
    if forced not in ("", "auto"):
        return Choice(_checked(forced, ENV_VAR), f"{ENV_VAR}={forced}")
    if environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        return Choice("none", "CI is set")
    if in_kernel(sys.modules if modules is None else modules):
        return Choice("widget", "running in a notebook kernel")
    if isatty(sys.stderr if stderr is None else stderr):
        return Choice("terminal", "stderr is a terminal")
    return Choice("none", "no notebook kernel, and stderr is not a terminal")


def _checked(kind: str, name: str) -> str:
    kind = kind.strip().lower()
    if kind not in KINDS:
        raise ConfigurationError(f"{name} must be one of {', '.join(KINDS)} or auto, not {kind!r}")
    return kind


def in_kernel(modules: Mapping[str, Any]) -> bool:
    """True inside a live IPython kernel; looks only at modules already imported."""
    if "ipykernel" not in modules:
        return False
    ipython = modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    shell = get_ipython() if callable(get_ipython) else None
    return getattr(shell, "kernel", None) is not None


def isatty(stream: Any) -> bool:
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def make_presenter(ui: Optional[str] = None, *, on_cancel: Optional[Action] = None,
                   on_retry: Optional[Action] = None, on_sign_out: Optional[Action] = None,
                   browser: Any = None, **detect: Any) -> Presenter:
    """The presenter for this process (see ``choose``); imports only the one it needs. ``browser``
    (``ui.browser.BrowserActions``) offers browser sign-in in the widget."""
    choice = choose(ui, **detect)
    actions = {"on_cancel": on_cancel, "on_retry": on_retry, "on_sign_out": on_sign_out}
    if choice.kind == "widget":
        from .widget import WidgetPresenter

        return WidgetPresenter(browser=browser, **actions)
    if choice.kind == "terminal":
        from .terminal import TerminalPresenter

        return TerminalPresenter(**actions)
    from .headless import HeadlessPresenter

    return HeadlessPresenter(choice.reason, **actions)
