"""Choosing the presentation: argument, NBAUTH_UI, CI, a live kernel, a terminal, or nobody."""
import io
import os
import subprocess
import sys
import time
import types

import pytest

from nbauth.exceptions import ConfigurationError, InteractionUnavailable
from nbauth.ui.detect import choose, in_kernel, make_presenter
from nbauth.ui.headless import HeadlessPresenter


class Tty(io.StringIO):
    def isatty(self):
        return True


def kernel_modules(kernel=object()):
    shell = types.SimpleNamespace(kernel=kernel)
    return {"ipykernel": types.ModuleType("ipykernel"),
            "IPython": types.SimpleNamespace(get_ipython=lambda: shell)}


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
