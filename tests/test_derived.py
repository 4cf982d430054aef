"""Derived columns without cleaning: which columns hold amounts (never a breakdown by value),
band cut points (the config's named lists or the codebook's own) and their labels."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from pipelines import clean
from pipelines.codebook import Codebook, load_codebook
from pipelines.config import load_config
from pipelines.derived import (
    band_cuts,
    band_labels,
    margin_levels,
    number_breakdowns,
    number_columns,
)
from pipelines.paths import RAW

CFG = load_config(RAW / "solok" / "solok_2025.yaml", check_files=False)
TPBIS = load_codebook("tpbis")
Q = {"id": "q", "en": "q"}


def _visits(derived: dict | None = None, breakdowns=("sex",), age_type="numeric") -> Codebook:
    """A small form that is not TPBIS: sex, an age asked as `age_type`, monthly visits."""
    sex = {"f": {"id": "P", "en": "F"}, "m": {"id": "L", "en": "M"}}
    age = {"name": "age", "type": age_type, "question": Q}
    if age_type == "categorical":
        age["levels"] = {"young": {"id": "Muda", "en": "Young"}, "old": {"id": "Tua", "en": "Old"}}
    roles = {"breakdowns": list(breakdowns)} | ({"derived": derived} if derived else {})
    return Codebook.model_validate(
        {
            "id": "visits",
            "version": "1",
            "title": Q,
            "variables": [
                {"name": "sex", "type": "categorical", "question": Q, "levels": sex},
                age,
                {"name": "visits", "type": "numeric", "question": Q},
            ],
            "roles": roles,
        }
    )


def test_number_columns_are_amounts_asked_or_derived():
    """Numeric and currency answers, the age derived from a birth year and log amounts hold
    amounts; bands and categorical answers do not."""
    nums = number_columns(TPBIS)
    assert {"birth_year", "income", "sessions", "age", "log_income"} <= nums
    assert not nums & {"age_band", "income_band", "gender", "education", "participated"}
    # with no roles.derived the defaults apply, but an asked categorical `age` is a group
    assert "age" not in number_columns(_visits(age_type="categorical"))
    assert "age" in number_columns(_visits())


def test_number_breakdowns_read_the_list_a_run_uses():
    """The codebook's roles.breakdowns, unless the config's analysis.breakdowns overrides it."""
    cb = _visits(breakdowns=("sex", "age", "visits"))
    assert number_breakdowns(CFG, cb) == ("roles.breakdowns", ["age", "visits"])
    cfg = CFG.model_copy(
        update={"analysis": CFG.analysis.model_copy(update={"breakdowns": ["age"]})}
    )
    assert number_breakdowns(cfg, cb) == ("analysis.breakdowns", ["age"])
    assert number_breakdowns(CFG, TPBIS) == ("roles.breakdowns", [])


def test_a_band_takes_the_codebooks_own_cut_points():
    """`cuts` names a config list or gives the codebook's own: clean and the weighting margins
    both read the same bands."""
    cb = _visits({"visits_band": {"from": "visits", "how": "bands", "cuts": [0, 1, 4, 10]}})
    spec = {"cuts": "age_bands"}
    assert band_cuts(spec, CFG.analysis) == list(CFG.analysis.age_bands)
    assert band_cuts({"cuts": [0, 1, 4, 10]}, CFG.analysis) == [0, 1, 4, 10]
    assert margin_levels(CFG, cb, "visits_band") == ["0", "1-3", "4-9", "10+"]
    df = pd.DataFrame({"visits": [0.0, 2.0, 4.0, 12.0, None], "sex": ["f"] * 5})
    ctx = SimpleNamespace(cfg=CFG, cb=cb, wave=None)
    got = clean.derive(df, ctx, clean.CleaningLog())["visits_band"]
    assert got.tolist()[:4] == ["0", "1-3", "4-9", "10+"] and pd.isna(got.iloc[4])


@pytest.mark.parametrize(
    ("edges", "want"),
    [([15, 25, 35], ["15-24", "25-34", "35+"]), ([0, 1, 2], ["0", "1", "2+"])],
)
def test_band_labels_name_whole_number_bands(edges, want):
    x = pd.Series([e + 0.5 for e in edges], dtype=float)
    assert band_labels(x, edges).tolist() == want
