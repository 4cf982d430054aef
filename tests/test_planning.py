"""Power and planning: ICC, MDE and respondents per library against closed forms and a
simulation; the `plan` command on a generated survey."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from pipelines import planning


def test_icc_anova_balanced_closed_form():
    # balanced: icc = (MSB - MSW) / (MSB + (n - 1) MSW)
    rng = np.random.default_rng(0)
    k, n = 12, 9
    cl = np.repeat(np.arange(k), n)
    y = rng.normal(size=k)[cl] * 0.5 + rng.normal(size=k * n)
    means = y.reshape(k, n).mean(axis=1)
    msb = n * np.sum((means - y.mean()) ** 2) / (k - 1)
    msw = np.sum((y.reshape(k, n) - means[:, None]) ** 2) / (k * (n - 1))
    want = (msb - msw) / (msb + (n - 1) * msw)
    assert planning.icc_anova(y, cl) == pytest.approx(want, rel=1e-12)
    # unbiased-ish on a large simulated design with unequal clusters (true icc 0.1)
    sizes = rng.integers(20, 80, size=300)
    cl = np.repeat(np.arange(300), sizes)
    y = rng.normal(0, np.sqrt(0.1), 300)[cl] + rng.normal(0, np.sqrt(0.9), len(cl))
    assert planning.icc_anova(y, cl) == pytest.approx(0.1, abs=0.02)


def test_mde_and_respondents_closed_form():
    k, icc, kish, p = 8, 0.02, 1.3, 0.4
    f = stats.t.ppf(0.975, k - 1) + stats.t.ppf(0.8, k - 1)
    for m in (10, 50, 150):
        want = f * np.sqrt(kish * (1 + (m - 1) * icc) / (k * m * p * (1 - p)))
        assert planning.mde_sd(k, m, icc, kish, p) == pytest.approx(want, rel=1e-12)
    # the answer is the smallest m whose MDE reaches the target
    for effect in (0.45, 0.6, 0.8):
        m = planning.respondents_needed(effect, k, icc, kish, p)
        assert np.isfinite(m)
        assert planning.mde_sd(k, m, icc, kish, p) <= effect + 1e-12
        assert planning.mde_sd(k, m - 1, icc, kish, p) > effect
    # too few libraries: the ICC floor f^2 kish icc / (k p (1-p)) exceeds the target
    assert planning.respondents_needed(0.2, k, icc, kish, p) == np.inf
    floor = f * np.sqrt(kish * icc / (k * p * (1 - p)))
    assert planning.mde_sd(k, 1e7, icc, kish, p) == pytest.approx(floor, rel=1e-3)
    # participation mixed within libraries (icc_t < 1) needs fewer respondents
    full = planning.respondents_needed(0.6, k, icc, kish, p)
    assert planning.respondents_needed(0.6, k, icc, kish, p, icc_t=0.2) < full


def test_mde_has_80_percent_power_in_simulation():
    """Whole libraries take part or not (icc_t = 1): at the planned MDE a cluster-level t
    test rejects about 80% of the time."""
    rng = np.random.default_rng(1)
    k, icc = 30, 0.08
    m = int(planning.respondents_needed(0.35, k, icc, 1.0, 0.5))
    delta = planning.mde_sd(k, m, icc, 1.0, 0.5)
    reps = 2000
    treat = np.arange(k) < k // 2
    u = rng.normal(0, np.sqrt(icc), (reps, k))
    e = rng.normal(0, np.sqrt(1 - icc), (reps, k, m)).mean(axis=2)
    means = u + e + delta * treat
    a, b = means[:, treat], means[:, ~treat]
    diff = a.mean(axis=1) - b.mean(axis=1)
    se = np.sqrt(a.var(axis=1, ddof=1) / a.shape[1] + b.var(axis=1, ddof=1) / b.shape[1])
    power = np.mean(np.abs(diff / se) > stats.t.ppf(0.975, k - 2))
    assert power == pytest.approx(0.8, abs=0.04)


def test_report_is_bilingual_with_a_table():
    inp = planning.Inputs(0.05, 0.3, 1.2, 0.4, 8, 150, "skills")
    text = planning.report(inp, 0.3, "2026")
    assert "Perencanaan" in text and "Planning the next wave" in text
    assert "respondents per library" in text and "responden per perpustakaan" in text
    table = planning.planning_table(inp)
    assert {"libraries", "per_library", "respondents", "mde", "unit"} <= set(table.columns)
    assert (table.unit == "sd").all()
    assert (table.respondents == table.libraries * table.per_library).all()


def test_plan_command_on_a_cleaned_survey(small_survey, tmp_path, capsys):
    """`python -m pipelines plan` reads the cleaned last wave and prints both languages."""
    from helpers import write_config

    from pipelines.__main__ import main
    from pipelines.runner import Run

    cfg = write_config(small_survey)
    Run(str(cfg), stages=["ingest", "clean"], out_root=str(tmp_path)).run()
    processed = tmp_path / "data/processed/test-survey"
    rc = main(["plan", str(cfg), "--effect", "0.3", "--processed", str(processed)])
    out = capsys.readouterr().out
    assert rc == 0
    assert "intra-library correlation" in out and "korelasi antar-perpustakaan" in out
    assert "respondents per library" in out or "add libraries" in out


# ------------------------------------------------------------------ yes/no and money outcomes
# R 4.x, base stats (normal approximation, pooled variance under the null, equal groups):
#   for (a in list(c(.5, .75), c(.10, .15), c(.30, .22), c(.6, .68)))
#     print(power.prop.test(p1 = a[1], p2 = a[2], power = .8, tol = 1e-12)$n, digits = 12)
R_POWER_PROP = [
    (0.50, 0.75, 57.6734367389),
    (0.10, 0.15, 685.596858325),
    (0.30, 0.22, 470.733235351),
    (0.60, 0.68, 563.938967177),
]


@pytest.mark.parametrize(("others", "participants", "n_per_group"), R_POWER_PROP)
def test_yesno_srs_n_equals_r_power_prop_test(others, participants, n_per_group):
    # equal groups around the mix pbar (a fall is as hard to see as a rise); normal
    # quantiles (k=0) as R
    pbar, diff = (others + participants) / 2, abs(participants - others)
    assert planning.srs_n_yesno(diff, pbar, 0.5) == pytest.approx(2 * n_per_group, rel=1e-9)


@pytest.mark.parametrize(("pbar", "share", "diff"), [(0.2, 0.3, 0.08), (0.55, 0.7, 0.1)])
def test_yesno_srs_n_has_80_percent_power_in_statsmodels(pbar, share, diff):
    """Unequal groups: statsmodels' pooled-null z test has 80% power at our n."""
    from statsmodels.stats.proportion import power_proportions_2indep

    n = planning.srs_n_yesno(diff, pbar, share)
    others = pbar - share * diff  # participants are others + diff, the mix stays pbar
    res = power_proportions_2indep(diff, others, n * share, ratio=(1 - share) / share)
    assert res.p_pooled == pytest.approx(pbar, rel=1e-12)
    assert res.power == pytest.approx(0.8, abs=1e-5)  # statsmodels adds the far tail, ~2e-6


def _hand_n(diff, pbar, share, k):
    """The two-proportion formula written out, t on k - 1 df."""
    ta, tb = stats.t.ppf(0.975, k - 1), stats.t.ppf(0.8, k - 1)
    p1, p0 = pbar + (1 - share) * diff, pbar - share * diff
    null = np.sqrt(pbar * (1 - pbar) * (1 / share + 1 / (1 - share)))
    alt = np.sqrt(p1 * (1 - p1) / share + p0 * (1 - p0) / (1 - share))
    return (ta * null + tb * alt) ** 2 / diff**2


def test_yesno_respondents_equal_hand_formula_times_design_effect():
    k, icc, icc_t, kish, share, pbar = 24, 0.03, 0.6, 1.25, 0.35, 0.18
    for diff in (0.08, 0.12, 0.2):
        n_srs = _hand_n(diff, pbar, share, k)
        # smallest m with k m >= kish (1 + (m - 1) icc icc_t) n_srs, by search
        want = next(
            m for m in range(1, 100_000) if k * m >= kish * (1 + (m - 1) * icc * icc_t) * n_srs
        )
        got = planning.respondents_needed_yesno(diff, k, icc, kish, share, pbar, icc_t)
        assert got == want
        # and the detectable difference at that m is within reach, one fewer is not
        assert planning.mde_yesno(k, got, icc, kish, share, pbar, icc_t) <= diff
        assert planning.mde_yesno(k, got - 1, icc, kish, share, pbar, icc_t) > diff
    # the MDE solves the formula: k m = deff x n_srs(MDE)
    m = 40
    d = planning.mde_yesno(k, m, icc, kish, share, pbar, icc_t)
    deff = kish * (1 + (m - 1) * icc * icc_t)
    assert deff * _hand_n(d, pbar, share, k) == pytest.approx(k * m, rel=1e-8)
    # 6 points: the ICC floor k / (kish n_srs) <= icc icc_t, more libraries needed
    assert k / (kish * _hand_n(0.06, pbar, share, k)) <= icc * icc_t
    assert planning.respondents_needed_yesno(0.06, k, icc, kish, share, pbar, icc_t) == np.inf
    # too large to be possible around pbar (participants would pass 100% or others 0%)
    assert np.isnan(planning.respondents_needed_yesno(0.6, k, icc, kish, share, pbar))
    # a fall: participants pbar - 0.65 x 0.12, others pbar + 0.35 x 0.12
    n_fall = _hand_n(-0.12, pbar, share, k)
    assert n_fall != pytest.approx(_hand_n(0.12, pbar, share, k), rel=1e-3)  # not symmetric
    want = next(m for m in range(1, 10_000) if k * m >= kish * (1 + (m - 1) * icc * icc_t) * n_fall)
    assert planning.respondents_needed_yesno(-0.12, k, icc, kish, share, pbar, icc_t) == want
    # a rise of 30 points fits (participants 37.5%, others 7.5%), a fall does not (below 0%)
    assert planning.possible_yesno(0.3, pbar, share)
    assert np.isnan(planning.respondents_needed_yesno(-0.3, k, icc, kish, share, pbar))


def test_more_effect_fewer_respondents_more_icc_more_respondents():
    k, kish, share = 30, 1.2, 0.4
    for pbar in (0.1, 0.5, 0.8):
        by_effect = [
            planning.respondents_needed_yesno(d, k, 0.02, kish, share, pbar)
            for d in (0.07, 0.1, 0.15)
        ]
        assert by_effect[0] > by_effect[1] > by_effect[2]
        by_icc = [
            planning.respondents_needed_yesno(0.1, k, icc, kish, share, pbar)
            for icc in (0.0, 0.01, 0.03)
        ]
        assert by_icc[0] < by_icc[1] < by_icc[2]
        mdes = [planning.mde_yesno(k, m, 0.02, kish, share, pbar) for m in (10, 30, 100)]
        assert mdes[0] > mdes[1] > mdes[2]
    by_icc = [planning.respondents_needed(0.2, k, icc, kish, share) for icc in (0, 0.01, 0.03)]
    assert by_icc[0] < by_icc[1] < by_icc[2]


def test_money_in_percent_is_log_difference_over_log_sd():
    inp = planning.Inputs(0.02, 0.5, 1.1, 0.3, 20, 60, "log_pay", "percent", 0.5)
    delta = np.log(1.15) / 0.5
    want = planning.respondents_needed(delta, 20, 0.02, 1.1, 0.3, 0.5)
    assert planning.needed(inp, 15) == want
    # a fall of 1 - 1/1.15 is the same distance on the log scale
    assert planning.needed(inp, 100 * (1 / 1.15 - 1)) == want
    m = 50
    pct = planning.mde(inp, 20, m)
    assert np.log1p(pct / 100) / 0.5 == pytest.approx(
        planning.mde_sd(20, m, 0.02, 1.1, 0.3, 0.5), rel=1e-12
    )
    yes = planning.Inputs(0.02, 0.5, 1.1, 0.3, 20, 60, "job", "pp", 0.25)
    assert planning.needed(yes, 8) == planning.respondents_needed_yesno(
        0.08, 20, 0.02, 1.1, 0.3, 0.25, 0.5
    )
    assert planning.mde(yes, 20, m) == pytest.approx(
        100 * planning.mde_yesno(20, m, 0.02, 1.1, 0.3, 0.25, 0.5), rel=1e-12
    )


def test_effect_takes_the_outcome_unit():
    assert planning.parse_effect("5pp", "pp") == 5
    assert planning.parse_effect("7", "pp") == 7
    assert planning.parse_effect("10%", "percent") == 10
    assert planning.parse_effect(" 0.25 SD", "sd") == 0.25
    assert planning.parse_effect(None, "pp") == planning.DEFAULT_EFFECT["pp"]
    from pipelines.errors import RunError

    with pytest.raises(RunError, match="percentage points"):
        planning.parse_effect("0.2sd", "pp")
    with pytest.raises(RunError, match="percent"):
        planning.parse_effect("five", "percent")


def test_report_names_the_unit():
    yes = planning.Inputs(0.03, 0.4, 1.2, 0.3, 6, 60, "job", "pp", 0.15)
    text = planning.report(yes, 10, "2025")
    assert "10 percentage points" in text and "10 poin persentase" in text
    assert "15% answered yes" in text and "(percentage points)" in text
    assert "(SD units)" not in text
    money = planning.Inputs(0.03, 0.4, 1.2, 0.3, 6, 60, "log_pay", "percent", 0.4)
    text = planning.report(money, 20, "2025", ("en",))
    assert "difference of 20%" in text and "(percent)" in text and "log scale" in text


@pytest.fixture(scope="module")
def spss6_clean(tmp_path_factory):
    """The SPSS instrument (not TPBIS: got_job yes/no, income money), cleaned."""
    from instruments import build

    from pipelines.runner import Run

    built = build("spss6", tmp_path_factory.mktemp("spss6") / "survey")
    out = tmp_path_factory.mktemp("spss6-out")
    run = Run(built.config, stages=["ingest", "clean"], out_root=out, progress=lambda m: None)
    run.run()
    return built, run.layout.processed


def test_plan_command_yesno_and_money_on_another_instrument(spss6_clean, capsys):
    import pandas as pd

    from pipelines.__main__ import main

    built, processed = spss6_clean
    cfg, where = str(built.config), ["--processed", str(processed)]
    assert main(["plan", cfg, "--outcome", "got_job", "--effect", "10pp", *where]) == 0
    out = capsys.readouterr().out
    assert "10 percentage points" in out and "10 poin persentase" in out
    # the proportion planned around is the cleaned wave's share of yes (no weights here)
    job = pd.read_parquet(next(processed.rglob("*2025*.parquet")))["got_job"].astype(float)
    assert f"{job.mean():.0%} answered yes" in out
    assert main(["plan", cfg, "--outcome", "income", "--effect", "25%", *where]) == 0
    out = capsys.readouterr().out
    assert "difference of 25%" in out and "(percent)" in out and "(persen)" in out
    assert main(["plan", cfg, "--outcome", "got_job", "--effect", "0.2sd", *where]) == 2
    assert "given in percentage points (e.g. --effect 5pp)" in capsys.readouterr().err
