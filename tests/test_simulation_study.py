"""Smoke run of the simulation study (bench/simulation_study.py; the full run writes
docs/simulation.md): two surveys end to end, every estimand present, rates in [0, 1]."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest


def _bench(name: str):
    path = Path(__file__).parent.parent / "bench" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_simulation_study_smoke():
    mod = _bench("simulation_study")
    est, flags, fams = [], [], []
    for seed in (0, 3):  # no gap / both gaps planted
        e, f, g = mod.one_survey(seed, 600)
        est += e
        flags += f
        fams += g
    table, rates = mod.summarise(pd.DataFrame(est), pd.DataFrame(flags))
    assert {"participation: skills", "IPW: skills", "DiD: skills"} <= set(table.index)
    assert table.coverage_95.between(0, 1).all() and np.isfinite(table.bias).all()
    assert set(rates.columns) == {"grid", "outcome_breakdown"}
    assert (rates.loc["largest |estimate|"] < 10).all()  # never a runaway small-group fit
    assert "| estimand |" in mod.markdown(table)
    nulls = mod.null_families(pd.DataFrame(fams))
    assert nulls.loc["all null families", ["grid", "outcome_breakdown"]].between(0, 1).all()
    assert "business x gender" in nulls.index  # null in seed 0, planted in seed 3
    row = nulls.loc["business x gender"]
    assert row["surveys"] >= 1 and 0 < row["p_above_5%"] <= 1
    assert row["mc_se"] == pytest.approx(np.sqrt(0.05 * 0.95 / row["surveys"]))


def test_gap_null_check_smoke():
    """bench/gap_null_check.py: its refit is the lens's model (same gap and corrected SE), the
    two gap rows of a two-group breakdown are one test, working-model rates are rates."""
    mod = _bench("gap_null_check")
    row = mod.survey_row(0, 600, 20, np.random.default_rng(0))
    assert row["refit_gap_diff"] < 1e-10
    assert row["mirror_p_diff"] < 1e-12
    assert 1 <= row["df"] <= 12
    rates = [v for k, v in row.items() if k.split(":")[0] in ("iid", "site") and "E[" not in k]
    assert len(rates) == 10 and all(0 <= v <= 1 for v in rates)
    assert row["flags: cr2_satt"] in (True, False) and row["flags: model"] in (True, False)
    assert 0.5 < row["iid: E[taylor]/model"] < 1.5
    # the lens's SE is the Taylor SE scaled up by Kott's factor, never down
    assert row["kott_factor"] >= 1 and row["kott_var"] >= row["taylor_var"]


def test_gap_null_check_families_smoke():
    """--families: every null family of a no-gap survey, flagged with Kott-corrected and with
    Taylor SEs; the planted families of a both-gaps survey are left out; the lens is restored."""
    from pipelines import models

    mod = _bench("gap_null_check")
    before = models.Fit.contrast_test
    rows = pd.DataFrame(mod.family_rows(0, 600) + mod.family_rows(3, 600))
    assert models.Fit.contrast_test is before
    assert set(rows.se) == {"kott", "taylor"} and rows.flagged.isin([True, False]).all()
    fams = rows[rows.seed == 3].family
    assert "skills x disability" not in set(fams) and "business x gender" not in set(fams)
    assert {"skills x disability", "business x gender"} <= set(rows[rows.seed == 0].family)
