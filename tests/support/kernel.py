"""The quickstart notebook in a real IPython kernel (nbclient), run cell by cell (helpers, no tests).

Cells run one at a time inside ``kernel.client.setup_kernel()`` so the kernel, its widgets and its
polling thread live between them.
"""
from __future__ import annotations

import os
import re
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "notebooks" / "quickstart.ipynb"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
CODE_IN_TEXT = re.compile(r"(?:enter|check) the code (\S+)")


@pytest.fixture
def kernel_env(monkeypatch, tmp_path):
    """What the kernel inherits: the widget forced, a private cache, an isolated IPython dir, and
    this checkout's nbauth first on its path (a kernel runs elsewhere: it would import the installed one)."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("NBAUTH_UI", "widget")
    monkeypatch.setenv("NBAUTH_SIGN_IN", "device")  # these cells approve a device code from outside
    monkeypatch.setenv("NBAUTH_CACHE_PATH", str(tmp_path / "cache" / "token_cache.json"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))

    def use(authority: str) -> None:
        monkeypatch.setenv("NBAUTH_DEMO_AUTHORITY", authority)

    return use


class Kernel:
    """A notebook run cell by cell; ``run`` also executes code that is not in the notebook."""

    def __init__(self, nb):
        self.nb = nb
        self.client = NotebookClient(nb, timeout=60, kernel_name="python3", store_widget_state=True)

    def cell(self, n: int):
        """The n-th code cell (0-based) of the notebook."""
        return [c for c in self.nb.cells if c.cell_type == "code"][n]

    def execute(self, n: int) -> float:
        cell = self.cell(n)
        started = time.perf_counter()
        self.client.execute_cell(cell, self.nb.cells.index(cell))
        return time.perf_counter() - started

    def run(self, source: str) -> str:
        cell = nbformat.v4.new_code_cell(source)
        self.nb.cells.append(cell)
        self.client.execute_cell(cell, len(self.nb.cells) - 1)
        return stdout(cell)


def stdout(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def displayed(cell) -> dict:
    [data] = [o.data for o in cell.outputs if o.output_type == "display_data"]
    return data


def user_code(cell) -> str:
    return CODE_IN_TEXT.search(displayed(cell)["text/plain"]).group(1)


def quickstart() -> Kernel:
    return Kernel(nbformat.read(QUICKSTART, as_version=4))
