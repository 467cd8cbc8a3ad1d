"""One table per benchmark: both libraries' medians and ranges, the ratio, the target, the check."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional

from .harness import Stats

LIBS = ("nbauth", "msal")


@dataclass(frozen=True)
class Target:
    """The issue's target for a row: a bound on the ratio nbauth/msal, or on nbauth's value."""

    text: str
    max_ratio: Optional[float] = None
    max_value: Optional[float] = None
    min_value: Optional[float] = None

    def verdict(self, ours: Optional[Stats], ratio: Optional[float]) -> str:
        if ours is None:
            return "not measured"
        if self.max_ratio is not None:
            if ratio is None:
                return "-"
            return "met" if ratio <= self.max_ratio else f"missed ({ratio / self.max_ratio:.3g}× over)"
        if self.max_value is not None and ours.median > self.max_value:
            return f"missed ({ours.median / self.max_value:.3g}× over)" if self.max_value else "missed"
        if self.min_value is not None and ours.median < self.min_value:
            return f"missed ({ours.median:g} < {self.min_value:g})"
        return "met" if (self.max_value, self.min_value) != (None, None) else "-"


@dataclass
class Row:
    label: str
    values: Dict[str, Optional[Stats]]
    kind: str = "time"  # "time" (seconds), "count", or "factor" (a ratio of two costs)
    target: Optional[Target] = None
    note: str = ""

    @property
    def ratio(self) -> Optional[float]:
        ours, theirs = self.values.get("nbauth"), self.values.get("msal")
        if ours is None or theirs is None or not theirs.median:
            return None
        return ours.median / theirs.median


@dataclass
class Table:
    key: str
    title: str
    about: str
    rows: List[Row] = field(default_factory=list)
    checks: List[str] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)
    failures: List[str] = field(default_factory=list)

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        return row

    def check(self, ok: bool, claim: str) -> None:
        """Record a verification of what a measured case claims; a false one fails the run."""
        (self.checks if ok else self.failures).append(claim)

    def expect(self, ok: bool, failure: str) -> bool:
        """A verification reported only when it fails (a summary ``check`` says what held)."""
        if not ok:
            self.failures.append(failure)
        return ok


def format_seconds(value: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if abs(value) >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value / 1e-9:.3g} ns"


def format_value(value: float, kind: str) -> str:
    if kind == "time":
        return format_seconds(value)
    return f"{value:.3g}×" if kind == "factor" else f"{value:g}"


def format_stats(stats: Optional[Stats], kind: str) -> str:
    if stats is None:
        return "n/a"
    middle = format_value(stats.median, kind)
    if stats.rounds == 1 or stats.low == stats.high:
        return middle
    return f"{middle} ({format_value(stats.low, kind)} – {format_value(stats.high, kind)})"


def format_ratio(ratio: Optional[float]) -> str:
    if ratio is None:
        return "-"
    return f"{ratio:.2g}×" if ratio < 0.01 else f"{ratio:.3g}×"


def markdown(table: Table) -> str:
    lines = [f"### {table.title}", "", table.about, "",
             "| case | nbauth median (min – max) | msal median (min – max) | nbauth/msal | target | verdict |",
             "|---|---|---|---|---|---|"]
    for row in table.rows:
        target = row.target.text if row.target else ""
        verdict = row.target.verdict(row.values.get("nbauth"), row.ratio) if row.target else ""
        label = f"{row.label} ({row.note})" if row.note else row.label
        lines.append(f"| {label} | {format_stats(row.values.get('nbauth'), row.kind)} | "
                     f"{format_stats(row.values.get('msal'), row.kind)} | {format_ratio(row.ratio)} | "
                     f"{target} | {verdict} |")
    lines.append("")
    lines.extend(f"- Note: {note}" for note in table.notes)
    lines.extend(f"- Checked: {claim}" for claim in table.checks)
    lines.extend(f"- **CHECK FAILED**: {claim}" for claim in table.failures)
    return "\n".join(lines) + "\n"
