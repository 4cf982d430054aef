"""Tests for pipelines.stats.design against R survey 4.x reference values.

The reference values come from ``Rscript tests/reference/r_survey_reference.R`` (R is
not needed to run these tests); the R call behind each comparison is quoted beside it.
Designs: ``svydesign(ids = ~psu, strata = ~stratum, weights = ~w, data = d)`` ("nofpc")
and the same with ``fpc = ~fpc`` ("fpc").
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipelines.errors import DampakError
from pipelines.stats.design import (
    DesignError,
    SurveyDesign,
    svyby,
    svyglm,
    svymean,
    svyprop,
    svytotal,
)

REF_DIR = Path(__file__).parent / "reference"
RTOL = 1e-6


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return pd.read_csv(REF_DIR / "survey_reference_data.csv")


@pytest.fixture(scope="module")
def ref() -> dict:
    with open(REF_DIR / "r_survey_reference.json") as fh:
        return json.load(fh)


@pytest.fixture(params=["nofpc", "fpc"])
def case(request, data, ref):
    fpc = "fpc" if request.param == "fpc" else None
    design = SurveyDesign(data, weights="w", strata="stratum", cluster="psu", fpc=fpc)
    return design, ref[request.param]


def close(actual, expected, rtol=RTOL):
    np.testing.assert_allclose(np.asarray(actual, float), np.asarray(expected, float), rtol=rtol)


# ---------------------------------------------------------------------- R comparisons
def test_svymean(case):
    design, r = case
    # svymean(~y, des, na.rm = TRUE); degf(des)
    out = svymean(design, "y").iloc[0]
    close(out.estimate, r["svymean_y"]["estimate"])
    close(out.se, r["svymean_y"]["se"])
    assert out.df == r["svymean_y"]["df"]
    assert out.n == design.data["y"].notna().sum()
    # svymean(~x1, des)
    out = svymean(design, "x1").iloc[0]
    close([out.estimate, out.se], [r["svymean_x1"]["estimate"], r["svymean_x1"]["se"]])


def test_svytotal(case):
    design, r = case
    # svytotal(~y, des, na.rm = TRUE)
    out = svytotal(design, "y").iloc[0]
    close([out.estimate, out.se], [r["svytotal_y"]["estimate"], r["svytotal_y"]["se"]])
    # svytotal(~x1, des)
    out = svytotal(design, "x1").iloc[0]
    close([out.estimate, out.se], [r["svytotal_x1"]["estimate"], r["svytotal_x1"]["se"]])


def test_result_columns(case):
    design, _ = case
    out = svymean(design, "y")
    for col in ["variable", "group_var", "group", "estimate", "se", "ci_low", "ci_high"]:
        assert col in out.columns
    for col in ["df", "n", "method"]:
        assert col in out.columns
    row = out.iloc[0]
    assert row.group_var is None and row.group is None
    from scipy import stats

    q = stats.t.ppf(0.975, row.df)
    close([row.ci_low, row.ci_high], [row.estimate - q * row.se, row.estimate + q * row.se])


def test_svyby_mean(case):
    design, r = case
    # svyby(~y, ~g, des, svymean, na.rm = TRUE)
    out = svyby(design, "y", "g", stat="mean")
    rr = r["svyby_mean_y_g"]
    assert list(out.group) == rr["group"]
    close(out.estimate, rr["estimate"])
    close(out.se, rr["se"])
    # degf(des[des$variables$g == lv, ])
    assert list(out.df) == rr["df"]
    assert (out.group_var == "g").all()


def test_svyby_total(case):
    design, r = case
    # svyby(~x1, ~g, des, svytotal)
    out = svyby(design, "x1", "g", stat="total")
    rr = r["svyby_total_x1_g"]
    close(out.estimate, rr["estimate"])
    close(out.se, rr["se"])


def test_subset_mean(case):
    design, r = case
    # svymean(~y, subset(des, g == "b"), na.rm = TRUE); degf(subset(des, g == "b"))
    sub = design.subset(design.data["g"] == "b")
    out = svymean(sub, "y").iloc[0]
    rr = r["subset_mean_y_gb"]
    close([out.estimate, out.se], [rr["estimate"], rr["se"]])
    assert out.df == rr["df"] == sub.df


def test_svyciprop_binary(case):
    design, r = case
    # svyciprop(~z, des, method = "logit"); SE(); attr(, "ci"); df = degf(des)
    out = svyprop(design, "z")
    assert len(out) == 1
    row = out.iloc[0]
    rr = r["svyciprop_z"]
    close(
        [row.estimate, row.se, row.ci_low, row.ci_high],
        [rr[k] for k in ("estimate", "se", "ci_low", "ci_high")],
    )
    assert row.df == rr["df"]


def test_svyciprop_categorical_level(case):
    design, r = case
    # svyciprop(~I(g == "c"), des, method = "logit")
    row = svyprop(design, "g", level="c").iloc[0]
    rr = r["svyciprop_g_c"]
    close(
        [row.estimate, row.se, row.ci_low, row.ci_high],
        [rr[k] for k in ("estimate", "se", "ci_low", "ci_high")],
    )
    # all levels: one row each, proportions add to one
    allv = svyprop(design, "g")
    assert list(allv.level) == ["a", "b", "c"]
    close(allv.estimate.sum(), 1.0)
    close(allv.loc[allv.level == "c", "estimate"], rr["estimate"])


def test_svyby_prop(case):
    design, r = case
    # svyby(~z, ~g, des, svyciprop, method = "logit", vartype = c("se", "ci"))
    out = svyby(design, "z", "g", stat="prop")
    rr = r["svyby_prop_z_g"]
    for col in ("estimate", "se", "ci_low", "ci_high"):
        close(out[col], rr[col])
    assert list(out.df) == rr["df"]


def _by_r_term(out: pd.DataFrame, rr: dict) -> pd.DataFrame:
    assert sorted(out.r_term) == sorted(rr["term"])
    return out.set_index("r_term").loc[rr["term"]]


@pytest.mark.parametrize(
    ("key", "formula", "family"),
    [
        # summary(svyglm(y ~ x1 + x2 + g, des)); confint(m)
        ("svyglm_gaussian", "y ~ x1 + x2 + g", "gaussian"),
        # summary(svyglm(z ~ x1 + g, des, family = quasibinomial())); confint(m)
        ("svyglm_quasibinomial", "z ~ x1 + g", "quasibinomial"),
    ],
)
def test_svyglm(case, key, formula, family):
    design, r = case
    rr = r[key]
    out = _by_r_term(svyglm(design, formula, family=family), rr)
    close(out.estimate, rr["estimate"])
    close(out.se, rr["se"])
    close(out.t_value, rr["t"])
    close(out.p_value, rr["p"])
    close(out.ci_low, rr["ci_low"])
    close(out.ci_high, rr["ci_high"])
    # m$df.residual = degf(design without NA rows) + 1 - p; rows used = length(m$y)
    assert (out.df == rr["df_residual"]).all()
    assert (out.n == rr["n"]).all()


def test_svyglm_binomial_equals_quasibinomial(case):
    design, _ = case
    a = svyglm(design, "z ~ x1 + g", family="binomial")
    b = svyglm(design, "z ~ x1 + g", family="quasibinomial")
    close(a.estimate, b.estimate, rtol=1e-12)
    close(a.se, b.se, rtol=1e-12)


def test_svyglm_domain(case):
    design, r = case
    # summary(svyglm(y ~ x1, subset(des, sex == "f")))
    rr = r["svyglm_gaussian_sex_f"]
    out = _by_r_term(svyglm(design.subset(design.data["sex"] == "f"), "y ~ x1"), rr)
    close(out.estimate, rr["estimate"])
    close(out.se, rr["se"])
    close(out.p_value, rr["p"])
    assert (out.df == rr["df_residual"]).all()
    assert (out.n == rr["n"]).all()


@pytest.mark.parametrize("key", ["lonely_adjust_nofpc", "lonely_adjust_fpc"])
def test_lonely_psu_adjust(data, ref, key):
    # options(survey.lonely.psu = "adjust"); stratum C keeps only its first cluster
    first_c = data.loc[data.stratum == "C", "psu"].min()
    lonely = data[(data.stratum != "C") | (data.psu == first_c)].reset_index(drop=True)
    fpc = "fpc" if key.endswith("_fpc") else None
    kwargs = {"weights": "w", "strata": "stratum", "cluster": "psu", "fpc": fpc}
    with pytest.raises(DesignError, match="only one PSU"):
        SurveyDesign(lonely, **kwargs)
    design = SurveyDesign(lonely, lonely_psu="adjust", **kwargs)
    r = ref[key]
    # svymean(~y, des, na.rm = TRUE); svytotal(~y, des, na.rm = TRUE)
    for fn, name in [(svymean, "svymean_y"), (svytotal, "svytotal_y")]:
        row = fn(design, "y").iloc[0]
        close([row.estimate, row.se], [r[name]["estimate"], r[name]["se"]])
        assert row.df == r[name]["df"]
    # svyby(~y, ~g, des, svymean, na.rm = TRUE)
    out = svyby(design, "y", "g")
    close(out.estimate, r["svyby_mean_y_g"]["estimate"])
    close(out.se, r["svyby_mean_y_g"]["se"])
    # summary(svyglm(y ~ x1 + x2 + g, des))
    rr = r["svyglm_gaussian"]
    out = _by_r_term(svyglm(design, "y ~ x1 + x2 + g"), rr)
    close(out.estimate, rr["estimate"])
    close(out.se, rr["se"])
    close(out.p_value, rr["p"])


# ---------------------------------------------------------------------- design behaviour
def test_domain_subset_equals_svyby(data):
    design = SurveyDesign(data, weights="w", strata="stratum", cluster="psu", fpc="fpc")
    by = svyby(design, "y", "g").set_index("group")
    by_total = svyby(design, "y", "g", stat="total").set_index("group")
    by_prop = svyby(design, "z", "g", stat="prop").set_index("group")
    for level in ["a", "b", "c"]:
        sub = design.subset(data["g"] == level)
        m = svymean(sub, "y").iloc[0]
        close(
            [m.estimate, m.se, m.ci_low, m.ci_high],
            by.loc[level, ["estimate", "se", "ci_low", "ci_high"]].to_numpy(float),
            rtol=1e-12,
        )
        t = svytotal(sub, "y").iloc[0]
        close(
            [t.estimate, t.se], by_total.loc[level, ["estimate", "se"]].to_numpy(float), rtol=1e-12
        )
        p = svyprop(sub, "z").iloc[0]
        close(
            [p.estimate, p.se, p.ci_low],
            by_prop.loc[level, ["estimate", "se", "ci_low"]].to_numpy(float),
            rtol=1e-12,
        )
        assert m.df == by.loc[level, "df"] == sub.df
        assert m.n == by.loc[level, "n"]


def test_subset_keeps_psus_for_variance(data):
    design = SurveyDesign(data, weights="w", strata="stratum", cluster="psu")
    # a domain wholly inside one stratum still has a (nonzero) variance and fewer df
    sub = design.subset((data["stratum"] == "A").to_numpy())
    assert sub.n == (data.stratum == "A").sum()
    assert sub.df == data.loc[data.stratum == "A", "psu"].nunique() - 1
    assert svymean(sub, "x1").iloc[0].se > 0
    nested = sub.subset(data["g"] == "a")
    assert nested.n == ((data.stratum == "A") & (data.g == "a")).sum()
    assert design.n == len(data)  # the parent is untouched


def test_svyby_multiple_columns(data):
    design = SurveyDesign(data, weights="w", strata="stratum", cluster="psu")
    out = svyby(design, "y", ["g", "sex"])
    assert len(out) == 6
    row = out[out.group == ("b", "m")].iloc[0]
    sub = design.subset((data.g == "b") & (data.sex == "m"))
    ref = svymean(sub, "y").iloc[0]
    close([row.estimate, row.se], [ref.estimate, ref.se], rtol=1e-12)


def test_df_and_n(data):
    design = SurveyDesign(data, weights="w", strata="stratum", cluster="psu")
    assert design.n == len(data)
    assert design.df == data.psu.nunique() - data.stratum.nunique()
    srs = SurveyDesign(data, weights="w")
    assert srs.df == len(data) - 1


def test_kish(data):
    design = SurveyDesign(data, weights="w", strata="stratum", cluster="psu")
    w = data.w.to_numpy()
    cv = w.std(ddof=0) / w.mean()
    close(design.kish_deff(), 1 + cv**2, rtol=1e-12)
    close(design.kish_deff(), len(w) * np.sum(w**2) / np.sum(w) ** 2, rtol=1e-12)
    close(design.effective_n(), len(w) / design.kish_deff(), rtol=1e-12)
    equal = SurveyDesign(data.assign(w=3.0), weights="w")
    close(equal.kish_deff(), 1.0)
    close(equal.effective_n(), len(data))


def test_fpc_reduces_variance_and_certainty_stratum(data):
    no = svymean(SurveyDesign(data, weights="w", strata="stratum", cluster="psu"), "y")
    yes = svymean(SurveyDesign(data, weights="w", strata="stratum", cluster="psu", fpc="fpc"), "y")
    assert yes.se.iloc[0] < no.se.iloc[0]
    # a stratum sampled in full (fpc == #PSUs) contributes no variance, even with one PSU
    n_psu = data.groupby("stratum")["psu"].transform("nunique")
    full = data.assign(fpc=np.where(data.stratum == "A", n_psu, data.fpc))
    des = SurveyDesign(full, weights="w", strata="stratum", cluster="psu", fpc="fpc")
    only_a = des.subset(data.stratum == "A")
    assert svytotal(only_a, "x1").se.iloc[0] == 0


def test_fpc_as_sampling_fraction_and_default_weights(data):
    n_psu = data.groupby("stratum")["psu"].transform("nunique")
    frac = data.assign(frac=n_psu / data.fpc)
    a = SurveyDesign(frac, weights="w", strata="stratum", cluster="psu", fpc="frac")
    b = SurveyDesign(data, weights="w", strata="stratum", cluster="psu", fpc="fpc")
    close(svymean(a, "y").se, svymean(b, "y").se, rtol=1e-12)
    # without weights but with an fpc, weights are N_h / n_h
    c = SurveyDesign(data, strata="stratum", cluster="psu", fpc="fpc")
    close(c.row_weights, data.fpc / n_psu, rtol=1e-12)


def test_missing_values_are_a_domain(data):
    design = SurveyDesign(data, weights="w", strata="stratum", cluster="psu")
    out = svymean(design, "y").iloc[0]
    sub = svymean(design.subset(data.y.notna()), "y").iloc[0]
    close([out.estimate, out.se], [sub.estimate, sub.se], rtol=1e-12)
    assert out.n == data.y.notna().sum()


# ---------------------------------------------------------------------- planted effect
def _simulate(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n_strata, n_clusters, size = 3, 8, 20
    stratum = np.repeat(np.arange(n_strata), n_clusters * size)
    cluster = np.repeat(np.arange(n_strata * n_clusters), size)
    u = rng.normal(0, 1.0, n_strata * n_clusters)[cluster]  # cluster effect on y
    v = rng.normal(0, 1.0, n_strata * n_clusters)[cluster]  # clustering of x
    x = rng.normal(0, 1, len(cluster)) + v
    y = 2 + 0.5 * x + u + rng.normal(0, 1, len(cluster))
    w = rng.uniform(1, 4, len(cluster)) * (1 + stratum)
    return pd.DataFrame({"y": y, "x": x, "st": stratum, "cl": cluster, "w": w})


def test_planted_slope_is_recovered():
    covered, estimates = 0, []
    for seed in range(20):
        design = SurveyDesign(_simulate(seed), weights="w", strata="st", cluster="cl")
        row = svyglm(design, "y ~ x").set_index("term").loc["x"]
        assert row.df == 3 * 8 - 3 - 1  # degf + 1 - p
        estimates.append(row.estimate)
        covered += row.ci_low <= 0.5 <= row.ci_high
    assert covered >= 17  # nominal 95%: 19 expected of 20
    assert abs(np.mean(estimates) - 0.5) < 0.05


def test_planted_mean_is_recovered():
    covered = sum(
        (lambda r: r.ci_low <= 2.0 <= r.ci_high)(
            svymean(SurveyDesign(_simulate(s), weights="w", strata="st", cluster="cl"), "y").iloc[0]
        )
        for s in range(20)
    )
    assert covered >= 17


# ---------------------------------------------------------------------- errors
def test_one_psu_stratum_fails_with_clear_message(data):
    first_c = data.loc[data.stratum == "C", "psu"].min()
    lonely = data[(data.stratum != "C") | (data.psu == first_c)]
    with pytest.raises(DesignError, match=r"Stratum 'C' has only one PSU.*lonely_psu='adjust'"):
        SurveyDesign(lonely, weights="w", strata="stratum", cluster="psu")


def test_missing_column(data):
    with pytest.raises(DesignError, match=r"Column 'wt' given as weights= is not in the data"):
        SurveyDesign(data, weights="wt", strata="stratum", cluster="psu")
    design = SurveyDesign(data, weights="w", strata="stratum", cluster="psu")
    with pytest.raises(DesignError, match=r"'income' is not a column"):
        svymean(design, "income")
    with pytest.raises(DesignError, match=r"grouping column 'region'"):
        svyby(design, "y", "region")


def test_design_error_is_dampak_error(data):
    with pytest.raises(DampakError):
        SurveyDesign(data, weights="nope")


@pytest.mark.parametrize("bad", [0.0, -1.0, np.nan, np.inf])
def test_bad_weights(data, bad):
    broken = data.copy()
    broken.loc[3, "w"] = bad
    with pytest.raises(DesignError, match="positive and finite"):
        SurveyDesign(broken, weights="w", strata="stratum", cluster="psu")


def test_other_validation(data):
    with pytest.raises(DesignError, match="missing values"):
        SurveyDesign(data.assign(stratum=data.stratum.where(data.index != 5)), strata="stratum")
    with pytest.raises(DesignError, match="constant within each stratum"):
        SurveyDesign(
            data.assign(fpc=data.fpc + (data.index == 0)),
            strata="stratum",
            cluster="psu",
            fpc="fpc",
        )
    with pytest.raises(DesignError, match="population number of PSUs"):
        SurveyDesign(data.assign(fpc=2), strata="stratum", cluster="psu", fpc="fpc")
    with pytest.raises(DesignError, match="lonely_psu"):
        SurveyDesign(data, lonely_psu="average")
    design = SurveyDesign(data, weights="w", strata="stratum", cluster="psu")
    with pytest.raises(DesignError, match="not numeric"):
        svymean(design, "g")
    with pytest.raises(DesignError, match="one value per row"):
        design.subset([True, False])
    with pytest.raises(DesignError, match="does not occur"):
        svyprop(design, "g", level="zzz")
    with pytest.raises(DesignError, match="collinear"):
        svyglm(design, "y ~ x1 + I(2 * x1)")
    with pytest.raises(DesignError, match="stat must be"):
        svyby(design, "y", "g", stat="median")


def test_design_is_frozen(data):
    design = SurveyDesign(data, weights="w")
    with pytest.raises(AttributeError):
        design.weights = "x1"


def test_svyby_sparse_path_equals_dense_path(monkeypatch):
    """Thousands of groups use the (PSU, group) pairs that occur: same SEs and df as dense."""
    from pipelines.stats import design as dmod

    rng = np.random.default_rng(3)
    n = 6000
    d = pd.DataFrame(
        {
            "stratum": rng.integers(0, 6, n),
            "psu": rng.integers(0, 900, n),
            "site": rng.integers(0, 400, n).astype(str),
            "y": rng.normal(size=n),
            "w": rng.uniform(0.5, 3, n),
        }
    )
    d["psu"] = d["stratum"] * 1000 + d["psu"]
    des = SurveyDesign(d, weights="w", strata="stratum", cluster="psu", lonely_psu="adjust")
    monkeypatch.setattr(dmod, "DENSE_LIMIT", 10**12)
    dense = svyby(des, "y", "site", "mean")
    monkeypatch.setattr(dmod, "DENSE_LIMIT", 0)
    sparse = svyby(des, "y", "site", "mean")
    assert len(dense) == 400
    np.testing.assert_allclose(sparse["se"], dense["se"], rtol=1e-10)
    assert sparse["df"].tolist() == dense["df"].tolist()


def test_svyglm_formula_c_terms_and_caller_variables():
    """C(g) is the same model as g (text columns are categorical), C() with a contrast still
    goes through patsy, and the formula sees the caller's variables."""
    rng = np.random.default_rng(5)
    n = 3000
    d = pd.DataFrame(
        {
            "psu": rng.integers(0, 60, n),
            "g": rng.choice(["a", "b", "c"], n),
            "x": rng.normal(size=n),
            "w": rng.uniform(1, 3, n),
        }
    )
    d["y"] = d["x"] + d["g"].map({"a": 0.0, "b": 1.0, "c": 2.0}) + rng.normal(size=n)
    des = SurveyDesign(d, weights="w", cluster="psu")
    plain = svyglm(des, "y ~ x + g")
    boxed = svyglm(des, "y ~ x + C(g)")
    np.testing.assert_allclose(boxed["estimate"], plain["estimate"], rtol=1e-12)
    np.testing.assert_allclose(boxed["se"], plain["se"], rtol=1e-12)
    assert "C(g)[T.c]" in boxed["term"].tolist()
    ref = svyglm(des, "y ~ x + C(g, Treatment(reference='c'))")
    assert "C(g, Treatment(reference='c'))[T.a]" in ref["term"].tolist()
    k = 2.0
    scaled = svyglm(des, "y ~ I(x * k) + g").set_index("term")["estimate"]
    np.testing.assert_allclose(scaled["I(x * k)"], plain.set_index("term")["estimate"]["x"] / k)


def test_stats_layer_is_domain_free():
    """pipelines.stats imports nothing from the config or codebook (issue 11, item 8)."""
    import ast
    import subprocess
    import sys

    import pipelines.stats

    pkg = Path(pipelines.stats.__file__).parent
    for path in pkg.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            for name in names:
                assert not name.startswith(("pipelines.config", "pipelines.codebook")), path
                assert (
                    name == "pipelines.errors"
                    or not name.startswith("pipelines.")
                    or (name.startswith("pipelines.stats"))
                ), (path, name)
    code = "import sys, pipelines.stats; print(sorted(m for m in sys.modules if m.startswith('pipelines')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = eval(out.stdout)
    assert "pipelines.config" not in loaded and "pipelines.codebook" not in loaded
    assert set(pipelines.stats.__all__) <= set(dir(pipelines.stats))


# ---------------------------------------------------------------------- multi-stage designs
def _two_stage_cases():
    from helpers_designs import api

    from pipelines.stats.calibrate import rake

    clus2 = api("clus2")
    return {
        # svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2)
        "clus2": lambda: SurveyDesign(clus2, cluster=["dnum", "snum"], fpc=["fpc1", "fpc2"]),
        "clus2_first_stage": lambda: SurveyDesign(clus2, weights="pw", cluster="dnum", fpc="fpc1"),
        # without an fpc only the first stage counts (with replacement), as R
        "clus2_nofpc": lambda: SurveyDesign(clus2, weights="pw", cluster=["dnum", "snum"]),
        "clus2_rake": lambda: rake(
            SurveyDesign(clus2, cluster=["dnum", "snum"], fpc=["fpc1", "fpc2"]),
            {"stype": {"E": 4421, "H": 755, "M": 1018}},
        ),
    }


@pytest.mark.parametrize("name", ["clus2", "clus2_first_stage", "clus2_nofpc", "clus2_rake"])
def test_multistage_design_equals_r(name):
    """Two-stage SEs (and their raked version) equal R's svydesign(id = ~dnum + snum, ...)."""
    from helpers_designs import load_designs_reference, max_diff_to_r

    ref = load_designs_reference()["multistage"][name]
    des = _two_stage_cases()[name]()
    assert des.df == ref["df"]
    diffs = max_diff_to_r(des, ref)
    assert max(diffs.values()) < 1e-6, diffs


def test_multistage_weights_and_fractions():
    """Without weights the design weights are N1/n1 x N2/n2 (apiclus2's pw); fpc given as
    sampling fractions gives the same design as population counts."""
    from helpers_designs import api

    clus2 = api("clus2")
    des = SurveyDesign(clus2, cluster=["dnum", "snum"], fpc=["fpc1", "fpc2"])
    np.testing.assert_allclose(des.row_weights, clus2["pw"], rtol=1e-4)  # pw is rounded in R
    n1 = clus2["dnum"].nunique()
    n2 = clus2.groupby("dnum")["snum"].transform("nunique")
    frac = clus2.assign(f1=n1 / clus2["fpc1"], f2=n2 / clus2["fpc2"])
    by_fraction = SurveyDesign(frac, cluster=["dnum", "snum"], fpc=["f1", "f2"])
    a, b = svymean(des, "api00"), svymean(by_fraction, "api00")
    assert a["se"][0] == pytest.approx(b["se"][0], rel=1e-12)
    assert des.stage_ids == ("dnum", "snum")


def test_planted_two_stage_sample_equals_r_and_its_se_is_right():
    """A planted two-stage sample (kecamatan strata, libraries, then members; both fractions
    known) equals R; over repeated samples from the planted population its SE tracks the true
    sampling SD, while first-stage-only SEs understate it."""
    from helpers_designs import (
        REF_DIR,
        TWO_STAGE_SEED,
        library_index,
        load_designs_reference,
        rel_diff,
        two_stage_population,
        two_stage_sample,
    )

    ref = load_designs_reference()["multistage"]
    sample = pd.read_csv(REF_DIR / "twostage_sample.csv")

    def two(d):
        return SurveyDesign(
            d,
            weights="weight",
            strata="kecamatan",
            cluster=["library", "member"],
            fpc=["n_libraries", "n_members"],
        )

    def first(d):
        return SurveyDesign(
            d, weights="weight", strata="kecamatan", cluster="library", fpc="n_libraries"
        )

    for name, make in (("planted_two_stage", two), ("planted_first_stage", first)):
        des, want = make(sample), ref[name]
        checks = [
            (svymean(des, "y"), want["mean_y"]),
            (svytotal(des, "y"), want["total_y"]),
            (svyprop(des, "z"), want["prop_z"]),
            (svyby(des, "y", "gender", "mean"), want["by_mean_y_gender"]),
            (svyby(des, "z", "kecamatan", "prop"), want["by_prop_z_kecamatan"]),
        ]
        for got, w in checks:
            assert rel_diff(np.r_[got["estimate"], got["se"]], np.r_[w["estimate"], w["se"]]) < 1e-6
        for formula, family, key in (
            ("y ~ x + C(gender)", "gaussian", "glm_gaussian"),
            ("z ~ x", "binomial", "glm_binomial"),
        ):
            got = svyglm(des, formula, family=family).set_index("r_term").loc[want[key]["term"]]
            assert (
                rel_diff(
                    np.r_[got["estimate"], got["se"]], np.r_[want[key]["estimate"], want[key]["se"]]
                )
                < 1e-6
            )

    pop = two_stage_population()
    truth = pop["y"].mean()
    rng = np.random.default_rng(TWO_STAGE_SEED + 2)
    est, var_two, var_first = [], [], []
    index = library_index(pop)
    for _ in range(200):
        s = two_stage_sample(pop, rng, index=index)
        res = svymean(two(s), "y")
        est.append(res["estimate"][0])
        var_two.append(res["se"][0] ** 2)
        var_first.append(svymean(first(s), "y")["se"][0] ** 2)
    true_var = np.mean((np.array(est) - truth) ** 2)
    assert np.mean(var_two) == pytest.approx(true_var, rel=0.2)
    assert np.mean(var_first) < np.mean(var_two)


def test_multistage_errors_name_the_problem():
    from helpers_designs import api

    clus2 = api("clus2")
    with pytest.raises(DesignError, match="one fpc per stage"):
        SurveyDesign(clus2, cluster=["dnum", "snum"], fpc="fpc1")
    with pytest.raises(DesignError, match="names 3 columns"):
        SurveyDesign(clus2, cluster=["dnum", "snum"], fpc=["fpc1", "fpc2", "fpc2"])
    bad = clus2.assign(fpc2=np.arange(len(clus2)) + 10.0)
    with pytest.raises(DesignError, match="constant within each unit"):
        SurveyDesign(bad, cluster=["dnum", "snum"], fpc=["fpc1", "fpc2"])
    lonely = clus2.groupby("dnum").head(1).assign(fpc2=5.0)
    with pytest.raises(DesignError, match="only one sampled"):
        SurveyDesign(lonely, cluster=["dnum", "snum"], fpc=["fpc1", "fpc2"])
    adjusted = SurveyDesign(
        lonely, cluster=["dnum", "snum"], fpc=["fpc1", "fpc2"], lonely_psu="adjust"
    )
    assert svymean(adjusted, "api00")["se"][0] > 0


def test_every_estimator_writes_the_one_tidy_row_layout():
    """One column list and one row builder (issue 11, item 8): model rows and descriptive rows
    come out in the same column order as the published estimates table."""
    from pipelines import analysis, models
    from pipelines.stats import tidy

    assert analysis.ESTIMATE_COLUMNS is tidy.ESTIMATE_COLUMNS
    assert models.frame is tidy.estimate_frame
    d = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], "t": [0, 1, 0, 1, 0, 1.0]})
    des = SurveyDesign(d)
    x, names, _ = models.design_matrix(d, [], {"t": d["t"].to_numpy()})
    fit = models.svy_fit(des, d["y"].to_numpy(), x, names)
    row = models.fit_rows(fit, ["t"], "participation", "y", "m")[0]
    desc = analysis._rows(svymean(des, "y"), "descriptive", "y", "mean", "m")[0]
    assert list(row) == list(desc)  # the same keys in the same order
    cols = [c for c in tidy.ESTIMATE_COLUMNS if c in row]
    assert list(tidy.estimate_frame([row, desc]).columns[: len(cols)]) == cols
