"""Survey weight adjustment: raking to population margins, trimming, and summaries.

* :func:`rake` — iterative proportional fitting (IPF) of weights to population margins,
  the calibrated weights of R's ``survey::rake`` (run to convergence).
* :func:`trim` — caps extreme weights relative to the median (or at a quantile) and
  redistributes the trimmed excess so the weight total is preserved.
* :func:`weight_summary` — n, sum, min, max, CV, Kish design effect, effective n.

All loops run over iterations and margins only; each margin step is one
``np.bincount`` over integer level codes, so a million rows is fine.

Validated against R survey 4.x (tests/reference/r_survey_reference.R).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from pipelines.errors import DampakError

__all__ = ["WeightingError", "level_totals", "rake", "rake_columns", "trim", "weight_summary"]


class WeightingError(DampakError):
    """Weights cannot be computed or adjusted as asked."""


def _fmt(values: Any, limit: int = 8) -> str:
    values = list(values)
    shown = ", ".join(repr(v) for v in values[:limit])
    return shown + (f", ... ({len(values)} in all)" if len(values) > limit else "")


def _base(df: pd.DataFrame, base_weight: Any) -> np.ndarray:
    if base_weight is None:
        return np.ones(len(df))
    if isinstance(base_weight, str):
        if base_weight not in df.columns:
            raise WeightingError(f"The base weight column {base_weight!r} is not in the data.")
        base = df[base_weight]
    elif isinstance(base_weight, pd.Series):
        if not base_weight.index.equals(df.index):
            raise WeightingError("base_weight is a Series whose index differs from the data's.")
        base = base_weight
    else:
        base = pd.Series(np.asarray(base_weight))
    if len(base) != len(df):
        raise WeightingError(f"base_weight has {len(base)} values but the data has {len(df)} rows.")
    if not pd.api.types.is_numeric_dtype(base):
        raise WeightingError("base_weight must be numeric.")
    w = base.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(w) | (w <= 0)
    if bad.any():
        raise WeightingError(f"Base weights must be positive and finite; {int(bad.sum())} are not.")
    return w


def rake(
    df: pd.DataFrame,
    margins: Mapping[str, pd.Series | Mapping[Any, float]],
    base_weight: str | pd.Series | np.ndarray | None = None,
    max_iter: int = 100,
    tol: float = 1e-8,
) -> pd.Series:
    """Rake weights to population margins by iterative proportional fitting.

    ``margins`` maps a column of ``df`` to its population totals by level (a Series
    indexed by level or a dict level -> total).  Starting from ``base_weight`` (a column
    name, a Series aligned with ``df``, an array, or 1 for every row), each cycle
    multiplies the weights of every margin level by ``target / current weighted total``
    (one post-stratification per margin, in the order given).  It stops when every
    margin total is within ``tol`` (relative) of its target after a full cycle; the
    result is the fixed point that R's
    ``weights(rake(des, list(~a, ~b), list(pop_a, pop_b), control = list(maxit = 1000,
    epsilon = 1e-13)))`` also reaches (R's default ``maxit = 10, epsilon = 1`` stops
    earlier).

    Raises :class:`WeightingError` naming the column and level when a sample level is
    missing from its margin, a margin level has no respondents, a margin column has
    missing values, totals are not positive, the margins disagree on the population
    total, or the fit does not converge within ``max_iter`` cycles.

    Returns the raked weights as a Series named ``"weight"`` with ``df``'s index.

    Validated against R survey 4.x (tests/reference/r_survey_reference.R).
    """
    if not isinstance(df, pd.DataFrame):
        raise WeightingError(f"df must be a pandas DataFrame, not {type(df).__name__}.")
    w = _base(df, base_weight).copy()
    w = _ipf(_margin_codes(df, margins), w, max_iter, tol)
    return pd.Series(w, index=df.index, name="weight")


def rake_columns(
    df: pd.DataFrame,
    margins: Mapping[str, pd.Series | Mapping[Any, float]],
    weights: np.ndarray,
    max_iter: int = 1000,
    tol: float = 1e-10,
    labels: Sequence[str] | None = None,
) -> np.ndarray:
    """Each column of ``weights`` (rows x k, 0 or more) raked on its own to the same margins.

    The IPF of :func:`rake` run once on the weight totals of the cells (combinations of margin
    levels, every column at a time), then each row scaled by its cell's factor: two passes over
    the rows whatever the number of columns.  Zero weights stay zero (R's ``rake()`` on a
    replicate design); a column with no weight in some margin level cannot be raked (the error
    names it by ``labels``, default its 1-based number).
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 2 or w.shape[0] != len(df):
        raise WeightingError(f"weights must be (rows x columns) with {len(df)} rows.")
    if not np.isfinite(w).all() or (w < 0).any():
        raise WeightingError("Weights to rake must be finite and not negative.")
    prepared = _margin_codes(df, margins)
    first, cell = np.unique(
        np.ravel_multi_index([codes for _, codes, _ in prepared], [len(t) for _, _, t in prepared]),
        return_inverse=True,
        return_index=True,
    )[1:]
    n_cells = len(first)
    to_cell = sparse.csr_matrix(
        (np.ones(len(cell)), (cell, np.arange(len(cell)))), shape=(n_cells, len(cell))
    )
    before = np.asarray(to_cell @ w)
    for col, codes, target in prepared:
        empty = np.flatnonzero((level_totals(codes[first], before, len(target)) <= 0).any(axis=0))
        if empty.size:
            names = [labels[i] if labels else f"column {i + 1}" for i in empty]
            raise WeightingError(
                f"{_fmt(names)} have no weight in some level of {col!r}, so they cannot be "
                "raked to its margin: merge small levels."
            )
    cells = [(col, codes[first], target) for col, codes, target in prepared]
    after = _ipf(cells, before.copy(), max_iter, tol)
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = np.where(before > 0, after / before, 1.0)
    return w * factor[cell]


def level_totals(codes: np.ndarray, w: np.ndarray, n_levels: int) -> np.ndarray:
    """Weight total per level: (levels,) for one weight vector, (levels x k) for k columns."""
    if w.ndim == 1:
        return np.bincount(codes, weights=w, minlength=n_levels)
    ind = sparse.csr_matrix(
        (np.ones(len(codes)), (codes, np.arange(len(codes)))), shape=(n_levels, len(codes))
    )
    return np.asarray(ind @ w)


def _ipf(prepared: list, w: np.ndarray, max_iter: int, tol: float) -> np.ndarray:
    """Iterative proportional fitting of ``w`` (one vector, or columns raked alike) in place:
    each margin's levels scaled to their targets in turn until all are within ``tol``."""
    worst = np.inf
    for _ in range(max_iter):
        for _col, codes, target in prepared:
            current = level_totals(codes, w, len(target))
            ratio = target / current if w.ndim == 1 else target[:, None] / current
            w *= ratio[codes]
        worst = max(
            float(np.max(np.abs(level_totals(codes, w, len(t)).T - t) / t))
            for _col, codes, t in prepared
        )
        if worst < tol:
            return w
    raise WeightingError(
        f"Raking did not converge in {max_iter} cycles (largest relative margin error "
        f"{worst:.3g}). Sparse level combinations can slow it down: merge small levels "
        "or raise max_iter."
    )


def _margin_codes(df: pd.DataFrame, margins: Mapping) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Each margin as (column, level code per row, target totals), checked as :func:`rake`
    documents."""
    if not margins:
        raise WeightingError("rake() needs at least one margin.")
    prepared: list[tuple[str, np.ndarray, np.ndarray]] = []
    totals: dict[str, float] = {}
    for col, margin in margins.items():
        if col not in df.columns:
            raise WeightingError(
                f"Margin column {col!r} is not in the data. Available columns: "
                f"{_fmt(df.columns, 20)}."
            )
        target = pd.Series(margin, dtype="float64") if isinstance(margin, Mapping) else margin
        if not isinstance(target, pd.Series):
            raise WeightingError(
                f"The margin for {col!r} must be a pandas Series or a dict level -> total."
            )
        target = target.astype("float64")
        if target.index.has_duplicates:
            dup = target.index[target.index.duplicated()].unique().tolist()
            raise WeightingError(f"The margin for {col!r} lists levels twice: {_fmt(dup)}.")
        bad = ~np.isfinite(target.to_numpy()) | (target.to_numpy() <= 0)
        if bad.any():
            raise WeightingError(
                f"The margin for {col!r} must have positive population totals; level(s) "
                f"{_fmt(target.index[bad].tolist())} do not."
            )
        values = df[col]
        n_missing = int(values.isna().sum())
        if n_missing:
            raise WeightingError(
                f"Column {col!r} has {n_missing} missing values; every respondent needs a "
                "level to be raked. Impute or add a level (and its population total)."
            )
        codes = target.index.get_indexer(values).astype(np.int64)
        unmatched = codes < 0
        if unmatched.any():
            levels = pd.unique(values[unmatched]).tolist()
            raise WeightingError(
                f"Column {col!r} has level(s) {_fmt(levels)} in the sample that are missing "
                f"from its population margin (margin levels: {_fmt(target.index.tolist())})."
            )
        counts = np.bincount(codes, minlength=len(target))
        empty = np.flatnonzero(counts == 0)
        if empty.size:
            raise WeightingError(
                f"Margin level(s) {_fmt(target.index[empty].tolist())} of column {col!r} have "
                "no respondents in the sample, so no weight can carry their population total. "
                "Merge them with a neighbouring level."
            )
        prepared.append((col, codes, target.to_numpy()))
        totals[col] = float(target.sum())

    grand = np.array(list(totals.values()))
    if grand.max() - grand.min() > 1e-6 * grand.max():
        raise WeightingError(
            "The margins disagree on the population total, so raking cannot converge: "
            + ", ".join(f"{c}: {t:,.6g}" for c, t in totals.items())
            + ". Rescale them to a common total."
        )
    return prepared


def _as_weights(weights: Any) -> tuple[np.ndarray, pd.Index | None, Any]:
    if isinstance(weights, pd.Series):
        index, name = weights.index, weights.name
        values = weights.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        index, name = None, None
        values = np.asarray(weights, dtype=np.float64).ravel()
    if values.size == 0:
        raise WeightingError("There are no weights.")
    bad = ~np.isfinite(values) | (values <= 0)
    if bad.any():
        raise WeightingError(
            f"Weights must be positive and finite; {int(bad.sum())} of {values.size} are not."
        )
    return values, index, name


def trim(
    weights: pd.Series | np.ndarray,
    upper_ratio: float | None = 5.0,
    quantile: float | None = None,
    max_iter: int = 100,
) -> pd.Series:
    """Trim extreme weights and redistribute the excess, preserving the total.

    The rule: the cap is ``upper_ratio * median(weights)``, or, when ``quantile`` is
    given (it takes precedence), the ``quantile`` quantile of the weights (numpy's
    default linear interpolation); the cap is computed once, from the weights passed in.
    Each pass sets every weight above the cap to the cap and spreads the removed excess
    over the weights still below the cap, proportionally to their size (multiplying them
    by a common factor), so the total is unchanged.  Because that can push some weights
    over the cap, passes repeat until none exceeds it (at most ``max_iter``).

    Raises :class:`WeightingError` when the cap is below the mean weight (the total could
    not be preserved) or the parameters are invalid.  Returns a Series (same index and
    name as a Series input).
    """
    w, index, name = _as_weights(weights)
    if quantile is not None:
        if not 0 < quantile < 1:
            raise WeightingError(f"quantile must be between 0 and 1, not {quantile!r}.")
        cap = float(np.quantile(w, quantile))
        rule = f"the {quantile:g} quantile"
    else:
        if upper_ratio is None or not upper_ratio > 0:
            raise WeightingError("Give upper_ratio > 0 or a quantile between 0 and 1.")
        cap = float(upper_ratio * np.median(w))
        rule = f"{upper_ratio:g} x the median"
    total = w.sum()
    if cap * w.size < total * (1 - 1e-12):
        raise WeightingError(
            f"The trimming cap ({rule} = {cap:.6g}) is below the mean weight "
            f"({total / w.size:.6g}), so the total cannot be preserved. Use a higher cap."
        )
    w = w.copy()
    for _ in range(max_iter):
        over = w > cap * (1 + 1e-12)
        if not over.any():
            break
        excess = np.sum(w[over] - cap)
        w[over] = cap
        free = w < cap
        if not free.any():
            raise WeightingError("Every weight reached the trimming cap; use a higher cap.")
        w[free] *= 1 + excess / w[free].sum()
    else:
        raise WeightingError(f"Trimming did not settle within {max_iter} passes.")
    w = np.minimum(w, cap)
    return pd.Series(w, index=index, name=name if index is not None else "weight")


def weight_summary(weights: pd.Series | np.ndarray) -> dict[str, float]:
    """Summary of a set of weights.

    Returns a dict with ``n``, ``sum``, ``mean``, ``min``, ``max``, ``cv`` (population
    coefficient of variation, standard deviation with ddof=0, over the mean),
    ``kish_deff = n * sum(w^2) / sum(w)^2 = 1 + cv^2`` and
    ``effective_n = sum(w)^2 / sum(w^2) = n / kish_deff``.
    """
    w, _, _ = _as_weights(weights)
    n = int(w.size)
    total = float(w.sum())
    sum_sq = float(np.sum(w**2))
    mean = total / n
    return {
        "n": n,
        "sum": total,
        "mean": mean,
        "min": float(w.min()),
        "max": float(w.max()),
        "cv": float(w.std(ddof=0) / mean),
        "kish_deff": n * sum_sq / total**2,
        "effective_n": total**2 / sum_sq,
    }
