"""The results document: where they came from, the rows that have a target, then every table."""
from __future__ import annotations

import dataclasses
import json
from typing import Any, Dict, List

from .table import Table, format_ratio, format_stats, markdown


def summary(tables: List[Table]) -> str:
    """Every row with one of the issue's targets, with its verdict."""
    lines = ["| benchmark | case | nbauth | msal | nbauth/msal | target | verdict |", "|---|---|---|---|---|---|---|"]
    for table in tables:
        for row in table.rows:
            if row.target is None:
                continue
            ours = row.values.get("nbauth")
            lines.append(f"| {table.title.split('.')[0]} | {row.label} | {format_stats(ours, row.kind)} | "
                         f"{format_stats(row.values.get('msal'), row.kind)} | {format_ratio(row.ratio)} | "
                         f"{row.target.text} | {row.target.verdict(ours, row.ratio)} |")
    return "\n".join(lines) + "\n"


def document(info: Dict[str, str], tables: List[Table], seconds: float, command: str, profile: str) -> str:
    failures = sum(len(table.failures) for table in tables)
    head = [f"# nbauth vs MSAL Python: benchmark results ({profile} run)", "",
            f"`{command}` — {seconds / 60:.1f} minutes. "
            + ("Every measured case passed its checks." if not failures else f"**{failures} checks FAILED.**"), ""]
    head += [f"- {key}: {value}" for key, value in info.items()]
    head += ["", "Medians over interleaved rounds (nbauth and msal alternate who goes first), with the range "
             "(min – max) across rounds; nbauth/msal is the ratio of the medians.", "",
             "## Targets (issue 9)", "", summary(tables), "## All tables", ""]
    return "\n".join(head) + "\n".join(markdown(table) for table in tables)


def as_json(info: Dict[str, str], tables: List[Table], extras: Dict[str, Any]) -> str:
    return json.dumps({"info": info, "tables": [dataclasses.asdict(t) for t in tables], "extras": extras},
                      indent=1, default=lambda value: dataclasses.asdict(value) if dataclasses.is_dataclass(value)
                      else str(value))
