"""Multi-item scale scoring and reliability (Cronbach's alpha, McDonald's omega).

All functions are pure: they take a ``pandas.DataFrame`` whose columns are the
items of one scale (one row per respondent) and return a new ``Series`` /
``DataFrame``. Nothing is modified in place.

Conventions
-----------
* Items are numeric Likert responses on ``low..high`` (default 1..5). Missing
  answers are ``NaN``.
* Reverse-keyed items are recoded as ``low + high - x`` before anything else.
* Reliability statistics use the *pairwise-complete* covariance matrix ``C``
  (each covariance computed from the respondents who answered both items, with
  ``n - 1`` denominators), exactly like ``psych::alpha(x, use = "pairwise")`` in R.
  The correlation matrix is ``R = cov2cor(C)`` (as psych does), not the
  pairwise correlation matrix.

Validation
----------
``cronbach_alpha`` (raw alpha, std.alpha, Feldt CI) and ``item_total`` (r.drop,
alpha-if-dropped) are pinned in ``tests/test_scales.py`` against R
``psych::alpha`` (psych 2.2.9) on the public ``bfi`` data, and against a
hand-computed textbook example. ``omega_total`` is pinned against
``psych::omega(..., nfactors = 1)`` / ``psych::fa(..., fm = "minres")`` on ``bfi``
and checked for recovery of the closed-form omega on data simulated from planted loadings.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import optimize, stats

__all__ = [
    "reverse_code",
    "score",
    "cronbach_alpha",
    "omega_total",
    "item_total",
    "reliability_table",
    "RELIABILITY_COLUMNS",
    "feldt_ci",
    "one_factor_loadings",
]

RELIABILITY_THRESHOLD = 0.7


# --------------------------------------------------------------------------- helpers
def _check_items(items: pd.DataFrame) -> pd.DataFrame:
    """Return ``items`` as a float DataFrame; raise on non-numeric or duplicated columns."""
    if not isinstance(items, pd.DataFrame):
        raise TypeError(f"items must be a pandas DataFrame, got {type(items).__name__}")
    if items.columns.duplicated().any():
        dup = list(items.columns[items.columns.duplicated()])
        raise ValueError(f"duplicated item columns: {dup}")
    bad = [c for c in items.columns if not pd.api.types.is_numeric_dtype(items[c])]
    if bad:
        raise TypeError(f"items must be numeric; non-numeric columns: {bad}")
    return items.astype(float)


def _prepare(
    items: pd.DataFrame, reverse: Sequence[str] | None, low: float, high: float
) -> pd.DataFrame:
    """Validate and reverse-code; the common first step of every public function."""
    items = _check_items(items)
    if reverse:
        items = reverse_code(items, list(reverse), low=low, high=high)
    return items


def _pairwise_cov(items: pd.DataFrame) -> np.ndarray:
    """Pairwise-complete covariance matrix (ddof=1), like R ``cov(x, use = "pairwise")``."""
    return items.cov(min_periods=2).to_numpy(dtype=float)


def _cov2cor(c: np.ndarray) -> np.ndarray:
    d = np.sqrt(np.diag(c))
    with np.errstate(divide="ignore", invalid="ignore"):
        return c / np.outer(d, d)


def _alpha_from_cov(c: np.ndarray) -> float:
    """Raw alpha = k/(k-1) * (1 - tr(C)/sum(C))."""
    k = c.shape[0]
    total = c.sum()
    if k < 2 or not np.isfinite(total) or total == 0:
        return float("nan")
    return float(k / (k - 1) * (1.0 - np.trace(c) / total))


def _n_respondents(items: pd.DataFrame) -> int:
    """Respondents who answered at least one item of the scale."""
    return int(items.notna().any(axis=1).sum())


def feldt_ci(alpha: float, n: int, k: int, ci: float = 0.95) -> tuple[float, float]:
    """Feldt (1965) confidence interval for Cronbach's alpha.

    ``(1 - alpha) / (1 - alpha_pop)`` follows an F distribution with
    ``n - 1`` and ``(n - 1)(k - 1)`` degrees of freedom, hence::

        lower = 1 - (1 - alpha) * F_{1 - p/2}(n - 1, (n - 1)(k - 1))
        upper = 1 - (1 - alpha) * F_{p/2}(n - 1, (n - 1)(k - 1)),   p = 1 - ci

    Identical to R ``psych::alpha.ci(alpha, n.obs = n, n.var = k, p.val = 1 - ci)``
    (the "Feldt" line printed by ``psych::alpha``).
    """
    if not 0 < ci < 1:
        raise ValueError(f"ci must be in (0, 1), got {ci}")
    if n < 2 or k < 2 or not np.isfinite(alpha):
        return float("nan"), float("nan")
    p = 1.0 - ci
    df1, df2 = n - 1, (n - 1) * (k - 1)
    lower = 1.0 - (1.0 - alpha) * stats.f.ppf(1.0 - p / 2.0, df1, df2)
    upper = 1.0 - (1.0 - alpha) * stats.f.ppf(p / 2.0, df1, df2)
    return float(lower), float(upper)


# --------------------------------------------------------------------------- public API
def reverse_code(
    items: pd.DataFrame, reverse: Sequence[str], low: float = 1, high: float = 5
) -> pd.DataFrame:
    """Reverse-code the ``reverse`` columns: ``x -> low + high - x``; NaN stays NaN.

    Other columns are returned unchanged (as float). Raises ``KeyError`` when a
    reverse item is not a column and ``ValueError`` when ``low >= high`` or a
    reversed column holds an answer outside ``[low, high]`` (which would silently
    produce an impossible recoded value, e.g. a 6 on a 1..5 scale).
    """
    items = _check_items(items)
    if not low < high:
        raise ValueError(f"low must be < high, got low={low}, high={high}")
    reverse = list(reverse)
    missing = [c for c in reverse if c not in items.columns]
    if missing:
        raise KeyError(f"reverse items not in the data: {missing}")
    if not reverse:
        return items.copy()
    rev = items[reverse]
    out_of_range = ((rev < low) | (rev > high)).any()
    if out_of_range.any():
        cols = list(out_of_range[out_of_range].index)
        raise ValueError(f"values outside [{low}, {high}] in reverse-keyed items {cols}")
    out = items.copy()
    out[reverse] = (low + high) - rev
    return out


def score(
    items: pd.DataFrame,
    reverse: Sequence[str] | None = None,
    min_answered: int | None = None,
    low: float = 1,
    high: float = 5,
    method: str = "mean",
) -> pd.Series:
    """Composite score per respondent (index preserved).

    * ``method="mean"``: mean of the answered items (after reverse coding).
    * ``method="sum"``: *prorated* sum = mean of answered items x k, so that a
      respondent who skipped an item is on the same 0..k*high metric as one who
      answered everything (a plain sum would be biased downwards).

    The score is NaN for respondents with fewer than ``min_answered`` answered
    items; default ``ceil(k / 2)`` ("at least half, rounding up").
    """
    items = _prepare(items, reverse, low, high)
    k = items.shape[1]
    if k == 0:
        raise ValueError("score() needs at least one item")
    if min_answered is None:
        min_answered = math.ceil(k / 2)
    if not 1 <= min_answered <= k:
        raise ValueError(f"min_answered must be in 1..{k}, got {min_answered}")
    if method not in ("mean", "sum"):
        raise ValueError(f"method must be 'mean' or 'sum', got {method!r}")
    answered = items.notna().sum(axis=1)
    values = items.mean(axis=1, skipna=True)
    if method == "sum":
        values = values * k
    return values.where(answered >= min_answered).rename(method)


def cronbach_alpha(
    items: pd.DataFrame,
    reverse: Sequence[str] | None = None,
    low: float = 1,
    high: float = 5,
    ci: float = 0.95,
) -> pd.Series:
    """Cronbach's alpha from the pairwise-complete covariance matrix, as ``psych::alpha``.

    Returns a Series with:

    * ``alpha``: raw alpha ``k/(k-1) * (1 - tr(C)/sum(C))`` (psych ``raw_alpha``);
    * ``alpha_ci_low`` / ``alpha_ci_high``: Feldt interval (see :func:`feldt_ci`),
      psych's ``alpha.ci`` / the "Feldt" line of ``print(psych::alpha(...))``;
    * ``std_alpha``: ``k/(k-1) * (1 - k/sum(R))`` with ``R = cov2cor(C)`` (psych ``std.alpha``);
    * ``average_r``: mean off-diagonal element of ``R`` (psych ``average_r``);
    * ``n``: respondents with at least one answered item (psych uses all rows; the
      two agree unless some rows are entirely empty); ``k``: number of items
      (stored as floats: the Series is float64).

    Validated against R psych 2.2.9 on ``bfi`` (tests/test_scales.py).
    """
    items = _prepare(items, reverse, low, high)
    k = items.shape[1]
    if k < 2:
        raise ValueError(f"alpha needs at least 2 items, got {k}")
    c = _pairwise_cov(items)
    r = _cov2cor(c)
    alpha = _alpha_from_cov(c)
    sum_r = r.sum()
    std_alpha = float(k / (k - 1) * (1.0 - k / sum_r)) if np.isfinite(sum_r) else float("nan")
    average_r = float((sum_r - k) / (k * (k - 1)))
    n = _n_respondents(items)
    lo, hi = feldt_ci(alpha, n, k, ci)
    return pd.Series(
        {
            "alpha": alpha,
            "alpha_ci_low": lo,
            "alpha_ci_high": hi,
            "std_alpha": std_alpha,
            "average_r": average_r,
            "n": n,
            "k": k,
        },
        dtype=float,
    )


def _one_factor_minres(r: np.ndarray) -> np.ndarray:
    """Loadings of a single factor minimising sum_{i<j} (r_ij - l_i l_j)^2 (minres / ULS).

    Same criterion as ``psych::fa(fm = "minres")`` (off-diagonal residuals only);
    communalities are bounded at 1 - 0.005 like psych's lower bound on uniqueness.
    Start values: first principal axis of R with SMCs on the diagonal.
    """
    k = r.shape[0]
    iu = np.triu_indices(k, 1)
    target = r[iu]
    smc = 1.0 - 1.0 / np.diag(np.linalg.pinv(r))
    reduced = r.copy()
    np.fill_diagonal(reduced, np.clip(smc, 0.005, 0.995))
    vals, vecs = np.linalg.eigh(reduced)
    start = vecs[:, -1] * math.sqrt(max(vals[-1], 1e-6))
    if start.sum() < 0:
        start = -start

    def resid(lam: np.ndarray) -> np.ndarray:
        return np.outer(lam, lam)[iu] - target

    def jac(lam: np.ndarray) -> np.ndarray:
        j = np.zeros((len(target), k))
        rows = np.arange(len(target))
        j[rows, iu[0]] = lam[iu[1]]
        j[rows, iu[1]] = lam[iu[0]]
        return j

    bound = math.sqrt(0.995)
    start = np.clip(start, -bound + 1e-9, bound - 1e-9)
    fit = optimize.least_squares(
        resid, start, jac=jac, bounds=(-bound, bound), xtol=1e-14, ftol=1e-14, gtol=1e-14
    )
    return fit.x


def _one_factor_ml(r: np.ndarray) -> np.ndarray:
    """Loadings of a single factor by maximum likelihood (Wishart discrepancy on R).

    Minimises ``log|S| + tr(R S^-1) - log|R| - k`` with ``S = l l' + diag(psi)``,
    ``psi = 1 - l^2`` bounded in [0.005, 1].
    """
    k = r.shape[0]
    _, logdet_r = np.linalg.slogdet(r)
    start = _one_factor_minres(r)

    def f(lam: np.ndarray) -> float:
        s = np.outer(lam, lam)
        np.fill_diagonal(s, 1.0)
        sign, logdet = np.linalg.slogdet(s)
        if sign <= 0:
            return 1e10
        return float(logdet + np.trace(np.linalg.solve(s, r)) - logdet_r - k)

    bound = math.sqrt(0.995)
    fit = optimize.minimize(
        f, start, method="L-BFGS-B", bounds=[(-bound, bound)] * k, options={"ftol": 1e-15}
    )
    return fit.x


def omega_total(
    items: pd.DataFrame,
    reverse: Sequence[str] | None = None,
    low: float = 1,
    high: float = 5,
    method: str = "minres",
) -> float:
    """McDonald's omega total from a one-factor model, as ``psych::omega(x, nfactors = 1)``.

    Method: ``R`` is the pairwise-complete correlation matrix (R ``cor(x, use =
    "pairwise")``, what ``psych::omega`` uses). One factor is fitted to ``R`` by
    ``method="minres"`` (default; minimises the squared off-diagonal residuals, the
    default of ``psych::fa``/``psych::omega``) or ``"ml"`` (maximum likelihood).
    With loadings ``l`` and uniquenesses ``psi = 1 - l^2``::

        omega_total = (sum(R) - sum(psi)) / sum(R)

    the psych definition (observed variance of the standardised total in the
    denominator). When the one-factor model fits exactly, ``sum(R) = (sum l)^2 +
    sum(psi)`` and this equals McDonald's ``(sum l)^2 / ((sum l)^2 + sum psi)``.
    Items are *not* auto-flipped (psych does): pass reverse-keyed items in ``reverse``.

    Needs >= 3 items (a one-factor model of 2 items is not identified): returns NaN
    otherwise. Validated against ``psych::omega(x, nfactors = 1, fm = "minres")``
    and ``psych::fa(r, 1, fm = "minres")`` loadings on bfi (agreement ~1e-7 / 1e-5,
    psych's optimiser tolerance), and by recovery of the closed-form omega for
    planted loadings.
    """
    items = _prepare(items, reverse, low, high)
    if method not in ("minres", "ml"):
        raise ValueError(f"method must be 'minres' or 'ml', got {method!r}")
    k = items.shape[1]
    if k < 3:
        return float("nan")
    r = items.corr(min_periods=2).to_numpy(dtype=float)
    if not np.isfinite(r).all():
        return float("nan")
    lam = one_factor_loadings(r, method=method)
    total = r.sum()
    return float((total - (1.0 - lam**2).sum()) / total)


def one_factor_loadings(r: np.ndarray, method: str = "minres") -> np.ndarray:
    """Single-factor standardised loadings of correlation matrix ``r`` (sign: sum >= 0).

    ``method="minres"`` matches ``psych::fa(r, 1, fm = "minres")`` loadings to ~1e-5
    on bfi; ``"ml"`` maximises the normal likelihood (Wishart discrepancy).
    """
    r = np.asarray(r, dtype=float)
    if method not in ("minres", "ml"):
        raise ValueError(f"method must be 'minres' or 'ml', got {method!r}")
    lam = _one_factor_minres(r) if method == "minres" else _one_factor_ml(r)
    return -lam if lam.sum() < 0 else lam


def item_total(
    items: pd.DataFrame,
    reverse: Sequence[str] | None = None,
    low: float = 1,
    high: float = 5,
) -> pd.DataFrame:
    """Per-item diagnostics, indexed by item (after reverse coding).

    * ``r_drop``: corrected item-total correlation, item vs the sum of the *other*
      items, from the pairwise covariance matrix::

          r_drop_i = (colsum(C)_i - C_ii) / sqrt(C_ii * (sum(C) - 2 colsum(C)_i + C_ii))

      (psych ``alpha(...)$item.stats$r.drop``);
    * ``alpha_if_dropped``: raw alpha of ``C`` without item i (psych
      ``alpha.drop$raw_alpha``);
    * ``n`` answered, ``mean``, ``sd`` of the (recoded) item; ``reversed`` flag.

    Validated against R psych 2.2.9 on bfi.
    """
    items = _prepare(items, reverse, low, high)
    k = items.shape[1]
    if k < 2:
        raise ValueError(f"item_total needs at least 2 items, got {k}")
    c = _pairwise_cov(items)
    colsum = c.sum(axis=0)
    diag = np.diag(c)
    total = c.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        r_drop = (colsum - diag) / np.sqrt(diag * (total - 2 * colsum + diag))
    keep = ~np.eye(k, dtype=bool)
    if k > 2:
        alpha_drop = [_alpha_from_cov(c[np.ix_(keep[i], keep[i])]) for i in range(k)]
    else:
        alpha_drop = [float("nan")] * k
    rev = set(reverse or [])
    return pd.DataFrame(
        {
            "n": items.notna().sum().to_numpy(),
            "mean": items.mean().to_numpy(),
            "sd": items.std().to_numpy(),
            "r_drop": r_drop,
            "alpha_if_dropped": alpha_drop,
            "reversed": [c in rev for c in items.columns],
        },
        index=pd.Index(items.columns, name="item"),
    )


# the columns of :func:`reliability_table`, one row per scale
RELIABILITY_COLUMNS = [
    "scale",
    "n",
    "k",
    "alpha",
    "alpha_ci_low",
    "alpha_ci_high",
    "std_alpha",
    "omega",
    "reliable",
    "warning",
]


def reliability_table(
    df: pd.DataFrame,
    scales: Mapping[str, Mapping[str, Sequence[str]]],
    low: float = 1,
    high: float = 5,
    threshold: float = RELIABILITY_THRESHOLD,
    ci: float = 0.95,
) -> pd.DataFrame:
    """One row per scale: ``scale, n, k, alpha, alpha_ci_low, alpha_ci_high, std_alpha,
    omega, reliable, warning``.

    ``scales`` maps a scale name to ``{"items": [...], "reverse": [...]}``
    (``reverse`` optional). ``reliable`` is ``alpha >= threshold`` (0.7). ``warning``
    is an English sentence when the scale is not reliable (or alpha cannot be
    computed) and also flags items whose corrected item-total correlation is
    negative (usually a missing reverse key); otherwise an empty string.
    Statistics are those of :func:`cronbach_alpha` and :func:`omega_total` (minres).
    """
    rows = []
    for name, spec in scales.items():
        cols = list(spec["items"])
        reverse = list(spec.get("reverse", []) or [])
        missing = [c for c in cols + reverse if c not in df.columns]
        if missing:
            raise KeyError(f"scale {name!r}: items not in the data: {missing}")
        not_in_scale = [c for c in reverse if c not in cols]
        if not_in_scale:
            raise ValueError(f"scale {name!r}: reverse items not among its items: {not_in_scale}")
        items = _prepare(df[cols], reverse, low, high)
        k = len(cols)
        row: dict[str, object] = {"scale": name, "n": _n_respondents(items), "k": k}
        if k < 2:
            row.update(
                alpha=np.nan,
                alpha_ci_low=np.nan,
                alpha_ci_high=np.nan,
                std_alpha=np.nan,
                omega=np.nan,
                reliable=False,
                warning=f"Scale '{name}' has {k} item(s); reliability needs at least 2 items.",
            )
            rows.append(row)
            continue
        a = cronbach_alpha(items, ci=ci)
        row.update(
            alpha=a["alpha"],
            alpha_ci_low=a["alpha_ci_low"],
            alpha_ci_high=a["alpha_ci_high"],
            std_alpha=a["std_alpha"],
            omega=omega_total(items),
        )
        alpha = a["alpha"]
        reliable = bool(np.isfinite(alpha) and alpha >= threshold)
        messages = []
        if not np.isfinite(alpha):
            messages.append(
                f"Cronbach's alpha for scale '{name}' could not be computed "
                "(too few answers or items without variance)."
            )
        elif not reliable:
            messages.append(
                f"Scale '{name}' has low internal consistency (alpha = {alpha:.2f} < "
                f"{threshold:.2f}); treat its composite score with caution."
            )
        it = item_total(items)
        negative = list(it.index[it["r_drop"] < 0])
        if negative:
            messages.append(
                f"Item(s) {', '.join(map(str, negative))} correlate negatively with the rest "
                "of the scale; check the reverse keying."
            )
        row.update(reliable=reliable, warning=" ".join(messages))
        rows.append(row)
    return pd.DataFrame(rows, columns=RELIABILITY_COLUMNS)
