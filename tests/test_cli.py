"""The command line staff and developers use: `dampak ...` (the installed console script),
`python -m pipelines ...` and `make help`."""

import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

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


def _dampak() -> str:
    """The `dampak` script pip installed beside this Python (bin/ or Scripts\\ on Windows)."""
    found = shutil.which("dampak", path=str(Path(sys.executable).parent))
    assert found, "the dampak console script is not installed (pip install -e .)"
    return found


def test_dampak_console_script_is_the_package_cli():
    (ep,) = metadata.entry_points(group="console_scripts", name="dampak")
    assert ep.value == "pipelines.__main__:main"
    out = subprocess.run([_dampak(), "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.startswith("usage: dampak ")
    for command in ("run", "check", "simulate", "scan"):
        assert command in out.stdout


def test_dampak_run_and_check_through_the_installed_script(tmp_path):
    bad = subprocess.run(
        [_dampak(), "run", "data/raw/solok/solok_2026.yaml", "--stage", "clena"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and "clena" in bad.stderr and "Traceback" not in bad.stderr
    log = tmp_path / "log.csv"
    ok = subprocess.run(
        [_dampak(), "check", "data/raw/solok/solok_2026.yaml", "--log", str(log)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ok.returncode == 0, ok.stderr
    assert "Hasil ekspor dapat dibaca." in ok.stdout  # the sample's staff messages: Indonesian
    assert set(pd.read_csv(log, dtype=str)["wave"]) == {"2025", "2026"}
