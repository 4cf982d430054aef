"""Models relating programme participation to outcomes, with design-based inference.

Every function returns a tidy frame with one row per reported coefficient and the columns
``analysis, outcome, term, estimate, se, ci_low, ci_high, df, p, n, method, note`` (the
caller adds ``wave``, ``group_var``, ``group``).  All of them are observational: the
``note`` says the participation is *associated with* the outcome.

* :func:`svy_fit` fits a design-weighted GLM (gaussian identity / binomial logit) with the
  same estimating equations and Taylor-linearisation (sandwich) variance as
  :func:`pipelines.stats.design.svyglm`, but from numpy arrays and returning the full
  covariance matrix, so contrasts (group-specific effects, differences between groups)
  get design-based SEs too.  Coefficients and SEs equal ``svyglm``'s (pinned in
  ``tests/test_models.py``).  Degrees of freedom are the design df (#PSUs - #strata of the
  rows used, as ``survey::degf``; Stata's convention) rather than ``summary.svyglm``'s
  ``degf + 1 - p``: with few clusters and many terms the latter can reach zero.
* :func:`participation_effects` (linear for scale scores and log income, logistic for
  yes/no outcomes), :func:`ordinal_effects` (weighted proportional odds with Taylor SEs,
  coefficients and thresholds as R's ``polr`` / ``svyolr``), :func:`mixed_effects` (``MixedLM`` random
  intercept per site, unweighted, model-based SEs), :func:`dose_response` (log1p sessions)
  and :func:`programme_effects` (each programme against non-participants).

Building design matrices is vectorised (no patsy), so a million rows take seconds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from pipelines.stats.design import DesignError, SurveyDesign, fit_glm
from pipelines.stats.replicate import ReplicateDesign, replicate_glm
from pipelines.stats.tidy import estimate_frame, estimate_row

__all__ = [
    "NOTE_OBSERVATIONAL",
    "Fit",
    "average_marginal_effect",
    "design_matrix",
    "dose_response",
    "mixed_effects",
    "ordinal_effects",
    "participation_effects",
    "option_effects",
    "programme_effects",
    "svy_fit",
]

NOTE_OBSERVATIONAL = (
    "Observational (no randomisation): participation is associated with this outcome; "
    "not proof of a causal effect."
)


# --------------------------------------------------------------------------- matrices
def as_float(s: pd.Series) -> np.ndarray:
    """A numeric/boolean column as float64 with NaN for missing (Int64 <NA> included)."""
    if s.dtype == bool:
        return s.to_numpy(dtype=np.float64)
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _levels(s: pd.Series) -> list:
    """Levels present, in the categorical's own order (the codebook's), else sorted; the
    first is the reference level."""
    present = pd.unique(s.dropna())
    if isinstance(s.dtype, pd.CategoricalDtype):
        keep = set(present)
        return [c for c in s.cat.categories if c in keep]
    return sorted(present, key=str)


def is_categorical(s: pd.Series) -> bool:
    return not (pd.api.types.is_numeric_dtype(s) or s.dtype == bool)


def design_matrix(
    df: pd.DataFrame,
    terms: Sequence[str],
    extra: dict[str, np.ndarray] | None = None,
    reference: dict[str, object] | None = None,
) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Intercept, then ``extra`` columns (arrays), then ``terms`` (numeric as is,
    categorical as treatment dummies ``name[level]`` against the first level or
    ``reference[name]``).  Returns ``(X, names, complete)``; ``complete`` marks rows with
    no missing value in any column.
    """
    n = len(df)
    cols: list[np.ndarray] = [np.ones(n)]
    names = ["Intercept"]
    complete = np.ones(n, dtype=bool)
    for name, arr in (extra or {}).items():
        arr = np.asarray(arr, dtype=np.float64)
        cols.append(arr)
        names.append(name)
        complete &= np.isfinite(arr)
    for term in terms:
        s = df[term]
        if is_categorical(s):
            levels = _levels(s)
            ref = (reference or {}).get(term, levels[0] if levels else None)
            codes = pd.Categorical(s, categories=levels).codes
            complete &= codes >= 0
            for i, lv in enumerate(levels):
                if lv == ref:
                    continue
                cols.append((codes == i).astype(np.float64))
                names.append(f"{term}[{lv}]")
        else:
            arr = as_float(s)
            cols.append(arr)
            names.append(term)
            complete &= np.isfinite(arr)
    x = np.column_stack(cols)
    x[~complete] = 0.0
    return x, names, complete


def drop_constant(x: np.ndarray, names: list[str], rows: np.ndarray, keep: Sequence[str] = ()):
    """Drop dummy/numeric columns without variation on ``rows`` (never the intercept or
    ``keep``), so a subgroup without, e.g., tertiary education still fits."""
    # a column varies when some used row differs from the first used row (missing values
    # ignored); in row blocks that stay in cache, with no copy of the selected rows
    r = np.asarray(rows, dtype=bool)
    var = np.zeros(x.shape[1], dtype=bool)
    if r.any():
        first = x[np.argmax(r)]
        for i in range(0, len(x), 65536):
            xb = x[i : i + 65536]
            var |= ((xb != first) & (xb == xb) & r[i : i + 65536, None]).any(axis=0)
    ok = var | (np.arange(x.shape[1]) == 0) | np.isin(names, list(keep))
    if ok.all():
        return x, list(names)
    return x[:, ok], [nm for nm, k in zip(names, ok, strict=True) if k]


# --------------------------------------------------------------------------- fitting
@dataclass
class Fit:
    """A fitted design-weighted GLM: coefficients, full covariance and t reference df."""

    names: list[str]
    beta: np.ndarray
    vcov: np.ndarray
    df: int
    n: int
    family: str
    se_kind: str  # "design" or "robust"
    rows: np.ndarray | None = None  # positions of the rows fitted
    # (design, X, weights, variance function, A^-1[, X'WVWX]) of the fitted rows (contrast_df)
    work: tuple | None = field(default=None, repr=False)
    variance: str = "Taylor"  # or the replicate method, e.g. "replicate-JK1"
    # a replicate design's refits: (replicates x p) coefficients and (rows x replicates) weights
    replicates: tuple | None = field(default=None, repr=False)

    def index(self, term: str) -> int:
        return self.names.index(term)

    def contrast_df(self, c: np.ndarray) -> float:
        """Satterthwaite (Bell-McCaffrey) df of ``c'beta``'s Taylor variance, at most the
        design df: independent residuals (variance function of the family, weights not
        precision) projected off the fit as the working model (``design.satterthwaite_df``;
        first stage only, a calibration left out). The design df for robust or replicate fits."""
        if self.work is None:
            return float(self.df)
        return self._traces_of(self._working_moments(c))[0]

    def contrast_test(self, c: np.ndarray, corrected: bool = True) -> tuple[float, float, float]:
        """Estimate, SE and df (:meth:`contrast_df`) of ``c'beta``. ``corrected``: Kott's (1994)
        bias correction, the Taylor variance times model-based / expected Taylor variance under
        the working model (:meth:`working_variances`) when that ratio is above 1, never below
        the Taylor SE. Taylor SE and design df for robust or replicate fits."""
        est, se = self.contrast(c)
        if self.work is None:
            return est, se, float(self.df)
        moments = self._working_moments(c)
        df, trace = self._traces_of(moments)
        if corrected:
            expected, model = self._variances_of(moments, trace)
            if expected > 0 and model > expected:
                se *= float(np.sqrt(model / expected))
        return est, se, df

    def working_variances(self, c: np.ndarray) -> tuple[float, float]:
        """Under the working model of :meth:`contrast_df` (unit scale): the expected
        with-replacement first-stage Taylor variance of ``c'beta`` and its model-based variance
        ``c'A^-1 X'WVWX A^-1 c``, where ``V`` is the family's variance function."""
        return self._variances_of(self._working_moments(c))

    def _working_moments(self, c: np.ndarray) -> tuple:
        """``(b = A^-1 c, D, R, S)``: under the working model the first-stage PSU totals of
        ``c'beta``'s influence values have covariance ``diag(D) + R S R'``."""
        design, xk, wk, v, a_inv = self.work[:5]
        if len(self.work) == 5:  # once per fit: X'WVWX and the PSU Gram matrices
            self.work = (*self.work, *_psu_grams(design, self.rows, xk, wk, v))
        n_mat, psu, grams = self.work[5:]
        b = a_inv @ np.asarray(c, dtype=np.float64)
        # the influence of residual i is a_i = w_i x_i'b; residuals r = (I - V X A^-1 X'W) e
        # with Var(e) = V: PSU totals of a*r have covariance diag(D) + R S R' where
        # D = sum a^2 v, R = [sum a v x, sum a v w x] over each PSU's rows
        if grams is not None:  # sum w v x x' and sum w^2 v x x' per PSU
            k_g, l_g = grams[0] @ b, grams[1] @ b
            d_g = l_g @ b
        else:
            a = wk * (xk @ b)
            av, g = a * v, design._struct.n_psu
            d_g = np.bincount(psu, weights=a * av, minlength=g)
            k_g, l_g = (
                np.column_stack(
                    [np.bincount(psu, weights=f * xk[:, j], minlength=g) for j in range(len(b))]
                )
                for f in (av, av * wk)
            )
        p = len(b)
        s = np.zeros((2 * p, 2 * p))
        s[:p, :p] = a_inv @ n_mat @ a_inv
        s[:p, p:] = s[p:, :p] = -a_inv
        return b, d_g, np.hstack([k_g, l_g]), s

    def _traces_of(self, moments: tuple) -> tuple[float, float]:
        """The Satterthwaite df (at most the design df) and ``tr(Q Sigma)``."""
        tr1, tr2 = self.work[0].taylor_traces(*moments[1:])
        df = tr1 * tr1 / tr2 if tr2 > 0 else np.nan
        return (float(min(df, self.df)) if np.isfinite(df) else float(self.df)), tr1

    def _variances_of(self, moments: tuple, trace: float | None = None) -> tuple[float, float]:
        """Expected with-replacement Taylor and model-based variance; ``trace``, the design's
        ``tr(Q Sigma)``, is the former when the first stage has no fpc."""
        b, d_g, r_g, s = moments
        design = self.work[0]
        fraction = design._struct.fraction_h
        if trace is None or (fraction is not None and np.any(fraction > 0)):
            trace, _ = design.taylor_traces(d_g, r_g, s, with_replacement=True)
        return trace, float(b @ self.work[5] @ b)

    def contrast(self, c: np.ndarray) -> tuple[float, float]:
        c = np.asarray(c, dtype=np.float64)
        on = c != 0  # terms outside the contrast do not count (a replicate may lack one: NaN)
        var = c[on] @ self.vcov[np.ix_(on, on)] @ c[on]
        return float(c @ self.beta), float(np.sqrt(max(var, 0.0)))

    def coef(self, term: str) -> tuple[float, float]:
        i = self.index(term)
        return float(self.beta[i]), float(np.sqrt(max(self.vcov[i, i], 0.0)))


def _psu_grams(design, rows, xk, wk, v, limit: int = 10_000_000):
    """``X'WVWX`` of the fitted rows, their first-stage PSU codes and, unless PSUs x terms^2
    exceeds ``limit`` (e.g. every respondent its own PSU), the per-PSU Gram matrices
    ``sum w v x x'`` and ``sum w^2 v x x'`` (PSUs x p x p each) for :meth:`Fit.contrast_df`."""
    psu = design._struct.psu_code[rows]
    g, p = design._struct.n_psu, xk.shape[1]
    if g * p * p > limit:
        return (xk * (wk * wk * v)[:, None]).T @ xk, psu, None
    # a stable sort of 16-bit codes is a radix sort in NumPy: 3x faster at 10^6 rows
    order = np.argsort(psu.astype(np.int16) if g < 2**15 else psu, kind="stable")
    bounds = np.searchsorted(psu[order], np.arange(g + 1))
    xs, wv, ws = xk[order], (wk * v)[order], wk[order]  # rows of a PSU are contiguous
    grams = np.zeros((2, g, p, p))
    for j in np.flatnonzero(np.diff(bounds)):
        sl = slice(bounds[j], bounds[j + 1])
        xw = xs[sl] * wv[sl, None]
        grams[0, j] = xw.T @ xs[sl]
        grams[1, j] = (xw * ws[sl, None]).T @ xs[sl]
    n_mat = grams[1].sum(axis=0)
    return n_mat, psu, grams


def t_stats(est, se, df, conf_level: float = 0.95):
    """Wald t interval and two-sided p on ``df`` (NaN where df < 1 or se is 0/NaN)."""
    est, se, df = (np.asarray(v, dtype=np.float64) for v in (est, se, df))
    with np.errstate(invalid="ignore", divide="ignore"):
        ok = (df >= 1) & (se > 0)
        dfx = np.where(ok, df, 1.0)
        q = stats.t.ppf(0.5 + conf_level / 2, dfx)
        p = 2 * stats.t.sf(np.abs(est / np.where(ok, se, 1.0)), dfx)
    nan = np.nan
    return (
        np.where(ok, est - q * se, nan),
        np.where(ok, est + q * se, nan),
        np.where(ok, p, nan),
    )


def svy_fit(
    design: SurveyDesign,
    y: np.ndarray,
    x: np.ndarray,
    names: list[str],
    family: str = "gaussian",
    rows: np.ndarray | None = None,
    robust_only: bool = False,
    weights: np.ndarray | None = None,
    contrast_df: bool = False,
) -> Fit:
    """Design-weighted GLM on the rows of ``design`` where ``rows`` (and y, x) are usable.

    The estimating equations and Taylor variance are those of ``design.svyglm``
    (``V = A^-1 B A^-1``, ``B`` the design variance of the PSU score totals, rows outside
    the fit contributing zero).  ``weights`` replaces the design weights (e.g. design x
    propensity weights); the design's strata and PSUs are kept.  ``robust_only`` treats
    every row as its own PSU (heteroskedasticity-robust, df = n - p) for estimands that
    live inside a single PSU (e.g. site-specific effects when sites are the clusters).
    ``contrast_df`` keeps what :meth:`Fit.contrast_df` needs (the fitted rows' design matrix:
    memory of one more copy of X while the fit lives); otherwise contrasts use the design df.
    """
    fam = "binomial" if family in ("binomial", "quasibinomial") else "gaussian"
    y = np.asarray(y, dtype=np.float64)
    use = design.domain & np.isfinite(y) & np.isfinite(x).all(axis=1)
    if rows is not None:
        use &= rows
    w_all = design.row_weights if weights is None else np.asarray(weights, dtype=np.float64)
    use &= w_all > 0
    kept = np.flatnonzero(use)
    xk, yk, wk = x[kept], y[kept], w_all[kept]
    wk = wk / wk.mean()  # as R's svyglm: prior weights scaled to mean 1 (same estimates)
    beta, mu, v, bread = fit_glm(xk, yk, wk, fam, names, 100, 1e-10)
    if is_replicate(design) and not robust_only:
        return _replicate_fit(design, xk, yk, kept, use, names, fam, beta, weights)
    a_inv = np.linalg.inv(bread)
    # V = A^-1 B A^-1 with B from the scores, not from the influence values scores @ A^-1:
    # the same matrix, without one more (rows x terms x terms) product
    scores = xk * (wk * (yk - mu))[:, None]
    if robust_only:
        m = len(kept)
        centred = scores - scores.mean(axis=0)
        meat = centred.T @ centred * m / (m - 1)
        df = m - len(beta)
        kind = "robust"
    else:
        meat = design.score_vcov(kept, scores)
        df = design.degf_of(use)
        kind = "design"
    vcov = a_inv @ meat @ a_inv
    work = None
    if contrast_df and kind == "design" and design._replicate_version("glm_vcov") is None:
        work = (design, xk, wk, v, a_inv)  # v: ones (gaussian), mu(1 - mu) (binomial)
    return Fit(list(names), beta, vcov, int(df), len(kept), fam, kind, kept, work)


def is_replicate(design: SurveyDesign) -> bool:
    """True for a replicate-weight design (variance from refits, not linearisation)."""
    return isinstance(design, ReplicateDesign)


def _replicate_fit(design, xk, yk, kept, use, names, fam, beta, weights) -> Fit:
    """:func:`svy_fit` on a replicate design: the model refitted with each replicate's weights
    (warm-started, to convergence) and R's ``svrVar`` of the coefficients (``svyglm`` on a
    ``svyrep.design``); ``df`` is the design's (rank of the replicate weights minus one)."""
    rep = design.replicate_weights_of(kept, weights)
    betas = replicate_glm(rep, xk, yk, fam, list(names), beta, 1e-10)
    vcov = design.replicate_vcov(betas, beta)
    df = design.degf_of(use)
    return Fit(
        list(names), beta, vcov, int(df), len(kept), fam, "design", kept, None,
        design.method, (betas, rep),
    )  # fmt: skip


def average_marginal_effect(
    design: SurveyDesign,
    fit: Fit,
    y: np.ndarray,
    x: np.ndarray,
    term: str,
    independent_parts: bool = False,
) -> tuple[float, float]:
    """Average marginal effect of a 0/1 ``term`` in a logistic :func:`svy_fit`: the weighted
    mean over the fitted rows of P(y=1 | term=1, x) - P(y=1 | term=0, x) (a difference in
    proportions; x100 for percentage points), with a design-based SE by linearisation of both
    the coefficients and the averaging (influence values summed per PSU, as svy_fit does).
    ``independent_parts`` adds the two variances instead, ignoring their covariance, as R's
    ``svycontrast(svypredmeans(...))`` does (the test pins both parts to R with it)."""
    k = fit.rows
    xk, yk = x[k], np.asarray(y, dtype=np.float64)[k]
    w = design.row_weights[k]
    w = w / w.mean()
    j = fit.index(term)
    x1, x0 = xk.copy(), xk.copy()
    x1[:, j], x0[:, j] = 1.0, 0.0
    p1, p0, mu = (1 / (1 + np.exp(-(m @ fit.beta))) for m in (x1, x0, xk))
    total = w.sum()
    d = p1 - p0
    ame = float(np.dot(w, d) / total)
    if fit.replicates is not None:  # the AME recomputed with each replicate's fit and weights
        betas, rep = fit.replicates
        d_r = 1 / (1 + np.exp(-(x1 @ betas.T))) - 1 / (1 + np.exp(-(x0 @ betas.T)))
        reps = (rep * d_r).sum(axis=0) / rep.sum(axis=0)
        var = design.replicate_vcov(reps, ame)[0, 0]
        return ame, float(np.sqrt(max(var, 0.0)))
    grad = (x1.T @ (w * p1 * (1 - p1)) - x0.T @ (w * p0 * (1 - p0))) / total
    a_inv = np.linalg.inv((xk * (w * mu * (1 - mu))[:, None]).T @ xk)
    averaging = w * (d - ame) / total
    model = (xk * (w * (yk - mu))[:, None]) @ (a_inv @ grad)
    if independent_parts:
        var = design.score_vcov(k, averaging[:, None])[0, 0] + grad @ fit.vcov @ grad
    else:
        var = design.score_vcov(k, (averaging + model)[:, None])[0, 0]
    return ame, float(np.sqrt(max(var, 0.0)))


def method_text(fit: Fit, what: str | None = None) -> str:
    kind = what or (
        "design-based linear regression"
        if fit.family == "gaussian"
        else "design-based logistic regression (log odds ratio)"
    )
    if fit.se_kind == "robust":
        return f"{kind} (heteroskedasticity-robust model-based SE, t on {fit.df} df)"
    return f"{kind} ({fit.variance} SE, t on {fit.df} df)"


def fit_note(fit: Fit) -> str:
    """:func:`replicate_note` of a replicate fit's refits ("" for a linearised fit)."""
    return "" if fit.replicates is None else replicate_note(fit.replicates[0])


def _ame_se(fit: Fit) -> str:
    """How an average marginal effect's SE is made: recomputed per replicate, or linearised."""
    if fit.replicates is not None:
        return f"{fit.variance} (recomputed per replicate)"
    return "delta-method Taylor"


def replicate_note(reps: np.ndarray) -> str:
    """The replicates a variance left out ((replicates x k) refits with NaN where a refit
    failed, separated, or lacked a term or answer level), as R's ``svrVar`` drops them."""
    missing = int((~np.isfinite(reps).all(axis=1)).sum())
    if not missing:
        return ""
    return (
        f" {missing} of {len(reps)} replicates could not be refitted (separation, no "
        "convergence, or a term or answer level absent in the replicate) and are left out of "
        "the variance, as R's svrVar does."
    )


def fit_rows(
    fit: Fit, terms: Sequence[str], analysis: str, outcome: str, method: str, note: str = ""
) -> list[dict]:
    note = (note or NOTE_OBSERVATIONAL) + fit_note(fit)
    out = []
    for term in terms:
        est, se = fit.coef(term)
        lo, hi, p = t_stats(est, se, fit.df)
        out.append(
            estimate_row(
                analysis,
                outcome,
                term,
                est,
                se,
                float(lo),
                float(hi),
                fit.df,
                fit.n,
                method,
                p=float(p),
                note=note,
            )
        )
    return out


frame = estimate_frame  # every model's rows share the one tidy table layout


def outcome_family(outcome: str, families: Mapping[str, str] | None) -> str:
    """``binomial`` for the outcomes ``families`` names so (0/1 outcomes), else ``gaussian``."""
    return (families or {}).get(outcome, "gaussian")


def outcome_values(df: pd.DataFrame, outcome: str) -> np.ndarray:
    return as_float(df[outcome])


def _covariates(df: pd.DataFrame, covariates: Sequence[str], exclude: Sequence[str] = ()):
    return [c for c in covariates if c in df and c not in exclude]


# --------------------------------------------------------------------------- analyses
def participation_effects(
    design: SurveyDesign,
    outcomes: Sequence[str],
    covariates: Sequence[str],
    treatment: str,
    families: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Covariate-adjusted coefficient of ``treatment`` (0/1) for each outcome.

    Linear, or logistic for the outcomes ``families`` marks ``binomial`` (estimate = log odds
    ratio), design-weighted with Taylor SEs.
    """
    df = design.data
    t = as_float(df[treatment])
    x, names, ok = design_matrix(df, _covariates(df, covariates), {treatment: t})
    rows = []
    for outcome in outcomes:
        if outcome not in df:
            continue
        y = outcome_values(df, outcome)
        use = ok & np.isfinite(y)
        if use.sum() <= x.shape[1] + 1:
            continue
        xx, nn = drop_constant(x, names, use, keep=[treatment])
        fit = svy_fit(design, y, xx, nn, outcome_family(outcome, families), rows=use)
        rows += fit_rows(fit, [treatment], "participation", outcome, method_text(fit))
        if fit.family == "binomial":
            est, se = average_marginal_effect(design, fit, y, xx, treatment)
            lo, hi, p = t_stats(est, se, fit.df)
            rows.append(
                rows[-1]
                | {
                    "analysis": "participation_ame",
                    "estimate": est,
                    "se": se,
                    "ci_low": float(lo),
                    "ci_high": float(hi),
                    "p": float(p),
                    "method": "average marginal effect of the logistic model (difference in "
                    f"proportions; {_ame_se(fit)} SE, t on {fit.df} df)",
                }
            )
    return frame(rows)


def dose_response(
    design: SurveyDesign,
    outcomes: Sequence[str],
    covariates: Sequence[str],
    sessions: str,
    treatment: str,
    min_sessions: int = 1,
    families: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Coefficient of ``log1p(sessions)`` (non-participants at 0 sessions): the change in
    the outcome per unit of log(1 + sessions).  Participants reporting fewer than
    ``min_sessions`` sessions are left out."""
    df = design.data
    s = as_float(df[sessions])
    t = as_float(df[treatment])
    s = np.where(t == 0, 0.0, s)
    s = np.where((t == 1) & (s < min_sessions), np.nan, s)
    dose = np.log1p(np.where(s >= 0, s, np.nan))
    x, names, ok = design_matrix(df, _covariates(df, covariates), {"log1p(sessions)": dose})
    rows = []
    for outcome in outcomes:
        if outcome not in df:
            continue
        y = outcome_values(df, outcome)
        use = ok & np.isfinite(y)
        if use.sum() <= x.shape[1] + 1:
            continue
        xx, nn = drop_constant(x, names, use, keep=["log1p(sessions)"])
        fit = svy_fit(design, y, xx, nn, outcome_family(outcome, families), rows=use)
        kind = "design-based dose-response " + (
            "linear regression" if fit.family == "gaussian" else "logistic regression"
        )
        rows += fit_rows(fit, ["log1p(sessions)"], "dose_response", outcome, method_text(fit, kind))
    return frame(rows)


def programme_effects(
    design: SurveyDesign,
    outcomes: Sequence[str],
    covariates: Sequence[str],
    programme: str,
    treatment: str,
    families: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Each programme type against non-participants (dummies; participants with an unknown
    programme are left out), adjusted for the covariates."""
    df = design.data
    t = as_float(df[treatment])
    prog = df[programme]
    levels = sorted(pd.unique(prog[(t == 1) & prog.notna()]), key=str)
    dummies = {}
    for lv in levels:
        dummies[f"programme[{lv}]"] = np.where(np.isnan(t), np.nan, (prog == lv) & (t == 1))
    known = (t == 0) | ((t == 1) & prog.notna().to_numpy())
    x, names, ok = design_matrix(df, _covariates(df, covariates), dummies)
    ok &= known
    rows = []
    for outcome in outcomes:
        if outcome not in df:
            continue
        y = outcome_values(df, outcome)
        use = ok & np.isfinite(y)
        if use.sum() <= x.shape[1] + 1:
            continue
        xx, nn = drop_constant(x, names, use, keep=list(dummies))
        fit = svy_fit(design, y, xx, nn, outcome_family(outcome, families), rows=use)
        rows += fit_rows(
            fit, list(dummies), "programme", outcome, method_text(fit) + "; vs non-participants"
        )
    return frame(rows)


def option_effects(
    design: SurveyDesign,
    outcomes: Sequence[str],
    covariates: Sequence[str],
    options: Mapping[str, str],
    treatment: str,
    families: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """A multi-select programme question: for each option, the participants who ticked it
    against non-participants, adjusted for the covariates (one model per option; options
    overlap, so each effect includes whatever else those participants took). ``options``
    maps the option code to its 0/1 column; the ``note`` states the overlap."""
    df = design.data
    t = as_float(df[treatment])
    ticks = {code: as_float(df[col]) for code, col in options.items()}
    stacked = np.column_stack(list(ticks.values()))
    n_ticked = np.nansum(stacked == 1, axis=1)
    base_x, base_names, base_ok = design_matrix(df, _covariates(df, covariates))
    rows = []
    for code, tick in ticks.items():
        took = (t == 1) & (tick == 1)
        term = f"programme[{code}]"
        sel = (t == 0) | took
        n_took = int(took.sum())
        if n_took == 0:
            continue
        also = float(np.mean(n_ticked[took] > 1))
        note = (
            f"{NOTE_OBSERVATIONAL} Multi-select: {100 * also:.0f}% of the {n_took} "
            f"participants who ticked '{code}' also ticked another option, so this effect "
            "includes what they did besides."
        )
        x = np.column_stack([base_x[:, :1], took.astype(np.float64), base_x[:, 1:]])
        names = [base_names[0], term, *base_names[1:]]
        ok = base_ok & sel & np.isfinite(t)
        for outcome in outcomes:
            if outcome not in df:
                continue
            y = outcome_values(df, outcome)
            use = ok & np.isfinite(y)
            if use.sum() <= x.shape[1] + 1 or took[use].sum() < 2:
                continue
            xx, nn = drop_constant(x, names, use, keep=[term])
            fit = svy_fit(design, y, xx, nn, outcome_family(outcome, families), rows=use)
            meth = method_text(fit) + "; ticked this option vs non-participants"
            rows += fit_rows(fit, [term], "programme", outcome, meth, note)
    return frame(rows)


def _subsample(n_rows: np.ndarray, max_rows: int, seed: int) -> tuple[np.ndarray, str]:
    """Positions to fit on: all, or a seeded simple random subsample above ``max_rows``."""
    if len(n_rows) <= max_rows:
        return n_rows, ""
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(n_rows, max_rows, replace=False))
    return pick, f"; fitted on a seeded random subsample of {max_rows:,} of {len(n_rows):,} rows"


def ordinal_effects(
    design: SurveyDesign,
    items: Sequence[str],
    covariates: Sequence[str],
    treatment: str,
    max_rows: int = 50_000,
    seed: int = 0,
) -> pd.DataFrame:
    """Proportional-odds (ordered logit) model of each single Likert item.

    Fitted by weighted maximum pseudo-likelihood (:func:`pipelines.stats.ordinal.fit_polr`:
    Newton with analytic derivatives, equal to R's ``MASS::polr`` to 1e-8; design weights
    normalised to mean 1); the participation coefficient is a log odds ratio of a higher answer.
    SEs are design-based (``svyolr``): Taylor linearisation of the weighted score contributions
    over the design's strata and PSUs.  The thresholds ``zeta_k`` (logit P(answer <= k) at
    zero covariates) follow as ``analysis = "ordinal_threshold"`` rows (term ``"2|3"``, no p).
    Above ``max_rows`` complete rows the model is fitted on a seeded subsample (noted in
    ``method``).
    """
    from pipelines.stats.ordinal import fit_polr, replicate_polr, replicate_polr_vcov

    df = design.data
    t = as_float(df[treatment])
    x, names, ok = design_matrix(df, _covariates(df, covariates), {treatment: t})
    rows = []
    for item in items:
        if item not in df:
            continue
        y = as_float(df[item])
        use = ok & np.isfinite(y) & design.domain
        pos, sub_note = _subsample(np.flatnonzero(use), max_rows, seed)
        if len(pos) < 50:
            continue
        sub = np.zeros(len(df), dtype=bool)
        sub[pos] = True
        xx, nn = drop_constant(x, names, sub, keep=[treatment])
        xx, nn = xx[:, 1:], nn[1:]  # thresholds instead of an intercept
        yk = y[pos].astype(int)
        levels, codes = np.unique(yk, return_inverse=True)
        if len(levels) < 3:
            continue
        w = design.row_weights[pos]
        try:
            fit = fit_polr(xx[pos], codes, w / w.mean(), len(levels))
        except DesignError:
            continue  # separation or collinearity: no estimate rather than a wild one
        dfd = design.degf_of(sub)
        est_all = np.r_[fit.beta, fit.zeta]
        k0 = len(fit.beta)
        notes = ("", "")
        if is_replicate(design):  # R's svyolr on a replicate design: a refit per replicate
            reps = replicate_polr(
                design.replicate_weights_of(pos), xx[pos], codes, len(levels), est_all, 1e-10
            )
            try:
                vcov = replicate_polr_vcov(design, reps, est_all, k0)
            except DesignError:
                continue  # no replicate could be refitted: no estimate
            se_name = design.method
            notes = (replicate_note(reps[:, :k0]), replicate_note(reps[:, k0:]))
        else:
            a_inv = np.linalg.inv(-fit.hessian) / w.mean()
            vcov, se_name = design.score_vcov(pos, (fit.scores * w[:, None]) @ a_inv), "Taylor"
        se_all = np.sqrt(np.clip(np.diag(vcov), 0, None))
        method = (
            "proportional-odds logistic regression (log odds ratio of a higher answer; "
            "design-weighted pseudo-likelihood as R's svyolr; "
            f"{se_name} SE, t on {dfd} df{sub_note})"
        )
        j = nn.index(treatment)
        lo, hi, p = t_stats(est_all[j], se_all[j], dfd)
        rows.append(
            {
                "analysis": "ordinal",
                "outcome": item,
                "term": treatment,
                "estimate": float(est_all[j]),
                "se": float(se_all[j]),
                "ci_low": float(lo),
                "ci_high": float(hi),
                "df": dfd,
                "p": float(p),
                "n": len(pos),
                "method": method,
                "note": NOTE_OBSERVATIONAL + notes[0],
            }
        )
        for i, (a, b) in enumerate(zip(levels[:-1], levels[1:], strict=True)):
            lo, hi, _ = t_stats(est_all[k0 + i], se_all[k0 + i], dfd)
            rows.append(
                {
                    "analysis": "ordinal_threshold",
                    "outcome": item,
                    "term": f"{a}|{b}",
                    "estimate": float(est_all[k0 + i]),
                    "se": float(se_all[k0 + i]),
                    "ci_low": float(lo),
                    "ci_high": float(hi),
                    "df": dfd,
                    "p": np.nan,
                    "n": len(pos),
                    "method": "threshold (logit of P(answer <= lower level) at zero covariates) "
                    "of the " + method,
                    "note": notes[1].strip(),
                }
            )
    return frame(rows)


def mixed_effects(
    design: SurveyDesign,
    outcomes: Sequence[str],
    covariates: Sequence[str],
    group: str,
    treatment: str,
    max_rows: int = 50_000,
    seed: int = 0,
    max_groups: int = 200,
) -> pd.DataFrame:
    """Robustness check: linear mixed model (statsmodels ``MixedLM``), random intercept for
    each ``group`` (respondents within sites).  Unweighted, model-based SEs, normal
    reference; seeded subsample above ``max_rows`` complete rows.  MixedLM's cost grows with
    the number of groups (a Python loop per group and iteration), so above ``max_groups``
    groups it is fitted on the respondents of a seeded random sample of ``max_groups`` groups
    (whole groups, so the random intercept keeps its meaning); ``method`` says so."""
    import warnings

    from statsmodels.regression.mixed_linear_model import MixedLM

    df = design.data
    t = as_float(df[treatment])
    x, names, ok = design_matrix(df, _covariates(df, covariates), {treatment: t})
    groups = df[group].to_numpy()
    ok &= pd.notna(groups) & design.domain
    rows = []
    for outcome in outcomes:
        if outcome not in df:
            continue
        y = outcome_values(df, outcome)
        use = ok & np.isfinite(y)
        grp_note = ""
        present = pd.unique(groups[use])
        if len(present) > max_groups:
            rng = np.random.default_rng([seed, 1])
            chosen = rng.choice(len(present), max_groups, replace=False)
            codes, uniq = pd.factorize(groups[use])
            keep = np.isin(codes, pd.Index(uniq).get_indexer(present[chosen]))
            idx = np.flatnonzero(use)
            use = np.zeros(len(df), dtype=bool)
            use[idx[keep]] = True
            grp_note = (
                f"; fitted on the respondents of a seeded random sample of {max_groups:,} "
                f"of {len(present):,} {group} groups"
            )
        pos, sub_note = _subsample(np.flatnonzero(use), max_rows, seed)
        sub_note = grp_note + sub_note
        if len(pos) < 50 or len(pd.unique(groups[pos])) < 3:
            continue
        sub = np.zeros(len(df), dtype=bool)
        sub[pos] = True
        xx, nn = drop_constant(x, names, sub, keep=[treatment])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = MixedLM(y[pos], xx[pos], groups=groups[pos]).fit(reml=True)
            j = nn.index(treatment)
            est, se = float(res.fe_params[j]), float(res.bse_fe[j])
        z = stats.norm.ppf(0.975)
        rows.append(
            {
                "analysis": "mixed_model",
                "outcome": outcome,
                "term": treatment,
                "estimate": est,
                "se": se,
                "ci_low": est - z * se,
                "ci_high": est + z * se,
                "df": np.inf,
                "p": float(2 * stats.norm.sf(abs(est / se))) if se > 0 else np.nan,
                "n": len(pos),
                "method": f"linear mixed model, random intercept per {group} (statsmodels "
                "MixedLM, REML; unweighted; model-based SE, normal reference"
                f"{sub_note})",
                "note": NOTE_OBSERVATIONAL,
            }
        )
    return frame(rows)
