"""Real runs of `python -m pipelines run` in subprocesses: bad inputs as staff see them, hostile
answers end to end through ingest and clean, a kill -9 in the middle of a run, and two runs of
the same survey at once. Only the ingest and clean stages run, to keep this under a minute or so.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from helpers import write_config

from pipelines import privacy
from pipelines.paths import ROOT

pytestmark = pytest.mark.slow

WAVE = "2025"
CSV = f"solok_{WAVE}.csv"
FEEDBACK = "Ceritakan manfaat atau saran Anda untuk perpustakaan"
SITE = "Perpustakaan yang paling sering Anda kunjungi"
FORMULAS = ['=HYPERLINK("http://x","klik")', "+62 1", "@SUM(A1)", "-1+2"]


def _cmd(cfg: Path, out: Path, stages: str = "ingest,clean") -> list[str]:
    return [sys.executable, "-m", "pipelines", "run", str(cfg), "--stage", stages]


def _run(cfg: Path, out: Path, stages: str = "ingest,clean") -> subprocess.CompletedProcess:
    return subprocess.run(
        [*_cmd(cfg, out, stages), "--out-root", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )


def _start(cfg: Path, out: Path, stages: str = "ingest,clean") -> subprocess.Popen:
    return subprocess.Popen(
        [*_cmd(cfg, out, stages), "--out-root", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        start_new_session=True,  # its own process group: kill -9 reaches the kernels too
    )


def _digest(*folders: Path) -> dict[str, str]:
    return {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest()
        for f in folders
        for p in sorted(f.rglob("*"))
        if p.is_file()
    }


def _survey(small_survey: Path, folder: Path, sid: str) -> Path:
    folder.mkdir(parents=True)
    shutil.copy(small_survey / CSV, folder / CSV)
    return write_config(folder, "csv", survey_id=sid, waves=(WAVE,))


@pytest.fixture(scope="module")
def hostile(small_survey, tmp_path_factory):
    """A wave with hostile but readable answers, published by one real run."""
    base = tmp_path_factory.mktemp("hostile")
    cfg = _survey(small_survey, base / "survey", "hostile")
    raw = pd.read_csv(base / "survey" / CSV, dtype=str, keep_default_na=False)
    raw.loc[0:3, FEEDBACK] = FORMULAS
    raw.loc[4, FEEDBACK] = "<script>alert('x')</script>"
    for i in range(5, 10):
        raw.loc[i, FEEDBACK] = f"Saya {raw.loc[i, 'Nama lengkap']} senang. WA 081234567890"
    raw.loc[20:25, SITE] = "Perpustakaan Bulan Sabit"
    raw.to_csv(base / "survey" / CSV, index=False)
    os.chmod(base / "survey" / CSV, 0o444)  # raw files are only read
    before = _digest(base / "survey")
    out = base / "out"
    done = _run(cfg, out)
    return {"cfg": cfg, "out": out, "done": done, "raw": raw, "before": before, "base": base}


def test_hostile_answers_are_handled_and_recorded(hostile):
    done, out = hostile["done"], hostile["out"]
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "PERINGATAN: gelombang 2025: 6 baris menyebut perpustakaan" in done.stdout
    clean = out / "data/processed/hostile/clean"
    csv = pd.read_csv(clean / f"{WAVE}.csv", dtype=str, keep_default_na=False)
    cells = set(csv["feedback"])
    for f in FORMULAS:
        assert "'" + f in cells and f not in cells  # spreadsheet-safe: stored as text
    data = pd.read_parquet(clean / f"{WAVE}.parquet")
    assert "<script>alert('x')</script>" in set(data["feedback"])  # kept as text, never run
    text = " ".join(data["feedback"].dropna())
    for name in hostile["raw"].loc[5:9, "Nama lengkap"]:
        assert name not in text
    assert "081234567890" not in text and text.count("[NAMA]") >= 5
    assert data["flag_unmatched_site"].sum() == 6 and data["site"].notna().sum() == len(data) - 6
    log = pd.read_csv(clean / "cleaning_log.csv")
    assert log.loc[log["rule"] == "match_site_unmatched", "rows_touched"].iloc[0] == 6
    assert _digest(hostile["base"] / "survey") == hostile["before"]


def test_every_output_passes_the_privacy_scan_and_holds_no_secret(hostile):
    out = hostile["out"]
    lay = [out / "data/processed/hostile", out / "reports/hostile"]
    secret = privacy.load_or_create_secret(privacy.default_secret_path())
    fps = privacy.name_fingerprints(hostile["raw"]["Nama lengkap"], secret)
    assert privacy.scan_paths(lay, fps, secret) == []
    blobs = b"".join(p.read_bytes() for f in lay for p in f.rglob("*") if p.is_file())
    for form in (secret, secret.hex().encode(), secret.hex().upper().encode()):
        assert form not in blobs
    assert not privacy.default_secret_path().resolve().is_relative_to(ROOT)
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    assert not [f for f in tracked.stdout.split() if f.endswith(".key")]


@pytest.mark.parametrize(
    ("name", "mutate", "stages", "fragments"),
    [
        (
            "empty_file",
            lambda p: p.write_bytes(b""),
            "ingest",
            ["Tahap 'ingest' gagal di notebook 01_ingest.ipynb, sel", CSV, "berkas kosong"],
        ),
        (
            "dates_in_unknown_format",
            lambda p: (
                pd.read_csv(p, dtype=str, keep_default_na=False)
                .assign(Timestamp="pagi hari ke-5")
                .to_csv(p, index=False)
            ),
            "ingest,clean",
            ["Tahap 'clean' gagal di notebook 02_clean.ipynb", "(submitted_at)", "bukan tanggal"],
        ),
        (
            "most_libraries_misspelt_costly",
            lambda p: (
                (df := pd.read_csv(p, dtype=str, keep_default_na=False))
                .assign(**{SITE: ["Perpus Nagari"] * 60 + list(df[SITE].iloc[60:])})
                .to_csv(p, index=False)
            ),
            "ingest,clean",
            [
                "Tahap 'clean' gagal di notebook 02_clean.ipynb",
                "keluar dari semua estimasi",
                "accept_loss: [unmatched_site]",
            ],
        ),
    ],
    ids=lambda x: x if isinstance(x, str) and "_" in x else "",
)
def test_bad_inputs_through_the_real_run(small_survey, tmp_path, name, mutate, stages, fragments):
    cfg = _survey(small_survey, tmp_path / "survey", "bad-" + name.replace("_", "-"))
    mutate(tmp_path / "survey" / CSV)
    done = _run(cfg, tmp_path / "out", stages)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    first = done.stderr.strip().splitlines()[0]
    assert first.startswith("ERROR: ")
    for fragment in fragments:
        assert fragment in done.stderr, done.stderr
    assert "Buka " in done.stderr and "untuk melihat rinciannya" in done.stderr
    assert not (tmp_path / "out/data/processed").exists()  # nothing published


def test_a_config_error_is_one_sentence_before_anything_runs(small_survey, tmp_path):
    cfg = _survey(small_survey, tmp_path / "survey", "typo")
    cfg.write_text(cfg.read_text().replace("\nsites:", "\nsitess:"))
    done = _run(cfg, tmp_path / "out")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert "unknown key 'sitess' (did you mean 'sites'?)" in done.stderr


def _wait_for(pattern: str, root: Path, proc: subprocess.Popen, timeout: float = 120) -> Path:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        hits = list(root.glob(pattern))
        if hits:
            return hits[0]
        if proc.poll() is not None:
            raise AssertionError(f"run ended before {pattern}: {proc.communicate()}")
        time.sleep(0.05)
    raise AssertionError(f"{pattern} never appeared")


@pytest.mark.skipif(sys.platform == "win32", reason="kill -9 of a process group is POSIX")
def test_kill_9_mid_run_leaves_the_published_outputs_and_the_next_run_succeeds(hostile):
    out, cfg = hostile["out"], hostile["cfg"]
    assert hostile["done"].returncode == 0
    published = [out / "data/processed/hostile", out / "reports/hostile"]
    before = _digest(*published)
    proc = _start(cfg, out)
    staging = out / "data/.staging"
    _wait_for("hostile/*/reports/executed/02_clean.ipynb", staging, proc)  # mid-run: cleaning
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(30)
    assert proc.returncode == -signal.SIGKILL
    assert _digest(*published) == before
    again = _run(cfg, out)
    assert again.returncode == 0, again.stderr
    assert not [p for p in (staging / "hostile").iterdir() if p.name != "failed"]


def test_two_runs_of_one_survey_at_once(hostile):
    out, cfg = hostile["out"], hostile["cfg"]
    first = _start(cfg, out, "ingest")
    _wait_for("hostile/*/reports", out / "data/.staging", first)  # holds the lock now
    second = _run(cfg, out, "ingest")
    assert second.returncode == 2
    assert second.stderr.strip() == (
        "ERROR: Survei 'hostile' sedang diproses oleh run lain; tunggu sampai selesai lalu "
        "coba lagi."
    )
    stdout, stderr = first.communicate(timeout=300)
    assert first.returncode == 0, stderr
    assert (out / "reports/hostile/manifest.json").exists()
