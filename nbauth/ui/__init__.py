"""Presentation: how a sign-in reaches a person (notebook widget, terminal, or nobody).

Importing this package is light; ``make_presenter`` imports ipywidgets only for the widget.
"""
from .base import Presenter
from .detect import choose, make_presenter
from ..protocol.status import Status
from .text import FlowState

__all__ = ["FlowState", "Presenter", "Status", "choose", "make_presenter"]
