"""Smoke run of the simulation study (bench/simulation_study.py; the full run writes
docs/simulation.md): two surveys end to end, every estimand present, rates in [0, 1]."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd


def test_simulation_study_smoke():
    path = Path(__file__).parent.parent / "bench" / "simulation_study.py"
    spec = importlib.util.spec_from_file_location("simulation_study", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
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
    assert nulls.loc["all null families"].between(0, 1).all()
    assert "business x gender" in nulls.index  # null in seed 0, planted in seed 3
