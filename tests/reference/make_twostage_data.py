"""Write the planted two-stage sample read by ``r_designs_reference.R``.

Run from the repository root::

    python tests/reference/make_twostage_data.py

Population and sampling are in ``tests/helpers_designs.py`` (4 kecamatan x 10 libraries, 4
libraries per kecamatan, then 12 members per library, both fractions known).  Floats are
written with 17 significant digits so R and Python read identical values.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers_designs import TWO_STAGE_SEED, two_stage_population, two_stage_sample  # noqa: E402

if __name__ == "__main__":
    sample = two_stage_sample(two_stage_population(), np.random.default_rng(TWO_STAGE_SEED + 1))
    out = Path(__file__).with_name("twostage_sample.csv")
    sample.to_csv(out, index=False, float_format="%.17g")
    print(f"wrote {out} ({len(sample)} rows)")
