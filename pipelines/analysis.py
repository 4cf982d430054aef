"""The analysis step: from clean waves to tidy result tables.

:func:`analyse` runs, per wave: weights (raking to the config's margins and trimming, a
weight column, or none), scale scores and reliability, design-based descriptive estimates,
participation models, propensity weighting with a balance table, the inclusion breakdown
and weighted Likert distributions; across waves: attrition, paired change and
difference-in-differences.  Everything is vectorised; the mixed and proportional-odds
models are fitted on a seeded subsample above ``max_model_rows`` rows (said in
``method``).

The main table, ``estimates``, has one row per estimate with the columns
:data:`ESTIMATE_COLUMNS`; every row carries ``n``, an interval and its ``method``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines import change, inclusion, models, weightfile
from pipelines.codebook import Codebook
from pipelines.config import SurveyConfig
from pipelines.plan import Plan, build_plan
from pipelines.stats import calibrate, scales
from pipelines.stats.design import SurveyDesign, svyby, svymean, svyprop
from pipelines.stats.replicate import ReplicateDesign, as_replicate
from pipelines.stats.tidy import ESTIMATE_COLUMNS, estimate_row

__all__ = [
    "ESTIMATE_COLUMNS",
    "analyse",
    "design_for",
    "likert_distribution",
    "make_weights",
    "prepare",
    "score_scales",
]

FLAG_SMALL = "small n"


# --------------------------------------------------------------------------- weights
# Columns of the result tables besides the estimates: an analysis with nothing to put in
# one (no Likert item, no scale, no margin) still writes the table with its columns.
LIKERT_COLUMNS = ["wave", "item", "level", "label_id", "label_en", "pct", "n", "n_item"]
REPRESENTATIVENESS_COLUMNS = [
    "wave",
    "variable",
    "level",
    "n",
    "sample_share",
    "weighted_share",
    "population_share",
    "difference",
]
RELIABILITY_COLUMNS = [*scales.RELIABILITY_COLUMNS, "wave"]


def make_weights(df: pd.DataFrame, cfg: SurveyConfig) -> tuple[np.ndarray, dict]:
    """Final analysis weights for one wave and a summary row (method, n not raked, note).

    ``rake``: rows complete on every margin variable are raked to the margins (levels of
    a margin absent from the sample are dropped from it, with a note; the remaining totals
    are rescaled to the full population), starting from ``column`` when given (else 1), and
    trimmed at ``trim_ratio`` x the median; rows missing a margin variable get their base
    weight times the mean raking factor.  ``column``: the named column.
    ``file``: a weights file joined by a key (:func:`pipelines.weightfile.from_file`).
    ``none``: 1 for everyone.
    """
    from pipelines.stats import weights as wts

    spec = cfg.design.weights
    n = len(df)
    info: dict = {"method": spec.method, "n_not_raked": 0, "note": ""}
    if spec.method == "none":
        return np.ones(n), info | {"note": "unweighted (design.weights.method: none)"}
    if spec.method == "file":  # delivered weights joined by a key (site, kelurahan, id)
        return weightfile.from_file(df, spec, cfg.base_dir)
    base, note = _base_weights(df, spec)
    if spec.method == "column":
        return base, info | {"note": note}
    margins, complete, notes = _rake_margins(df, spec)
    info["margins_used"] = ",".join(margins)
    sub = df.loc[complete, list(margins)].astype({v: str for v in margins})
    w_sub = wts.rake(sub, margins, base_weight=base[complete], max_iter=500, tol=1e-6)
    w_sub = w_sub.to_numpy(dtype=np.float64)
    if spec.trim_ratio:
        w_sub = wts.trim(w_sub, upper_ratio=spec.trim_ratio).to_numpy(dtype=np.float64)
    w = base * np.mean(w_sub / base[complete])
    w[complete] = w_sub
    info["n_not_raked"] = int((~complete).sum())
    if info["n_not_raked"]:
        notes.append(f"{info['n_not_raked']} rows missing a margin variable get the mean weight")
    info["note"] = "; ".join([note, *notes] if note else notes)
    return w, info


def _base_weights(df: pd.DataFrame, spec) -> tuple[np.ndarray, str]:
    """The weight column (missing or non-positive values set to the mean, with a note), or 1."""
    if not spec.column:
        return np.ones(len(df)), ""
    w = models.as_float(df[spec.column])
    bad = ~np.isfinite(w) | (w <= 0)
    if not bad.any():
        return w, ""
    w = np.where(bad, np.nanmean(np.where(bad, np.nan, w)), w)
    return w, f"{int(bad.sum())} missing/non-positive weights set to the mean"


def _rake_margins(df: pd.DataFrame, spec) -> tuple[dict, np.ndarray, list[str]]:
    """The margins raking uses (those of variables with answers; levels without respondents
    dropped and the rest rescaled to the population), the rows complete on them, and notes."""
    margins = {k: dict(v) for k, v in spec.margins.items() if k in df and df[k].notna().any()}
    complete = np.ones(len(df), dtype=bool)
    for var in margins:
        complete &= df[var].notna().to_numpy()
    notes = []
    sub = df.loc[complete, list(margins)]
    for var, totals in margins.items():
        present = set(sub[var].astype(str).unique())
        absent = [k for k in totals if k not in present]
        unknown = sorted(present - set(totals))
        if unknown:
            raise ValueError(f"{var}: sample levels {unknown} are not in the margins")
        if absent:
            notes.append(f"{var} levels without respondents dropped from margins: {absent}")
            full = sum(totals.values())
            kept = {k: v for k, v in totals.items() if k not in absent}
            margins[var] = {k: v * full / sum(kept.values()) for k, v in kept.items()}
    return margins, complete, notes


# --------------------------------------------------------------------------- scales
def score_scales(df: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """``df`` with one column per scale of the plan: the mean of answered items after reverse
    coding on the scale's own range (``low + high - x``), missing below its minimum answered."""
    out = df.copy()
    for name, spec in plan.scales.items():
        low, high = spec["range"]
        items = df[spec["items"]].astype("float64")
        out[name] = scales.score(
            items, spec["reverse"], spec["min_answered"], low=low, high=high
        ).to_numpy()
    return out


def likert_distribution(df: pd.DataFrame, w: np.ndarray, cb: Codebook, wave: str) -> pd.DataFrame:
    """Weighted percentage of each answer level of each Likert item (for diverging bars):
    ``wave, item, level, label_id, label_en, pct, n, n_item``; levels on the item's range."""
    rows = []
    for v in cb.by_type("likert"):
        if v.name not in df:
            continue
        low, high = (int(b) for b in cb.item_range(v))
        labels = cb.label_set(v).labels if v.labels else {}
        x = models.as_float(df[v.name])
        ok = np.isfinite(x) & (x >= low) & (x <= high)
        code = x[ok].astype(int) - low
        k = high - low + 1
        wsum = np.bincount(code, weights=w[ok], minlength=k)
        cnt = np.bincount(code, minlength=k)
        total = wsum.sum()
        for i in range(k):
            lv = low + i
            text = labels.get(lv)
            rows.append(
                {
                    "wave": wave,
                    "item": v.name,
                    "level": lv,
                    "label_id": text.id if text else str(lv),
                    "label_en": text.en if text else str(lv),
                    "pct": 100 * wsum[i] / total if total > 0 else np.nan,
                    "n": int(cnt[i]),
                    "n_item": int(ok.sum()),
                }
            )
    return pd.DataFrame(rows, columns=LIKERT_COLUMNS)


def representativeness(
    df: pd.DataFrame, w: np.ndarray, cfg: SurveyConfig, wave: str, breakdowns=()
) -> pd.DataFrame:
    """Sample, weighted and population share of every level of every margin variable
    (population shares only when the config gives margins; else the plan's breakdowns)."""
    margins = cfg.design.weights.margins
    variables = list(margins) or [c for c in breakdowns if c in df]
    rows = []
    for var in variables:
        if var not in df:
            continue
        s = df[var].astype(object)
        ok = s.notna().to_numpy()
        pop = margins.get(var, {})
        pop_total = sum(pop.values())
        levels = list(pop) or sorted(pd.unique(s[ok]), key=str)
        # one pass over the rows, whatever the number of levels (thousands of sites)
        n_by = s[ok].value_counts().to_dict()
        w_by = pd.Series(w[ok]).groupby(s[ok].to_numpy()).sum().to_dict()
        n_ok, w_ok = int(ok.sum()), float(w[ok].sum())
        for lv in levels:
            n_lv = int(n_by.get(lv, 0))
            rows.append(
                {
                    "wave": wave,
                    "variable": var,
                    "level": str(lv),
                    "n": n_lv,
                    "sample_share": n_lv / n_ok if n_ok else np.nan,
                    "weighted_share": w_by.get(lv, 0.0) / w_ok if n_ok else np.nan,
                    "population_share": pop[lv] / pop_total if pop else np.nan,
                }
            )
    out = pd.DataFrame(rows, columns=REPRESENTATIVENESS_COLUMNS[:-1])
    out["difference"] = out["sample_share"] - out["population_share"]
    return out


# --------------------------------------------------------------------------- descriptives
def _rows(res: pd.DataFrame, analysis: str, outcome: str, term: str, method, group_var=None):
    """Estimate rows from an estimator's tidy frame (``method`` a text or a df -> text)."""
    return [
        estimate_row(
            analysis,
            outcome,
            term,
            r.estimate,
            r.se,
            r.ci_low,
            r.ci_high,
            r.df,
            r.n,
            method(r.df, _se_name(r.method)) if callable(method) else method,
            group_var=group_var,
            group=None if group_var is None else r.group,
        )
        for r in res.itertuples(index=False)
    ]


def _se_name(method: str) -> str:
    """``Taylor``, or the replicate method an estimator's row names (e.g. ``replicate-JK1``)."""
    m = str(method)
    return m.removesuffix("-logit") if m.startswith("replicate") else "Taylor"


def _mean_method(df, se: str = "Taylor") -> str:
    return f"design-based mean ({se} SE; t interval on {df} df)"


def _prop_method(df, se: str = "Taylor") -> str:
    return f"design-based proportion ({se} SE; logit interval on {df} df)"


def _stats_of(plan: Plan, d: pd.DataFrame) -> tuple[list[str], list[str]]:
    """The columns described by a mean and those by a proportion (took part included)."""
    cols = [o for o in plan.outcomes if o.kind != "likert" and o.column in d]
    means = [o.column for o in cols if o.family == "gaussian" and d[o.column].notna().any()]
    props = [o.column for o in cols if o.family == "binomial" and d[o.column].notna().any()]
    took = plan.exposure.took_part
    if took and took in d and d[took].notna().any():
        props = [took, *props]
    return means, props


def descriptives(design: SurveyDesign, plan: Plan) -> pd.DataFrame:
    """Design-based means (scales, money on the log scale, counts) and proportions (yes/no
    outcomes, taking part), overall, by programme (non-participants as ``none``) and, for a
    survey without a comparison group, by each breakdown of the plan (gender, age band, ...:
    domain estimates of the full design; with one, the inclusion lens covers the groups)."""
    d = design.data
    means, props = _stats_of(plan, d)
    took = plan.exposure.took_part
    by_prog = "programme_group" in d
    rows = []
    for c in means:
        rows += _rows(svymean(design, c), "descriptive", c, "mean", _mean_method)
        if by_prog:
            res = svyby(design, c, "programme_group", "mean")
            rows += _rows(res, "descriptive", c, "mean", _mean_method, "programme")
    for c in props:
        rows += _rows(svyprop(design, c, level=1), "descriptive", c, "proportion", _prop_method)
        if by_prog and c != took:
            res = svyby(design, c, "programme_group", "prop", level=1)
            rows += _rows(res, "descriptive", c, "proportion", _prop_method, "programme")
    if plan.exposure.programme_kind == "multi":
        rows += _option_descriptives(design, plan, means, props)
    for b in plan.breakdowns if plan.runs("breakdown") else []:
        for c in means:
            rows += _rows(svyby(design, c, b, "mean"), "descriptive", c, "mean", _mean_method, b)
        for c in props:
            res = svyby(design, c, b, "prop", level=1)
            rows += _rows(res, "descriptive", c, "proportion", _prop_method, b)
    return pd.DataFrame(rows)


def _option_descriptives(design, plan: Plan, means, props) -> list[dict]:
    """By programme for a multi-select question: each option's participants (overlapping
    groups, one domain estimate each), plus non-participants as ``none``."""
    d = design.data
    t = models.as_float(d[plan.exposure.took_part])
    rows = []
    groups = {"none": t == 0}
    for code, col in plan.exposure.options.items():
        groups[code] = (t == 1) & (models.as_float(d[col]) == 1)
    for code, mask in groups.items():
        if not mask.any():
            continue
        sub = design.subset(mask)
        for c in means:
            res = svymean(sub, c).assign(group=code)
            rows += _rows(res, "descriptive", c, "mean", _mean_method, "programme")
        for c in props:
            if c != plan.exposure.took_part:
                res = svyprop(sub, c, level=1).assign(group=code)
                rows += _rows(res, "descriptive", c, "proportion", _prop_method, "programme")
    return rows


def site_descriptives(d: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """Per-library means and proportions for the site reports.

    A site is a sampling cluster, so it has no between-cluster variance of its own: its SE treats
    the site's respondents as the units (weighted, Taylor), as its `method` says."""
    site = plan.cluster
    if not site or site not in d:
        return pd.DataFrame()
    within = SurveyDesign(d, weights="weight")
    means, props = _stats_of(plan, d)
    rows = []
    for c, stat in [*((c, "mean") for c in means), *((c, "prop") for c in props)]:
        kw = {"level": 1} if stat == "prop" else {}
        term = "mean" if stat == "mean" else "proportion"
        method = (
            f"weighted {term} within the library (respondents as units, "
            "Taylor SE; the library is a sampling cluster)"
        )
        rows += _rows(svyby(within, c, site, stat, **kw), "site", c, term, method, "site")
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- preparing
def prepare(df: pd.DataFrame, cfg: SurveyConfig, cb: Codebook) -> pd.DataFrame:
    """A cleaned wave ready for estimation: scale scores, derived outcomes and a `weight` column
    (raked as the config says) — the starting point for a researcher's own model."""
    plan = build_plan(cb, cfg, _columns({"_": df}))
    d, _ = _prepare_wave(df, cfg, cb, plan)
    d["weight"], _ = make_weights(d, cfg)
    return d


def design_for(d: pd.DataFrame, cfg: SurveyConfig) -> SurveyDesign:
    """The survey design of a prepared wave (``weight`` column from :func:`make_weights`): the
    config's strata, sampling units per stage and fpc (those the data has); raked weights carry
    their raking (``design.weights.variance: calibrated``, the default), so SEs are those of R's
    raked design. The one the pipeline's estimates use, for a researcher's own models too."""
    strata, stages, fpc = cfg.design.strata, cfg.design.stage_ids, cfg.design.fpc
    if not stages or stages[0] not in d:
        stages = []
        fpc = None if isinstance(fpc, list) else fpc
    design = SurveyDesign(
        d,
        weights="weight",
        strata=strata if strata in d else None,
        cluster=stages or None,
        fpc=fpc,
        lonely_psu="adjust",
    )
    spec = cfg.design.weights
    margins = _spread_margins(d, [m for m in spec.margins if m in d], stages[:1])
    if spec.method == "rake" and spec.variance == "calibrated" and margins:
        design = calibrate.declare_raked(design, margins)
    return _replicated(design, d, cfg, margins)


def _replicated(
    design: SurveyDesign, d: pd.DataFrame, cfg: SurveyConfig, spread: list[str]
) -> SurveyDesign:
    """The design with the config's replicate weights (``design.replicate``): the export's
    columns with the main ``weight``, or replicates created from the strata and clusters;
    raked weights rake every replicate too (:func:`_raked_replicates`)."""
    rep = cfg.design.replicate
    if rep is None:
        return design
    if rep.create is not None:
        n = rep.replicates or 50
        out = as_replicate(design, rep.create, replicates=n, seed=0, mse=rep.mse)
    else:
        site = cfg.design.site if cfg.design.site in d else None
        opts = rep.design_options(rep.match(d.columns))
        out = ReplicateDesign(d, weights="weight", units=site, **opts)
    if cfg.design.weights.method != "rake":
        return out
    base = _base_weights(d, cfg.design.weights)[0]
    base_rep = out.replicate_weights
    if rep.create is not None:  # created as multipliers x the final weight: x the base instead
        base_rep = base_rep * (base / out.row_weights)[:, None]
    return _raked_replicates(out, base_rep, base, d, cfg, spread)


def _raked_replicates(
    out: ReplicateDesign,
    base_rep: np.ndarray,
    base: np.ndarray,
    d: pd.DataFrame,
    cfg: SurveyConfig,
    spread: list[str],
) -> ReplicateDesign:
    """Every replicate weighted as :func:`make_weights` weights the full sample, from its base
    replicate weights: raked to the margins, trimmed, rows missing a margin variable scaled
    alike; zero weights stay zero. Margins are those the Taylor variance uses (spread over the
    libraries) on which every replicate has each level; without any (or with ``variance:
    fixed``) each replicate keeps the full sample's weighting factors."""
    from pipelines.stats import weights as wts

    spec = cfg.design.weights
    w = out.row_weights
    fixed = base_rep * (w / base)[:, None]  # the final weights' factors, as fixed
    margins, complete, _ = _rake_margins(d, spec)
    sub = d.loc[complete, list(margins)].astype({v: str for v in margins})
    rep_c = base_rep[complete]
    used = [m for m in margins if m in spread and _every_level_weighted(sub[m], rep_c)]
    if spec.variance == "fixed" or not used:
        return out.reweighted(w, fixed)
    raked = wts.rake_columns(sub, {m: margins[m] for m in used}, rep_c, max_iter=500, tol=1e-6)
    if spec.trim_ratio:
        for r in range(raked.shape[1]):
            pos = raked[:, r] > 0
            raked[pos, r] = wts.trim(raked[pos, r], upper_ratio=spec.trim_ratio).to_numpy()
    fixed[complete] = raked
    return out.reweighted(w, fixed, "raked", used)


def _every_level_weighted(levels: pd.Series, rep: np.ndarray) -> bool:
    """True when every replicate (column of ``rep``) has weight in every level of ``levels``."""
    from pipelines.stats.weights import level_totals

    codes, uniques = pd.factorize(levels)
    ok = codes >= 0
    return bool((level_totals(codes[ok], rep[ok], len(uniques)) > 0).all())


def _spread_margins(d: pd.DataFrame, margins: list[str], psu: list[str]) -> list[str]:
    """The raking margins the variance may use: those whose levels spread over the libraries.

    A margin whose levels sit mostly inside one library each (a kelurahan served by its own
    library: more than half a level's weight in a single first-stage unit) is left out of the
    calibration residuals (the weights are still raked on it): with libraries as ultimate
    clusters, projecting out such a margin would remove the between-library variation that
    stands for all the sampling variance, and the SEs would collapse towards zero."""
    if not psu:
        return margins
    keep = []
    for m in margins:
        t = d.groupby([m, psu[0]], observed=True)["weight"].sum()
        top = t.groupby(level=0).max() / t.groupby(level=0).sum()
        if len(top) and float(top.median()) <= 0.5:
            keep.append(m)
    return keep


def _columns(waves: dict[str, pd.DataFrame]) -> set[str]:
    """Columns with at least one answer in some wave (an empty column is a question not asked)."""
    return {c for d in waves.values() for c in d.columns if d[c].notna().any()}


def _prepare_wave(
    df: pd.DataFrame, cfg: SurveyConfig, cb: Codebook, plan: Plan
) -> tuple[pd.DataFrame, int]:
    """Rows usable in the design (stratum and cluster known), with scale scores, derived
    outcomes and exposure columns; yes/no and Likert columns as float, categorical answers
    ordered as the codebook lists their levels (the first is the reference level)."""
    need = [c for c in (plan.strata, plan.cluster, *cfg.design.stage_ids[1:]) if c]
    ok = df[need].notna().all(axis=1) if need else pd.Series(True, index=df.index)
    d = score_scales(df.loc[ok], plan).reset_index(drop=True)
    for c in d.columns:
        if str(d[c].dtype) in ("Int64", "Int32", "Int8", "boolean"):
            d[c] = d[c].astype("float64")
    for v in cb.by_type("categorical"):
        if v.levels and v.name in d and v.name not in (plan.cluster, plan.strata):
            d[v.name] = pd.Categorical(d[v.name].astype(object), categories=list(v.levels))
    for o in plan.outcomes:
        if o.source and o.levels and o.source in d:
            src = d[o.source].astype(object)
            d[o.column] = np.where(src.isna(), np.nan, src.isin(o.levels).astype(float))
        elif o.kind == "money" and o.column not in d and o.source in d:
            x = models.as_float(d[o.source])
            d[o.column] = np.log(np.where(x > 0, x, np.nan))
    ex = plan.exposure
    if ex.took_part_derived and all(c in d for c in ex.options.values()):
        ticks = np.column_stack([models.as_float(d[c]) for c in ex.options.values()])
        answered = np.isfinite(ticks).any(axis=1)
        d[ex.took_part] = np.where(answered, (np.nan_to_num(ticks) == 1).any(axis=1), np.nan)
    if ex.programme_kind == "single" and ex.took_part:
        took = d[ex.took_part]
        prog = d[ex.programme].astype(object)
        group = np.where(took == 0, "none", prog).astype(object)
        group[(took.isna() | (took.eq(1) & prog.isna())).to_numpy()] = None
        d["programme_group"] = group
    return d, int((~ok).sum())


def reader_effects(part: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """Participation effects on the scale a reader uses (analysis ``effect``): points on a
    scale's own range, percentage points for yes/no (the average marginal effect), percent
    difference for money (100 x (exp(b) - 1), interval transformed the same way), and the odds
    ratio of a higher answer for a single Likert item."""
    if part.empty:
        return part
    rows = []
    for o in plan.outcomes:
        src = {"pp": "participation_ame", "or": "ordinal"}.get(o.unit, "participation")
        hit = part[(part["analysis"] == src) & (part["outcome"] == o.column)]
        if hit.empty:
            continue
        r = hit.iloc[0].to_dict() | {"analysis": "effect", "outcome": o.name}
        if o.unit == "pp":
            for c in ("estimate", "se", "ci_low", "ci_high"):
                r[c] = 100 * r[c]
            r["method"] = "percentage points: " + r["method"]
        elif o.unit == "or":
            r |= {
                "estimate": np.exp(r["estimate"]),
                "se": np.exp(r["estimate"]) * r["se"],
                "ci_low": np.exp(r["ci_low"]),
                "ci_high": np.exp(r["ci_high"]),
                "method": "odds ratio of a higher answer, exp(b), interval transformed: "
                + r["method"],
                "mde": float(np.exp(inclusion.mde(r["se"], r["df"]))),
            }
        elif o.unit == "percent":
            b, se = r["estimate"], r["se"]
            r |= {
                "mde": float(100 * np.expm1(inclusion.mde(se, r["df"]))),
                "estimate": 100 * np.expm1(b),
                "se": 100 * np.exp(b) * se,
                "ci_low": 100 * np.expm1(r["ci_low"]),
                "ci_high": 100 * np.expm1(r["ci_high"]),
                "method": "percent difference 100 x (exp(b) - 1) of a model of log "
                f"{o.source}, interval transformed: " + r["method"],
            }
        else:
            lo, hi = o.range or (None, None)
            where = f" on the {lo:g}-{hi:g} scale" if o.range else ""
            r["method"] = f"difference in points{where}: " + r["method"]
        rows.append(r)
    return pd.DataFrame(rows)


def _endogenous(cb: Codebook, plan: Plan) -> dict[str, set[str]]:
    """Breakdowns made from an outcome's own answer (an income band is no breakdown of income)."""
    out: dict[str, set[str]] = {}
    for name, der in cb.roles.derived.items():
        for o in plan.outcomes:
            if der.from_ in (o.name, o.source, o.column):
                out.setdefault(name, set()).add(o.column)
    return out


def _with_wave(t: pd.DataFrame, wave: str) -> pd.DataFrame:
    if t is None or t.empty:
        return pd.DataFrame()
    t = t.copy()
    t["wave"] = wave
    return t


# --------------------------------------------------------------------------- orchestration
def _wave_estimates(design, d, plan: Plan, cfg, cb, max_model_rows, seed, family) -> list:
    """Every planned per-wave analysis that runs, as estimate frames (and the balance table)."""
    ex, covs = plan.exposure, plan.covariates
    fams = plan.families(plan.outcomes)
    took = ex.took_part
    cols = lambda an: [o.column for o in plan.outcomes_for(an)]  # noqa: E731
    parts = [descriptives(design, plan), site_descriptives(d, plan)]
    if took is None:
        return parts, pd.DataFrame()
    part = models.participation_effects(design, cols("participation"), covs, took, fams)
    parts += [part, reader_effects(part, plan)]
    if cols("ordinal"):
        ordinal = models.ordinal_effects(
            design, cols("ordinal"), covs, took, max_rows=max_model_rows, seed=seed
        )
        parts += [ordinal, reader_effects(ordinal, plan)]
    if cols("mixed"):
        parts.append(
            models.mixed_effects(
                design, cols("mixed"), covs, plan.cluster, took, max_rows=max_model_rows, seed=seed
            )
        )
    if cols("dose_response"):
        parts.append(
            models.dose_response(
                design,
                cols("dose_response"),
                covs,
                ex.dose,
                took,
                min_sessions=cfg.analysis.min_sessions_dose,
                families=fams,
            )
        )
    if cols("programme") and ex.programme_kind == "single":
        parts.append(
            models.programme_effects(design, cols("programme"), covs, ex.programme, took, fams)
        )
    elif cols("programme"):
        parts.append(models.option_effects(design, cols("programme"), covs, ex.options, took, fams))
    balance = pd.DataFrame()
    if cols("ipw"):
        ipw_rows, balance, _ = change.ipw(design, cols("ipw"), covs, took, families=fams)
        parts.append(ipw_rows)
    if cols("inclusion"):
        groups = [*plan.breakdowns, *([plan.cluster] if plan.cluster else [])]
        parts.append(
            inclusion.subgroup_effects(
                design,
                cols("inclusion"),
                covs,
                groups,
                took,
                family=family,
                families=fams,
                endogenous=_endogenous(cb, plan),
                min_group_size=cfg.analysis.min_group_size,
                min_events_per_variable=cfg.analysis.min_events_per_variable,
            )
        )
    return parts, balance


def analyse(
    waves: dict[str, pd.DataFrame],
    panel: pd.DataFrame | None,
    cfg: SurveyConfig,
    cb: Codebook,
    max_model_rows: int = 20_000,
    seed: int = 0,
    inclusion_family: str = "outcome_breakdown",
) -> dict[str, pd.DataFrame]:
    """Every result table of a survey, following the plan built from codebook roles + config.

    Returns ``estimates`` (columns :data:`ESTIMATE_COLUMNS`), ``reliability``, ``weights``,
    ``likert``, ``representativeness``, ``balance``, ``attrition``, ``plan`` (every planned
    analysis, run or skipped with its reason), ``outcomes`` (kind, range, labels) and
    ``roles`` (which column is the exposure, a covariate, a breakdown, ...).
    """
    plan = build_plan(cb, cfg, _columns(waves))
    est, rel, wtab, lik, rep, bal = [], [], [], [], [], []
    designs: dict[str, SurveyDesign] = {}  # each wave's final design: the panel's baseline
    for wave, raw in waves.items():
        d, dropped = _prepare_wave(raw, cfg, cb, plan)
        w, info = make_weights(d, cfg)
        d["weight"] = w
        design = designs[wave] = design_for(d, cfg)
        from pipelines.stats.weights import weight_summary

        wtab.append(
            {
                "wave": wave,
                **info,
                **weight_summary(w),
                "trim_ratio": cfg.design.weights.trim_ratio,
                "n_dropped_no_design": dropped,
                "design_df": design.df,
                "replicates_raked_on": ",".join(getattr(design, "calibrated_on", ())),
            }
        )
        if plan.scales:
            r = scales_reliability(raw, plan)
            rel.append(_with_wave(r, wave))
        lik.append(likert_distribution(d, w, cb, wave))
        rep.append(representativeness(d, w, cfg, wave, plan.breakdowns))
        parts, balance = _wave_estimates(
            design, d, plan, cfg, cb, max_model_rows, seed, inclusion_family
        )
        bal.append(_with_wave(balance, wave))
        est += [_with_wave(part, wave) for part in parts]

    ids = list(waves)
    by = [c for c in [plan.exposure.took_part, *plan.breakdowns] if c]
    attrition = change.attrition_table(waves, by=by) if len(ids) > 1 else pd.DataFrame()
    change_cols = [o.column for o in plan.outcomes_for("paired_change")]
    did_cols = [o.column for o in plan.outcomes_for("did")]
    if panel is not None and len(panel) and len(ids) > 1 and change_cols:
        pan = _prepare_panel(panel, cfg, cb, plan)
        fams = plan.families(plan.outcomes)
        for pre, post in zip(ids, ids[1:], strict=False):
            label = f"{pre}-{post}"
            # domain estimates of the baseline wave's design (its raking, raked replicates)
            base = designs[pre]
            est.append(
                _with_wave(
                    change.paired_change(
                        pan, change_cols, pre, post, plan.exposure.took_part, design=base
                    ),
                    label,
                )
            )
            if did_cols:
                est.append(
                    _with_wave(
                        change.did(
                            pan,
                            did_cols,
                            plan.covariates,
                            pre,
                            post,
                            plan.exposure.took_part,
                            families=fams,
                            design=base,
                        ),
                        label,
                    )
                )

    estimates = _finish(est, cfg.report.suppression_threshold)
    return {
        "estimates": estimates,
        "reliability": _concat(rel, RELIABILITY_COLUMNS),
        "weights": pd.DataFrame(wtab),
        "likert": _concat(lik, LIKERT_COLUMNS),
        "representativeness": _concat(rep, REPRESENTATIVENESS_COLUMNS),
        "balance": _concat(bal)[["wave", *[c for c in change.BALANCE_COLUMNS if c != "wave"]]]
        if any(len(b) for b in bal)
        else pd.DataFrame(columns=change.BALANCE_COLUMNS),
        "attrition": attrition,
        "plan": plan.table(),
        "outcomes": plan.outcome_table(),
        "roles": plan.roles_table(),
    }


def scales_reliability(raw: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """Alpha, omega and item statistics of each scale, on the scale's own answer range."""
    parts = []
    for name, spec in plan.scales.items():
        low, high = spec["range"]
        items = raw[spec["items"]].astype("float64")
        parts.append(scales.reliability_table(items, {name: spec}, low=low, high=high))
    return _concat(parts)


def _prepare_panel(panel, cfg, cb, plan: Plan) -> pd.DataFrame:
    """The long panel with scale scores and derived columns (weights and design come from
    the baseline wave's design, :func:`change.paired_change` ``design=``)."""
    waves = panel.groupby(panel["wave"].astype(str), sort=True)
    return pd.concat([_prepare_wave(g, cfg, cb, plan)[0] for _, g in waves], ignore_index=True)


def _concat(frames: list[pd.DataFrame], columns: list[str] | None = None) -> pd.DataFrame:
    """The frames one under the other; empty (with ``columns``) when none has a row."""
    frames = [f for f in frames if f is not None and len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def _finish(parts: list[pd.DataFrame], threshold: int) -> pd.DataFrame:
    out = _concat(parts)
    if out.empty:
        return pd.DataFrame(columns=ESTIMATE_COLUMNS)
    for c in ESTIMATE_COLUMNS:
        if c not in out:
            out[c] = np.nan if c in ("p", "p_adj") else None
    out["flag"] = out["flag"].fillna("").astype(str)
    out["note"] = out["note"].fillna("").astype(str)
    # BH within each model family (analysis x wave) where the caller left p_adj empty
    fam = out["p"].notna() & out["p_adj"].isna() & ~out["analysis"].isin(["inclusion"])
    if "family" not in out:
        out["family"] = None
    for (analysis, wave), idx in out[fam].groupby(["analysis", "wave"]).groups.items():
        out.loc[idx, "p_adj"] = inclusion.bh_adjust(out.loc[idx, "p"].to_numpy())
        out.loc[idx, "family"] = f"{analysis} ({wave})"
    # minimum detectable effect (80% power, two-sided 5%) of every unclear row, its own scale
    if "mde" not in out:
        out["mde"] = np.nan
    # (percent and odds-ratio rows carry theirs, transformed from the log scale)
    unclear = out["p"].notna() & ~(out["p_adj"].fillna(out["p"]) < 0.05)
    out["mde"] = pd.to_numeric(out["mde"], errors="coerce").where(unclear)
    todo = unclear & out["mde"].isna()
    out.loc[todo, "mde"] = inclusion.mde(out.loc[todo, "se"], out.loc[todo, "df"])
    small = out["n"] < threshold
    out.loc[small, "flag"] = np.where(
        out.loc[small, "flag"] == "", FLAG_SMALL, out.loc[small, "flag"] + "; " + FLAG_SMALL
    )
    for c in ("group_var", "group", "outcome", "term", "wave", "method", "analysis"):
        out[c] = out[c].astype(object).where(out[c].notna(), None)
        out[c] = out[c].map(lambda v: None if v is None else str(v))
    out["n"] = out["n"].astype("int64")
    out["df"] = out["df"].astype("float64")
    extra = [c for c in out.columns if c not in ESTIMATE_COLUMNS]
    return out[ESTIMATE_COLUMNS + extra].reset_index(drop=True)
