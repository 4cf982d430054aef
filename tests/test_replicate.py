"""Replicate-weight designs (pipelines.stats.replicate) against R survey 4.x.

Reference values: tests/reference/r_designs_reference.R (as.svrepdesign / svrepdesign on R's api
data; R's bootstrap and BRR replicate weights are exported to CSV). No R needed here.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from helpers_designs import REF_DIR, api, load_designs_reference, max_diff_to_r

from pipelines.stats import SurveyDesign, svymean, svytotal
from pipelines.stats.calibrate import calibrate, rake
from pipelines.stats.design import DesignError
from pipelines.stats.replicate import ReplicateDesign, as_replicate
from pipelines.stats.weights import WeightingError

REF = load_designs_reference()
META = REF["meta"]


def clus1() -> SurveyDesign:
    return SurveyDesign(api("clus1"), weights="pw", cluster="dnum", fpc="fpc")


def strat() -> SurveyDesign:
    return SurveyDesign(api("strat"), weights="pw", strata="stype", fpc="fpc")


def pairs() -> SurveyDesign:
    return SurveyDesign(api("strat"), weights="pw", strata="pair", cluster="snum")


def r_weights(name: str) -> np.ndarray:
    return pd.read_csv(REF_DIR / name).to_numpy()


CASES = {
    # as.svrepdesign(dclus1, type = "JK1") (fpc kept: scale (1 - f)(n - 1)/n)
    "jk1": lambda: as_replicate(clus1(), "JK1"),
    # as.svrepdesign(dstrat, type = "JKn") (rscales (1 - f_h)(n_h - 1)/n_h)
    "jkn": lambda: as_replicate(strat(), "JKn"),
    # as.svrepdesign(dclus1, type = "bootstrap", replicates = 50): R's draws, R's scale
    "boot": lambda: ReplicateDesign(
        api("clus1"),
        weights="pw",
        repweights=r_weights("rep_boot_clus1.csv"),
        type="bootstrap",
        scale=META["boot_scale"],
    ),
    # svrepdesign(..., type = "bootstrap", combined.weights = TRUE): default scale 1/(R-1)
    "boot_given": lambda: ReplicateDesign(
        api("clus1"), weights="pw", repweights=r_weights("rep_boot_clus1.csv"), type="bootstrap"
    ),
    # as.svrepdesign(dpair, type = "BRR") with R's Hadamard matrix, as given weights
    "brr_given": lambda: ReplicateDesign(
        api("strat"), weights="pw", repweights=r_weights("rep_brr_pairs.csv"), type="BRR"
    ),
    # svrepdesign(type = "JK1", scale = ...) / (type = "JKn", rscales = ...) on R's weights
    "jk1_given": lambda: ReplicateDesign(
        api("clus1"),
        weights="pw",
        repweights=as_replicate(clus1(), "JK1").replicate_weights,
        type="JK1",
        scale=META["jk1_scale"],
    ),
    "jkn_given": lambda: _jkn_given(),
}


def _jkn_given() -> ReplicateDesign:
    created = as_replicate(strat(), "JKn")
    return ReplicateDesign(
        api("strat"),
        weights="pw",
        repweights=created.replicate_weights,
        type="JKn",
        rscales=created._rscales,
    )


@pytest.mark.parametrize("name", list(CASES))
def test_replicate_design_equals_r(name):
    """Mean, total, proportion, domain, by-group and svyglm (gaussian, binomial) equal R."""
    des = CASES[name]()
    ref = REF["replicate"][name]
    assert des.df == ref["df"]
    diffs = max_diff_to_r(des, ref)
    assert max(diffs.values()) < 1e-6, diffs


def test_created_brr_has_full_orthogonal_balance():
    """Our Sylvester-Hadamard BRR: for a total (linear) its variance is exactly the Taylor
    variance of two PSUs per stratum; R's Hadamard matrix gives the same total SE."""
    des = pairs()
    brr = as_replicate(des, "BRR")
    taylor = svytotal(des, "enroll")["se"][0]
    assert svytotal(brr, "enroll")["se"][0] == pytest.approx(taylor, rel=1e-10)
    assert svytotal(brr, "enroll")["se"][0] == pytest.approx(
        REF["replicate"]["brr"]["total_enroll"]["se"], rel=1e-10
    )
    # for a mean the half-sample sets differ (nonlinear), but only slightly
    assert svymean(brr, "api00")["se"][0] == pytest.approx(
        REF["replicate"]["brr"]["mean_api00"]["se"], rel=0.02
    )


def test_created_bootstrap_is_reproducible_and_follows_r_conventions():
    des = clus1()
    a = as_replicate(des, "bootstrap", replicates=40, seed=3)
    b = as_replicate(des, "bootstrap", replicates=40, seed=3)
    c = as_replicate(des, "bootstrap", replicates=40, seed=4)
    np.testing.assert_array_equal(a.replicate_weights, b.replicate_weights)
    assert not np.array_equal(a.replicate_weights, c.replicate_weights)
    # multipliers are draw counts: each replicate draws n = 15 districts
    mult = a.replicate_weights / des.row_weights[:, None]
    per_psu = pd.DataFrame(mult).groupby(des.data["dnum"].to_numpy()).first()
    np.testing.assert_allclose(per_psu.sum(axis=0), 15)
    assert a._scale == pytest.approx(15 / (14 * 39))
    # a bootstrap SE is in the neighbourhood of the jackknife's
    jk = svymean(as_replicate(des, "JK1"), "api00")["se"][0]
    assert 0.6 * jk < svymean(a, "api00")["se"][0] < 1.5 * jk


def test_mse_centres_at_the_full_sample_estimate():
    base = as_replicate(clus1(), "JK1")
    mse = as_replicate(clus1(), "JK1", mse=True)
    assert svymean(mse, "api00")["se"][0] >= svymean(base, "api00")["se"][0]
    # for a total, JK1 replicates average to the full-sample total: both centres agree
    assert svytotal(mse, "enroll")["se"][0] == pytest.approx(
        svytotal(base, "enroll")["se"][0], rel=1e-10
    )


def test_replicate_errors_say_what_is_wrong():
    with pytest.raises(DesignError, match="JK1 is for unstratified"):
        as_replicate(strat(), "JK1")
    with pytest.raises(DesignError, match="exactly two PSUs"):
        as_replicate(strat(), "BRR")
    with pytest.raises(DesignError, match="needs rscales"):
        ReplicateDesign(api("strat"), weights="pw", repweights=np.ones((200, 3)), type="JKn")
    with pytest.raises(DesignError, match="one row per data row"):
        ReplicateDesign(api("strat"), weights="pw", repweights=np.ones((5, 3)), type="JK1")
    with pytest.raises(DesignError, match="type must be"):
        as_replicate(clus1(), "Fay")
    with pytest.raises(DesignError, match="already carry"):
        ReplicateDesign(api("strat"), weights="pw", strata="stype", repweights=np.ones((200, 3)))
    with pytest.raises(DesignError, match="no linearised variance"):
        as_replicate(clus1(), "JK1").score_vcov(np.ones(183, dtype=bool), np.ones(183))
    two = SurveyDesign(api("clus2"), cluster=["dnum", "snum"], fpc=["fpc1", "fpc2"])
    with pytest.raises(DesignError, match="one-stage"):
        as_replicate(two, "JK1")


def test_svyolr_on_a_replicate_design_refits_each_replicate_as_r():
    """stats.ordinal.svyolr on as.svrepdesign(dstrat, "JKn"): R's svyolr on the svyrep.design,
    its replicate refits converged (tests/reference/r_replicate_models_reference.R), to 1e-6."""
    import json

    from pipelines.stats.ordinal import svyolr

    ref = json.loads((REF_DIR / "r_replicate_models_reference.json").read_text())["jkn"]
    got = svyolr(as_replicate(strat(), "JKn"), "api_band ~ ell + meals + comp_yes")
    want = ref["svyolr_tight"]
    assert list(got["r_term"]) == want["term"]
    np.testing.assert_allclose(got["estimate"], want["estimate"], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(got["se"], want["se"], rtol=1e-6)
    assert (got["method"] == "replicate-JKn-svyolr-logistic").all()


# ---------------------------------------------------------------------- raked replicate designs
RAKE_REF = json.loads((REF_DIR / "r_replicate_raking_reference.json").read_text())
MARGINS = {
    col: dict(zip(m["level"], m["total"], strict=True))
    for col, m in RAKE_REF["meta"]["margins"].items()
}
RAKED = {
    # rake(svrepdesign(JK1 columns), list(~stype, ~sch_wide), ...)
    "jk1_given_rake": lambda: rake(CASES["jk1_given"](), MARGINS),
    # rake(svrepdesign(R's bootstrap columns), ...): replicates that drop a district keep 0
    "boot_given_rake": lambda: rake(CASES["boot_given"](), MARGINS),
    # rake(as.svrepdesign(dstrat, "JKn"), ...)
    "jkn_rake": lambda: rake(as_replicate(strat(), "JKn"), MARGINS),
    # calibrate(jk1_given, ~stype + sch_wide, calfun = "raking"): the same design as rake()
    "jk1_given_calibrate_raking": lambda: calibrate(CASES["jk1_given"](), MARGINS, "raking"),
    # calibrate(jk1_given, ~stype + sch_wide) (linear): each replicate calibrated alike
    "jk1_given_calibrate_linear": lambda: calibrate(CASES["jk1_given"](), MARGINS),
}


@pytest.mark.parametrize("name", list(RAKED))
def test_raked_replicate_design_equals_r(name):
    """rake()/calibrate() on a replicate design calibrate every replicate as R's rake() /
    calibrate() on a svrepdesign: the battery (mean, total, proportion, domain, svyby, svyglm
    coefficients and SEs) equals R to 1e-6, and each replicate meets the margin."""
    des = RAKED[name]()
    ref = RAKE_REF[name]
    assert des.df == ref["df"]
    diffs = max_diff_to_r(des, ref)
    assert max(diffs.values()) < 1e-6, diffs
    yes = (des.data["sch_wide"] == "Yes").to_numpy()
    np.testing.assert_allclose(des.replicate_weights[yes].sum(axis=0), ref["rep_sch_wide_yes"])
    np.testing.assert_allclose(ref["rep_sch_wide_yes"], MARGINS["sch_wide"]["Yes"])
    assert svymean(des, "api00")["method"][0].endswith(
        "-raked" if "rake" in name else "-calibrated"
    )


def test_raking_replicates_changes_the_variance_not_only_the_weights():
    """The raked replicates carry the raking: the SEs differ from the unraked design's, and
    from the raked full-sample weights with unraked replicates (variance="fixed")."""
    base = CASES["jk1_given"]()
    raked, fixed = rake(base, MARGINS), rake(base, MARGINS, variance="fixed")
    np.testing.assert_allclose(raked.row_weights, fixed.row_weights)
    se = {k: svytotal(d, "enroll")["se"][0] for k, d in [("b", base), ("r", raked), ("f", fixed)]}
    assert se["r"] == pytest.approx(RAKE_REF["jk1_given_rake"]["total_enroll"]["se"], rel=1e-6)
    assert abs(se["r"] - se["f"]) > 0.01 * se["f"]
    assert se["b"] == pytest.approx(RAKE_REF["jk1_given"]["total_enroll"]["se"], rel=1e-6)
    assert svymean(fixed, "api00")["method"][0] == "replicate-JK1"
    # a dropped district's rows weigh zero in its replicate, raked or not
    zero = base.replicate_weights == 0
    assert zero.any() and (raked.replicate_weights[zero] == 0).all()


def test_a_replicate_without_a_margin_level_cannot_be_raked():
    data = api("clus1")
    rep = np.tile(data["pw"].to_numpy()[:, None], (1, 3))
    rep[(data["stype"] == "H").to_numpy(), 1] = 0.0  # replicate 1 lost every high school
    des = ReplicateDesign(data, weights="pw", repweights=rep, type="bootstrap")
    with pytest.raises(
        WeightingError, match="'replicate 2' have no weight in some level of 'stype'"
    ):
        rake(des, MARGINS)


def _separated_in_one_replicate(seed: int):
    """A JK1 design of 10 libraries where only library 0 has respondents with g = 0 and y = 1:
    the replicate that drops library 0 is separated (y = 0 whenever g = 0)."""
    rng = np.random.default_rng(seed)
    n_c, m = 10, int(rng.integers(8, 40))
    d = pd.DataFrame(
        {"c": np.repeat(np.arange(n_c), m), "x": rng.normal(size=n_c * m)}
        | {"w": rng.uniform(1, 50, n_c * m)}
    )
    g = (rng.random(len(d)) < rng.uniform(0.1, 0.5)).astype(float)
    y = (rng.random(len(d)) < 0.5).astype(float) * g
    y[(d["c"] == 0).to_numpy() & (g == 0) & (rng.random(len(d)) < 0.3)] = 1.0
    d["g"], d["y"] = g, y
    return as_replicate(SurveyDesign(d, cluster="c", weights="w"), "JK1"), d


@pytest.mark.parametrize("seed", [0, 27])
def test_a_separated_replicate_is_a_missing_replicate(seed):
    """A logistic refit that separates in a replicate is a missing replicate, dropped from the
    variance as R's svrVar drops NA replicates: the SEs equal those of the same design without
    it (same scale), the note counts it; never a crash. Seed 0: the full fit is sound and the
    refit without library 0 runs off to |log odds| ~ 25. Seed 27: library 0 has no g = 0, y = 1
    respondent either, so the full fit is separated and three refits stop (IRLS fails)."""
    from pipelines import models

    des, d = _separated_in_one_replicate(seed)
    x, names, _ = models.design_matrix(d, ["x"], {"g": d["g"].to_numpy()})
    y = d["y"].to_numpy()
    fit = models.svy_fit(des, y, x, names, "binomial")
    betas = fit.replicates[0]
    missing = np.flatnonzero(np.isnan(betas).any(axis=1))
    assert np.isnan(betas[missing]).all() and np.isfinite(np.delete(betas, missing, 0)).all()
    assert list(missing) == ([0] if seed == 0 else [0, 3, 7])
    rep = np.delete(des.replicate_weights, missing, axis=1)
    without = ReplicateDesign(d, weights="w", repweights=rep, type="JK1", scale=des._scale)
    want = models.svy_fit(without, y, x, names, "binomial")
    np.testing.assert_allclose(fit.beta, want.beta, rtol=1e-12)
    np.testing.assert_allclose(np.diag(fit.vcov), np.diag(want.vcov), rtol=1e-8)
    if seed == 0:
        assert np.sqrt(fit.vcov[2, 2]) < 2  # not the runaway replicate's SE of ~20
    rows = models.participation_effects(des, ["y"], ["x"], "g", families={"y": "binomial"})
    said = f"{len(missing)} of 10 replicates could not be refitted"
    assert rows["note"].str.contains(said).all(), rows["note"].tolist()
