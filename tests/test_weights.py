"""Tests for pipelines.stats.weights; raking is compared with R survey 4.x (no R needed)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipelines.errors import DampakError
from pipelines.stats.weights import WeightingError, rake, trim, weight_summary

REF_DIR = Path(__file__).parent / "reference"


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return pd.read_csv(REF_DIR / "survey_reference_data.csv")


@pytest.fixture(scope="module")
def ref() -> dict:
    with open(REF_DIR / "r_survey_reference.json") as fh:
        return json.load(fh)


@pytest.mark.parametrize("key", ["nofpc", "fpc"])
def test_rake_three_margins_matches_r(data, ref, key):
    # weights(rake(des, list(~g, ~sex, ~stratum), margins,
    #              control = list(maxit = 1000, epsilon = 1e-13)))
    margins = ref["meta"]["margins"]
    w = rake(data, margins, base_weight="w")
    np.testing.assert_allclose(w.to_numpy(), ref[key]["rake_weights"], rtol=1e-6)
    assert w.index.equals(data.index)
    for col, target in margins.items():
        achieved = w.groupby(data[col]).sum()
        np.testing.assert_allclose(achieved[list(target)], list(target.values()), rtol=1e-8)


@pytest.mark.parametrize("key", ["nofpc", "fpc"])
def test_rake_two_margins_matches_r(data, ref, key):
    # weights(rake(des, list(~g, ~sex), margins[1:2], control = list(maxit = 1000, epsilon = 1e-13)))
    m = ref["meta"]["margins"]
    margins = {"g": pd.Series(m["g"]), "sex": m["sex"]}
    w = rake(data, margins, base_weight=data["w"], tol=1e-12)
    np.testing.assert_allclose(w.to_numpy(), ref[key]["rake_weights_2"], rtol=1e-6)


def test_rake_without_base_weight_is_poststratification_for_one_margin(data):
    w = rake(data, {"g": {"a": 50.0, "b": 30.0, "c": 20.0}})
    counts = data.g.value_counts()
    np.testing.assert_allclose(
        w, data.g.map({k: v / counts[k] for k, v in {"a": 50.0, "b": 30.0, "c": 20.0}.items()})
    )


def test_rake_sample_level_missing_from_margin(data):
    with pytest.raises(WeightingError, match=r"Column 'g' has level\(s\) 'c' in the sample"):
        rake(data, {"g": {"a": 60.0, "b": 40.0}})


def test_rake_margin_level_without_respondents(data):
    with pytest.raises(WeightingError, match=r"level\(s\) 'x' of column 'sex' have no respondents"):
        rake(data, {"sex": {"f": 50.0, "m": 40.0, "x": 10.0}})


def test_rake_other_errors(data):
    with pytest.raises(WeightingError, match="disagree on the population total"):
        rake(data, {"sex": {"f": 50.0, "m": 50.0}, "g": {"a": 50.0, "b": 30.0, "c": 30.0}})
    with pytest.raises(WeightingError, match="'region' is not in the data"):
        rake(data, {"region": {"x": 1.0}})
    with pytest.raises(WeightingError, match="missing values"):
        rake(data.assign(sex=data.sex.where(data.index > 2)), {"sex": {"f": 5.0, "m": 5.0}})
    with pytest.raises(WeightingError, match="positive population totals"):
        rake(data, {"sex": {"f": 0.0, "m": 5.0}})
    with pytest.raises(WeightingError, match="did not converge"):
        rake(
            data,
            {"sex": {"f": 50.0, "m": 50.0}, "g": {"a": 50.0, "b": 30.0, "c": 20.0}},
            max_iter=1,
            tol=1e-15,
        )
    with pytest.raises(DampakError):
        rake(data, {"g": {"a": 60.0, "b": 40.0}})


def test_trim_caps_and_preserves_total():
    rng = np.random.default_rng(3)
    w = pd.Series(np.exp(rng.normal(0, 1.0, 500)), name="w")
    out = trim(w, upper_ratio=3.0)
    cap = 3.0 * w.median()
    assert out.max() <= cap * (1 + 1e-12)
    np.testing.assert_allclose(out.sum(), w.sum(), rtol=1e-12)
    assert out.name == "w" and out.index.equals(w.index)
    untouched = w < cap / 2  # small weights are scaled up by one common factor
    ratio = out[untouched] / w[untouched]
    np.testing.assert_allclose(ratio, ratio.iloc[0], rtol=1e-12)
    assert (out >= w * (1 - 1e-12))[w <= cap].all()


def test_trim_iterates_until_no_weight_exceeds_cap():
    # after the first pass the redistributed excess pushes 9.5 over the cap of 10
    w = np.array([1.0] * 10 + [9.5, 60.0])
    out = trim(w, upper_ratio=10.0)
    assert out.max() <= 10.0 + 1e-9
    np.testing.assert_allclose(out.sum(), w.sum(), rtol=1e-12)
    assert (out.iloc[-2:] == 10.0).all()


def test_trim_quantile():
    w = np.arange(1.0, 101.0)
    out = trim(w, quantile=0.9)
    cap = np.quantile(w, 0.9)
    assert out.max() <= cap * (1 + 1e-12)
    np.testing.assert_allclose(out.sum(), w.sum(), rtol=1e-12)


def test_trim_errors():
    with pytest.raises(WeightingError, match="below the mean weight"):
        trim(np.array([1.0, 1.0, 100.0]), upper_ratio=1.0)
    with pytest.raises(WeightingError, match="positive and finite"):
        trim(np.array([1.0, -2.0]))
    with pytest.raises(WeightingError, match="quantile"):
        trim(np.array([1.0, 2.0]), quantile=1.5)


def test_weight_summary():
    w = np.array([1.0, 2.0, 3.0, 4.0])
    s = weight_summary(w)
    assert s["n"] == 4 and s["sum"] == 10.0 and s["min"] == 1.0 and s["max"] == 4.0
    cv = w.std(ddof=0) / w.mean()
    np.testing.assert_allclose(s["cv"], cv)
    np.testing.assert_allclose(s["kish_deff"], 1 + cv**2)
    np.testing.assert_allclose(s["kish_deff"], 4 * 30 / 100)
    np.testing.assert_allclose(s["effective_n"], 100 / 30)


def test_weight_summary_matches_design(data):
    from pipelines.stats.design import SurveyDesign

    design = SurveyDesign(data, weights="w", strata="stratum", cluster="psu")
    s = weight_summary(data["w"])
    np.testing.assert_allclose(s["kish_deff"], design.kish_deff(), rtol=1e-12)
    np.testing.assert_allclose(s["effective_n"], design.effective_n(), rtol=1e-12)
