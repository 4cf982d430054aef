"""Tests for pipelines.stats.scales (scoring, alpha, omega, item-total, reliability table).

Always-running tests use synthetic data only. Tests marked ``needs_shared`` use the
public bfi data at ../shared/realdata/reliability/bfi.csv and skip when it is absent;
their reference values come from R psych 2.2.9 (see
tests/reference/scales_psych_reference.R, which writes scales_psych_bfi.csv).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipelines.stats.scales import (
    cronbach_alpha,
    feldt_ci,
    item_total,
    omega_total,
    one_factor_loadings,
    reliability_table,
    reverse_code,
    score,
)

ROOT = Path(__file__).resolve().parents[1]
BFI_PATH = ROOT.parent / "shared" / "realdata" / "reliability" / "bfi.csv"
PSYCH_REF = Path(__file__).resolve().parent / "reference" / "scales_psych_bfi.csv"


# --------------------------------------------------------------------------- fixtures
@pytest.fixture
def hand_items() -> pd.DataFrame:
    """4 items x 6 respondents, complete data (textbook example)."""
    return pd.DataFrame(
        [[1, 2, 1, 2], [2, 2, 3, 2], [3, 3, 3, 4], [4, 4, 3, 4], [5, 4, 5, 5], [3, 3, 3, 3]],
        columns=["i1", "i2", "i3", "i4"],
    )


def simulate_congeneric(loadings, n, seed) -> pd.DataFrame:
    """Continuous one-factor data: x_j = l_j * f + e_j, Var(x_j) = 1."""
    rng = np.random.default_rng(seed)
    lam = np.asarray(loadings, dtype=float)
    f = rng.standard_normal((n, 1))
    e = rng.standard_normal((n, lam.size)) * np.sqrt(1.0 - lam**2)
    return pd.DataFrame(f * lam + e, columns=[f"x{j + 1}" for j in range(lam.size)])


def population_alpha_omega(loadings) -> tuple[float, float]:
    """Closed form for standardised congeneric items: Sigma = l l' + diag(1 - l^2)."""
    lam = np.asarray(loadings, dtype=float)
    k = lam.size
    sigma = np.outer(lam, lam)
    np.fill_diagonal(sigma, 1.0)
    alpha = k / (k - 1) * (1.0 - np.trace(sigma) / sigma.sum())
    omega = lam.sum() ** 2 / (lam.sum() ** 2 + (1.0 - lam**2).sum())
    return float(alpha), float(omega)


def naive_pairwise_cov(items: pd.DataFrame) -> np.ndarray:
    """Independent loop implementation of R cov(x, use = "pairwise")."""
    x = items.to_numpy(dtype=float)
    k = x.shape[1]
    c = np.empty((k, k))
    for i in range(k):
        for j in range(k):
            ok = ~np.isnan(x[:, i]) & ~np.isnan(x[:, j])
            a, b = x[ok, i], x[ok, j]
            c[i, j] = ((a - a.mean()) * (b - b.mean())).sum() / (ok.sum() - 1)
    return c


# --------------------------------------------------------------------------- reverse_code
def test_reverse_code_maps_low_high_and_keeps_nan():
    df = pd.DataFrame({"a": [1, 2, 3, 4, 5, np.nan], "b": [1, 2, 3, 4, 5, 1]})
    out = reverse_code(df, ["a"], low=1, high=5)
    assert out["a"].tolist()[:5] == [5, 4, 3, 2, 1]
    assert math.isnan(out["a"].iloc[5])
    pd.testing.assert_series_equal(out["b"], df["b"].astype(float))
    assert df["a"].tolist()[:5] == [1, 2, 3, 4, 5]  # input not mutated


def test_reverse_code_other_ranges_and_twice_is_identity():
    df = pd.DataFrame({"a": [0, 3, 10]})
    assert reverse_code(df, ["a"], low=0, high=10)["a"].tolist() == [10, 7, 0]
    six = pd.DataFrame({"a": [1, 2, 6]})
    back = reverse_code(reverse_code(six, ["a"], 1, 6), ["a"], 1, 6)
    pd.testing.assert_frame_equal(back, six.astype(float))


def test_reverse_code_errors():
    df = pd.DataFrame({"a": [1, 6], "b": [1, 2]})
    with pytest.raises(ValueError, match="outside"):
        reverse_code(df, ["a"], low=1, high=5)
    with pytest.raises(KeyError):
        reverse_code(df, ["zz"])
    with pytest.raises(ValueError):
        reverse_code(df, ["b"], low=5, high=1)
    with pytest.raises(TypeError):
        reverse_code(pd.DataFrame({"a": ["1", "2"]}), ["a"])


# --------------------------------------------------------------------------- score
def test_score_mean_with_reverse():
    df = pd.DataFrame({"a": [1, 5], "b": [5, 1], "c": [2, 4]})
    s = score(df, reverse=["b"], low=1, high=5)
    # row 0: 1, 1, 2 -> 4/3 ; row 1: 5, 5, 4 -> 14/3
    np.testing.assert_allclose(s.to_numpy(), [4 / 3, 14 / 3])
    pd.testing.assert_index_equal(s.index, df.index)


def test_score_min_answered_default_is_half_rounded_up():
    nan = np.nan
    # k = 4 -> default 2 answered needed
    df4 = pd.DataFrame(
        {
            "a": [1, 1, nan, nan],
            "b": [3, nan, nan, 2],
            "c": [nan, nan, nan, 4],
            "d": [nan, nan, nan, nan],
        },
        index=["r1", "r2", "r3", "r4"],
    )
    s = score(df4)
    assert s["r1"] == 2.0
    assert math.isnan(s["r2"]) and math.isnan(s["r3"])
    assert s["r4"] == 3.0
    # k = 5 -> ceil(2.5) = 3
    df5 = pd.DataFrame([[1, 2, nan, nan, nan], [1, 2, 3, nan, nan]], columns=list("abcde"))
    s5 = score(df5)
    assert math.isnan(s5.iloc[0]) and s5.iloc[1] == 2.0
    # explicit threshold
    assert score(df5, min_answered=2).iloc[0] == 1.5
    assert score(df5, min_answered=5).isna().all()


def test_score_sum_is_prorated_and_argument_checks():
    df = pd.DataFrame({"a": [1, 2], "b": [3, np.nan], "c": [5, 4]})
    s = score(df, method="sum")
    np.testing.assert_allclose(s.to_numpy(), [9.0, 9.0])  # (2 + 4) / 2 * 3 = 9
    with pytest.raises(ValueError):
        score(df, min_answered=0)
    with pytest.raises(ValueError):
        score(df, min_answered=4)
    with pytest.raises(ValueError):
        score(df, method="median")


# --------------------------------------------------------------------------- alpha
def test_alpha_hand_computed_textbook(hand_items):
    # Textbook: alpha = k/(k-1) * (1 - sum(s_i^2) / s_T^2)
    # item variances (n-1): 2, 4/5, 8/5, 22/15 -> sum 88/15
    # totals 6, 9, 13, 15, 19, 12 -> variance 62/3 = 310/15
    # alpha = 4/3 * (1 - 88/310) = 148/155
    expected = 4 / 3 * (1 - (88 / 15) / (62 / 3))
    assert expected == pytest.approx(148 / 155, abs=1e-15)
    a = cronbach_alpha(hand_items)
    assert a["alpha"] == pytest.approx(148 / 155, abs=1e-12)
    assert a["n"] == 6 and a["k"] == 4
    # std alpha = k r / (1 + (k - 1) r) with r the mean inter-item correlation
    r = hand_items.corr().to_numpy()
    rbar = r[np.triu_indices(4, 1)].mean()
    assert a["average_r"] == pytest.approx(rbar, abs=1e-12)
    assert a["std_alpha"] == pytest.approx(4 * rbar / (1 + 3 * rbar), abs=1e-12)
    assert a["alpha_ci_low"] < a["alpha"] < a["alpha_ci_high"]


def test_feldt_ci_matches_psych_alpha_ci():
    # R: psych::alpha.ci(0.8, 100, 10)  -> lower 0.736048459060734, upper 0.853691819091251
    lo, hi = feldt_ci(0.8, 100, 10)
    assert lo == pytest.approx(0.736048459060734, abs=1e-10)
    assert hi == pytest.approx(0.853691819091251, abs=1e-10)
    # R: psych::alpha.ci(0.6, 30, 4, p.val = .10) -> 0.360871146868171, 0.767401194431830
    lo, hi = feldt_ci(0.6, 30, 4, ci=0.90)
    assert lo == pytest.approx(0.360871146868171, abs=1e-10)
    assert hi == pytest.approx(0.767401194431830, abs=1e-10)


def test_alpha_uses_pairwise_covariance_with_missing_data():
    rng = np.random.default_rng(7)
    df = simulate_congeneric([0.7, 0.6, 0.5, 0.65], n=300, seed=7)
    mask = rng.random(df.shape) < 0.15
    df = df.mask(mask)
    df.iloc[0] = np.nan  # a fully empty respondent is not counted in n
    c = naive_pairwise_cov(df)
    k = 4
    expected = k / (k - 1) * (1 - np.trace(c) / c.sum())
    a = cronbach_alpha(df)
    assert a["alpha"] == pytest.approx(expected, abs=1e-12)
    assert a["n"] == 299
    # item_total agrees with a hand-rolled leave-one-out on the same matrix
    it = item_total(df)
    for i, name in enumerate(df.columns):
        keep = [j for j in range(k) if j != i]
        sub = c[np.ix_(keep, keep)]
        a_drop = (k - 1) / (k - 2) * (1 - np.trace(sub) / sub.sum())
        r_drop = (c[i].sum() - c[i, i]) / np.sqrt(c[i, i] * sub.sum())
        assert it.loc[name, "alpha_if_dropped"] == pytest.approx(a_drop, abs=1e-12)
        assert it.loc[name, "r_drop"] == pytest.approx(r_drop, abs=1e-12)


def test_alpha_reverse_keyed_item_is_recoded():
    df = simulate_congeneric([0.7, 0.7, 0.7, 0.7], n=500, seed=3)
    likert = df.apply(lambda s: pd.cut(s, [-np.inf, -1, -0.3, 0.3, 1, np.inf], labels=False) + 1)
    flipped = likert.copy()
    flipped["x2"] = 6 - likert["x2"]
    a_true = cronbach_alpha(likert)["alpha"]
    assert cronbach_alpha(flipped, reverse=["x2"], low=1, high=5)["alpha"] == pytest.approx(
        a_true, abs=1e-12
    )
    assert cronbach_alpha(flipped)["alpha"] < a_true - 0.2
    it = item_total(flipped)
    assert it.loc["x2", "r_drop"] < 0
    assert item_total(flipped, reverse=["x2"])["reversed"].tolist() == [False, True, False, False]


def test_alpha_errors_and_degenerate_cases():
    with pytest.raises(ValueError):
        cronbach_alpha(pd.DataFrame({"a": [1, 2, 3]}))
    const = pd.DataFrame({"a": [3, 3, 3], "b": [3, 3, 3]})
    assert math.isnan(cronbach_alpha(const)["alpha"])
    with_empty = pd.DataFrame({"a": [1, 2, 3, 4], "b": [2, 2, 3, 5], "c": [np.nan] * 4})
    assert math.isnan(cronbach_alpha(with_empty)["alpha"])


# --------------------------------------------------------------------------- planted loadings
PLANTED = [0.8, 0.7, 0.6, 0.7, 0.5, 0.6]


def test_population_formulas_sanity():
    alpha, omega = population_alpha_omega(PLANTED)
    assert omega > alpha  # congeneric, unequal loadings: alpha underestimates
    a_eq, o_eq = population_alpha_omega([0.6] * 5)  # tau-equivalent: alpha == omega
    assert a_eq == pytest.approx(o_eq, abs=1e-12)


def test_recovers_planted_alpha_and_omega():
    alpha_pop, omega_pop = population_alpha_omega(PLANTED)  # 0.8133, 0.8169
    df = simulate_congeneric(PLANTED, n=20_000, seed=20240501)
    a = cronbach_alpha(df)
    assert a["alpha"] == pytest.approx(alpha_pop, abs=0.01)
    assert a["alpha_ci_low"] < alpha_pop < a["alpha_ci_high"]  # Feldt 95% CI covers it
    lam = one_factor_loadings(df.corr().to_numpy())
    np.testing.assert_allclose(lam, PLANTED, atol=0.03)
    assert omega_total(df) == pytest.approx(omega_pop, abs=0.01)
    assert omega_total(df, method="ml") == pytest.approx(omega_pop, abs=0.01)
    assert omega_total(df) > a["alpha"]


def test_omega_exact_on_population_correlation_matrix():
    # Feed the population correlation matrix itself: minres must recover l exactly.
    lam = np.array(PLANTED)
    sigma = np.outer(lam, lam)
    np.fill_diagonal(sigma, 1.0)
    np.testing.assert_allclose(one_factor_loadings(sigma), lam, atol=1e-6)
    np.testing.assert_allclose(one_factor_loadings(sigma, method="ml"), lam, atol=1e-4)


def test_omega_needs_three_items_and_handles_sign():
    df = simulate_congeneric([0.7, 0.6], n=200, seed=1)
    assert math.isnan(omega_total(df))
    df3 = simulate_congeneric([0.7, 0.6, 0.5], n=2000, seed=2)
    neg = -df3  # all items flipped: loadings all negative, omega unchanged
    assert omega_total(neg) == pytest.approx(omega_total(df3), abs=1e-8)
    with pytest.raises(ValueError):
        omega_total(df3, method="pca")


# --------------------------------------------------------------------------- reliability_table
def test_reliability_table_flags_unrelated_items():
    rng = np.random.default_rng(11)
    n = 400
    good = simulate_congeneric([0.8, 0.75, 0.7, 0.8], n=n, seed=5)
    good = good.apply(lambda s: pd.cut(s, [-np.inf, -1, -0.3, 0.3, 1, np.inf], labels=False) + 1)
    good.columns = ["g1", "g2", "g3", "g4"]
    good["g4"] = 6 - good["g4"]  # stored reverse-keyed
    noise = pd.DataFrame(rng.integers(1, 6, size=(n, 4)), columns=["u1", "u2", "u3", "u4"])
    df = pd.concat([good, noise], axis=1)
    df.loc[df.index[:20], "g2"] = np.nan
    tab = reliability_table(
        df,
        {
            "good": {"items": ["g1", "g2", "g3", "g4"], "reverse": ["g4"]},
            "noise": {"items": ["u1", "u2", "u3", "u4"]},
            "good_unkeyed": {"items": ["g1", "g2", "g3", "g4"], "reverse": []},
        },
        low=1,
        high=5,
    )
    assert list(tab.columns) == [
        "scale",
        "n",
        "k",
        "alpha",
        "alpha_ci_low",
        "alpha_ci_high",
        "std_alpha",
        "omega",
        "reliable",
        "warning",
    ]
    tab = tab.set_index("scale")
    assert tab.loc["good", "reliable"] and tab.loc["good", "warning"] == ""
    assert tab.loc["good", "alpha"] > 0.75 and tab.loc["good", "n"] == n
    assert tab.loc["good", "alpha"] == pytest.approx(
        cronbach_alpha(df[["g1", "g2", "g3", "g4"]], reverse=["g4"])["alpha"], abs=1e-12
    )
    assert not tab.loc["noise", "reliable"]
    assert abs(tab.loc["noise", "alpha"]) < 0.3
    assert "low internal consistency" in tab.loc["noise", "warning"]
    assert not tab.loc["good_unkeyed", "reliable"]
    assert "g4" in tab.loc["good_unkeyed", "warning"]
    assert "reverse keying" in tab.loc["good_unkeyed", "warning"]


def test_reliability_table_bad_specs():
    df = pd.DataFrame({"a": [1, 2, 3], "b": [1, 3, 2]})
    with pytest.raises(KeyError):
        reliability_table(df, {"s": {"items": ["a", "zz"]}})
    with pytest.raises(ValueError):
        reliability_table(df, {"s": {"items": ["a"], "reverse": ["b"]}})
    one = reliability_table(df, {"s": {"items": ["a"]}})
    assert not one.loc[0, "reliable"] and math.isnan(one.loc[0, "alpha"])
    assert "at least 2 items" in one.loc[0, "warning"]


# --------------------------------------------------------------------------- bfi vs R psych
BFI_KEYS = {
    "A": ["A1"],
    "C": ["C4", "C5"],
    "E": ["E1", "E2"],
    "N": [],
    "O": ["O2", "O5"],
}

# R psych 2.2.9:
#   a <- psych::alpha(bfi[, paste0(s, 1:5)], keys = <reverse items>)   # use = "pairwise"
#   a$total$raw_alpha, a$feldt$lower.ci, a$feldt$upper.ci, a$total$std.alpha
#   psych::omega(<reversed items>, nfactors = 1, fm = "minres")$omega.tot
PSYCH_TOTALS = {
    #     raw_alpha       feldt_low       feldt_high      std_alpha       omega_tot
    "A": (0.703018446057, 0.685264325886, 0.720063389899, 0.713028578671, 0.722943136475),
    "C": (0.726734972927, 0.710398671683, 0.742418731661, 0.730072584382, 0.731189719945),
    "E": (0.761732820298, 0.747488756702, 0.775407914402, 0.761795094115, 0.764049927629),
    "N": (0.813962949917, 0.802841302463, 0.824640350682, 0.814674674190, 0.818966378327),
    "O": (0.600172514820, 0.576270069954, 0.623120192684, 0.607268430998, 0.616783791917),
}
PUBLISHED_ALPHA = {"A": 0.70, "C": 0.72, "E": 0.76, "N": 0.81, "O": 0.60}


@pytest.fixture(scope="module")
def bfi() -> pd.DataFrame:
    if not BFI_PATH.exists():
        pytest.skip(f"bfi data not available at {BFI_PATH}")
    return pd.read_csv(BFI_PATH)


@pytest.fixture(scope="module")
def psych_ref() -> pd.DataFrame:
    return pd.read_csv(PSYCH_REF, keep_default_na=False)


@pytest.mark.needs_shared
@pytest.mark.parametrize("scale", list(BFI_KEYS))
def test_bfi_alpha_matches_psych(bfi, scale):
    items = bfi[[f"{scale}{i}" for i in range(1, 6)]]
    a = cronbach_alpha(items, reverse=BFI_KEYS[scale], low=1, high=6)
    raw, lo, hi, std, omega = PSYCH_TOTALS[scale]
    assert a["alpha"] == pytest.approx(raw, abs=1e-6)
    assert a["alpha_ci_low"] == pytest.approx(lo, abs=1e-6)
    assert a["alpha_ci_high"] == pytest.approx(hi, abs=1e-6)
    assert a["std_alpha"] == pytest.approx(std, abs=1e-6)
    assert round(a["alpha"], 2) == pytest.approx(PUBLISHED_ALPHA[scale], abs=0.011)
    assert a["n"] == 2800
    # psych's minres optimiser stops at ~1e-6 in the loadings; omega agrees to ~1e-7
    assert omega_total(items, reverse=BFI_KEYS[scale], low=1, high=6) == pytest.approx(
        omega, abs=1e-6
    )


@pytest.mark.needs_shared
@pytest.mark.parametrize("scale", list(BFI_KEYS))
def test_bfi_item_total_and_loadings_match_psych(bfi, psych_ref, scale):
    cols = [f"{scale}{i}" for i in range(1, 6)]
    ref = psych_ref[psych_ref["scale"] == scale]

    def stat(name: str) -> pd.Series:
        return ref[ref["stat"] == name].set_index("item")["value"].reindex(cols)

    it = item_total(bfi[cols], reverse=BFI_KEYS[scale], low=1, high=6)
    np.testing.assert_allclose(it["r_drop"], stat("r_drop"), atol=1e-6)
    np.testing.assert_allclose(it["alpha_if_dropped"], stat("alpha_drop"), atol=1e-6)
    # R: psych::fa(cor(<reversed items>, use = "pairwise"), 1, fm = "minres")$loadings
    r = reverse_code(bfi[cols], BFI_KEYS[scale], 1, 6).corr().to_numpy()
    np.testing.assert_allclose(one_factor_loadings(r), stat("minres_loading"), atol=2e-5)


@pytest.mark.needs_shared
def test_bfi_reliability_table(bfi):
    scales = {
        s: {"items": [f"{s}{i}" for i in range(1, 6)], "reverse": k} for s, k in BFI_KEYS.items()
    }
    tab = reliability_table(bfi, scales, low=1, high=6).set_index("scale")
    np.testing.assert_allclose(tab["alpha"], [v[0] for v in PSYCH_TOTALS.values()], atol=1e-6)
    assert tab["reliable"].to_dict() == {"A": True, "C": True, "E": True, "N": True, "O": False}
    assert "O" in tab.loc["O", "warning"] and "0.60" in tab.loc["O", "warning"]
    assert (tab["k"] == 5).all() and (tab["n"] == 2800).all()
