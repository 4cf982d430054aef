"""Calibrated designs (pipelines.stats.calibrate) against R survey 4.x and planted data.

Reference values: tests/reference/r_designs_reference.R (R's api data; no R needed here).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers_designs import api, load_designs_reference, max_diff_to_r, rel_diff

from pipelines.stats import SurveyDesign, svyby, svyglm, svymean, svyprop, svytotal
from pipelines.stats import design as design_module
from pipelines.stats.calibrate import calibrate, rake
from pipelines.stats.design import DesignError
from pipelines.stats.weights import WeightingError

REF = load_designs_reference()
META = REF["meta"]
MARGINS = {"stype": META["pop_stype"], "sch_wide": META["pop_sch_wide"]}


def clus1() -> SurveyDesign:
    return SurveyDesign(api("clus1"), weights="pw", cluster="dnum", fpc="fpc")


CALIBRATIONS = {
    # R: rake(dclus1, list(~stype, ~sch_wide), ..., control = list(maxit = 1000, epsilon = 1e-13))
    "rake": lambda d: rake(d, MARGINS),
    # R: calibrate(dclus1, ~stype + sch_wide, pop_total)
    "linear": lambda d: calibrate(d, MARGINS),
    "raking": lambda d: calibrate(d, MARGINS, calfun="raking"),
    "linear_bounded": lambda d: calibrate(d, MARGINS, bounds=(0.85, 1.6)),
    "raking_bounded": lambda d: calibrate(d, MARGINS, calfun="raking", bounds=(0.85, 1.6)),
    # R: calibrate(dclus1, ~stype + api99, c(N, NH, NM, sum(apipop$api99)))
    "linear_numeric": lambda d: calibrate(
        d, {"stype": META["pop_stype"], "api99": META["api99_total"]}
    ),
    # R: rake(calibrate(dclus1, ~api99, c(N, total)), list(~stype, ~sch_wide), ...)
    "chained": lambda d: rake(
        calibrate(d, {"api99": META["api99_total"]}, population_size=6194), MARGINS
    ),
}


@pytest.mark.parametrize("name", list(CALIBRATIONS))
def test_calibrated_design_equals_r(name):
    """Weights, estimates and calibration-aware SEs of every estimator family equal R's."""
    des = CALIBRATIONS[name](clus1())
    ref = REF["calibrated"][name]
    assert rel_diff(des.row_weights, ref["weights"]) < 1e-8
    assert des.calibrated and des.df == ref["df"]
    diffs = max_diff_to_r(des, ref)
    assert max(diffs.values()) < 1e-6, diffs


def test_fixed_variance_is_r_on_the_same_weights_as_fixed():
    """variance='fixed' is svydesign() on the raked weights; calibration narrows the SEs."""
    fixed = rake(clus1(), MARGINS, variance="fixed")
    assert not fixed.calibrated
    diffs = max_diff_to_r(fixed, REF["fixed_rake"])
    assert max(diffs.values()) < 1e-6, diffs
    calibrated = rake(clus1(), MARGINS)
    se_fixed = svymean(fixed, "api00")["se"][0]
    se_cal = svymean(calibrated, "api00")["se"][0]
    assert se_cal < se_fixed
    assert svymean(fixed, "api00")["estimate"][0] == pytest.approx(
        svymean(calibrated, "api00")["estimate"][0], rel=1e-12
    )


def test_a_calibration_variable_has_zero_variance():
    """Totals of a calibration variable are fixed by calibration: SE 0 (up to rounding)."""
    des = calibrate(clus1(), MARGINS)
    sch = des.data.assign(yes=(des.data["sch_wide"] == "Yes").astype(float))
    des2 = calibrate(SurveyDesign(sch, weights="pw", cluster="dnum", fpc="fpc"), MARGINS)
    res = svytotal(des2, "yes")
    assert res["estimate"][0] == pytest.approx(META["pop_sch_wide"]["Yes"], rel=1e-10)
    assert res["se"][0] < 1e-6 * res["estimate"][0]
    by = svyby(des, "api00", "stype", "total")
    assert (by["se"] > 0).all()


def test_by_group_blocks_give_the_same_answer(monkeypatch):
    """Calibrated by-group variances computed a few groups at a time equal the one-block pass."""
    des = rake(clus1(), MARGINS)
    whole = svyby(des, "api00", "dnum", "mean")
    monkeypatch.setattr(design_module, "DENSE_LIMIT", 20)  # 183 rows: blocks of one group
    blocks = svyby(des, "api00", "dnum", "mean")
    np.testing.assert_allclose(blocks["se"], whole["se"], rtol=1e-12)


def test_calibration_is_domain_free_of_column_names():
    """Any column names work (no TPBIS names): a raked design on renamed columns is identical."""
    data = api("clus1").rename(columns={"stype": "level", "api00": "score", "dnum": "district"})
    des = rake(
        SurveyDesign(data, weights="pw", cluster="district", fpc="fpc"),
        {"level": META["pop_stype"], "sch_wide": META["pop_sch_wide"]},
    )
    ref = REF["calibrated"]["rake"]["mean_api00"]
    res = svymean(des, "score")
    assert rel_diff([res["estimate"][0], res["se"][0]], [ref["estimate"], ref["se"]]) < 1e-9


# ---------------------------------------------------------------------- planted data
def _planted_population(seed: int = 7) -> pd.DataFrame:
    """Three age bands with very different outcome means: raking to their sizes removes the
    between-band part of the sampling variance."""
    rng = np.random.default_rng(seed)
    sizes = {"young": 6000, "middle": 9000, "old": 5000}
    means = {"young": 10.0, "middle": 25.0, "old": 45.0}
    frames = [
        pd.DataFrame({"band": b, "y": rng.normal(means[b], 4.0, n)}) for b, n in sizes.items()
    ]
    return pd.concat(frames, ignore_index=True), sizes


def test_planted_calibration_benefit_and_coverage():
    """Simple random samples of 300 from a population with a strong band effect: the calibrated
    SE tracks the true SD of the raked mean (and is far below the fixed-weight SE, which
    overstates it), and 95% intervals cover the population mean about 95% of the time."""
    pop, sizes = _planted_population()
    truth = pop["y"].mean()
    rng = np.random.default_rng(11)
    est, se_cal, se_fixed, cover = [], [], [], []
    for _ in range(300):
        s = pop.iloc[rng.choice(len(pop), 300, replace=False)].reset_index(drop=True)
        s["w"] = len(pop) / 300
        base = SurveyDesign(s, weights="w")
        cal = svymean(rake(base, {"band": sizes}), "y")
        fix = svymean(rake(base, {"band": sizes}, variance="fixed"), "y")
        est.append(cal["estimate"][0])
        se_cal.append(cal["se"][0])
        se_fixed.append(fix["se"][0])
        cover.append(cal["ci_low"][0] <= truth <= cal["ci_high"][0])
    true_sd = np.std(est)
    assert np.mean(se_cal) == pytest.approx(true_sd, rel=0.12)
    assert np.mean(se_fixed) > 3 * true_sd  # fixed weights ignore what raking explained
    assert 0.91 <= np.mean(cover) <= 0.99


# ---------------------------------------------------------------------- errors
def test_calibration_errors_say_what_is_wrong():
    des = clus1()
    with pytest.raises(DesignError, match="variance must be"):
        rake(des, MARGINS, variance="exact")
    with pytest.raises(DesignError, match="before taking a subset"):
        calibrate(des.subset(des.data["stype"] == "E"), MARGINS)
    with pytest.raises(DesignError, match="lacks"):
        calibrate(des, {"stype": {"E": 4421, "H": 755}})
    with pytest.raises(DesignError, match="same total"):
        calibrate(des, {"stype": META["pop_stype"], "sch_wide": {"No": 1, "Yes": 2}})
    with pytest.raises(DesignError, match="bounds"):
        calibrate(des, MARGINS, bounds=(1.1, 2.0))
    with pytest.raises(DesignError, match="did not converge"):
        calibrate(des, MARGINS, bounds=(0.99, 1.01))
    with pytest.raises(DesignError, match="calfun"):
        calibrate(des, MARGINS, calfun="logit")
    with pytest.raises(WeightingError, match="missing from its population margin"):
        rake(des, {"stype": {"E": 4421, "H": 755}})
    with pytest.raises(DesignError, match="population_size"):
        calibrate(des, {"api99": META["api99_total"]})


def test_glm_and_proportions_on_a_calibrated_domain_use_the_calibration():
    """A domain of a calibrated design keeps the calibration (R's subset of a raked design)."""
    des = rake(clus1(), MARGINS)
    sub = des.subset(des.data["stype"] == "E")
    assert sub.calibrated
    fixed_sub = rake(clus1(), MARGINS, variance="fixed").subset(des.data["stype"] == "E")
    a = svyglm(sub, "api00 ~ ell")
    b = svyglm(fixed_sub, "api00 ~ ell")
    np.testing.assert_allclose(a["estimate"], b["estimate"], rtol=1e-10)
    assert not np.allclose(a["se"], b["se"], rtol=1e-6)
    assert svyprop(sub, "comp_yes")["se"][0] != pytest.approx(
        svyprop(fixed_sub, "comp_yes")["se"][0], rel=1e-6
    )


def test_declare_raked_gives_weights_raked_elsewhere_the_raked_variance():
    """Weights raked outside the design (e.g. stats.weights.rake) then declared raked give the
    same SEs as rake() on the design; rows missing a margin variable keep their own scores."""
    from pipelines.stats.calibrate import declare_raked

    raked = rake(clus1(), MARGINS)
    data = api("clus1").assign(w=raked.row_weights)
    declared = declare_raked(
        SurveyDesign(data, weights="w", cluster="dnum", fpc="fpc"), list(MARGINS)
    )
    for a, b in zip(
        max_diff_to_r(declared, REF["calibrated"]["rake"]).values(),
        max_diff_to_r(raked, REF["calibrated"]["rake"]).values(),
        strict=True,
    ):
        assert a < 1e-6 and b < 1e-6
    gaps = data.assign(sch_wide=data["sch_wide"].where(data.index % 10 != 0))
    partial = declare_raked(
        SurveyDesign(gaps, weights="w", cluster="dnum", fpc="fpc"), list(MARGINS)
    )
    x = np.random.default_rng(0).normal(size=(len(gaps), 2))
    resid = partial._calib[0].residuals(x)
    missing = gaps["sch_wide"].isna().to_numpy()
    np.testing.assert_array_equal(resid[missing], x[missing])
    assert not np.allclose(resid[~missing], x[~missing])
    assert svymean(partial, "api00")["se"][0] != pytest.approx(
        svymean(declared, "api00")["se"][0], rel=1e-3
    )
    with pytest.raises(DesignError, match="not a column"):
        declare_raked(clus1(), ["nope"])
