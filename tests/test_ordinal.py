"""Proportional-odds models (pipelines.stats.ordinal) against R's MASS::polr and svyolr.

Reference values: tests/reference/r_designs_reference.R (no R needed here).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers_designs import api, load_designs_reference, rel_diff

from pipelines.stats import SurveyDesign
from pipelines.stats.calibrate import rake
from pipelines.stats.design import DesignError
from pipelines.stats.ordinal import fit_polr, svyolr

REF = load_designs_reference()
FORMULA = "api_band ~ ell + meals + C(stype)"


def _designs():
    meta = REF["meta"]
    clus1 = SurveyDesign(api("clus1"), weights="pw", cluster="dnum", fpc="fpc")
    return {
        "svyolr_clus1": clus1,
        "svyolr_rake": rake(clus1, {"stype": meta["pop_stype"], "sch_wide": meta["pop_sch_wide"]}),
        "svyolr_clus2": SurveyDesign(api("clus2"), cluster=["dnum", "snum"], fpc=["fpc1", "fpc2"]),
    }


def test_coefficients_and_thresholds_equal_mass_polr():
    """MASS::polr(factor(api_band) ~ ell + meals + stype, weights = pw) with reltol 1e-15."""
    res = svyolr(_designs()["svyolr_clus1"], FORMULA).set_index("r_term")
    want = REF["ordinal"]["polr"]
    assert rel_diff(res.loc[want["term"], "estimate"], want["estimate"]) < 1e-6
    assert list(res["kind"]) == ["coefficient"] * 4 + ["threshold"] * 3
    assert list(res.index[-3:]) == ["1|2", "2|3", "3|4"]


@pytest.mark.parametrize("name", ["svyolr_clus1", "svyolr_rake", "svyolr_clus2"])
def test_design_based_ses_equal_svyolr(name):
    """svyolr on a cluster design, a raked design and a two-stage design: estimates and SEs of
    coefficients and thresholds (R's SEs with a 1e-6 finite-difference Hessian step)."""
    res = svyolr(_designs()[name], FORMULA).set_index("r_term")
    want = REF["ordinal"][name]
    got = res.loc[want["term"]]
    assert rel_diff(np.r_[got["estimate"], got["se"]], np.r_[want["estimate"], want["se"]]) < 1e-6


def test_planted_proportional_odds_is_recovered():
    """Data drawn from a proportional-odds model with known beta and thresholds."""
    rng = np.random.default_rng(5)
    n = 20_000
    x = rng.normal(size=(n, 2))
    beta, zeta = np.array([0.8, -0.5]), np.array([-1.0, 0.3, 1.5])
    u = rng.logistic(size=n) + x @ beta
    y = np.searchsorted(zeta, u)  # category 0..3
    fit = fit_polr(x, y, np.ones(n), 4)
    se = np.sqrt(np.diag(np.linalg.inv(-fit.hessian)))
    assert np.all(np.abs(np.r_[fit.beta, fit.zeta] - np.r_[beta, zeta]) < 4 * se)


def test_ordinal_errors():
    des = _designs()["svyolr_clus1"]
    with pytest.raises(DesignError, match="3 or more levels"):
        svyolr(des, "comp_yes ~ ell")
    with pytest.raises(DesignError, match="outcome ~ terms"):
        svyolr(des, "nope ~ ell")
    data = pd.DataFrame(
        {"y": np.repeat([0, 1, 2], 20), "x": np.r_[np.zeros(20), np.ones(20), 2 * np.ones(20)]}
    )
    with pytest.raises(DesignError):  # x separates the levels perfectly
        svyolr(SurveyDesign(data), "y ~ x")
