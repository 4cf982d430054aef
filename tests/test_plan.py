"""The analysis plan: built from codebook roles and the columns a survey really has."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from pipelines import analysis
from pipelines.codebook import Codebook, load_codebook
from pipelines.config import load_config
from pipelines.paths import RAW
from pipelines.plan import build_plan, reasons

CFG = load_config(RAW / "solok" / "solok_2025.yaml")
CFG2 = load_config(RAW / "solok" / "solok_2026.yaml")  # two waves
TPBIS = load_codebook("tpbis")


def _all_columns(cb: Codebook) -> set[str]:
    cols = {v.name for v in cb.variables} | set(cb.roles.derived) | {"respondent_key"}
    for v in cb.by_type("multiselect"):
        cols |= set(v.option_columns().values())
    return cols


def _reading_habit(points: int = 4, reverse=("r3",)) -> Codebook:
    """A questionnaire that is not TPBIS: reading habits, 4-point items, no programme."""
    labels = {i + 1: {"id": f"L{i + 1}", "en": f"L{i + 1}"} for i in range(points)}
    items = [
        {"name": f"r{i}", "type": "likert", "labels": "freq", "question": {"id": "q", "en": "q"}}
        for i in (1, 2, 3)
    ]
    return Codebook.model_validate(
        {
            "id": "reading",
            "version": "1",
            "title": {"id": "Kebiasaan membaca", "en": "Reading habits"},
            "label_sets": {"freq": {"points": points, "kind": "custom", "labels": labels}},
            "variables": [
                {
                    "name": "site",
                    "type": "categorical",
                    "role": "site",
                    "question": {"id": "s", "en": "s"},
                },
                {
                    "name": "sex",
                    "type": "categorical",
                    "question": {"id": "j", "en": "g"},
                    "levels": {"f": {"id": "P", "en": "F"}, "m": {"id": "L", "en": "M"}},
                },
                {"name": "age", "type": "numeric", "question": {"id": "u", "en": "a"}},
                *items,
            ],
            "scales": {
                "habit": {
                    "label": {"id": "Kebiasaan", "en": "Habit"},
                    "items": ["r1", "r2", "r3"],
                    "reverse": list(reverse),
                }
            },
            "roles": {
                "outcomes": [{"var": "habit", "kind": "scale"}],
                "covariates": ["age", "sex"],
                "breakdowns": ["sex"],
            },
        }
    )


def test_bundled_instrument_runs_every_analysis():
    plan = build_plan(TPBIS, CFG2, _all_columns(TPBIS))
    assert plan.skipped().empty
    assert plan.runs("did", "skills") and plan.runs("paired_change", "got_job")
    assert [o.name for o in plan.outcomes] == [o.var for o in TPBIS.roles.outcomes]
    assert plan.outcome("income").column == "log_income"
    assert plan.outcome("income").unit == "percent"
    assert plan.outcome("business").family == "binomial"
    assert plan.outcome("skills").range == (1, 5)
    assert plan.exposure.programme_kind == "single"


def test_missing_inputs_are_skipped_with_reasons():
    cols = _all_columns(TPBIS) - {"participated", "income_change", "sessions"}
    plan = build_plan(TPBIS, CFG2, cols)
    skipped = plan.skipped()
    assert "income_rose" not in [o.name for o in plan.outcomes]
    assert set(skipped["analysis"]) >= {"participation", "did", "programme", "inclusion"}
    row = skipped[skipped["analysis"].eq("descriptive")].iloc[0]
    assert row["outcome"] == "income_rose" and "income_change" in reasons(skipped, "en")[row.name]
    assert reasons(skipped, "id").str.len().gt(0).all()
    assert "income_change" in reasons(skipped, "id")[row.name]  # the same fields in each language
    # descriptive estimates still run for every outcome that is there
    assert plan.runs("descriptive", "skills") and not plan.runs("participation")


def test_one_wave_skips_change():
    plan = build_plan(TPBIS, CFG, _all_columns(TPBIS))
    assert plan.waves == 1
    assert not plan.runs("did") and not plan.runs("paired_change")


def test_multiselect_programme_gives_one_effect_per_option():
    cb = TPBIS.model_copy()
    data = cb.model_dump(by_alias=True)
    data["variables"] = [v for v in data["variables"] if v["name"] != "programme"] + [
        {
            "name": "programme",
            "type": "multiselect",
            "question": {"id": "Kegiatan", "en": "Activities"},
            "options": {
                "computer": {"id": "Komputer", "en": "Computer"},
                "enterprise": {"id": "Wirausaha", "en": "Enterprise"},
            },
        }
    ]
    cb = Codebook.model_validate(data)
    cols = (_all_columns(cb) - {"participated"}) | {"programme__computer", "programme__enterprise"}
    plan = build_plan(cb, CFG, cols)
    ex = plan.exposure
    assert ex.programme_kind == "multi" and ex.took_part_derived
    assert ex.options == {
        "computer": "programme__computer",
        "enterprise": "programme__enterprise",
    }
    assert plan.runs("programme", "income") and plan.runs("participation", "skills")


def test_not_tpbis_questionnaire_gets_descriptives_reliability_only():
    cb = _reading_habit()
    plan = build_plan(cb, CFG, {"site", "sex", "age", "r1", "r2", "r3"})
    assert plan.runs("descriptive", "habit") and plan.runs("reliability")
    assert not plan.runs("participation")
    assert plan.outcome("habit").range == (1, 4)
    assert set(plan.skipped()["analysis"]) >= {"participation", "mixed"}


def test_scale_scores_reverse_on_declared_range():
    """A reversed item on a 1-4 scale becomes 5 - x (not 6 - x)."""
    cb = _reading_habit(points=4)
    plan = build_plan(cb, CFG, {"r1", "r2", "r3"})
    df = pd.DataFrame({"r1": [4.0, 1.0, 2.0], "r2": [4.0, 2.0, np.nan], "r3": [1.0, 4.0, 3.0]})
    got = analysis.score_scales(df, plan)["habit"].to_numpy()
    hand = [(4 + 4 + (5 - 1)) / 3, (1 + 2 + (5 - 4)) / 3, (2 + (5 - 3)) / 2]
    np.testing.assert_allclose(got, hand)
    # the same answers on a 1-6 scale reverse to 7 - x
    plan6 = build_plan(_reading_habit(points=6), CFG, {"r1", "r2", "r3"})
    assert analysis.score_scales(df, plan6)["habit"].iloc[0] == pytest.approx((4 + 4 + 6) / 3)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"outcomes": [{"var": "nope", "kind": "scale"}]}, "kind scale needs a key of 'scales'"),
        ({"outcomes": [{"var": "age", "kind": "yesno"}]}, "needs a variable of type yesno"),
        ({"covariates": ["height"]}, "not variables or derived columns"),
        ({"exposure": {"took_part": "sex"}}, "must be yesno"),
        ({"headline": ["habit2"]}, "not among roles.outcomes"),
    ],
)
def test_roles_are_validated(change, message):
    data = _reading_habit().model_dump(by_alias=True)
    data["roles"] = {**data["roles"], **change}
    with pytest.raises(ValidationError, match=message):
        Codebook.model_validate(data)


def test_label_set_must_have_consecutive_codes():
    data = _reading_habit().model_dump(by_alias=True)
    data["label_sets"]["freq"]["labels"] = {1: {"id": "a", "en": "a"}, 3: {"id": "b", "en": "b"}}
    data["label_sets"]["freq"]["points"] = 2
    with pytest.raises(ValidationError, match="consecutive codes"):
        Codebook.model_validate(data)


@pytest.mark.parametrize("lang", ["id", "en"])
def test_every_analysis_is_named_in_the_report_catalogue(lang):
    """The methods appendix names each skipped analysis as `plan.<id>`: every id the plan can
    produce has that key (a missing one stopped the report of a survey with no site)."""
    from pipelines.i18n import t
    from pipelines.plan import ANALYSES

    for name in ANALYSES:
        assert t(f"plan.{name}", lang).strip()


def test_a_number_is_never_a_breakdown():
    """A numeric age listed as a breakdown (in the codebook or the config) would give one group
    per age: the plan leaves it out with a reason in both languages; its band is a breakdown."""
    data = _reading_habit().model_dump(by_alias=True)
    data["roles"]["breakdowns"] = ["sex", "age"]
    cb = Codebook.model_validate(data)
    cols = {"site", "sex", "age", "r1", "r2", "r3"}
    plan = build_plan(cb, CFG, cols)
    assert plan.breakdowns == ["sex"] and plan.runs("breakdown")
    skipped = plan.skipped()
    row = skipped[skipped["analysis"].eq("breakdown")]
    assert len(row) == 1 and row["needs"].iloc[0] == "age"
    assert "'age'" in reasons(row, "en").iloc[0] and "number" in reasons(row, "en").iloc[0]
    assert "'age'" in reasons(row, "id").iloc[0] and "angka" in reasons(row, "id").iloc[0]
    override = CFG.analysis.model_copy(update={"breakdowns": ["age"]})
    plan = build_plan(cb, CFG.model_copy(update={"analysis": override}), cols)
    assert plan.breakdowns == [] and not plan.runs("breakdown")
    data["roles"]["breakdowns"] = ["sex", "age_band"]
    data["roles"]["derived"] = {"age_band": {"from": "age", "how": "bands", "cuts": [18, 40]}}
    plan = build_plan(Codebook.model_validate(data), CFG, cols | {"age_band"})
    assert plan.breakdowns == ["sex", "age_band"] and "breakdown" not in set(
        plan.skipped().analysis
    )
