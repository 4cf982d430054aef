"""Notebooks are stored without outputs and stay paired with their reviewable .py twins."""

import jupytext
import nbformat
import pytest

from pipelines.paths import NOTEBOOKS

BOOKS = sorted(NOTEBOOKS.glob("*.ipynb"))


def test_there_are_pipeline_and_exploration_notebooks():
    names = {p.stem for p in BOOKS}
    assert {
        "01_ingest",
        "02_clean",
        "03_analyse",
        "04_report_city",
        "05_report_site",
        "explore",
    } <= names


@pytest.mark.parametrize("path", BOOKS, ids=lambda p: p.name)
def test_outputs_are_stripped(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: clear outputs before committing"
            assert cell.execution_count is None, f"{path.name}: clear execution counts"


@pytest.mark.parametrize("path", BOOKS, ids=lambda p: p.name)
def test_ipynb_and_py_pair_have_the_same_cells(path):
    twin = path.with_suffix(".py")
    assert twin.exists(), f"{path.name} has no paired .py (jupytext --sync)"
    a = nbformat.read(path, as_version=4)
    b = jupytext.read(twin)
    assert [(c.cell_type, c.source) for c in a.cells] == [(c.cell_type, c.source) for c in b.cells]


@pytest.mark.parametrize("path", BOOKS, ids=lambda p: p.name)
def test_cells_are_short_and_there_is_prose_between_them(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(len(c.source.splitlines()) <= 12 for c in code), "move long cells into pipelines/"
    assert nb.cells[0].cell_type == "markdown"
    kinds = [c.cell_type for c in nb.cells]
    assert "markdown" in kinds[1:], "explain the steps between code cells"
