"""Write the small surveys the change reference scripts read (paired change, DiD, IPW).

Run from the repository root::

    python tests/reference/make_change_data.py
    Rscript tests/reference/r_change_reference.R
    Rscript tests/reference/r_change_raking_reference.R

It writes ``tests/reference/change_reference_panel.csv``: two waves of a 400-respondent
survey from the project's generator (pipelines.simulate.make_waves, seed 7), the skills
scale scored, unequal baseline weights, floats with 17 significant digits; and
``change_raking_waves.csv``: both whole waves of the same survey (linked or not, with the
age band raking uses), each respondent's base weight.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
OUT = HERE / "change_reference_panel.csv"
OUT_WAVES = HERE / "change_raking_waves.csv"
COLUMNS = [
    "wave",
    "respondent_key",
    "site",
    "kecamatan",
    "gender",
    "age",
    "education",
    "disability",
    "participated",
    "skills",
    "business",
    "weight",
]
WAVE_COLUMNS = [*COLUMNS[:6], "age_band", *COLUMNS[6:]]


def _scored(df):
    from pipelines.simulate.waves import SCALES
    from pipelines.stats import scales

    df = df.copy()
    items, rev = SCALES["skills"]
    df["skills"] = scales.score(df[items].astype(float), reverse=rev).to_numpy()
    return df


def _weights(keys):
    rng = np.random.default_rng(7)
    return dict(zip(keys, rng.uniform(0.5, 3.0, len(keys)), strict=True))


def make_panel():
    from pipelines.simulate.waves import make_waves

    _, panel, _ = make_waves(400, 7, retention=0.7)
    panel = _scored(panel)
    panel["weight"] = panel["respondent_key"].map(_weights(panel["respondent_key"].unique()))
    return panel[COLUMNS].reset_index(drop=True)


def make_waves_file():
    """Both whole waves (the panel's weights for linked respondents, new ones for the rest)."""
    import pandas as pd

    from pipelines.simulate.waves import make_waves

    waves, panel, _ = make_waves(400, 7, retention=0.7)
    both = _scored(pd.concat(waves.values(), ignore_index=True))
    w = _weights(panel["respondent_key"].unique())
    rest = both.loc[~both["respondent_key"].isin(w), "respondent_key"].unique()
    rng = np.random.default_rng(8)
    w |= dict(zip(rest, rng.uniform(0.5, 3.0, len(rest)), strict=True))
    both["weight"] = both["respondent_key"].map(w)
    return both[WAVE_COLUMNS]


if __name__ == "__main__":
    make_panel().to_csv(OUT, index=False, float_format="%.17g")
    make_waves_file().to_csv(OUT_WAVES, index=False, float_format="%.17g")
    print(f"wrote {OUT} and {OUT_WAVES}")
