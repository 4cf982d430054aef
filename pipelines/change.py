"""Change over time and robustness of the participation comparison.

* :func:`attrition_table` — how many respondents of one wave were found again in the next,
  overall and by baseline group (so differential attrition is visible).
* :func:`paired_change` — within-respondent pre/post change among respondents linked across
  waves (design-based mean change, Cohen's d_z with a noncentral-t interval).
* :func:`did` — difference-in-differences: the change among respondents who were not
  participants at baseline and took part between the waves, against those who did not
  (regression of the change score with design-based Taylor SEs; plus an ANCOVA variant,
  the follow-up outcome adjusted for the baseline outcome).
* :func:`ipw` — inverse-probability-of-participation weighting (design-weighted logistic
  propensity on the covariates, stabilised weights x design weights) with a covariate
  balance table (standardised mean differences before and after weighting).

Given the baseline wave's final design (``design=``, e.g. ``analysis.design_for`` of that
wave), paired change and DiD are domain estimates of it (the domain: baseline respondents
found again): its weights, strata and PSUs, and its raking, as R's ``subset(rake(design, ...),
linked)`` — Taylor SEs with the calibration residuals over the whole baseline wave, replicate
SEs from each respondent's raked baseline replicate weights.  Without it the design is built
from the linked rows alone (baseline strata, PSUs and weights taken as fixed).

None of these is randomised: ``note`` says participation is *associated with* the change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import optimize, stats

from pipelines.models import (
    NOTE_OBSERVATIONAL,
    as_float,
    design_matrix,
    drop_constant,
    fit_rows,
    frame,
    is_categorical,
    is_replicate,
    method_text,
    outcome_family,
    outcome_values,
    replicate_note,
    svy_fit,
    t_stats,
)
from pipelines.stats.design import DesignError, SurveyDesign, fit_glm
from pipelines.stats.replicate import ReplicateDesign, as_replicate, replicate_glm

__all__ = ["attrition_table", "cohen_dz", "did", "ipw", "link_waves", "paired_change"]

BALANCE_COLUMNS = [
    "wave",
    "covariate",
    "level",
    "mean_participants_before",
    "mean_others_before",
    "smd_before",
    "mean_participants_after",
    "mean_others_after",
    "smd_after",
    "balanced_after",
]


# --------------------------------------------------------------------------- linking
def attrition_table(
    waves: dict[str, pd.DataFrame],
    by: Sequence[str] = (),
    key: str = "respondent_key",
) -> pd.DataFrame:
    """For each consecutive pair of waves: baseline respondents found again, overall and by
    each baseline characteristic in ``by`` (``group_var`` "all" for the total)."""
    ids = list(waves)
    rows = []
    for a, b in zip(ids, ids[1:], strict=False):
        base = waves[a]
        keys_b = set(waves[b][key].dropna())
        found = base[key].isin(keys_b) & base[key].notna()
        n_to = len(keys_b)
        parts = [("all", pd.Series("all", index=base.index))]
        parts += [(g, base[g]) for g in by if g in base]
        for gv, col in parts:
            grp = pd.DataFrame({"g": col.astype(object), "found": found}).dropna(subset=["g"])
            agg = grp.groupby("g", sort=True)["found"].agg(["size", "sum"])
            for level, r in agg.iterrows():
                rows.append(
                    {
                        "from_wave": a,
                        "to_wave": b,
                        "group_var": gv,
                        "group": str(level),
                        "n_from": int(r["size"]),
                        "linked": int(r["sum"]),
                        "retention": float(r["sum"] / r["size"]) if r["size"] else np.nan,
                        "n_to": n_to,
                    }
                )
    cols = ["from_wave", "to_wave", "group_var", "group", "n_from", "linked", "retention", "n_to"]
    return pd.DataFrame(rows, columns=cols)


def link_waves(
    panel: pd.DataFrame,
    pre: str,
    post: str,
    columns: Sequence[str],
    key: str = "respondent_key",
) -> pd.DataFrame:
    """One row per respondent present in both ``pre`` and ``post``: ``<col>_pre`` and
    ``<col>_post`` for each column (vectorised merge, no per-row Python)."""
    cols = [c for c in dict.fromkeys(columns) if c in panel]
    a = panel.loc[panel["wave"].astype(str) == str(pre), [key, *cols]]
    b = panel.loc[panel["wave"].astype(str) == str(post), [key, *cols]]
    a = a.dropna(subset=[key]).drop_duplicates(key, keep="last")
    b = b.dropna(subset=[key]).drop_duplicates(key, keep="last")
    return a.merge(b, on=key, suffixes=("_pre", "_post")).reset_index(drop=True)


def _design(
    linked: pd.DataFrame,
    strata: str | None,
    cluster: str | None,
    weight: str | None,
    replicate: Mapping | None = None,
) -> SurveyDesign:
    """Design of the linked sample: baseline strata and PSUs, baseline weights or 1; with
    ``replicate`` (``columns`` and the :class:`ReplicateDesign` options) the baseline replicate
    weights instead of strata and PSUs."""
    w = weight if weight and weight in linked else None
    if replicate and "columns" in replicate:
        opts = {k: v for k, v in replicate.items() if k != "columns"}
        cols = [f"{c}_pre" for c in replicate["columns"]]
        return ReplicateDesign(linked, weights=w, repweights=cols, **opts)
    s = f"{strata}_pre" if strata and f"{strata}_pre" in linked else None
    c = f"{cluster}_pre" if cluster and f"{cluster}_pre" in linked else None
    des = SurveyDesign(linked, weights=w, strata=s, cluster=c, lonely_psu="adjust")
    if replicate:  # created from the baseline strata and libraries of the linked respondents
        try:
            n = replicate["replicates"]
            return as_replicate(des, replicate["create"], n, seed=0, mse=replicate["mse"])
        except DesignError:  # e.g. a stratum left with one library: Taylor, as method says
            return des
    return des


def _se_name(des: SurveyDesign) -> str:
    """The variance method a linked design's estimates name: Taylor or replicate-<type>."""
    return des.method if is_replicate(des) else "Taylor"


def _on_design(linked: pd.DataFrame, design: SurveyDesign, key: str) -> pd.DataFrame:
    """The linked rows in the order of the baseline design's rows, one per row (missing where
    the respondent was not found again; of a key given twice, the last row, as
    :func:`link_waves`), and ``_linked``: True where found."""
    if key not in design.data:
        raise DesignError(f"The baseline design's data has no {key!r} column to link by.")
    keys = design.data[key]
    last = keys.notna() & ~keys.duplicated(keep="last")
    out = linked.set_index(key).reindex(keys.where(last).to_numpy())
    out["_linked"] = (last & keys.isin(linked[key])).to_numpy()
    return out.rename_axis(key).reset_index()


def _calibration_word(des: SurveyDesign) -> str:
    """``raked`` or ``calibrated`` for a design whose weights (and replicates) carry their
    calibration into the variance, else ``""``."""
    if is_replicate(des):
        return des.method.rsplit("-", 1)[-1] if des.calibrated_on else ""
    if not des.calibrated:
        return ""
    from pipelines.stats.calibrate import RakingCalibration

    raked = all(isinstance(c, RakingCalibration) for c in des.calibrations)
    return "raked" if raked else "calibrated"


def _linked_design(
    linked: pd.DataFrame,
    design: SurveyDesign | None,
    strata: str | None,
    cluster: str | None,
    weight: str | None,
    replicate: Mapping | None,
    key: str = "respondent_key",
) -> tuple[pd.DataFrame, SurveyDesign, str]:
    """The linked rows, their design and what its variance is: the domain of the linked
    respondents in the baseline wave's ``design`` (rows aligned to it), else :func:`_design`."""
    if design is not None:
        linked = _on_design(linked, design, key)
        des = design.subset(linked["_linked"].to_numpy())
        how = _calibration_word(des)
        return linked, des, f"baseline wave's {how + ' ' if how else ''}design"
    if weight and f"{weight}_pre" in linked:
        linked["_w"] = linked[f"{weight}_pre"]
    des = _design(linked, strata, cluster, "_w" if "_w" in linked else None, replicate)
    return linked, des, "baseline weights" if "_w" in linked else "unweighted"


# --------------------------------------------------------------------------- effect sizes
def cohen_dz(diff: np.ndarray, conf_level: float = 0.95) -> tuple[float, float, float, int]:
    """Cohen's d_z = mean(diff) / sd(diff) with a noncentral-t interval (normal
    approximation ``se = sqrt(1/n + d^2 / (2n))`` above 2,000 pairs or |t| > 30)."""
    d = np.asarray(diff, dtype=np.float64)
    d = d[np.isfinite(d)]
    n = len(d)
    if n < 3 or np.std(d, ddof=1) == 0:
        return np.nan, np.nan, np.nan, n
    dz = float(d.mean() / d.std(ddof=1))
    alpha = 1 - conf_level
    se = np.sqrt(1 / n + dz**2 / (2 * n))
    z = stats.norm.ppf(1 - alpha / 2)
    approx = (dz, dz - z * se, dz + z * se, n)
    t_obs, df = dz * np.sqrt(n), n - 1
    if n > 2000 or abs(t_obs) > 30:
        return approx
    span = 10 + 2 * abs(t_obs)

    def f(ncp, target):
        return stats.nct.cdf(t_obs, df, ncp) - target

    try:
        lo = optimize.brentq(f, t_obs - span, t_obs + span, args=(1 - alpha / 2,))
        hi = optimize.brentq(f, t_obs - span, t_obs + span, args=(alpha / 2,))
    except ValueError:  # the noncentral t is numerically unstable far out: approximate
        return approx
    return dz, lo / np.sqrt(n), hi / np.sqrt(n), n


def paired_change(
    panel: pd.DataFrame,
    outcomes: Sequence[str],
    pre: str,
    post: str,
    treatment: str | None = None,
    strata: str | None = None,
    cluster: str | None = None,
    weight: str | None = None,
    replicate: Mapping | None = None,
    design: SurveyDesign | None = None,
) -> pd.DataFrame:
    """Within-respondent change ``post - pre`` for every outcome, among all linked
    respondents and separately for those who did / did not take part between the waves.

    Two rows per outcome and group: ``mean change`` (design-based mean of the paired
    differences, Taylor SE over the baseline strata and sites; baseline weights if given,
    else unweighted) and ``Cohen's d_z`` (unweighted, noncentral-t interval).  ``group``
    is ``all``, ``participated`` or ``did not participate``.  ``design``, the baseline
    wave's final design (its data has ``respondent_key``), makes the mean change a domain
    estimate of it (module docstring); ``strata``, ``cluster``, ``weight`` and ``replicate``
    are then not used.
    """
    cols = [*outcomes, treatment, strata, cluster, *(replicate or {}).get("columns", [])]
    if weight:
        cols.append(weight)
    linked = link_waves(panel, pre, post, [c for c in cols if c])
    if linked.empty:
        return frame([])
    linked, des, wtxt = _linked_design(linked, design, strata, cluster, weight, replicate)
    t_post = as_float(linked[f"{treatment}_post"]) if f"{treatment}_post" in linked else None
    groups = [("all", des.domain)]
    if t_post is not None:
        groups += [("participated", t_post == 1), ("did not participate", t_post == 0)]
    rows = []
    for outcome in outcomes:
        pre_v = _linked_values(linked, outcome, "pre")
        post_v = _linked_values(linked, outcome, "post")
        if pre_v is None or post_v is None:
            continue
        diff = post_v - pre_v
        for label, mask in groups:
            use = mask & np.isfinite(diff)
            if use.sum() < 3:
                continue
            sub = des.subset(use)
            w = sub.row_weights
            m = float(np.dot(w, np.nan_to_num(diff)) / w.sum())
            se = _mean_se(des, use, diff, m)
            dfd = sub.df
            lo, hi, p = t_stats(m, se, dfd)
            base = {
                "analysis": "paired_change",
                "outcome": outcome,
                "group_var": f"{treatment} between waves",
                "group": label,
                "n": int(use.sum()),
                "note": "Change within the same respondents; without a comparison group it "
                "is not attributable to the programme.",
            }
            rows.append(
                base
                | {
                    "term": f"mean change {pre}->{post}",
                    "estimate": m,
                    "se": se,
                    "ci_low": float(lo),
                    "ci_high": float(hi),
                    "df": dfd,
                    "p": float(p),
                    "method": f"paired difference, design-based mean ({wtxt}; "
                    f"{_se_name(des)} SE over baseline "
                    + ("replicate weights" if is_replicate(des) else "sites")
                    + f", t on {dfd} df)",
                }
            )
            dz, dlo, dhi, nd = cohen_dz(diff[use])
            rows.append(
                base
                | {
                    "term": "Cohen's d_z",
                    "estimate": dz,
                    "se": np.nan,
                    "ci_low": dlo,
                    "ci_high": dhi,
                    "df": nd - 1,
                    "p": np.nan,
                    "method": "Cohen's d_z = mean / SD of paired differences (unweighted; "
                    + (
                        "noncentral-t CI)"
                        if nd <= 2000 and abs(dz) * np.sqrt(nd) <= 30
                        else "normal-approximation CI)"
                    ),
                }
            )
    return frame(rows)


def _mean_se(des: SurveyDesign, use: np.ndarray, y: np.ndarray, m: float) -> float:
    """SE of the weighted mean ``m`` of ``y`` over ``use``: Taylor, or recomputed per replicate."""
    yu = np.nan_to_num(y[use])
    if is_replicate(des):
        rep = des.replicate_weights_of(np.flatnonzero(use))
        return float(np.sqrt(max(des.replicate_vcov(yu @ rep / rep.sum(axis=0), m)[0, 0], 0)))
    w = des.row_weights[use]
    scores = w * (yu - m) / w.sum()
    return float(np.sqrt(max(des.score_vcov(np.flatnonzero(use), scores)[0, 0], 0.0)))


def _linked_values(linked: pd.DataFrame, outcome: str, when: str) -> np.ndarray | None:
    col = f"{outcome}_{when}"
    return as_float(linked[col]) if col in linked else None


# --------------------------------------------------------------------------- DiD
def did(
    panel: pd.DataFrame,
    outcomes: Sequence[str],
    covariates: Sequence[str],
    pre: str,
    post: str,
    treatment: str | None = None,
    strata: str | None = None,
    cluster: str | None = None,
    weight: str | None = None,
    families: Mapping[str, str] | None = None,
    replicate: Mapping | None = None,
    design: SurveyDesign | None = None,
) -> pd.DataFrame:
    """Difference-in-differences among respondents linked across ``pre`` and ``post`` who
    did not take part at baseline: the change score ``y_post - y_pre`` regressed on taking
    part between the waves, adjusted for baseline covariates (term ``participated between
    waves``; analysis ``did``).  Also ``ancova``: ``y_post`` on taking part, the baseline
    outcome and covariates.  Design-weighted (baseline weights if given), Taylor SEs over
    baseline strata and sites; or, with ``design`` (the baseline wave's final design), domain
    estimates of it, as :func:`paired_change`.  Binary outcomes use a linear probability model
    (change in percentage points / 100).
    """
    rep_cols = (replicate or {}).get("columns", [])
    cols = [*outcomes, *covariates, treatment, strata, cluster, *rep_cols]
    if weight:
        cols.append(weight)
    linked = link_waves(panel, pre, post, [c for c in cols if c])
    if linked.empty or f"{treatment}_pre" not in linked:
        return frame([])
    linked, des, wtxt = _linked_design(linked, design, strata, cluster, weight, replicate)
    t_pre = as_float(linked[f"{treatment}_pre"])
    t_post = as_float(linked[f"{treatment}_post"])
    eligible = t_pre == 0
    base = linked[[f"{c}_pre" for c in covariates if f"{c}_pre" in linked]]
    base.columns = [c[: -len("_pre")] for c in base.columns]
    x, names, ok = design_matrix(base, list(base.columns), {"participated between waves": t_post})
    term = "participated between waves"
    rows = []
    for outcome in outcomes:
        y0 = _linked_values(linked, outcome, "pre")
        y1 = _linked_values(linked, outcome, "post")
        if y0 is None or y1 is None:
            continue
        binary = outcome_family(outcome, families) == "binomial"
        scale = "linear probability, " if binary else ""
        diff = y1 - y0
        use = eligible & ok & np.isfinite(diff)
        if use.sum() <= x.shape[1] + 2 or len(np.unique(t_post[use])) < 2:
            continue
        xx, nn = drop_constant(x, names, use, keep=[term])
        fit = svy_fit(des, diff, xx, nn, "gaussian", rows=use)
        meth = method_text(fit, f"difference-in-differences: {scale}change-score regression")
        rows += fit_rows(fit, [term], "did", outcome, f"{meth}; {wtxt}")
        xa = np.column_stack([xx, np.nan_to_num(y0)])
        use_a = use & np.isfinite(y0)
        fit_a = svy_fit(des, y1, xa, [*nn, "baseline outcome"], "gaussian", rows=use_a)
        meth = method_text(fit_a, f"ANCOVA: {scale}follow-up outcome adjusted for baseline")
        rows += fit_rows(fit_a, [term], "ancova", outcome, f"{meth}; {wtxt}")
    out = frame(rows)
    if not out.empty:
        out["group_var"] = f"{treatment} at {pre}"
        out["group"] = "did not participate"
    return out


# --------------------------------------------------------------------------- IPW
def _balance_columns(
    df: pd.DataFrame, covariates: Sequence[str]
) -> dict[tuple[str, str], np.ndarray]:
    """Every covariate as columns to balance: numeric as is, categorical as one indicator
    per level (NaN where the covariate is missing)."""
    out = {}
    for c in covariates:
        if c not in df:
            continue
        s = df[c]
        if is_categorical(s):
            miss = s.isna().to_numpy()
            for lv in sorted(pd.unique(s.dropna()), key=str):
                out[(c, str(lv))] = np.where(miss, np.nan, (s == lv).to_numpy(dtype=float))
        else:
            out[(c, "")] = as_float(s)
    return out


def _wmean_var(x: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    m = float(np.dot(w, x) / w.sum())
    return m, float(np.dot(w, (x - m) ** 2) / w.sum())


def ipw(
    design: SurveyDesign,
    outcomes: Sequence[str],
    covariates: Sequence[str],
    treatment: str,
    clip: float = 0.01,
    families: Mapping[str, str] | None = None,
    propensity_variance: str = "estimated",
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Inverse-probability-of-participation weighting as a robustness check.

    The propensity ``e(x)`` is a design-weighted logistic regression of ``treatment`` on
    ``covariates`` (clipped to ``[clip, 1 - clip]``).  Stabilised weights ``P(T=t) / P(T=t
    | x)`` (``P(T=1)`` the design-weighted participation rate) multiply the design weights.
    Outcome contrasts: design-weighted regression of each outcome on ``treatment`` alone
    with the new weights, Taylor SEs over the design.  ``propensity_variance="estimated"``
    (default) stacks the propensity model's estimating equations with the outcome model's
    (M-estimation: the outcome scores minus their projection on the propensity scores), so
    the SE accounts for the propensity being estimated; ``"known"`` treats it as known (R's
    ``svyglm`` with the weights fixed; conservative: 98.5% coverage of nominal 95% in
    docs/simulation.md).

    Returns ``(estimates, balance, weights)``: the estimate rows (analysis ``ipw``), the
    balance table (standardised mean differences of each covariate/level before weighting
    (design weights) and after (design x IPW), denominators the pooled SD before
    weighting), and the combined weights per row (0 where not usable).
    """
    df = design.data
    t = as_float(df[treatment])
    covs = [c for c in covariates if c in df]
    x, names, ok = design_matrix(df, covs)
    use = ok & np.isfinite(t) & design.domain
    xx, nn = drop_constant(x, names, use)
    ps_fit = svy_fit(design, t, xx, nn, "binomial", rows=use)
    ps = 1 / (1 + np.exp(-(xx @ ps_fit.beta)))
    inside = (ps > clip) & (ps < 1 - clip)  # clipped propensities do not move with beta
    ps = np.clip(ps, clip, 1 - clip)
    w0 = design.row_weights
    p1 = float(np.sum(w0[use] * t[use]) / np.sum(w0[use]))
    sw = np.where(t == 1, p1 / ps, (1 - p1) / (1 - ps))
    w_ipw = np.where(use, w0 * sw, 0.0)

    # balance
    rows_b = []
    treated, control = use & (t == 1), use & (t == 0)
    for (cov, level), col in _balance_columns(df, covs).items():
        okc = np.isfinite(col)
        a1, a0 = treated & okc, control & okc
        if a1.sum() < 2 or a0.sum() < 2:
            continue
        m1b, v1b = _wmean_var(col[a1], w0[a1])
        m0b, v0b = _wmean_var(col[a0], w0[a0])
        m1a, _ = _wmean_var(col[a1], w_ipw[a1])
        m0a, _ = _wmean_var(col[a0], w_ipw[a0])
        sd = np.sqrt((v1b + v0b) / 2)
        smd_b = (m1b - m0b) / sd if sd > 0 else 0.0
        smd_a = (m1a - m0a) / sd if sd > 0 else 0.0
        rows_b.append(
            {
                "covariate": cov,
                "level": level,
                "mean_participants_before": m1b,
                "mean_others_before": m0b,
                "smd_before": smd_b,
                "mean_participants_after": m1a,
                "mean_others_after": m0a,
                "smd_after": smd_a,
                "balanced_after": bool(abs(smd_a) < 0.1),
            }
        )
    balance = pd.DataFrame(rows_b, columns=[c for c in BALANCE_COLUMNS if c != "wave"])

    # outcome contrasts
    rows = []
    for outcome in outcomes:
        if outcome not in df:
            continue
        y = outcome_values(df, outcome)
        use_o = use & np.isfinite(y)
        if use_o.sum() < 10 or len(np.unique(t[use_o])) < 2:
            continue
        xo = np.column_stack([np.ones(len(df)), np.nan_to_num(t)])
        fit = svy_fit(
            design,
            y,
            xo,
            ["Intercept", treatment],
            outcome_family(outcome, families),
            use_o,
            weights=w_ipw,
        )
        note = NOTE_OBSERVATIONAL
        if propensity_variance == "estimated" and is_replicate(design):
            fit, dropped = _replicate_ipw_vcov(design, fit, y, xo, t, xx, clip, ps_fit)
            note += dropped
        elif propensity_variance == "estimated":
            fit = _stacked_vcov(design, fit, y, xo, t, xx, ps, inside, w0, sw, ps_fit)
        kind = "inverse-probability-weighted " + (
            "difference in means" if fit.family == "gaussian" else "logistic regression (log OR)"
        )
        meth = method_text(fit, kind) + (
            "; stabilised weights from a design-weighted logistic propensity on "
            f"{', '.join(covs)} x design weights; SE "
            + (
                "accounts for the estimated propensity ("
                + (
                    "propensity refitted per replicate)"
                    if is_replicate(design)
                    else "stacked estimating equations)"
                )
                if propensity_variance == "estimated"
                else "treats the propensity as known"
            )
        )
        rows += fit_rows(fit, [treatment], "ipw", outcome, meth, note)
    return frame(rows), balance, w_ipw


def _stacked_vcov(design, fit, y, xo, t, xp, ps, inside, w0, sw, ps_fit):
    """The outcome fit with its covariance from the stacked estimating equations of the
    outcome model (U1, weights w0 x sw(beta)) and the propensity model (U2): the outcome
    influence is -A11^-1 (u1 - A12 A22^-1 u2), summed per PSU by the design.  The
    stabilising constant P(T=1) scales each arm's weights alike and drops out."""
    import dataclasses

    k = fit.rows
    scale = w0[k].mean()  # svy_fit scales weights to mean 1 on its rows; same here
    wk, swk, psk, tk = w0[k] / scale, sw[k], ps[k], np.nan_to_num(t[k])
    xo_k, xp_k, yk = xo[k], xp[k], np.asarray(y, dtype=np.float64)[k]
    eta = xo_k @ fit.beta
    if fit.family == "gaussian":
        mu, v = eta, np.ones(len(k))
    else:
        mu = 1 / (1 + np.exp(-eta))
        v = mu * (1 - mu)
    r = yk - mu
    a11 = -(xo_k * (wk * swk * v)[:, None]).T @ xo_k
    # d sw / d beta: -sw (1 - ps) x for participants, sw ps x for others (0 where clipped)
    dsw = np.where(tk == 1, -swk * (1 - psk), swk * psk) * inside[k]
    a12 = (xo_k * (wk * r)[:, None]).T @ (xp_k * dsw[:, None])
    # propensity equations on all rows it used (its own rows may be more than the outcome's)
    kp = ps_fit.rows
    wp = w0[kp] / scale
    psp = 1 / (1 + np.exp(-(xp[kp] @ ps_fit.beta)))  # the propensity fit's own, unclipped
    a22 = -(xp[kp] * (wp * psp * (1 - psp))[:, None]).T @ xp[kp]
    u2 = xp[kp] * (wp * (np.nan_to_num(t[kp]) - psp))[:, None]
    u1 = np.zeros((len(t), xo.shape[1]))
    u1[k] = xo_k * (wk * swk * r)[:, None]
    proj = np.zeros_like(u1)
    proj[kp] = u2 @ np.linalg.solve(a22, a12.T)  # per row: A12 A22^-1 u2
    rows = np.zeros(len(t), dtype=bool)
    rows[k] = True
    rows[kp] = True
    idx = np.flatnonzero(rows)
    a11_inv = np.linalg.inv(a11)
    meat = design.score_vcov(idx, (u1 - proj)[idx])
    return dataclasses.replace(fit, vcov=a11_inv @ meat @ a11_inv.T)


def _replicate_ipw_vcov(design, fit, y, xo, t, xp, clip, ps_fit):
    """The outcome fit's covariance on a replicate design, the propensity estimated anew with
    each replicate's weights (stabilised weights recomputed), then the outcome model refitted
    with them (both warm-started): the variance of the whole procedure, as R would give by
    refitting both with each replicate's weights. A replicate whose propensity or outcome
    refit fails is missing (R's svrVar drops it); returns the fit and :func:`replicate_note`."""
    import dataclasses

    kp, k = ps_fit.rows, fit.rows
    tp, names_p = np.nan_to_num(t[kp]), ps_fit.names
    rep_p = design.replicate_weights_of(kp)
    betas_p = replicate_glm(rep_p, xp[kp], tp, "binomial", names_p, ps_fit.beta, 1e-10)
    pos = np.full(len(t), -1)
    pos[kp] = np.arange(len(kp))
    at, yk, xk = pos[k], np.asarray(y, dtype=np.float64)[k], xo[k]
    betas = np.empty((len(betas_p), len(fit.beta)))
    for r, bp in enumerate(betas_p):
        if not np.isfinite(bp).all():  # a term absent, or no refit: discarded, as R's svrVar
            betas[r] = np.nan
            continue
        wr = rep_p[:, r]
        ps = np.clip(1 / (1 + np.exp(-(xp[kp] @ bp))), clip, 1 - clip)
        p1 = float(np.sum(wr * tp) / np.sum(wr))
        sw = np.where(tp == 1, p1 / ps, (1 - p1) / (1 - ps))
        w_r = (wr * sw)[at]
        keep = w_r > 0
        try:
            betas[r] = fit_glm(
                xk[keep], yk[keep], w_r[keep] / w_r[keep].mean(), fit.family, fit.names, 100,
                1e-10, start=fit.beta,
            )[0]  # fmt: skip
        except DesignError:
            betas[r] = np.nan
    vcov = design.replicate_vcov(betas, fit.beta)
    return dataclasses.replace(fit, vcov=vcov, replicates=None), replicate_note(betas)
