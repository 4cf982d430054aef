"""Clean: every rule on real-shaped data, its log counts against the generator's planted mess."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import write_config

from pipelines import clean, ingest
from pipelines.codebook import load_codebook
from pipelines.config import load_config

CB = load_codebook("tpbis")
SECRET = b"s" * 32


def _clean(cfg, wid):
    wave = next(w for w in cfg.waves if w.id == wid)
    raw = ingest.ingest_wave(cfg, CB, wave, SECRET).data
    data, log = clean.clean_wave(raw, cfg, CB, wave)
    return raw, data, log


@pytest.fixture(scope="module")
def cleaned(small_survey):
    cfg = load_config(write_config(small_survey, "csv"))
    truth = json.loads((small_survey / "truth.json").read_text())
    return {w: (*_clean(cfg, w), truth["mess"][w]) for w in ("2025", "2026")}


def _touched(log, rule, column=None):
    s = log.summary()
    s = s[s["rule"] == rule]
    if column:
        s = s[s["column"] == column]
    return int(s["rows_touched"].sum())


@pytest.mark.parametrize("wave", ["2025", "2026"])
def test_log_counts_match_the_planted_mess(cleaned, wave):
    raw, data, log, mess = cleaned[wave]
    assert _touched(log, "no_consent") == mess["no_consent"]
    assert _touched(log, "duplicate_submission") == mess["duplicate_rows"]
    assert _touched(log, "flag_straightline") >= mess["straightliners"]
    assert _touched(log, "impossible_value", "birth_year") == mess["birth_year_impossible"]
    assert _touched(log, "impossible_value", "income") == mess["income_negative"]
    # planted junk is never matched; a short typo ("Ling") may be too far to match safely
    unmatched = _touched(log, "match_kelurahan_unmatched")
    assert mess["kelurahan_unmatched"] <= unmatched <= mess["kelurahan_unmatched"] + 2
    fuzzy = _touched(log, "match_kelurahan_fuzzy")
    assert fuzzy + unmatched - mess["kelurahan_unmatched"] <= mess["kelurahan_typo"]
    assert len(data) == len(raw) - mess["no_consent"] - mess["duplicate_rows"]
    assert data["respondent_key"].is_unique


@pytest.mark.parametrize("wave", ["2025", "2026"])
def test_values_are_typed_and_in_range(cleaned, wave):
    _, data, _, _ = cleaned[wave]
    for v in CB.by_type("likert"):
        assert data[v.name].dropna().between(1, 5).all()
    assert set(data["gender"].dropna()) == {"female", "male"}
    assert set(data["site"].dropna()) <= {
        "kota",
        "aro-iv-korong",
        "ix-korong",
        "ktk",
        "simpang-rumbio",
        "sinapa-piliang",
        "tanah-garam",
        "vi-suku",
        "kampung-jawa",
        "koto-panjang",
        "laing",
        "nan-balimo",
        "pasar-pandan-air-mati",
        "tanjung-paku",
    }
    assert data["site"].notna().all()
    assert data["age"].dropna().between(10, 100).all()
    assert (data["income"].dropna() >= 0).all()
    assert data.loc[data["participated"] == 0, "sessions"].eq(0).all()
    assert data.loc[data["participated"] == 0, "programme"].isna().all()
    assert data["submitted_at"].notna().all()


def test_rows_removed_are_in_the_restricted_row_log(cleaned):
    raw, data, log, mess = cleaned["2025"]
    rows = log.row_log()
    removed = rows[rows["rule"].isin(["no_consent", "duplicate_submission"])]
    assert len(removed) == mess["no_consent"] + mess["duplicate_rows"]
    assert set(removed["source_row"]).isdisjoint(set(data["source_row"]))


@pytest.mark.parametrize("fmt", ["xlsx", "sav"])
def test_every_format_gives_identical_processed_data(small_survey, cleaned, fmt):
    cfg = load_config(write_config(small_survey, fmt, survey_id=f"c-{fmt}"))
    _, data, _ = _clean(cfg, "2025")
    ref = cleaned["2025"][1]
    cols = [c for c in ref.columns if c not in ("source_file", "source_row")]
    pd.testing.assert_frame_equal(ref[cols], data[cols], check_dtype=False)


# --- single rules on tiny frames ---------------------------------------------------------------


def _ctx(small_survey):
    cfg = load_config(write_config(small_survey, "csv"))
    return clean.Context(cfg, CB, cfg.waves[0])


def test_duplicates_keep_the_last_submission(small_survey):
    df = pd.DataFrame(
        {
            "wave": "2025",
            "respondent_key": ["a", "a", "b", None, None],
            "source_file": "f.csv",
            "source_row": [2, 3, 4, 5, 6],
            "submitted_at": pd.to_datetime(
                ["2025-03-02", "2025-03-01", "2025-03-01", "2025-03-01", "2025-03-01"]
            ),
        }
    )
    log = clean.CleaningLog()
    out = clean.duplicates(df, _ctx(small_survey), log)
    assert out["source_row"].tolist() == [2, 4, 5, 6]  # the later 'a' kept; keyless rows kept
    assert log.rules[0]["rows_touched"] == 1


def test_band_labels():
    x = pd.Series([15, 24, 25, 59, 60, 99, None])
    assert clean.band_labels(x, [15, 25, 35, 45, 60]).tolist()[:6] == [
        "15-24",
        "15-24",
        "25-34",
        "45-59",
        "60+",
        "60+",
    ]
    assert pd.isna(clean.band_labels(x, [15, 25, 35, 45, 60]).iloc[6])


def test_dictionary_describes_every_processed_column(cleaned):
    data = cleaned["2025"][1]
    d = clean.dictionary(CB, list(data.columns))
    assert d["variable"].tolist() == list(data.columns)
    skill4 = d.set_index("variable").loc["skill_4"]
    assert skill4["scale"] == "skills" and bool(skill4["reverse_coded"])
    assert "5 = Sangat setuju / Strongly agree" in skill4["values"]


def test_panel_and_attrition(cleaned, small_survey):
    waves = {w: cleaned[w][1] for w in ("2025", "2026")}
    panel = clean.panel(waves)
    att = clean.attrition(waves)
    truth = json.loads((small_survey / "truth.json").read_text())["panel"]
    linked = int(att["linked"].iloc[0])
    # every planted pair that survived cleaning in both waves is linked, and nothing else
    assert linked <= truth["n_persons"] and linked >= truth["n_persons"] * 0.9
    assert panel["respondent_key"].nunique() == linked
    assert set(panel["wave"]) == {"2025", "2026"}
