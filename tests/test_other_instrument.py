"""Ingest and clean are instrument-agnostic: a non-TPBIS codebook goes through the real notebooks.

The fixture is a small library-visitor satisfaction survey (tests/fixtures/other_instrument.yaml)
with a 4-point upper-case agreement scale, a visit date, a count, and no kelurahan, birth year,
income or participation question at all.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from helpers import visitors_config

from pipelines import privacy
from pipelines.runner import Run

FIX = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def visitors(tmp_path_factory):
    path = visitors_config(tmp_path_factory.mktemp("visitors"))
    out = tmp_path_factory.mktemp("out")
    result = Run(path, stages=["ingest", "clean"], out_root=out, progress=lambda m: None).run()
    return result.layout.processed


def test_processed_values(visitors):
    df = pd.read_parquet(visitors / "clean" / "2025.parquet")
    assert len(df) == 3  # the visitor who declined is removed
    assert df["site"].tolist() == ["kota", "kota", "laing"]
    assert df["kecamatan"].tolist() == ["Tanjung Harapan"] * 3
    assert df["visit_date"].tolist() == [
        pd.Timestamp("2025-03-12"),
        pd.Timestamp("2025-03-11"),
        pd.Timestamp("2025-03-14"),
    ]
    assert df["submitted_at"].iloc[0] == pd.Timestamp("2025-03-12 09:15:02")
    assert df["visits_per_month"].iloc[0] == 4.0
    assert df["visits_per_month"].iloc[1:].isna().all()  # 45 is impossible; "Tidak tahu"
    assert df["sat_collection"].tolist() == [3, 1, 4]
    assert df["sat_staff"].tolist() == [4, 2, 4]
    assert df["sat_noisy"].iloc[:2].tolist() == [2, 4] and pd.isna(df["sat_noisy"].iloc[2])
    assert "kelurahan" not in df and "age" not in df and "income" not in df


def test_cleaning_log_counts(visitors):
    log = pd.read_csv(visitors / "clean" / "cleaning_log.csv")

    def touched(rule, column=None):
        s = log[log["rule"] == rule]
        if column:
            s = s[s["column"] == column]
        return int(s["rows_touched"].sum())

    assert touched("no_consent") == 1
    assert touched("impossible_value", "visits_per_month") == 1
    assert touched("missing_codes") == 1
    assert touched("likert_out_of_scale", "sat_noisy") == 1  # NETRAL is not on a 4-point scale
    assert touched("match_site_fuzzy") == 0
    assert not log["rule"].str.startswith("match_kelurahan").any()  # not asked: rule skipped
    quality = json.loads((visitors / "clean" / "quality.json").read_text())
    assert quality["2025"]["rows_in"] == 4 and quality["2025"]["rows_out"] == 3


def test_dictionary_and_privacy(visitors):
    d = pd.read_csv(visitors / "clean" / "dictionary.csv").set_index("variable")
    assert d.loc["sat_noisy", "scale"] == "satisfaction" and bool(
        d.loc["sat_noisy", "reverse_coded"]
    )
    assert "4 = SANGAT SETUJU / Strongly agree" in d.loc["sat_staff", "values"]
    df = pd.read_parquet(visitors / "clean" / "2025.parquet")
    assert {"full_name", "phone"}.isdisjoint(df.columns)
    assert df["respondent_key"].notna().all() and (df["key_source"] == "phone").all()
    assert "081377712345" not in df["suggestion"].iloc[0]
    text = "".join(p.read_text(errors="ignore") for p in (visitors / "clean").glob("*.csv"))
    for value in ("Dewi", "Fajar", "081377712345", "085266601234"):
        assert value not in text
    assert privacy.scan_paths([visitors / "clean", visitors / "ingest"]) == []
