"""Inclusion lens: does every group gain from taking part, or do some gain less?

For each headline outcome and each breakdown (gender, age band, disability, income band,
site) one interaction model is fitted: the outcome on the covariates, the group and a
separate participation term for every group (``participated x 1[group = g]``).  From its
full design-based covariance matrix:

* the participation effect in each group (analysis ``inclusion``);
* each group's difference from the other groups (its effect minus the participant-weighted
  average effect of the other groups; analysis ``inclusion_gap``), with a Wald t test.

Each of these contrasts is tested on its own Satterthwaite (Bell-McCaffrey) df, at most the
design df (:meth:`pipelines.models.Fit.contrast_df`): a small group's effect rests on its
few respondents spread over the libraries, so its Taylor variance is far noisier than the
design's ``#PSUs - #strata`` says (in the simulation study, docs/simulation.md, 12 design df
gave 92% coverage for the disabled respondents' effect; their Satterthwaite df, about 9, 94%).
The SE is R's ``svyglm`` sandwich with Kott's (1994) bias correction
(:meth:`pipelines.models.Fit.contrast_test`): under the same working model the Taylor variance
of a small group's contrast averages less than its model-based variance (0.95 of it in the
simulation study), so it is scaled up by model-based / expected Taylor variance when that ratio
is above 1 (never down).

p-values of the differences are adjusted with Benjamini-Hochberg (:func:`bh_adjust`) over a
*family* that matches the question asked: by default one family per outcome x breakdown
(``family="outcome_breakdown"``: "do women gain less on skills?" is not pooled with library
comparisons; the site breakdown is its own family), or every difference of the call
(``family="grid"``, the old behaviour).  The family is named in column ``family``.  A group
is flagged ``gains less`` when its adjusted p-value is below ``alpha`` and its difference is
negative.

Small groups are handled honestly (issue 14 item 3): a group with fewer than
``min_group_size`` respondents, or (yes/no outcomes) with a participant or non-participant
cell where everyone answered alike (perfect prediction), or with fewer than
``min_events_per_variable`` events (the rarer answer) per coefficient of its own, is not
fitted; nor is a group whose fitted log odds ratio or intercept is near-separated (|beta| >
10, SE > 10, or no convergence).  Its rows keep n but no estimate, and carry the flag
``too uncertain`` with the reason, instead of a wild estimate or a "gains less" flag.  Each
row with an unclear (p >= alpha) effect or gap carries ``mde``: the minimum detectable
difference at 80% power, two-sided 5%, from its own SE and df (:func:`mde`).

When the breakdown is the sampling cluster (site), a site's effect lives inside a single
PSU and has no design-based SE: those rows use heteroskedasticity-robust SEs (every
respondent its own unit), as ``method`` says.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import numpy as np
import pandas as pd

from pipelines.models import (
    NOTE_OBSERVATIONAL,
    as_float,
    design_matrix,
    drop_constant,
    fit_note,
    frame,
    method_text,
    outcome_family,
    outcome_values,
    svy_fit,
    t_stats,
)
from pipelines.stats.design import SurveyDesign

__all__ = ["bh_adjust", "mde", "subgroup_effects"]

FLAG_LESS = "gains less than other groups"
FLAG_UNCERTAIN = "too uncertain"
# near-separation: a log odds ratio or a group intercept beyond +-10 (odds x 22,000) or with
# an SE above 10 is the optimiser running off, not an estimate
MAX_ABS_LOGIT = 10.0
MAX_SE_LOGIT = 10.0


def mde(se, df, alpha: float = 0.05, power: float = 0.8) -> np.ndarray:
    """Minimum detectable effect of a two-sided level-``alpha`` t test with ``power``:
    ``(t_{1-alpha/2,df} + t_{power,df}) x SE`` on the estimate's own scale (NaN where df < 1)."""
    from scipy import stats

    se, df = np.asarray(se, dtype=np.float64), np.asarray(df, dtype=np.float64)
    ok = np.isfinite(se) & (df >= 1)
    dfx = np.where(ok, df, 1.0)
    m = (stats.t.ppf(1 - alpha / 2, dfx) + stats.t.ppf(power, dfx)) * se
    return np.where(ok, m, np.nan)


def bh_adjust(p: Sequence[float] | np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values: statsmodels' ``multipletests(p, method="fdr_bh")``
    (equal to R's ``p.adjust(p, "BH")``) on the finite p-values; NaN p-values are left NaN and
    not counted in the number of tests."""
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(p, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        out[ok] = multipletests(p[ok], method="fdr_bh")[1]
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
    breakdowns: Sequence[str],
    treatment: str,
    family: str = "outcome_breakdown",
    alpha: float = 0.05,
    min_per_cell: int = 5,
    families: Mapping[str, str] | None = None,
    endogenous: Mapping[str, Collection[str]] | None = None,
    min_group_size: int = 30,
    min_events_per_variable: float = 5.0,
) -> pd.DataFrame:
    """Participation effect by group and each group's gap from the others (see module doc).

    Groups with fewer than ``min_per_cell`` participants or non-participants (with the
    outcome) are left out of a breakdown.  ``families`` marks 0/1 outcomes ``binomial``;
    ``endogenous`` maps a breakdown to the outcomes it is made from (an income band is not
    a breakdown of income).  ``min_group_size`` and ``min_events_per_variable`` mark groups
    too small to estimate (module doc).  Returns estimate rows with ``group_var``, ``group``,
    ``p_adj``, ``flag``, ``family`` and ``mde`` filled in.
    """
    if family not in ("grid", "outcome_breakdown"):
        raise ValueError(f"family must be 'grid' or 'outcome_breakdown', not {family!r}")
    df = design.data
    t = as_float(df[treatment])
    cluster = (design.stage_ids or (None,))[0]  # the first-stage sampling unit
    rows: list[dict] = []
    for breakdown in breakdowns:
        if breakdown not in df:
            continue
        groups = pd.factorize(_labels(df[breakdown]).to_numpy())  # (row codes, labels), once
        covs = [c for c in covariates if c in df and c != breakdown]
        base = design_matrix(df, covs)  # shared by every outcome of this breakdown
        for outcome in outcomes:
            if outcome in (endogenous or {}).get(breakdown, ()):
                continue
            if outcome not in df:
                continue
            rows += _one(
                design,
                df,
                t,
                groups,
                breakdown,
                outcome,
                base,
                treatment,
                cluster,
                (min_per_cell, min_group_size, min_events_per_variable),
                outcome_family(outcome, families),
            )
    out = frame(rows)
    if out.empty:
        return out
    out["p_adj"] = np.nan
    if "flag" not in out:
        out["flag"] = ""
    out["flag"] = out["flag"].fillna("")
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
    unclear = out["p"].notna() & ~(out["p_adj"].fillna(out["p"]) < alpha)
    out["mde"] = np.where(unclear, mde(out["se"], out["df"]), np.nan)
    return out


def _screen(y, t, gcodes, n_levels, ok, fam, rules):
    """Groups fit to estimate and the reasons the others are not: ``rules`` = (min per
    participant/non-participant cell, min group size, min events per variable).  Returns
    ``(usable mask over levels, {level index: reason})``; groups with too few in a cell are
    left out silently (as before), the rest of the rules give a stated reason."""
    min_cell, min_group, min_epv = rules
    g = gcodes[ok]
    tr = t[ok] == 1.0
    co = t[ok] == 0.0
    n_t = np.bincount(g, weights=tr, minlength=n_levels)
    n_c = np.bincount(g, weights=co, minlength=n_levels)
    present = (n_t >= min_cell) & (n_c >= min_cell)
    reasons: dict[int, str] = {}
    n = n_t + n_c
    for i in np.flatnonzero(present & (n < min_group)):
        reasons[int(i)] = f"group of {int(n[i])} is below the minimum of {min_group}"
    if fam == "binomial":
        yy = y[ok]
        for cell, name in ((tr, "participants"), (co, "non-participants")):
            ev = np.bincount(g, weights=cell * (yy == 1), minlength=n_levels)
            tot = np.bincount(g, weights=cell, minlength=n_levels)
            for i in np.flatnonzero(present & ((ev == 0) | (ev == tot))):
                reasons.setdefault(
                    int(i), f"all {name} in the group gave the same answer (separation)"
                )
        events = np.bincount(g, weights=yy == 1, minlength=n_levels)
        rare = np.minimum(events, n - events)
        for i in np.flatnonzero(present & (rare / 2 < min_epv)):
            reasons.setdefault(
                int(i),
                f"{int(rare[i])} events for 2 group coefficients, below {min_epv:g} per "
                "coefficient",
            )
    usable = present.copy()
    usable[list(reasons)] = False
    return present, usable, reasons


def _uncertain_rows(base, labels, reasons, n_group) -> list[dict]:
    """Rows of groups too small or separated: n kept, no estimate, the reason stated."""
    rows = []
    for i, why in reasons.items():
        for analysis in ("inclusion", "inclusion_gap"):
            rows.append(
                base
                | {
                    "analysis": analysis,
                    "group": str(labels[i]),
                    "term": _TERMS[analysis],
                    "estimate": np.nan,
                    "se": np.nan,
                    "ci_low": np.nan,
                    "ci_high": np.nan,
                    "df": np.nan,
                    "p": np.nan,
                    "n": int(n_group[i]),
                    "method": "not estimated: " + why,
                    "flag": f"{FLAG_UNCERTAIN}: {why}",
                }
            )
    return rows


def _one(design, df, t, groups, breakdown, outcome, base, treatment, cluster, rules, fam):
    """Interaction model of one outcome by one breakdown; ``groups`` is the breakdown's
    ``pd.factorize``, ``base`` the covariates' ``design_matrix`` (intercept first); groups
    too small or separated are reported as too uncertain (:func:`_screen`) and the model is
    refitted without any group whose fit still runs off."""
    from pipelines.stats.design import DesignError

    y = outcome_values(df, outcome)
    gcodes, labels = groups
    base_ok = np.isfinite(y) & np.isfinite(t) & (gcodes >= 0) & design.domain
    if not (t[base_ok] == 1).any() or not (t[base_ok] == 0).any():
        return []
    _, usable, reasons = _screen(y, t, gcodes, len(labels), base_ok, fam, rules)
    n_all = np.bincount(gcodes[base_ok], minlength=len(labels))
    head = {"outcome": outcome, "group_var": breakdown, "note": NOTE_OBSERVATIONAL}
    while True:
        levels = sorted(labels[usable], key=_sort_key)
        if len(levels) < 2:
            return _uncertain_rows(head, labels, reasons, n_all) if len(levels) else []
        code = _codes(groups, levels)
        ok_g = (code >= 0) & base_ok
        try:
            if breakdown == cluster:
                rows, bad = _one_many(
                    design, y, t, code, levels, ok_g, breakdown, outcome, base, treatment, fam
                )
            else:
                rows, bad = _one_dense(
                    design, y, t, code, levels, ok_g, breakdown, outcome, base, treatment, fam
                )
        except DesignError as e:
            if fam != "binomial" or "converge" not in str(e):
                raise
            rows, bad = [], list(range(len(levels)))
            why = "the logistic model did not converge (separation)"
        else:
            why = "near-separation: the fitted log odds run off (|estimate| or SE above 10)"
        if not bad:
            return rows + _uncertain_rows(head, labels, reasons, n_all)
        pos = {lv: i for i, lv in enumerate(labels)}
        for k in bad:
            i = pos[levels[k]]
            reasons[i] = why
            usable[i] = False


def _unstable(fam, est, se) -> list[int]:
    """Groups whose logistic estimates ran off (near-separation); none for linear models."""
    if fam != "binomial":
        return []
    est, se = np.abs(np.asarray(est)), np.asarray(se)
    bad = (est > MAX_ABS_LOGIT) | ~(se <= MAX_SE_LOGIT)
    return [int(k) for k in np.flatnonzero(bad.any(axis=0) if bad.ndim > 1 else bad)]


def _one_dense(design, y, t, code, levels, ok_g, breakdown, outcome, base, treatment, fam):
    """The interaction model with dense columns (a breakdown with few groups)."""
    cluster = (design.stage_ids or (None,))[0]
    extra = {}
    for i, lv in enumerate(levels):
        ind = (code == i).astype(np.float64)
        if i:
            extra[f"group[{lv}]"] = ind
        extra[f"{treatment}:{lv}"] = ind * np.nan_to_num(t)
    bx, bnames, ok = base
    x = np.column_stack([bx[:, :1], *extra.values(), bx[:, 1:]])
    names = [bnames[0], *extra, *bnames[1:]]
    use = ok & ok_g
    effect_terms = [f"{treatment}:{lv}" for lv in levels]
    xx, nn = drop_constant(x, names, use, keep=effect_terms)
    robust = breakdown == cluster
    fit = svy_fit(design, y, xx, nn, fam, rows=use, robust_only=robust, contrast_df=True)
    sd = np.sqrt(np.clip(np.diag(fit.vcov), 0.0, None))
    # each group's own coefficients: its effect and its intercept shift (none for group 0,
    # whose intercept is the model's and depends on the covariates' origin)
    own = [[fit.index(f"{treatment}:{lv}")] for lv in levels]
    for k, lv in enumerate(levels):
        if f"group[{lv}]" in fit.names:
            own[k].append(fit.index(f"group[{lv}]"))
    est_own = np.array([[fit.beta[j] for j in (o * 2)[:2]] for o in own]).T
    se_own = np.array([[sd[j] for j in (o * 2)[:2]] for o in own]).T
    bad = _unstable(fam, est_own, se_own)
    if bad:
        return [], bad
    meth = method_text(
        fit,
        "design-based interaction "
        + ("linear regression" if fit.family == "gaussian" else "logistic regression (log OR)"),
    )
    if robust:
        meth += f"; {breakdown} is the sampling cluster, so SEs are model-based"
    elif fit.work is not None:
        meth = meth.replace("Taylor SE", "Taylor SE with Kott's bias correction").replace(
            f"t on {fit.df} df", f"t on each contrast's Satterthwaite df, at most {fit.df}"
        )
    w = design.row_weights
    part_w = np.bincount(code[use & (t == 1)], weights=w[use & (t == 1)], minlength=len(levels))
    n_g = np.bincount(code[use], minlength=len(levels))
    idx = [fit.index(term) for term in effect_terms]
    base = {"outcome": outcome, "group_var": breakdown, "note": NOTE_OBSERVATIONAL + fit_note(fit)}
    # (estimate, se, df) rows: each contrast its own Satterthwaite df (a small group's effect
    # rests on the few PSUs and respondents it has, not on the whole design's df) and its
    # Taylor variance corrected for its bias under the working model (Kott)
    eff, gap = np.zeros((3, len(levels))), np.zeros((3, len(levels)))
    for k in range(len(levels)):
        c = np.zeros(len(fit.beta))
        c[idx[k]] = 1.0
        eff[:, k] = fit.contrast_test(c)
        others = [j for j in range(len(levels)) if j != k]
        c[[idx[j] for j in others]] -= part_w[others] / part_w[others].sum()
        gap[:, k] = fit.contrast_test(c)
    return _group_rows(base, levels, eff[:2], gap[:2], (eff[2], gap[2]), n_g, fit.n, meth), []


def _effect_variances(zz, zg, pinv, mzz, mzg, mgg, sbar_z, sbar_g, mean_c, m):
    """Robust variances of every group's participation effect, of the weighted mean effect
    and their covariances, in O(groups x covariates^2) (never a groups x groups matrix).

    The sandwich A^-1 M A^-1 with A in arrow form (zz, zg, per-group 2 x 2 blocks with
    inverses ``pinv``) and M = score products (mzz, mzg, mgg) minus m * mean score products
    (sbar_z, sbar_g), times m / (m - 1). A^-1 e_h for group h's effect is u_h at group h
    (u_h = pinv_h e_1) minus W_g q_h at every group g, with W_g = pinv_g A_gz and
    q_h = -S^-1 A_zh u_h (S the Schur complement): every quadratic form then reduces to sums
    over groups of k x k products, computed once.
    """
    k = zz.shape[0]
    w = np.einsum("gab,jgb->gaj", pinv, zg)  # W_g: G x 2 x k
    schur = zz - np.einsum("jga,gal->jl", zg, w)
    u = pinv[:, :, 1]  # u_h: G x 2
    v = np.einsum("jga,ga->jg", zg, u)  # A_zh u_h: k x G
    q = -np.linalg.solve(schur, v) if k else np.zeros((0, len(u)))  # k x G
    # the weighted mean effect: one right-hand side, solved in full
    pb = np.einsum("gab,gbr->gar", pinv, mean_c)[:, :, 0]  # G x 2
    q_mean = np.linalg.solve(schur, -np.einsum("jga,ga->j", zg, pb)) if k else np.zeros(0)
    x_mean = pb - w @ q_mean  # G x 2
    # sums over groups shared by all quadratic forms
    t_gg = np.einsum("gaj,gab,gbl->jl", w, mgg, w)
    t_zg = np.einsum("jga,gal->jl", mzg, w)
    mu = np.einsum("gab,gb->ga", mgg, u)  # Mgg_h u_h
    s_w = np.einsum("ga,gaj->j", sbar_g, w)
    # each group's effect
    core = mzz + t_gg - t_zg - t_zg.T
    quad = (
        np.einsum("jh,jl,lh->h", q, core, q)
        + np.einsum("ga,ga->g", u, mu)
        - 2 * np.einsum("ga,gaj,jg->g", mu, w, q)
        + 2 * np.einsum("jh,jha,ha->h", q, mzg, u)
    )
    sq = sbar_z @ q + np.einsum("ga,ga->g", sbar_g, u) - s_w @ q
    var_eff = (quad - m * sq * sq) * m / (m - 1)
    # the weighted mean effect
    quad_m = (
        q_mean @ mzz @ q_mean
        + np.einsum("ga,gab,gb->", x_mean, mgg, x_mean)
        + 2 * np.einsum("j,jga,ga->", q_mean, mzg, x_mean)
    )
    sq_m = sbar_z @ q_mean + np.einsum("ga,ga->", sbar_g, x_mean)
    var_mean = (quad_m - m * sq_m * sq_m) * m / (m - 1)
    # covariances of each effect with the mean effect
    a1 = np.einsum("gaj,gab,gb->j", w, mgg, x_mean)
    a2 = np.einsum("jga,ga->j", mzg, x_mean)
    cross = (
        q.T @ (mzz @ q_mean)
        + np.einsum("ga,ga->g", mu, x_mean)
        - q.T @ a1
        + q.T @ a2
        + np.einsum("j,jga,ga->g", q_mean, mzg, u)
        - q_mean @ t_zg @ q
    )
    cov = (cross - m * sq * sq_m) * m / (m - 1)
    return np.append(var_eff, var_mean), cov


def _codes(groups: tuple[np.ndarray, np.ndarray], levels: Sequence) -> np.ndarray:
    """Integer code of each row's group among ``levels`` (-1 elsewhere), from a factorize."""
    codes, uniques = groups
    pos = {lv: i for i, lv in enumerate(levels)}
    lookup = np.array([pos.get(u, -1) for u in uniques] + [-1], dtype=np.int64)
    return lookup[codes]  # code -1 (missing) picks the trailing -1


def _one_many(design, y, t, code_all, levels, ok_g, breakdown, outcome, base, treatment, fam):
    """:func:`_one` for a breakdown by the sampling cluster (hundreds or thousands of sites),
    without the dense n x (2 x sites) design matrix.

    The same model (common covariate slopes, one intercept and one participation effect per
    group) and the same heteroskedasticity-robust variance as ``svy_fit(robust_only=True)``,
    but solved with the normal equations' arrow structure: the group block of ``X'WX`` and of
    the score outer products is block-diagonal (2 x 2 per group), so everything is a bincount
    per group plus a Schur complement on the few covariate columns. Cost is linear in rows
    and in groups, contrasts included (see :func:`_effect_variances`).
    """
    from pipelines.stats.design import DesignError

    z, znames, zok = base
    z, znames = z[:, 1:], znames[1:]  # the per-group intercepts replace the intercept
    w_all = design.row_weights
    use = ok_g & zok & design.domain & np.isfinite(y) & (w_all > 0)
    keep_cols = [j for j in range(z.shape[1]) if np.ptp(z[use, j]) > 0] if use.any() else []
    z, znames = z[:, keep_cols], [znames[j] for j in keep_cols]
    kept = np.flatnonzero(use)
    m, G, k = len(kept), len(levels), z.shape[1]
    zk, yk, tk, ck = z[kept], y[kept], np.nan_to_num(t[kept]), code_all[kept]
    wk = w_all[kept] / w_all[kept].mean()
    p = k + 2 * G
    if m <= p:
        raise DesignError(f"The model has {p} coefficients but only {m} complete rows.")

    def blocks(ww):
        """X'diag(ww)X in arrow form: zz (k x k), zg (k x G x 2), gg (G x 2 x 2)."""
        zz = (zk * ww[:, None]).T @ zk
        zg = np.empty((k, G, 2))
        for j in range(k):
            zg[j, :, 0] = np.bincount(ck, weights=ww * zk[:, j], minlength=G)
            zg[j, :, 1] = np.bincount(ck, weights=ww * tk * zk[:, j], minlength=G)
        gg = np.empty((G, 2, 2))
        gg[:, 0, 0] = np.bincount(ck, weights=ww, minlength=G)
        gg[:, 0, 1] = gg[:, 1, 0] = np.bincount(ck, weights=ww * tk, minlength=G)
        gg[:, 1, 1] = np.bincount(ck, weights=ww * tk * tk, minlength=G)
        return zz, zg, gg

    def inv2(gg):
        det = gg[:, 0, 0] * gg[:, 1, 1] - gg[:, 0, 1] * gg[:, 1, 0]
        if np.any(~(det > 1e-12 * gg[:, 0, 0] * gg[:, 1, 1])):
            raise DesignError(f"A {breakdown} has no variation in {treatment}; drop it.")
        out = np.empty_like(gg)
        out[:, 0, 0], out[:, 1, 1] = gg[:, 1, 1] / det, gg[:, 0, 0] / det
        out[:, 0, 1], out[:, 1, 0] = -gg[:, 0, 1] / det, -gg[:, 1, 0] / det
        return out

    def solve(zz, zg, pinv, bz, bg):
        """Solve the arrow system for right-hand sides bz (k x r), bg (G x 2 x r)."""
        wmat = np.einsum("gab,jgb->gaj", pinv, zg)  # P A_gz: G x 2 x k
        schur = zz - np.einsum("jga,gal->jl", zg, wmat)
        pb = np.einsum("gab,gbr->gar", pinv, bg)
        xz = np.linalg.solve(schur, bz - np.einsum("jga,gar->jr", zg, pb)) if k else bz
        xg = pb - np.einsum("gaj,jr->gar", wmat, xz)
        return xz, xg

    def linpred(gam, theta):
        return zk @ gam + theta[ck, 0] + theta[ck, 1] * tk

    gam, theta = np.zeros(k), np.zeros((G, 2))
    if fam == "gaussian":
        v = np.ones(m)
        zz, zg, gg = blocks(wk)
        r = wk * yk
        bz = (zk * r[:, None]).sum(axis=0)[:, None]
        bg = np.stack(
            [np.bincount(ck, weights=r, minlength=G), np.bincount(ck, weights=r * tk, minlength=G)],
            axis=1,
        )[:, :, None]
        pinv = inv2(gg)
        xz, xg = solve(zz, zg, pinv, bz, bg)
        gam, theta = xz[:, 0], xg[:, :, 0]
        mu = linpred(gam, theta)
    else:
        dev_old = np.inf
        for _ in range(100):  # Newton-Raphson (= IRLS) on the logistic score
            eta = linpred(gam, theta)
            mu = np.clip(1.0 / (1.0 + np.exp(-eta)), 1e-15, 1 - 1e-15)
            # the same stopping rule as design.fit_glm: relative change of the deviance
            dev = -2 * np.sum(wk * (yk * np.log(mu) + (1 - yk) * np.log(1 - mu)))
            if abs(dev - dev_old) / (abs(dev) + 0.1) < 1e-10:
                break
            dev_old = dev
            v = mu * (1.0 - mu)
            zz, zg, gg = blocks(wk * v)
            r = wk * (yk - mu)
            bz = (zk * r[:, None]).sum(axis=0)[:, None]
            bg = np.stack(
                [
                    np.bincount(ck, weights=r, minlength=G),
                    np.bincount(ck, weights=r * tk, minlength=G),
                ],
                axis=1,
            )[:, :, None]
            pinv = inv2(gg)
            dz, dg = solve(zz, zg, pinv, bz, bg)
            gam, theta = gam + dz[:, 0], theta + dg[:, :, 0]
        mu = np.clip(1.0 / (1.0 + np.exp(-linpred(gam, theta))), 1e-15, 1 - 1e-15)
        v = mu * (1.0 - mu)
        zz, zg, gg = blocks(wk * v)
        pinv = inv2(gg)

    # robust meat: sum of score outer products minus m * mean outer product, x m/(m-1)
    e = wk * (yk - mu)
    sz = zk * e[:, None]
    mzz = sz.T @ sz
    mzg = np.empty((k, G, 2))
    for j in range(k):
        mzg[j, :, 0] = np.bincount(ck, weights=sz[:, j] * e, minlength=G)
        mzg[j, :, 1] = np.bincount(ck, weights=sz[:, j] * e * tk, minlength=G)
    mgg = np.empty((G, 2, 2))
    mgg[:, 0, 0] = np.bincount(ck, weights=e * e, minlength=G)
    mgg[:, 0, 1] = mgg[:, 1, 0] = np.bincount(ck, weights=e * e * tk, minlength=G)
    mgg[:, 1, 1] = np.bincount(ck, weights=e * e * tk * tk, minlength=G)
    sbar_z = sz.mean(axis=0)
    sbar_g = (
        np.stack(
            [np.bincount(ck, weights=e, minlength=G), np.bincount(ck, weights=e * tk, minlength=G)],
            axis=1,
        )
        / m
    )

    # contrasts: each group's effect (G columns) and the participant-weighted mean effect
    w_rows = w_all[kept]
    part_w = np.bincount(ck[tk == 1], weights=w_rows[tk == 1], minlength=G)
    n_g = np.bincount(ck, minlength=G)
    mean_c = np.zeros((G, 2, 1))
    mean_c[:, 1, 0] = part_w / part_w.sum()
    var_c, cov_kv = _effect_variances(zz, zg, pinv, mzz, mzg, mgg, sbar_z, sbar_g, mean_c, m)
    delta = theta[:, 1]
    if fam == "binomial":
        bad = _unstable(fam, delta, np.sqrt(np.clip(var_c[:G], 0, None)))
        if bad:
            return [], bad
    mean_eff = float(mean_c[:, 1, 0] @ delta)
    df_ = m - p
    se_kind = "heteroskedasticity-robust model-based SE"
    what = "design-based interaction " + (
        "linear regression" if fam == "gaussian" else "logistic regression (log OR)"
    )
    meth = f"{what} ({se_kind}, t on {df_} df)"
    meth += f"; {breakdown} is the sampling cluster, so SEs are model-based"
    base = {"outcome": outcome, "group_var": breakdown, "note": NOTE_OBSERVATIONAL}
    se = np.sqrt(np.clip(var_c[:G], 0.0, None))
    # gap_k = d_k - sum_{j!=k} s_j d_j with s_j = pw_j / (P - pw_k)
    #       = a_k d_k - b_k vbar, vbar = sum_j (pw_j / P) d_j, a_k = 1 + b_k pw_k / P,
    #         b_k = P / (P - pw_k)
    total = part_w.sum()
    b = total / (total - part_w)
    a = 1.0 + b * part_w / total
    gap = a * delta - b * mean_eff
    gvar = a * a * var_c[:G] + b * b * var_c[G] - 2 * a * b * cov_kv
    gse = np.sqrt(np.clip(gvar, 0.0, None))
    dfs = np.full(G, float(df_))
    return _group_rows(base, levels, (delta, se), (gap, gse), (dfs, dfs), n_g, m, meth), []


_TERMS = {
    "inclusion": "participation effect in group",
    "inclusion_gap": "effect in group minus other groups' (participant-weighted) effect",
}


def _group_rows(base, levels, effect, gap, dfs, n_group, n_fit, method) -> list[dict]:
    """Estimate rows, each group's effect then its gap: ``effect`` and ``gap`` are (estimates,
    SEs) aligned with ``levels``, ``dfs`` their (effect, gap) df; an effect's n is its
    group's, a gap's the whole fit's."""
    rows = []
    for analysis, (est, se), df, n in (
        ("inclusion", effect, dfs[0], n_group),
        ("inclusion_gap", gap, dfs[1], np.full(len(levels), n_fit)),
    ):
        est, se = np.asarray(est, dtype=float), np.asarray(se, dtype=float)
        lo, hi, p = t_stats(est, se, df)
        rows.append(
            [
                base
                | {
                    "analysis": analysis,
                    "group": str(lv),
                    "term": _TERMS[analysis],
                    "estimate": float(est[i]),
                    "se": float(se[i]),
                    "ci_low": float(lo[i]),
                    "ci_high": float(hi[i]),
                    "df": float(df[i]),
                    "p": float(p[i]),
                    "n": int(n[i]),
                    "method": method,
                }
                for i, lv in enumerate(levels)
            ]
        )
    return [row for pair in zip(*rows, strict=True) for row in pair]


def _sort_key(v):
    try:
        return (0, float(v), "")
    except (TypeError, ValueError):
        return (1, 0.0, str(v))
