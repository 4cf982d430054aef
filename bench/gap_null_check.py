"""Why the null ``skills x disability`` family of the simulation study flags more than 5%.

Not part of ``make test`` (a one-survey smoke run is: tests/test_simulation_study.py).
Findings and figures: docs/simulation.md, "What this shows".

    .venv/bin/python bench/gap_null_check.py --population 2000000 --pop-seeds 0 2 4
    .venv/bin/python bench/gap_null_check.py --seeds 0 800 --draws 400
    .venv/bin/python bench/gap_null_check.py --seeds 800 1600
    .venv/bin/python bench/gap_null_check.py --seeds 0 200 --calibration
    .venv/bin/python bench/gap_null_check.py --seeds 0 1600 --families
    .venv/bin/python bench/gap_null_check.py --seeds 0 200 --business-draws 100

* ``--population``: the disabled respondents' skills effect and gap in very large surveys from
  the study's generator without a gap (is the null really 0 on the bounded 1-5 scale?).
* ``--seeds``: the no-gap surveys of the study (even seeds of the range, 800 respondents): the
  gap test as the inclusion lens runs it (Kott-corrected Taylor SE, both mirror rows' p), the
  same test with the uncorrected Taylor SE (``flags: taylor_satt``, the lens before the
  correction), its Taylor variance over the model-based one, and the mean error.
* ``--calibration``: the same surveys raked to the sample city's gender and age margins
  (places.yaml): the gap's SE with the calibrated variance (what the pipeline uses) over the
  SE with the raked weights taken as fixed.
* ``--families``: the simulation study's surveys (every seed of the range, as
  ``simulation_study.one_survey`` draws them), per-question BH families: the share of null
  families with a "gains less" flag, with the lens's Kott-corrected SEs and with the Taylor SEs
  (the lens before the correction).
* ``--business-draws``: business x gender, the logistic two-group family: business redrawn
  from the study's own model in surveys without a women gap, everything else fixed, each draw
  through the lens as the pipeline runs it (the test's size under its generator).
* ``--draws``: the same surveys' design matrices and designs with outcomes redrawn from the
  working model (independent normal errors; with library effects of the generator's size):
  the rejection rate of the lens's test (Kott-corrected Taylor SE, Satterthwaite df:
  ``taylor_kott_satt``), of the uncorrected Taylor SE (``taylor_satt``, the lens before), of the
  Taylor SE on the design df, of CR2 (Bell-McCaffrey) SEs and of model-based SEs, without the
  outcome's noise; ``E[taylor]/model`` over the draws against the predicted one.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse, stats

sys.path.insert(0, str(Path(__file__).parent))
from simulation_study import BREAKDOWNS, COVS, OUTCOMES, _plant_business, _score  # noqa: E402

from pipelines import inclusion, models  # noqa: E402
from pipelines.simulate.coefficients import CLEAN_SITE_SD  # noqa: E402
from pipelines.simulate.waves import EFFECTS, FAMILIES, TREATMENT, make_waves  # noqa: E402
from pipelines.stats.design import SurveyDesign, _var_from_psu_totals  # noqa: E402


def no_gap_design(seed: int, n: int) -> SurveyDesign:
    """The study's design of one survey without planted gaps (skills scored)."""
    waves, _, _ = make_waves(n, seed, disability_gap=0.0)
    return SurveyDesign(_score(waves["2025"]), strata="kecamatan", cluster="site")


def lens_gap(des: SurveyDesign) -> pd.DataFrame:
    """The inclusion lens's skills x disability rows (effect and gap of both groups)."""
    out = inclusion.subgroup_effects(
        des, ["skills"], COVS, ["disability"], TREATMENT, families=FAMILIES
    )
    return out.set_index(["analysis", "group"])


def interaction_fit(des: SurveyDesign) -> tuple[models.Fit, np.ndarray]:
    """The lens's interaction model refitted (same columns) and the gap contrast d1 - d0."""
    df = des.data
    t = models.as_float(df[TREATMENT])
    dis = models.as_float(df["disability"])
    bx, bnames, ok = models.design_matrix(df, [c for c in COVS if c != "disability"])
    cols = {
        f"{TREATMENT}:0": (dis == 0) * np.nan_to_num(t),
        "group[1]": (dis == 1).astype(float),
        f"{TREATMENT}:1": (dis == 1) * np.nan_to_num(t),
    }
    x = np.column_stack([bx[:, :1], *cols.values(), bx[:, 1:]])
    names = [bnames[0], *cols, *bnames[1:]]
    y = models.outcome_values(df, "skills")
    rows = ok & np.isfinite(t) & np.isfinite(dis)
    fit = models.svy_fit(des, y, x, names, rows=rows, contrast_df=True)
    c = np.zeros(len(names))
    c[fit.index(f"{TREATMENT}:1")], c[fit.index(f"{TREATMENT}:0")] = 1.0, -1.0
    return fit, c


def survey_row(seed: int, n: int, draws: int, rng: np.random.Generator) -> dict:
    """One no-gap survey: the lens's gap test, variance ratios and working-model rates."""
    des = no_gap_design(seed, n)
    rows = lens_gap(des)
    gap0, gap1 = rows.loc[("inclusion_gap", "0")], rows.loc[("inclusion_gap", "1")]
    eff = rows.loc[("inclusion", "1")]
    fit, c = interaction_fit(des)
    _, xk, wk, _, a_inv = fit.work[:5]
    y = models.outcome_values(des.data, "skills")[fit.rows]
    resid = y - xk @ fit.beta
    m, p = xk.shape
    s2 = np.sum(wk * resid**2) / (m - p)
    v_model = s2 * (c @ a_inv @ c)
    est, se = fit.contrast(c)  # the Taylor SE, before Kott's correction
    _, se_kott, _ = fit.contrast_test(c)
    out = {
        "seed": seed,
        "gap": gap1.estimate,
        "refit_gap_diff": abs(est - gap1.estimate) + abs(se_kott - gap1.se),
        "mirror_p_diff": abs(gap0.p - gap1.p),
        "df": gap1.df,
        "rejected": gap1.p < 0.05,
        "kott_factor": (se_kott / se) ** 2,
        "taylor_over_model": se**2 / v_model,
        "taylor_var": se**2,
        "kott_var": se_kott**2,
        "effect_err": eff.estimate - EFFECTS["skills"],
        "effect_se": eff.se,
        "effect_covered": eff.ci_low <= EFFECTS["skills"] <= eff.ci_high,
    }
    # the same data tested with a CR2 SE (Satterthwaite df) and a model-based SE (n - p df)
    psu = des._struct.psu_code[fit.rows]
    infl = xk @ (a_inv @ c)
    r2 = np.empty_like(resid)
    for ix, b in _cr2_blocks(psu, xk, a_inv):
        r2[ix] = b @ resid[ix]
    v_cr2 = np.sum(np.bincount(psu, weights=infl * r2) ** 2)
    for name, var, df in (
        ("taylor_satt", se**2, gap1.df),
        ("cr2_satt", v_cr2, gap1.df),
        ("model", v_model, m - p),
    ):
        out[f"flags: {name}"] = abs(est) > stats.t.ppf(0.975, df) * np.sqrt(var)
    if draws:
        out |= working_model_rates(des, fit, c, gap1.df, s2, draws, rng)
    return out


def calibration_row(seed: int, n: int) -> dict:
    """The gap of one no-gap survey raked to the city's margins: calibrated vs fixed SE."""
    from pipelines.simulate.places import AGE_POP, GENDER_POP
    from pipelines.stats import calibrate

    margins = {"gender": GENDER_POP, "age_band": AGE_POP}
    des = no_gap_design(seed, n)
    out = {"seed": seed}
    for kind in ("fixed", "calibrated"):
        row = lens_gap(calibrate.rake(des, margins, variance=kind)).loc[("inclusion_gap", "1")]
        out[f"{kind}_se"], out[f"{kind}_rejected"] = row.se, row.p < 0.05
    return out


def family_rows(seed: int, n: int) -> list[dict]:
    """One survey of the simulation study (same draws as ``one_survey``): every per-question
    BH family's flag, with Kott-corrected SEs (the lens) and with Taylor SEs (before)."""
    from functools import partialmethod

    rng = np.random.default_rng(10_000 + seed)
    dis_gap, women_gap = (0.5 if seed % 2 else 0.0), (seed // 2) % 2 == 1
    d = _score(make_waves(n, seed, disability_gap=dis_gap)[0]["2025"])
    d["business"] = _plant_business(d, rng, women_gap)
    des = SurveyDesign(d, strata="kecamatan", cluster="site")
    out, corrected = [], models.Fit.contrast_test
    for label, method in (
        ("kott", corrected),
        ("taylor", partialmethod(corrected, corrected=False)),
    ):
        models.Fit.contrast_test = method
        try:
            res = inclusion.subgroup_effects(
                des,
                OUTCOMES,
                COVS,
                BREAKDOWNS,
                TREATMENT,
                families=FAMILIES,
                endogenous={"income_band": ["log_income"]},
            )
        finally:
            models.Fit.contrast_test = corrected
        gap = res[(res.analysis == "inclusion_gap") & res.p.notna()]
        for (outcome, gv), g in gap.groupby(["outcome", "group_var"]):
            planted = (outcome, gv) == ("business", "gender") and women_gap
            planted |= (outcome, gv) == ("skills", "disability") and dis_gap > 0
            if not planted:
                flagged = bool((g.flag == inclusion.FLAG_LESS).any())
                out.append({"seed": seed, "se": label, "family": f"{outcome} x {gv}"})
                out[-1]["flagged"] = flagged
    return out


def _cr2_blocks(psu: np.ndarray, xk: np.ndarray, a_inv: np.ndarray) -> list:
    """Per PSU: its rows and (I - H_gg)^-1/2 (unweighted fit: H_gg = X_g A^-1 X_g')."""
    blocks = []
    for g in np.unique(psu):
        ix = np.flatnonzero(psu == g)
        ev, vec = np.linalg.eigh(np.eye(len(ix)) - xk[ix] @ a_inv @ xk[ix].T)
        blocks.append((ix, (vec / np.sqrt(np.clip(ev, 1e-12, None))) @ vec.T))
    return blocks


def working_model_rates(des, fit, c, df_satt, s2, draws, rng) -> dict:
    """Rejection rates at 5% of the gap test over ``draws`` outcomes from the working model."""
    _, xk, wk, _, a_inv = fit.work[:5]
    if np.ptp(wk) > 0:
        raise ValueError("the working-model check assumes equal weights (the study's design)")
    st = des._struct
    psu = st.psu_code[fit.rows]
    m, p = xk.shape
    member = sparse.csr_matrix((np.ones(m), (psu, np.arange(m))), shape=(st.n_psu, m))
    infl = xk @ (a_inv @ c)  # the estimate is infl @ y
    v1 = c @ a_inv @ c  # model-based variance per unit error variance
    expected, model = fit.working_variances(c)  # per unit error variance: model equals v1
    kott = max(model / expected, 1.0)
    blocks = _cr2_blocks(psu, xk, a_inv)
    # library effects of the generator's SD, relative to this survey's residual SD
    site = CLEAN_SITE_SD / np.sqrt(s2)
    out = {}
    for label, sd_site in (("iid", 0.0), ("site", site)):
        e = rng.normal(0, np.sqrt(1 - sd_site**2), (m, draws))
        e += rng.normal(0, sd_site, (st.n_psu, draws))[psu]
        r = e - xk @ (a_inv @ (xk.T @ e))
        est = infl @ e
        v_taylor = _var_from_psu_totals(st, np.asarray(member @ (infl[:, None] * r)), True)
        r2 = np.empty_like(r)
        for ix, b in blocks:
            r2[ix] = b @ r[ix]
        v_cr2 = (np.asarray(member @ (infl[:, None] * r2)) ** 2).sum(axis=0)
        v_model = (r**2).sum(axis=0) / (m - p) * v1
        for name, var, df in (
            ("taylor_satt", v_taylor, df_satt),
            ("taylor_kott_satt", v_taylor * kott, df_satt),
            ("taylor_design_df", v_taylor, fit.df),
            ("cr2_satt", v_cr2, df_satt),
            ("model", v_model, m - p),
        ):
            out[f"{label}: {name}"] = np.mean(np.abs(est) > stats.t.ppf(0.975, df) * np.sqrt(var))
        out[f"{label}: E[taylor]/model"] = v_taylor.mean() / v1
    out["predicted E[taylor]/model"] = expected / model
    return out


def business_redraw_rates(seed: int, n: int, draws: int) -> dict:
    """One survey without a women business gap (``(seed // 2) % 2 == 0``): business redrawn
    ``draws`` times from the study's own model (``_plant_business``) with everything else
    fixed, each draw through the lens as the pipeline runs it (business x gender): the share
    of draws whose gap is flagged (two-sided p < 0.05), its Satterthwaite df and SE."""
    rng = np.random.default_rng(30_000 + seed)
    d = _score(make_waves(n, seed, disability_gap=0.0)[0]["2025"])
    flags, dfs = [], []
    for _ in range(draws):
        d["business"] = _plant_business(d, rng, False)
        des = SurveyDesign(d, strata="kecamatan", cluster="site")
        out = inclusion.subgroup_effects(
            des, ["business"], COVS, ["gender"], TREATMENT, families=FAMILIES
        ).set_index(["analysis", "group"])
        if ("inclusion_gap", "male") not in out.index:
            continue
        row = out.loc[("inclusion_gap", "male")]
        if np.isfinite(row.p):
            flags.append(row.p < 0.05)
            dfs.append(row.df)
    return {"seed": seed, "draws": len(flags), "rate": np.mean(flags), "df": np.mean(dfs)}


def main(argv=None) -> int:
    a = argparse.ArgumentParser(description=__doc__)
    a.add_argument("--population", type=int, default=0, help="respondents per large survey")
    a.add_argument("--pop-seeds", type=int, nargs="+", default=[0, 2, 4])
    a.add_argument("--seeds", type=int, nargs=2, default=None, help="start stop (even used)")
    a.add_argument("--n", type=int, default=800)
    a.add_argument("--calibration", action="store_true", help="raked: calibrated vs fixed SE")
    a.add_argument("--families", action="store_true", help="null BH families: Kott vs Taylor")
    a.add_argument("--draws", type=int, default=0, help="working-model outcomes per survey")
    a.add_argument(
        "--business-draws", type=int, default=0, help="business x gender: redraws per survey"
    )
    args = a.parse_args(argv)
    if args.seeds and args.business_draws:
        seeds = [s for s in range(*args.seeds) if (s // 2) % 2 == 0]
        res = pd.DataFrame([business_redraw_rates(s, args.n, args.business_draws) for s in seeds])
        k, rate = len(res), np.average(res.rate, weights=res.draws)
        print(
            f"business x gender, {k} surveys x {args.business_draws} redraws: flagged "
            f"{rate:.4f} (SE over surveys {res.rate.std() / np.sqrt(k):.4f}), "
            f"mean df {res.df.mean():.2f}"
        )
        return 0
    if args.population:
        for seed in args.pop_seeds:
            r = lens_gap(no_gap_design(seed, args.population))
            for key in (("inclusion", "1"), ("inclusion_gap", "1")):
                print(
                    f"seed {seed}: {key[0]} disabled {r.loc[key].estimate:.4f} "
                    f"(SE {r.loc[key].se:.4f})"
                )
    if args.seeds and args.families:
        res = pd.DataFrame([r for s in range(*args.seeds) for r in family_rows(s, args.n)])
        t = res.pivot_table(index="family", columns="se", values="flagged", aggfunc="mean")
        t.loc["all null families"] = res.groupby("se").flagged.mean()
        t["surveys"] = res[res.se == "kott"].groupby("family").size()
        t.loc["all null families", "surveys"] = res.seed.nunique()
        print(t[["surveys", "taylor", "kott"]].to_string(float_format=lambda v: f"{v:.4f}"))
    elif args.seeds and args.calibration:
        res = pd.DataFrame(
            [calibration_row(s, args.n) for s in range(args.seeds[0] // 2 * 2, args.seeds[1], 2)]
        )
        ratio = res.calibrated_se / res.fixed_se
        print(
            f"raked no-gap surveys: {len(res)}; calibrated / fixed SE: mean {ratio.mean():.4f}, "
            f"range {ratio.min():.3f}-{ratio.max():.3f}; flags fixed "
            f"{res.fixed_rejected.mean():.4f}, calibrated {res.calibrated_rejected.mean():.4f}"
        )
    elif args.seeds:
        rng = np.random.default_rng(20_261_202)
        start = args.seeds[0] + args.seeds[0] % 2
        res = pd.DataFrame(
            [survey_row(s, args.n, args.draws, rng) for s in range(start, args.seeds[1], 2)]
        )
        k = len(res)
        summary = {
            "no-gap surveys": k,
            "flags of the lens (two-sided p < 0.05)": res.rejected.mean(),
            "mean Kott factor (variance)": res.kott_factor.mean(),
            "largest |mirror p difference|": res.mirror_p_diff.max(),
            "largest refit difference": res.refit_gap_diff.max(),
            "mean gap (truth 0)": res.gap.mean(),
            "SE of the mean gap": res.gap.std() / np.sqrt(k),
            "mean Taylor / model variance": res.taylor_over_model.mean(),
            "its SE": res.taylor_over_model.std() / np.sqrt(k),
            "var(gap) / mean Taylor variance": res.gap.var() / res.taylor_var.mean(),
            "SD of the gaps / their mean SE": res.gap.std() / np.sqrt(res.kott_var).mean(),
            "SD of the gaps / their mean Taylor SE": (
                res.gap.std() / np.sqrt(res.taylor_var).mean()
            ),
            "SD of the disabled effect's errors / its mean SE": (
                res.effect_err.std() / res.effect_se.mean()
            ),
            "coverage of the disabled effect": res.effect_covered.mean(),
        }
        summary |= res[[c for c in res if ": " in c or c.startswith("predicted")]].mean().to_dict()
        summary["mean Satterthwaite df"] = res.df.mean()
        for name, value in summary.items():
            print(f"{name}: {value:.4g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
