"""The Google Form behind the export: the TPBIS codebook's variables and question headers."""

from __future__ import annotations

import functools
from pathlib import Path

CODEBOOK_PATH = Path(__file__).resolve().parents[1] / "instruments" / "tpbis.yaml"
GOT_JOB_HEADER = "Dalam 12 bulan terakhir, apakah Anda mendapatkan pekerjaan atau tawaran kerja? "
SHEET_NAME = "Form Responses 1"


@functools.lru_cache(maxsize=1)
def _codebook() -> dict:
    from pipelines.config import read_yaml

    return read_yaml(CODEBOOK_PATH.read_text(encoding="utf-8"), source=CODEBOOK_PATH)


def _variables() -> list[dict]:
    """The codebook variables that a Google Forms export holds (all but ``started_at``)."""
    return [v for v in _codebook()["variables"] if v["name"] != "started_at"]


def headers() -> list[str]:
    """Raw headers in export order: Timestamp, then the question texts (got_job with a space)."""
    out = []
    for v in _variables():
        if v["name"] == "submitted_at":
            out.append("Timestamp")
        elif v["name"] == "got_job":
            out.append(GOT_JOB_HEADER)
        else:
            out.append(v["question"]["id"])
    return out


def _names() -> list[str]:
    """Codebook variable names in export order."""
    return [v["name"] for v in _variables()]
