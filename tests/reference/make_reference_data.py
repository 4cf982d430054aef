"""Generate the small seeded survey dataset read by ``r_survey_reference.R``.

Run from the repository root::

    python tests/reference/make_reference_data.py

It writes ``tests/reference/survey_reference_data.csv`` (about 400 rows): three strata
(A, B, C) with 6, 7 and 8 clusters, unequal weights, an ``fpc`` column holding the
population number of clusters in the stratum, a numeric ``y`` (a few values missing),
a binary ``z``, a categorical ``g``, covariates ``x1`` and ``x2`` (a few ``x2`` missing)
and a ``sex`` column used as a raking margin.  Floats are written with 17 significant
digits so R and Python read bit-identical values.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20240611
OUT = Path(__file__).with_name("survey_reference_data.csv")


def make_data(seed: int = SEED) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    strata = {"A": (6, 40), "B": (7, 55), "C": (8, 30)}  # (sampled clusters, population clusters)
    base_weight = {"A": 12.0, "B": 20.0, "C": 8.0}
    rows = []
    cluster_id = 0
    for stratum, (n_clusters, pop_clusters) in strata.items():
        for _ in range(n_clusters):
            cluster_id += 1
            size = int(rng.integers(12, 28))
            effect = rng.normal(0.0, 0.8)
            x1 = rng.normal(0.0, 1.0, size)
            x2 = rng.uniform(0.0, 3.0, size)
            g = rng.choice(np.array(["a", "b", "c"]), size=size, p=[0.45, 0.35, 0.20])
            sex = rng.choice(np.array(["f", "m"]), size=size, p=[0.55, 0.45])
            y = 2.0 + 0.5 * x1 - 0.3 * x2 + (g == "b") * 0.7 + effect + rng.normal(0, 1, size)
            eta = -0.4 + 0.8 * x1 + 0.3 * (g == "c") + 0.5 * effect
            z = (rng.uniform(size=size) < 1.0 / (1.0 + np.exp(-eta))).astype(int)
            w = base_weight[stratum] * rng.uniform(0.6, 1.8, size)
            for i in range(size):
                rows.append(
                    {
                        "stratum": stratum,
                        "psu": cluster_id,
                        "fpc": pop_clusters,
                        "w": w[i],
                        "y": y[i],
                        "z": z[i],
                        "g": g[i],
                        "sex": sex[i],
                        "x1": x1[i],
                        "x2": x2[i],
                    }
                )
    df = pd.DataFrame(rows)
    y_missing = rng.choice(len(df), size=8, replace=False)
    df.loc[y_missing, "y"] = np.nan
    x2_missing = rng.choice(len(df), size=5, replace=False)
    df.loc[x2_missing, "x2"] = np.nan
    return df


if __name__ == "__main__":
    data = make_data()
    data.to_csv(OUT, index=False, float_format="%.17g", na_rep="NA")
    print(f"wrote {OUT} ({len(data)} rows)")
