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

from collections.abc import Sequence

import numpy as np
import pandas as pd

from pipelines import change, inclusion, models, scales
from pipelines.codebook import Codebook
from pipelines.config import SurveyConfig
from pipelines.design import SurveyDesign, svyby, svymean, svyprop

__all__ = ["ESTIMATE_COLUMNS", "analyse", "likert_distribution", "make_weights", "score_scales"]

ESTIMATE_COLUMNS = [
    "analysis",
    "outcome",
    "wave",
    "group_var",
    "group",
    "term",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "df",
    "p",
    "p_adj",
    "n",
    "method",
    "flag",
    "note",
]
BINARY = ("business", "got_job", "income_rose")
FLAG_SMALL = "small n"


# --------------------------------------------------------------------------- weights
def make_weights(df: pd.DataFrame, cfg: SurveyConfig) -> tuple[np.ndarray, dict]:
    """Final analysis weights for one wave and a summary row (method, n not raked, note).

    ``rake``: rows complete on every margin variable are raked to the margins (levels of
    a margin absent from the sample are dropped from it, with a note; the remaining totals
    are rescaled to the full population) and trimmed at ``trim_ratio`` x the median; rows
    missing a margin variable get the mean weight.  ``column``: the named column.
    ``none``: 1 for everyone.
    """
    from pipelines import weights as wts

    spec = cfg.design.weights
    n = len(df)
    info: dict = {"method": spec.method, "n_not_raked": 0, "note": ""}
    if spec.method == "none":
        return np.ones(n), info | {"note": "unweighted (design.weights.method: none)"}
    if spec.method == "column":
        w = models.as_float(df[spec.column])
        bad = ~np.isfinite(w) | (w <= 0)
        if bad.any():
            w = np.where(bad, np.nanmean(np.where(bad, np.nan, w)), w)
            info["note"] = f"{int(bad.sum())} missing/non-positive weights set to the mean"
        return w, info
    margins = {k: dict(v) for k, v in spec.margins.items() if k in df}
    complete = np.ones(n, dtype=bool)
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
    w_sub = wts.rake(sub.astype({v: str for v in margins}), margins, max_iter=500, tol=1e-6)
    w_sub = w_sub.to_numpy(dtype=np.float64)
    if spec.trim_ratio:
        w_sub = wts.trim(w_sub, upper_ratio=spec.trim_ratio).to_numpy(dtype=np.float64)
    w = np.full(n, w_sub.mean())
    w[complete] = w_sub
    info["n_not_raked"] = int((~complete).sum())
    if info["n_not_raked"]:
        notes.append(f"{info['n_not_raked']} rows missing a margin variable get the mean weight")
    info["note"] = "; ".join(notes)
    return w, info


# --------------------------------------------------------------------------- scales
def scale_specs(cb: Codebook) -> dict[str, dict]:
    return {
        name: {"items": list(s.items), "reverse": list(s.reverse), "min_answered": s.min_answered}
        for name, s in cb.scales.items()
    }


def score_scales(df: pd.DataFrame, cb: Codebook) -> pd.DataFrame:
    """``df`` with one column per codebook scale (mean of answered items after reverse
    coding, missing below the scale's minimum answered)."""
    out = df.copy()
    for name, spec in scale_specs(cb).items():
        if all(i in df for i in spec["items"]):
            items = df[spec["items"]].astype("float64")
            out[name] = scales.score(items, spec["reverse"], spec["min_answered"]).to_numpy()
    return out


def likert_distribution(df: pd.DataFrame, w: np.ndarray, cb: Codebook, wave: str) -> pd.DataFrame:
    """Weighted percentage of each answer level of each Likert item (for diverging bars):
    ``wave, item, level, label_id, label_en, pct, n, n_item``."""
    rows = []
    for v in cb.by_type("likert"):
        if v.name not in df:
            continue
        ls = cb.label_set(v)
        x = models.as_float(df[v.name])
        ok = np.isfinite(x) & (x >= 1) & (x <= ls.points)
        code = x[ok].astype(int)
        wsum = np.bincount(code, weights=w[ok], minlength=ls.points + 1)
        cnt = np.bincount(code, minlength=ls.points + 1)
        total = wsum.sum()
        for lv in range(1, ls.points + 1):
            rows.append(
                {
                    "wave": wave,
                    "item": v.name,
                    "level": lv,
                    "label_id": ls.labels[lv].id,
                    "label_en": ls.labels[lv].en,
                    "pct": 100 * wsum[lv] / total if total > 0 else np.nan,
                    "n": int(cnt[lv]),
                    "n_item": int(ok.sum()),
                }
            )
    return pd.DataFrame(rows)


def representativeness(
    df: pd.DataFrame, w: np.ndarray, cfg: SurveyConfig, wave: str
) -> pd.DataFrame:
    """Sample, weighted and population share of every level of every margin variable
    (population shares only when the config gives margins)."""
    margins = cfg.design.weights.margins
    variables = list(margins) or [c for c in ("kelurahan", "gender", "age_band") if c in df]
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
    out = pd.DataFrame(rows)
    if not out.empty:
        out["difference"] = out["sample_share"] - out["population_share"]
    return out


# --------------------------------------------------------------------------- descriptives
def descriptives(design: SurveyDesign, scales_: Sequence[str]) -> pd.DataFrame:
    """Design-based means of scale scores and log income, proportions of yes/no outcomes
    and of participation, overall and by programme (non-participants as ``none``)."""
    df = design.data
    rows = []

    def add(res: pd.DataFrame, outcome: str, term: str, group_var=None):
        for r in res.itertuples(index=False):
            rows.append(
                {
                    "analysis": "descriptive",
                    "outcome": outcome,
                    "group_var": group_var,
                    "group": None if group_var is None else str(r.group),
                    "term": term,
                    "estimate": r.estimate,
                    "se": r.se,
                    "ci_low": r.ci_low,
                    "ci_high": r.ci_high,
                    "df": r.df,
                    "p": np.nan,
                    "n": r.n,
                    "method": (
                        f"design-based {'mean' if term == 'mean' else 'proportion'} "
                        f"(Taylor SE; {'logit' if term != 'mean' else 't'} interval on "
                        f"{r.df} df)"
                    ),
                    "note": "",
                }
            )

    means = [c for c in [*scales_, "log_income"] if c in df and df[c].notna().any()]
    props = [c for c in ["participated", *BINARY] if c in df and df[c].notna().any()]
    for c in means:
        add(svymean(design, c), c, "mean")
        if "programme_group" in df:
            add(svyby(design, c, "programme_group", "mean"), c, "mean", "programme")
    for c in props:
        add(svyprop(design, c, level=1), c, "proportion")
        if "programme_group" in df and c != "participated":
            add(svyby(design, c, "programme_group", "prop", level=1), c, "proportion", "programme")
    return pd.DataFrame(rows)


def site_descriptives(d: pd.DataFrame, scales_: Sequence[str], site: str | None) -> pd.DataFrame:
    """Per-library means and proportions for the site reports.

    A site is a sampling cluster, so it has no between-cluster variance of its own: its SE treats
    the site's respondents as the units (weighted, Taylor), as its `method` says."""
    if not site or site not in d:
        return pd.DataFrame()
    within = SurveyDesign(d, weights="weight")
    rows = []
    means = [c for c in [*scales_, "log_income"] if c in d and d[c].notna().any()]
    props = [c for c in ["participated", *BINARY] if c in d and d[c].notna().any()]
    for c, stat in [*((c, "mean") for c in means), *((c, "prop") for c in props)]:
        kw = {"level": 1} if stat == "prop" else {}
        res = svyby(within, c, site, stat, **kw)
        term = "mean" if stat == "mean" else "proportion"
        for r in res.itertuples(index=False):
            rows.append(
                {
                    "analysis": "site",
                    "outcome": c,
                    "group_var": "site",
                    "group": str(r.group),
                    "term": term,
                    "estimate": r.estimate,
                    "se": r.se,
                    "ci_low": r.ci_low,
                    "ci_high": r.ci_high,
                    "df": r.df,
                    "p": np.nan,
                    "n": r.n,
                    "method": f"weighted {term} within the library (respondents as units, "
                    "Taylor SE; the library is a sampling cluster)",
                    "note": "",
                }
            )
    return pd.DataFrame(rows)


def prepare(df: pd.DataFrame, cfg: SurveyConfig, cb: Codebook) -> pd.DataFrame:
    """A cleaned wave ready for estimation: scale scores, derived outcomes and a `weight` column
    (raked as the config says) — the starting point for a researcher's own model."""
    d, _ = _prepare_wave(df, cfg, cb)
    d["weight"], _ = make_weights(d, cfg)
    return d


# --------------------------------------------------------------------------- orchestration
def _prepare_wave(df: pd.DataFrame, cfg: SurveyConfig, cb: Codebook) -> tuple[pd.DataFrame, int]:
    """Rows usable in the design (stratum and cluster known), with scores and derived
    columns, Int64 yes/no and Likert columns as float."""
    need = [c for c in (cfg.design.strata, cfg.design.cluster) if c]
    ok = df[need].notna().all(axis=1) if need else pd.Series(True, index=df.index)
    d = score_scales(df.loc[ok], cb).reset_index(drop=True)
    for c in d.columns:
        if str(d[c].dtype) in ("Int64", "Int32", "Int8", "boolean"):
            d[c] = d[c].astype("float64")
    if "income_change" in d:
        d["income_rose"] = np.where(
            d["income_change"].isna(), np.nan, (d["income_change"] == "rose").astype(float)
        )
    if "programme" in d and "participated" in d:
        prog = d["programme"].astype(object)
        d["programme_group"] = np.where(d["participated"] == 0, "none", prog)
        d.loc[
            d["participated"].isna() | (d["participated"].eq(1) & prog.isna()), "programme_group"
        ] = None
    return d, int((~ok).sum())


def _with_wave(t: pd.DataFrame, wave: str) -> pd.DataFrame:
    if t is None or t.empty:
        return pd.DataFrame()
    t = t.copy()
    t["wave"] = wave
    return t


def analyse(
    waves: dict[str, pd.DataFrame],
    panel: pd.DataFrame | None,
    cfg: SurveyConfig,
    cb: Codebook,
    max_model_rows: int = 20_000,
    seed: int = 0,
    inclusion_family: str = "grid",
) -> dict[str, pd.DataFrame]:
    """Every result table of a survey (see the module docstring).

    Returns ``estimates`` (columns :data:`ESTIMATE_COLUMNS`), ``reliability``,
    ``weights``, ``likert``, ``representativeness``, ``balance`` and ``attrition``.
    """
    covariates = list(cfg.analysis.covariates)
    scale_names = [s for s in cb.scales]
    linear = [*scale_names, "log_income"]
    headline = [*scale_names, "log_income", "business"]
    single_items = [
        v.name
        for v in cb.by_type("likert")
        if not any(v.name in s.items for s in cb.scales.values())
    ]
    d_strata, d_cluster = cfg.design.strata, cfg.design.cluster
    est, rel, wtab, lik, rep, bal = [], [], [], [], [], []
    prepared: dict[str, pd.DataFrame] = {}
    for wave, raw in waves.items():
        d, dropped = _prepare_wave(raw, cfg, cb)
        w, info = make_weights(d, cfg)
        d["weight"] = w
        prepared[wave] = d
        design = SurveyDesign(
            d,
            weights="weight",
            strata=d_strata,
            cluster=d_cluster,
            fpc=cfg.design.fpc,
            lonely_psu="adjust",
        )
        from pipelines.weights import weight_summary

        ws = weight_summary(w)
        wtab.append(
            {
                "wave": wave,
                **info,
                **ws,
                "trim_ratio": cfg.design.weights.trim_ratio,
                "n_dropped_no_design": dropped,
                "design_df": design.df,
            }
        )
        r = scales.reliability_table(
            raw.astype({c: "float64" for c in _likert_cols(cb, raw)}), scale_specs(cb)
        )
        rel.append(_with_wave(r, wave))
        lik.append(likert_distribution(d, w, cb, wave))
        rep.append(representativeness(d, w, cfg, wave))

        parts = [
            descriptives(design, scale_names),
            site_descriptives(d, scale_names, d_cluster),
            models.participation_effects(design, [*linear, *BINARY], covariates),
            models.ordinal_effects(
                design, single_items, covariates, max_rows=max_model_rows, seed=seed
            ),
            models.mixed_effects(
                design,
                linear,
                covariates,
                group=d_cluster or "site",
                max_rows=max_model_rows,
                seed=seed,
            )
            if (d_cluster or "site") in d
            else pd.DataFrame(),
            models.dose_response(
                design, headline, covariates, min_sessions=cfg.analysis.min_sessions_dose
            ),
            models.programme_effects(design, headline, covariates),
        ]
        ipw_rows, balance, _ = change.ipw(design, headline, covariates)
        parts.append(ipw_rows)
        bal.append(_with_wave(balance, wave))
        parts.append(
            inclusion.subgroup_effects(design, headline, covariates, family=inclusion_family)
        )
        for part in parts:
            est.append(_with_wave(part, wave))

    # across waves
    ids = list(waves)
    attrition = change.attrition_table(waves) if len(ids) > 1 else pd.DataFrame()
    if panel is not None and len(panel) and len(ids) > 1:
        pan = _prepare_panel(panel, prepared, cfg, cb)
        for pre, post in zip(ids, ids[1:], strict=False):
            label = f"{pre}-{post}"
            est.append(
                _with_wave(
                    change.paired_change(
                        pan,
                        [*headline, "got_job"],
                        pre,
                        post,
                        strata=d_strata,
                        cluster=d_cluster,
                        weight="weight",
                    ),
                    label,
                )
            )
            est.append(
                _with_wave(
                    change.did(
                        pan,
                        [*headline, "got_job"],
                        covariates,
                        pre,
                        post,
                        strata=d_strata,
                        cluster=d_cluster,
                        weight="weight",
                    ),
                    label,
                )
            )

    estimates = _finish(est, cfg.report.suppression_threshold)
    return {
        "estimates": estimates,
        "reliability": _concat(rel),
        "weights": pd.DataFrame(wtab),
        "likert": _concat(lik),
        "representativeness": _concat(rep),
        "balance": _concat(bal)[["wave", *[c for c in change.BALANCE_COLUMNS if c != "wave"]]]
        if any(len(b) for b in bal)
        else pd.DataFrame(columns=change.BALANCE_COLUMNS),
        "attrition": attrition,
    }


def _likert_cols(cb: Codebook, df: pd.DataFrame) -> list[str]:
    return [v.name for v in cb.by_type("likert") if v.name in df]


def _prepare_panel(panel, prepared, cfg, cb) -> pd.DataFrame:
    """The long panel with scale scores, derived columns and each wave's analysis weight."""
    parts = []
    for wave, g in panel.groupby(panel["wave"].astype(str), sort=True):
        d, _ = _prepare_wave(g, cfg, cb)
        if wave in prepared:
            wmap = prepared[wave].drop_duplicates("respondent_key", keep="last")
            wmap = wmap.set_index("respondent_key")["weight"]
            d["weight"] = d["respondent_key"].map(wmap).fillna(1.0).to_numpy()
        parts.append(d)
    return pd.concat(parts, ignore_index=True)


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if f is not None and len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


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
    for _, idx in out[fam].groupby(["analysis", "wave"]).groups.items():
        out.loc[idx, "p_adj"] = inclusion.bh_adjust(out.loc[idx, "p"].to_numpy())
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
