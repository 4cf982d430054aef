"""The processed data's schema (pandera), built from codebook + config: what it checks, and a
failure message that names file, row, column and expectation; on TPBIS fixture exports and on
the non-TPBIS visitor survey's codebook."""

from __future__ import annotations

import pandas as pd
import pytest
from helpers import FIXTURES, SAMPLE_CONFIG, fixture_config

from pipelines import clean, ingest, schema
from pipelines.codebook import load_codebook
from pipelines.config import load_config

TPBIS = load_codebook("tpbis")
VISITORS = load_codebook(str(FIXTURES / "other_instrument.yaml"))
FILES = [
    {"path": "gforms_site_kota.csv", "format": "csv"},
    {"path": "gforms_site_lain.csv", "format": "csv"},
]


@pytest.fixture(scope="module")
def tpbis_wave(tmp_path_factory):
    """Two Google Forms files of the TPBIS fixture survey, ingested and cleaned."""
    cfg = load_config(fixture_config(tmp_path_factory.mktemp("gforms"), FILES))
    got = ingest.ingest_wave(cfg, TPBIS, cfg.waves[0], b"s" * 32)
    data, _ = clean.clean_wave(got.data, cfg, TPBIS, cfg.waves[0])
    return cfg, data


def test_schema_failure_names_file_row_column_and_expectation(tpbis_wave):
    cfg, data = tpbis_wave
    bad = data.copy()
    bad.loc[1, "skill_2"] = 7
    with pytest.raises(schema.ProcessedDataError) as e:
        schema.validate_processed(bad, cfg, TPBIS)
    msg = e.value.text("en")
    assert "gforms_site_lain.csv" in msg and "row 2" in msg and '"skill_2"' in msg
    assert "5-point code" in msg and "found 7" in msg
    with pytest.raises(schema.ProcessedDataError, match="no personal data column"):
        schema.validate_processed(data.assign(phone="x"), cfg, TPBIS)
    schema.validate_processed(data, cfg, TPBIS)


def _visitors(**changes) -> pd.DataFrame:
    row = {
        "wave": "2025",
        "source_file": "visitors.csv",
        "source_row": 2,
        "visits_per_month": 4.0,
        "sat_staff": 3,
        "flag_fast": False,
    }
    df = pd.DataFrame([row, {**row, "source_row": 3}, {**row, "source_row": 4}])
    df["sat_staff"] = df["sat_staff"].astype("Int64")
    for col, (i, value) in changes.items():
        df.loc[i, col] = value
    return df


def test_a_non_tpbis_codebook_gives_its_own_checks():
    cfg = load_config(SAMPLE_CONFIG)
    built = schema.processed_schema(cfg, VISITORS)
    assert {"sat_staff", "visits_per_month", "wave", "source_row"} <= set(built.columns)
    assert "skill_2" not in built.columns  # nothing of TPBIS
    schema.validate_processed(_visitors(), cfg, VISITORS)
    with pytest.raises(schema.ProcessedDataError) as e:  # a 4-point scale, a 0-31 range
        schema.validate_processed(
            _visitors(sat_staff=(0, 5), visits_per_month=(2, 40.0)), cfg, VISITORS
        )
    msg = e.value.text("en")
    assert 'visitors.csv, row 2, column "sat_staff"' in msg and "a 4-point code" in msg
    assert 'row 4, column "visits_per_month"' in msg and "from 0 to 31" in msg
    with pytest.raises(schema.ProcessedDataError, match="a wave id"):
        schema.validate_processed(_visitors(wave=(0, "2031")), cfg, VISITORS)
    with pytest.raises(schema.ProcessedDataError, match=r"no personal data column \(full_name"):
        schema.validate_processed(_visitors().assign(full_name="x"), cfg, VISITORS)


def test_describe_stops_after_limit_and_counts_the_rest():
    df = _visitors()
    failures = pd.DataFrame(
        {
            "index": [0, 1, 2, 99],
            "column": ["sat_staff"] * 3 + ["wave"],
            "failure_case": [9, 8, 7, "x"],
            "check": ["a 4-point code"] * 3 + ["a wave id"],
        }
    )
    msg = schema.describe(failures, df, limit=2)
    assert msg.count("found") == 2 and msg.endswith("(and 2 more).")
    assert "found 9, expected a 4-point code" in msg and "row 3" in msg
    assert 'column "wave": found' in schema.describe(failures.iloc[3:], df)  # no such row
