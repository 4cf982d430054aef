"""Tests for the clean-frame generator (pipelines/simulate/waves.py, ``make_waves``)."""

from __future__ import annotations

import numpy as np
import pytest
from pandas.testing import assert_frame_equal

from pipelines.simulate import coefficients as C
from pipelines.simulate.places import kecamatan_of, kelurahan_names, real_sites
from pipelines.simulate.waves import SCALES, make_waves


def test_deterministic_for_a_seed():
    a, pa_, ta = make_waves(300, seed=4)
    b, pb, tb = make_waves(300, seed=4)
    c, _, _ = make_waves(300, seed=5)
    for wid in a:
        assert_frame_equal(a[wid], b[wid])
        assert not a[wid]["skill_1"].equals(c[wid]["skill_1"])
    assert_frame_equal(pa_, pb)
    assert ta == tb


def test_places_all_from_the_place_list():
    waves, _, _ = make_waves(600, seed=1)
    sites = {s["id"]: s["kecamatan"] for s in real_sites()}
    kec_of = kecamatan_of()
    for w in waves.values():
        assert set(w["kelurahan"]) == set(kelurahan_names())
        assert set(w["site"]) == set(sites)
        assert (w["kecamatan"] == w["site"].map(sites)).all()
        # a kelurahan library serves its own kelurahan
        own = w["site"] != "kota"
        assert (w.loc[own, "kecamatan"] == w.loc[own, "kelurahan"].map(kec_of)).all()


def _skills_effect(w) -> tuple[float, float]:
    """OLS effect of taking part on the skills score, adjusted for the covariates; (b, se)."""
    items, rev = SCALES["skills"]
    x = w[items].astype(float)
    x[rev] = 6 - x[rev]
    y = x.mean(axis=1).to_numpy()
    X = np.column_stack(
        [
            np.ones(len(w)),
            w["participated"].astype(float),
            w["gender"].eq("female"),
            w["age"],
            w["education"].map({e: i for i, e in enumerate(C.EDUCATION)}),
            w["disability"].astype(float),
        ]
    ).astype(float)
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ beta
    cov = resid @ resid / (len(y) - X.shape[1]) * np.linalg.inv(X.T @ X)
    return beta[1], float(np.sqrt(cov[1, 1]))


@pytest.mark.parametrize("planted", [None, 0.0])
def test_named_effect_is_recovered(monkeypatch, planted):
    if planted is not None:
        monkeypatch.setitem(C.CLEAN_EFFECTS, "skills", planted)
    waves, _, truth = make_waves(3000, seed=11, disability_gap=0.0)
    assert truth["effects"]["skills"] == C.CLEAN_EFFECTS["skills"]
    b, se = _skills_effect(waves["2025"])
    assert abs(b - truth["effects"]["skills"]) < 4 * se
