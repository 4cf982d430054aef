"""Design-based survey estimation in the spirit of R's ``survey::svydesign``.

A :class:`SurveyDesign` describes a stratified, one-stage cluster (or element) sample:
row weights, strata, primary sampling units (PSUs) and an optional finite population
correction.  The estimators below (:func:`svymean`, :func:`svytotal`, :func:`svyprop`,
:func:`svyby`, :func:`svyglm`) compute point estimates and Taylor-linearisation
(sandwich) standard errors with the with-replacement approximation used by R's survey
package by default (``svyrecvar`` with ``options(survey.ultimate.cluster = FALSE)``,
one stage):

    V(theta) = sum_h (1 - f_h) * n_h / (n_h - 1) * sum_j (z_hj - zbar_h) (z_hj - zbar_h)'

where ``z_hj`` is the sum of the influence values (linearised scores) of the rows in
PSU ``j`` of stratum ``h``, ``zbar_h`` their mean over the ``n_h`` PSUs of the stratum,
and ``f_h = n_h / N_h`` the sampling fraction (0 without an fpc).  Domains (subsets,
groups, rows dropped for missing values) keep every PSU of the full design; rows outside
the domain contribute zero scores, exactly as R does for subset designs.

Conventions that follow R survey 4.x:

* Clusters are nested in strata (``svydesign(..., nest = TRUE)``): a PSU is a
  (stratum, cluster) pair.  Without ``cluster`` every row is its own PSU.
* Without ``weights`` but with ``fpc`` the weights are ``N_h / n_h``; with neither, 1.
* ``fpc`` holds the population number of PSUs in the stratum (values <= 1 everywhere
  are read as sampling fractions, as R does).  A stratum whose fpc equals its number of
  sampled PSUs (a certainty stratum) contributes no variance.
* ``lonely_psu="fail"`` (R's default ``survey.lonely.psu``) refuses a stratum with one
  PSU; ``lonely_psu="adjust"`` does what R's ``"adjust"`` does: the lonely PSU is
  centred at zero instead of at its stratum mean (for means and regression scores that
  is the overall mean) and scaled by ``(1 - f_h)``.
* Design degrees of freedom are ``#PSUs - #strata`` counted over the rows with a
  non-zero weight in the (domain) design, as ``survey::degf``.

All computations are vectorised (``np.bincount`` over integer PSU / stratum codes); no
Python loop runs over rows or clusters.

Validated against R survey 4.x (tests/reference/r_survey_reference.R).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import linalg, stats

from pipelines.errors import DampakError

__all__ = [
    "DesignError",
    "SurveyDesign",
    "svyby",
    "svyglm",
    "svymean",
    "svyprop",
    "svytotal",
]

RESULT_COLUMNS = [
    "variable",
    "group_var",
    "group",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "df",
    "n",
    "method",
]
# Above this many (PSU, group) cells, by-group variances and df come from the pairs that occur,
# not from a dense PSUs x groups matrix (10^6 PSUs x 2,400 sites would be 19 GB).
DENSE_LIMIT = 2_000_000
_CERTAINTY_TOL = 1e-7  # R's onestrat(): a stratum with all f < 1e-7 contributes nothing


class DesignError(DampakError):
    """A survey design, or an estimate requested from it, cannot be used as given."""


class _Units:
    """Counts shared by the first stage (:class:`_Structure`) and later stages (:class:`_Stage`)."""

    n_h: np.ndarray
    psu_stratum: np.ndarray

    @property
    def n_strata(self) -> int:
        return len(self.n_h)

    @property
    def n_psu(self) -> int:
        return len(self.psu_stratum)


@dataclass(frozen=True)
class _Structure(_Units):
    """Integer codes and per-stratum constants shared by a design and its domains."""

    w: np.ndarray  # row weights (float64)
    stratum_code: np.ndarray  # row -> stratum index (0..H-1)
    psu_code: np.ndarray  # row -> PSU index (0..C-1), PSUs nested in strata
    psu_stratum: np.ndarray  # PSU -> stratum index
    n_h: np.ndarray  # PSUs per stratum in the full design
    scale_h: np.ndarray  # (1 - f_h) n_h / (n_h - 1); (1 - f_h) for an adjusted lonely PSU
    center_h: np.ndarray  # False for a lonely PSU under lonely_psu="adjust"
    strata_labels: np.ndarray
    # stages after the first (multi-stage designs with an fpc per stage): each a _Stage whose
    # "strata" are the units of the stage above, scale_h already multiplied by the sampling
    # fractions of the stages above (R's multistage())
    later: tuple = ()
    fraction_h: np.ndarray | None = None  # first-stage sampling fraction n_h / N_h (0: no fpc)


@dataclass(frozen=True)
class _Stage(_Units):
    """Sampling units of one later stage, nested in the units of the stage above."""

    psu_code: np.ndarray  # row -> unit index at this stage
    psu_stratum: np.ndarray  # unit -> its "stratum" (the unit above it)
    n_h: np.ndarray  # units sampled per stratum
    scale_h: np.ndarray  # (1 - f) n / (n - 1) x sampling fractions of the stages above
    center_h: np.ndarray


def _fmt_list(values: Sequence[Any], limit: int = 8) -> str:
    shown = ", ".join(repr(v) for v in list(values)[:limit])
    return shown + (f", ... ({len(values)} in all)" if len(values) > limit else "")


@dataclass(frozen=True, eq=False)
class SurveyDesign:
    """A stratified (multi-stage) cluster sample, like ``survey::svydesign``.

    Parameters are column names of ``data``: ``weights`` (sampling weights, positive and
    finite), ``strata``, ``cluster`` (PSU ids, nested within strata) and ``fpc`` (the
    population number of PSUs in the stratum, or sampling fractions if every value is
    <= 1).  ``lonely_psu`` is ``"fail"`` (default, as R) or ``"adjust"``.

    Multi-stage: ``cluster`` a list of unit ids per stage and ``fpc`` a list of the same
    length (population number of units in the unit above, or fractions), as
    ``svydesign(id = ~psu + ssu, fpc = ~fpc1 + fpc2)``: the variance adds each later stage's
    within-unit variance times the sampling fractions of the stages above (R's
    ``multistage``).  Without ``fpc`` only the first stage counts (with-replacement, as R).
    ``df`` stays first-stage PSUs minus strata.

    Calibrated designs (:func:`pipelines.stats.calibrate.calibrate`, ``rake``) carry the
    calibration, and every estimator's variance uses the residuals of its scores on the
    calibration variables (R's ``svyrecvar`` with ``postStrata``); their weights are
    :attr:`row_weights` (the ``weights`` column holds the weights before calibration).

    The design is validated once, on construction; problems raise :class:`DesignError`.
    ``subset(mask)`` returns a domain design that keeps every row for variance
    estimation but counts only the rows in the domain, as R's ``subset.survey.design``.

    Validated against R survey 4.x (tests/reference/r_survey_reference.R).
    """

    data: pd.DataFrame = field(repr=False)
    weights: str | None = None
    strata: str | None = None
    cluster: str | Sequence[str] | None = None
    fpc: str | Sequence[str] | None = None
    lonely_psu: str = "fail"
    _struct: _Structure = field(init=False, repr=False)
    _domain: np.ndarray = field(init=False, repr=False)
    _calib: tuple = field(init=False, repr=False, default=())

    # ------------------------------------------------------------------ validation
    def __post_init__(self) -> None:
        data = self.data
        if not isinstance(data, pd.DataFrame):
            raise DesignError(f"data must be a pandas DataFrame, not {type(data).__name__}.")
        if len(data) == 0:
            raise DesignError("The survey data has no rows.")
        if self.lonely_psu not in ("fail", "adjust"):
            raise DesignError(f"lonely_psu must be 'fail' or 'adjust', not {self.lonely_psu!r}.")
        ids, fpcs = _stage_columns(self.cluster, self.fpc)
        object.__setattr__(self, "cluster", ids[0] if len(ids) == 1 else (ids or None))
        object.__setattr__(self, "fpc", fpcs[0] if len(fpcs) == 1 else (fpcs or None))
        for role, cols in (
            ("weights", [self.weights]),
            ("strata", [self.strata]),
            ("cluster", ids),
            ("fpc", fpcs),
        ):
            for col in cols:
                if col is not None and col not in data.columns:
                    raise DesignError(
                        f"Column {col!r} given as {role}= is not in the data. "
                        f"Available columns: {_fmt_list(list(data.columns), 20)}."
                    )
        n = len(data)

        # strata and PSUs
        if self.strata is None:
            stratum_code = np.zeros(n, dtype=np.int64)
            strata_labels = np.array([None], dtype=object)
        else:
            s = data[self.strata]
            _no_missing(s, self.strata, "strata")
            codes, uniques = pd.factorize(s, sort=True)
            stratum_code = codes.astype(np.int64)
            strata_labels = np.asarray(uniques, dtype=object)
        n_strata = len(strata_labels)

        if not ids:
            psu_code = np.arange(n, dtype=np.int64)
        else:
            c = data[ids[0]]
            _no_missing(c, ids[0], "cluster")
            ccodes, cuniques = pd.factorize(c)
            key = stratum_code * len(cuniques) + ccodes.astype(np.int64)
            psu_code = pd.factorize(key)[0].astype(np.int64)
        n_psu = int(psu_code.max()) + 1
        psu_stratum = np.empty(n_psu, dtype=np.int64)
        psu_stratum[psu_code] = stratum_code
        n_h = np.bincount(psu_stratum, minlength=n_strata).astype(np.int64)

        # finite population correction
        fraction_h = np.zeros(n_strata)
        fpc_name = fpcs[0] if fpcs else None
        # as R's as.fpc: every fpc value <= 1 (all stages) means sampling fractions
        as_fraction = bool(fpcs) and all(np.nanmax(_numeric(data[f], f, "fpc")) <= 1 for f in fpcs)
        if fpc_name is not None:
            fpc = _numeric(data[fpc_name], fpc_name, "fpc")
            if not np.all(np.isfinite(fpc)) or np.any(fpc <= 0):
                raise DesignError(
                    f"The fpc column {fpc_name!r} must hold positive numbers with no gaps."
                )
            lo = np.full(n_strata, np.inf)
            hi = np.full(n_strata, -np.inf)
            np.minimum.at(lo, stratum_code, fpc)
            np.maximum.at(hi, stratum_code, fpc)
            bad = np.flatnonzero(lo != hi)
            if bad.size:
                raise DesignError(
                    f"The fpc column {fpc_name!r} must be constant within each stratum; it "
                    f"varies in strata {_fmt_list(strata_labels[bad].tolist())}."
                )
            if as_fraction:
                fraction_h = lo
            else:
                too_small = np.flatnonzero(lo < n_h)
                if too_small.size:
                    h = too_small[0]
                    raise DesignError(
                        f"The fpc column {fpc_name!r} gives a population of {lo[h]:g} PSUs "
                        f"for stratum {strata_labels[h]!r}, but the sample has {n_h[h]} "
                        "PSUs there. fpc= must be the population number of PSUs."
                    )
                fraction_h = n_h / lo
        f_h = 1.0 - fraction_h  # the (1 - n/N) factor; 1 without an fpc
        certainty = f_h < _CERTAINTY_TOL
        later, stage_w = _later_stages(
            data, ids, fpcs, psu_code, fraction_h[stratum_code], as_fraction, self.lonely_psu
        )

        # weights
        if self.weights is not None:
            w = _numeric(data[self.weights], self.weights, "weights")
            bad = ~np.isfinite(w) | (w <= 0)
            if bad.any():
                idx = data.index[np.flatnonzero(bad)[:5]].tolist()
                raise DesignError(
                    f"Weights in column {self.weights!r} must be positive and finite; "
                    f"{int(bad.sum())} rows are not (first row labels: {idx})."
                )
        elif fpc_name is not None:
            w = (1.0 / fraction_h)[stratum_code] * stage_w
        else:
            w = np.ones(n)

        # lonely PSUs
        lonely = (n_h == 1) & ~certainty
        if lonely.any() and self.lonely_psu == "fail":
            labels = strata_labels[np.flatnonzero(lonely)].tolist()
            raise DesignError(
                f"Stratum {_fmt_list(labels)} has only one PSU, so its sampling variance "
                "cannot be estimated. Merge it with a similar stratum, or build the design "
                "with lonely_psu='adjust' (R: options(survey.lonely.psu = 'adjust'))."
            )
        with np.errstate(divide="ignore", invalid="ignore"):
            scale_h = np.where(n_h > 1, f_h * n_h / np.maximum(n_h - 1, 1), f_h)
        scale_h = np.where(certainty, 0.0, scale_h)
        center_h = ~lonely

        struct = _Structure(
            w=np.asarray(w, dtype=np.float64),
            stratum_code=stratum_code,
            psu_code=psu_code,
            psu_stratum=psu_stratum,
            n_h=n_h,
            scale_h=scale_h.astype(np.float64),
            center_h=center_h,
            strata_labels=strata_labels,
            later=later,
            fraction_h=fraction_h,
        )
        object.__setattr__(self, "_struct", struct)
        object.__setattr__(self, "_domain", np.ones(n, dtype=bool))

    # ------------------------------------------------------------------ properties
    @property
    def n(self) -> int:
        """Number of sampled rows in the design (or domain)."""
        return int(self._domain.sum())

    @property
    def df(self) -> int:
        """Design degrees of freedom, ``#PSUs - #strata`` within the domain (``degf``)."""
        return self.degf_of(self._domain)

    @property
    def domain(self) -> np.ndarray:
        """Boolean row mask of the domain (all True for a full design); a copy."""
        return self._domain.copy()

    @property
    def row_weights(self) -> np.ndarray:
        """Sampling weight of every row of ``data`` (zero outside the domain)."""
        return np.where(self._domain, self._struct.w, 0.0)

    def subset(self, mask: Any) -> SurveyDesign:
        """Domain design: rows where ``mask`` is True (and already in this domain).

        Like R's ``subset(design, ...)`` the full design structure is kept, so the
        variance counts every PSU, with zero contributions from rows outside the domain.
        """
        m = self._mask(mask, "subset mask")
        new = copy.copy(self)
        object.__setattr__(new, "_domain", self._domain & m)
        if not new._domain.any():
            raise DesignError("The subset selects no rows of the survey design.")
        return new

    def kish_deff(self) -> float:
        """Kish design effect due to unequal weighting, ``n * sum(w^2) / sum(w)^2``.

        Equals ``1 + CV^2`` with the population coefficient of variation of the
        weights (standard deviation with ddof=0).  This is not R's ``deff`` (which
        compares the design variance of an estimate to simple random sampling).
        """
        w = self._struct.w[self._domain]
        return float(len(w) * np.sum(w**2) / np.sum(w) ** 2)

    def effective_n(self) -> float:
        """Kish effective sample size, ``sum(w)^2 / sum(w^2) = n / kish_deff``."""
        w = self._struct.w[self._domain]
        return float(np.sum(w) ** 2 / np.sum(w**2))

    # ------------------------------------------------------------------ internals
    def _mask(self, mask: Any, what: str) -> np.ndarray:
        if isinstance(mask, pd.Series):
            if not mask.index.equals(self.data.index):
                raise DesignError(f"The {what} is a Series whose index differs from the data's.")
            if mask.isna().any():
                raise DesignError(f"The {what} has missing values; use True or False.")
            arr = mask.to_numpy()
        else:
            arr = np.asarray(mask)
        if arr.shape != (len(self.data),):
            raise DesignError(
                f"The {what} must have one value per row ({len(self.data)}), got shape {arr.shape}."
            )
        if arr.dtype != bool:
            if pd.isna(arr).any():
                raise DesignError(f"The {what} has missing values; use True or False.")
            arr = arr.astype(bool)
        return arr

    def degf_of(self, rows: np.ndarray) -> int:
        """Design degrees of freedom (PSUs minus strata) of the domain ``rows``."""
        s = self._struct
        psus = np.count_nonzero(np.bincount(s.psu_code[rows], minlength=s.n_psu))
        strata = np.count_nonzero(np.bincount(s.stratum_code[rows], minlength=s.n_strata))
        return int(psus - strata)

    def _degf_by(self, rows: np.ndarray, gcode: np.ndarray, n_groups: int) -> np.ndarray:
        """``degf`` of each group's domain; ``gcode`` holds group codes of ``rows``."""
        s = self._struct
        if s.n_psu * n_groups > DENSE_LIMIT:  # count the (PSU, group) pairs that occur instead
            # pandas' hash-based unique: 20x faster than np.unique's sort on a million rows
            psu_pairs = pd.unique(s.psu_code[rows].astype(np.int64) * n_groups + gcode)
            str_pairs = pd.unique(s.stratum_code[rows].astype(np.int64) * n_groups + gcode)
            n_psu = np.bincount(psu_pairs % n_groups, minlength=n_groups)
            n_str = np.bincount(str_pairs % n_groups, minlength=n_groups)
            return (n_psu - n_str).astype(np.int64)
        psus = np.bincount(s.psu_code[rows] * n_groups + gcode, minlength=s.n_psu * n_groups)
        strata = np.bincount(
            s.stratum_code[rows] * n_groups + gcode, minlength=s.n_strata * n_groups
        )
        n_psu = (psus.reshape(s.n_psu, n_groups) > 0).sum(axis=0)
        n_str = (strata.reshape(s.n_strata, n_groups) > 0).sum(axis=0)
        return (n_psu - n_str).astype(np.int64)

    def _replicate_version(self, name: str) -> Any:
        """The replicate-weight implementation of estimator ``name`` (None: Taylor design)."""
        return None

    @property
    def stage_ids(self) -> tuple[str, ...]:
        """Column names of the sampling units, one per stage (empty: rows are the PSUs)."""
        c = self.cluster
        return () if c is None else (c,) if isinstance(c, str) else tuple(c)

    @property
    def calibrated(self) -> bool:
        """True when the design carries a calibration (raking, linear or bounded)."""
        return bool(self._calib)

    @property
    def calibrations(self) -> tuple:
        """The calibrations applied to the weights, in order (their residuals enter the SEs)."""
        return self._calib

    def score_vcov(self, rows: np.ndarray, scores: np.ndarray) -> np.ndarray:
        """Variance matrix of estimators whose scores (influence values) on ``rows`` are given.

        ``rows`` is a boolean mask or integer index; every other row scores zero.  A calibrated
        design first replaces the scores by their calibration residuals (as R's ``svyrecvar``).
        """
        s = self._struct
        scores = scores.reshape(len(scores), -1)
        cal, coef = None, None
        if len(self._calib) > 1:  # chained calibrations: residuals of the full score matrix
            full = np.zeros((len(s.w), scores.shape[1]))
            full[rows] = scores
            for c in self._calib:
                full = c.residuals(full)
            rows, scores = slice(None), full
        elif self._calib:  # one calibration: its coefficients, then PSU totals of residuals
            cal = self._calib[0]
            idx = np.flatnonzero(rows) if np.asarray(rows).dtype == bool else np.asarray(rows)
            coef = cal.coef(idx, scores)
        out = 0.0
        for st in (s, *s.later):
            totals = _psu_totals(st.psu_code[rows], scores, st.n_psu)
            if cal is not None:
                totals -= cal.psu_fitted(st, coef)
            out = out + _var_from_psu_totals(st, totals, diag=False)
        return out

    def satterthwaite_df(self, dg: np.ndarray, rg: np.ndarray, s: np.ndarray) -> float:
        """Satterthwaite df of the Taylor variance of a linear statistic (Bell-McCaffrey).

        Under a working model its first-stage PSU totals have covariance ``diag(dg) + rg s
        rg'`` (``dg``: one value per PSU, ``rg``: PSUs x k). ``df = tr(Q Sigma)^2 /
        tr((Q Sigma)^2)``, ``Q`` the stratum centring and scaling of
        :func:`_var_from_psu_totals`: ``#PSUs - #strata`` when every PSU contributes alike,
        fewer when a few PSUs carry the statistic (a small group, one large PSU).
        """
        tr1, tr2 = self.taylor_traces(dg, rg, s)
        return float(tr1 * tr1 / tr2) if tr2 > 0 else float("nan")

    def taylor_traces(
        self, dg: np.ndarray, rg: np.ndarray, s: np.ndarray, with_replacement: bool = False
    ) -> tuple[float, float]:
        """``tr(Q Sigma)`` (the expected first-stage Taylor variance under the working model
        of :meth:`satterthwaite_df`) and ``tr((Q Sigma)^2)``; ``with_replacement`` leaves the
        finite population corrections out of ``Q`` (scale ``n_h / (n_h - 1)``)."""
        st = self._struct
        h, n_h = st.psu_stratum, st.n_h.astype(np.float64)
        c = st.center_h.astype(np.float64)  # 0 for an adjusted lonely PSU
        sc = st.scale_h
        if with_replacement:
            sc = np.where(c > 0, n_h / np.maximum(n_h - 1, 1), 1.0)

        def by_h(v):
            return np.bincount(h, weights=v, minlength=st.n_strata)

        qr = rg - (c / n_h)[h][:, None] * np.column_stack(
            [by_h(rg[:, j])[h] for j in range(rg.shape[1])]
        ).reshape(st.n_psu, -1)
        qr *= sc[h][:, None]  # Q R
        sum_d, sum_d2 = by_h(dg), by_h(dg * dg)
        tr_qd = np.sum(sc * sum_d * (1 - c / n_h))
        tr_qdqd = np.sum(sc**2 * (sum_d2 * (1 - 2 * c / n_h) + c * sum_d**2 / n_h**2))
        srqr = s @ (rg.T @ qr)  # S R'QR
        tr1 = tr_qd + np.trace(srqr)
        tr2 = tr_qdqd + 2 * np.trace(s @ (qr.T @ (dg[:, None] * qr))) + np.trace(srqr @ srqr)
        return float(tr1), float(tr2)

    def _var_by(
        self, rows: np.ndarray, scores: np.ndarray, gcode: np.ndarray, n_groups: int
    ) -> np.ndarray:
        """Variance of one estimator per group; each row scores only for its own group."""
        s = self._struct
        if self._calib:
            return self._var_by_calibrated(rows, scores, gcode, n_groups)
        out = 0.0
        for st in (s, *s.later):
            if st.n_psu * n_groups > DENSE_LIMIT:  # e.g. rows as PSUs x hundreds of sites
                out = out + _var_by_sparse(st, rows, scores, gcode, n_groups)
                continue
            key = st.psu_code[rows] * n_groups + gcode
            totals = np.bincount(key, weights=scores, minlength=st.n_psu * n_groups)
            out = out + _var_from_psu_totals(st, totals.reshape(st.n_psu, n_groups), diag=True)
        return out

    def _var_by_calibrated(
        self, rows: np.ndarray, scores: np.ndarray, gcode: np.ndarray, n_groups: int
    ) -> np.ndarray:
        """:meth:`_var_by` of a calibrated design: PSU totals of each group's calibration
        residuals, a block of groups at a time (PSUs x block below 10 x ``DENSE_LIMIT``)."""
        from scipy import sparse

        s = self._struct
        idx = np.flatnonzero(rows) if np.asarray(rows).dtype == bool else np.asarray(rows)
        if len(self._calib) > 1:  # chained calibrations: residuals of full score columns
            n, block = len(s.w), max(1, (10 * DENSE_LIMIT) // max(len(s.w), 1))
        else:
            n, block = 0, max(1, (10 * DENSE_LIMIT) // max(s.n_psu, 1))
        out = np.zeros(n_groups)
        for start in range(0, n_groups, block):
            stop = min(n_groups, start + block)
            sel = (gcode >= start) & (gcode < stop)
            k = stop - start
            if n:
                x = np.zeros((n, k))
                x[idx[sel], gcode[sel] - start] = scores[sel]
                for cal in self._calib:
                    x = cal.residuals(x)
                at, sc, codes = np.arange(n), x, None
            else:
                cal = self._calib[0]
                sc = sparse.csr_matrix(
                    (scores[sel], (np.flatnonzero(sel), gcode[sel] - start)), shape=(len(idx), k)
                )
                coef = cal.coef(idx, sc)
                at, codes = idx[sel], gcode[sel] - start
            for st in (s, *s.later):
                if codes is None:
                    totals = np.empty((st.n_psu, k))
                    for j in range(k):
                        totals[:, j] = np.bincount(
                            st.psu_code, weights=sc[:, j], minlength=st.n_psu
                        )
                else:
                    key = st.psu_code[at] * k + codes
                    totals = np.bincount(key, weights=scores[sel], minlength=st.n_psu * k)
                    totals = totals.reshape(st.n_psu, k) - cal.psu_fitted(st, coef)
                out[start:stop] += _var_from_psu_totals(st, totals, diag=True)
        return out


def _psu_totals(psu: np.ndarray, scores: np.ndarray, n_psu: int) -> np.ndarray:
    """Column sums of ``scores`` (rows x k) within each PSU: one sparse product for many
    columns (a bincount per column is three times slower at 10^6 rows x 30)."""
    if scores.shape[1] == 1:
        return np.bincount(psu, weights=scores[:, 0], minlength=n_psu)[:, None]
    from scipy import sparse

    m = len(psu)
    member = sparse.csr_matrix((np.ones(m), (psu, np.arange(m))), shape=(n_psu, m))
    return np.asarray(member @ scores)


def _var_from_psu_totals(st: Any, totals: np.ndarray, diag: bool) -> np.ndarray:
    """Stratified with-replacement variance from a (PSUs x k) matrix of score totals."""
    k = totals.shape[1]
    sums = np.empty((st.n_strata, k))
    for j in range(k):  # loop over score columns only
        sums[:, j] = np.bincount(st.psu_stratum, weights=totals[:, j], minlength=st.n_strata)
    means = sums / st.n_h[:, None]
    means[~st.center_h] = 0.0
    dev = totals - means[st.psu_stratum]
    scale = st.scale_h[st.psu_stratum][:, None]
    if diag:
        return np.sum(scale * dev**2, axis=0)
    return (dev * scale).T @ dev


def _var_by_sparse(
    st: Any, rows: np.ndarray, scores: np.ndarray, gcode: np.ndarray, n_groups: int
) -> np.ndarray:
    """``_var_by`` from the (PSU, group) pairs that occur, never the dense PSUs x groups
    matrix (quadratic: 10^6 PSUs x 2,400 sites would be 19 GB).

    Per stratum h and group g, with T the PSU score totals (zero for absent pairs):
    sum_j (T_hj - Tbar_h)^2 = S2 - S1^2 / n_h (S1 = sum T, S2 = sum T^2), or S2 where the
    stratum is not centred (lonely PSU, "adjust"), exactly as the dense computation.
    """
    key = st.psu_code[rows].astype(np.int64) * n_groups + gcode
    inv, pairs = pd.factorize(key)  # hash-based: no sort of a million keys
    totals = np.bincount(inv, weights=scores, minlength=len(pairs))
    psu, grp = np.divmod(pairs, n_groups)
    stratum = st.psu_stratum[psu]
    hinv, hg = pd.factorize(stratum * n_groups + grp)
    s1 = np.bincount(hinv, weights=totals, minlength=len(hg))
    s2 = np.bincount(hinv, weights=totals**2, minlength=len(hg))
    h, g = np.divmod(hg, n_groups)
    within = s2 - np.where(st.center_h[h], s1**2 / st.n_h[h], 0.0)
    return np.bincount(g, weights=st.scale_h[h] * within, minlength=n_groups)


def _stage_columns(cluster: Any, fpc: Any) -> tuple[list[str], list[str]]:
    """Per-stage id and fpc column names from ``cluster=`` / ``fpc=`` (a name or a list)."""
    ids = [] if cluster is None else [cluster] if isinstance(cluster, str) else list(cluster)
    fpcs = [] if fpc is None else [fpc] if isinstance(fpc, str) else list(fpc)
    if not all(isinstance(c, str) for c in [*ids, *fpcs]):
        raise DesignError("cluster= and fpc= take column names (a name or a list of names).")
    if len(fpcs) > 1 and len(fpcs) != len(ids):
        raise DesignError(
            f"fpc= names {len(fpcs)} columns but cluster= names {len(ids)} stages; give one "
            "fpc per stage (as svydesign(id = ~psu + ssu, fpc = ~fpc1 + fpc2))."
        )
    if len(fpcs) == 1 and len(ids) > 1:
        raise DesignError(
            f"A {len(ids)}-stage design needs one fpc per stage (or none, for a with-replacement "
            "first stage); fpc= names one column."
        )
    return ids, fpcs


def _later_stages(
    data: pd.DataFrame,
    ids: list[str],
    fpcs: list[str],
    unit_code: np.ndarray,
    above_fraction: np.ndarray,
    as_fraction: bool,
    lonely_psu: str,
) -> tuple[tuple, np.ndarray]:
    """The stages after the first (only with an fpc per stage, as R) and the product of their
    inverse sampling fractions (the weights when none are given)."""
    n = len(data)
    stage_w = np.ones(n)
    if len(ids) < 2 or not fpcs:
        return (), stage_w
    stages = []
    multiplier = above_fraction.copy()  # row -> product of sampling fractions above
    for col, fcol in zip(ids[1:], fpcs[1:], strict=True):
        c = data[col]
        _no_missing(c, col, "cluster")
        parent = unit_code
        n_parent = int(parent.max()) + 1
        ccodes, cuniques = pd.factorize(c)
        unit_code = pd.factorize(parent * len(cuniques) + ccodes.astype(np.int64))[0]
        unit_code = unit_code.astype(np.int64)
        n_unit = int(unit_code.max()) + 1
        unit_parent = np.empty(n_unit, dtype=np.int64)
        unit_parent[unit_code] = parent
        n_h = np.bincount(unit_parent, minlength=n_parent).astype(np.int64)
        fpc = _numeric(data[fcol], fcol, "fpc")
        if not np.all(np.isfinite(fpc)) or np.any(fpc <= 0):
            raise DesignError(f"The fpc column {fcol!r} must hold positive numbers with no gaps.")
        lo = np.full(n_parent, np.inf)
        hi = np.full(n_parent, -np.inf)
        np.minimum.at(lo, parent, fpc)
        np.maximum.at(hi, parent, fpc)
        if np.any(lo != hi):
            raise DesignError(
                f"The fpc column {fcol!r} must be constant within each unit of the stage above "
                f"(column {col!r} is nested in it)."
            )
        if as_fraction:
            fraction = lo
        else:
            if np.any(lo < n_h):
                raise DesignError(
                    f"The fpc column {fcol!r} gives fewer population units than the sample "
                    f"has in some unit of the stage above {col!r}."
                )
            fraction = n_h / lo
        f_h = 1.0 - fraction
        certainty = f_h < _CERTAINTY_TOL
        lonely = (n_h == 1) & ~certainty
        if lonely.any() and lonely_psu == "fail":
            raise DesignError(
                f"{int(lonely.sum())} unit(s) of the stage above {col!r} have only one sampled "
                f"{col!r}, so its variance cannot be estimated. Build the design with "
                "lonely_psu='adjust' (R: options(survey.lonely.psu = 'adjust'))."
            )
        parent_mult = np.empty(n_parent)
        parent_mult[parent] = multiplier
        with np.errstate(divide="ignore", invalid="ignore"):
            scale_h = np.where(n_h > 1, f_h * n_h / np.maximum(n_h - 1, 1), f_h)
        scale_h = np.where(certainty, 0.0, scale_h) * parent_mult
        stages.append(_Stage(unit_code, unit_parent, n_h, scale_h, ~lonely))
        row_fraction = fraction[parent]
        stage_w = stage_w / row_fraction
        multiplier = multiplier * row_fraction
    return tuple(stages), stage_w


# ---------------------------------------------------------------------- helpers
def _no_missing(col: pd.Series, name: str, role: str) -> None:
    missing = int(col.isna().sum())
    if missing:
        raise DesignError(f"The {role} column {name!r} has {missing} missing values.")


def _numeric(col: pd.Series, name: str, role: str) -> np.ndarray:
    if col.dtype == bool:
        return col.to_numpy(dtype=np.float64)
    if not pd.api.types.is_numeric_dtype(col):
        raise DesignError(f"The {role} column {name!r} must be numeric, not {col.dtype}.")
    return col.to_numpy(dtype=np.float64, na_value=np.nan)


def _check_design(design: Any) -> SurveyDesign:
    if not isinstance(design, SurveyDesign):
        raise DesignError(f"Expected a SurveyDesign, got {type(design).__name__}.")
    return design


def _column(design: SurveyDesign, var: str, role: str = "variable") -> pd.Series:
    if not isinstance(var, str) or var not in design.data.columns:
        raise DesignError(
            f"The {role} {var!r} is not a column of the survey data. "
            f"Available columns: {_fmt_list(list(design.data.columns), 20)}."
        )
    return design.data[var]


def _numeric_var(design: SurveyDesign, var: str) -> tuple[np.ndarray, np.ndarray]:
    """Values (missing as 0) and the domain mask of rows with a value."""
    col = _column(design, var)
    if not (pd.api.types.is_numeric_dtype(col) or col.dtype == bool):
        raise DesignError(
            f"The variable {var!r} is not numeric ({col.dtype}); use svyprop() for "
            "categorical variables."
        )
    y = _numeric(col, var, "variable")
    ok = ~np.isnan(y)
    if np.isinf(y[ok]).any():
        raise DesignError(f"The variable {var!r} has infinite values.")
    rows = design._domain & ok
    if not rows.any():
        raise DesignError(f"The variable {var!r} has no non-missing values in this design.")
    return np.where(ok, y, 0.0), rows


def _t_interval(
    est: np.ndarray, se: np.ndarray, df: np.ndarray, conf_level: float
) -> tuple[np.ndarray, np.ndarray]:
    if not 0 < conf_level < 1:
        raise DesignError(f"conf_level must be between 0 and 1, not {conf_level!r}.")
    df = np.asarray(df, dtype=float)
    with np.errstate(invalid="ignore"):
        q = np.where(df > 0, stats.t.ppf(0.5 + conf_level / 2, np.maximum(df, 1)), np.nan)
    return est - q * se, est + q * se


def _logit_interval(
    p: np.ndarray, se: np.ndarray, df: np.ndarray, conf_level: float
) -> tuple[np.ndarray, np.ndarray]:
    """``svyciprop(method = "logit")``: a t interval for logit(p), mapped back.

    The linearised SE of logit(p) is ``se(p) / (p (1 - p))``, which is exactly the
    design-based SE of the intercept of ``svyglm(y ~ 1, family = quasibinomial)``.
    When p is 0 or 1 the interval collapses to that value.
    """
    p = np.asarray(p, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        eta = np.log(p / (1 - p))
        se_eta = se / (p * (1 - p))
        lo, hi = _t_interval(eta, se_eta, df, conf_level)
        lo, hi = 1 / (1 + np.exp(-lo)), 1 / (1 + np.exp(-hi))
    degenerate = (p <= 0) | (p >= 1)
    return np.where(degenerate, p, lo), np.where(degenerate, p, hi)


def _frame(rows: dict[str, Any]) -> pd.DataFrame:
    out = pd.DataFrame(rows)
    first = [c for c in RESULT_COLUMNS if c in out.columns]
    if "level" in out.columns:
        first.insert(first.index("group") + 1, "level")
    return out[first + [c for c in out.columns if c not in first]]


def _group_codes(
    design: SurveyDesign, by: str | Sequence[str]
) -> tuple[np.ndarray, list[Any], str]:
    """Group codes per row (-1 for missing), sorted group labels, and the by-name."""
    by_cols = [by] if isinstance(by, str) else list(by)
    if not by_cols:
        raise DesignError("svyby() needs at least one grouping column in by=.")
    cols = [_column(design, b, "grouping column") for b in by_cols]
    if len(cols) == 1:
        codes, uniques = pd.factorize(cols[0], sort=True)
        labels = list(uniques)
    else:
        frame = pd.concat(cols, axis=1)
        grouped = frame.groupby(by_cols, sort=True, dropna=True)
        codes = grouped.ngroup().to_numpy()
        codes = np.where(frame.isna().any(axis=1).to_numpy(), -1, codes)
        labels = list(grouped.groups.keys())
    return np.asarray(codes, dtype=np.int64), labels, " x ".join(by_cols)


# ---------------------------------------------------------------------- estimators
def svymean(design: SurveyDesign, var: str, conf_level: float = 0.95) -> pd.DataFrame:
    """Weighted mean of ``var`` with its linearised standard error (``svymean``).

    ``ybar = sum(w y) / sum(w)`` over the domain rows with a value; scores
    ``w (y - ybar) / sum(w)``.  Missing values are dropped as with ``na.rm = TRUE``,
    i.e. treated as a domain.  The t interval uses ``design.df`` (the ``degf`` of the
    design passed, as ``svyciprop`` does).

    Validated against R survey 4.x (tests/reference/r_survey_reference.R):
    ``svymean(~y, des, na.rm = TRUE)``.
    """
    design = _check_design(design)
    if (rep := design._replicate_version("svymean")) is not None:
        return rep(design, var, conf_level)
    y, rows = _numeric_var(design, var)
    w = design._struct.w[rows]
    yr = y[rows]
    total_w = w.sum()
    est = float(np.dot(w, yr) / total_w)
    var_ = design.score_vcov(rows, w * (yr - est) / total_w)[0, 0]
    return _single_result(design, var, est, var_, int(rows.sum()), conf_level, "taylor")


def svytotal(design: SurveyDesign, var: str, conf_level: float = 0.95) -> pd.DataFrame:
    """Weighted total ``sum(w y)`` of ``var`` with its linearised SE (``svytotal``).

    Scores are ``w y``; missing values are dropped as with ``na.rm = TRUE``.

    Validated against R survey 4.x (tests/reference/r_survey_reference.R):
    ``svytotal(~y, des, na.rm = TRUE)``.
    """
    design = _check_design(design)
    if (rep := design._replicate_version("svytotal")) is not None:
        return rep(design, var, conf_level)
    y, rows = _numeric_var(design, var)
    scores = design._struct.w[rows] * y[rows]
    est = float(scores.sum())
    var_ = design.score_vcov(rows, scores)[0, 0]
    return _single_result(design, var, est, var_, int(rows.sum()), conf_level, "taylor")


def _single_result(
    design: SurveyDesign,
    var: str,
    est: float,
    var_: float,
    n: int,
    conf_level: float,
    method: str,
) -> pd.DataFrame:
    se = float(np.sqrt(max(var_, 0.0)))
    df = design.df
    lo, hi = _t_interval(np.array([est]), np.array([se]), np.array([df]), conf_level)
    return _frame(
        {
            "variable": [var],
            "group_var": [None],
            "group": [None],
            "estimate": [est],
            "se": [se],
            "ci_low": lo,
            "ci_high": hi,
            "df": [df],
            "n": [n],
            "method": [method],
        }
    )


def _prop_levels(col: pd.Series, var: str, level: Any) -> tuple[list[Any], bool]:
    """Levels to report and whether the variable is binary 0/1 (or boolean)."""
    values = col.dropna()
    if values.empty:
        raise DesignError(f"The variable {var!r} has no non-missing values.")
    uniques = pd.unique(values)
    binary = col.dtype == bool or (
        pd.api.types.is_numeric_dtype(col) and set(np.asarray(uniques, dtype=float)) <= {0, 1}
    )
    if level is not None:
        if not (values == level).any():
            raise DesignError(
                f"Level {level!r} does not occur in {var!r}; its values are "
                f"{_fmt_list(sorted(uniques, key=str))}."
            )
        return [level], binary
    if binary:
        return [True if col.dtype == bool else 1], True
    try:
        return sorted(uniques), False
    except TypeError:
        return sorted(uniques, key=str), False


def _indicators(values: np.ndarray, levels: list[Any]) -> np.ndarray:
    """(rows x levels) 0/1 matrix of ``values == level``, via one hash lookup per row."""
    codes = pd.Index(levels).get_indexer(values)
    return (codes[:, None] == np.arange(len(levels))).astype(np.float64)


def svyprop(
    design: SurveyDesign, var: str, level: Any = None, conf_level: float = 0.95
) -> pd.DataFrame:
    """Proportion(s) of ``var`` with logit-scale t intervals (``svyciprop``, logit).

    For a binary 0/1 or boolean ``var`` (and ``level=None``) one row: the proportion of
    1 / True.  For a categorical ``var`` one row per level (sorted), or only ``level``.
    The estimate is the weighted mean of the indicator; ``se`` its linearised SE
    (as ``SE(svyciprop(...))``); the interval is
    ``expit(logit(p) +/- t_{df} * se / (p (1 - p)))`` with ``df = design.df``, equal to
    ``svyciprop(~I(var == level), des, method = "logit")``.  Rows with a missing ``var``
    are dropped (a domain), while ``df`` stays the ``degf`` of the design passed, as in R.

    Validated against R survey 4.x (tests/reference/r_survey_reference.R).
    """
    design = _check_design(design)
    if (rep := design._replicate_version("svyprop")) is not None:
        return rep(design, var, level, conf_level)
    levels, rows, ind = _prop_inputs(design, var, level)
    w = design._struct.w[rows]
    p = w @ ind / w.sum()
    vc = design.score_vcov(rows, w[:, None] * (ind - p) / w.sum())
    se = np.sqrt(np.clip(np.diag(vc), 0, None))
    return _prop_result(design, var, levels, p, se, int(rows.sum()), "taylor-logit", conf_level)


def _prop_inputs(design: SurveyDesign, var: str, level: Any):
    """Levels, the domain rows with a value, and the (rows x levels) indicators of ``var``."""
    col = _column(design, var)
    levels, _ = _prop_levels(col, var, level)
    rows = design._domain & col.notna().to_numpy()
    if not rows.any():
        raise DesignError(f"The variable {var!r} has no non-missing values in this design.")
    return levels, rows, _indicators(col.to_numpy()[rows], levels)


def _prop_result(design, var, levels, p, se, n, method, conf_level) -> pd.DataFrame:
    """svyprop's frame: one row per level, logit interval on the design df."""
    df = np.full(len(levels), design.df)
    lo, hi = _logit_interval(p, se, df, conf_level)
    return _frame(
        {
            "variable": var,
            "group_var": None,
            "group": None,
            "level": levels,
            "estimate": p,
            "se": se,
            "ci_low": lo,
            "ci_high": hi,
            "df": df,
            "n": n,
            "method": method,
        }
    )


def svyby(
    design: SurveyDesign,
    var: str,
    by: str | Sequence[str],
    stat: str = "mean",
    conf_level: float = 0.95,
    level: Any = None,
) -> pd.DataFrame:
    """Domain estimates of ``var`` for each group of ``by`` (``svyby``).

    ``stat`` is ``"mean"`` (``svyby(~y, ~g, des, svymean, na.rm = TRUE)``), ``"total"``
    (``svyby(~y, ~g, des, svytotal, na.rm = TRUE)``) or ``"prop"``
    (``svyby(~z, ~g, des, svyciprop, method = "logit")``; a categorical ``var`` gives one
    row per group and level, or only ``level``).  Each group is a domain of the full
    design: variances use every PSU with zero scores outside the group, so they equal
    ``svymean(design.subset(by == group), var)``.  ``df`` is the ``degf`` of each
    group's domain.  Rows with a missing ``by`` value belong to no group.  All groups
    are computed together with ``np.bincount`` over (PSU, group) codes.

    Validated against R survey 4.x (tests/reference/r_survey_reference.R).
    """
    design = _check_design(design)
    if (rep := design._replicate_version("svyby")) is not None:
        return rep(design, var, by, stat, conf_level, level)
    g = _by_inputs(design, var, by, stat, level)
    group_df = design._degf_by(g.in_group, g.gcode_all[g.in_group], g.n_groups)
    w = design._struct.w[g.rows]
    gcode = g.gcode
    w_by = np.bincount(gcode, weights=w, minlength=g.n_groups)
    frames = []
    for lv, yv in zip(g.levels, g.values, strict=True):  # one pass per level, not per row
        sums = np.bincount(gcode, weights=w * yv, minlength=g.n_groups)
        if stat == "total":
            est = sums
            scores = w * yv
        else:
            with np.errstate(invalid="ignore", divide="ignore"):
                est = sums / w_by
            scores = w * (yv - est[gcode]) / w_by[gcode]
        se = np.sqrt(np.clip(design._var_by(g.rows, scores, gcode, g.n_groups), 0, None))
        method = "taylor-logit" if stat == "prop" else "taylor"
        frames.append(_by_part(g, var, stat, lv, est, se, group_df, method, conf_level))
    return _by_finish(frames, stat, g.levels)


@dataclass(frozen=True)
class _ByInputs:
    gcode_all: np.ndarray  # group code of every row (-1: none)
    labels: list
    by_name: str
    in_group: np.ndarray  # domain rows with a group
    rows: np.ndarray  # ... and a value of var
    gcode: np.ndarray  # group codes of rows
    levels: list  # [None] for a mean or total; the levels for a proportion
    values: list  # one value vector (over rows) per level
    n_by: np.ndarray

    @property
    def n_groups(self) -> int:
        return len(self.labels)


def _by_inputs(design: SurveyDesign, var: str, by: Any, stat: str, level: Any) -> _ByInputs:
    """Group codes, rows and values shared by the Taylor and replicate ``svyby``."""
    if stat not in ("mean", "total", "prop"):
        raise DesignError(f"stat must be 'mean', 'total' or 'prop', not {stat!r}.")
    gcode_all, labels, by_name = _group_codes(design, by)
    if not labels:
        raise DesignError(f"The grouping column(s) {by!r} have no non-missing values.")
    in_group = design._domain & (gcode_all >= 0)
    if stat == "prop":
        col = _column(design, var)
        levels, _ = _prop_levels(col, var, level)
        rows = in_group & col.notna().to_numpy()
        values = list(_indicators(col.to_numpy()[rows], levels).T)
    else:
        y, ok = _numeric_var(design, var)
        rows = in_group & ok
        values, levels = [y[rows]], [None]
    gcode = gcode_all[rows]
    n_by = np.bincount(gcode, minlength=len(labels))
    return _ByInputs(gcode_all, labels, by_name, in_group, rows, gcode, levels, values, n_by)


def _by_part(g: _ByInputs, var, stat, lv, est, se, df, method, conf_level) -> pd.DataFrame:
    interval = _logit_interval if stat == "prop" else _t_interval
    lo, hi = interval(est, se, df, conf_level)
    part = {
        "variable": var,
        "group_var": g.by_name,
        "group": g.labels,
        "estimate": est,
        "se": se,
        "ci_low": lo,
        "ci_high": hi,
        "df": df,
        "n": g.n_by,
        "method": method,
    }
    if stat == "prop":
        part["level"] = lv
    return _frame(part)


def _by_finish(frames: list[pd.DataFrame], stat: str, levels: list) -> pd.DataFrame:
    out = pd.concat(frames, ignore_index=True)
    out = out[out["n"] > 0].reset_index(drop=True)  # drop.empty.groups = TRUE
    if stat == "prop" and len(levels) > 1:
        out = out.sort_values(["group", "level"], kind="stable", key=_sort_key)
        out = out.reset_index(drop=True)
    return out


def _sort_key(s: pd.Series) -> pd.Series:
    try:
        return s.rank(method="dense")
    except TypeError:
        return s.astype(str)


# ---------------------------------------------------------------------- regression
_FAMILIES = {"gaussian": "gaussian", "binomial": "binomial", "quasibinomial": "binomial"}


def _r_term_name(name: str) -> str:
    """Patsy term name, e.g. ``g[T.b]`` -> R's ``gb`` and ``Intercept`` -> ``(Intercept)``."""
    if name == "Intercept":
        return "(Intercept)"
    return re.sub(
        r"(?:C\((\w+)[^)]*\)|(\w+))\[T\.([^\]]*)\]", lambda m: (m[1] or m[2]) + m[3], name
    )


def svyglm(
    design: SurveyDesign,
    formula: str,
    family: str = "gaussian",
    conf_level: float = 0.95,
    max_iter: int = 100,
    tol: float = 1e-12,
) -> pd.DataFrame:
    """Design-weighted GLM with design-based (Taylor / sandwich) SEs, as ``svyglm``.

    ``formula`` is a patsy formula (``"y ~ x1 + x2 + C(g)"``); ``family`` is
    ``"gaussian"`` (identity link) or ``"binomial"`` / ``"quasibinomial"`` (logit link;
    the point estimates and SEs are the same, as in R).  Coefficients solve the
    weighted score equations ``sum_i w_i x_i (y_i - mu_i) = 0`` (IRLS).  The variance is
    ``V = A^-1 B A^-1`` with ``A = X' diag(w v(mu)) X`` and ``B`` the design variance of
    the score totals ``w_i x_i (y_i - mu_i)`` (R's ``svy.varcoef``).

    Rows with a missing value in any formula variable are dropped (``na.omit``) and the
    fit is a domain of the design.  t statistics and p-values use
    ``df = degf(design without those rows) + 1 - p`` (``summary.svyglm``); intervals are
    Wald t intervals on the same df (``confint.svyglm``).  Term names follow patsy
    (``g[T.b]``); column ``r_term`` gives R's name (``gb``).  Collinear terms are an error
    (R would report an NA coefficient).

    Returns one row per coefficient with ``term, r_term, estimate, se, t_value,
    p_value, ci_low, ci_high, df, n, method`` plus ``variable`` (the response),
    ``group_var`` and ``group`` (None).

    Validated against R survey 4.x (tests/reference/r_survey_reference.R):
    ``summary(svyglm(y ~ x1 + x2 + g, des))`` and ``family = quasibinomial()``.
    """
    import patsy

    design = _check_design(design)
    if family not in _FAMILIES:
        raise DesignError(f"family must be one of {sorted(_FAMILIES)}, not {family!r}.")
    fam = _FAMILIES[family]
    dom_pos = np.flatnonzero(design._domain)
    frame = design.data.iloc[dom_pos].reset_index(drop=True)
    # Text columns become pandas Categoricals (levels sorted, from the rows in the domain,
    # as R's factor() on a subset): patsy handles them without a per-row Python loop.
    for name in set(re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", formula)) & set(frame.columns):
        col = frame[name]
        if not (
            pd.api.types.is_numeric_dtype(col)
            or col.dtype == bool
            or isinstance(col.dtype, pd.CategoricalDtype)
        ):
            frame[name] = pd.Categorical(col)
    # the caller's variables, as eval_env=1 would give, with a C() that passes categorical
    # columns straight through
    env = patsy.EvalEnvironment.capture(1)
    env = patsy.EvalEnvironment([{"C": _categorical}, env.namespace], env.flags)
    try:
        y_df, x_df = patsy.dmatrices(
            formula, frame, NA_action="drop", return_type="dataframe", eval_env=env
        )
    except patsy.PatsyError as exc:
        raise DesignError(f"Could not use the model formula {formula!r}: {exc}") from exc
    kept = dom_pos[y_df.index.to_numpy()]
    if len(kept) == 0:
        raise DesignError(f"No complete rows for the model {formula!r}.")
    response = y_df.columns[0] if y_df.shape[1] == 1 else formula.split("~")[0].strip()
    if y_df.shape[1] == 1:
        y = y_df.iloc[:, 0].to_numpy(dtype=np.float64)
    elif y_df.shape[1] == 2 and fam == "binomial":
        y = y_df.iloc[:, 1].to_numpy(dtype=np.float64)  # second level = "success", as R
    else:
        raise DesignError(
            f"The response of {formula!r} must be numeric"
            + (" or have two levels." if fam == "binomial" else ".")
        )
    if fam == "binomial" and ((y < 0) | (y > 1)).any():
        raise DesignError(f"For family {family!r} the response must lie between 0 and 1.")
    x = x_df.to_numpy(dtype=np.float64)
    names = list(x_df.columns)
    w = design._struct.w[kept]

    # prior weights scaled to mean 1, as R's svyglm (same estimates; R's starting values,
    # without which IRLS can diverge when weights are in the hundreds)
    beta, mu, v, bread = fit_glm(x, y, w / w.mean(), fam, names, max_iter, tol)
    a_inv = np.linalg.inv(bread) / w.mean()  # the bread of the mean-1 weights, rescaled
    p = len(beta)
    rows_mask = np.zeros(len(design.data), dtype=bool)
    rows_mask[kept] = True
    method = f"taylor-svyglm-{family}"
    if (rep := design._replicate_version("glm_vcov")) is not None:
        vcov, method = (
            rep(design, x, y, names, kept, fam, beta, max_iter, tol),
            method.replace("taylor", f"replicate-{design.type}"),
        )
    else:
        # A^-1 B A^-1 with B the design variance of the score totals (that of x_i w_i r_i A^-1)
        vcov = a_inv @ design.score_vcov(kept, x * (w * (y - mu))[:, None]) @ a_inv
    se = np.sqrt(np.clip(np.diag(vcov), 0, None))
    df_resid = design.degf_of(rows_mask) + 1 - p
    with np.errstate(divide="ignore", invalid="ignore"):
        tval = beta / se
    pval = 2 * stats.t.sf(np.abs(tval), df_resid) if df_resid > 0 else np.full(p, np.nan)
    lo, hi = _t_interval(beta, se, np.full(p, df_resid), conf_level)
    out = pd.DataFrame(
        {
            "term": names,
            "r_term": [_r_term_name(nm) for nm in names],
            "estimate": beta,
            "se": se,
            "t_value": tval,
            "p_value": pval,
            "ci_low": lo,
            "ci_high": hi,
            "df": df_resid,
            "n": len(kept),
            "method": method,
            "variable": response,
            "group_var": None,
            "group": None,
        }
    )
    return out


def _categorical(data, contrast=None, levels=None):
    """patsy's ``C()``, except that a column that is already categorical is passed through:
    patsy 1.0 reads a boxed pandas Categorical value by value (3 s per million rows)."""
    import patsy

    if (
        contrast is None
        and levels is None
        and isinstance(getattr(data, "dtype", None), pd.CategoricalDtype)
    ):
        return data
    return patsy.builtins.C(data, contrast, levels)


def fit_glm(
    x: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    fam: str,
    names: list[str],
    max_iter: int,
    tol: float,
    start: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Weighted least squares (gaussian) or IRLS (binomial, logit link); the fitting core that
    ``svyglm`` and the models in :mod:`pipelines.models` share.  Returns the coefficients, the
    fitted means, the variance function at them and the bread ``X' diag(w v) X``.  ``start``
    (coefficients, as glm's ``start=``) begins IRLS there, e.g. a replicate refit at the
    full-sample fit; it still iterates to convergence."""

    def wls(z: np.ndarray, ww: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # Normal equations on column-scaled X'WX (Cholesky) plus one step of iterative
        # refinement: as accurate as a QR here, without an n x p factorisation per step.
        xw = x * ww[:, None]
        gram = xw.T @ x
        d = np.sqrt(np.diag(gram))
        zero = np.flatnonzero(d <= 0)
        if zero.size:
            raise DesignError(
                f"Model term(s) {_fmt_list([names[i] for i in zero])} are zero in every row "
                "used. Drop them."
            )
        scaled = gram / np.outer(d, d)
        eig = np.linalg.eigvalsh(scaled)
        if eig[0] <= 1e-12 * eig[-1]:
            _, r, piv = linalg.qr(scaled, pivoting=True)
            rank = int(np.sum(np.abs(np.diag(r)) > 1e-10 * abs(r[0, 0])))
            bad = sorted(piv[rank:]) or [int(np.argmin(np.abs(np.diag(r))))]
            raise DesignError(
                "The model terms are collinear (or a term has no variation in the "
                f"data used): {_fmt_list([names[i] for i in bad])}. Drop or merge them."
            )
        chol = linalg.cho_factor(scaled)
        beta = linalg.cho_solve(chol, (xw.T @ z) / d) / d
        beta += linalg.cho_solve(chol, (xw.T @ (z - x @ beta)) / d) / d
        return beta, gram

    if x.shape[0] <= x.shape[1]:
        raise DesignError(
            f"The model has {x.shape[1]} coefficients but only {x.shape[0]} complete rows."
        )
    if fam == "gaussian":
        beta, gram = wls(y, w)
        return beta, x @ beta, np.ones_like(y), gram

    if start is None:
        mu = (w * y + 0.5) / (w + 1)  # R's binomial()$initialize
        eta = np.log(mu / (1 - mu))
    else:
        eta = x @ np.asarray(start, dtype=np.float64)
        mu = np.clip(1 / (1 + np.exp(-eta)), 1e-15, 1 - 1e-15)
    dev_old = np.inf
    for _ in range(max_iter):
        v = mu * (1 - mu)
        z = eta + (y - mu) / v
        beta, _ = wls(z, w * v)
        eta = x @ beta
        mu = 1 / (1 + np.exp(-eta))
        mu = np.clip(mu, 1e-15, 1 - 1e-15)
        with np.errstate(divide="ignore", invalid="ignore"):
            dev = -2 * np.sum(
                w
                * (
                    np.where(y > 0, y * np.log(mu), 0)
                    + np.where(y < 1, (1 - y) * np.log(1 - mu), 0)
                )
            )
        if abs(dev - dev_old) / (abs(dev) + 0.1) < tol:
            break
        dev_old = dev
    else:
        raise DesignError(
            f"The logistic model did not converge in {max_iter} iterations; check for "
            "separation (a term that perfectly predicts the outcome)."
        )
    v = mu * (1 - mu)
    return beta, mu, v, (x * (w * v)[:, None]).T @ x
