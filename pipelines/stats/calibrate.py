"""Calibrated survey designs: raking and (bounded) calibration with calibration-aware variance.

:func:`rake` and :func:`calibrate` take a :class:`~pipelines.stats.design.SurveyDesign` and return
a new design whose weights meet the population totals and whose estimators (``svymean``,
``svytotal``, ``svyprop``, ``svyby``, ``svyglm``) use the residuals of their scores on the
calibration variables in the variance, as R's ``rake()`` / ``calibrate()`` on a ``svydesign``
(``svyrecvar`` with ``postStrata``).  Calibration removes the part of the sampling variance the
auxiliary totals explain, so intervals are narrower than when the same weights are treated as
fixed; ``variance="fixed"`` keeps the old behaviour (a plain design on the new weights).

* GREG (``calibrate``): residuals ``x - w1 * Z (Z' W0 Z)^-1 Z' (x / g)``, R's
  ``qr.resid(qr(Z sqrt(w0)), x / (g sqrt(w0))) * g sqrt(w0)``.
* Raking (``rake``): R's ten sweeps of ``x <- x - w1 * ave(x / w1, margin)`` over the margins,
  done on the small level-by-level coefficient matrices (no sweep over the rows).

Validated against R survey 4.x (tests/reference/r_designs_reference.R).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from pipelines.stats.design import DesignError, SurveyDesign
from pipelines.stats.replicate import ReplicateDesign
from pipelines.stats.weights import rake as rake_weights
from pipelines.stats.weights import rake_columns

__all__ = ["calibrate", "declare_raked", "rake"]

_R_RAKING_SWEEPS = 10  # svyrecvar iterates the raking projections ten times


# ---------------------------------------------------------------------- residualisers
class _Calibration:
    """Residuals ``x - w1 * (B @ solve(B' (a x)))`` of scores ``x`` on a calibration basis ``B``
    (rows x q, sparse); ``solve`` is the calibration's map from inner products to coefficients.

    The design needs only PSU totals of the residuals, so :meth:`coef` reads the scored rows
    alone and :meth:`psu_fitted` subtracts ``(PSU totals of w1 B) @ coef`` (cached per stage):
    no rows x scores matrix is built."""

    basis: sparse.csr_matrix
    a: np.ndarray
    w1: np.ndarray
    _cache: dict

    def _solve(self, inner: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def residuals(self, x: np.ndarray) -> np.ndarray:
        """Residuals of a full (rows x k) score matrix (used when calibrations are chained)."""
        coef = self._solve(np.asarray(self.basis.T @ (x * self.a[:, None])))
        return x - self.w1[:, None] * np.asarray(self.basis @ coef)

    def coef(self, rows: np.ndarray, x: Any) -> np.ndarray:
        """Coefficients for scores ``x`` on the rows ``rows`` (integer index); ``x`` is dense
        (rows x k) or sparse (rows x groups)."""
        every = len(rows) == len(self.a)  # all rows, in order (np.flatnonzero of a full mask)
        b = self._scaled_basis() if every else self._scaled_basis()[rows]
        inner = b.T @ x
        return self._solve(inner.toarray() if sparse.issparse(inner) else np.asarray(inner))

    def _scaled_basis(self) -> sparse.csr_matrix:
        """``a B``, made once: scaling the sparse basis rather than each estimator's dense
        scores touches far fewer numbers, and a survey's models ask many times."""
        if self._cache.get("scaled") is None:
            b = self.basis.tocsr()
            self._cache["scaled"] = sparse.csr_matrix(
                (b.data * np.repeat(self.a, np.diff(b.indptr)), b.indices, b.indptr),
                shape=b.shape,
            )
        return self._cache["scaled"]

    def psu_fitted(self, st: Any, coef: np.ndarray) -> np.ndarray:
        """PSU totals of ``w1 * (B @ coef)`` for the stage ``st``."""
        key = id(st.psu_code)
        hit = self._cache.get(key)
        if hit is None or hit[0] is not st.psu_code:
            n = len(self.w1)
            p = sparse.csr_matrix((self.w1, (st.psu_code, np.arange(n))), shape=(st.n_psu, n))
            hit = (st.psu_code, (p @ self.basis).tocsr())
            self._cache[key] = hit
        return np.asarray(hit[1] @ coef)


class GregCalibration(_Calibration):
    """R's ``greg_calibration``: ``qr.resid(qr(Z sqrt(w0)), x / (g sqrt(w0))) * g sqrt(w0)``,
    i.e. ``x - w1 Z (Z' W0 Z)^-1 Z' (x / g)``."""

    def __init__(self, z: sparse.spmatrix, w1: np.ndarray, inv_g: np.ndarray, chol: tuple):
        self.basis, self.a, self.w1, self.chol, self._cache = z.tocsr(), inv_g, w1, chol, {}

    def _solve(self, inner: np.ndarray) -> np.ndarray:
        from scipy import linalg

        return linalg.cho_solve(self.chol, inner)


class RakingCalibration(_Calibration):
    """R's raking projections, ``x <- x - w1 * ave(x / w1, margin)``, ten sweeps over the
    margins, done on the level coefficients: ``cross[k][j]`` is the (levels_k x levels_j)
    table of row counts over the rows per level of k."""

    def __init__(self, margins: list, counts: list, w1: np.ndarray):
        self.basis = sparse.hstack(margins, format="csr")
        self.a, self.w1, self._cache = 1.0 / w1, w1, {}
        self.sizes = [m.shape[1] for m in margins]
        self.counts = [np.maximum(c, 1) for c in counts]
        self.cross = [
            [np.asarray((mk.T @ mj).todense()) / ck[:, None] for mj in margins]
            for mk, ck in zip(margins, self.counts, strict=True)
        ]

    def _solve(self, inner: np.ndarray) -> np.ndarray:
        edges = np.cumsum([0, *self.sizes])
        base = [inner[edges[k] : edges[k + 1]] / c[:, None] for k, c in enumerate(self.counts)]
        coef = [np.zeros_like(b) for b in base]
        for _ in range(_R_RAKING_SWEEPS):
            for k in range(len(base)):
                level_mean = base[k] - sum(self.cross[k][j] @ coef[j] for j in range(len(base)))
                coef[k] = coef[k] + level_mean
        return np.vstack(coef)


def _with_weights(design: SurveyDesign, w: np.ndarray, cal: Any) -> SurveyDesign:
    """A copy of ``design`` with row weights ``w`` and (unless None) one more calibration."""
    new = copy.copy(design)
    object.__setattr__(new, "_struct", dataclasses.replace(design._struct, w=w))
    if cal is not None:
        object.__setattr__(new, "_calib", (*design._calib, cal))
    return new


def _full_design(design: Any, what: str) -> SurveyDesign:
    if not isinstance(design, SurveyDesign):
        raise DesignError(f"{what}() needs a SurveyDesign, got {type(design).__name__}.")
    if not design.domain.all():
        raise DesignError(
            f"{what}() calibrates the whole sample; call it before taking a subset of the design."
        )
    return design


def _check_variance(variance: str) -> None:
    if variance not in ("calibrated", "fixed"):
        raise DesignError(f"variance must be 'calibrated' or 'fixed', not {variance!r}.")


def _indicator(codes: np.ndarray, n_levels: int) -> sparse.csc_matrix:
    """Sparse rows x levels 0/1 matrix; a code of -1 is a row in no level."""
    rows = np.flatnonzero(codes >= 0)
    return sparse.csc_matrix(
        (np.ones(len(rows)), (rows, codes[rows])), shape=(len(codes), n_levels)
    )


# ---------------------------------------------------------------------- raking
def rake(
    design: SurveyDesign,
    margins: Mapping[str, pd.Series | Mapping[Any, float]],
    variance: str = "calibrated",
    max_iter: int = 1000,
    tol: float = 1e-10,
) -> SurveyDesign:
    """Rake the design's weights to population ``margins`` (column -> totals by level).

    The weights are :func:`pipelines.stats.weights.rake` started from the design's weights (run
    to convergence; R: ``rake(des, list(~a, ~b), list(pop_a, pop_b), control = list(maxit =
    1000, epsilon = 1e-13))``).  ``variance="calibrated"`` (default) makes every estimator's SE
    that of R's raked design; ``"fixed"`` treats the raked weights as fixed sampling weights.
    On a :class:`~pipelines.stats.replicate.ReplicateDesign` every replicate's weights are raked
    to the same margins too (R's ``rake()`` on a ``svrepdesign``), so the replicate variance
    carries the raking; ``"fixed"`` scales each replicate by the full sample's raking factors.
    """
    _check_variance(variance)
    design = _full_design(design, "rake")
    if isinstance(design, ReplicateDesign):
        return _rake_replicates(design, margins, variance, max_iter, tol)
    w0 = design._struct.w
    w1 = rake_weights(design.data, margins, base_weight=w0, max_iter=max_iter, tol=tol)
    w1 = w1.to_numpy(dtype=np.float64)
    if variance == "fixed":
        return _with_weights(design, w1, None)
    return _with_weights(design, w1, _raking(design, list(margins), w1))


def _rake_replicates(
    design: ReplicateDesign, margins: Mapping, variance: str, max_iter: int, tol: float
) -> ReplicateDesign:
    """Full-sample and replicate weights raked alike, in one pass (zero weights stay zero)."""
    w0, rep = design._struct.w, design._rep
    labels = ["full sample", *(f"replicate {r + 1}" for r in range(rep.shape[1]))]
    both = rake_columns(design.data, margins, np.column_stack([w0, rep]), max_iter, tol, labels)
    w1 = both[:, 0]
    if variance == "fixed":
        return design.reweighted(w1, rep * (w1 / w0)[:, None])
    return design.reweighted(w1, both[:, 1:], "raked", list(margins))


def declare_raked(design: SurveyDesign, columns: Sequence[str]) -> SurveyDesign:
    """The same design, its weights declared raked to the margins of ``columns``.

    For weights raked elsewhere (e.g. raked then trimmed, or delivered with the data): every
    estimator's SE then uses the raking residuals, as R's ``rake()`` does for its own weights.
    Rows missing any of ``columns`` were not raked and keep their scores.
    """
    design = _full_design(design, "declare_raked")
    if not columns:
        raise DesignError("declare_raked() needs at least one margin column.")
    return _with_weights(design, design._struct.w, _raking(design, list(columns), None))


def _raking(design: SurveyDesign, columns: list[str], w1: np.ndarray | None) -> RakingCalibration:
    """R's raking projections on the level indicators of ``columns`` (rows with a missing
    value in any of them belong to no level)."""
    data = design.data
    for col in columns:
        if col not in data.columns:
            raise DesignError(f"Margin column {col!r} is not a column of the survey data.")
    complete = data[columns].notna().all(axis=1).to_numpy()
    mats, counts = [], []
    for col in columns:
        codes, levels = pd.factorize(data[col])
        codes = np.where(complete, codes, -1)
        mats.append(_indicator(codes, len(levels)))
        counts.append(np.bincount(codes[codes >= 0], minlength=len(levels)).astype(np.float64))
    return RakingCalibration(mats, counts, design._struct.w if w1 is None else w1)


# ---------------------------------------------------------------------- calibration
def _model_matrix(
    design: SurveyDesign, margins: Mapping[str, Any], population_size: float | None
) -> tuple[sparse.csc_matrix, np.ndarray, list[str]]:
    """Model matrix (intercept, treatment dummies of categorical margins, numeric columns) and
    its population totals, as R's ``model.matrix(~a + b + x)`` and ``calibrate(population=)``."""
    data = design.data
    n = len(data)
    blocks, totals, names = [], [], []
    size = population_size
    for col, margin in margins.items():
        if col not in data.columns:
            raise DesignError(f"Calibration variable {col!r} is not a column of the survey data.")
        if isinstance(margin, Mapping | pd.Series):
            target = pd.Series(margin, dtype="float64")
            codes = target.index.get_indexer(data[col])
            if (codes < 0).any():
                bad = pd.unique(data[col][codes < 0]).tolist()
                raise DesignError(
                    f"Column {col!r} has level(s) {bad[:8]} that its population margin lacks "
                    f"(margin levels: {target.index.tolist()})."
                )
            grand = float(target.sum())
            if size is None:
                size = grand
            elif abs(grand - size) > 1e-6 * size:
                raise DesignError(
                    f"The margin of {col!r} sums to {grand:,.6g}, but the population size is "
                    f"{size:,.6g}; every categorical margin must have the same total."
                )
            ind = _indicator(codes, len(target))[:, 1:]  # treatment contrasts, as R
            blocks.append(ind)
            totals.extend(target.to_numpy()[1:])
            names.extend(f"{col}{lv}" for lv in target.index[1:])
        else:
            x = pd.to_numeric(data[col], errors="coerce").to_numpy(dtype=np.float64)
            if not np.isfinite(x).all():
                raise DesignError(f"Calibration variable {col!r} must be numeric with no gaps.")
            blocks.append(sparse.csc_matrix(x[:, None]))
            totals.append(float(margin))
            names.append(col)
    if size is None:
        raise DesignError("Give population_size when every calibration total is numeric.")
    z = sparse.hstack([sparse.csc_matrix(np.ones((n, 1))), *blocks], format="csc")
    return z, np.array([size, *totals], dtype=np.float64), ["(Intercept)", *names]


_CALFUNS = {
    # F(u) - 1 and dF(u) with bounds on g, as R's cal.linear / cal.raking
    "linear": (
        lambda u, lo, hi: np.minimum(np.maximum(u + 1, lo), hi) - 1,
        lambda u, lo, hi: ((u < hi - 1) & (u > lo - 1)).astype(np.float64),
    ),
    "raking": (
        lambda u, lo, hi: np.minimum(np.maximum(np.exp(u), lo), hi) - 1,
        lambda u, lo, hi: np.where((u < hi - 1) & (u > lo - 1), np.exp(u), 0.0),
    ),
}


def _grake(
    z: sparse.csc_matrix,
    w0: np.ndarray,
    totals: np.ndarray,
    calfun: str,
    bounds: tuple[float, float],
    max_iter: int,
    tol: float,
) -> np.ndarray:
    """g-weights solving ``Z' (w0 g) = totals`` with ``g = F(Z eta)`` (Newton, R's grake)."""
    fm1, df = _CALFUNS[calfun]
    lo, hi = bounds
    eta = np.zeros(z.shape[1])
    u = np.zeros(z.shape[0])
    for _ in range(max_iter):
        deriv = df(u, lo, hi)
        tmat = np.asarray((z.T @ z.multiply((w0 * deriv)[:, None])).todense())
        misfit = totals - z.T @ (w0 * (1 + fm1(u, lo, hi)))
        step = np.linalg.pinv(tmat, rcond=256 * np.finfo(float).eps) @ misfit
        eta = eta + step
        u = z @ eta
        g = 1 + fm1(u, lo, hi)
        halvings = 0
        while not np.all(np.isfinite(g)) and halvings < 50:
            step = step / 2
            eta = eta - step
            u = z @ eta
            g = 1 + fm1(u, lo, hi)
            halvings += 1
        misfit = totals - z.T @ (w0 * g)
        if np.all(np.abs(misfit) / (1 + np.abs(totals)) < tol):
            return g
    raise DesignError(
        f"Calibration ({calfun}, bounds {bounds}) did not converge in {max_iter} iterations: "
        "the bounds may be too tight for these totals. Widen them or merge small levels."
    )


def _grake_columns(
    z: sparse.csc_matrix, w: np.ndarray, totals: np.ndarray, calfun: str, *args: Any
) -> np.ndarray:
    """:func:`_grake` for each column of ``w`` (rows x k): g-weights depend on a row's
    ``z`` only, so rows sharing one (the cells of categorical totals) are solved as one."""
    rows, cell = np.unique(z.toarray(), axis=0, return_inverse=True)
    cell = cell.ravel()
    to_cell = sparse.csr_matrix((np.ones(len(cell)), (cell, np.arange(len(cell)))))
    wc, zc = np.asarray(to_cell @ w), sparse.csc_matrix(rows)
    g = [_grake(zc, wc[:, r], totals, calfun, *args) for r in range(w.shape[1])]
    return np.column_stack(g)[cell]


def calibrate(
    design: SurveyDesign,
    margins: Mapping[str, Any],
    calfun: str = "linear",
    bounds: tuple[float, float] | None = None,
    population_size: float | None = None,
    variance: str = "calibrated",
    max_iter: int = 200,
    tol: float = 1e-12,
) -> SurveyDesign:
    """Calibrate the design's weights to population totals (GREG), as R's ``calibrate``.

    ``margins`` maps a column to its population totals by level (categorical: every level,
    dict or Series) or to its population total (numeric column).  The model is R's
    ``~ a + b + x`` (intercept plus treatment dummies), so
    ``calibrate(des, {"stype": pop_stype, "api99": total})`` is
    ``calibrate(des, ~stype + api99, c(N, ...))``.  With only numeric totals give
    ``population_size``.  ``calfun`` is ``"linear"`` (GREG) or ``"raking"``; ``bounds = (lo,
    hi)`` bounds the g-weights (``calibrate(..., bounds = c(lo, hi))``).

    ``variance="calibrated"`` (default) gives every estimator R's calibrated SE; ``"fixed"``
    treats the calibrated weights as fixed sampling weights.  On a replicate design each
    replicate's weights are calibrated to the same totals (R's ``calibrate`` on a
    ``svrepdesign``).
    """
    _check_variance(variance)
    if calfun not in _CALFUNS:
        raise DesignError(f"calfun must be 'linear' or 'raking', not {calfun!r}.")
    design = _full_design(design, "calibrate")
    if not margins:
        raise DesignError("calibrate() needs at least one margin or total.")
    lo, hi = (-np.inf, np.inf) if bounds is None else (float(bounds[0]), float(bounds[1]))
    if not lo < 1 < hi:
        raise DesignError(f"bounds must satisfy lower < 1 < upper, not {bounds!r}.")
    z, totals, _names = _model_matrix(design, margins, population_size)
    w0 = design._struct.w
    g = _grake(z, w0, totals, calfun, (lo, hi), max_iter, tol)
    w1 = w0 * g
    if isinstance(design, ReplicateDesign):  # R's calibrate.svyrep.design: each replicate too
        if variance == "fixed":
            return design.reweighted(w1, design._rep * g[:, None])
        g_rep = _grake_columns(z, design._rep, totals, calfun, (lo, hi), max_iter, tol)
        return design.reweighted(w1, design._rep * g_rep, "calibrated", list(margins))
    if variance == "fixed":
        return _with_weights(design, w1, None)
    from scipy import linalg

    gram = np.asarray((z.T @ z.multiply(w0[:, None])).todense())
    try:
        chol = linalg.cho_factor(gram)
    except linalg.LinAlgError as exc:
        raise DesignError(
            "The calibration variables are collinear (or a level has no respondents)."
        ) from exc
    return _with_weights(design, w1, GregCalibration(z, w1, 1.0 / g, chol))
