"""Simulation study (issue 14 item 7): rerun many small surveys from the project's generator
and report bias, SD/SE and 95% coverage per estimand, plus the inclusion lens's false-flag
and detection rates under the old single BH family and the per-question families.

Not part of ``make test`` (a 2-survey smoke run is: tests/test_simulation_study.py).

    .venv/bin/python bench/simulation_study.py --reps 800 --n 800 --out docs/simulation.md

Each survey: make_waves(n, seed) (8+ libraries, strata kecamatan), skills scored; a business
gap for women planted (odds ratio of taking part 1.2 for women vs 2.0 for men) on every other
survey, a disability gap (participants with a disability gain half the skills effect) on every
other survey, crossed, so each gap is 0 in half the surveys (false flags) and planted in the
other half (detection).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines import change, inclusion, models
from pipelines.simulate.waves import FAMILIES, SCALES, TREATMENT, make_waves
from pipelines.stats import scales
from pipelines.stats.design import SurveyDesign

COVS = ["age", "gender", "education", "disability"]
BREAKDOWNS = ["gender", "age_band", "disability", "income_band", "site"]
OUTCOMES = ["skills", "business"]
OR_MEN, OR_WOMEN = 2.0, 1.2


def _score(d):
    d = d.copy()
    for name, (items, rev) in SCALES.items():
        if name in OUTCOMES:
            d[name] = scales.score(d[items].astype(float), reverse=rev).to_numpy()
    return d


def _plant_business(d, rng, women_gap):
    """Business redrawn: log OR of taking part log(2.0) for men, log(1.2) for women if
    ``women_gap`` (else log(2.0) for everyone)."""
    t = d[TREATMENT].astype(float).to_numpy()
    male = (d["gender"] == "male").to_numpy()
    b = np.where(male | (not women_gap), np.log(OR_MEN), np.log(OR_WOMEN))
    p = 1 / (1 + np.exp(-(-1.4 + b * np.nan_to_num(t) + 0.3 * male)))
    y = (rng.random(len(d)) < p).astype(float)
    return np.where(d["business"].isna(), np.nan, y)


def one_survey(seed: int, n: int) -> tuple[list[dict], list[dict], list[dict]]:
    """Estimates against truth, inclusion flags per survey and per BH family (outcome x
    breakdown) for one generated survey."""
    rng = np.random.default_rng(10_000 + seed)
    dis_gap = 0.5 if seed % 2 else 0.0
    women_gap = (seed // 2) % 2 == 1
    waves, panel, truth = make_waves(n, seed, disability_gap=dis_gap)
    d = _score(waves["2025"])
    d["business"] = _plant_business(d, rng, women_gap)
    des = SurveyDesign(d, strata="kecamatan", cluster="site")
    est = []

    def add(name, row, true):
        est.append(
            {
                "estimand": name,
                "truth": true,
                "estimate": row.estimate,
                "se": row.se,
                "df": float(row.df),
                "covered": row.ci_low <= true <= row.ci_high,
            }
        )

    part = models.participation_effects(des, ["skills", "log_income"], COVS, TREATMENT, FAMILIES)
    for r in part.itertuples():
        add(f"participation: {r.outcome}", r, truth["effects"][r.outcome])
    if not women_gap:  # business effect is one log OR for everyone only without the gap
        b = models.participation_effects(des, ["business"], COVS, TREATMENT, FAMILIES)
        add("participation: business (log OR)", b.iloc[0], np.log(OR_MEN))
    ipw, _, _ = change.ipw(des, ["skills"], COVS, TREATMENT)
    add("IPW: skills", ipw.iloc[0], truth["effects"]["skills"])
    pan = _score(panel)
    # as the pipeline: domain estimates of the baseline wave's design (change.did design=)
    did = change.did(pan, ["skills"], COVS, "2025", "2026", TREATMENT, design=des)
    add("DiD: skills", did[did.analysis == "did"].iloc[0], truth["did"]["skills"])
    add("ANCOVA: skills", did[did.analysis == "ancova"].iloc[0], truth["did"]["skills"])
    if dis_gap == 0:
        eff = inclusion.subgroup_effects(
            des, ["skills"], COVS, ["disability"], TREATMENT, families=FAMILIES
        )
        r = eff[(eff.analysis == "inclusion") & (eff.group == "1")]
        if len(r) and np.isfinite(r.iloc[0].estimate):
            add("inclusion: skills effect, disabled", r.iloc[0], truth["effects"]["skills"])

    flags, families = [], []
    for fam in ("grid", "outcome_breakdown"):
        out = inclusion.subgroup_effects(
            des,
            OUTCOMES,
            COVS,
            BREAKDOWNS,
            TREATMENT,
            family=fam,
            families=FAMILIES,
            endogenous={"income_band": ["log_income"]},
        )
        gap = out[out.analysis == "inclusion_gap"]
        less = gap.flag == inclusion.FLAG_LESS
        women = (gap.outcome == "business") & (gap.group_var == "gender") & (gap.group == "female")
        disab = (gap.outcome == "skills") & (gap.group_var == "disability") & (gap.group == "1")
        planted = (women & women_gap) | (disab & (dis_gap > 0))
        # a gap that exists in the generator: only the two planted ones (the mirror rows of a
        # two-group breakdown are the same test and are not counted as false)
        mirror = ((gap.outcome == "business") & (gap.group_var == "gender") & women_gap) | (
            (gap.outcome == "skills") & (gap.group_var == "disability") & (dis_gap > 0)
        )
        false = less & ~planted & ~mirror
        for (outcome, gv), g in gap[gap.p.notna()].groupby(["outcome", "group_var"]):
            families.append(
                {
                    "seed": seed,
                    "scheme": fam,
                    "outcome": outcome,
                    "breakdown": gv,
                    "null": not bool(mirror[g.index].any()),
                    "flagged": bool(less[g.index].any()),
                }
            )
        flags.append(
            {
                "seed": seed,
                "family": fam,
                "women_gap": women_gap,
                "disability_gap": dis_gap > 0,
                "women_flagged": bool((less & women).any()),
                "women_raw_p": float(gap[women].p.iloc[0]) if women.any() else np.nan,
                "disability_flagged": bool((less & disab).any()),
                "false_flags": int(false.sum()),
                "flags": int(less.sum()),
                "false_share": float(false.sum() / max(less.sum(), 1)),
                "any_false_flag": bool(false.any()),
                "tests": int(gap.p.notna().sum()),
                "uncertain": int(out.flag.str.startswith(inclusion.FLAG_UNCERTAIN).sum()),
                "max_abs_estimate": float(out.estimate.abs().max()),
            }
        )
    return est, flags, families


def summarise(est: pd.DataFrame, flags: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    g = est.groupby("estimand", sort=False)
    table = pd.DataFrame(
        {
            "surveys": g.size(),
            "truth": g.truth.mean(),
            "bias": g.apply(lambda x: (x.estimate - x.truth).mean()),
            # SD of the errors (the truth differs between gap and no-gap surveys)
            "sd_over_se": g.apply(lambda x: (x.estimate - x.truth).std(ddof=1) / x.se.mean()),
            "mean_df": g.df.mean(),
            "coverage_95": g.covered.mean(),
        }
    )
    rows = []
    for fam, f in flags.groupby("family", sort=False):
        rows.append(
            {
                "BH family": fam,
                "women business gap flagged (planted)": f[f.women_gap].women_flagged.mean(),
                "women gap raw p < 0.05 (planted)": (f[f.women_gap].women_raw_p < 0.05).mean(),
                "disability gap flagged (planted)": f[f.disability_gap].disability_flagged.mean(),
                "women flagged when gap 0": f[~f.women_gap].women_flagged.mean(),
                "disability flagged when gap 0": f[~f.disability_gap].disability_flagged.mean(),
                "false flags per survey": f.false_flags.mean(),
                "surveys with any false flag": f.any_false_flag.mean(),
                "false discovery proportion (mean)": f.false_share.mean(),
                "gap tests per survey": f.tests.mean(),
                "too uncertain rows per survey": f.uncertain.mean(),
                "largest |estimate|": f.max_abs_estimate.max(),
            }
        )
    return table, pd.DataFrame(rows).set_index("BH family").T


def null_families(fam: pd.DataFrame) -> pd.DataFrame:
    """Share of families with no planted gap where some group was flagged "gains less"
    (under a true null BH's FDR is the chance of any flag: nominal 5% two-sided, of which
    about half are "less")."""
    nul = fam[fam.null]
    t = nul.pivot_table(
        index=["outcome", "breakdown"], columns="scheme", values="flagged", aggfunc="mean"
    )
    t.index = [f"{o} x {b}" for o, b in t.index]
    t.index.name = "null family"
    t.loc["all null families"] = nul.groupby("scheme").flagged.mean()
    out = t.join(_against_nominal(nul))
    out.loc["all null families", "surveys"] = len(nul[nul.scheme == "outcome_breakdown"])
    return out


def _against_nominal(nul: pd.DataFrame, scheme: str = "outcome_breakdown") -> pd.DataFrame:
    """Per family of ``scheme``: surveys, the Monte Carlo SE of its flag rate and the exact
    one-sided binomial p of a rate above the nominal 5% (small p: the excess is not luck)."""
    from scipy import stats

    own = nul[nul.scheme == scheme]
    rows = {}
    for (o, b), g in own.groupby(["outcome", "breakdown"]):
        k, n = int(g.flagged.sum()), len(g)
        rows[f"{o} x {b}"] = (n, np.sqrt(0.05 * 0.95 / n), stats.binom.sf(k - 1, n, 0.05))
    out = pd.DataFrame.from_dict(rows, orient="index", columns=["surveys", "mc_se", "p_above_5%"])
    out["surveys"] = out["surveys"].astype(int)
    return out


def markdown(t: pd.DataFrame) -> str:
    """A plain markdown table (numbers to 3 decimals), without an extra dependency."""
    cells = [[str(t.index.name or "")] + [str(c) for c in t.columns]]

    def cell(col, v) -> str:
        if isinstance(v, float) and np.isnan(v):
            return ""
        if col == "surveys":
            return str(int(v))
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    for idx, row in t.iterrows():
        cells.append(
            [str(idx)] + [cell(c, v) for c, v in zip(t.columns, row.to_numpy(), strict=True)]
        )
    lines = ["| " + " | ".join(r) + " |" for r in cells]
    lines.insert(1, "|" + "---|" * len(cells[0]))
    return "\n".join(lines)


HEADER = """# Simulation study: bias, SD/SE and coverage; inclusion-lens flags

Generated by `bench/simulation_study.py` (not part of `make test`; a two-survey smoke run is:
`tests/test_simulation_study.py`). Each survey comes from the project's generator
(`pipelines.simulate.make_waves`: two waves, 14 libraries in 2 kecamatan, participation
confounded by observed covariates, a panel of 60% re-interviewed). Crossed over surveys: a
disability gap (participants with a disability gain half the skills effect) in odd seeds, and
a business gap for women (odds ratio of taking part 1.2 for women, 2.0 for men) in seeds
2, 3, 6, 7, ...; every gap is 0 in the other half (those are the false-flag runs).

**Estimands** (truth from the generator): participation coefficients (covariate-adjusted,
design-based Taylor SE, t on the design df); IPW (SE from the stacked propensity and outcome
estimating equations); DiD and ANCOVA among baseline non-participants (linked panel); the
inclusion lens's effect among disabled respondents (no-gap surveys; Taylor SE with Kott's bias
correction, t on the contrast's own Satterthwaite df, `mean_df`; the others on the design df). `sd_over_se` is the SD of the errors
(estimate minus truth) over the mean SE (near 1 when SEs are right; with ~12 design df the t
quantile, not the SE, carries the small-df uncertainty, and the mean of noisy SEs is below
their root mean square). Monte Carlo SE of a 95% coverage is 0.008 at 800 surveys, 0.011 at
400, 0.015 at 200.

**Inclusion lens**: the same surveys analysed with the old single Benjamini-Hochberg family
(`grid`: every gap of 2 outcomes x 5 breakdowns, ~48 tests; the issue's 76-test family pooled
even more) and the new families (`outcome_breakdown`: one per outcome x breakdown, libraries
their own). A false flag is a "gains less" flag anywhere but the planted gap. Under a true null a
BH family flags some group with probability at most its FDR, 5% (two-sided). The last table
gives that rate for every family without a planted gap; skills is a bounded 1-5 scale, but its
disability gap without a planted gap is 0 to 0.002 in surveys of 2,000,000 respondents
(`bench/gap_null_check.py`); business (a logistic outcome with no interaction) is an exact null.

"""


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--reps", type=int, default=200)
    p.add_argument("--n", type=int, default=800)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="write the markdown tables here")
    p.add_argument("--raw", default=None, help="also keep the raw records (pickle) here")
    p.add_argument("--merge", nargs="+", default=None, help="summarise raw records of earlier runs")
    a = p.parse_args(argv)
    t0 = time.perf_counter()
    est, flags, fams = [], [], []
    if a.merge:  # chunks run side by side, summarised together
        import pickle

        for path in a.merge:
            part = pickle.loads(Path(path).read_bytes())
            est, flags, fams = est + part[0], flags + part[1], fams + part[2]
        a.reps = len({f["seed"] for f in flags})
        a.seed = min(f["seed"] for f in flags)
    for s in range(a.seed, a.seed + a.reps) if not a.merge else ():
        e, f, g = one_survey(s, a.n)
        est += e
        flags += f
        fams += g
    if a.raw:
        import pickle

        Path(a.raw).write_bytes(pickle.dumps((est, flags, fams)))
    secs = time.perf_counter() - t0
    table, rates = summarise(pd.DataFrame(est), pd.DataFrame(flags))
    nulls = null_families(pd.DataFrame(fams))
    text = HEADER + (
        f"{a.reps} surveys of {a.n} respondents (seeds {a.seed}..{a.seed + a.reps - 1}), "
        f"{secs:.0f} s.\n\n"
        + markdown(table)
        + "\n\n"
        + markdown(rates)
        + "\n\n"
        + markdown(nulls)
        + "\n"
    )
    print(text)
    if a.out:
        Path(a.out).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
