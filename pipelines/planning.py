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

Command line: ``python -m pipelines plan <survey.yaml> --effect 0.2 [--outcome skills]``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["Inputs", "icc_anova", "mde_sd", "planning_table", "respondents_needed"]


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
    """What last wave says about the design: ICC, Kish weighting deff, participant share."""

    icc: float
    icc_t: float
    kish: float
    share: float
    libraries: int
    per_library: float
    outcome: str


def _factor(k: int, alpha: float = 0.05, power: float = 0.8) -> float:
    df = max(k - 1, 1)
    return float(stats.t.ppf(1 - alpha / 2, df) + stats.t.ppf(power, df))


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
    r = icc * icc_t
    c = _factor(k) ** 2 * kish / (k * share * (1 - share) * effect**2)
    if 1 / c <= r:
        return float("inf")
    return float(np.ceil((1 - r) / (1 / c - r)))


def planning_table(
    inp: Inputs,
    libraries: Sequence[int] | None = None,
    per_library: Sequence[int] = (10, 20, 30, 50, 75, 100, 150, 200),
) -> pd.DataFrame:
    """Libraries x respondents per library -> total respondents and MDE (SD units)."""
    ks = libraries or sorted({max(inp.libraries, 2), 2 * inp.libraries, 10, 20, 40})
    rows = [
        {
            "libraries": k,
            "per_library": m,
            "respondents": k * m,
            "mde_sd": mde_sd(k, m, inp.icc, inp.kish, inp.share, inp.icc_t),
        }
        for k in ks
        for m in per_library
    ]
    return pd.DataFrame(rows)


def inputs_from(d: pd.DataFrame, outcome: str, cluster: str, treatment: str | None) -> Inputs:
    """Planning inputs from one prepared wave (weights in column ``weight``)."""
    y = pd.to_numeric(d[outcome], errors="coerce").to_numpy(dtype=float)
    w = d["weight"].to_numpy(dtype=float) if "weight" in d else np.ones(len(d))
    ok = np.isfinite(y) & np.isfinite(w) & (w > 0)
    kish = float(1 + (w[ok].std() / w[ok].mean()) ** 2) if ok.any() else 1.0
    share, icc_t = 0.5, 1.0
    if treatment and treatment in d:
        t = pd.to_numeric(d[treatment], errors="coerce").to_numpy(dtype=float)
        s = np.isfinite(t) & ok
        share = float(np.clip(np.average(t[s], weights=w[s]), 0.05, 0.95)) if s.any() else 0.5
        icc_t = icc_anova(t[s], d.loc[s, cluster].to_numpy()) if s.any() else 1.0
    sites = d.loc[ok, cluster]
    k = int(sites.nunique())
    return Inputs(
        icc_anova(y[ok], sites.to_numpy()),
        icc_t,
        kish,
        share,
        k,
        float(ok.sum() / max(k, 1)),
        outcome,
    )


TEXT = {
    "en": {
        "head": "Planning the next wave from {wave} ({outcome}): intra-library correlation "
        "{icc:.3f} (of participation {icc_t:.3f}), weighting design effect {kish:.2f}, {share:.0%} participants, {k} "
        "libraries with about {m:.0f} respondents each.",
        "need": "To detect a difference of {effect:g} SD between participants and others "
        "(80% power, two-sided 5%) with {k} libraries: {need} respondents per library "
        "({total} in all).",
        "more": "With {k} libraries no number of respondents per library is enough to detect "
        "{effect:g} SD: add libraries (see the table).",
        "table": "Smallest detectable difference (SD units) by number of libraries (rows) and "
        "respondents per library (columns):",
    },
    "id": {
        "head": "Perencanaan gelombang berikutnya dari {wave} ({outcome}): korelasi "
        "antar-perpustakaan {icc:.3f} (keikutsertaan {icc_t:.3f}), efek desain pembobotan {kish:.2f}, {share:.0%} "
        "peserta, {k} perpustakaan dengan sekitar {m:.0f} responden masing-masing.",
        "need": "Untuk mendeteksi selisih {effect:g} SD antara peserta dan bukan peserta "
        "(kuasa 80%, dua sisi 5%) dengan {k} perpustakaan: {need} responden per perpustakaan "
        "({total} seluruhnya).",
        "more": "Dengan {k} perpustakaan, berapa pun responden per perpustakaan tidak cukup "
        "untuk mendeteksi {effect:g} SD: tambah perpustakaan (lihat tabel).",
        "table": "Selisih terkecil yang dapat dideteksi (satuan SD) menurut jumlah "
        "perpustakaan (baris) dan responden per perpustakaan (kolom):",
    },
}


def report(inp: Inputs, effect: float, wave: str, langs: Sequence[str] = ("id", "en")) -> str:
    """The officer's text and table, in each language."""
    table = planning_table(inp)
    wide = table.pivot(index="libraries", columns="per_library", values="mde_sd").round(2)
    need = respondents_needed(effect, inp.libraries, inp.icc, inp.kish, inp.share, inp.icc_t)
    out = []
    for lang in langs:
        tx = TEXT[lang]
        f = {
            "wave": wave,
            "outcome": inp.outcome,
            "icc": inp.icc,
            "icc_t": inp.icc_t,
            "kish": inp.kish,
            "share": inp.share,
            "k": inp.libraries,
            "m": inp.per_library,
            "effect": effect,
        }
        out.append(tx["head"].format(**f))
        if np.isfinite(need):
            out.append(tx["need"].format(**f, need=int(need), total=int(need) * inp.libraries))
        else:
            out.append(tx["more"].format(**f))
        out += [tx["table"], wide.to_string(), ""]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m pipelines plan <survey.yaml> --effect 0.2 [--outcome X]``."""
    p = argparse.ArgumentParser(prog="python -m pipelines plan", description=__doc__)
    p.add_argument("config")
    p.add_argument("--effect", type=float, default=0.2, help="difference to detect, in SDs")
    p.add_argument("--outcome", default=None, help="outcome column (default: first headline)")
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
    outcome = a.outcome or next(
        (o.column for o in plan.outcomes_for("inclusion") if o.family == "gaussian"),
        plan.outcomes[0].column if plan.outcomes else None,
    )
    if outcome not in d or not plan.cluster:
        raise RunError(Message("planning.no_outcome", outcome=outcome, wave=last))
    inp = inputs_from(d, outcome, plan.cluster, plan.exposure.took_part)
    print(report(inp, a.effect, last, cfg.report.languages))
    return 0
