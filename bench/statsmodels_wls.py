"""statsmodels' WLS with cluster-robust SEs on the benchmark's CSV, in a process of its own so
that Dampak's process time is Dampak's work only.

Usage: ``python bench/statsmodels_wls.py design.csv statsmodels.json``.
"""

import json
import sys
import time

import numpy as np
import pandas as pd
import statsmodels.api as sm


def main(csv: str, out: str) -> None:
    d = pd.read_csv(csv, dtype={"site": str, "kecamatan": str, "gender": str}, engine="pyarrow")
    s = time.perf_counter()
    x = np.column_stack(
        [np.ones(len(d)), d["participated"], d["age"], (d["gender"] == "male").astype(float)]
    )
    wls = sm.WLS(d["confidence"].to_numpy(), x, weights=d["weight"].to_numpy()).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(d["site"])[0]}
    )
    res = {
        "names": ["(Intercept)", "participated", "age", "gendermale"],
        "estimate": wls.params.tolist(),
        "se": wls.bse.tolist(),
    }
    with open(out, "w") as fh:
        json.dump({"result": res, "seconds": time.perf_counter() - s}, fh)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
