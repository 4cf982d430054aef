"""Shared fixtures: a private pseudonym secret, English messages, a small generated survey.

Helper functions the tests import live in tests/helpers.py (fixtures only here)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipelines import simulate
from pipelines.errors import set_language


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


@pytest.fixture(scope="session")
def small_survey(tmp_path_factory) -> Path:
    """A generated 2-wave survey (300 per wave) in CSV, XLSX and SAV, with truth.json."""
    folder = tmp_path_factory.mktemp("survey")
    sim = simulate.simulate(n_per_wave=300, seed=11)
    simulate.write(sim, folder, formats=("csv", "xlsx", "sav"))
    return folder
