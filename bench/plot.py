"""The cache-hit-versus-N curves of both libraries, log-log, to a PNG."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Tuple

from .harness import Stats

STYLES = {"nbauth": ("tab:blue", "o"), "msal": ("tab:red", "s")}


def cache_hit_curves(curves: Dict[str, Dict[str, List[Tuple[int, Stats]]]], path: Path, title: str) -> None:
    """One panel per cache layout; a line per library and scope mode, median with min-max bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    layouts = sorted({name.split(", ")[0] for name in curves}, reverse=True)
    figure, axes = plt.subplots(1, len(layouts), figsize=(6.2 * len(layouts), 4.8), sharey=True, squeeze=False)
    for axis, layout in zip(axes[0], layouts):
        for name, series in curves.items():
            if not name.startswith(layout + ","):
                continue
            mode = name.split(", ", 1)[1]
            for library, points in series.items():
                color, marker = STYLES[library]
                ns = [n for n, _ in points]
                medians = [s.median * 1e6 for _, s in points]
                spread = [[(s.median - s.low) * 1e6 for _, s in points], [(s.high - s.median) * 1e6 for _, s in points]]
                axis.errorbar(ns, medians, yerr=spread, color=color, marker=marker, capsize=3,
                              linestyle="-" if mode == "exact scopes" else "--", label=f"{library}, {mode}")
        axis.set(xscale="log", yscale="log", xlabel="access tokens in the cache (N)", title=layout)
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize=8)
    axes[0][0].set_ylabel("acquire_token_silent cache hit (µs per call)")
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
