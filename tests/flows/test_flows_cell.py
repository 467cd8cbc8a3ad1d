"""Which notebook cell is running (the kernel's parent header), and the sign-in each cell started."""
import sys
from types import SimpleNamespace

import pytest

from nbauth.flows.cell import running_cell, started_in


def fake_ipython(parent):
    kernel = SimpleNamespace(get_parent=lambda channel=None: parent)
    return SimpleNamespace(get_ipython=lambda: SimpleNamespace(kernel=kernel))


@pytest.mark.parametrize("parent, cell", [
    ({"metadata": {"cellId": "c-1"}}, "c-1"),
    ({"metadata": {}}, None),  # a front end that does not send it
    ({"metadata": {"cellId": ""}}, None),
    ({"metadata": {"cellId": 7}}, None),
    ({}, None),
    (None, None),
])
def test_the_running_cell_comes_from_the_execute_requests_metadata(monkeypatch, parent, cell):
    monkeypatch.setitem(sys.modules, "IPython", fake_ipython(parent))
    assert running_cell() == cell


def test_no_cell_outside_a_kernel(monkeypatch):
    monkeypatch.setitem(sys.modules, "IPython", SimpleNamespace(get_ipython=lambda: None))
    assert running_cell() is None
    monkeypatch.delitem(sys.modules, "IPython")
    assert running_cell() is None


class Handle:
    """Stands in for a SignIn (the registry keeps only weak references)."""


def test_a_cell_run_again_gets_its_earlier_sign_in_back_once():
    first, second = Handle(), Handle()
    assert started_in("cell-a", first) is None
    assert started_in("cell-a", second) is first
    assert started_in("cell-a", second) is None  # the same one again is no earlier one
    assert started_in("cell-b", Handle()) is None and started_in(None, first) is None


def test_a_forgotten_sign_in_is_not_kept():
    started_in("cell-c", Handle())  # nothing else holds it
    assert started_in("cell-c", Handle()) is None
