"""Screenshots of a widget in the light and the dark theme, for a person to look at (test-artifacts/)."""
from __future__ import annotations

from support.lab import ARTIFACTS

THEMES = {"light": "JupyterLab Light", "dark": "JupyterLab Dark"}
SWITCH = "(theme) => window.jupyterapp.commands.execute('apputils:change-theme', {theme})"


def shoot(page, element, name: str) -> None:
    """``element`` in each theme, as ``<name>_<theme>.png``; the page is left in the light theme."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for theme in ("dark", "light"):
        page.evaluate(SWITCH, THEMES[theme])
        page.wait_for_timeout(300)  # the theme's stylesheet applies on the next frames
        element.screenshot(path=str(ARTIFACTS / f"{name}_{theme}.png"))
