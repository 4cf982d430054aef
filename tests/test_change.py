"""Change across waves: attrition, paired change, DiD and IPW balance."""

from __future__ import annotations

import numpy as np
import pytest

from pipelines import change
from pipelines.simulate.waves import FAMILIES, SCALES, TREATMENT, make_waves
from pipelines.stats import scales
from pipelines.stats.design import DesignError, SurveyDesign

COVS = ["age", "gender", "education", "disability"]


def _score(d):
    d = d.copy()
    for name, (items, rev) in SCALES.items():
        d[name] = scales.score(d[items].astype(float), reverse=rev).to_numpy()
    return d


def test_attrition_counts():
    waves, panel, _ = make_waves(1000, 0, retention=0.6)
    a = change.attrition_table(waves, by=[TREATMENT, "gender", "age_band", "disability"])
    total = a[a.group_var == "all"].iloc[0]
    assert (total.n_from, total.linked, total.n_to) == (1000, 600, 1000)
    assert total.retention == pytest.approx(0.6)
    g = a[a.group_var == "gender"]
    assert g["n_from"].sum() == 1000 and g["linked"].sum() == 600
    assert panel["respondent_key"].nunique() == 600


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_did_recovers_planted_change(seed):
    waves, panel, truth = make_waves(1500, seed, disability_gap=0)
    out = change.did(
        _score(panel),
        ["skills", "confidence", "library_roles", "log_income"],
        COVS,
        "2025",
        "2026",
        TREATMENT,
        strata="kecamatan",
        cluster="site",
        families=FAMILIES,
    )
    did = out[out.analysis == "did"].set_index("outcome")
    for o in ("skills", "confidence", "log_income"):
        r = did.loc[o]
        assert r.ci_low <= truth["did"][o] <= r.ci_high, (o, r.estimate)
        assert r.estimate > 0
    assert did.loc["skills", "ci_low"] > 0
    r = did.loc["library_roles"]
    assert r.ci_low <= 0 <= r.ci_high
    assert did["method"].str.contains("difference-in-differences").all()
    anc = out[out.analysis == "ancova"].set_index("outcome")
    assert anc.loc["skills", "ci_low"] <= truth["did"]["skills"] <= anc.loc["skills", "ci_high"]


def test_paired_change_and_dz():
    waves, panel, truth = make_waves(1500, 3, disability_gap=0)
    out = change.paired_change(
        _score(panel), ["skills"], "2025", "2026", TREATMENT, strata="kecamatan", cluster="site"
    )
    mean = out[out.term.str.startswith("mean change")].set_index("group")
    # non-participants change only by the trend; participants by trend + effect (some of
    # them also took part at baseline, so their change is smaller)
    assert mean.loc["did not participate", "ci_low"] < truth["trend"] + 0.1
    assert mean.loc["participated", "estimate"] > mean.loc["did not participate", "estimate"]
    dz = out[out.term == "Cohen's d_z"].set_index("group")
    assert (dz.ci_low < dz.estimate).all() and (dz.estimate < dz.ci_high).all()


def test_cohen_dz_interval():
    rng = np.random.default_rng(0)
    x = rng.normal(0.5, 1, 60)
    dz, lo, hi, n = change.cohen_dz(x)
    assert n == 60 and dz == pytest.approx(x.mean() / x.std(ddof=1))
    assert lo < dz < hi
    # the noncentral-t limits: the observed t is at the 97.5% / 2.5% point
    from scipy import stats

    t = dz * np.sqrt(n)
    assert stats.nct.cdf(t, n - 1, lo * np.sqrt(n)) == pytest.approx(0.975, abs=1e-6)
    assert stats.nct.cdf(t, n - 1, hi * np.sqrt(n)) == pytest.approx(0.025, abs=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ipw_balances_and_recovers(seed):
    waves, _, truth = make_waves(1500, seed, disability_gap=0)
    d = _score(waves["2025"])
    des = SurveyDesign(d, strata="kecamatan", cluster="site")
    est, bal, w = change.ipw(des, ["skills", "library_roles"], COVS, TREATMENT)
    assert bal["smd_before"].abs().max() > 0.2  # the fixture is confounded
    assert (bal["smd_after"].abs() < 0.1).all(), bal
    assert bal["balanced_after"].all()
    e = est.set_index("outcome")
    assert e.loc["skills", "ci_low"] <= truth["effects"]["skills"] <= e.loc["skills", "ci_high"]
    assert e.loc["library_roles", "ci_low"] <= 0 <= e.loc["library_roles", "ci_high"]
    assert (w >= 0).all() and np.isfinite(w).all()


def test_change_estimators_equal_r_survey():
    """Paired change, DiD, ANCOVA and IPW equal R survey computations of the same estimators
    (tests/reference/r_change_reference.R beside the JSON; the panel from make_change_data)."""
    import json
    from pathlib import Path

    import pandas as pd

    ref_dir = Path(__file__).parent / "reference"
    ref = json.loads((ref_dir / "r_change_reference.json").read_text())
    p = pd.read_csv(ref_dir / "change_reference_panel.csv")
    p["wave"] = p["wave"].astype(str)
    design = {"strata": "kecamatan", "cluster": "site", "weight": "weight"}
    got = {}
    pc = change.paired_change(p, ["skills"], "2025", "2026", TREATMENT, **design)
    for r in pc[pc.term.str.startswith("mean change")].itertuples():
        got[f"paired_{r.group}"] = r
    dd = change.did(p, ["skills"], COVS, "2025", "2026", TREATMENT, **design)
    for r in dd.itertuples():
        got[r.analysis] = r
    base = p[p.wave == "2025"].reset_index(drop=True)
    des = SurveyDesign(base, weights="weight", strata="kecamatan", cluster="site")
    # R's svyglm with the IPW weights fixed: the "known propensity" variance
    est, _, _ = change.ipw(
        des, ["skills", "business"], COVS, TREATMENT, families=FAMILIES, propensity_variance="known"
    )
    for r in est.itertuples():
        got[f"ipw_{r.outcome}"] = r
    assert set(got) == set(ref)
    worst = 0.0
    for key, want in ref.items():
        r = got[key]
        np.testing.assert_allclose([r.estimate, r.se], [want["estimate"], want["se"]], rtol=1e-8)
        worst = max(worst, abs(r.estimate - want["estimate"]), abs(r.se - want["se"]))
        assert r.df == want["df"], key
    assert worst < 1e-9, worst


def test_ipw_se_accounts_for_the_estimated_propensity():
    """The stacked-equations SE is close to a delete-one-library jackknife (JKn) that
    refits the propensity in every replicate; the known-propensity SE is not always."""
    waves, _, _ = make_waves(800, 3, disability_gap=0)
    d = _score(waves["2025"])
    des = SurveyDesign(d, strata="kecamatan", cluster="site")
    outs = ["skills", "business"]
    full, _, _ = change.ipw(des, outs, COVS, TREATMENT, families=FAMILIES)
    known, _, _ = change.ipw(
        des, outs, COVS, TREATMENT, families=FAMILIES, propensity_variance="known"
    )
    np.testing.assert_allclose(full.estimate, known.estimate)
    reps, facs = [], []
    for (h, c), _ in d.groupby(["kecamatan", "site"]):
        in_h = (d["kecamatan"] == h).to_numpy()
        nh = d.loc[in_h, "site"].nunique()
        w = np.where(in_h, nh / (nh - 1), 1.0)
        keep = (d["site"] != c).to_numpy()
        dd = d.assign(_w=w)[keep].reset_index(drop=True)
        r, _, _ = change.ipw(
            SurveyDesign(dd, weights="_w", strata="kecamatan", cluster="site"),
            outs,
            COVS,
            TREATMENT,
            families=FAMILIES,
        )
        reps.append(r.estimate.to_numpy())
        facs.append((nh - 1) / nh)
    reps, facs = np.array(reps), np.array(facs)
    jk = np.sqrt((facs[:, None] * (reps - full.estimate.to_numpy()) ** 2).sum(axis=0))
    np.testing.assert_allclose(full.se, jk, rtol=0.1)
    # on skills the known-propensity SE is off by more than 20%; the stacked one is not
    assert abs(known.se.iloc[0] / jk[0] - 1) > 0.2
    assert full["method"].str.contains("estimated propensity").all()


@pytest.mark.parametrize("name", ["jk1_given", "boot_given", "jkn"])
def test_ipw_on_a_replicate_design_refits_the_propensity_per_replicate_as_r(name):
    """On a replicate design the propensity and the outcome model are refitted with every
    replicate's weights: equal to R's withReplicates of the same procedure to 1e-6; the method
    says so."""
    from helpers_designs import replicate_case, replicate_reference

    des, ref = replicate_case(name), replicate_reference(name)["ipw_elem"]
    rows, _, _ = change.ipw(des, ["api00"], ["ell", "meals"], "elem")
    row = rows.iloc[0]
    assert row.estimate == pytest.approx(ref["estimate"], rel=1e-8)
    assert row.se == pytest.approx(ref["se"], rel=1e-6)
    assert f"replicate-{des.type} SE" in row.method and "refitted per replicate" in row.method


def _raking_reference():
    """R's reference (r_change_raking_reference.R), both waves and the long panel."""
    import json
    from pathlib import Path

    import pandas as pd

    ref_dir = Path(__file__).parent / "reference"
    ref = json.loads((ref_dir / "r_change_raking_reference.json").read_text())
    w = pd.read_csv(ref_dir / "change_raking_waves.csv")
    w["wave"] = w["wave"].astype(str)
    base = w[w.wave == "2025"].reset_index(drop=True)
    linked = set(base.respondent_key) & set(w.loc[w.wave == "2026", "respondent_key"])
    panel = w[w.respondent_key.isin(linked)].reset_index(drop=True)
    margins = {
        k: dict(zip(v["level"], v["total"], strict=True)) for k, v in ref["meta"]["margins"].items()
    }
    return ref, base, panel, margins


def _linked_rows(panel, **design):
    """Paired change (three groups), DiD and ANCOVA rows by the reference's names."""
    got = {}
    pc = change.paired_change(panel, ["skills"], "2025", "2026", TREATMENT, **design)
    for r in pc[pc.term.str.startswith("mean change")].itertuples():
        got[f"paired_{r.group}"] = r
    for r in change.did(panel, ["skills"], COVS, "2025", "2026", TREATMENT, **design).itertuples():
        got[r.analysis] = r
    return got


@pytest.mark.parametrize("name", ["taylor_raked", "jkn_raked", "jk1_raked"])
def test_linked_panel_is_a_domain_of_the_raked_baseline_design_as_r(name):
    """Given the baseline wave's raked design, paired change, DiD and ANCOVA are domain
    estimates of it: R's subset(rake(design), linked) (Taylor: calibration residuals over the
    whole wave; replicates: every replicate raked) to 1e-9, df as R's degf; the method says so."""
    from pipelines.stats.calibrate import rake
    from pipelines.stats.replicate import as_replicate

    ref, base, panel, margins = _raking_reference()
    strat = SurveyDesign(base, weights="weight", strata="kecamatan", cluster="site")
    des = {
        "taylor_raked": lambda: rake(strat, margins),
        "jkn_raked": lambda: rake(as_replicate(strat, "JKn"), margins),
        "jk1_raked": lambda: rake(
            as_replicate(SurveyDesign(base, weights="weight", cluster="site"), "JK1"), margins
        ),
    }[name]()
    got = _linked_rows(panel, design=des)
    assert set(got) == set(ref[name])
    worst = 0.0
    for key, want in ref[name].items():
        r = got[key]
        worst = max(worst, abs(r.estimate - want["estimate"]), abs(r.se - want["se"]))
        assert r.df == want["df"], key
        assert "baseline wave's raked design" in r.method, r.method
        se_name = "Taylor" if name.startswith("taylor") else f"replicate-{des.type}-raked"
        assert f"{se_name} SE" in r.method, r.method
    assert worst < 1e-9, worst


def test_linked_panel_without_the_baseline_design_takes_its_weights_as_fixed():
    """Built from the linked rows alone (the raked weights as a column), the estimates are the
    same but the SEs are R's of fixed weights, off the raked design's (by 0.6-13% here)."""
    from pipelines.stats.calibrate import rake

    ref, base, panel, margins = _raking_reference()
    raked = rake(SurveyDesign(base, weights="weight", strata="kecamatan", cluster="site"), margins)
    w = dict(zip(base.respondent_key, raked.row_weights, strict=True))
    fixed = _linked_rows(
        panel.assign(weight=panel.respondent_key.map(w)),
        strata="kecamatan",
        cluster="site",
        weight="weight",
    )
    for key, want in ref["taylor_fixed"].items():
        r, calibrated = fixed[key], ref["taylor_raked"][key]
        np.testing.assert_allclose([r.estimate, r.se], [want["estimate"], want["se"]], rtol=1e-8)
        assert r.estimate == pytest.approx(calibrated["estimate"], rel=1e-10)
        assert abs(r.se / calibrated["se"] - 1) > 0.005, key


def test_linked_rows_follow_the_baseline_design_rows():
    """The linked rows are put in the baseline design's row order (shuffled, with a
    respondent not found again): the same estimates as in the panel's order."""
    from pipelines.stats.calibrate import rake

    _, base, panel, margins = _raking_reference()
    des = rake(SurveyDesign(base, weights="weight", strata="kecamatan", cluster="site"), margins)
    shuffled = base.sample(frac=1, random_state=0).reset_index(drop=True)
    des2 = rake(
        SurveyDesign(shuffled, weights="weight", strata="kecamatan", cluster="site"), margins
    )
    a = change.paired_change(panel, ["skills"], "2025", "2026", TREATMENT, design=des)
    b = change.paired_change(panel.iloc[::-1], ["skills"], "2025", "2026", TREATMENT, design=des2)
    np.testing.assert_allclose(a[["estimate", "se"]], b[["estimate", "se"]], rtol=1e-10)
    assert (a["n"] == b["n"]).all()
    no_key = SurveyDesign(base.drop(columns="respondent_key"), weights="weight")
    with pytest.raises(DesignError, match="respondent_key"):
        change.paired_change(panel, ["skills"], "2025", "2026", TREATMENT, design=no_key)
