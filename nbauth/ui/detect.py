"""Choosing how to reach a person: a notebook widget, the terminal, or nobody (cheap, no IPython import).

Order: the ``ui`` argument, then ``NBAUTH_UI``, then detection: ``CI`` set means nobody; in a live
IPython kernel, a batch run (the cell was sent by a front end that allows no input: nbconvert
``--execute``, papermill, nbclient) means nobody, except under Voila, whose page has a person; any
other kernel means the widget; a terminal on stderr means the terminal; otherwise nobody.
"""
from __future__ import annotations

import os
import sys
from typing import Any, Mapping, NamedTuple, Optional, TextIO

from ..exceptions import ConfigurationError
from .base import Action, Presenter

ENV_VAR = "NBAUTH_UI"
KINDS = ("widget", "terminal", "none")
#: Set in a kernel that Voila started: it executes like nbclient (no input allowed), yet serves a page
#: with a person and a widget manager.
VOILA_VARS = ("VOILA_KERNEL_ID", "VOILA_BASE_URL", "VOILA_SERVER_URL", "VOILA_PREHEAT")
BATCH = "a batch run: nbconvert --execute, papermill or nbclient runs the notebook with no one at a front end"


class Choice(NamedTuple):
    kind: str  # one of KINDS
    reason: str


def choose(ui: Optional[str] = None, *, environ: Optional[Mapping[str, str]] = None,
           modules: Optional[Mapping[str, Any]] = None, stderr: Optional[TextIO] = None) -> Choice:
    """Which presentation to use, and why (the reason goes into the headless error)."""
    environ = os.environ if environ is None else environ
    modules = sys.modules if modules is None else modules
    if ui not in (None, "", "auto"):
        return Choice(_checked(ui, "ui"), f"ui={ui!r}")
    forced = environ.get(ENV_VAR, "").strip().lower()
    if forced not in ("", "auto"):
        return Choice(_checked(forced, ENV_VAR), f"{ENV_VAR}={forced}")
    if environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        return Choice("none", "CI is set")
    if in_kernel(modules):
        if not batch_run(modules):
            return Choice("widget", "running in a notebook kernel")
        if any(environ.get(name) for name in VOILA_VARS):
            return Choice("widget", "running under Voila")
        return Choice("none", BATCH)
    if isatty(sys.stderr if stderr is None else stderr):
        return Choice("terminal", "stderr is a terminal")
    return Choice("none", "no notebook kernel, and stderr is not a terminal")


def _checked(kind: str, name: str) -> str:
    kind = kind.strip().lower()
    if kind not in KINDS:
        raise ConfigurationError(f"{name} must be one of {', '.join(KINDS)} or auto, not {kind!r}")
    return kind


def running_shell(modules: Mapping[str, Any]) -> Any:
    """The running IPython shell if IPython is already imported (never imports it), else None."""
    get_ipython = getattr(modules.get("IPython"), "get_ipython", None)
    return get_ipython() if callable(get_ipython) else None


def in_kernel(modules: Mapping[str, Any]) -> bool:
    """True inside a live IPython kernel; looks only at modules already imported."""
    return "ipykernel" in modules and getattr(running_shell(modules), "kernel", None) is not None


def batch_run(modules: Mapping[str, Any]) -> bool:
    """The kernel's latest execute request allows no input (``allow_stdin`` false), as nbclient, and so
    nbconvert and papermill, send it; a front end with a person (JupyterLab, Notebook, console, VS Code)
    allows it. Read through ipykernel's public ``get_parent`` (6.0+), which threads see too; a widget
    message (no ``allow_stdin``) or an older ipykernel counts as interactive."""
    get_parent = getattr(getattr(running_shell(modules), "kernel", None), "get_parent", None)
    parent = get_parent("shell") if callable(get_parent) else None
    if not isinstance(parent, Mapping) or (parent.get("header") or {}).get("msg_type") != "execute_request":
        return False
    return (parent.get("content") or {}).get("allow_stdin") is False


def in_repl(modules: Mapping[str, Any]) -> bool:
    """An interactive prompt shares the terminal: IPython's terminal shell (a shell without a kernel),
    the ``python`` REPL (``sys.ps1`` is set) or ``python -i``."""
    shell = running_shell(modules)
    if shell is not None and getattr(shell, "kernel", None) is None:
        return True
    system = modules.get("sys")
    return hasattr(system, "ps1") or bool(getattr(getattr(system, "flags", None), "interactive", 0))


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
    modules = detect.get("modules")
    modules = sys.modules if modules is None else modules
    actions = {"on_cancel": on_cancel, "on_retry": on_retry, "on_sign_out": on_sign_out}
    if choice.kind == "widget":
        from .widget import WidgetPresenter

        return WidgetPresenter(browser=browser, **actions)
    if choice.kind == "terminal":
        from .terminal import TerminalPresenter

        return TerminalPresenter(repl=in_repl(modules), **actions)
    from .headless import HeadlessPresenter

    return HeadlessPresenter(choice.reason, shell=running_shell(modules) if in_kernel(modules) else None, **actions)
