"""The tidy estimates table: one column list and one row builder for every estimator.

Every published estimate is a row with its analysis, outcome, group, term, estimate, SE,
interval, design df, p (raw and adjusted), n, method and note, so a report, a spreadsheet or a
researcher can read any of them the same way.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["ESTIMATE_COLUMNS", "estimate_frame", "estimate_row"]

ESTIMATE_COLUMNS = [
    "analysis",
    "outcome",
    "wave",
    "group_var",
    "group",
    "term",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "df",
    "p",
    "p_adj",
    "n",
    "method",
    "flag",
    "note",
]


def estimate_row(
    analysis: str,
    outcome: str,
    term: str,
    estimate: float,
    se: float,
    ci_low: float,
    ci_high: float,
    df: float,
    n: int,
    method: str,
    p: float = np.nan,
    note: str = "",
    group_var: str | None = None,
    group: object = None,
    **extra,
) -> dict:
    """One estimate as a row of the tidy table (``wave``, ``p_adj`` and ``flag`` are filled in
    by the caller that knows the wave and the multiple-testing family)."""
    return {
        "analysis": analysis,
        "outcome": outcome,
        "group_var": group_var,
        "group": None if group is None else str(group),
        "term": term,
        "estimate": estimate,
        "se": se,
        "ci_low": ci_low,
        "ci_high": ci_high,
        "df": df,
        "p": p,
        "n": n,
        "method": method,
        "note": note,
        **extra,
    }


def estimate_frame(rows: list[dict]) -> pd.DataFrame:
    """Rows as a frame, the table's columns first in their order, any extra columns after."""
    out = pd.DataFrame(rows)
    if out.empty:
        return pd.DataFrame(
            columns=[c for c in ESTIMATE_COLUMNS if c not in ("wave", "p_adj", "flag")]
        )
    known = [c for c in ESTIMATE_COLUMNS if c in out]
    return out[known + [c for c in out if c not in ESTIMATE_COLUMNS]]
