"""Dampak's design-based estimators on the benchmark's CSV, timed, as a process of its own.

Usage: ``python bench/dampak_estimators.py design.csv py.json``; bench/run.py compares the
results and the whole process's time with R survey's (bench/r_survey.R) on the same CSV.
"""

import json
import sys
import time

t0 = time.perf_counter()  # the imports count, as R's library() calls do

import pandas as pd  # noqa: E402

from pipelines.stats.design import SurveyDesign, svyby, svyglm, svymean, svytotal  # noqa: E402


def pair(table: pd.DataFrame, names: list[str] | None = None) -> dict:
    """Terms, estimates and SEs of a result table, named as R names them."""
    names = table["r_term"].tolist() if "r_term" in table else names
    return {"names": names, "estimate": table["estimate"].tolist(), "se": table["se"].tolist()}


def main(csv: str, out: str) -> None:
    d = pd.read_csv(csv, dtype={"site": str, "kecamatan": str, "gender": str}, engine="pyarrow")
    t_read = time.perf_counter()
    des = SurveyDesign(d, weights="weight", strata="kecamatan", cluster="site", fpc="fpc")
    tm, res = {}, {}
    s = time.perf_counter()
    res["mean"] = pair(svymean(des, "confidence"), ["confidence"])
    tm["mean"] = time.perf_counter() - s
    s = time.perf_counter()
    res["total"] = pair(svytotal(des, "business"), ["business"])
    tm["total"] = time.perf_counter() - s
    s = time.perf_counter()
    b = svyby(des, "confidence", "gender", "mean")
    res["by"] = pair(b, b["group"].astype(str).tolist())
    tm["by"] = time.perf_counter() - s
    s = time.perf_counter()
    res["linear"] = pair(svyglm(des, "confidence ~ participated + age + C(gender)"))
    tm["linear"] = time.perf_counter() - s
    s = time.perf_counter()
    res["logistic"] = pair(
        svyglm(des, "business ~ participated + age + C(gender)", family="binomial")
    )
    tm["logistic"] = time.perf_counter() - s
    tm["read"] = t_read - t0
    tm["total_inside"] = time.perf_counter() - t0
    with open(out, "w") as fh:
        json.dump({"results": res, "seconds": tm}, fh)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
