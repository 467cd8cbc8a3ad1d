"""Starting a notebook cell that will wait (``NotebookPage.run`` waits for the cell to finish)."""
from __future__ import annotations

START_CELL = """(index) => {
    const panel = window.jupyterapp.shell.currentWidget;
    panel.content.activeCellIndex = index;
    window.jupyterapp.commands.execute('notebook:run-cell');  // not awaited: the cell goes on running
}"""


def start_cell(nb, index: int):
    """Run cell ``index`` of ``nb`` (a NotebookPage) without waiting for it to finish; its output area."""
    nb.page.evaluate(START_CELL, index)
    return nb.page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".jp-OutputArea")
