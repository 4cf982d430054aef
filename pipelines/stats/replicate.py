"""Replicate-weight designs: JK1, JKn, bootstrap and BRR, as R's ``svrepdesign``.

A :class:`ReplicateDesign` holds the full-sample weights and R replicate weights (combined
weights, i.e. already multiplied by the sampling weights).  Every estimator of
:mod:`pipelines.stats.design` (``svymean``, ``svytotal``, ``svyprop``, ``svyby``, ``svyglm``)
accepts it: the estimate uses the full-sample weights, and its variance is R's ``svrVar``

    V = scale * sum_r rscales_r (theta_r - centre)^2

with ``theta_r`` the estimate recomputed with replicate ``r``'s weights and ``centre`` their mean
(``mse=False``, R's default) or the full-sample estimate (``mse=True``).  Scale conventions are
R's: JK1 ``(R - 1) / R``, bootstrap ``1 / (R - 1)``, BRR ``1 / R``, JKn ``scale = 1`` with
``rscales`` given (``(n_h - 1) / n_h`` per replicate).  :func:`as_replicate` creates replicate
weights from a :class:`~pipelines.stats.design.SurveyDesign` as ``as.svrepdesign`` does.

Raked or calibrated replicate designs (``calibrate.rake`` / ``calibrate`` on one, R's ``rake()``
on a ``svrepdesign``) calibrate every replicate too; their method is ``replicate-<type>-raked``.

Validated against R survey 4.x (tests/reference/r_designs_reference.R,
r_replicate_raking_reference.R).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from pipelines.stats import design as _d
from pipelines.stats.design import DesignError, SurveyDesign

__all__ = ["REPLICATE_TYPES", "ReplicateDesign", "as_replicate", "replicate_glm"]

REPLICATE_TYPES = ("JK1", "JKn", "bootstrap", "BRR", "Fay")
CREATED_TYPES = ("JK1", "JKn", "bootstrap", "BRR")  # what as_replicate builds


@dataclass(frozen=True, eq=False)
class ReplicateDesign(SurveyDesign):
    """A replicate-weight design, like ``svrepdesign(..., combined.weights = TRUE)``.

    ``weights`` names the full-sample weight column; ``repweights`` is a list of replicate
    weight columns of ``data`` or a (rows x replicates) array.  ``type`` is one of
    :data:`REPLICATE_TYPES`; ``scale`` and ``rscales`` default to R's for the type (JKn needs
    ``rscales``).  ``mse=True`` centres the replicates at the full-sample estimate.
    ``df`` is R's ``degf``: the rank of the replicate weights minus one.  ``Fay`` (BRR with
    Fay's perturbation ``rho``, as ``svrepdesign(type = "Fay", rho =)``) has scale
    ``1 / (R (1 - rho)^2)``.  ``units`` optionally names the column of the sampling units the
    replicates were made from (no part of the variance: it tells callers that an estimate
    inside one unit, e.g. one library's effect, has no replicate variance of its own).
    """

    repweights: Any = field(default=None, repr=False)
    type: str = "JK1"
    scale: float | None = None
    rscales: Any = None
    mse: bool = False
    rho: float | None = None
    units: str | None = None
    _rep: np.ndarray = field(init=False, repr=False, default=None)
    _rscales: np.ndarray = field(init=False, repr=False, default=None)
    _scale: float = field(init=False, repr=False, default=1.0)
    _rank_df: list = field(init=False, repr=False, default_factory=list)
    _calibration: str = field(init=False, repr=False, default="")
    _calibrated_on: tuple = field(init=False, repr=False, default=())

    def __post_init__(self) -> None:
        if self.strata is not None or self.cluster is not None or self.fpc is not None:
            raise DesignError(
                "A replicate-weight design takes weights and repweights only: the replicate "
                "weights already carry the strata, clusters and fpc."
            )
        super().__post_init__()
        rep = self.repweights
        if rep is None:
            raise DesignError("A replicate-weight design needs repweights=.")
        if isinstance(rep, str) or (
            isinstance(rep, Sequence) and rep and all(isinstance(c, str) for c in rep)
        ):
            cols = [rep] if isinstance(rep, str) else list(rep)
            missing = [c for c in cols if c not in self.data.columns]
            if missing:
                raise DesignError(f"Replicate weight column(s) {missing[:5]} are not in the data.")
            rep = self.data[cols].to_numpy(dtype=np.float64)
        rep = np.asarray(rep, dtype=np.float64)
        if rep.ndim != 2 or rep.shape[0] != len(self.data) or rep.shape[1] < 2:
            raise DesignError(
                f"repweights must have one row per data row ({len(self.data)}) and at least two "
                f"replicates; got shape {rep.shape}."
            )
        if not np.isfinite(rep).all() or (rep < 0).any():
            raise DesignError("Replicate weights must be finite and not negative.")
        if self.type not in REPLICATE_TYPES:
            raise DesignError(f"type must be one of {REPLICATE_TYPES}, not {self.type!r}.")
        n_rep = rep.shape[1]
        rscales = self.rscales
        if self.type == "JKn" and rscales is None:
            raise DesignError("A JKn design needs rscales= ((n_h - 1) / n_h for each replicate).")
        rscales = (
            np.ones(n_rep)
            if rscales is None
            else np.broadcast_to(np.asarray(rscales, dtype=np.float64), (n_rep,)).copy()
        )
        if self.type == "Fay" and not (self.rho is not None and 0 <= self.rho < 1):
            raise DesignError("A Fay design needs rho= (Fay's factor, from 0 up to below 1).")
        default_scale = {
            "JK1": (n_rep - 1) / n_rep,
            "JKn": 1.0,
            "bootstrap": 1 / (n_rep - 1),
            "BRR": 1 / n_rep,
            "Fay": 1 / (n_rep * (1 - (self.rho or 0.0)) ** 2),
        }[self.type]
        scale = default_scale if self.scale is None else float(self.scale)
        if self.type == "BRR" and self.scale is not None:
            raise DesignError("type='BRR' uses scale 1 / replicates; do not give scale=.")
        object.__setattr__(self, "_rep", rep)
        object.__setattr__(self, "_rscales", rscales)
        object.__setattr__(self, "_scale", scale)

    # ------------------------------------------------------------------ design interface
    def _replicate_version(self, name: str) -> Any:
        return _ESTIMATORS[name]

    @property
    def replicate_weights(self) -> np.ndarray:
        """(rows x replicates) replicate weights, zero outside the domain; a copy."""
        return self._rep * self._domain[:, None]

    def degf_of(self, rows: np.ndarray) -> int:
        """R's ``degf`` of a replicate design: rank of the replicate weights minus one."""
        if not self._rank_df:
            self._rank_df.append(_rank(self._rep) - 1)
        return self._rank_df[0]

    def score_vcov(self, rows: np.ndarray, scores: np.ndarray) -> np.ndarray:
        raise DesignError(
            "A replicate-weight design has no linearised variance; refit the estimator with "
            "each replicate's weights (replicate_weights_of, then replicate_vcov), as the svy* "
            "estimators of pipelines.stats do."
        )

    def replicate_weights_of(self, rows: Any, weights: np.ndarray | None = None) -> np.ndarray:
        """(rows x replicates) replicate weights of ``rows``; ``weights`` (one per data row)
        replaces the full-sample weights, each replicate scaled alike (``w_r * weights / w``)."""
        rep = self._rep[rows]
        if weights is None:
            return rep.copy()
        w = self._struct.w[rows]
        return rep * (np.asarray(weights, dtype=np.float64)[rows] / w)[:, None]

    def replicate_vcov(self, reps: np.ndarray, est: np.ndarray) -> np.ndarray:
        """R's ``svrVar``: variance matrix from the (replicates x k) re-estimates ``reps`` of
        the full-sample estimate ``est`` (each refitted with one replicate's weights)."""
        est = np.atleast_1d(np.asarray(est, dtype=np.float64))
        return self._vcov(np.asarray(reps, dtype=np.float64).reshape(len(reps), -1), est)

    @property
    def stage_ids(self) -> tuple[str, ...]:
        """The ``units`` column, if given (the replicates carry the design itself)."""
        return (self.units,) if self.units else ()

    @property
    def n_replicates(self) -> int:
        """Number of replicate weight columns."""
        return int(self._rep.shape[1])

    @property
    def method(self) -> str:
        """The variance method's name, e.g. ``replicate-JK1``."""
        return self._method

    def _var(self, reps: np.ndarray, est: np.ndarray) -> np.ndarray:
        """R's ``svrVar`` (diagonal): ``reps`` is (replicates x k), ``est`` the full estimates."""
        reps = reps.reshape(reps.shape[0], -1)
        if self.mse:
            centre = np.asarray(est, dtype=np.float64).reshape(1, -1)
        else:
            centre = reps[self._rscales > 0].mean(axis=0, keepdims=True)
        dev = reps - centre
        return self._scale * (self._rscales[:, None] * dev**2).sum(axis=0)

    def _vcov(self, reps: np.ndarray, est: np.ndarray) -> np.ndarray:
        """R's ``svrVar``; replicates with a missing estimate are discarded (R's na.omit)."""
        ok = np.isfinite(reps).all(axis=1)
        if not ok.any():
            raise DesignError("Every replicate gave a missing estimate.")
        reps, rscales = reps[ok], self._rscales[ok]
        centre = est[None, :] if self.mse else reps[rscales > 0].mean(axis=0, keepdims=True)
        dev = reps - centre
        return self._scale * (dev * rscales[:, None]).T @ dev

    @property
    def _method(self) -> str:
        return f"replicate-{self.type}" + (f"-{self._calibration}" if self._calibration else "")

    def reweighted(
        self, w: np.ndarray, rep: np.ndarray, how: str = "", on: Sequence[str] = ()
    ) -> ReplicateDesign:
        """A copy with full-sample weights ``w`` and replicate weights ``rep`` (rows x
        replicates), e.g. both calibrated (``how``, e.g. ``raked``, is added to the method's
        name; ``on`` names the calibration's columns)."""
        new = copy.copy(self)
        object.__setattr__(new, "_struct", _replace_w(self._struct, w))
        object.__setattr__(new, "_rep", np.asarray(rep, dtype=np.float64))
        object.__setattr__(new, "_rank_df", [])  # R recomputes degf after rake()
        if how:
            object.__setattr__(new, "_calibration", how)
            object.__setattr__(new, "_calibrated_on", (*self._calibrated_on, *on))
        return new

    @property
    def calibrated_on(self) -> tuple[str, ...]:
        """The columns every replicate's weights were calibrated on (empty: none)."""
        return self._calibrated_on


def _rank(rep: np.ndarray) -> int:
    """Rank of the (rows x replicates) weights from their replicates x replicates Gram matrix
    (a million rows need no SVD-sized copy), columns scaled to unit length; eigenvalues below
    1e-10 of the largest (singular values below 1e-5, R's qr() tolerance) count as zero."""
    norms = np.sqrt(np.einsum("ij,ij->j", rep, rep))
    unit = np.where(norms > 0, 1 / np.where(norms > 0, norms, 1), 0.0)
    gram = (rep.T @ rep) * np.outer(unit, unit)
    eig = np.linalg.eigvalsh(gram)
    return int(np.sum(eig > 1e-10 * eig[-1])) if eig[-1] > 0 else 0


# ---------------------------------------------------------------------- estimators
def _svymean(design: ReplicateDesign, var: str, conf_level: float) -> pd.DataFrame:
    y, rows = _d._numeric_var(design, var)
    w, rep, yr = design._struct.w[rows], design._rep[rows], y[rows]
    est = float(w @ yr / w.sum())
    var_ = design._var((yr @ rep) / rep.sum(axis=0), np.array([est]))[0]
    return _d._single_result(design, var, est, var_, int(rows.sum()), conf_level, design._method)


def _svytotal(design: ReplicateDesign, var: str, conf_level: float) -> pd.DataFrame:
    y, rows = _d._numeric_var(design, var)
    w, rep, yr = design._struct.w[rows], design._rep[rows], y[rows]
    est = float(w @ yr)
    var_ = design._var(yr @ rep, np.array([est]))[0]
    return _d._single_result(design, var, est, var_, int(rows.sum()), conf_level, design._method)


def _svyprop(design: ReplicateDesign, var: str, level: Any, conf_level: float) -> pd.DataFrame:
    levels, rows, ind = _d._prop_inputs(design, var, level)
    w, rep = design._struct.w[rows], design._rep[rows]
    p = w @ ind / w.sum()
    reps = (rep.T @ ind) / rep.sum(axis=0)[:, None]
    se = np.sqrt(np.clip(design._var(reps, p), 0, None))
    method = f"{design._method}-logit"
    return _d._prop_result(design, var, levels, p, se, int(rows.sum()), method, conf_level)


def _svyby(
    design: ReplicateDesign, var: str, by: Any, stat: str, conf_level: float, level: Any
) -> pd.DataFrame:
    g = _d._by_inputs(design, var, by, stat, level)
    w, rep = design._struct.w[g.rows], design._rep[g.rows]
    groups = sparse.csr_matrix(
        (np.ones(len(g.gcode)), (g.gcode, np.arange(len(g.gcode)))),
        shape=(g.n_groups, len(g.gcode)),
    )
    w_by, rep_by = groups @ w, groups @ rep
    df = np.full(g.n_groups, design.df)
    method = design._method + ("-logit" if stat == "prop" else "")
    frames = []
    for lv, yv in zip(g.levels, g.values, strict=True):
        est, reps = groups @ (w * yv), groups @ (rep * yv[:, None])
        if stat != "total":
            with np.errstate(invalid="ignore", divide="ignore"):
                est, reps = est / w_by, reps / rep_by
        se = np.sqrt(np.clip(design._var(reps.T, est), 0, None))
        frames.append(_d._by_part(g, var, stat, lv, est, se, df, method, conf_level))
    return _d._by_finish(frames, stat, g.levels)


def _glm_vcov(
    design: ReplicateDesign,
    x: np.ndarray,
    y: np.ndarray,
    names: list[str],
    kept: np.ndarray,
    fam: str,
    beta: np.ndarray,
    max_iter: int,
    tol: float,
) -> np.ndarray:
    """Variance of svyglm coefficients from one refit per replicate (R's ``svyglm`` on a
    ``svyrep.design``)."""
    betas = replicate_glm(design.replicate_weights_of(kept), x, y, fam, names, beta, tol)
    return design._vcov(betas, beta)


def replicate_glm(
    rep: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    fam: str,
    names: list[str],
    beta: np.ndarray,
    tol: float = 1e-12,
) -> np.ndarray:
    """(replicates x p) coefficients of the GLM refitted with each column of ``rep`` (weights of
    the rows of ``x``) as R's ``svyglm`` on a replicate design: each refit starts at the
    full-sample ``beta`` and iterates to convergence (about two IRLS steps); rows a replicate
    drops weigh zero, so no copy of ``x`` is made per replicate. A refit that fails (no
    convergence, collinear) or separates (:func:`_separated`) is a missing replicate (NaN),
    which :meth:`ReplicateDesign.replicate_vcov` discards as R's ``svrVar`` discards NA ones."""
    betas = np.empty((rep.shape[1], len(beta)))
    # separation is looked for only when the full-sample fit stays clear of it
    check = fam == "binomial" and not _separated(x, beta, np.ones(len(x), dtype=bool))
    for r in range(rep.shape[1]):
        wr = rep[:, r]
        wu = wr / wr[wr > 0].mean()
        try:
            betas[r] = _d.fit_glm(x, y, wu, fam, names, 100, tol, start=beta)[0]
        except DesignError:
            present = np.asarray((wu > 0) @ (x != 0)) > 0
            try:  # a term the replicate lacks: the others refitted, as R's glm (NA for it)
                betas[r] = (
                    np.nan
                    if present.all()
                    else _without_absent_terms(x, y, wu, fam, names, beta, tol, present)
                )
            except DesignError:
                betas[r] = np.nan
        if check and np.isfinite(betas[r]).all() and _separated(x, betas[r], wu > 0):
            betas[r] = np.nan
    return betas


# a fitted probability within 1e-8 of 0 or 1 (|log odds| > 18.4): the refit running off
# towards a separated replicate's infinite estimate
_SEPARATED_LOGIT = float(np.log(1e8))


def _separated(x: np.ndarray, beta: np.ndarray, rows: np.ndarray) -> bool:
    """A logistic fit whose fitted probabilities on ``rows`` reach 0 or 1 within 1e-8 (a
    replicate refit is checked only when the full-sample fit stays clear of that)."""
    return bool(np.any(np.abs(x[rows] @ beta) > _SEPARATED_LOGIT))


def _without_absent_terms(x, y, w, fam, names, beta, tol, present) -> np.ndarray:
    """A replicate that drops every row with some term (a category in one cluster only): the
    other coefficients refitted, the absent ones NaN, as R's glm gives NA for them (R's svrVar
    then discards that replicate, as :meth:`ReplicateDesign.replicate_vcov` does)."""
    out = np.full(len(beta), np.nan)
    kept = [n for n, k in zip(names, present, strict=True) if k]
    out[present] = _d.fit_glm(x[:, present], y, w, fam, kept, 100, tol, start=beta[present])[0]
    return out


_ESTIMATORS = {
    "svymean": _svymean,
    "svytotal": _svytotal,
    "svyprop": _svyprop,
    "svyby": _svyby,
    "glm_vcov": _glm_vcov,
}


# ---------------------------------------------------------------------- creation
def _sylvester(size: int) -> np.ndarray:
    h = np.ones((1, 1))
    while h.shape[0] < size:
        h = np.block([[h, h], [h, -h]])
    return h


def as_replicate(
    design: SurveyDesign,
    type: str = "JKn",
    replicates: int = 50,
    seed: int | None = None,
    mse: bool = False,
) -> ReplicateDesign:
    """Replicate weights from a one-stage design's strata, PSUs and fpc (``as.svrepdesign``).

    * ``JK1`` (unstratified): drop one PSU per replicate, the others x n/(n-1);
      ``scale = (1 - f)(n - 1)/n``.
    * ``JKn``: per stratum, drop one PSU, the stratum's others x n_h/(n_h-1);
      ``rscales = (1 - f_h)(n_h - 1)/n_h``; certainty strata add no replicates.
    * ``bootstrap``: R's ``bootweights``: in each stratum draw n_h PSUs with replacement
      (without an fpc; with one, n_h of the N_h population copies); multipliers are the draw
      counts; ``scale = m / ((m - 1)(replicates - 1))`` with m the harmonic mean of n_h.
      ``seed`` makes it reproducible (numpy's generator, so not R's draws).
    * ``BRR``: exactly two PSUs per stratum; half-samples from a Sylvester Hadamard matrix
      (full orthogonal balance), selected PSU x 2; ``scale = 1 / replicates``; fpc dropped.
    """
    if not isinstance(design, SurveyDesign) or isinstance(design, ReplicateDesign):
        raise DesignError("as_replicate() needs a SurveyDesign (not already replicate).")
    if type not in CREATED_TYPES:
        raise DesignError(f"type must be one of {CREATED_TYPES}, not {type!r}.")
    if not design.domain.all():
        raise DesignError("Create replicate weights from the full design, before any subset.")
    s = design._struct
    if s.later:
        raise DesignError("Replicate weights are created from one-stage designs only.")
    w = s.w
    psu, stratum, n_h = s.psu_code, s.psu_stratum, s.n_h
    fraction = s.fraction_h if s.fraction_h is not None else np.zeros(s.n_strata)
    has_strata = design.strata is not None
    scale, rscales = 1.0, None
    if type == "JK1":
        if has_strata:
            raise DesignError("JK1 is for unstratified designs; use JKn with strata.")
        n = s.n_psu
        mult = np.full((n, n), n / (n - 1))
        np.fill_diagonal(mult, 0.0)
        scale = (1 - fraction[0]) * (n - 1) / n
    elif type == "JKn":
        cols, rsc = [], []
        for h in range(s.n_strata):
            members = np.flatnonzero(stratum == h)
            if fraction[h] >= 1:
                continue  # certainty stratum: no sampling variance, no replicates
            if len(members) < 2:
                raise DesignError(
                    f"Stratum {s.strata_labels[h]!r} has one PSU: JKn cannot drop it."
                )
            for j in members:
                m = np.ones(s.n_psu)
                m[members] = len(members) / (len(members) - 1)
                m[j] = 0.0
                cols.append(m)
                rsc.append((1 - fraction[h]) * (len(members) - 1) / len(members))
        mult, rscales = np.column_stack(cols), np.array(rsc)
    elif type == "bootstrap":
        rng = np.random.default_rng(seed)
        mult = np.zeros((s.n_psu, replicates))
        for h in range(s.n_strata):
            members = np.flatnonzero(stratum == h)
            k = len(members)
            if fraction[h] > 0:
                pop = int(round(k / fraction[h]))
                draws = np.stack(
                    [rng.choice(pop, size=k, replace=False) % k for _ in range(replicates)], 1
                )
            else:
                draws = rng.integers(0, k, size=(k, replicates))
            for r in range(replicates):
                mult[members, r] = np.bincount(draws[:, r], minlength=k)
        m = 1 / np.mean(1 / n_h)
        scale = m / ((m - 1) * (replicates - 1))
    else:  # BRR
        if np.any(n_h != 2):
            raise DesignError("BRR needs exactly two PSUs in every stratum.")
        hmat = _sylvester(s.n_strata + 1)[:, 1 : s.n_strata + 1]
        first = np.zeros(s.n_psu, dtype=bool)
        seen = np.zeros(s.n_strata, dtype=bool)
        for j in range(s.n_psu):  # the first PSU met in each stratum
            if not seen[stratum[j]]:
                first[j] = seen[stratum[j]] = True
        sign = hmat[:, stratum].T  # PSUs x replicates
        mult = np.where(first[:, None], sign > 0, sign < 0) * 2.0
        scale = 1 / mult.shape[1]
    repw = mult[psu] * w[:, None]
    out = ReplicateDesign(
        design.data,
        weights=None,
        repweights=repw,
        type=type,
        scale=None if type == "BRR" else scale,
        rscales=rscales,
        mse=mse,
        units=(design.stage_ids or (None,))[0],
    )
    object.__setattr__(out, "_struct", _replace_w(out._struct, w))
    return out


def _replace_w(struct: Any, w: np.ndarray) -> Any:
    return dataclasses.replace(struct, w=np.asarray(w, dtype=np.float64))
