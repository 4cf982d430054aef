"""The steps the notebooks call: each writes its files and reads only what the step before it
wrote, clears stale files, and names the stage to run when its input is missing. Ingest and
clean run on the non-TPBIS visitor survey; analyse runs end to end in test_end_to_end.py and
test_warmkernel.py."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from helpers import visitors_config

from pipelines import steps
from pipelines.errors import RunError, set_language
from pipelines.paths import Layout


@pytest.fixture(scope="module")
def visitors(tmp_path_factory):
    """The visitor survey through ``steps.load``, ``run_ingest`` and ``run_clean``."""
    cfg_path = visitors_config(tmp_path_factory.mktemp("visitors"))
    root = tmp_path_factory.mktemp("out")
    cfg, cb, out = steps.load(str(cfg_path), str(root / "processed"), str(root / "reports"))
    set_language("en")
    ingest_log = steps.run_ingest(cfg, cb, out)
    stale = out.clean / "old-wave.parquet"  # an earlier run's file: the step owns its folder
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"stale")
    cleaned = steps.run_clean(cfg, cb, out)
    return cfg, cb, out, ingest_log, cleaned


def test_load_gives_config_codebook_and_folders(visitors):
    cfg, cb, out, _, _ = visitors
    assert cfg.survey.id == "visitors" and cb.id == "library-visitors"
    assert isinstance(out, Layout) and out.clean == out.processed / "clean"


def test_ingest_writes_de_identified_tables_and_restricted_files(visitors):
    cfg, cb, out, log, _ = visitors
    assert sorted(p.name for p in out.ingested.iterdir()) == ["2025.parquet", "ingest_log.csv"]
    raw = pd.read_parquet(out.ingested / "2025.parquet")
    assert {v.name for v in cb.personal}.isdisjoint(raw.columns)
    assert log["wave"].tolist() == ["2025"] and log["file"].tolist() == ["visitors.csv"]
    fingerprints = (out.restricted / "name_fingerprints.txt").read_text().split()
    assert len(fingerprints) > 0 and (out.restricted / "source_ids.parquet").exists()


def test_clean_writes_what_analyse_reads_and_no_stale_file(visitors):
    cfg, _, out, _, cleaned = visitors
    names = {p.name for p in out.clean.iterdir()}
    assert {"2025.parquet", "2025.csv", "cleaning_log.csv", "panel.parquet"} <= names
    assert {"attrition.csv", "quality.json", "dictionary.csv"} <= names
    assert "old-wave.parquet" not in names
    waves, panel = steps.load_clean(out, cfg)
    assert list(waves) == ["2025"] and len(waves["2025"]) > 0
    assert len(panel) == len(pd.read_parquet(out.clean / "panel.parquet"))
    log = pd.read_csv(out.clean / "cleaning_log.csv", dtype={"wave": str})
    for col in ("rule", "rows_touched", "values_touched", "wave"):
        assert log[col].tolist() == cleaned["summary"][col].tolist(), col
    assert log["rule"].iloc[0] == "rows_in" and log["rule"].iloc[-1] == "rows_out"
    assert steps.load_quality(out) == json.loads(json.dumps(cleaned["quality"], default=str))
    assert (out.restricted / "cleaning_rows.parquet").exists()


def test_a_step_without_its_input_names_the_stage_to_run(visitors, tmp_path):
    cfg, cb, _, _, _ = visitors
    empty = Layout(tmp_path / "processed", tmp_path / "reports")
    cases = [
        (lambda: steps.run_clean(cfg, cb, empty), "2025.parquet is missing: run the 'ingest'"),
        (lambda: steps.load_clean(empty, cfg), "run the 'clean' stage first"),
        (lambda: steps.load_quality(empty), "quality.json is missing: run the 'clean'"),
        (lambda: steps.load_results(empty), "estimates.parquet is missing: run the 'analyse'"),
    ]
    for call, message in cases:
        with pytest.raises(RunError, match=message):
            call()
    set_language("id")
    with pytest.raises(RunError, match="belum ada: jalankan tahap 'ingest'"):
        steps.run_clean(cfg, cb, empty)


def test_load_results_reads_every_table_by_name(tmp_path):
    out = Layout(tmp_path / "processed", tmp_path / "reports")
    out.results.mkdir(parents=True)
    tables = {"estimates": pd.DataFrame({"estimate": [0.5]}), "models": pd.DataFrame({"b": [1]})}
    for name, table in tables.items():
        table.to_parquet(out.results / f"{name}.parquet", index=False)
    got = steps.load_results(out)
    assert list(got) == ["estimates", "models"]
    pd.testing.assert_frame_equal(got["models"], tables["models"])


def test_source_ids_joined_to_the_row_log_as_a_full_merge_would():
    """Only ids of rows the log names are kept before the merge: the same joined log."""
    ids = pd.DataFrame(
        {
            "source_file": ["a.csv", "a.csv", "a.csv", "b.csv", "a.csv"],
            "source_row": ["2", "3", "2", "2", "9"],
            "source_id": ["u1", "u2", "u1-again", "u3", "u9"],
            "wave": ["1", "1", "1", "1", "2"],
        },
        dtype="str",
    )
    keys = ["wave", "source_file", "source_row"]
    for rows in (["2", "9", "4"], ["3"], []):
        log = pd.DataFrame(
            {"wave": "1", "source_file": "a.csv", "source_row": rows, "rule": "r"}, dtype=str
        )
        full = log.merge(ids.drop_duplicates(keys), on=keys, how="left")
        pd.testing.assert_frame_equal(steps._with_source_ids(log, ids), full)


def test_read_and_clean_is_what_ingest_then_clean_write_and_writes_nothing(visitors, tmp_path):
    """``check``'s dry run: the same cleaned data and log as the two steps, no file written."""
    cfg, cb, out, ingest_log, cleaned = visitors
    before = {p: p.stat().st_mtime_ns for p in out.processed.rglob("*")}
    got, data, summary = steps.read_and_clean(cfg, cb, cfg.waves[0], steps.pseudonym_secret())
    assert {p: p.stat().st_mtime_ns for p in out.processed.rglob("*")} == before
    assert got.log["wave"].tolist() == ingest_log["wave"].tolist()
    ingested = pd.read_parquet(out.ingested / "2025.parquet")
    pd.testing.assert_frame_equal(got.data, ingested, check_dtype=False)
    written, _ = steps.load_clean(out, cfg)
    pd.testing.assert_frame_equal(data, written["2025"], check_dtype=False)
    pd.testing.assert_frame_equal(summary, cleaned["summary"])


def test_write_files_writes_text_as_utf8_and_bytes_as_they_are(tmp_path):
    files = {"a.html": "Rp 1.500 — ≥ 5", "sites/b.pdf": b"%PDF\x00\xff", "c.txt": ""}
    written = steps.write_files(tmp_path / "r", files)
    assert written == [tmp_path / "r" / name for name in files]
    assert (tmp_path / "r/a.html").read_bytes() == "Rp 1.500 — ≥ 5".encode()
    assert (tmp_path / "r/sites/b.pdf").read_bytes() == b"%PDF\x00\xff"


def test_the_report_steps_read_the_results_and_write_what_report_returns(
    visitors, tmp_path, monkeypatch
):
    """The city and site reports: results and quality read from the earlier steps' files,
    the report module's files written under reports/ and reports/sites/."""
    from pipelines import report

    cfg, cb, out, _, cleaned = visitors
    out = Layout(out.processed, tmp_path / "reports")
    out.results.mkdir(exist_ok=True)
    pd.DataFrame({"estimate": [0.25]}).to_parquet(out.results / "estimates.parquet")
    seen = {}

    def city_files(res, quality, cfg_, cb_, built=None):
        seen.update(res=res, quality=quality)
        return {"city.en.html": "<p>kota</p>", "tables.xlsx": b"PK"}

    monkeypatch.setattr(report, "city_files", city_files)
    monkeypatch.setattr(report, "site_files", lambda res, c, b, site: {f"{site}.en.pdf": b"%"})
    written = steps.run_report(cfg, cb, out)
    assert written == [out.reports / "city.en.html", out.reports / "tables.xlsx"]
    assert seen["res"]["estimates"]["estimate"].tolist() == [0.25]
    assert seen["quality"] == json.loads(json.dumps(cleaned["quality"], default=str))
    assert steps.run_site_report(cfg, cb, out, "kota") == [out.sites / "kota.en.pdf"]
    assert (out.sites / "kota.en.pdf").read_bytes() == b"%"
