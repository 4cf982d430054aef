"""Proportional-odds (ordered logit) models, as R's ``MASS::polr`` and ``survey::svyolr``.

``P(Y <= k | x) = expit(zeta_k - x'beta)`` for the ordered levels ``1 < ... < K`` (no intercept:
the thresholds ``zeta_1 < ... < zeta_{K-1}`` take its place).  :func:`fit_polr` maximises the
weighted log-likelihood by Newton's method with the analytic gradient and Hessian, to a step
below ``1e-10`` (R's ``polr`` stops at ``optim``'s BFGS tolerance; with ``control = list(reltol =
1e-15)`` both agree to 1e-8).  :func:`svyolr` adds design-based (Taylor) SEs for coefficients
and thresholds: ``H^-1 B H^-1`` with ``B`` the design variance of the weighted score totals.

Validated against R (MASS 7.3, survey 4.x; tests/reference/r_designs_reference.R).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from scipy import linalg, stats

from pipelines.stats.design import (
    DesignError,
    SurveyDesign,
    _check_design,
    _r_term_name,
    _t_interval,
)

__all__ = ["PolrFit", "fit_polr", "replicate_polr", "replicate_polr_vcov", "svyolr"]

_SEPARATION = 30.0  # a fitted cut this far from a row's predictor: probability below 1e-13


class PolrFit:
    """A fitted proportional-odds model: ``beta`` (p), ``zeta`` (K - 1), the Hessian of the
    weighted log-likelihood in (beta, zeta) and each row's unweighted score."""

    def __init__(self, beta, zeta, hessian, scores, loglik, iterations):
        self.beta, self.zeta, self.hessian = beta, zeta, hessian
        self.scores, self.loglik, self.iterations = scores, loglik, iterations


def _expit(u: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + np.tanh(0.5 * u))  # overflow-free logistic


def _pieces(theta: np.ndarray, x: np.ndarray, y: np.ndarray, k: int):
    """Linear predictors at the upper and lower cut of each row's category and their maps."""
    n, p = x.shape
    beta, zeta = theta[:p], theta[p:]
    eta = x @ beta
    cut = np.r_[-np.inf, zeta, np.inf]
    upper, lower = cut[y + 1] - eta, cut[y] - eta  # y in 0..K-1
    return beta, zeta, eta, upper, lower


def _loglik_grad_hess(theta, x, y, w, k):
    n, p = x.shape
    _, _, _, upper, lower = _pieces(theta, x, y, k)
    fu, fl = _expit(upper), _expit(lower)
    prob = np.where(np.isinf(upper), 1.0, fu) - np.where(np.isinf(lower), 0.0, fl)
    if np.any(prob <= 0):
        return -np.inf, None, None, None
    du = np.where(np.isinf(upper), 0.0, fu * (1 - fu))  # densities at the cuts
    dl = np.where(np.isinf(lower), 0.0, fl * (1 - fl))
    ddu = du * (1 - 2 * np.where(np.isinf(upper), 0.0, fu))
    ddl = dl * (1 - 2 * np.where(np.isinf(lower), 0.0, fl))
    # d upper / d theta = [-x, e_y] (y < K-1); d lower / d theta = [-x, e_{y-1}] (y > 0)
    m = p + k - 1
    a = np.zeros((n, m))
    b = np.zeros((n, m))
    a[:, :p] = -x
    b[:, :p] = -x
    rows = np.arange(n)
    top, bottom = y < k - 1, y > 0
    a[rows[top], p + y[top]] = 1.0
    b[rows[bottom], p + y[bottom] - 1] = 1.0
    a[~top] = 0.0  # no upper cut: its density and derivative are 0 anyway
    b[~bottom] = 0.0
    scores = (du[:, None] * a - dl[:, None] * b) / prob[:, None]
    loglik = float(w @ np.log(prob))
    grad = w @ scores
    hess = (a * (w * ddu / prob)[:, None]).T @ a - (b * (w * ddl / prob)[:, None]).T @ b
    hess -= (scores * w[:, None]).T @ scores
    return loglik, grad, hess, scores


def fit_polr(
    x: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    n_levels: int,
    max_iter: int = 200,
    tol: float = 1e-10,
    start: np.ndarray | None = None,
) -> PolrFit:
    """Weighted proportional-odds fit; ``y`` holds level codes 0..n_levels-1, ``x`` no intercept.

    Starts from beta = 0 and the weighted cumulative logits (or ``start``: beta then zeta, as
    polr's ``start=``); Newton steps, halved until the log-likelihood does not fall, stop when
    the largest step is below ``tol``.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    w = np.asarray(w, dtype=np.float64)
    k = int(n_levels)
    if k < 3:
        raise DesignError("A proportional-odds model needs an outcome with 3 or more levels.")
    counts = np.bincount(y, weights=w, minlength=k)
    if np.any(counts <= 0):
        raise DesignError("Every outcome level needs respondents for a proportional-odds model.")
    cum = np.cumsum(counts)[:-1] / counts.sum()
    theta = np.r_[np.zeros(x.shape[1]), np.log(cum / (1 - cum))]
    if start is not None:
        theta = np.asarray(start, dtype=np.float64).copy()
    loglik, grad, hess, scores = _loglik_grad_hess(theta, x, y, w, k)
    iterations = 0
    for _ in range(max_iter):
        iterations += 1
        try:
            step = linalg.solve(-hess, grad, assume_a="sym")
        except (linalg.LinAlgError, ValueError) as exc:
            raise DesignError(
                "The proportional-odds model cannot be fitted: terms are collinear or an "
                "outcome level is perfectly predicted."
            ) from exc
        for _ in range(60):
            new = theta + step
            ll_new, g_new, h_new, s_new = _loglik_grad_hess(new, x, y, w, k)
            if ll_new >= loglik - 1e-12 * abs(loglik):
                break
            step = step / 2
        else:
            raise DesignError("The proportional-odds fit stopped improving (check separation).")
        theta, loglik, grad, hess, scores = new, ll_new, g_new, h_new, s_new
        if np.max(np.abs(step)) < tol:
            break
    else:
        raise DesignError(f"The proportional-odds fit did not converge in {max_iter} iterations.")
    _, _, _, upper, lower = _pieces(theta, x, y, k)
    cuts = np.abs(np.r_[upper[np.isfinite(upper)], lower[np.isfinite(lower)]])
    if cuts.size and cuts.max() > _SEPARATION:
        raise DesignError(
            "The proportional-odds model predicts some answers with certainty (separation): "
            "a term splits the outcome levels perfectly. Merge levels or drop the term."
        )
    p = x.shape[1]
    return PolrFit(theta[:p], theta[p:], hess, scores, loglik, iterations)


def replicate_polr(
    rep: np.ndarray, x: np.ndarray, y: np.ndarray, n_levels: int, est: np.ndarray, tol: float
) -> np.ndarray:
    """(replicates x (p + K - 1)) coefficients and thresholds refitted with each column of
    ``rep`` as weights (rows a replicate drops left out), each started at the full fit ``est``.

    A replicate without some answer level is refitted on the levels it has: its coefficients
    are kept (merging adjacent levels leaves a proportional-odds model's coefficients as they
    are) and its thresholds are missing (NaN). A refit that fails (separation, no convergence,
    fewer than 3 levels) is missing altogether; :func:`replicate_polr_vcov` leaves them out."""
    p = len(est) - (n_levels - 1)
    out = np.full((rep.shape[1], len(est)), np.nan)
    for r in range(rep.shape[1]):
        use = rep[:, r] > 0
        wr = rep[use, r]
        levels = np.unique(y[use])
        if len(levels) < 3:
            continue
        start = np.r_[est[:p], est[p:][levels[:-1]]]  # the cut above each level it has
        codes = np.searchsorted(levels, y[use])
        try:
            fit = fit_polr(x[use], codes, wr / wr.mean(), len(levels), tol=tol, start=start)
        except DesignError:
            continue
        out[r, :p] = fit.beta
        if len(levels) == n_levels:
            out[r, p:] = fit.zeta
    return out


def replicate_polr_vcov(design: SurveyDesign, reps: np.ndarray, est: np.ndarray, p: int):
    """R's ``svrVar`` of :func:`replicate_polr`'s coefficients (over the replicates that have
    them) and thresholds (over those that have every threshold), their covariance over the
    replicates with both; identical to ``svrVar`` of all estimates when none is missing."""
    k = len(est)
    out = np.full((k, k), np.nan)
    for cols in (np.arange(k), np.arange(p), np.arange(p, k)):
        if np.isfinite(reps[:, cols]).all(axis=1).any():
            out[np.ix_(cols, cols)] = design.replicate_vcov(reps[:, cols], est[cols])
    if np.isnan(np.diag(out)[:p]).any():
        raise DesignError("Every replicate gave a missing estimate.")
    return out


def svyolr(
    design: SurveyDesign, formula: str, conf_level: float = 0.95, tol: float = 1e-10
) -> pd.DataFrame:
    """Design-weighted proportional-odds model with Taylor SEs, as ``survey::svyolr``.

    ``formula`` is ``"y ~ x1 + C(g)"``; ``y`` is an ordered outcome (its sorted distinct values,
    or the categories of an ordered Categorical, are the levels).  Rows with a missing value are
    dropped (a domain).  Returns one row per coefficient and per threshold (``term`` like
    ``"2|3"``, ``kind`` ``"coefficient"`` or ``"threshold"``) with estimate, se, t_value,
    p_value, ci_low, ci_high, df (``degf - p``, as R) and n.
    """
    import patsy

    design = _check_design(design)
    lhs, sep, rhs = formula.partition("~")
    lhs = lhs.strip()
    if not sep or lhs not in design.data.columns:
        raise DesignError(f"The model formula {formula!r} must be 'outcome ~ terms'.")
    dom = np.flatnonzero(design._domain)
    frame = design.data.iloc[dom].reset_index(drop=True)
    for name in set(re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", rhs)) & set(frame.columns):
        col = frame[name]
        if not (pd.api.types.is_numeric_dtype(col) or col.dtype == bool):
            frame[name] = pd.Categorical(col)
    try:
        x_df = patsy.dmatrix(rhs, frame, NA_action="drop", return_type="dataframe")
    except patsy.PatsyError as exc:
        raise DesignError(f"Could not use the model formula {formula!r}: {exc}") from exc
    yv = frame[lhs].iloc[x_df.index.to_numpy()]
    ok = yv.notna().to_numpy()
    x_df, yv = x_df[ok], yv[ok]
    if isinstance(yv.dtype, pd.CategoricalDtype):
        levels = [c for c in yv.cat.categories if (yv == c).any()]
    else:
        levels = sorted(pd.unique(yv))
    codes = pd.Index(levels).get_indexer(yv)
    names = [c for c in x_df.columns if c != "Intercept"]
    x = x_df[names].to_numpy(dtype=np.float64)
    kept = dom[x_df.index.to_numpy()]
    w = design._struct.w[kept]
    fit = fit_polr(x, codes, w / w.mean(), len(levels), tol=tol)
    est = np.r_[fit.beta, fit.zeta]
    method = "taylor-svyolr-logistic"
    if hasattr(design, "replicate_weights_of"):  # R's svyolr.svyrep.design: refit each replicate
        reps = replicate_polr(design.replicate_weights_of(kept), x, codes, len(levels), est, tol)
        vcov = replicate_polr_vcov(design, reps, est, len(fit.beta))
        method = f"{design.method}-svyolr-logistic"
    else:
        h_inv = np.linalg.inv(-fit.hessian) / w.mean()  # Hessian of the log-likelihood in w
        vcov = h_inv @ design.score_vcov(kept, fit.scores * w[:, None]) @ h_inv
    se = np.sqrt(np.clip(np.diag(vcov), 0, None))
    rows_mask = np.zeros(len(design.data), dtype=bool)
    rows_mask[kept] = True
    df = design.degf_of(rows_mask) - len(fit.beta)
    with np.errstate(divide="ignore", invalid="ignore"):
        tval = est / se
    pval = 2 * stats.t.sf(np.abs(tval), df) if df > 0 else np.full(len(est), np.nan)
    lo, hi = _t_interval(est, se, np.full(len(est), df), conf_level)
    thresholds = [f"{a}|{b}" for a, b in zip(levels[:-1], levels[1:], strict=True)]
    return pd.DataFrame(
        {
            "term": [*names, *thresholds],
            "r_term": [*(_r_term_name(nm) for nm in names), *thresholds],
            "kind": ["coefficient"] * len(names) + ["threshold"] * len(thresholds),
            "estimate": est,
            "se": se,
            "t_value": tval,
            "p_value": pval,
            "ci_low": lo,
            "ci_high": hi,
            "df": df,
            "n": len(kept),
            "method": method,
            "variable": lhs,
        }
    )
