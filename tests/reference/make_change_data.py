"""Write the small linked panel that ``r_change_reference.R`` reads (paired change, DiD, IPW).

Run from the repository root::

    python tests/reference/make_change_data.py
    Rscript tests/reference/r_change_reference.R

It writes ``tests/reference/change_reference_panel.csv``: two waves of a 400-respondent
survey from the project's generator (pipelines.simulate.make_waves, seed 7), the skills
scale scored, unequal baseline weights, floats with 17 significant digits.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
OUT = HERE / "change_reference_panel.csv"
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


def make_panel():
    from pipelines.simulate.waves import SCALES, make_waves
    from pipelines.stats import scales

    _, panel, _ = make_waves(400, 7, retention=0.7)
    panel = panel.copy()
    items, rev = SCALES["skills"]
    panel["skills"] = scales.score(panel[items].astype(float), reverse=rev).to_numpy()
    rng = np.random.default_rng(7)
    keys = panel["respondent_key"].unique()
    w = dict(zip(keys, rng.uniform(0.5, 3.0, len(keys)), strict=True))
    panel["weight"] = panel["respondent_key"].map(w)
    return panel[COLUMNS].reset_index(drop=True)


if __name__ == "__main__":
    make_panel().to_csv(OUT, index=False, float_format="%.17g")
    print(f"wrote {OUT}")
