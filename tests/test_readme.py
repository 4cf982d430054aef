"""The README's researcher example runs as written on processed survey data."""

import re

import pandas as pd
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
