"""Choosing the presentation: argument, NBAUTH_UI, CI, a live kernel, a terminal, or nobody."""
import io
import os
import subprocess
import sys
import time
import types

import pytest

from nbauth.exceptions import ConfigurationError, InteractionUnavailable
from nbauth.ui.detect import BATCH, batch_run, choose, in_kernel, in_repl, make_presenter
from nbauth.ui.headless import HeadlessPresenter
from nbauth.ui.terminal import TerminalPresenter


class Tty(io.StringIO):
    def isatty(self):
        return True


def kernel_modules(kernel=object()):
    shell = types.SimpleNamespace(kernel=kernel)
    return {"ipykernel": types.ModuleType("ipykernel"),
            "IPython": types.SimpleNamespace(get_ipython=lambda: shell)}


class Kernel:
    """ipykernel's public ``get_parent``: the message the kernel is answering."""

    def __init__(self, parent):
        self.parent = parent

    def get_parent(self, channel="shell"):
        return self.parent


def execute_request(allow_stdin):
    return {"header": {"msg_type": "execute_request"}, "content": {"code": "", "allow_stdin": allow_stdin}}


BATCH_KERNEL = kernel_modules(Kernel(execute_request(False)))


@pytest.mark.parametrize("ui, environ, modules, stderr, kind", [
    ("terminal", {"CI": "true"}, {}, io.StringIO(), "terminal"),
    (None, {"NBAUTH_UI": "Widget", "CI": "1"}, {}, io.StringIO(), "widget"),
    ("auto", {"NBAUTH_UI": "none"}, kernel_modules(), Tty(), "none"),
    (None, {"CI": "true"}, kernel_modules(), Tty(), "none"),
    (None, {"CI": "false"}, kernel_modules(), Tty(), "widget"),
    (None, {}, kernel_modules(kernel=None), Tty(), "terminal"),
    (None, {}, {"ipykernel": object()}, io.StringIO(), "none"),
    (None, {"NBAUTH_UI": "auto"}, {}, Tty(), "terminal"),
    (None, {}, {}, io.StringIO(), "none"),
    (None, {}, {}, None, "none"),
])
def test_choose(ui, environ, modules, stderr, kind):
    assert choose(ui, environ=environ, modules=modules, stderr=stderr).kind == kind


@pytest.mark.parametrize("ui, environ, parent, kind", [
    (None, {}, execute_request(False), "none"),  # nbconvert --execute, papermill, nbclient
    (None, {}, execute_request(True), "widget"),  # JupyterLab, Notebook, console, VS Code
    (None, {}, {"header": {"msg_type": "comm_msg"}, "content": {"data": {}}}, "widget"),  # a widget's click
    (None, {}, {}, "widget"),  # nothing executed yet
    (None, {}, None, "widget"),
    (None, {"VOILA_KERNEL_ID": "k1"}, execute_request(False), "widget"),  # a person at Voila's page
    (None, {"NBAUTH_UI": "widget"}, execute_request(False), "widget"),
    ("widget", {}, execute_request(False), "widget"),
    (None, {"CI": "1"}, execute_request(True), "none"),
])
def test_a_batch_run_is_nobody_to_ask(ui, environ, parent, kind):
    assert choose(ui, environ=environ, modules=kernel_modules(Kernel(parent)), stderr=Tty()).kind == kind


def test_batch_reason_and_older_kernels():
    assert choose(environ={}, modules=BATCH_KERNEL).reason == BATCH
    assert choose(environ={"VOILA_BASE_URL": "/"}, modules=BATCH_KERNEL).reason == "running under Voila"
    assert not batch_run(kernel_modules(object()))  # ipykernel before 6: no get_parent, assume a person


@pytest.mark.parametrize("modules, expected", [
    ({"IPython": types.SimpleNamespace(get_ipython=lambda: types.SimpleNamespace(kernel=None))}, True),  # ipython
    ({"sys": types.SimpleNamespace(ps1=">>> ", flags=types.SimpleNamespace(interactive=0))}, True),  # python
    ({"sys": types.SimpleNamespace(flags=types.SimpleNamespace(interactive=1))}, True),  # python -i script.py
    ({"sys": types.SimpleNamespace(flags=types.SimpleNamespace(interactive=0))}, False),  # a script
    (kernel_modules(), False),
    ({}, False),
])
def test_interactive_repl(modules, expected):
    assert in_repl(modules) is expected


def test_the_terminal_presenter_knows_a_repl():
    interactive = {"sys": types.SimpleNamespace(ps1=">>> ", flags=types.SimpleNamespace(interactive=0))}
    assert make_presenter(environ={}, modules=interactive, stderr=Tty()).repl
    assert not make_presenter(environ={}, modules={"sys": types.SimpleNamespace(flags=sys.flags)}, stderr=Tty()).repl
    assert isinstance(make_presenter("terminal", modules={}), TerminalPresenter)


def test_headless_in_a_kernel_shows_outcomes_in_the_cell_and_elsewhere_nowhere():
    assert make_presenter(environ={}, modules=BATCH_KERNEL).shell is BATCH_KERNEL["IPython"].get_ipython()
    assert make_presenter(environ={"CI": "true"}, modules={}).shell is None


def test_reasons_are_given():
    assert choose(environ={"CI": "true"}, modules={}).reason == "CI is set"
    assert choose(environ={"NBAUTH_UI": "none"}).reason == "NBAUTH_UI=none"


@pytest.mark.parametrize("ui, environ, name", [("gui", {}, "ui"), (None, {"NBAUTH_UI": "tty"}, "NBAUTH_UI")])
def test_unknown_choice_is_a_configuration_error(ui, environ, name):
    with pytest.raises(ConfigurationError, match=f"{name} must be one of widget, terminal, none"):
        choose(ui, environ=environ)


def test_closed_stream_is_not_a_terminal():
    stream = io.StringIO()
    stream.close()
    assert choose(environ={}, modules={}, stderr=stream).kind == "none"


def test_not_in_kernel_without_ipython_loaded():
    assert not in_kernel({"ipykernel": object()})
    assert in_kernel(kernel_modules())


def test_headless_fails_at_once_naming_the_options():
    presenter = make_presenter(environ={"CI": "true"}, modules={})
    assert isinstance(presenter, HeadlessPresenter)
    with pytest.raises(InteractionUnavailable) as caught:
        presenter.ready()
    text = str(caught.value)
    assert "CI is set" in text
    for option in ("per-user cache", "ConfidentialClientApplication", "NBAUTH_UI=widget"):
        assert option in text


def test_detection_in_a_script_imports_neither_ipython_nor_ipywidgets():
    code = ("import sys, nbauth.ui as ui; print(ui.choose().kind); "
            "print(sorted(m for m in ('IPython', 'ipywidgets', 'ipykernel', 'anywidget') if m in sys.modules))")
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "NBAUTH_UI")}
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True,
                         stdin=subprocess.DEVNULL).stdout.split("\n")
    assert out[:2] == ["none", "[]"]
    assert time.perf_counter() - started < 5
