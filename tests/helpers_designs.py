"""Shared helpers for the design tests: R reference files, comparison, planted two-stage data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.stats import svyby, svyglm, svymean, svyprop, svytotal

REF_DIR = Path(__file__).parent / "reference"


def load_designs_reference() -> dict:
    return json.loads((REF_DIR / "r_designs_reference.json").read_text())


def api(name: str) -> pd.DataFrame:
    """R's api data as exported by r_designs_reference.R (clus1, clus2, strat)."""
    return pd.read_csv(REF_DIR / f"api_{name}.csv")


def rel_diff(got, want) -> float:
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    assert got.shape == want.shape, (got.shape, want.shape)
    return float(np.max(np.abs(got - want) / np.maximum(np.abs(want), 1e-12)))


def battery(des) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The estimator battery of r_designs_reference.R's run(): name -> (estimates, SEs)."""
    out = {}
    for key, res in [
        ("mean_api00", svymean(des, "api00")),
        ("total_enroll", svytotal(des, "enroll")),
        ("prop_comp_yes", svyprop(des, "comp_yes")),
        ("subset_mean_api00_E", svymean(des.subset(des.data["stype"] == "E"), "api00")),
        ("by_mean_api00_stype", svyby(des, "api00", "stype", "mean")),
        ("by_total_enroll_stype", svyby(des, "enroll", "stype", "total")),
        ("by_prop_comp_yes_stype", svyby(des, "comp_yes", "stype", "prop")),
    ]:
        out[key] = (res["estimate"].to_numpy(), res["se"].to_numpy())
    for key, formula, family in [
        ("glm_gaussian", "api00 ~ ell + meals + C(stype)", "gaussian"),
        ("glm_binomial", "comp_yes ~ api99 + C(stype)", "binomial"),
    ]:
        res = svyglm(des, formula, family=family).set_index("r_term")
        out[key] = (res["estimate"], res["se"])  # aligned to R's term order by the caller
    return out


def max_diff_to_r(des, ref: dict) -> dict[str, float]:
    """Largest relative difference to R (estimates and SEs) per estimator of the battery."""
    diffs = {}
    for key, (est, se) in battery(des).items():
        want = ref[key]
        if key.startswith("glm"):
            est, se = est.loc[want["term"]].to_numpy(), se.loc[want["term"]].to_numpy()
        diffs[key] = rel_diff(
            np.r_[np.atleast_1d(est), np.atleast_1d(se)],
            np.r_[np.atleast_1d(want["estimate"]), np.atleast_1d(want["se"])],
        )
    return diffs


# ---------------------------------------------------------------------- planted two-stage data
TWO_STAGE_SEED = 20261202


def two_stage_population(seed: int = TWO_STAGE_SEED) -> pd.DataFrame:
    """4 kecamatan x 10 libraries, 40-200 members each; y has a library effect (sd 8) and
    member noise (sd 10); z is a yes/no outcome, x a covariate, gender a raking margin."""
    rng = np.random.default_rng(seed)
    frames = []
    for k in range(4):
        for lib in range(10):
            m = int(rng.integers(40, 201))
            effect = rng.normal(0, 8) + 5 * k
            x = rng.normal(0, 1, m)
            y = 50 + effect + 4 * x + rng.normal(0, 10, m)
            z = (rng.random(m) < 1 / (1 + np.exp(-(effect - 8) / 6 - 0.5 * x))).astype(float)
            frames.append(
                pd.DataFrame(
                    {
                        "kecamatan": f"K{k + 1}",
                        "library": f"K{k + 1}-L{lib + 1:02d}",
                        "member": np.arange(1, m + 1),
                        "n_libraries": 10,
                        "n_members": m,
                        "x": x,
                        "y": y,
                        "z": z,
                        "gender": np.where(rng.random(m) < 0.55, "female", "male"),
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def library_index(pop: pd.DataFrame) -> list[tuple[np.ndarray, dict]]:
    """Per kecamatan (sorted): its libraries in order of appearance and their row positions."""
    out = []
    for _, kec in pop.groupby("kecamatan", sort=True):
        rows = kec.index.to_numpy()
        out.append(
            (
                kec["library"].unique(),
                {k: rows[v] for k, v in kec.groupby("library").indices.items()},
            )
        )
    return out


def two_stage_sample(
    pop: pd.DataFrame, rng: np.random.Generator, libs: int = 4, members: int = 12, index=None
) -> pd.DataFrame:
    """``libs`` libraries per kecamatan without replacement, then ``members`` per library
    (``index``: :func:`library_index` of ``pop``, to reuse over many draws)."""
    positions = []
    for libraries, rows_of in index or library_index(pop):
        for lib in sorted(rng.choice(libraries, size=libs, replace=False)):
            rows = rows_of[lib]
            positions.append(rows[np.sort(rng.choice(len(rows), size=members, replace=False))])
    out = pop.loc[np.concatenate(positions)].reset_index(drop=True)
    out["weight"] = (out["n_libraries"] / libs) * (out["n_members"] / members)
    return out


# ---------------------------------------------------------------------- replicate-design models
def replicate_reference(name: str) -> dict:
    """r_replicate_models_reference.json's results for design ``name``."""
    return json.loads((REF_DIR / "r_replicate_models_reference.json").read_text())[name]


def replicate_case(name: str):
    """The designs of r_replicate_models_reference.R on R's api data, with ``elem`` (0/1)."""
    from pipelines.stats import SurveyDesign
    from pipelines.stats.replicate import ReplicateDesign, as_replicate

    data = {"jkn": api("strat")}.get(name, api("clus1"))
    data["elem"] = (data["stype"] == "E").astype(float)
    if name == "jkn":
        return as_replicate(SurveyDesign(data, weights="pw", strata="stype", fpc="fpc"), "JKn")
    if name == "jk1_given":
        created = as_replicate(SurveyDesign(data, weights="pw", cluster="dnum", fpc="fpc"), "JK1")
        rep, kw = created.replicate_weights, {"type": "JK1", "scale": created._scale}
    else:
        rep, kw = pd.read_csv(REF_DIR / "rep_boot_clus1.csv").to_numpy(), {"type": "bootstrap"}
    cols = [f"repw_{i + 1}" for i in range(rep.shape[1])]
    data = pd.concat([data, pd.DataFrame(rep, columns=cols)], axis=1)
    return ReplicateDesign(data, weights="pw", repweights=cols, **kw)
