"""Inclusion lens: does every group gain from taking part, or do some gain less?

For each headline outcome and each breakdown (gender, age band, disability, income band,
site) one interaction model is fitted: the outcome on the covariates, the group and a
separate participation term for every group (``participated x 1[group = g]``).  From its
full design-based covariance matrix:

* the participation effect in each group (analysis ``inclusion``);
* each group's difference from the other groups (its effect minus the participant-weighted
  average effect of the other groups; analysis ``inclusion_gap``), with a Wald t test.

p-values of the differences are adjusted with Benjamini-Hochberg (:func:`bh_adjust`) over a
*family*: by default every difference of the call (the whole outcome x breakdown grid of
one wave; ``family="grid"``), or one family per outcome x breakdown
(``family="outcome_breakdown"``).  A group is flagged ``gains less`` when its adjusted
p-value is below ``alpha`` and its difference is negative.

When the breakdown is the sampling cluster (site), a site's effect lives inside a single
PSU and has no design-based SE: those rows use heteroskedasticity-robust SEs (every
respondent its own unit), as ``method`` says.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from pipelines.design import SurveyDesign
from pipelines.models import (
    NOTE_OBSERVATIONAL,
    as_float,
    design_matrix,
    drop_constant,
    frame,
    method_text,
    outcome_family,
    outcome_values,
    svy_fit,
    t_stats,
)

__all__ = ["BREAKDOWNS", "bh_adjust", "subgroup_effects"]

BREAKDOWNS = ("gender", "age_band", "disability", "income_band", "site")
FLAG_LESS = "gains less than other groups"
# a breakdown defined by the outcome itself cannot be used for that outcome
_ENDOGENOUS = {"income_band": {"log_income", "income", "income_rose"}}


def bh_adjust(p: Sequence[float] | np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (step-up, monotone, capped at 1).

    NaN p-values are ignored (left NaN; not counted in the number of tests).  Equal to
    ``statsmodels.stats.multitest.multipletests(p, method="fdr_bh")[1]`` on the non-NaN
    values and to R's ``p.adjust(p, "BH")``.
    """
    p = np.asarray(p, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    q = p[ok]
    m = len(q)
    if m == 0:
        return out
    order = np.argsort(q)
    ranked = q[order] * m / np.arange(1, m + 1)
    adj = np.minimum.accumulate(ranked[::-1])[::-1]
    res = np.empty(m)
    res[order] = np.minimum(adj, 1.0)
    out[ok] = res
    return out


def _labels(s: pd.Series) -> pd.Series:
    """Group labels as strings (0/1 and Int64 become "0"/"1"), missing kept missing."""
    if pd.api.types.is_numeric_dtype(s) or s.dtype == bool:
        v = as_float(s)
        lab = pd.Series(
            np.where(np.isnan(v), None, pd.Series(v).map(lambda x: f"{x:g}")), index=s.index
        )
        return lab.astype(object)
    return s.astype(object).where(s.notna(), None)


def subgroup_effects(
    design: SurveyDesign,
    outcomes: Sequence[str],
    covariates: Sequence[str],
    breakdowns: Sequence[str] = BREAKDOWNS,
    treatment: str = "participated",
    family: str = "grid",
    alpha: float = 0.05,
    min_per_cell: int = 5,
) -> pd.DataFrame:
    """Participation effect by group and each group's gap from the others (see module doc).

    Groups with fewer than ``min_per_cell`` participants or non-participants (with the
    outcome) are left out of a breakdown.  Returns estimate rows with ``group_var``,
    ``group``, ``p_adj``, ``flag`` and ``family`` filled in.
    """
    if family not in ("grid", "outcome_breakdown"):
        raise ValueError(f"family must be 'grid' or 'outcome_breakdown', not {family!r}")
    df = design.data
    t = as_float(df[treatment])
    cluster = design.cluster
    rows: list[dict] = []
    for breakdown in breakdowns:
        if breakdown not in df:
            continue
        g_all = _labels(df[breakdown])
        for outcome in outcomes:
            if outcome in _ENDOGENOUS.get(breakdown, set()):
                continue
            if outcome not in df and outcome != "income_rose":
                continue
            rows += _one(
                design,
                df,
                t,
                g_all,
                breakdown,
                outcome,
                covariates,
                treatment,
                cluster,
                min_per_cell,
            )
    out = frame(rows)
    if out.empty:
        return out
    out["p_adj"] = np.nan
    out["flag"] = ""
    gap = out["analysis"] == "inclusion_gap"
    if family == "grid":
        out.loc[gap, "p_adj"] = bh_adjust(out.loc[gap, "p"].to_numpy())
        out.loc[gap, "family"] = "all outcomes x breakdowns"
    else:
        for (_, _), idx in out[gap].groupby(["outcome", "group_var"]).groups.items():
            out.loc[idx, "p_adj"] = bh_adjust(out.loc[idx, "p"].to_numpy())
        out.loc[gap, "family"] = out.loc[gap, "outcome"] + " x " + out.loc[gap, "group_var"]
    less = gap & (out["p_adj"] < alpha) & (out["estimate"] < 0)
    out.loc[less, "flag"] = FLAG_LESS
    return out


def _one(design, df, t, g_all, breakdown, outcome, covariates, treatment, cluster, min_cell):
    y = outcome_values(df, outcome)
    base_ok = np.isfinite(y) & np.isfinite(t) & g_all.notna().to_numpy() & design.domain
    g = g_all.to_numpy()
    counts = pd.crosstab(g[base_ok], t[base_ok])
    if 0.0 not in counts.columns or 1.0 not in counts.columns:
        return []
    keep = counts.index[(counts[0.0] >= min_cell) & (counts[1.0] >= min_cell)]
    levels = sorted(keep, key=_sort_key)
    if len(levels) < 2:
        return []
    ok_g = np.isin(g, levels) & base_ok
    covs = [c for c in covariates if c in df and c != breakdown]
    extra = {}
    for i, lv in enumerate(levels):
        ind = (g == lv).astype(np.float64)
        if i:
            extra[f"group[{lv}]"] = ind
        extra[f"{treatment}:{lv}"] = ind * np.nan_to_num(t)
    x, names, ok = design_matrix(df, covs, extra)
    use = ok & ok_g
    effect_terms = [f"{treatment}:{lv}" for lv in levels]
    xx, nn = drop_constant(x, names, use, keep=effect_terms)
    robust = breakdown == cluster
    fit = svy_fit(design, y, xx, nn, outcome_family(outcome), rows=use, robust_only=robust)
    meth = method_text(
        fit,
        "design-based interaction "
        + ("linear regression" if fit.family == "gaussian" else "logistic regression (log OR)"),
    )
    if robust:
        meth += f"; {breakdown} is the sampling cluster, so SEs are model-based"
    w = design.row_weights
    part_w = np.array([np.sum(w[use & (g == lv) & (t == 1)]) for lv in levels])
    n_g = np.array([int(np.sum(use & (g == lv))) for lv in levels])
    idx = [fit.index(term) for term in effect_terms]
    base = {"outcome": outcome, "group_var": breakdown, "note": NOTE_OBSERVATIONAL}
    rows = []
    for k, lv in enumerate(levels):
        c = np.zeros(len(fit.beta))
        c[idx[k]] = 1.0
        est, se = fit.contrast(c)
        lo, hi, p = t_stats(est, se, fit.df)
        rows.append(
            base
            | {
                "analysis": "inclusion",
                "group": str(lv),
                "term": "participation effect in group",
                "estimate": est,
                "se": se,
                "ci_low": float(lo),
                "ci_high": float(hi),
                "df": fit.df,
                "p": float(p),
                "n": int(n_g[k]),
                "method": meth,
            }
        )
        others = [j for j in range(len(levels)) if j != k]
        share = part_w[others] / part_w[others].sum()
        c = np.zeros(len(fit.beta))
        c[idx[k]] = 1.0
        c[[idx[j] for j in others]] -= share
        est, se = fit.contrast(c)
        lo, hi, p = t_stats(est, se, fit.df)
        rows.append(
            base
            | {
                "analysis": "inclusion_gap",
                "group": str(lv),
                "term": "effect in group minus other groups' (participant-weighted) effect",
                "estimate": est,
                "se": se,
                "ci_low": float(lo),
                "ci_high": float(hi),
                "df": fit.df,
                "p": float(p),
                "n": fit.n,
                "method": meth,
            }
        )
    return rows


def _sort_key(v):
    try:
        return (0, float(v), "")
    except (TypeError, ValueError):
        return (1, 0.0, str(v))
