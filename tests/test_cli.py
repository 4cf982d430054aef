"""The command line staff and developers use: `python -m pipelines ...` and `make help`."""

import subprocess
import sys

import pandas as pd

from pipelines.paths import ROOT


def _cli(*args, cwd=ROOT, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "pipelines", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_simulate_writes_a_seeded_survey_with_its_truth(tmp_path):
    out = _cli("simulate", "--n", "120", "--seed", "5", "--out", str(tmp_path), "--formats", "csv")
    assert out.returncode == 0, out.stderr
    a = (tmp_path / "solok_2025.csv").read_bytes()
    assert (tmp_path / "truth.json").exists()
    df = pd.read_csv(tmp_path / "solok_2026.csv", dtype=str)
    assert len(df) == 120 and df.columns[0] == "Timestamp"
    again = tmp_path / "again"
    _cli("simulate", "--n", "120", "--seed", "5", "--out", str(again), "--formats", "csv")
    assert (again / "solok_2025.csv").read_bytes() == a


def test_unknown_stage_is_one_clear_line(tmp_path):
    out = _cli(
        "run", "data/raw/solok/solok_2026.yaml", "--stage", "clena", "--out-root", str(tmp_path)
    )
    assert out.returncode == 2
    assert "clena" in out.stderr and "Traceback" not in out.stderr


def test_make_help_lists_the_commands():
    out = subprocess.run(["make", "help"], cwd=ROOT, capture_output=True, text=True, timeout=30)
    for target in ("report", "test", "lab", "bench", "sample"):
        assert f"make {target}" in out.stdout


def test_bundled_sample_regenerates_byte_identical(tmp_path):
    """The committed sample is exactly what the seeded generator makes (no hand edits)."""
    out = _cli(
        "simulate", "--n", "2000", "--seed", "2025", "--out", str(tmp_path), "--formats", "csv"
    )
    assert out.returncode == 0, out.stderr
    for wave in ("2025", "2026"):
        committed = ROOT / "data" / "raw" / "solok" / f"solok_{wave}.csv"
        assert (tmp_path / f"solok_{wave}.csv").read_bytes() == committed.read_bytes()
