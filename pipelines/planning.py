"""Power and planning for the next wave (issue 14 item 6): how many respondents per library.

From last wave's processed data: the intra-library correlation of an outcome (one-way ANOVA
estimator over the sampling clusters, :func:`icc_anova`), the weighting design effect (Kish,
``1 + cv^2`` of the weights) and the share of participants.  A comparison of participants
with others, standardised effect ``delta`` (in SDs of the outcome), ``k`` libraries with
``m`` respondents each, has design effect ``deff = kish x (1 + (m - 1) x icc x icc_t)``
(Scott and Holt: ``icc_t`` is the intra-library correlation of participation itself, 1 when
whole libraries take part or not, near 0 when participation is mixed within libraries) and

    MDE = (t_{0.975, k-1} + t_{0.80, k-1}) x sqrt(deff / (k m p (1 - p)))

(two-sided 5%, 80% power, t on the design's df ``k - 1``).  :func:`respondents_needed`
solves it for ``m``: ``m >= (1 - r) / (1/C - r)`` with ``r = icc x icc_t`` and ``C = (t +
t)^2 kish / (k p (1-p) delta^2)``; when ``1/C <= r`` no number per library suffices and more
libraries are needed.

Yes/no outcomes are planned in percentage points ``d`` at last wave's proportion ``pbar``:
participants ``pbar + (1 - p) d`` and others ``pbar - p d`` (so the mix stays ``pbar``), and
the two-proportion formula (R's ``power.prop.test`` when ``p = 1/2``) times the design effect,
``k m >= deff x (t_a sqrt(pbar qbar / (p (1-p))) + t_b sqrt(p1 q1 / p + p0 q0 / (1-p)))^2 / d^2``
(:func:`srs_n_yesno`).  Money outcomes are planned in percent on the log scale: ``delta =
log(1 + pct/100) / SD(log income)``.

Command line: ``python -m pipelines plan <survey.yaml> --effect 0.2 [--outcome skills]``; the
effect is in the outcome's unit (SD, percentage points for yes/no, percent for money), e.g.
``--effect 5pp`` or ``--effect 10%``.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

from pipelines.i18n import languages, t

__all__ = [
    "Inputs",
    "icc_anova",
    "largest_yesno",
    "mde",
    "mde_sd",
    "mde_yesno",
    "needed",
    "parse_effect",
    "planning_table",
    "possible_yesno",
    "respondents_needed",
    "respondents_needed_yesno",
    "srs_n_yesno",
]

# the unit an effect is planned in, from the plan's reader unit (others: SD of the outcome)
PLAN_UNIT = {"pp": "pp", "percent": "percent"}
DEFAULT_EFFECT = {"sd": 0.2, "pp": 5.0, "percent": 10.0}
SUFFIX = {"sd": "sd", "pp": "pp", "percent": "%"}  # what --effect may end with


def icc_anova(y: np.ndarray, cluster: np.ndarray) -> float:
    """One-way ANOVA estimator of the intra-cluster correlation (unequal cluster sizes:
    ``n0 = (N - sum n_i^2 / N) / (k - 1)``), truncated at 0."""
    y = np.asarray(y, dtype=np.float64)
    ok = np.isfinite(y) & pd.notna(cluster)
    y, codes = y[ok], pd.factorize(np.asarray(cluster, dtype=object)[ok])[0]
    k, n = codes.max() + 1 if len(codes) else 0, len(y)
    if k < 2 or n <= k:
        return float("nan")
    size = np.bincount(codes, minlength=k).astype(float)
    mean_i = np.bincount(codes, weights=y, minlength=k) / size
    msb = float(np.sum(size * (mean_i - y.mean()) ** 2) / (k - 1))
    msw = float(np.sum((y - mean_i[codes]) ** 2) / (n - k))
    n0 = (n - np.sum(size**2) / n) / (k - 1)
    icc = (msb - msw) / (msb + (n0 - 1) * msw)
    return float(max(icc, 0.0))


@dataclass
class Inputs:
    """What last wave says about the design: ICC, Kish weighting deff, participant share;
    ``unit`` of the effect (sd, pp, percent) and ``level``: the proportion (pp) or SD (else)."""

    icc: float
    icc_t: float
    kish: float
    share: float
    libraries: int
    per_library: float
    outcome: str
    unit: str = "sd"
    level: float = float("nan")


def _quantiles(k: int, alpha: float = 0.05, power: float = 0.8) -> tuple[float, float]:
    df = max(k - 1, 1)
    return float(stats.t.ppf(1 - alpha / 2, df)), float(stats.t.ppf(power, df))


def _factor(k: int, alpha: float = 0.05, power: float = 0.8) -> float:
    return sum(_quantiles(k, alpha, power))


def _per_library(c: float, r: float) -> float:
    """Smallest ``m`` with ``m >= c (1 + (m - 1) r)``; ``inf`` when ``c r >= 1``."""
    if c * r >= 1:
        return float("inf")
    return float(np.ceil(c * (1 - r) / (1 - c * r)))


def mde_sd(k: int, m: float, icc: float, kish: float, share: float, icc_t: float = 1.0) -> float:
    """Minimum detectable standardised difference (participants vs others) with ``k``
    libraries of ``m`` respondents (module doc formula)."""
    deff = kish * (1 + (m - 1) * icc * icc_t)
    return _factor(k) * float(np.sqrt(deff / (k * m * share * (1 - share))))


def respondents_needed(
    effect: float, k: int, icc: float, kish: float, share: float, icc_t: float = 1.0
) -> float:
    """Respondents per library so that the MDE is ``effect`` (SD units); ``inf`` when more
    libraries are needed whatever the number per library."""
    c = _factor(k) ** 2 * kish / (k * share * (1 - share) * effect**2)
    return _per_library(c, icc * icc_t)


def _two_groups(pbar: float, share: float, diff: float) -> tuple[float, float]:
    """Participants' and others' proportions ``diff`` apart whose mix is ``pbar``."""
    return pbar + (1 - share) * diff, pbar - share * diff


def largest_yesno(pbar: float, share: float) -> float:
    """The largest rise in proportions possible around ``pbar`` (both within 0-1)."""
    return min((1 - pbar) / (1 - share), pbar / share)


def possible_yesno(diff: float, pbar: float, share: float) -> bool:
    """Whether a difference ``diff`` (participants minus others, non-zero) fits around ``pbar``."""
    return diff != 0 and all(0 <= p <= 1 for p in _two_groups(pbar, share, diff))


def srs_n_yesno(diff: float, pbar: float, share: float, k: int = 0) -> float:
    """Respondents in all (simple random sample) to detect ``diff`` in proportions: the
    two-proportion formula, t on ``k - 1`` df (normal when ``k`` is 0)."""
    ta, tb = _quantiles(k) if k else (stats.norm.ppf(0.975), stats.norm.ppf(0.8))
    p1, p0 = _two_groups(pbar, share, diff)
    v0 = pbar * (1 - pbar) / (share * (1 - share))
    v1 = p1 * (1 - p1) / share + p0 * (1 - p0) / (1 - share)
    return float((ta * np.sqrt(v0) + tb * np.sqrt(max(v1, 0.0))) ** 2 / diff**2)


def respondents_needed_yesno(
    diff: float, k: int, icc: float, kish: float, share: float, pbar: float, icc_t: float = 1.0
) -> float:
    """Respondents per library to detect ``diff`` in proportions (0.05 = 5 percentage
    points); ``inf`` when more libraries are needed, ``nan`` when ``diff`` is impossible."""
    if not possible_yesno(diff, pbar, share):
        return float("nan")
    return _per_library(kish * srs_n_yesno(diff, pbar, share, k) / k, icc * icc_t)


def mde_yesno(
    k: int, m: float, icc: float, kish: float, share: float, pbar: float, icc_t: float = 1.0
) -> float:
    """Minimum detectable rise in proportions with ``k`` libraries of ``m``; ``nan`` when
    even the largest possible rise is not detectable."""
    deff = kish * (1 + (m - 1) * icc * icc_t)
    top = largest_yesno(pbar, share)

    def gap(d: float) -> float:  # respondents to spare; rises with d (crosses 0 once)
        return k * m - deff * srs_n_yesno(d, pbar, share, k)

    if not top > 0 or gap(top) < 0:
        return float("nan")
    return float(optimize.brentq(gap, 1e-9, top, xtol=1e-12))


def needed(inp: Inputs, effect: float) -> float:
    """Respondents per library for ``effect`` in the input's unit (SD, pp, percent)."""
    k, args = inp.libraries, (inp.icc, inp.kish, inp.share)
    if inp.unit == "pp":
        return respondents_needed_yesno(effect / 100, k, *args, inp.level, inp.icc_t)
    if inp.unit == "percent":
        effect = np.log1p(effect / 100) / inp.level if effect > -100 else np.nan
    effect = abs(effect)
    return respondents_needed(effect, k, *args, inp.icc_t) if effect > 0 else float("nan")


def mde(inp: Inputs, k: int, m: float) -> float:
    """Minimum detectable difference in the input's unit (SD, pp, percent)."""
    args = (inp.icc, inp.kish, inp.share)
    if inp.unit == "pp":
        return 100 * mde_yesno(k, m, *args, inp.level, inp.icc_t)
    sd = mde_sd(k, m, *args, inp.icc_t)
    return 100 * float(np.expm1(sd * inp.level)) if inp.unit == "percent" else sd


def planning_table(
    inp: Inputs,
    libraries: Sequence[int] | None = None,
    per_library: Sequence[int] = (10, 20, 30, 50, 75, 100, 150, 200),
) -> pd.DataFrame:
    """Libraries x respondents per library -> total respondents and MDE (in ``unit``)."""
    ks = libraries or sorted({max(inp.libraries, 2), 2 * inp.libraries, 10, 20, 40})
    rows = [
        {
            "libraries": k,
            "per_library": m,
            "respondents": k * m,
            "mde": mde(inp, k, m),
            "unit": inp.unit,
        }
        for k in ks
        for m in per_library
    ]
    return pd.DataFrame(rows)


def inputs_from(
    d: pd.DataFrame, outcome: str, cluster: str, treatment: str | None, unit: str = "sd"
) -> Inputs:
    """Planning inputs from one prepared wave (weights in column ``weight``)."""
    y = pd.to_numeric(d[outcome], errors="coerce").to_numpy(dtype=float)
    w = d["weight"].to_numpy(dtype=float) if "weight" in d else np.ones(len(d))
    ok = np.isfinite(y) & np.isfinite(w) & (w > 0)
    kish = float(1 + (w[ok].std() / w[ok].mean()) ** 2) if ok.any() else 1.0
    share, icc_t = 0.5, 1.0
    if treatment and treatment in d:
        took = pd.to_numeric(d[treatment], errors="coerce").to_numpy(dtype=float)
        s = np.isfinite(took) & ok
        share = float(np.clip(np.average(took[s], weights=w[s]), 0.05, 0.95)) if s.any() else 0.5
        icc_t = icc_anova(took[s], d.loc[s, cluster].to_numpy()) if s.any() else 1.0
    sites = d.loc[ok, cluster]
    k = int(sites.nunique())
    mean = float(np.average(y[ok], weights=w[ok])) if ok.any() else float("nan")
    sd = float(np.sqrt(np.average((y[ok] - mean) ** 2, weights=w[ok]))) if ok.any() else mean
    return Inputs(
        icc_anova(y[ok], sites.to_numpy()),
        icc_t,
        kish,
        share,
        k,
        float(ok.sum() / max(k, 1)),
        outcome,
        unit,
        mean if unit == "pp" else sd,
    )


def _need_line(lang: str, f: dict, need: float) -> str:
    if np.isfinite(need):
        return t("planning.need", lang, **f, need=int(need), total=int(need) * f["k"])
    return t("planning.more" if need == np.inf else "planning.impossible", lang, **f)


def report(inp: Inputs, effect: float, wave: str, langs: Sequence[str] = ("id", "en")) -> str:
    """The officer's text and table, in each language (effect in ``inp.unit``)."""
    table = planning_table(inp)
    wide = table.pivot(index="libraries", columns="per_library", values="mde")
    wide = wide.round(2 if inp.unit == "sd" else 1)
    need = needed(inp, effect)
    out = []
    for lang in langs:
        f = {
            "wave": wave,
            "outcome": inp.outcome,
            "icc": inp.icc,
            "icc_t": inp.icc_t,
            "kish": inp.kish,
            "share": inp.share,
            "k": inp.libraries,
            "m": inp.per_library,
            "level": inp.level,
            "effect_text": t(f"planning.unit.{inp.unit}.effect", lang, effect=effect),
            "unit_name": t(f"planning.unit.{inp.unit}.name", lang),
        }
        out.append(t("planning.head", lang, **f))
        if inp.unit != "sd":
            out.append(t(f"planning.level_{inp.unit}", lang, **f))
        out += [_need_line(lang, f, need), t("planning.table", lang, **f)]
        out.append(wide.to_string(na_rep="-"))
        out += [t("planning.dash", lang), ""] if wide.isna().any().any() else [""]
    return "\n".join(out)


def parse_effect(text: str | None, unit: str) -> float:
    """``--effect`` in the outcome's unit: a number, or one with its unit (``5pp``, ``10%``,
    ``0.2sd``); the default per unit when not given."""
    if text is None:
        return DEFAULT_EFFECT[unit]
    m = re.fullmatch(r"\s*(-?[0-9]*\.?[0-9]+)\s*(sd|pp|%)?\s*", text.lower())
    given = {v: k for k, v in SUFFIX.items()}.get(m.group(2)) if m else None
    if m and given in (None, unit):
        return float(m.group(1))
    from pipelines.errors import Localised, Message, RunError

    unit_text = Localised(**{x: t(f"planning.unit.{unit}.name", x) for x in languages()})
    eg = f"{DEFAULT_EFFECT[unit]:g}{SUFFIX[unit]}"
    raise RunError(Message("planning.effect_unit", text=text, unit=unit_text, example=eg))


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m pipelines plan <survey.yaml> --effect 0.2 [--outcome X]``."""
    p = argparse.ArgumentParser(prog="python -m pipelines plan", description=__doc__)
    p.add_argument("config")
    p.add_argument(
        "--effect",
        default=None,
        help="difference to detect, in the outcome's unit: SD (default 0.2), percentage points "
        "for yes/no (5pp), percent for money (10%%)",
    )
    p.add_argument("--outcome", default=None, help="outcome (default: first headline)")
    p.add_argument("--processed", default=None, help="processed folder (default: published)")
    a = p.parse_args(argv)
    from pipelines import analysis, paths, steps
    from pipelines.codebook import load_codebook
    from pipelines.config import load_config
    from pipelines.errors import Message, RunError

    cfg = load_config(a.config)
    cb = load_codebook(cfg.instrument, cfg.base_dir)
    layout = paths.published(cfg.survey.id)
    if a.processed:
        layout = paths.Layout(a.processed, layout.reports)
    waves, _ = steps.load_clean(layout, cfg)
    plan = analysis.build_plan(cb, cfg, analysis._columns(waves))
    last = cfg.waves[-1].id
    d, _ = analysis._prepare_wave(waves[last], cfg, cb, plan)
    d["weight"] = analysis.make_weights(d, cfg)[0]
    chosen = next((o for o in plan.outcomes if a.outcome in (o.name, o.column)), None)
    outcome = chosen.column if chosen else a.outcome
    outcome = outcome or next(
        (o.column for o in plan.outcomes_for("inclusion") if o.family == "gaussian"),
        plan.outcomes[0].column if plan.outcomes else None,
    )
    if outcome not in d or not plan.cluster:
        raise RunError(Message("planning.no_outcome", outcome=outcome, wave=last))
    unit = PLAN_UNIT.get(chosen.unit, "sd") if chosen else "sd"
    effect = parse_effect(a.effect, unit)
    inp = inputs_from(d, outcome, plan.cluster, plan.exposure.took_part, unit)
    print(report(inp, effect, last, cfg.report.languages))
    return 0
