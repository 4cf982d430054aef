"""Statistical disclosure control for tidy tables, applied just before publication.

* :func:`primary` hides estimates that rest on fewer than ``threshold`` respondents.
* :func:`secondary` / :func:`secondary_1d` add complementary suppressions so a hidden count
  cannot be recovered by subtracting the published cells from a published total.
* :func:`safe_percent` refuses to compute a percentage over a small denominator.
* :func:`csv_safe` neutralises spreadsheet formula injection in CSV/Excel exports.

Conventions: the count column is ``n`` by default; a ``suppressed`` boolean column marks hidden
cells, and the secondary functions add ``suppression`` = ``"primary"`` / ``"secondary"`` (None for
published cells). Zero counts are never primary-suppressed (they identify nobody).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Hashable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

DEFAULT_THRESHOLD = 10

# column-name tokens (split on "_") that identify a publishable statistic derived from the cell
_VALUE_TOKENS = frozenset(
    {
        "value",
        "values",
        "estimate",
        "est",
        "ci",
        "ci95",
        "lo",
        "hi",
        "low",
        "high",
        "lower",
        "upper",
        "lcl",
        "ucl",
        "percent",
        "pct",
        "prop",
        "proportion",
        "share",
        "mean",
        "median",
        "se",
        "moe",
        "rate",
    }
)

PRIMARY = "primary"
SECONDARY = "secondary"


def value_columns(df: pd.DataFrame, exclude: Iterable[Hashable] = ()) -> list[Hashable]:
    """Columns that look like statistics (``estimate``, ``ci_lo``, ``pct_agree``, ``se`` …)."""
    skip = set(exclude) | {"suppressed", "suppression"}
    out = []
    for col in df.columns:
        if col in skip:
            continue
        tokens = str(col).lower().replace("-", "_").replace(" ", "_").split("_")
        if any(tok in _VALUE_TOKENS for tok in tokens):
            out.append(col)
    return out


def _check_threshold(threshold: float) -> None:
    if not threshold or threshold < 1:
        raise ValueError(f"threshold must be a positive count, got {threshold!r}")


def _blank(df: pd.DataFrame, mask: pd.Series, cols: Iterable[Hashable]) -> None:
    """Set ``cols`` to NaN where ``mask`` (in place; integer columns become float)."""
    for col in cols:
        if mask.any():
            df[col] = df[col].mask(mask)


def primary(
    df: pd.DataFrame,
    n_col: str = "n",
    threshold: int = DEFAULT_THRESHOLD,
    value_cols: Sequence[Hashable] | None = None,
) -> pd.DataFrame:
    """Mark rows with ``0 < n < threshold`` as suppressed and blank their statistics.

    Returns a copy with a boolean ``suppressed`` column (OR-ed with any existing one). The
    ``value_cols`` (default: :func:`value_columns`, i.e. estimate/ci/percent-like columns) are set
    to NaN on suppressed rows; ``n`` itself is kept so the reason can be shown. A row whose ``n``
    is missing is suppressed too if it carries any statistic (we cannot vouch for it).
    """
    _check_threshold(threshold)
    if n_col not in df.columns:
        raise KeyError(f"count column {n_col!r} not in table (columns: {list(df.columns)})")
    out = df.copy()
    cols = list(value_columns(out, exclude=[n_col]) if value_cols is None else value_cols)
    missing = [c for c in cols if c not in out.columns]
    if missing:
        raise KeyError(f"value columns {missing} not in table")
    n = pd.to_numeric(out[n_col], errors="coerce")
    small = (n > 0) & (n < threshold)
    if cols:
        unknown_n = n.isna() & out[cols].notna().any(axis=1)
        small = small | unknown_n
    mask = small.fillna(False).astype(bool)
    if "suppressed" in out.columns:
        mask = mask | out["suppressed"].fillna(False).astype(bool)
    out["suppressed"] = mask
    _blank(out, mask, cols)
    return out


def _complement(
    counts: np.ndarray, status: list[str | None], lines: list[np.ndarray]
) -> list[str | None]:
    """Greedy complementary suppression: no line may hold exactly one suppressed cell."""
    status = list(status)
    changed = True
    while changed:
        changed = False
        for line in lines:
            hidden = [i for i in line if status[i] is not None]
            if len(hidden) != 1:
                continue
            candidates = [i for i in line if status[i] is None]
            if not candidates:
                warnings.warn(
                    "A suppressed cell is alone in its row/column, so its value equals the "
                    "published total; suppress or coarsen that total as well.",
                    stacklevel=3,
                )
                continue
            # next-smallest published cell; zero cells only as a last resort (they hide little)
            pick = min(candidates, key=lambda i: (counts[i] <= 0, counts[i], i))
            status[pick] = SECONDARY
            changed = True
    return status


def _protect(
    table: pd.DataFrame,
    lines: list[np.ndarray],
    count: str,
    threshold: int,
    value_cols: Sequence[Hashable] | None,
    blank_count: bool,
) -> pd.DataFrame:
    _check_threshold(threshold)
    if count not in table.columns:
        raise KeyError(f"count column {count!r} not in table (columns: {list(table.columns)})")
    out = table.reset_index(drop=True).copy()
    n = pd.to_numeric(out[count], errors="coerce")
    if n.isna().any():
        raise ValueError(
            f"column {count!r} has missing counts; secondary suppression needs every cell's count "
            "(run it before blanking counts)."
        )
    counts = n.to_numpy(dtype=float)
    already = (
        out["suppressed"].fillna(False).astype(bool).to_numpy()
        if "suppressed" in out.columns
        else np.zeros(len(out), dtype=bool)
    )
    status: list[str | None] = [
        PRIMARY if (0 < c < threshold) or flag else None
        for c, flag in zip(counts, already, strict=True)
    ]
    status = _complement(counts, status, lines)
    mask = pd.Series([s is not None for s in status], index=out.index)
    out["suppressed"] = mask
    out["suppression"] = pd.Series(status, index=out.index, dtype=object)
    cols = list(value_columns(out, exclude=[count]) if value_cols is None else value_cols)
    if blank_count:
        cols.append(count)
    _blank(out, mask, cols)
    return out


def _lines(table: pd.DataFrame, keys: Sequence[Hashable]) -> list[np.ndarray]:
    if not keys:
        return [np.arange(len(table))]
    return [
        np.asarray(ix)
        for ix in table.groupby(list(keys), sort=False, dropna=False).indices.values()
    ]


def secondary(
    table: pd.DataFrame,
    row: str,
    col: str,
    count: str = "n",
    threshold: int = DEFAULT_THRESHOLD,
    *,
    value_cols: Sequence[Hashable] | None = None,
    blank_count: bool = True,
) -> pd.DataFrame:
    """Primary + complementary suppression for a two-way count table whose margins are published.

    ``table`` is long/tidy: one row per interior cell with columns ``row``, ``col`` and ``count``
    (do not include the margin/total cells; they are assumed published). Cells with
    ``0 < count < threshold`` (or already flagged ``suppressed``) are primary; then, until stable,
    any row or column holding exactly one suppressed cell gets its smallest published cell
    suppressed too ("secondary"), so no hidden cell equals *total − published cells*.

    Returns a copy (index reset) with ``suppressed`` and ``suppression`` columns; the count (if
    ``blank_count``) and statistic columns are NaN on suppressed cells. Guarantees every row and
    column has 0 or ≥ 2 suppressed cells; it does not solve interval (linear-programming) attacks.
    """
    out = table.reset_index(drop=True)
    lines = _lines(out, [row]) + _lines(out, [col])
    return _protect(out, lines, count, threshold, value_cols, blank_count)


def secondary_1d(
    table: pd.DataFrame,
    count: str = "n",
    threshold: int = DEFAULT_THRESHOLD,
    *,
    by: Sequence[Hashable] | Hashable | None = None,
    value_cols: Sequence[Hashable] | None = None,
    blank_count: bool = True,
) -> pd.DataFrame:
    """Complementary suppression for a one-way distribution published beside its total.

    If a distribution (the whole table, or each group of ``by`` columns) has exactly one
    suppressed category, the next-smallest category is suppressed as well.
    """
    out = table.reset_index(drop=True)
    keys: list[Hashable] = [] if by is None else ([by] if isinstance(by, str) else list(by))
    return _protect(out, _lines(out, keys), count, threshold, value_cols, blank_count)


def safe_percent(num: Any, den: Any, threshold: int = DEFAULT_THRESHOLD, *, scale: float = 100.0):
    """``100 * num / den``, or NaN where ``den < threshold`` (or missing / zero).

    Works on scalars (returns float), numpy arrays and pandas Series (index preserved). Note the
    result is in percent (0–100); format it with ``fmt_percent(x, lang, scale=1)``.
    """
    _check_threshold(threshold)
    if isinstance(num, pd.Series) or isinstance(den, pd.Series):
        num_s = num if isinstance(num, pd.Series) else pd.Series(num, index=den.index)
        den_s = pd.to_numeric(
            den if isinstance(den, pd.Series) else pd.Series(den, index=num_s.index)
        )
        num_s = pd.to_numeric(num_s).astype(float)
        ok = den_s >= threshold
        return (num_s / den_s.where(ok) * scale).astype(float)
    num_a = np.asarray(num, dtype=float)
    den_a = np.asarray(den, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        res = np.where(den_a >= threshold, num_a / den_a * scale, np.nan)
    return float(res) if res.ndim == 0 else res


# OWASP "CSV injection": cells starting with these are interpreted as formulas by spreadsheets.
# Full-width variants are included because some CJK-locale spreadsheets normalise them.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def _guard(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        return "'" + value
    return value


def xlsx_text(value: Any) -> Any:
    """A published cell for an Excel workbook: missing stays empty, numbers stay numbers, text
    that a spreadsheet would run as a formula (``= + - @`` …) gets the same leading apostrophe
    as :func:`csv_safe` — except a signed number such as "+0,45 (0,30 s.d. 0,60)", whose sign
    is the point and which runs nothing."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if not isinstance(value, str):
        return value
    if _SIGNED_NUMBER.match(value):
        return value
    return _guard(value)


_SIGNED_NUMBER = re.compile(r"^[+\-]\d[\d.,]*(%| ?\([^=@+|!]*\))?$")


def csv_safe(df: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``df`` safe to open in a spreadsheet: text cells (and column labels) that start
    with ``= + - @``, tab or carriage return get a leading apostrophe. Numeric, boolean and
    datetime columns are untouched, so real negative numbers stay numbers."""
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if (
            pd.api.types.is_numeric_dtype(s.dtype)
            or pd.api.types.is_bool_dtype(s.dtype)
            or pd.api.types.is_datetime64_any_dtype(s.dtype)
            or isinstance(s.dtype, pd.PeriodDtype | pd.IntervalDtype)
        ):
            continue
        if isinstance(s.dtype, pd.CategoricalDtype):
            s = s.astype(object)
        if s.dtype == object and pd.api.types.infer_dtype(s, skipna=True) != "string":
            text = s.map(lambda v: isinstance(v, str))  # mixed cells: tested one by one
        else:  # text or missing only (checked in compiled code): present means text
            text = s.notna()
        risky = text & s.where(text, "").astype(str).str.startswith(_FORMULA_PREFIXES)
        if risky.any():
            out[col] = s.where(~risky, "'" + s[risky].astype(str))
    out.columns = [_guard(c) for c in out.columns]
    if not isinstance(out.index, pd.RangeIndex) and out.index.dtype == object:
        out.index = out.index.map(_guard)
    return out


def _arrow_csv_safe(df: pd.DataFrame):
    """:func:`csv_safe` done on the Arrow table (compiled) when every text column converts to
    Arrow text; None for tables it cannot mirror exactly (categoricals, mixed objects)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if df.columns.has_duplicates or not all(isinstance(c, str) for c in df.columns):
        return None
    if any(isinstance(t, pd.CategoricalDtype) for t in df.dtypes):
        return None
    try:
        table = pa.Table.from_pandas(df, preserve_index=False)
    except (pa.ArrowException, TypeError, ValueError):
        return None
    for i, field in enumerate(table.schema):
        if not (pa.types.is_string(field.type) or pa.types.is_large_string(field.type)):
            continue
        col = table.column(i)
        risky = None
        for prefix in _FORMULA_PREFIXES:
            hit = pc.starts_with(col, prefix)
            risky = hit if risky is None else pc.or_(risky, hit)
        risky = risky.fill_null(False)
        if pc.any(risky).as_py():
            empty = pa.scalar("", field.type)
            guarded = pc.binary_join_element_wise(pa.scalar("'", field.type), col, empty)
            table = table.set_column(i, field, pc.if_else(risky, guarded, col))
    return table.rename_columns([_guard(c) for c in table.column_names])


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """Write :func:`csv_safe` of ``df`` with Arrow's compiled CSV writer (pandas' took half a
    minute for a million rows): text quoted, missing cells empty, whole-second times without
    decimals. Tables Arrow cannot type (mixed objects) go through pandas."""
    import pyarrow as pa
    from pyarrow import csv as pacsv

    table = _arrow_csv_safe(df)
    safe = df  # the guard only prefixes text, so the time columns are df's
    if table is None:
        safe = csv_safe(df)
        try:
            table = pa.Table.from_pandas(safe, preserve_index=False)
        except (pa.ArrowException, TypeError, ValueError):
            safe.to_csv(path, index=False)
            return
    for i, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type):
            t = safe.iloc[:, i].dropna()
            if ((t.dt.microsecond == 0) & (t.dt.nanosecond == 0)).all():
                table = table.set_column(i, field.name, table.column(i).cast(pa.timestamp("s")))
    pacsv.write_csv(table, path)
