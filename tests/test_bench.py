"""The benchmark's pieces and a smoke run at a tiny size (no R); `make bench` is not a test."""

from __future__ import annotations

import json

import pytest

from bench import run as bench


def test_exponent_is_the_log_log_slope():
    assert bench.exponent([1_000, 10_000, 100_000], [2.0, 20.0, 200.0]) == pytest.approx(1.0)
    assert bench.exponent([1_000, 10_000], [1.0, 100.0]) == pytest.approx(2.0)
    assert bench.exponent([1_000], [1.0]) is None


def test_sites_scale_with_respondents_up_to_the_national_count():
    assert bench.sites_for(2_000) == 14
    assert bench.sites_for(100_000) == 500
    assert bench.sites_for(1_000_000) == 2400


def test_tree_rss_counts_children():
    import subprocess
    import sys

    alone = bench.tree_rss()
    assert alone > 10 * 2**20
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; x = bytearray(200 * 2**20); time.sleep(5)"]
    )
    try:
        import time

        time.sleep(1.5)
        assert bench.tree_rss() > alone + 150 * 2**20
    finally:
        child.kill()
        child.wait()


def test_memory_monitor_records_phase():
    with bench.MemoryMonitor(interval=0.05) as mon:
        rec: dict = {}
        with mon.phase(rec):
            block = bytearray(100 * 2**20)
            block[::4096] = b"x" * len(block[::4096])
            mon.sample()
    assert rec["seconds"] >= 0 and rec["peak_rss_mb"] > 100


@pytest.mark.slow
def test_smoke_run_writes_results(tmp_path):
    rc = bench.main(
        [
            "--sizes",
            "300",
            "--no-sample",
            "--no-r",
            "--site-sample",
            "1",
            "--fanout-sites",
            "0",
            "--work",
            str(tmp_path / "work"),
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert rc == 0
    res = json.loads((tmp_path / "out" / "latest.json").read_text())
    size = res["sizes"][0]
    assert size["respondents"] == 300
    for stage in ("ingest", "clean", "analyse"):
        assert size["stages"][stage]["seconds"] > 0
        assert size["stages"][stage]["peak_rss_mb"] > 0
    assert size["report"]["city"]["cells_seconds"] > 0
    assert size["report"]["fan_out"]["sites_run"] == 1
    sm = size["comparisons"]["statsmodels"]
    assert sm["max_rel_diff_estimate"] < 1e-8  # same point estimates as svyglm
    assert "skipped" in size["comparisons"]["r"]
    assert res["overhead"]["median_seconds"] > 0
    assert "| 300 |" in (tmp_path / "out" / "latest.md").read_text()
    assert not (tmp_path / "work").exists()  # scratch removed unless --keep
