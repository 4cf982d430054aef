"""What the reports say: the city report and one short report per library, built only from the
results tables (never re-estimated), suppressed for small groups, in every configured language.

Statistics arrive as tidy frames; this module picks, words, suppresses and lays them out into a
`render.Document`, which `render` turns into HTML and PDF. It reads and writes no file: the
report stage in :mod:`pipelines.steps` loads the results and writes what :func:`city_files` and
:func:`site_files` return.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import sys

import numpy as np
import pandas as pd

from pipelines import render, suppress
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
    has_key,
    t,
)
from pipelines.render import Callout, Document, Section, Table


def _charts():
    """The chart module, imported when a chart is drawn: matplotlib takes 0.6 s to import, and
    a notebook that shows only tables (the analysis notebook's effects table) needs none."""
    from pipelines import charts

    return charts


STATS = ["estimate", "se", "ci_low", "ci_high"]
MAX_LIKERT_ITEMS = 12


# --- labels -------------------------------------------------------------------------------------


class Labels:
    """Translate outcome, group and site codes into the report's language. Outcome names,
    kinds and ranges come from the results' ``outcomes`` table (the analysis plan)."""

    def __init__(self, cfg: SurveyConfig, cb: Codebook, lang: str, outcomes=None):
        self.cfg, self.cb, self.lang = cfg, cb, lang
        o = outcomes if outcomes is not None else pd.DataFrame(columns=["outcome", "column"])
        self.outcomes = o
        self._by_name = {r["outcome"]: r for r in o.to_dict("records")}
        self._by_name |= {r["column"]: r for r in o.to_dict("records")}

    def info(self, name: str) -> dict | None:
        return self._by_name.get(name)

    def outcome(self, name: str) -> str:
        r = self.info(name)
        if r is not None:
            return r["label_id"] if self.lang == "id" else r["label_en"]  # others: English
        if name in self.cb.scales:
            return self.cb.scales[name].label(self.lang)
        return self.variable(name)

    def variable(self, name: str) -> str:
        """A question's short name: a report term if there is one, else the codebook's."""
        for key in (f"group.{name}", f"outcome.{name}"):
            if has_key(key, self.lang):
                return t(key, self.lang)
        if self.cb.has(name):
            v = self.cb.var(name)
            return (v.label or v.question)(self.lang)
        derived = self.cb.roles.derived.get(name)
        if derived is not None and derived.label is not None:
            return derived.label(self.lang)
        return name

    def range_text(self, name: str) -> str:
        """The scale's real range, e.g. "1–4" (empty when the outcome has none)."""
        r = self.info(name)
        if r is None or pd.isna(r.get("range_low")) or r["kind"] not in ("scale", "likert"):
            return ""
        return f"{fmt_number(r['range_low'], self.lang, 0)}–{fmt_number(r['range_high'], self.lang, 0)}"

    def group(self, var: str, code) -> str:
        code = str(code)
        if var == "site":
            return self.site(code)
        derived = self.cb.roles.derived.get(var)
        if derived is not None and derived.money:
            return fmt_rupiah_band(code, self.lang)
        if var == "programme" and code == "none":
            return t("group.non_participants", self.lang)
        if self.cb.has(var):
            v = self.cb.var(var)
            if v.type == "yesno" and code in ("0", "1", "0.0", "1.0"):
                key = "stat.yes" if code.startswith("1") else "stat.no"
                return f"{self.variable(var)}: {t(key, self.lang)}"
            levels = v.levels or v.options
            if code in levels:
                return levels[code].id if self.lang == "id" else levels[code].en
        return code

    def scale_range(self, *names: str) -> tuple[float, float] | None:
        """The lowest and highest possible value of these outcomes (the plan's ranges), so
        charts show the scale's real range; None when none of them has a range."""
        ranges = []
        for name in names:
            r = self.info(name)
            if r is not None and pd.notna(r.get("range_low")) and pd.notna(r.get("range_high")):
                ranges.append((float(r["range_low"]), float(r["range_high"])))
        return (min(a for a, _ in ranges), max(b for _, b in ranges)) if ranges else None

    def site(self, site_id: str) -> str:
        return next((s.name for s in self.cfg.sites if s.id == site_id), site_id)

    def wave(self, wave_id: str) -> str:
        return next((w.label(self.lang) for w in self.cfg.waves if w.id == wave_id), wave_id)


def with_range(label: str, rng: str) -> str:
    """A label with its scale's range, never nesting parentheses: "Keyakinan (1–5)", but
    "Peran perpustakaan (empat peran TPBIS), 1–5"."""
    if not rng:
        return label
    return f"{label}, {rng}" if label.rstrip().endswith(")") else f"{label} ({rng})"


def outcomes_of(res: dict) -> pd.DataFrame:
    """The plan's outcomes table (empty for results written before the plan existed)."""
    o = res.get("outcomes")
    return o if o is not None else pd.DataFrame(columns=["outcome", "column", "kind", "unit"])


def _kind(lab: Labels, name: str) -> str:
    r = lab.info(name)
    return r["kind"] if r is not None else ""


def _unit(lab: Labels, name: str) -> str:
    r = lab.info(name)
    return r["unit"] if r is not None else "points"


# --- selecting and suppressing results ---------------------------------------------------------


def pick(est: pd.DataFrame, **where) -> pd.DataFrame:
    """Rows of the estimates table matching every column=value (None matches missing; values
    compare as text, so wave 2025 matches "2025")."""
    mask = np.ones(len(est), dtype=bool)
    for col, value in where.items():
        mask &= _matches(est[col], value)
    return est[mask]


def _matches(column: pd.Series, value) -> np.ndarray:
    """Where ``column`` equals ``value`` as text; text columns compared without converting
    every cell to text first (most of a site report's selections)."""
    if value is None:
        return column.isna().to_numpy()
    if isinstance(value, str) and pd.api.types.is_string_dtype(column.dtype):
        return (column == value).to_numpy(dtype=bool, na_value=False)
    return column.astype(str).eq(str(value)).to_numpy()


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


def _signed(x: float, lang: str, decimals: int) -> str:
    text = fmt_number(x, lang, decimals)
    return text if text.startswith("−") or x == 0 else "+" + text


def effect_text(lab: Labels, outcome: str, r, decimals: int | None = None) -> dict:
    """An effect's numbers in the outcome's reader unit: points on its range, percentage
    points or percent (the estimate and interval of an ``effect`` row)."""
    unit = _unit(lab, outcome)
    lang = lab.lang
    dec = decimals if decimals is not None else (2 if unit == "points" else 1)
    unit_text = {
        "points": t("unit.points", lang, range=lab.range_text(outcome))
        if lab.range_text(outcome)
        else t("unit.points_plain", lang),
        "pp": t("unit.pp", lang),
        "percent": t("unit.percent", lang),
    }.get(unit, "")
    return {
        "outcome": lab.outcome(outcome),
        "est": fmt_number(abs(r.estimate), lang, dec),
        "lo": _signed(r.ci_low, lang, dec),
        "hi": _signed(r.ci_high, lang, dec),
        "unit": unit_text,
        "n": fmt_int(r.n, lang),
    }


def effect_sentence(lab: Labels, outcome: str, r) -> str:
    """One finding: clearly higher, clearly lower, or not clear with the interval said."""
    if _unit(lab, outcome) == "or":
        lang = lab.lang
        f = {
            "outcome": lab.outcome(outcome),
            "est": fmt_number(r.estimate, lang, 2),
            "ci": fmt_ci(r.ci_low, r.ci_high, lang, 2),
            "n": fmt_int(r.n, lang),
        }
        key = "summary.or_up" if r.estimate > 1 else "summary.or_down"
        return t(key if _sig(r) else "summary.or_unclear", lang, **f)
    f = effect_text(lab, outcome, r)
    if _sig(r) and r.estimate > 0:
        return t("summary.effect_up", lab.lang, **f)
    if _sig(r) and r.estimate < 0:
        return t("summary.effect_down", lab.lang, **f)
    return t("summary.effect_unclear", lab.lang, **f)


def level_sentence(lab: Labels, outcome: str, r) -> str:
    """A descriptive finding (when the survey has no comparison group)."""
    lang = lab.lang
    if r.term == "proportion":
        return t(
            "summary.level_prop",
            lang,
            outcome=lab.outcome(outcome),
            pct=fmt_percent(r.estimate, lang),
            ci=fmt_ci(r.ci_low, r.ci_high, lang, percent=True),
            n=fmt_int(r.n, lang),
        )
    rng = lab.range_text(outcome)
    return t(
        "summary.level_mean_range" if rng else "summary.level_mean",
        lang,
        outcome=lab.outcome(outcome),
        est=fmt_number(r.estimate, lang, 2),
        ci=fmt_ci(r.ci_low, r.ci_high, lang, 2),
        range=rng,
        n=fmt_int(r.n, lang),
    )


def summary_effects(res: dict, cfg: SurveyConfig, lab: Labels) -> list[tuple[str, pd.Series]]:
    """The published ``effect`` row of each analysed outcome (latest wave, plan order): the one
    source of the summary's sentences, its chart and the recommendations."""
    k, last = cfg.report.suppression_threshold, cfg.waves[-1].id
    est = res["estimates"]
    out = []
    for o in lab.outcomes.itertuples():
        r = _one(publishable(pick(est, analysis="effect", outcome=o.outcome, wave=last), k))
        if r is not None and not r["suppressed"]:
            out.append((o.outcome, r))
    return out


def summary_findings(res: dict, cfg: SurveyConfig, lab: Labels) -> list[str]:
    """One sentence per analysed outcome of the latest wave, in plan order: the participation
    effect on the reader's scale where the survey compares participants, else its level."""
    k, last = cfg.report.suppression_threshold, cfg.waves[-1].id
    est = res["estimates"]
    effects = dict(summary_effects(res, cfg, lab))
    out = []
    for o in lab.outcomes.itertuples():
        if o.outcome in effects:
            out.append(effect_sentence(lab, o.outcome, effects[o.outcome]))
            continue
        r = _one(
            publishable(
                pick(est, analysis="descriptive", outcome=o.column, wave=last, group_var=None), k
            )
        )
        if r is not None and not r["suppressed"]:
            out.append(level_sentence(lab, o.outcome, r))
    return out


def summary_charts(res: dict, cfg: SurveyConfig, lab: Labels) -> list:
    """One forest chart per reader unit (points, percentage points, percent, odds ratio) drawn
    from exactly the rows the summary sentences quote, so text and chart cannot disagree."""
    lang, k = lab.lang, cfg.report.suppression_threshold
    by_unit: dict[str, list] = {}
    for name, r in summary_effects(res, cfg, lab):
        unit = _unit(lab, name)
        rng = lab.range_text(name) if unit == "points" else ""
        label = with_range(lab.outcome(name), rng)
        by_unit.setdefault(unit, []).append(
            {"label": label, "estimate": r.estimate, "ci_low": r.ci_low, "ci_high": r.ci_high}
        )
    figs = []
    for unit, rows in by_unit.items():
        figs.append(
            _charts().forest(
                pd.DataFrame(rows).assign(suppressed=False),
                "label",
                "estimate",
                "ci_low",
                "ci_high",
                lang,
                t(f"summary.chart_{unit}", lang, wave=lab.wave(cfg.waves[-1].id)),
                ref=1 if unit == "or" else 0,
                xlabel=t(f"summary.axis_{unit}", lang),
                caption=t(f"summary.chart_caption_{unit}", lang),
                decimals=2 if unit in ("points", "or") else 1,
                threshold=k,
            )
        )
    return figs


def executive_summary(res: dict, cfg: SurveyConfig, lab: Labels, quality: dict) -> Section:
    lang, k = lab.lang, cfg.report.suppression_threshold
    est = res["estimates"]
    last = cfg.waves[-1].id
    n_total = sum(q["rows_out"] for w, q in quality.items() if w != "attrition")
    key = "summary.intro_one" if len(cfg.waves) == 1 else "summary.intro"
    key += "" if cfg.sites else "_no_sites"  # a form that names no library
    weighted = cfg.design.weights.method != "none"
    intro = " ".join(
        [
            t(key, lang, n=fmt_int(n_total, lang), sites=len(cfg.sites), waves=len(cfg.waves)),
            t("summary.figures_weighted" if weighted else "summary.figures_unweighted", lang),
        ]
    )
    took = _took_part(res)
    bullets = participation_sentence(res, cfg, lab) + summary_findings(res, cfg, lab)
    if not took:
        bullets.append(t("summary.no_comparison", lang))
    for r in publishable(pick(est, analysis="did"), k).itertuples():
        if not r.suppressed and _sig(r._asdict()):
            bullets.append(did_sentence(lab, r))
    gaps = flagged_gaps(est, last, k, cfg.report.precision_min_n)
    if took:
        if gaps.empty:
            bullets.append(no_gap_sentence(res, lab))
        for r in gaps.head(3).itertuples():
            bullets.append(_gap_sentence(r, lab))
    blocks: list = [intro, bullets, *summary_charts(res, cfg, lab)]
    if took:
        blocks.append(Callout(t("summary.association", lang), "info"))
    return Section(t("section.executive_summary", lang), blocks)


def roles(res: dict, role: str) -> list[str]:
    """The columns that played ``role`` in the analysis (from the plan's roles table)."""
    r = res.get("roles")
    if r is None or r.empty:
        return []
    return list(_by_role(r).get(role, ()))


def _by_role(r: pd.DataFrame) -> dict[str, tuple[str, ...]]:
    """The roles table as role -> columns, worked out once per table (reports ask hundreds
    of times)."""
    key = (id(r), len(r))
    if _ROLES_SEEN.get("key") != key:
        grouped: dict[str, list[str]] = {}
        for role, column in zip(r["role"], r["column"], strict=True):
            grouped.setdefault(role, []).append(column)
        _ROLES_SEEN.update(key=key, table=r, by_role={k: tuple(v) for k, v in grouped.items()})
    return _ROLES_SEEN["by_role"]


_ROLES_SEEN: dict = {}  # the last roles table asked about (kept alive, so its id stays unique)


def _took_part(res: dict) -> str | None:
    """The exposure column the plan used (None when the survey has no comparison group)."""
    cols = roles(res, "took_part")
    return cols[0] if cols else None


def _reader(lab: Labels, outcome: str, x: float) -> float:
    """A model-scale value on the reader's scale (did rows: pp for yes/no, % for money)."""
    unit = _unit(lab, outcome)
    if unit == "pp":
        return 100 * x
    if unit == "percent":
        return 100 * np.expm1(x)
    return x


def did_sentence(lab: Labels, r) -> str:
    name = _outcome_name(lab, r.outcome)
    row = pd.Series(
        {
            "estimate": _reader(lab, name, r.estimate),
            "ci_low": _reader(lab, name, r.ci_low),
            "ci_high": _reader(lab, name, r.ci_high),
            "n": r.n,
        }
    )
    key = "summary.did" if r.estimate > 0 else "summary.did_down"
    f = effect_text(lab, name, row)
    return t(key, lab.lang, **(f | {"outcome": lower_first(f["outcome"])}))


def _outcome_name(lab: Labels, column: str) -> str:
    r = lab.info(column)
    return r["outcome"] if r is not None else column


def flagged_gaps(est: pd.DataFrame, wave: str, k: int, min_n: int = 0) -> pd.DataFrame:
    """Groups flagged as gaining significantly less, largest gaps first, small groups left out
    (and, with ``min_n``, groups too small for a precise comparison)."""
    gaps = pick(est, analysis="inclusion_gap", wave=wave)
    gaps = gaps[gaps["flag"].fillna("").str.contains("less")]
    if min_n and not gaps.empty:  # the group's own size is on its within-group effect row
        keys = ["outcome", "group_var", "group"]
        within = pick(est, analysis="inclusion", wave=wave)[[*keys, "n"]]
        sizes = within.drop_duplicates(keys).rename(columns={"n": "n_group"})
        gaps = gaps.merge(sizes, on=keys, how="left")
        gaps = gaps[gaps["n_group"].fillna(gaps["n"]) >= min_n].drop(columns="n_group")
    gaps = publishable(gaps, k)
    return gaps[~gaps["suppressed"]].sort_values("estimate")


def no_gap_sentence(res: dict, lab: Labels) -> str:
    """No group gains clearly less: naming the plan's breakdowns (and libraries)."""
    groups = [lab.variable(b).lower() for b in roles(res, "breakdown")]
    groups += [lab.variable(c).lower() for c in roles(res, "cluster")]
    return t("summary.no_gap", lab.lang, groups=_and_list(groups, lab.lang) or "–")


def _gap_sentence(r, lab: Labels) -> str:
    name = _outcome_name(lab, r.outcome)
    lang = lab.lang
    unit = _unit(lab, name)
    if unit in ("pp", "or"):  # a logistic model's gap: the ratio of the two odds ratios
        est, lo, hi = np.exp([r.estimate, r.ci_low, r.ci_high])
        size = t("unit.gap_or", lang, est=fmt_number(est, lang, 2))
        dec = 2
    elif unit == "percent":  # a model of log money: percent difference
        est, lo, hi = (100 * np.expm1(x) for x in (r.estimate, r.ci_low, r.ci_high))
        size = f"{_signed(est, lang, 1)} {t('unit.percent', lang)}"
        dec = 1
    else:
        est, lo, hi, dec = r.estimate, r.ci_low, r.ci_high, 2
        rng = lab.range_text(name)
        size = f"{_signed(est, lang, 2)} " + (
            t("unit.points", lang, range=rng) if rng else t("unit.points_plain", lang)
        )
    return t(
        "summary.gap",
        lang,
        group=lab.group(r.group_var, r.group),
        outcome=lab.outcome(name).lower(),
        est=size,
        lo=fmt_number(lo, lang, dec),
        hi=fmt_number(hi, lang, dec),
        p=fmt_p(r.p_adj, lang),
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
    rep = rep[rep["wave"] == last]
    small = rep.groupby("variable")["level"].transform("size") <= 8  # kelurahan lists are long
    rep = rep[small]
    match = pd.DataFrame(
        {
            t("who.variable", lang): [lab.variable(v) for v in rep["variable"]],
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
    method = weights_method(res)
    if method == "none":  # no weights: the weighted share is the sample share
        match = match.drop(columns=t("who.weighted_share", lang))
    if rep["population_share"].isna().all():
        match = match.drop(columns=t("who.population_share", lang))
    blocks: list = [t("who.intro", lang), Table(table, t("who.table_caption", lang))]
    if not match.empty:
        intro = {"rake": "who.match_intro", "none": "who.match_intro_none"}
        caption = "who.match_caption_none" if method == "none" else "who.match_caption"
        blocks += [
            t(intro.get(method, "who.match_intro_weighted"), lang),
            Table(match, t(caption, lang, wave=lab.wave(last))),
        ]
    return Section(t("section.who_surveyed", lang), blocks)


def _scale_outcomes(lab: Labels, headline_only: bool = True) -> list[str]:
    o = lab.outcomes
    if o.empty:
        return []
    keep = o["kind"].eq("scale") & (o["headline"].astype(bool) if headline_only else True)
    return list(o.loc[keep, "outcome"])


def _money_outcomes(lab: Labels) -> list[tuple[str, str]]:
    o = lab.outcomes
    return (
        []
        if o.empty
        else list(
            o.loc[o["kind"].eq("money"), ["outcome", "column"]].itertuples(index=False, name=None)
        )
    )


def participation(res: dict, cfg: SurveyConfig, lab: Labels) -> Section | None:
    took = _took_part(res)
    if took is None:
        return None
    lang, k = lab.lang, cfg.report.suppression_threshold
    est = res["estimates"]
    rows = publishable(pick(est, analysis="descriptive", outcome=took, group_var=None), k)
    rows = rows.assign(label=[lab.wave(w) for w in rows["wave"]])
    fig = _charts().bars(
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
    blocks: list = [t("participation.intro", lang), fig]
    last = cfg.waves[-1].id
    by = publishable(
        pick(est, analysis="descriptive", wave=last, group_var="programme", term="mean"), k
    )
    shown = _scale_outcomes(lab)
    money = _money_outcomes(lab)
    if not by.empty and (shown or money):
        wide = by.pivot_table(index="group", columns="outcome", values="estimate", aggfunc="first")
        ns = by.groupby("group")["n"].max()
        table = pd.DataFrame(
            {t("group.programme", lang): [lab.group("programme", g) for g in wide.index]}
        )
        for o in shown:
            if o in wide:
                head = with_range(lab.outcome(o), lab.range_text(o))
                table[head] = [_num_or_supp(x, lang, k) for x in wide[o]]
        for name, col in money:
            if col in wide:
                table[t("outcome.typical", lang, outcome=lab.outcome(name))] = [
                    t("stat.suppressed", lang, k=k) if pd.isna(x) else fmt_rupiah(np.exp(x), lang)
                    for x in wide[col]
                ]
        table[t("stat.n", lang)] = [fmt_int(ns[g], lang) for g in wide.index]
        note = t("stat.suppressed_note", lang, k=k)
        if money:
            note = t("outcome.income_note", lang) + " " + note
        blocks += [
            t("participation.by_programme_intro", lang),
            Table(table, t("participation.by_programme_caption", lang, wave=lab.wave(last)), note),
            Callout(t("participation.unadjusted", lang), "warning"),
        ]
    return Section(t("section.participation", lang), blocks)


def _num_or_supp(x, lang, k, decimals=2) -> str:
    return t("stat.suppressed", lang, k=k) if pd.isna(x) else fmt_number(x, lang, decimals)


def _axis_label(lab: Labels, name: str, key: str) -> str:
    unit = _unit(lab, name)
    if unit == "percent":
        return t(f"{key}_percent", lab.lang)
    rng = lab.range_text(name)
    return t(f"{key}_points", lab.lang, range=rng) if rng else t(f"{key}_plain", lab.lang)


def _on_reader_scale(lab: Labels, name: str, rows: pd.DataFrame) -> pd.DataFrame | None:
    """Model rows shown on the reader's scale: points as they are, money as percent; a
    yes/no model's log odds are not shown in charts (the summary gives percentage points)."""
    unit = _unit(lab, name)
    if unit == "percent":
        rows = rows.copy()
        for c in ("estimate", "ci_low", "ci_high"):
            rows[c] = 100 * np.expm1(rows[c])
        return rows
    return rows if unit == "points" else None


MAX_EFFECT_CHARTS = 3  # charts per section; a table carries every outcome


def _cell(lab: Labels, name: str, r) -> str:
    """One effect in a table cell, on the reader's scale: "+0,45 (0,30 s.d. 0,60)"; a yes/no
    model's coefficient as an odds ratio ("OR 1,4 (0,9–2,1)")."""
    lang = lab.lang
    if r.get("suppressed", False):
        return t("stat.suppressed_short", lang)
    unit = _unit(lab, name)
    if unit == "pp":
        est, lo, hi = np.exp([r["estimate"], r["ci_low"], r["ci_high"]])
        return f"OR {fmt_number(est, lang, 2)} ({fmt_ci(lo, hi, lang, 2)})"
    est, lo, hi = (_reader(lab, name, r[c]) for c in ("estimate", "ci_low", "ci_high"))
    dec = 1 if unit == "percent" else 2
    suffix = "%" if unit == "percent" else ""
    return f"{_signed(est, lang, dec)}{suffix} ({fmt_ci(lo, hi, lang, dec)})"


def effects_table(
    rows: pd.DataFrame, lab: Labels, key: str, group_label, caption: str, note: str = ""
) -> Table | None:
    """Groups (rows) x outcomes (columns) of one analysis, every outcome it covers."""
    if rows.empty:
        return None
    rows = rows.assign(_g=[group_label(r) for r in rows.itertuples()])
    order = list(dict.fromkeys(rows["_g"]))
    outcomes = [o for o in lab.outcomes.itertuples() if o.column in set(rows["outcome"])]
    table = pd.DataFrame({key: order})
    for o in outcomes:
        sub = rows[rows["outcome"] == o.column].set_index("_g")
        head = lab.outcome(o.outcome)
        table[head] = [_cell(lab, o.outcome, sub.loc[g]) if g in sub.index else "–" for g in order]
    return Table(table, caption, note)


def _programme_label(lab: Labels):
    return lambda r: lab.group("programme", str(r.term).split("[")[-1].rstrip("]"))


def effect_charts(
    rows: pd.DataFrame, lab: Labels, label, key: str, k: int, wave: str, limit=MAX_EFFECT_CHARTS
) -> list:
    """Forest charts of one analysis's effects, one per outcome shown on the reader's scale
    (points or percent), at most ``limit``; the section's table carries every outcome."""
    figures = []
    for o in lab.outcomes.itertuples():
        mine = rows[rows["outcome"] == o.column]
        mine = _on_reader_scale(lab, o.outcome, mine) if not mine.empty else None
        if mine is None or len(figures) >= limit:
            continue
        mine = mine.assign(label=[label(r) for r in mine.itertuples()])
        title = t(
            f"{key}.chart_title", lab.lang, outcome=lab.outcome(o.outcome).lower(),
            wave=lab.wave(wave),
        )  # fmt: skip
        xlabel = _axis_label(lab, o.outcome, f"{key}.xlabel")
        figures.append(
            _charts().forest(
                mine,
                "label",
                "estimate",
                "ci_low",
                "ci_high",
                lab.lang,
                title,
                ref=0,
                xlabel=xlabel,
                threshold=k,
            )  # fmt: skip
        )
    return figures


def outcomes_by_programme(res: dict, cfg: SurveyConfig, lab: Labels) -> Section | None:
    lang, k = lab.lang, cfg.report.suppression_threshold
    est, last = res["estimates"], cfg.waves[-1].id
    all_rows = publishable(pick(est, analysis="programme", wave=last), k)
    blocks: list = []
    if not all_rows.empty:
        blocks.append(t("programme.intro", lang))
        if all_rows["note"].fillna("").str.contains("Multi-select", regex=False).any():
            blocks.append(t("programme.multi_note", lang))
        blocks += effect_charts(all_rows, lab, _programme_label(lab), "programme", k, last)
        table = effects_table(
            all_rows,
            lab,
            t("group.programme", lang),
            _programme_label(lab),
            t("programme.table_caption", lang, wave=lab.wave(last)),
            t("programme.table_note", lang),
        )
        if table is not None:
            blocks.append(table)
    if not blocks:
        return None
    return Section(t("section.outcomes_by_programme", lang), blocks)


def answers(res: dict, cfg: SurveyConfig, lab: Labels) -> Section | None:
    """How people answered each statement of the plan's scales (none without scales)."""
    likert = likert_block(res, cfg, lab)
    return None if likert is None else Section(t("section.answers", lab.lang), [likert])


def likert_block(res: dict, cfg: SurveyConfig, lab: Labels):
    """Answers to the items of the plan's scales (latest wave), as diverging bars."""
    lang, k, last = lab.lang, cfg.report.suppression_threshold, cfg.waves[-1].id
    items = [i for s in _scale_outcomes(lab, False) for i in lab.cb.scales[s].items]
    lik = res["likert"]
    if lik.empty or not items:
        return None
    lik = lik[(lik["wave"] == last) & lik["item"].isin(items[:MAX_LIKERT_ITEMS])].copy()
    if lik.empty:
        return None
    lik["suppressed"] = lik["n_item"] < k
    lik["item_label"] = [_item_label(lab, i) for i in lik["item"]]
    labels = {
        int(lv): (r.label_id if lang == "id" else r.label_en)
        for lv, r in lik.drop_duplicates("level").set_index("level").iterrows()
    }
    return _charts().likert_diverging(
        lik,
        "item_label",
        "level",
        "pct",
        labels,
        lang,
        t("programme.likert_title", lang, wave=lab.wave(last)),
        threshold=k,
    )


def _item_label(lab: Labels, item: str) -> str:
    v = lab.cb.var(item)
    return v.question(lab.lang)


def change(res: dict, cfg: SurveyConfig, lab: Labels) -> Section:
    lang, k = lab.lang, cfg.report.suppression_threshold
    if len(cfg.waves) < 2:
        return Section(t("section.change_since_last_wave", lang), [t("change.none", lang)])
    est = res["estimates"]
    shown = _scale_outcomes(lab)
    trend = publishable(pick(est, analysis="descriptive", group_var=None, term="mean"), k)
    trend = trend[trend["outcome"].isin(shown)].assign(
        x=lambda d: [lab.wave(w) for w in d["wave"]],
        group=lambda d: [lab.outcome(o) for o in d["outcome"]],
    )
    blocks: list = [t("change.intro", lang)]
    if not trend.empty:
        blocks.append(
            _charts().trend(
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
                value_range=lab.scale_range(*shown),
            )
        )
    did = publishable(pick(est, analysis="did"), k)
    if not did.empty:
        names = [_outcome_name(lab, o) for o in did["outcome"]]
        vals = {
            c: [_reader(lab, n, x) for n, x in zip(names, did[c], strict=True)]
            for c in ("estimate", "ci_low", "ci_high")
        }
        table = pd.DataFrame(
            {
                t("site.measure", lang): [lab.outcome(n) for n in names],
                t("stat.difference", lang): [
                    f"{_num_or_supp(x, lang, k)} {_unit_short(lab, n)}".strip()
                    for n, x in zip(names, vals["estimate"], strict=True)
                ],
                t("stat.ci95", lang): [
                    fmt_ci(a, b, lang, 2)
                    for a, b in zip(vals["ci_low"], vals["ci_high"], strict=True)
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


def _unit_short(lab: Labels, name: str) -> str:
    return t(f"unit.short_{_unit(lab, name)}", lab.lang)


def _level_cell(lab: Labels, name: str, r) -> str:
    """A mean or a share with its interval, for a table cell (blank when suppressed)."""
    lang = lab.lang
    if r.get("suppressed", False):
        return t("stat.suppressed_short", lang)
    if r["term"] == "proportion":
        return f"{fmt_percent(r['estimate'], lang)} ({fmt_ci(r['ci_low'], r['ci_high'], lang, percent=True)})"
    if _unit(lab, name) == "percent":  # money: the typical amount (geometric mean)
        return fmt_rupiah(np.exp(r["estimate"]), lang)
    return f"{fmt_number(r['estimate'], lang, 2)} ({fmt_ci(r['ci_low'], r['ci_high'], lang, 2)})"


def by_group(res: dict, cfg: SurveyConfig, lab: Labels) -> Section | None:
    """Every outcome by each breakdown of the plan (gender, age band, ...), latest wave:
    the levels a survey without a comparison group reports, and context for the others."""
    lang, k, last = lab.lang, cfg.report.suppression_threshold, cfg.waves[-1].id
    est = res["estimates"]
    groups = roles(res, "breakdown")
    rows = est[(est["analysis"] == "descriptive") & est["group_var"].isin(groups)]
    rows = publishable(rows[rows["wave"] == last], k)
    if rows.empty:
        return None
    rows = rows.assign(_g=[_group_label(lab)(r) for r in rows.itertuples()])
    order = list(dict.fromkeys(rows["_g"]))
    table = pd.DataFrame({t("inclusion.group", lang): order})
    for o in lab.outcomes.itertuples():
        sub = rows[rows["outcome"] == o.column].set_index("_g")
        if sub.empty:
            continue
        head = lab.outcome(o.outcome)
        rng = lab.range_text(o.outcome)
        table[f"{head} ({rng})" if rng else head] = [
            _level_cell(lab, o.outcome, sub.loc[g]) if g in sub.index else "–" for g in order
        ]
    ns = rows.groupby("_g")["n"].max()
    table[t("stat.n", lang)] = [fmt_int(ns[g], lang) for g in order]
    return Section(
        t("bygroup.heading", lang),
        [
            t("bygroup.intro" if _weighted(res) else "bygroup.intro_unweighted", lang),
            Table(
                table,
                t("bygroup.caption", lang, wave=lab.wave(last)),
                t("bygroup.note" if _money_outcomes(lab) else "bygroup.note_no_money", lang)
                + " "
                + t("stat.suppressed_note", lang, k=k),
            ),
        ],
    )


def _group_label(lab: Labels):
    def label(r) -> str:
        name = lab.group(r.group_var, r.group)
        var = lab.variable(r.group_var)
        return name if name.startswith(var) else f"{var}: {name}"

    return label


def inclusion(res: dict, cfg: SurveyConfig, lab: Labels) -> Section | None:
    """Who gains less: the participation effect within each group, for every outcome the
    inclusion lens covers (breakdowns; libraries are compared in their own reports)."""
    lang, k = lab.lang, cfg.report.suppression_threshold
    est, last = res["estimates"], cfg.waves[-1].id
    all_rows = pick(est, analysis="inclusion", wave=last)
    all_rows = all_rows[all_rows["estimate"].notna()]  # too-uncertain groups: no estimate
    all_rows = publishable(all_rows[all_rows["group_var"] != cfg.design.site], k)
    if all_rows.empty:
        return None
    blocks: list = [t("inclusion.intro", lang)]
    blocks += effect_charts(all_rows, lab, _group_label(lab), "inclusion", k, last, limit=1)
    table = effects_table(
        all_rows,
        lab,
        t("inclusion.group", lang),
        _group_label(lab),
        t("inclusion.table_caption", lang, wave=lab.wave(last)),
        t("programme.table_note", lang),
    )
    if table is not None:
        blocks.append(table)
    m = cfg.report.precision_min_n
    gaps = flagged_gaps(est, last, k, m)
    rough = flagged_gaps(est, last, k)
    rough = rough[
        ~rough.set_index(["outcome", "group_var", "group"]).index.isin(
            gaps.set_index(["outcome", "group_var", "group"]).index
        )
    ]
    if gaps.empty:
        blocks.append(no_gap_sentence(res, lab))
    if not rough.empty:
        names = list(
            dict.fromkeys(
                lab.group(v, g) for v, g in zip(rough["group_var"], rough["group"], strict=True)
            )
        )
        blocks.append(t("inclusion.imprecise_gap", lang, groups=_and_list(names, lang), m=m))
    if not gaps.empty:
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
    rel = rel[rel["wave"] == waves[-1]] if "wave" in rel else rel
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
    blocks: list = [t("quality.intro", lang), Table(table, t("quality.caption", lang))]
    if not reltab.empty:  # a form without scales has no reliability to report
        blocks.append(Table(reltab, t("quality.reliability_caption", lang)))
    for r in rel[~rel["reliable"].astype(bool)].itertuples():
        blocks.append(
            Callout(
                f"{lab.outcome(r.scale)}: "
                + t("quality.unreliable_scale", lang, alpha=fmt_number(r.alpha, lang, 2)),
                "warning",
            )
        )
    return Section(t("section.data_quality", lang), blocks)


def indicators(cfg: SurveyConfig, lab: Labels) -> Section | None:
    """The official indicators the config lists, beside (never mixed with) the survey's own."""
    lang = lab.lang
    ind = cfg.report.official_indicators
    if not ind:
        return None
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


EFFECT_ANALYSES = {  # analyses that compare participants with others (or change over time)
    "participation",
    "participation_ame",
    "effect",
    "ordinal",
    "programme",
    "dose_response",
    "ipw",
    "mixed_model",
    "did",
    "ancova",
    "paired_change",
    "inclusion",
}


def analyses_run(res: dict) -> set[str]:
    """The analyses that produced estimates: what the methods and glossary may speak of."""
    est = res.get("estimates")
    return (
        set() if est is None or est.empty else {str(a) for a in est["analysis"].dropna().unique()}
    )


def weights_method(res: dict) -> str:
    """The latest wave's weighting method (rake, column, file or none)."""
    w = res.get("weights")
    return str(w["method"].iloc[-1]) if w is not None and len(w) else "none"


def _weighted(res: dict) -> bool:
    """True when the latest wave's estimates use weights (raked, given or from a file)."""
    return weights_method(res) != "none"


def _lower_first(text: str) -> str:
    """A label inside a sentence ("Library" -> "library"); acronyms ("RW") stay as they are."""
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def _cluster_label(cfg: SurveyConfig, lab: Labels) -> str | None:
    c = cfg.design.cluster
    first = c[0] if isinstance(c, list) and c else c
    return _lower_first(lab.variable(first)) if first else None


def design_structure(cfg: SurveyConfig, lab: Labels) -> str:
    """The design in one sentence: the clusters and strata the config names, or none."""
    cluster = _cluster_label(cfg, lab)
    strata = _lower_first(lab.variable(cfg.design.strata)) if cfg.design.strata else None
    if cluster and strata:
        return t("methods.design_cluster_strata", lab.lang, cluster=cluster, strata=strata)
    if cluster:
        return t("methods.design_cluster", lab.lang, cluster=cluster)
    if strata:
        return t("methods.design_strata", lab.lang, strata=strata)
    return t("methods.design_none", lab.lang)


def design_text(cfg: SurveyConfig, lab: Labels, res: dict | None = None) -> str:
    """The methods' design paragraph: the design's structure, then Taylor linearisation or the
    config's replicate weights (and the margins every replicate was raked to)."""
    lang, ran = lab.lang, analyses_run(res or {})
    parts = [design_structure(cfg, lab)]
    rep = cfg.design.replicate
    if rep is None:
        parts.append(t("methods.design_se", lang))
        if "inclusion" in ran:
            parts.append(t("methods.design_gaps", lang))
        return " ".join(parts)
    how = t("methods.replicate_created" if rep.create else "methods.replicate_given", lang)
    parts.append(t("methods.design_replicate", lang, how=how, type=rep.create or rep.type))
    if "site" in ran:
        parts.append(t("methods.design_replicate_sites", lang))
    w, col = (res or {}).get("weights"), "replicates_raked_on"
    on = str(w[col].fillna("").iloc[-1]).split(",") if w is not None and col in w and len(w) else []
    if any(on):
        on = [m for m in on if m]
        margins = _and_list([lab.variable(m) for m in on], lang)
        parts.append(t("methods.replicate_raked", lang, margins=margins))
    return " ".join(parts)


def _models_text(res: dict, cfg: SurveyConfig, lab: Labels, ran: set[str]) -> str | None:
    """The models paragraph, naming the covariates and robustness checks really used."""
    covs = roles(res, "covariate") if _took_part(res) else []
    if not covs or not ran & EFFECT_ANALYSES:
        return None
    lang, checks = lab.lang, []
    if "mixed_model" in ran:
        checks.append(t("methods.models_mixed", lang, cluster=_cluster_label(cfg, lab) or ""))
    if "ipw" in ran:
        checks.append(t("methods.models_ipw", lang))
    extra = t("methods.models_checks", lang, checks=_and_list(checks, lang)) if checks else ""
    covariates = _and_list([lab.variable(c) for c in covs], lang)
    return t("methods.models", lang, covariates=covariates, checks=extra)


def _testing_text(res: dict, lab: Labels, ran: set[str]) -> str | None:
    """How p-values are corrected, naming only the families this survey has."""
    est, lang = res["estimates"], lab.lang
    if "p" not in est or not est["p"].notna().any():
        return None
    parts = []
    if "inclusion" in ran:
        by = est.loc[est["analysis"] == "inclusion", "group_var"].dropna().unique()
        names = _and_list([_lower_first(lab.variable(str(b))) for b in by], lang)
        parts.append(t("methods.families_lens", lang, breakdowns=names))
    if "site" in ran:
        parts.append(t("methods.families_sites", lang))
    if not parts:
        return t("methods.families_plain", lang)
    return t("methods.families", lang, parts=_and_list(parts, lang))


def _limits_text(lab: Labels, ran: set[str], k: int) -> str:
    lang = lab.lang
    parts = [t("methods.limits_head", lang)]
    if ran & EFFECT_ANALYSES:
        parts.append(t("methods.limits_causal", lang))
    parts += [t("methods.limits_self", lang), t("methods.limits_small", lang, k=k)]
    return " ".join(parts)


def methods(res: dict, cfg: SurveyConfig, lab: Labels) -> Section:
    """How the numbers were made: the margins really used, the design, the models with the
    covariates really used, only the analyses that ran, and every planned analysis that was
    skipped, with its reason."""
    lang, ran = lab.lang, analyses_run(res)
    k = cfg.report.suppression_threshold
    effects = bool(ran & EFFECT_ANALYSES)
    blocks: list = [
        weighting_text(res, cfg, lab),
        design_text(cfg, lab, res),
        _models_text(res, cfg, lab, ran),
        t("methods.effects", lang) if effects else None,
        _testing_text(res, lab, ran),
    ]
    if "inclusion" in ran:
        blocks.append(
            t(
                "methods.small_groups",
                lang,
                min_group=cfg.analysis.min_group_size,
                epv=f"{cfg.analysis.min_events_per_variable:g}",
            )
        )
    if effects:
        blocks.append(t("methods.mde", lang))
    if len(res.get("reliability", [])):
        blocks.append(t("methods.scales", lang))
    blocks += [
        _limits_text(lab, ran, k),
        t("stat.suppressed_note", lang, k=k),
        t(
            "methods.precision",
            lang,
            m=cfg.report.precision_min_n,
            share=fmt_percent(cfg.report.precision_max_ci_share, lang, 0),
        )
        + (" " + t("methods.precision_gaps", lang) if "inclusion" in ran else ""),
        t("methods.next_steps", lang, ratio=NEED_MAX_RATIO) if effects else None,
    ]
    blocks = [b for b in blocks if b]
    plan = res.get("plan")
    if plan is not None and not plan.empty:
        skipped = plan[~plan["runs"].astype(bool)]
        if not skipped.empty:
            from pipelines.plan import reasons

            skipped = skipped.assign(why=reasons(skipped, lang))
            items = []
            for (analysis, why), g in skipped.groupby(["analysis", "why"], sort=False):
                outs = [lab.outcome(o) for o in g["outcome"].dropna().unique()]
                what = t(f"plan.{analysis}", lang)
                items.append(f"{what}{': ' + ', '.join(outs) if outs else ''} — {why}.")
            blocks += [t("methods.skipped", lang), items]
    return Section(t("section.methods_appendix", lang), blocks)


def weighting_text(res: dict, cfg: SurveyConfig, lab: Labels) -> str:
    lang = lab.lang
    w = res["weights"]
    method = weights_method(res)
    if method == "rake":
        used = (
            [m for m in str(w["margins_used"].iloc[-1]).split(",") if m]
            if "margins_used" in w
            else []
        )
        trim = cfg.design.weights.trim_ratio or 0
        return t(
            "methods.weighting_based" if cfg.design.weights.column else "methods.weighting",
            lang,
            margins=_and_list([lab.variable(m) for m in used], lang),
            trim=fmt_number(trim, lang, 0),
        )
    return t(f"methods.weighting_{method}", lang)


def _and_list(items: list[str], lang: str) -> str:
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {t('stat.and', lang)} " + items[-1]


def cover(cfg: SurveyConfig, lab: Labels) -> Section:
    """Who publishes the report, for which period, whom to ask and how to cite it (from the
    config's ``report`` block; lines without a configured value are left out)."""
    lang, rep = lab.lang, cfg.report
    period = _and_list([lab.wave(w.id) for w in cfg.waves], lang)
    year = max(w.reference_date for w in cfg.waves).year if cfg.waves else dt.date.today().year
    who = rep.institution(lang) if rep.institution else cfg.survey.city
    cite = (
        rep.citation(lang)
        if rep.citation
        else t("cover.citation_default", lang, who=who, year=year, title=cfg.survey.title(lang))
    )
    items = [
        t("cover.institution", lang, value=rep.institution(lang)) if rep.institution else "",
        t("cover.period", lang, value=period),
        t("cover.contact", lang, value=rep.contact) if rep.contact else "",
    ]
    blocks: list = [[i for i in items if i], t("cover.cite_intro", lang), cite]
    return Section(t("section.cover", lang), blocks)


Z_POWER = 1.96 + 0.84  # two-sided 5% test with 80% power
NEED_MAX_RATIO = 5  # beyond 5x the current sample, say "small if any" rather than a number


def lower_first(text: str) -> str:
    """A label inside a sentence: "Kepercayaan diri" -> "kepercayaan diri", but "TPBIS" stays."""
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def n_needed(r, unit: str) -> int | None:
    """Respondents needed to tell an effect as large as the current estimate from zero (80%
    power, 5% test): n × (2.8·se / |estimate|)², rounded up to the hundred; None when the
    estimate is about zero or the answer would be absurdly large."""
    lo, hi, est = r.ci_low, r.ci_high, r.estimate
    if unit == "or":
        if min(lo, hi, est) <= 0:
            return None
        lo, hi, est = np.log([lo, hi, est])
    se = (hi - lo) / (2 * 1.96)
    if not np.isfinite(se) or se <= 0 or abs(est) < 1e-9:
        return None
    need = float(r.n) * (Z_POWER * se / abs(est)) ** 2
    if need <= r.n or need > 50 * r.n:
        return None
    return int(np.ceil(need / 100.0) * 100)


def next_steps(res: dict, cfg: SurveyConfig, lab: Labels) -> Section:
    """What this means and what to do next: careful suggestions that follow rules over the
    summary's own effect rows and flagged gaps (never more than the numbers say)."""
    lang, k, last = lab.lang, cfg.report.suppression_threshold, cfg.waves[-1].id
    up, down, unclear = [], [], []
    for name, r in summary_effects(res, cfg, lab):
        ref = 1 if _unit(lab, name) == "or" else 0
        if _sig(r):
            (up if r.estimate > ref else down).append(lab.outcome(name))
        else:
            unclear.append((name, r))
    items = []
    if _took_part(res) is None:
        items.append(t("next.no_comparison", lang))
    if up:
        up = [lower_first(x) for x in up]
        items.append(t("next.continue", lang, outcomes=_and_list(up, lang)))
    if down:
        down = [lower_first(x) for x in down]
        items.append(t("next.review", lang, outcomes=_and_list(down, lang)))
    for name, r in unclear:
        need = n_needed(r, _unit(lab, name))
        if need is None:
            key = "next.more_data"
        else:
            key = "next.more_data_n" if need <= NEED_MAX_RATIO * r.n else "next.more_data_small"
        items.append(t(key, lang, outcome=lab.outcome(name), n=fmt_int(need or 0, lang)))
    gaps = (
        flagged_gaps(res["estimates"], last, k, cfg.report.precision_min_n)
        if _took_part(res)
        else pd.DataFrame()
    )
    for g, rows in gaps.groupby(["group_var", "group"], sort=False) if len(gaps) else []:
        names = [lower_first(lab.outcome(_outcome_name(lab, o))) for o in rows["outcome"]]
        key = "next.library_gap" if g[0] == cfg.design.cluster else "next.outreach"
        items.append(t(key, lang, group=lab.group(*g), outcomes=_and_list(names, lang)))
    small = _small_sites(res, cfg)
    if small:
        items.append(t("next.small_libraries", lang, n=small, m=cfg.report.precision_min_n))
    items.append(t("next.repeat", lang))
    return Section(
        t("section.next_steps", lang),
        [t("next.intro", lang), items]
        + (
            [Callout(t("next.caution", lang), "info")]
            if analyses_run(res) & EFFECT_ANALYSES
            else []
        ),
    )


def _small_sites(res: dict, cfg: SurveyConfig) -> int:
    """How many libraries have fewer respondents than the precision bar in the latest wave."""
    rows = pick(res["estimates"], analysis="site", wave=cfg.waves[-1].id)
    if rows.empty:
        return 0
    sizes = rows.groupby("group")["n"].max()
    return int((sizes < cfg.report.precision_min_n).sum())


MAX_LIBRARIES_SHOWN = 60  # above this, the side-by-side table is in the workbook only


def libraries_frame(res: dict, cfg: SurveyConfig, lab: Labels) -> pd.DataFrame | None:
    """Every library's main figures side by side (latest wave), grouped by kecamatan,
    suppressed and with its precision warning."""
    lang, k, last = lab.lang, cfg.report.suppression_threshold, cfg.waves[-1].id
    est = res["estimates"]
    rows = pick(est, analysis="site", wave=last)
    if rows.empty:
        return None
    outcomes, pct_cols = _site_outcomes(res, lab)
    rows = publishable(rows[rows["outcome"].isin(outcomes)], k)
    size_of = site_sizes(est, last, k)[["n", "suppression"]].to_dict("index")
    by_site: dict[str, dict[str, _Row]] = {}  # one pass over the rows, not one per library
    cols = ["group", "outcome", "term", "estimate", "ci_low", "ci_high", "n", "suppressed"]
    for rec in _records(rows, cols):
        by_site.setdefault(rec["group"], {})[rec["outcome"]] = rec
    heads = {}  # column headings, once (not once per library)
    for o in outcomes:
        heads[o] = _measure(lab, res, o)
        if o not in pct_cols and lab.range_text(o):
            heads[o] = with_range(heads[o], lab.range_text(o))
    table = []
    for s in sorted(cfg.sites, key=lambda x: (x.kecamatan, x.name)):
        mine = by_site.get(s.id, {})
        if not mine:
            continue
        size = size_of.get(s.id, {})
        rec = {
            t("group.site", lang): s.name,
            t("libraries.kecamatan", lang): s.kecamatan,
            t("stat.n", lang): t("stat.suppressed_short", lang)
            if size.get("suppression") is not None
            else fmt_int(size["n"], lang),
        }
        notes = set()
        for o in outcomes:
            r = mine.get(o)
            pct, head = o in pct_cols, heads[o]
            if r is None or r["suppressed"]:
                rec[head] = t("stat.suppressed_short", lang) if r is not None else "–"
                continue
            rec[head] = fmt_percent(r.estimate, lang) if pct else fmt_number(r.estimate, lang, 2)
            notes.add(precision_note(cfg, lab, o, r, False))
        shown = bool(notes)  # a published estimate was seen (its note may be empty)
        rec[t("precision.column", lang)] = "; ".join(sorted(notes - {""})) or (
            t("precision.ok", lang) if shown else "–"
        )
        table.append(rec)
    return pd.DataFrame(table) if table else None


def libraries_table(res: dict, cfg: SurveyConfig, lab: Labels) -> Section | None:
    """Every library side by side, so an official can compare libraries in one place; at
    national scale (more than MAX_LIBRARIES_SHOWN) the table is in the workbook instead."""
    lang, k, last = lab.lang, cfg.report.suppression_threshold, cfg.waves[-1].id
    n_sites = len(cfg.sites)
    if n_sites > MAX_LIBRARIES_SHOWN:
        return Section(
            t("section.libraries", lang),
            [t("libraries.in_workbook", lang, n=fmt_int(n_sites, lang))],
        )
    frame = libraries_frame(res, cfg, lab)
    if frame is None:
        return None
    return Section(
        t("section.libraries", lang),
        [
            t("libraries.intro", lang),
            Table(
                frame,
                t("libraries.caption", lang, wave=lab.wave(last)),
                t("stat.suppressed_note", lang, k=k) + " " + precision_rule(cfg, lang),
            ),
        ],
    )


GLOSSARY = [
    "confidence_interval",
    "n",
    "percentage_points",
    "odds_ratio",
    "p",
    "associated",
    "weighting",
    "design_effect",
    "effective_n",
    "alpha",
    "suppressed",
    "did",
    "gap",
    "tpbis",
    "iplm",
    "tkm",
]


def glossary_used(res: dict) -> set[str]:
    """The glossary's terms that depend on what ran, among those this survey's report uses."""
    ran, est = analyses_run(res), res.get("estimates")
    used = {"percentage_points", "associated"} if ran & EFFECT_ANALYSES else set()
    used |= {"odds_ratio"} if ran & {"ordinal", "inclusion"} else set()
    used |= {"did"} if "did" in ran else set()
    used |= {"gap"} if "inclusion" in ran else set()
    if est is not None and "p" in est and est["p"].notna().any():
        used.add("p")
    if weights_method(res) == "rake":
        used.add("weighting")
    if len(res.get("reliability", [])):
        used.add("alpha")
    return used


GLOSSARY_IF_USED = {"percentage_points", "odds_ratio", "p", "associated", "weighting", "alpha"}
GLOSSARY_IF_USED |= {"did", "gap"}


def glossary_terms(cfg: SurveyConfig, lang: str, res: dict | None = None) -> list[tuple[str, str]]:
    """The report's terms with one plain explanation each (one term per concept, the same words
    the report uses); with ``res``, only the terms its analyses use; programme and indicator
    names only where the survey mentions them."""
    named = {i.name.upper() for i in cfg.report.official_indicators}
    named |= {w for w in ("TPBIS",) if w in cfg.survey.title("id") + cfg.survey.title("en")}
    used = None if res is None else glossary_used(res)
    keep = []
    for key in GLOSSARY:
        if key in ("tpbis", "iplm", "tkm") and key.upper() not in named:
            continue
        if used is not None and key in GLOSSARY_IF_USED and key not in used:
            continue
        keep.append((t(f"glossary.{key}.term", lang), t(f"glossary.{key}.text", lang)))
    return keep


def glossary(cfg: SurveyConfig, lab: Labels, res: dict | None = None) -> Section:
    items = [f"{term}: {text}" for term, text in glossary_terms(cfg, lab.lang, res)]
    return Section(t("section.glossary", lab.lang), [t("glossary.intro", lab.lang), items])


def city_document(res: dict, quality: dict, cfg: SurveyConfig, cb: Codebook, lang: str) -> Document:
    """The city report in one language."""
    lab = Labels(cfg, cb, lang, outcomes_of(res))
    waves = ", ".join(lab.wave(w.id) for w in cfg.waves)
    sub = "city.subtitle" if cfg.survey.synthetic else "city.subtitle_real"
    sections = [
        cover(cfg, lab),
        executive_summary(res, cfg, lab, quality),
        next_steps(res, cfg, lab),
        who_was_surveyed(res, cfg, lab),
        participation(res, cfg, lab),
        outcomes_by_programme(res, cfg, lab),
        answers(res, cfg, lab),
        by_group(res, cfg, lab),
        change(res, cfg, lab),
        inclusion(res, cfg, lab),
        libraries_table(res, cfg, lab),
        voices(res, lab),
        data_quality(res, cfg, lab, quality),
        indicators(cfg, lab),
        methods(res, cfg, lab),
        glossary(cfg, lab, res),
    ]
    sections = [s for s in sections if s is not None]
    other = [x for x in cfg.report.languages if x != lang]
    links = [(t("report.language_switch", lang), f"city.{other[0]}.html")] if other else []
    links.append((t("site.back", lang), index_name(cfg, lang)))
    links.append((t("index.workbook", lang), workbook_name(cfg, lang)))
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


def _span(lab: Labels, column: str, term) -> float | None:
    """The width of an outcome's possible range (1 for a proportion), for the precision rule."""
    if str(term) == "proportion":
        return 1.0
    r = lab.info(column)
    if r is None or pd.isna(r.get("range_low")) or r["kind"] not in ("scale", "likert"):
        return None
    return float(r["range_high"] - r["range_low"])


def precision_note(cfg: SurveyConfig, lab: Labels, column: str, r, show_n: bool = True) -> str:
    """A short warning beside a number resting on few respondents (fewer than the configured
    ``precision_min_n``) or with a wide interval (wider than ``precision_max_ci_share`` of the
    outcome's range); empty when the number is precise enough or not shown at all."""
    if r is None or bool(r.get("suppressed", False)) or pd.isna(r.get("estimate")):
        return ""
    if r["n"] < cfg.report.precision_min_n:
        if show_n:
            return t("precision.small_n", lab.lang, n=fmt_int(r["n"], lab.lang))
        return t("precision.small_n_hidden", lab.lang, m=cfg.report.precision_min_n)
    span = _span(lab, column, r.get("term"))
    if span and r["ci_high"] - r["ci_low"] > cfg.report.precision_max_ci_share * span:
        return t("precision.wide_ci", lab.lang)
    return ""


def precision_rule(cfg: SurveyConfig, lang: str) -> str:
    """The note under a table with precision marks: when a figure is called imprecise."""
    share = fmt_percent(cfg.report.precision_max_ci_share, lang, 0)
    return t("precision.note", lang, m=cfg.report.precision_min_n, share=share)


def _site_outcomes(res: dict, lab: Labels) -> tuple[list[str], list[str]]:
    """Columns a library report shows (headline scales, taking part, yes/no outcomes) and which
    of them are shown as percentages."""
    scales_ = _scale_outcomes(lab)
    o_tab = lab.outcomes
    yesno = list(o_tab.loc[o_tab["kind"].eq("yesno"), "column"]) if not o_tab.empty else []
    took = _took_part(res)
    pct = [*([took] if took else []), *yesno]
    return [*scales_, *pct], pct


def _measure(lab: Labels, res: dict, column: str) -> str:
    return t("outcome.took_part", lab.lang) if column == _took_part(res) else lab.outcome(column)


def _value(lab: Labels, r, pct: bool, k: int) -> str:
    """An estimate with its interval, or the suppression marker."""
    lang = lab.lang
    if r is None:
        return "–"
    if bool(r.get("suppressed", False)) or pd.isna(r.get("estimate")):
        return t("stat.suppressed", lang, k=k)
    est = fmt_percent(r.estimate, lang) if pct else fmt_number(r.estimate, lang, 2)
    return f"{est} ({fmt_ci(r.ci_low, r.ci_high, lang, 1 if pct else 2, percent=pct)})"


def _change_cell(lab: Labels, a, b, pct: bool) -> str:
    """The change between two waves' estimates, with an approximate 95% interval that treats
    the two waves as separate samples (wider than a paired interval when people answer twice)."""
    if a is None or b is None or bool(a.get("suppressed")) or bool(b.get("suppressed")):
        return "–"
    if pd.isna(a.estimate) or pd.isna(b.estimate):
        return "–"
    scale = 100.0 if pct else 1.0
    d = (b.estimate - a.estimate) * scale
    half = 1.96 * float(np.hypot(a.se, b.se)) * scale
    dec = 1 if pct else 2
    return f"{_signed(d, lab.lang, dec)} ({fmt_ci(d - half, d + half, lab.lang, dec)})"


class _Row(dict):
    """One estimate row as a plain mapping with attribute access (``r.estimate``, ``r["n"]``,
    ``r.get``): what the report's cell helpers read, without a pandas Series per row."""

    def __getattr__(self, name: str):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def _records(rows: pd.DataFrame, cols: list[str] | None = None) -> list[_Row]:
    """Rows as :class:`_Row` mappings, read a column at a time (``to_dict("records")`` boxes
    every text cell of an Arrow-backed column one by one)."""
    cols = list(rows.columns) if cols is None else [c for c in cols if c in rows]
    values = [rows[c].tolist() for c in cols]
    return [_Row(zip(cols, rec, strict=True)) for rec in zip(*values, strict=True)]


def _rows_by_outcome(rows: pd.DataFrame) -> dict[str, _Row]:
    return {rec["outcome"]: rec for rec in _records(rows)}


def site_document(res: dict, cfg: SurveyConfig, cb: Codebook, site: str, lang: str) -> Document:
    """One library's report in one language: its numbers beside the city's with a precision
    warning, both waves and the change, participants against others where numbers allow, and
    what its respondents wrote. Suppressed numbers never leave a sentence half-said."""
    lab = Labels(cfg, cb, lang, outcomes_of(res))
    k = cfg.report.suppression_threshold
    est, last = res["estimates"], cfg.waves[-1].id
    name = lab.site(site)
    mine = pick(est, analysis="site", group="" + site, wave=last)
    city = pick(est, analysis="descriptive", group_var=None, wave=last)
    n_site = int(mine["n"].max()) if not mine.empty else 0
    sizes = site_sizes(est, last, k)
    hide_n = site in sizes.index and sizes.loc[site, "suppression"] == "secondary"
    blocks: list = []
    sections: list[Section] = []
    if n_site < k:
        blocks.append(Callout(t("site.too_small", lang, k=k), "warning"))
    else:
        intro = (
            t("site.intro_hidden_n", lang, site=name, wave=lab.wave(last))
            if hide_n
            else t("site.intro", lang, site=name, n=fmt_int(n_site, lang), wave=lab.wave(last))
        )
        blocks.append(intro)
        outcomes, pct_cols = _site_outcomes(res, lab)
        scales_ = [o for o in outcomes if o not in pct_cols]
        mine_p = publishable(mine[mine["outcome"].isin(outcomes)], k)
        m_by, c_by = _rows_by_outcome(mine_p), _rows_by_outcome(city)
        rows = []
        for o in outcomes:
            if o not in m_by or o not in c_by:
                continue
            pct = o in pct_cols
            m = m_by[o]
            rows.append(
                {
                    t("site.measure", lang): _measure(lab, res, o),
                    t("site.this_site", lang): _value(lab, m, pct, k),
                    t("site.city", lang): _value(lab, c_by[o], pct, k),
                    t("stat.n", lang): t("stat.suppressed_short", lang)
                    if hide_n
                    else fmt_int(m["n"], lang),
                    t("precision.column", lang): precision_note(cfg, lab, o, m, not hide_n)
                    or t("precision.ok", lang),
                }
            )
        if rows:
            blocks.append(
                Table(
                    pd.DataFrame(rows),
                    t("site.compare_caption", lang, site=name, wave=lab.wave(last)),
                    f"{t('stat.ci95', lang)} = {t('stat.ci95_long', lang)}. "
                    + t("site.interval_note", lang)
                    + " "
                    + precision_rule(cfg, lang),
                )
            )
        scales_rows = []
        for o in scales_:
            if o in m_by and o in c_by:
                here, town = t("site.this_site", lang), t("site.city", lang)
                for who, r in ((here, m_by[o]), (town, c_by[o])):
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
                _charts().forest(
                    pd.DataFrame(scales_rows),
                    "label",
                    "estimate",
                    "ci_low",
                    "ci_high",
                    lang,
                    t("site.chart_title", lang, site=name),
                    ref=None,
                    caption=t("site.chart_caption", lang, site=name, wave=lab.wave(last)),
                    threshold=k,
                    value_range=lab.scale_range(*scales_),
                    style_col="who",
                )
            )
        blocks.append(Callout(t("summary.association", lang), "info"))
        sections += [
            s
            for s in (
                site_change(res, cfg, lab, site, outcomes, pct_cols),
                site_participants(res, cfg, lab, site, hide_n),
                site_voices(res, lab, site),
            )
            if s is not None
        ]
    other = [x for x in cfg.report.languages if x != lang]
    links = [(t("report.language_switch", lang), f"{site}.{other[0]}.html")] if other else []
    links.append((t("site.back", lang), "../" + index_name(cfg, lang)))
    return Document(
        title=name,
        subtitle=t("site.subtitle", lang, survey=cfg.survey.title(lang), wave=lab.wave(last)),
        lang=lang,
        sections=[Section(t("group.site", lang) + ": " + name, blocks), *sections],
        links=links,
        footer=t("city.footer", lang, survey=cfg.survey.id, date=fmt_date(dt.date.today(), lang)),
        notice=synthetic_notice(cfg, lang),
    )


def site_change(
    res: dict, cfg: SurveyConfig, lab: Labels, site: str, outcomes: list[str], pct_cols: list[str]
) -> Section | None:
    """Both waves side by side for the library, the change between them, and the city's change."""
    if len(cfg.waves) < 2:
        return None
    lang, k = lab.lang, cfg.report.suppression_threshold
    est = res["estimates"]
    first, last = cfg.waves[0].id, cfg.waves[-1].id
    mine = {
        w: _rows_by_outcome(publishable(pick(est, analysis="site", group=site, wave=w), k))
        for w in (first, last)
    }
    city = {
        w: _rows_by_outcome(pick(est, analysis="descriptive", group_var=None, wave=w))
        for w in (first, last)
    }
    rows = []
    for o in outcomes:
        a, b = mine[first].get(o), mine[last].get(o)
        if a is None and b is None:
            continue
        pct = o in pct_cols
        notes = {precision_note(cfg, lab, o, r, False) for r in (a, b)} - {""}
        rows.append(
            {
                t("site.measure", lang): _measure(lab, res, o),
                lab.wave(first): _value(lab, a, pct, k),
                lab.wave(last): _value(lab, b, pct, k),
                t("site.change", lang): _change_cell(lab, a, b, pct),
                t("site.city_change", lang): _change_cell(
                    lab, city[first].get(o), city[last].get(o), pct
                ),
                t("precision.column", lang): "; ".join(sorted(notes)) or t("precision.ok", lang),
            }
        )
    if not rows:
        return None
    return Section(
        t("site.change_heading", lang),
        [
            t("site.change_intro", lang, first=lab.wave(first), last=lab.wave(last)),
            Table(
                pd.DataFrame(rows),
                t("site.change_caption", lang, site=lab.site(site)),
                t("site.change_note", lang),
            ),
        ],
    )


def site_participants(
    res: dict, cfg: SurveyConfig, lab: Labels, site: str, hide_n: bool
) -> Section | None:
    """Participants against similar non-participants inside this library (the inclusion lens's
    by-library rows), where the library has enough respondents; nothing without a comparison."""
    if _took_part(res) is None or cfg.design.cluster is None:
        return None
    lang, k, last = lab.lang, cfg.report.suppression_threshold, cfg.waves[-1].id
    rows = pick(
        res["estimates"], analysis="inclusion", group_var=cfg.design.cluster, group=site, wave=last
    )
    rows = publishable(rows, k)
    heading = t("site.participants_heading", lang)
    m = max(cfg.report.precision_min_n, k)
    if rows.empty or rows["suppressed"].all() or rows["n"].max() < m:
        return Section(heading, [t("site.participants_none", lang, k=m)])
    table = []
    for o in lab.outcomes.itertuples():
        sub = rows[rows["outcome"] == o.column]
        if sub.empty:
            continue
        r = sub.iloc[0]
        note = "" if r["suppressed"] else precision_note(cfg, lab, o.column, r, not hide_n)
        table.append(
            {
                t("site.measure", lang): lab.outcome(o.outcome),
                t("site.participant_gap", lang): _cell(lab, o.outcome, r),
                t("precision.column", lang): note or t("precision.ok", lang),
            }
        )
    return Section(
        heading,
        [
            t("site.participants_intro", lang),
            Table(
                pd.DataFrame(table),
                t("site.participants_caption", lang, site=lab.site(site), wave=lab.wave(last)),
                t("programme.table_note", lang),
            ),
        ],
    )


def site_voices(res: dict, lab: Labels, site: str) -> Section | None:
    """What this library's respondents wrote: the themes most answers touch (keyword counts,
    large libraries only, small counts left out) and a few masked answers as examples."""
    lang = lab.lang
    blocks: list = []
    themes = res.get("site_themes")
    if themes is not None and not themes.empty:
        mine = themes[themes["site"] == site].sort_values("n_theme", ascending=False).head(3)
        if not mine.empty:
            parts = [
                t(
                    "site.theme_count",
                    lang,
                    theme=t(f"theme.{r.theme}", lang),
                    n=fmt_int(r.n_theme, lang),
                    total=fmt_int(r.n_answers, lang),
                )
                for r in mine.itertuples()
            ]
            k = lab.cfg.report.suppression_threshold
            blocks += [t("site.themes_intro", lang, k=k), parts]
    q = res.get("site_quotes")
    if q is not None and not q.empty and (q["site"] == site).any():
        blocks += [
            t("site.voices_intro", lang),
            [f"“{x}”" for x in q.loc[q["site"] == site, "text"]],
        ]
    if not blocks:
        return None
    return Section(t("site.voices_heading", lang), blocks)


# --- writing -----------------------------------------------------------------------------------


def rendered(doc: Document, stem: str, formats: list[str]) -> dict[str, str | bytes]:
    """A document in each of ``formats``: file name -> HTML text or PDF bytes."""
    out: dict[str, str | bytes] = {}
    if "html" in formats:
        out[f"{stem}.html"] = render.render_html(doc)
    if "pdf" in formats:
        out[f"{stem}.pdf"] = render.render_pdf(doc)
    return out


def index_name(cfg: SurveyConfig, lang: str) -> str:
    """The landing page in ``lang``: index.html in the first report language."""
    return "index.html" if lang == cfg.report.languages[0] else f"index.{lang}.html"


def workbook_name(cfg: SurveyConfig, lang: str) -> str:
    """The published tables as a workbook: tables.xlsx in the first report language."""
    return "tables.xlsx" if lang == cfg.report.languages[0] else f"tables.{lang}.xlsx"


def _city_language(res: dict, quality: dict, cfg: SurveyConfig, cb: Codebook, lang: str):
    """One language's city document and its files: report, workbook, landing page."""
    doc = city_document(res, quality, cfg, cb, lang)
    files = rendered(doc, f"city.{lang}", cfg.report.formats)
    files[workbook_name(cfg, lang)] = workbook(doc, cfg, res, cb)
    files[index_name(cfg, lang)] = index_html(cfg, lang, res, cb)
    return doc, files


_FORK_INPUTS: tuple = ()  # what a forked worker inherits instead of receiving it through a pipe
FORK_WAIT_SECONDS = 600  # a worker that has not answered by then is given up (built here instead)


def _forked_language(lang: str) -> dict[str, str | bytes]:
    return _city_language(*_FORK_INPUTS, lang)[1]


def _fork_workers(n_langs: int) -> int:
    """Worker processes for the languages after the first: forked (Linux) when a second CPU is
    free for this process, else none (Windows and macOS build the languages one by one)."""
    if n_langs < 2 or sys.platform != "linux":
        return 0
    return min(n_langs - 1, len(os.sched_getaffinity(0)) - 1)


def city_files(
    res: dict, quality: dict, cfg: SurveyConfig, cb: Codebook, built: dict | None = None
) -> dict[str, str | bytes]:
    """City report in every language and format, the workbook of its tables, and the landing
    page in every language: file name (in the reports folder) -> contents.  The languages
    after the first are built in forked workers meanwhile (same code, same files: the stage's
    wall time is one language's, not the sum).  ``built`` receives the documents built in this
    process, the first language's at least (the notebook shows it)."""
    global _FORK_INPUTS
    langs = list(cfg.report.languages)
    workers = _fork_workers(len(langs))
    by_lang: dict[str, dict[str, str | bytes]] = {}
    pool, pending = None, {}
    try:
        if workers:
            _FORK_INPUTS = (res, quality, cfg, cb)
            pool = multiprocessing.get_context("fork").Pool(workers)
            pending = {lang: pool.apply_async(_forked_language, (lang,)) for lang in langs[1:]}
        for lang in langs[:1] if pool else langs:
            doc, by_lang[lang] = _city_language(res, quality, cfg, cb, lang)
            if built is not None:
                built[lang] = doc
        for lang, job in pending.items():
            try:
                by_lang[lang] = job.get(timeout=FORK_WAIT_SECONDS)
            except multiprocessing.TimeoutError:  # a stuck worker never stalls the report
                by_lang[lang] = _city_language(res, quality, cfg, cb, lang)[1]
    finally:
        _FORK_INPUTS = ()
        if pool:
            pool.terminate()
            pool.join()
    return {name: body for lang in langs for name, body in by_lang[lang].items()}


def site_files(res: dict, cfg: SurveyConfig, cb: Codebook, site: str) -> dict[str, str | bytes]:
    """One library's report in every language and format: file name (in the sites folder) ->
    contents."""
    if site not in cfg.site_ids:
        from pipelines.errors import RunError

        raise RunError(f"Site '{site}' is not in the config's sites ({', '.join(cfg.site_ids)}).")
    files: dict[str, str | bytes] = {}
    for lang in cfg.report.languages:
        doc = site_document(res, cfg, cb, site, lang)
        files |= rendered(doc, f"{site}.{lang}", cfg.report.formats)
    return files


def published_tables(doc: Document) -> list[tuple[str, Table]]:
    """Every table a document publishes, numbered as the report numbers them."""
    tables = [b for s in doc.sections for b in s.blocks if isinstance(b, Table)]
    return [(f"{t('chart.table', doc.lang)} {i}", tab) for i, tab in enumerate(tables, start=1)]


def _blank_suppressed(frame: pd.DataFrame, lang: str, k: int) -> pd.DataFrame:
    """A published table with its suppressed cells empty (a spreadsheet reader sums blanks as
    nothing instead of tripping over the word)."""
    marks = {t("stat.suppressed", lang, k=k), t("stat.suppressed_short", lang)}
    return frame.map(lambda v: None if isinstance(v, str) and v in marks else v)


def _write_rows(ws, rows, start: int = 0) -> int:
    """Rows of published cells from row ``start`` (0-based) on; return the next free row. Text
    is written as text (never a formula or link) after :func:`suppress.xlsx_text`'s guard."""
    r = start
    for rec in rows:
        for c, value in enumerate(rec):
            value = suppress.xlsx_text(value)
            if value is None:
                continue
            if isinstance(value, bool | np.bool_):
                ws.write_boolean(r, c, bool(value))
            elif isinstance(value, int | float | np.integer | np.floating):
                if np.isfinite(value):  # an infinite ratio is no figure a reader can use
                    ws.write_number(r, c, float(value))
            elif isinstance(value, str):
                ws.write_string(r, c, value)
            else:
                ws.write_string(r, c, str(value))
        r += 1
    return r


WORKBOOK_OPTIONS = {  # every cell as given: no text read as a formula, a number or a link
    "in_memory": True,
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
}


def workbook(doc: Document, cfg: SurveyConfig, res: dict | None = None, cb=None) -> bytes:
    """Every table of the city report (already suppressed) and the library side-by-side table
    as sheets of one Excel workbook (its bytes); every cell is written as text and guarded
    against formula injection."""
    from io import BytesIO

    import xlsxwriter  # writes a national workbook in half openpyxl's time

    lang, k = doc.lang, cfg.report.suppression_threshold
    buf = BytesIO()
    wb = xlsxwriter.Workbook(buf, WORKBOOK_OPTIONS)
    about = wb.add_worksheet(t("workbook.about_sheet", lang)[:31])
    _write_rows(about, [[doc.title], [doc.subtitle], [t("workbook.about", lang, k=k)]])
    for label, tab in published_tables(doc):
        ws = wb.add_worksheet(label[:31])
        ws.set_column(0, 0, 36)
        frame = _blank_suppressed(tab.frame, lang, k)
        r = _write_rows(ws, [[f"{label}. {tab.caption}"], [str(c) for c in frame.columns]])
        r = _write_rows(ws, frame.itertuples(index=False, name=None), r)
        if tab.note:
            _write_rows(ws, [[tab.note]], r + 1)
    if res is not None and cb is not None and len(cfg.sites) > MAX_LIBRARIES_SHOWN:
        lab = Labels(cfg, cb, lang, outcomes_of(res))
        frame = libraries_frame(res, cfg, lab)
        if frame is not None:
            ws = wb.add_worksheet(t("section.libraries", lang)[:31])
            frame = _blank_suppressed(frame, lang, k)
            r = _write_rows(ws, [[str(c) for c in frame.columns]])
            _write_rows(ws, frame.itertuples(index=False, name=None), r)
    wb.close()
    return buf.getvalue()


def participation_sentence(res: dict, cfg: SurveyConfig, lab: Labels) -> list[str]:
    """How many took part in the latest wave, as one sentence (none without a comparison)."""
    took, k, last = _took_part(res), cfg.report.suppression_threshold, cfg.waves[-1].id
    if took is None:
        return []
    rows = pick(res["estimates"], analysis="descriptive", outcome=took, wave=last, group_var=None)
    part = _one(publishable(rows, k))
    if part is None or part["suppressed"]:
        return []
    lang = lab.lang
    return [
        t(
            "summary.participation",
            lang,
            pct=fmt_percent(part.estimate, lang),
            wave=lab.wave(last),
            lo=fmt_percent(part.ci_low, lang),
            hi=fmt_percent(part.ci_high, lang),
            n=fmt_int(part.n, lang),
        )
    ]


def headline(res: dict, cfg: SurveyConfig, lab: Labels) -> list[str]:
    """The landing page's headline numbers: taking part, then the summary's sentences."""
    return participation_sentence(res, cfg, lab) + summary_findings(res, cfg, lab)


def index_html(cfg: SurveyConfig, lang: str | None = None, res: dict | None = None, cb=None) -> str:
    """The landing page in one language: the headline numbers, the city report, and every
    library's report grouped by kecamatan, plus the tables workbook."""
    lang = lang or cfg.report.languages[0]
    fmts = cfg.report.formats
    city = [(f"{t('index.city', lang)} ({fmt.upper()})", f"city.{lang}.{fmt}") for fmt in fmts]
    city.append((t("index.workbook", lang), workbook_name(cfg, lang)))
    groups = [(t("index.city", lang), city)]
    for kec in cfg.places.kecamatan:
        sites = sorted((s for s in cfg.sites if s.kecamatan == kec), key=lambda s: s.name)
        entries = [
            (f"{s.name} ({fmt.upper()})", f"sites/{s.id}.{lang}.{fmt}")
            for s in sites
            for fmt in fmts
        ]
        if entries:
            groups.append((t("index.kecamatan", lang, name=kec), entries))
    others = [
        (t("report.language_switch", lang), index_name(cfg, x))
        for x in cfg.report.languages
        if x != lang
    ]
    groups.append((t("index.data", lang), [*others, (t("index.manifest", lang), "manifest.json")]))
    lines = []
    if res is not None and cb is not None:
        lab = Labels(cfg, cb, lang, outcomes_of(res))
        lines = headline(res, cfg, lab)
    key = "index.intro" if cfg.sites else "index.intro_no_sites"
    intro = t(key, lang, survey=cfg.survey.title(lang), city=cfg.survey.city)
    return render.render_index(
        cfg.survey.title(lang),
        lang,
        [],
        intro=intro,
        notice=synthetic_notice(cfg, lang),
        headline=lines,
        headline_title=t("index.headline", lang),
        groups=groups,
    )


# --- notebooks -----------------------------------------------------------------------------------


def effects_frame(res: dict, cfg: SurveyConfig, lab: Labels) -> pd.DataFrame:
    """The summary's effect rows as a readable table (outcome, reader unit, estimate, interval,
    corrected p, n) — what the analysis notebook shows beside the summary chart."""
    rows = []
    for name, r in summary_effects(res, cfg, lab):
        rows.append(
            {
                "outcome": lab.outcome(name),
                "unit": _unit(lab, name),
                "estimate": round(float(r.estimate), 3),
                "ci_low": round(float(r.ci_low), 3),
                "ci_high": round(float(r.ci_high), 3),
                "p_adj": r.get("p_adj"),
                "n": int(r.n),
                "finding": effect_sentence(lab, name, r),
            }
        )
    return pd.DataFrame(rows)


def show(*items) -> None:
    """Display report sections, tables and figures in a notebook as the report shows them:
    headings and paragraphs as Markdown, tables as DataFrames with their caption, figures as
    images with their caption (so an executed notebook reads as a document)."""
    from IPython.display import SVG, Image, Markdown, display

    def one(block) -> None:
        if isinstance(block, Section):
            display(Markdown(f"### {block.heading}"))
            for b in block.blocks:
                one(b)
        elif isinstance(block, str):
            display(Markdown(block.replace("*", r"\*")))
        elif isinstance(block, list):
            display(Markdown("\n".join(f"- {x}" for x in block)))
        elif isinstance(block, Table):
            display(block.frame.style.set_caption(block.caption).hide(axis="index"))
            if block.note:
                display(Markdown(f"*{block.note}*"))
        elif isinstance(block, Callout):
            display(Markdown(f"> **{block.kind}**: {block.text}"))
        elif isinstance(block, pd.DataFrame):
            display(block)
        elif isinstance(block, render.Figure):
            display(SVG(data=block.svg) if block.svg else Image(data=block.png))
            display(Markdown(f"*{block.title + '. ' if block.title else ''}{block.caption}*"))
        else:
            display(block)

    for item in items:
        one(item)
