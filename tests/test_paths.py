"""Where things live: project folders defined once, and one survey's output layout."""

from __future__ import annotations

from pathlib import Path

from pipelines import paths


def test_project_folders_are_inside_the_checkout():
    assert (paths.ROOT / "pyproject.toml").is_file()
    assert paths.NOTEBOOKS.is_dir() and (paths.NOTEBOOKS / "01_ingest.ipynb").is_file()
    assert paths.SAMPLE_CONFIG.is_file() and paths.SAMPLE_CONFIG.is_relative_to(paths.RAW)
    assert paths.STAGING.parent == paths.PROCESSED.parent == paths.ROOT / "data"


def test_layout_of_one_survey():
    lay = paths.Layout("out/processed", Path("out/reports"))
    assert lay.processed == Path("out/processed") and lay.reports == Path("out/reports")
    assert lay.ingested == lay.processed / "ingest" and lay.clean == lay.processed / "clean"
    assert lay.restricted == lay.processed / "restricted"
    assert lay.results == lay.processed / "results"
    assert lay.executed == lay.reports / "executed" and lay.sites == lay.reports / "sites"
    pub = paths.published("kota-x")
    assert (pub.processed, pub.reports) == (paths.PROCESSED / "kota-x", paths.REPORTS / "kota-x")
