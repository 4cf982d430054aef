"""Shared fixtures: a private pseudonym secret, and small generated surveys with configs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from pipelines import simulate
from pipelines.errors import set_language
from pipelines.paths import RAW

SAMPLE_CONFIG = RAW / "solok" / "solok_2025.yaml"
WAVE_DATES = {"2025": "2025-03-31", "2026": "2026-03-31"}


@pytest.fixture(autouse=True, scope="session")
def _private_secret(tmp_path_factory):
    """Tests never touch the user's real pseudonym key."""
    path = tmp_path_factory.mktemp("secret") / "pseudonym.key"
    os.environ["DAMPAK_SECRET_FILE"] = str(path)
    return path


@pytest.fixture(autouse=True)
def _english_messages():
    """Loading a config switches message language (the sample says `id`); reset around each test."""
    set_language("en")
    yield
    set_language("en")


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


@pytest.fixture(scope="session")
def small_survey(tmp_path_factory) -> Path:
    """A generated 2-wave survey (300 per wave) in CSV, XLSX and SAV, with truth.json."""
    folder = tmp_path_factory.mktemp("survey")
    sim = simulate.simulate(n_per_wave=300, seed=11)
    simulate.write(sim, folder, formats=("csv", "xlsx", "sav"))
    return folder


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
