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
    assert {"libraries", "per_library", "respondents", "mde_sd"} <= set(table.columns)
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
