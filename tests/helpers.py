"""Helpers the tests share: survey configs for generated files and small notebooks.

Imported as ``from helpers import ...`` (pytest puts tests/ on the path); fixtures stay in
conftest.py.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from pipelines.paths import RAW

SAMPLE_CONFIG = RAW / "solok" / "solok_2025.yaml"
WAVE_DATES = {"2025": "2025-03-31", "2026": "2026-03-31"}
FIXTURES = Path(__file__).parent / "fixtures"


def write_config(
    folder: Path,
    fmt: str = "csv",
    survey_id: str = "test-survey",
    waves=("2025", "2026"),
    **changes,
) -> Path:
    """A survey YAML for generated files in `folder` (the sample's places, sites and margins)."""
    cfg = yaml.safe_load(SAMPLE_CONFIG.read_text())
    cfg["survey"]["id"] = survey_id
    ext = {"csv": "csv", "xlsx": "xlsx", "sav": "sav"}[fmt]
    cfg["waves"] = [
        {
            "id": w,
            "label": {"id": f"Gelombang {w}", "en": f"Wave {w}"},
            "reference_date": WAVE_DATES[w],
            "files": [{"path": f"solok_{w}.{ext}", "format": fmt}],
        }
        for w in waves
    ]
    for key, value in changes.items():
        cfg[key] = value
    path = folder / f"{survey_id}.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False))
    return path


def write_notebook(path: Path, parameters: str, *cells: str) -> Path:
    """A small Python 3 notebook: a tagged parameters cell, then ``cells`` (for runner tests)."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    params = nbformat.v4.new_code_cell(parameters)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, *(nbformat.v4.new_code_cell(c) for c in cells)]
    nbformat.write(nb, path)
    return path


def fixture_config(folder: Path, files: list[dict], **changes) -> Path:
    """A survey YAML in `folder` for fixture files (copied there: raw files sit by their config)."""
    cfg = yaml.safe_load(SAMPLE_CONFIG.read_text())
    cfg["survey"]["id"] = "fixture"
    cfg["waves"] = [
        {
            "id": "2025",
            "label": {"id": "Gelombang 1", "en": "Wave 1"},
            "reference_date": "2025-12-31",
            "files": files,
        }
    ]
    cfg.update(changes)
    for f in files:
        for key in ("path", "xlsform"):
            if f.get(key) and not (folder / f[key]).exists():
                shutil.copy(FIXTURES / f[key], folder / f[key])
    path = folder / "survey.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False))
    return path


def visitors_config(folder: Path) -> Path:
    """The non-TPBIS visitor survey (fixtures/other_instrument.yaml, one wave of visitors.csv)
    copied to ``folder`` with its survey YAML (the sample's places and sites); returns its path."""
    for f in ("other_instrument.yaml", "visitors.csv"):
        shutil.copy(FIXTURES / f, folder / f)
    cfg = yaml.safe_load(SAMPLE_CONFIG.read_text())
    cfg["survey"]["id"] = "visitors"
    cfg["instrument"] = "other_instrument.yaml"
    cfg["columns"] = {}
    cfg["waves"] = [
        {
            "id": "2025",
            "label": {"id": "Maret 2025", "en": "March 2025"},
            "reference_date": "2025-03-31",
            "files": [{"path": "visitors.csv", "format": "csv"}],
        }
    ]
    path = folder / "visitors.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False))
    return path
