"""What the reports say: the city report and one short report per library, built only from the
results tables (never re-estimated), suppressed for small groups, in every configured language.

Statistics arrive as tidy frames; this module picks, words, suppresses and lays them out into a
`render.Document`, which `render` turns into HTML and PDF.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines import charts, render, steps, suppress
from pipelines.codebook import Codebook
from pipelines.config import SurveyConfig
from pipelines.i18n import (
    fmt_ci,
    fmt_date,
    fmt_int,
    fmt_number,
    fmt_p,
    fmt_percent,
    fmt_rupiah,
    fmt_rupiah_band,
    t,
)
from pipelines.paths import Layout
from pipelines.render import Callout, Document, Section, Table

SCALES_SHOWN = ("skills", "confidence", "social")
BREAKDOWNS = ("gender", "age_band", "disability", "income_band")
STATS = ["estimate", "se", "ci_low", "ci_high"]


# --- labels -------------------------------------------------------------------------------------


class Labels:
    """Translate outcome, group and site codes into the report's language."""

    def __init__(self, cfg: SurveyConfig, cb: Codebook, lang: str):
        self.cfg, self.cb, self.lang = cfg, cb, lang

    def outcome(self, name: str) -> str:
        if name in self.cb.scales:
            return self.cb.scales[name].label(self.lang)
        return t(f"outcome.{name}", self.lang)

    def group(self, var: str, code) -> str:
        code = str(code)
        if var == "site":
            return self.site(code)
        if var == "disability":
            return t(
                "group.with_disability" if code in ("1", "1.0") else "group.without_disability",
                self.lang,
            )
        if var == "income_band":
            return fmt_rupiah_band(code, self.lang)
        if var == "programme" and code == "none":
            return t("group.non_participants", self.lang)
        names = [v for v in self.cb.variables if v.name == var and v.levels]
        if names and code in names[0].levels:
            level = names[0].levels[code]
            return level.en if self.lang == "en" else level.id
        return code

    def scale_range(self, *names: str) -> tuple[float, float] | None:
        """The lowest and highest possible score of these scales, so charts show the scale's
        real range; None when none of them is a scale of the codebook."""
        ranges = [self.cb.scale_range(n) for n in names if n in self.cb.scales]
        return (min(r[0] for r in ranges), max(r[1] for r in ranges)) if ranges else None

    def site(self, site_id: str) -> str:
        return next((s.name for s in self.cfg.sites if s.id == site_id), site_id)

    def wave(self, wave_id: str) -> str:
        return next((w.label(self.lang) for w in self.cfg.waves if w.id == wave_id), wave_id)


# --- selecting and suppressing results ---------------------------------------------------------


def pick(est: pd.DataFrame, **where) -> pd.DataFrame:
    """Rows of the estimates table matching every column=value (None matches missing)."""
    mask = pd.Series(True, index=est.index)
    for col, value in where.items():
        mask &= est[col].isna() if value is None else est[col].astype(str).eq(str(value))
    return est[mask]


def publishable(df: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Primary suppression of every estimate built on fewer than `threshold` respondents."""
    cols = [c for c in STATS if c in df]
    return suppress.primary(df, "n", threshold, value_cols=cols)


def _one(df: pd.DataFrame) -> pd.Series | None:
    return None if df.empty else df.iloc[0]


def _sig(row) -> bool:
    p = row.get("p_adj") if pd.notna(row.get("p_adj", np.nan)) else row.get("p")
    return bool(pd.notna(p) and p < 0.05)


# --- the city report ---------------------------------------------------------------------------


def executive_summary(res: dict, cfg: SurveyConfig, lab: Labels, quality: dict) -> Section:
    lang, k = lab.lang, cfg.report.suppression_threshold
    est = res["estimates"]
    last = cfg.waves[-1].id
    n_total = sum(q["rows_out"] for w, q in quality.items() if w != "attrition")
    bullets = [
        t(
            "summary.intro",
            lang,
            n=fmt_int(n_total, lang),
            sites=len(cfg.sites),
            waves=len(cfg.waves),
        )
    ]
    part = _one(
        publishable(
            pick(est, analysis="descriptive", outcome="participated", wave=last, group_var=None), k
        )
    )
    if part is not None and not part["suppressed"]:
        bullets.append(
            t(
                "summary.participation",
                lang,
                pct=fmt_percent(part.estimate, lang),
                wave=lab.wave(last),
                lo=fmt_percent(part.ci_low, lang),
                hi=fmt_percent(part.ci_high, lang),
                n=fmt_int(part.n, lang),
            )
        )
    for outcome in SCALES_SHOWN:
        r = _one(publishable(pick(est, analysis="participation", outcome=outcome, wave=last), k))
        if r is None or r["suppressed"]:
            continue
        key = "summary.scale_up" if _sig(r) and r.estimate > 0 else "summary.scale_none"
        bullets.append(
            t(
                key,
                lang,
                outcome=lab.outcome(outcome).lower(),
                est=fmt_number(r.estimate, lang, 2),
                lo=fmt_number(r.ci_low, lang, 2),
                hi=fmt_number(r.ci_high, lang, 2),
                n=fmt_int(r.n, lang),
            )
        )
    r = _one(publishable(pick(est, analysis="participation", outcome="business", wave=last), k))
    if r is not None and not r["suppressed"]:
        key = "summary.odds_up" if _sig(r) and r.estimate > 0 else "summary.odds_none"
        bullets.append(
            t(
                key,
                lang,
                outcome_lower=lab.outcome("business").lower(),
                est=fmt_number(np.exp(r.estimate), lang, 2),
                lo=fmt_number(np.exp(r.ci_low), lang, 2),
                hi=fmt_number(np.exp(r.ci_high), lang, 2),
                n=fmt_int(r.n, lang),
            )
        )
    r = _one(publishable(pick(est, analysis="did", outcome="skills"), k))
    if r is not None and not r["suppressed"] and _sig(r):
        bullets.append(
            t(
                "summary.did",
                lang,
                outcome=lab.outcome("skills").lower(),
                est=fmt_number(r.estimate, lang, 2),
                lo=fmt_number(r.ci_low, lang, 2),
                hi=fmt_number(r.ci_high, lang, 2),
                n=fmt_int(r.n, lang),
            )
        )
    gaps = flagged_gaps(est, last, k)
    if gaps.empty:
        bullets.append(t("summary.no_gap", lang))
    for r in gaps.head(2).itertuples():
        bullets.append(_gap_sentence(r, lab))
    blocks = [bullets[0], bullets[1:6], Callout(t("summary.association", lang), "info")]
    return Section(t("section.executive_summary", lang), blocks)


def flagged_gaps(est: pd.DataFrame, wave: str, k: int) -> pd.DataFrame:
    """Groups flagged as gaining significantly less, largest gaps first, small groups left out."""
    gaps = pick(est, analysis="inclusion_gap", wave=wave)
    gaps = gaps[gaps["flag"].fillna("").str.contains("less") & gaps["outcome"].isin(SCALES_SHOWN)]
    gaps = publishable(gaps, k)
    return gaps[~gaps["suppressed"]].sort_values("estimate")


def _gap_sentence(r, lab: Labels) -> str:
    return t(
        "summary.gap",
        lab.lang,
        group=lab.group(r.group_var, r.group),
        outcome=lab.outcome(r.outcome).lower(),
        est=fmt_number(r.estimate, lab.lang, 2),
        lo=fmt_number(r.ci_low, lab.lang, 2),
        hi=fmt_number(r.ci_high, lab.lang, 2),
        p=fmt_p(r.p_adj, lab.lang),
    )


def who_was_surveyed(res: dict, cfg: SurveyConfig, lab: Labels) -> Section:
    lang = lab.lang
    w = res["weights"]
    table = pd.DataFrame(
        {
            t("who.wave", lang): [lab.wave(x) for x in w["wave"]],
            t("who.n", lang): [fmt_int(x, lang) for x in w["n"]],
            t("who.effective_n", lang): [fmt_int(round(x), lang) for x in w["effective_n"]],
            t("who.deff", lang): [fmt_number(x, lang, 2) for x in w["kish_deff"]],
        }
    )
    last = cfg.waves[-1].id
    rep = res["representativeness"]
    rep = rep[(rep["wave"] == last) & rep["variable"].isin(["gender", "age_band"])]
    match = pd.DataFrame(
        {
            t("who.variable", lang): [t(f"group.{v}", lang) for v in rep["variable"]],
            t("who.level", lang): [
                lab.group(v, lv) for v, lv in zip(rep["variable"], rep["level"], strict=True)
            ],
            t("who.sample_share", lang): [fmt_percent(x, lang) for x in rep["sample_share"]],
            t("who.weighted_share", lang): [fmt_percent(x, lang) for x in rep["weighted_share"]],
            t("who.population_share", lang): [
                fmt_percent(x, lang) for x in rep["population_share"]
            ],
        }
    )
    return Section(
        t("section.who_surveyed", lang),
        [
            t("who.intro", lang),
            Table(table, t("who.table_caption", lang)),
            t("who.match_intro", lang),
            Table(match, t("who.match_caption", lang, wave=lab.wave(last))),
        ],
    )


def participation(res: dict, cfg: SurveyConfig, lab: Labels) -> Section:
    lang, k = lab.lang, cfg.report.suppression_threshold
    est = res["estimates"]
    rows = publishable(pick(est, analysis="descriptive", outcome="participated", group_var=None), k)
    rows = rows.assign(label=[lab.wave(w) for w in rows["wave"]])
    fig = charts.bars(
        rows,
        "label",
        "estimate",
        "ci_low",
        "ci_high",
        lang,
        t("participation.chart_title", lang),
        percent=True,
        threshold=k,
    )
    last = cfg.waves[-1].id
    by = publishable(
        pick(est, analysis="descriptive", wave=last, group_var="programme", term="mean"), k
    )
    income = by[by["outcome"] == "log_income"].set_index("group")["estimate"]
    by = by[by["outcome"].isin(SCALES_SHOWN)]
    wide = by.pivot(index="group", columns="outcome", values="estimate")
    ns = by.groupby("group")["n"].max()
    table = pd.DataFrame(
        {t("group.programme", lang): [lab.group("programme", g) for g in wide.index]}
    )
    for o in SCALES_SHOWN:
        if o in wide:
            table[lab.outcome(o)] = [_num_or_supp(x, lang, k) for x in wide[o]]
    table[t("outcome.income_typical", lang)] = [
        t("stat.suppressed", lang, k=k)
        if pd.isna(income.get(g))
        else fmt_rupiah(np.exp(income.get(g)), lang)
        for g in wide.index
    ]
    table[t("stat.n", lang)] = [fmt_int(ns[g], lang) for g in wide.index]
    return Section(
        t("section.participation", lang),
        [
            t("participation.intro", lang),
            fig,
            t("participation.by_programme_intro", lang),
            Table(
                table,
                t("participation.by_programme_caption", lang, wave=lab.wave(last)),
                t("outcome.income_note", lang) + " " + t("stat.suppressed_note", lang, k=k),
            ),
        ],
    )


def _num_or_supp(x, lang, k, decimals=2) -> str:
    return t("stat.suppressed", lang, k=k) if pd.isna(x) else fmt_number(x, lang, decimals)


def outcomes_by_programme(res: dict, cfg: SurveyConfig, lab: Labels) -> Section:
    lang, k = lab.lang, cfg.report.suppression_threshold
    est, last = res["estimates"], cfg.waves[-1].id
    blocks: list = [t("programme.intro", lang)]
    for outcome in SCALES_SHOWN:
        rows = publishable(pick(est, analysis="programme", outcome=outcome, wave=last), k)
        if rows.empty:
            continue
        rows = rows.assign(
            label=[lab.group("programme", term.split("[")[-1].rstrip("]")) for term in rows["term"]]
        )
        blocks.append(
            charts.forest(
                rows,
                "label",
                "estimate",
                "ci_low",
                "ci_high",
                lang,
                t(
                    "programme.chart_title",
                    lang,
                    outcome=lab.outcome(outcome).lower(),
                    wave=lab.wave(last),
                ),
                ref=0,
                xlabel=t("programme.xlabel", lang),
                threshold=k,
            )
        )
    lik = res["likert"]
    lik = lik[(lik["wave"] == last) & lik["item"].str.match(r"^(skill|conf)_")].copy()
    if not lik.empty:
        lik["suppressed"] = lik["n_item"] < k
        lik["item_label"] = [_item_label(lab, i) for i in lik["item"]]
        labels = {
            int(lv): (r.label_en if lang == "en" else r.label_id)
            for lv, r in lik.drop_duplicates("level").set_index("level").iterrows()
        }
        blocks.append(
            charts.likert_diverging(
                lik,
                "item_label",
                "level",
                "pct",
                labels,
                lang,
                t("programme.likert_title", lang, wave=lab.wave(last)),
                threshold=k,
            )
        )
    return Section(t("section.outcomes_by_programme", lang), blocks)


def _item_label(lab: Labels, item: str) -> str:
    v = lab.cb.var(item)
    return v.question(lab.lang)


def change(res: dict, cfg: SurveyConfig, lab: Labels) -> Section:
    lang, k = lab.lang, cfg.report.suppression_threshold
    if len(cfg.waves) < 2:
        return Section(t("section.change_since_last_wave", lang), [t("change.none", lang)])
    est = res["estimates"]
    trend = publishable(pick(est, analysis="descriptive", group_var=None, term="mean"), k)
    trend = trend[trend["outcome"].isin(SCALES_SHOWN)].assign(
        x=lambda d: [lab.wave(w) for w in d["wave"]],
        group=lambda d: [lab.outcome(o) for o in d["outcome"]],
    )
    blocks: list = [
        t("change.intro", lang),
        charts.trend(
            trend,
            "x",
            "estimate",
            "ci_low",
            "ci_high",
            "group",
            lang,
            t("change.chart_title", lang),
            decimals=2,
            threshold=k,
            value_range=lab.scale_range(*SCALES_SHOWN),
        ),
    ]
    did = publishable(pick(est, analysis="did"), k)
    did = did[did["outcome"].isin([*SCALES_SHOWN, "log_income"])]
    if not did.empty:
        table = pd.DataFrame(
            {
                t("site.measure", lang): [lab.outcome(o) for o in did["outcome"]],
                t("stat.difference", lang): [_num_or_supp(x, lang, k) for x in did["estimate"]],
                t("stat.ci95", lang): [
                    fmt_ci(a, b, lang, 2)
                    for a, b in zip(did["ci_low"], did["ci_high"], strict=True)
                ],
                "p": [fmt_p(p, lang) for p in did["p"]],
                t("stat.n", lang): [fmt_int(n, lang) for n in did["n"]],
            }
        )
        blocks += [t("change.did_intro", lang), Table(table, t("change.did_caption", lang))]
    att = res.get("attrition")
    if att is not None and not att.empty:
        a = att[att["group_var"] == "all"].iloc[0]
        blocks.append(
            t(
                "change.attrition",
                lang,
                linked=fmt_int(a.linked, lang),
                n_from=fmt_int(a.n_from, lang),
                from_wave=lab.wave(a.from_wave),
                to_wave=lab.wave(a.to_wave),
                pct=fmt_percent(a.retention, lang),
            )
        )
    return Section(t("section.change_since_last_wave", lang), blocks)


def inclusion(res: dict, cfg: SurveyConfig, lab: Labels) -> Section:
    lang, k = lab.lang, cfg.report.suppression_threshold
    est, last = res["estimates"], cfg.waves[-1].id
    blocks: list = [t("inclusion.intro", lang, outcome=lab.outcome("skills").lower())]
    rows = pick(est, analysis="inclusion", outcome="skills", wave=last)
    rows = publishable(rows[rows["group_var"].isin(BREAKDOWNS)], k)
    if not rows.empty:
        rows = rows.assign(
            label=[
                f"{t(f'group.{v}', lang)}: {lab.group(v, g)}"
                for v, g in zip(rows["group_var"], rows["group"], strict=True)
            ]
        )
        blocks.append(
            charts.forest(
                rows,
                "label",
                "estimate",
                "ci_low",
                "ci_high",
                lang,
                t(
                    "inclusion.chart_title",
                    lang,
                    outcome=lab.outcome("skills").lower(),
                    wave=lab.wave(last),
                ),
                ref=0,
                xlabel=t("inclusion.xlabel", lang),
                threshold=k,
            )
        )
    gaps = flagged_gaps(est, last, k)
    if gaps.empty:
        blocks.append(t("summary.no_gap", lang))
    else:
        blocks.append(
            Callout(
                t("inclusion.flagged_title", lang)
                + ": "
                + " ".join(_gap_sentence(r, lab) for r in gaps.itertuples()),
                "warning",
            )
        )
    return Section(t("section.inclusion_lens", lang), blocks)


def voices(res: dict, lab: Labels) -> Section | None:
    """A few respondents' own words (masked at ingest; escaped when rendered)."""
    q = res.get("quotes")
    if q is None or q.empty:
        return None
    items = [
        f"“{text}” — {lab.site(site)}" for text, site in zip(q["text"], q["site"], strict=True)
    ]
    return Section(t("voices.heading", lab.lang), [t("voices.intro", lab.lang), items])


def data_quality(res: dict, cfg: SurveyConfig, lab: Labels, quality: dict) -> Section:
    lang = lab.lang
    waves = [w.id for w in cfg.waves]
    q = {w: quality[w] for w in waves}
    rows = {
        t("quality.rows_in", lang): [q[w]["rows_in"] for w in waves],
        t("quality.no_consent", lang): [q[w]["removed"].get("no_consent", 0) for w in waves],
        t("quality.duplicates", lang): [
            q[w]["removed"].get("duplicate_submission", 0) for w in waves
        ],
        t("quality.rows_out", lang): [q[w]["rows_out"] for w in waves],
        t("quality.straightline", lang): [
            q[w]["flagged"].get("flag_straightline", 0) for w in waves
        ],
        t("quality.unmatched", lang): [
            q[w]["flagged"].get("flag_unmatched_kelurahan", 0)
            + q[w]["flagged"].get("flag_unmatched_site", 0)
            for w in waves
        ],
    }
    table = pd.DataFrame(rows, index=[lab.wave(w) for w in waves]).T.reset_index()
    table.columns = ["", *[lab.wave(w) for w in waves]]
    table = table.map(lambda x: fmt_int(x, lang) if isinstance(x, int | np.integer) else x)
    rel = res["reliability"]
    rel = rel[rel["wave"] == waves[-1]]
    reltab = pd.DataFrame(
        {
            t("quality.scale", lang): [lab.outcome(s) for s in rel["scale"]],
            t("quality.alpha", lang): [
                f"{fmt_number(a, lang, 2)} ({fmt_ci(lo, hi, lang, 2)})"
                for a, lo, hi in zip(
                    rel["alpha"], rel["alpha_ci_low"], rel["alpha_ci_high"], strict=True
                )
            ],
            t("quality.omega", lang): [fmt_number(o, lang, 2) for o in rel["omega"]],
            t("stat.n", lang): [fmt_int(n, lang) for n in rel["n"]],
        }
    )
    blocks: list = [
        t("quality.intro", lang),
        Table(table, t("quality.caption", lang)),
        Table(reltab, t("quality.reliability_caption", lang)),
    ]
    for r in rel[~rel["reliable"].astype(bool)].itertuples():
        blocks.append(
            Callout(
                f"{lab.outcome(r.scale)}: "
                + t("quality.unreliable_scale", lang, alpha=fmt_number(r.alpha, lang, 2)),
                "warning",
            )
        )
    return Section(t("section.data_quality", lang), blocks)


def indicators(cfg: SurveyConfig, lab: Labels) -> Section:
    lang = lab.lang
    ind = cfg.report.official_indicators
    if not ind:
        return Section(t("section.official_indicators", lang), [t("indicators.none", lang)])
    table = pd.DataFrame(
        {
            t("indicators.name", lang): [i.name for i in ind],
            t("indicators.year", lang): [str(i.year) for i in ind],
            t("indicators.value", lang): [
                f"{fmt_number(i.value, lang, 2)} ({i.scale})" for i in ind
            ],
            t("indicators.source", lang): [i.source for i in ind],
        }
    )
    return Section(
        t("section.official_indicators", lang),
        [Callout(t("indicators.intro", lang), "info"), Table(table, t("indicators.caption", lang))],
    )


def methods(cfg: SurveyConfig, lab: Labels) -> Section:
    lang = lab.lang
    trim = cfg.design.weights.trim_ratio or 0
    return Section(
        t("section.methods_appendix", lang),
        [
            t("methods.weighting", lang, trim=fmt_number(trim, lang, 0)),
            t("methods.design", lang),
            t("methods.models", lang),
            t("methods.scales", lang),
            t("methods.limits", lang, k=cfg.report.suppression_threshold),
            t("stat.suppressed_note", lang, k=cfg.report.suppression_threshold),
        ],
    )


def city_document(res: dict, quality: dict, cfg: SurveyConfig, cb: Codebook, lang: str) -> Document:
    """The city report in one language."""
    lab = Labels(cfg, cb, lang)
    waves = ", ".join(lab.wave(w.id) for w in cfg.waves)
    sub = "city.subtitle" if cfg.survey.synthetic else "city.subtitle_real"
    sections = [
        executive_summary(res, cfg, lab, quality),
        who_was_surveyed(res, cfg, lab),
        participation(res, cfg, lab),
        outcomes_by_programme(res, cfg, lab),
        change(res, cfg, lab),
        inclusion(res, cfg, lab),
        voices(res, lab),
        data_quality(res, cfg, lab, quality),
        indicators(cfg, lab),
        methods(cfg, lab),
    ]
    sections = [s for s in sections if s is not None]
    other = [x for x in cfg.report.languages if x != lang]
    links = [(t("report.language_switch", lang), f"city.{other[0]}.html")] if other else []
    links.append((t("site.back", lang), "index.html"))
    return Document(
        title=t("city.title", lang, city=cfg.survey.city),
        subtitle=t(sub, lang, survey=cfg.survey.title(lang), waves=waves),
        lang=lang,
        sections=sections,
        links=links,
        footer=t("city.footer", lang, survey=cfg.survey.id, date=fmt_date(dt.date.today(), lang)),
        notice=synthetic_notice(cfg, lang),
    )


def synthetic_notice(cfg: SurveyConfig, lang: str) -> str:
    """The notice every page of a report made from synthetic data carries ("" for real data)."""
    return t("city.synthetic_banner", lang) if cfg.survey.synthetic else ""


# --- the site report ---------------------------------------------------------------------------


def site_sizes(est: pd.DataFrame, wave: str, k: int) -> pd.DataFrame:
    """Respondents per library with primary and secondary suppression: the city total is
    published, so a single small library's count could otherwise be recovered by subtraction."""
    rows = pick(est, analysis="site", wave=wave)
    sizes = rows.groupby("group")["n"].max().rename_axis("site").reset_index()
    protected = suppress.secondary_1d(sizes, "n", k, value_cols=[], blank_count=False)
    return protected.set_index("site")


def site_document(res: dict, cfg: SurveyConfig, cb: Codebook, site: str, lang: str) -> Document:
    """One library's short report in one language, compared with the city."""
    lab = Labels(cfg, cb, lang)
    k = cfg.report.suppression_threshold
    est, last = res["estimates"], cfg.waves[-1].id
    name = lab.site(site)
    mine = pick(est, analysis="site", group="" + site, wave=last)
    city = pick(est, analysis="descriptive", group_var=None, wave=last)
    n_site = int(mine["n"].max()) if not mine.empty else 0
    sizes = site_sizes(est, last, k)
    hide_n = site in sizes.index and sizes.loc[site, "suppression"] == "secondary"
    shown_n = t("stat.suppressed_short", lang) if hide_n else fmt_int(n_site, lang)
    blocks: list = []
    if n_site < k:
        blocks.append(Callout(t("site.too_small", lang, k=k), "warning"))
    else:
        blocks.append(t("site.intro", lang, site=name, n=shown_n, wave=lab.wave(last)))
        outcomes = [*SCALES_SHOWN, "participated", "business"]
        mine = publishable(mine[mine["outcome"].isin(outcomes)], k).set_index("outcome")
        city = city[city["outcome"].isin(outcomes)].set_index("outcome")
        rows = []
        for o in outcomes:
            if o not in mine.index or o not in city.index:
                continue
            pct = o in ("participated", "business")

            def f(x, pct=pct):
                return fmt_percent(x, lang) if pct else fmt_number(x, lang, 2)

            m, c = mine.loc[o], city.loc[o]
            rows.append(
                {
                    t("site.measure", lang): lab.outcome(o),
                    t("site.this_site", lang): (
                        t("stat.suppressed", lang, k=k)
                        if m["suppressed"]
                        else f"{f(m.estimate)} ({fmt_ci(m.ci_low, m.ci_high, lang, 1 if pct else 2, percent=pct)})"
                    ),
                    t(
                        "site.city", lang
                    ): f"{f(c.estimate)} ({fmt_ci(c.ci_low, c.ci_high, lang, 1 if pct else 2, percent=pct)})",
                    t("stat.n", lang): t("stat.suppressed_short", lang)
                    if hide_n
                    else fmt_int(m["n"], lang),
                }
            )
        blocks.append(
            Table(
                pd.DataFrame(rows),
                t("site.compare_caption", lang, site=name, wave=lab.wave(last)),
                f"{t('stat.ci95', lang)} = {t('stat.ci95_long', lang)}. "
                + t("site.interval_note", lang),
            )
        )
        scales_rows = []
        for o in SCALES_SHOWN:
            if o in mine.index and o in city.index:
                here, town = t("site.this_site", lang), t("site.city", lang)
                for who, r in ((here, mine.loc[o]), (town, city.loc[o])):
                    scales_rows.append(
                        {
                            "label": f"{lab.outcome(o)} – {who}",
                            "who": who,
                            "estimate": r.estimate,
                            "ci_low": r.ci_low,
                            "ci_high": r.ci_high,
                            "suppressed": bool(r.get("suppressed", False)),
                        }
                    )
        if scales_rows:
            blocks.append(
                charts.forest(
                    pd.DataFrame(scales_rows),
                    "label",
                    "estimate",
                    "ci_low",
                    "ci_high",
                    lang,
                    t("site.chart_title", lang, site=name),
                    ref=None,
                    threshold=k,
                    value_range=lab.scale_range(*SCALES_SHOWN),
                    style_col="who",
                )
            )
        blocks.append(Callout(t("summary.association", lang), "info"))
    other = [x for x in cfg.report.languages if x != lang]
    links = [(t("report.language_switch", lang), f"{site}.{other[0]}.html")] if other else []
    links.append((t("site.back", lang), "../index.html"))
    return Document(
        title=name,
        subtitle=t("site.subtitle", lang, survey=cfg.survey.title(lang), wave=lab.wave(last)),
        lang=lang,
        sections=[Section(t("group.site", lang) + ": " + name, blocks)],
        links=links,
        footer=t("city.footer", lang, survey=cfg.survey.id, date=fmt_date(dt.date.today(), lang)),
        notice=synthetic_notice(cfg, lang),
    )


# --- writing -----------------------------------------------------------------------------------


def _write(doc: Document, base: Path, formats: list[str]) -> list[Path]:
    base.parent.mkdir(parents=True, exist_ok=True)
    out = []
    if "html" in formats:
        out.append(render.write_html(doc, base.with_suffix(".html")))
    if "pdf" in formats:
        out.append(render.write_pdf(doc, base.with_suffix(".pdf")))
    return out


def write_city(cfg: SurveyConfig, cb: Codebook, out: Layout) -> list[Path]:
    """City report in every language and format, plus the index page linking every report."""
    res, quality = steps.load_results(out), steps.load_quality(out)
    written = []
    for lang in cfg.report.languages:
        doc = city_document(res, quality, cfg, cb, lang)
        written += _write(doc, out.reports / f"city.{lang}.html", cfg.report.formats)
    written.append(write_index(cfg, out))
    return written


def write_site(cfg: SurveyConfig, cb: Codebook, out: Layout, site: str) -> list[Path]:
    """One library's report in every language and format."""
    if site not in cfg.site_ids:
        from pipelines.errors import RunError

        raise RunError(f"Site '{site}' is not in the config's sites ({', '.join(cfg.site_ids)}).")
    res = steps.load_results(out)
    written = []
    for lang in cfg.report.languages:
        doc = site_document(res, cfg, cb, site, lang)
        written += _write(doc, out.sites / f"{site}.{lang}.html", cfg.report.formats)
    return written


def write_index(cfg: SurveyConfig, out: Layout) -> Path:
    lang = cfg.report.languages[0]
    entries = []
    for lg in cfg.report.languages:
        for fmt in cfg.report.formats:
            entries.append(
                (f"{t('index.city', lg)} ({lg.upper()}, {fmt.upper()})", f"city.{lg}.{fmt}")
            )
    for s in cfg.sites:
        for lg in cfg.report.languages:
            for fmt in cfg.report.formats:
                entries.append(
                    (f"{s.name} ({lg.upper()}, {fmt.upper()})", f"sites/{s.id}.{lg}.{fmt}")
                )
    entries.append((t("index.manifest", lang), "manifest.json"))
    html = render.render_index(
        cfg.survey.title(lang), lang, entries, notice=synthetic_notice(cfg, lang)
    )
    path = out.reports / "index.html"
    path.write_text(html, encoding="utf-8")
    return path
