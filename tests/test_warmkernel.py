"""Warm kernels for the fan-out: reused within a worker, reset between notebooks, replaced
after a failure, and reports identical to those from fresh kernels."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import nbformat
import papermill as pm
import pypdf
import pytest
from helpers import write_config, write_notebook

from pipelines import paths, runner, steps, warmkernel

PARAMS = {"site": str}


def _book(folder: Path, name: str, *cells: str) -> runner.Notebook:
    write_notebook(folder / name, 'site = ""', *cells)
    return runner.Notebook(name, PARAMS)


@pytest.fixture
def books(tmp_path, monkeypatch):
    """Throwaway notebooks in place of the project's; warm kernels stopped afterwards."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    monkeypatch.setattr(paths, "NOTEBOOKS", folder)
    pid = "import os\nos.getpid()"
    yield {
        "set": _book(folder, "set.ipynb", "secret = 42", pid),
        "check": _book(folder, "check.ipynb", "assert 'secret' not in globals(), 'leaked'", pid),
        "fail": _book(folder, "fail.ipynb", "x = 1", "raise ValueError('boom ' + site)", pid),
    }
    warmkernel.shutdown_all()


def kernel_pid(executed: Path) -> int:
    """The kernel's process id, as the notebook's last cell printed it."""
    cell = nbformat.read(executed, as_version=4).cells[-1]
    return int(cell.outputs[0]["data"]["text/plain"])


def counts(executed: Path) -> list:
    return [c.execution_count for c in nbformat.read(executed, as_version=4).cells]


def test_successive_notebooks_share_one_kernel_with_a_clean_namespace(books, tmp_path):
    out = tmp_path / "executed"
    runner.execute(books["set"], {"site": "a"}, out / "a.ipynb", warm=True)
    runner.execute(books["check"], {"site": "b"}, out / "b.ipynb", warm=True)  # no 'secret'
    runner.execute(books["check"], {"site": "c"}, out / "c.ipynb", warm=True)
    pids = {kernel_pid(out / f"{s}.ipynb") for s in "abc"}
    assert len(pids) == 1  # one kernel for all three
    assert pids == {warmkernel.kernel_pid(warmkernel.current())}
    assert counts(out / "c.ipynb") == [1, 2, 3, 4]  # numbered as in a fresh kernel
    log = (out / f"kernel.worker-{os.getpid()}.log").read_text()
    assert [line for line in log.splitlines() if line.startswith("---")] == [
        "--- a.ipynb",
        "--- b.ipynb",
        "--- c.ipynb",
    ]
    runner.execute(books["set"], {"site": "d"}, out / "d.ipynb")  # the fresh-kernel path
    assert kernel_pid(out / "d.ipynb") not in pids


def test_another_run_gets_another_kernel(books, tmp_path):
    runner.execute(books["set"], {"site": "a"}, tmp_path / "run1" / "a.ipynb", warm=True)
    runner.execute(books["set"], {"site": "a"}, tmp_path / "run2" / "a.ipynb", warm=True)
    assert kernel_pid(tmp_path / "run1/a.ipynb") != kernel_pid(tmp_path / "run2/a.ipynb")


def test_a_failing_notebook_fails_as_in_a_fresh_kernel_and_the_next_gets_a_new_kernel(
    books, tmp_path
):
    out = tmp_path / "executed"
    runner.execute(books["set"], {"site": "a"}, out / "a.ipynb", warm=True)
    with pytest.raises(pm.PapermillExecutionError) as warm:
        runner.execute(books["fail"], {"site": "b"}, out / "b.ipynb", warm=True)
    with pytest.raises(pm.PapermillExecutionError) as fresh:
        runner.execute(books["fail"], {"site": "b"}, tmp_path / "fresh" / "b.ipynb")
    assert (warm.value.exec_count, warm.value.ename, warm.value.evalue) == (
        fresh.value.exec_count,
        fresh.value.ename,
        fresh.value.evalue,
    )
    assert warm.value.exec_count == 4 and warm.value.evalue == "boom b"  # after injected params
    runner.execute(books["check"], {"site": "c"}, out / "c.ipynb", warm=True)
    runner.execute(books["check"], {"site": "d"}, out / "d.ipynb", warm=True)
    assert kernel_pid(out / "c.ipynb") != kernel_pid(out / "a.ipynb")  # replaced after failing
    assert kernel_pid(out / "d.ipynb") == kernel_pid(out / "c.ipynb")


def test_a_dead_kernel_is_replaced(books, tmp_path):
    out = tmp_path / "executed"
    runner.execute(books["set"], {"site": "a"}, out / "a.ipynb", warm=True)
    warmkernel.current().km.provisioner.process.kill()
    warmkernel.current().km.provisioner.process.wait()
    runner.execute(books["check"], {"site": "b"}, out / "b.ipynb", warm=True)
    assert kernel_pid(out / "b.ipynb") != kernel_pid(out / "a.ipynb")


# --- the real site report ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def analysed(small_survey, tmp_path_factory):
    """A generated survey taken through ingest, clean and analyse (in this process)."""
    root = tmp_path_factory.mktemp("warm")
    cfg_path = write_config(small_survey, "csv", survey_id="warm")
    cfg, cb, out = steps.load(str(cfg_path), str(root / "processed"), str(root / "reports"))
    steps.run_ingest(cfg, cb, out)
    steps.run_clean(cfg, cb, out)
    steps.run_analyse(cfg, cb, out)
    counts = steps.load_results(out)["estimates"].query("analysis == 'site'")
    largest = counts.groupby("group")["n"].max().sort_values(ascending=False).index[:2]
    return {"config": cfg_path, "root": root, "sites": list(largest)}


def _pdf_without_dates(data: bytes) -> bytes:
    return re.sub(rb"/ID \[[^\]]*\]|/CreationDate \([^)]*\)", b"", data)


@pytest.mark.slow
def test_site_reports_from_one_warm_kernel_equal_those_from_fresh_kernels(analysed):
    nb = runner.STAGES[-1].fan_out
    root = analysed["root"]
    common = {"config_path": str(analysed["config"]), "processed_dir": str(root / "processed")}
    pids = []
    for mode in ("fresh", "warm"):
        params = {**common, "reports_dir": str(root / mode)}
        for site in analysed["sites"]:
            executed = root / mode / "executed" / "sites" / f"{site}.ipynb"
            runner.execute(nb, {**params, "site": site}, executed, warm=mode == "warm")
            if mode == "warm":
                pids.append(warmkernel.kernel_pid(warmkernel.current()))
    warmkernel.shutdown_all()
    assert len(pids) == 2 and pids[0] == pids[1]
    fresh = sorted((root / "fresh" / "sites").iterdir())
    assert len(fresh) == 4 * len(analysed["sites"])  # html + pdf, id + en
    for path in fresh:
        twin = root / "warm" / "sites" / path.name
        if path.suffix == ".html":
            assert twin.read_bytes() == path.read_bytes(), path.name
        else:
            a, b = (pypdf.PdfReader(io.BytesIO(p.read_bytes())) for p in (path, twin))
            assert [p.extract_text() for p in a.pages] == [p.extract_text() for p in b.pages]
            assert _pdf_without_dates(twin.read_bytes()) == _pdf_without_dates(path.read_bytes())
