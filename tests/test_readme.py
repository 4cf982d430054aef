"""The README's researcher example runs as written on processed survey data."""

import re

import pandas as pd
import pytest
from helpers import write_config

from pipelines import analysis, clean, ingest
from pipelines.codebook import load_codebook
from pipelines.config import load_config
from pipelines.paths import ROOT


def _snippet() -> str:
    text = (ROOT / "README.md").read_text()
    part = text.split("## For researchers", 1)[1]
    return re.search(r"```python\n(.*?)```", part, re.S).group(1)


def test_readme_api_example_runs(small_survey):
    cfg = load_config(write_config(small_survey, "csv", waves=("2025",)))
    cb = load_codebook("tpbis")
    wave = cfg.waves[0]
    raw = ingest.ingest_wave(cfg, cb, wave, b"r" * 32).data
    data, _ = clean.clean_wave(raw, cfg, cb, wave)
    df = analysis.prepare(data, cfg, cb).drop(columns=["weight"])
    scope = {"df": df}
    exec(compile(_snippet(), "README.md", "exec"), scope)  # noqa: S102 - our own README
    des = scope["des"]
    assert des.n == len(scope["df"]) > 250
    assert abs(scope["df"]["weight"].sum() - 56000) < 1e-6 * 56000  # raked to the margins' total
    from pipelines.stats.design import svyglm

    fit = svyglm(des, "confidence ~ participated + age + C(gender)")
    assert isinstance(fit, pd.DataFrame) and {"estimate", "ci_low", "ci_high"} <= set(fit.columns)


def test_readme_planning_example_matches_the_formula():
    """The planning example's figures follow from the inputs it prints (rounded there, so
    within a rounding step: 1% of the respondents, 0.2 percentage points in the table)."""
    from pipelines import planning

    text = (ROOT / "README.md").read_text().split("**Planning the next wave:**", 1)[1]
    out = re.search(r"```text\n(.*?)```", text, re.S).group(1)
    num = r"([\d.]+)"
    head = re.search(
        rf"correlation {num} \(of participation {num}\), weighting design effect {num}, "
        rf"{num}% participants, {num} libraries with about {num}",
        out,
    )
    icc, icc_t, kish, share, k, m = map(float, head.groups())
    pbar = float(re.search(rf"Last wave {num}% answered yes", out).group(1)) / 100
    effect, need = re.search(rf"difference of {num} percentage points.*?: {num} resp", out).groups()
    inp = planning.Inputs(icc, icc_t, kish, share / 100, int(k), m, "x", "pp", pbar)
    assert planning.needed(inp, float(effect)) == pytest.approx(float(need), rel=0.01)
    rows = re.findall(r"^(\d+) +([\d. ]+)$", out, re.M)
    cols = [int(c) for c in re.search(r"per_library +([\d ]+)\n", out).group(1).split()]
    assert len(rows) == 5 and len(cols) == 8
    for libs, values in rows:
        for m_, v in zip(cols, values.split(), strict=True):
            assert planning.mde(inp, int(libs), m_) == pytest.approx(float(v), abs=0.2)
