"""Runner mechanics without notebooks: parameter checks, lock, publish and recovery."""

import json
import multiprocessing as mp
import os
import sys
from pathlib import Path

import pytest
from helpers import write_notebook

from pipelines import runner
from pipelines.errors import RunError, set_language
from pipelines.paths import Layout


def test_params_are_type_checked_before_papermill():
    nb = runner.Notebook("x.ipynb", {"site": str, "n": int})
    assert runner.check_params(nb, {"site": "007", "n": 3}) == {"site": "007", "n": 3}
    with pytest.raises(RunError, match="'site' of x.ipynb must be str, got int 7"):
        runner.check_params(nb, {"site": 7, "n": 3})
    with pytest.raises(RunError, match="must be int, got bool"):
        runner.check_params(nb, {"site": "a", "n": True})
    with pytest.raises(RunError, match="no parameter"):
        runner.check_params(nb, {"site": "a", "n": 1, "sites": "b"})
    with pytest.raises(RunError, match="needs parameter"):
        runner.check_params(nb, {"site": "a"})


def test_every_stage_notebook_exists_with_a_parameters_cell():
    import nbformat

    from pipelines.paths import NOTEBOOKS

    for stage in runner.STAGES:
        for nb in [*stage.notebooks, *([stage.fan_out] if stage.fan_out else [])]:
            book = nbformat.read(NOTEBOOKS / nb.file, as_version=4)
            tagged = [c for c in book.cells if "parameters" in c.metadata.get("tags", [])]
            assert len(tagged) == 1, nb.file
            names = {
                line.split("=")[0].strip() for line in tagged[0].source.splitlines() if "=" in line
            }
            assert names == set(nb.params), nb.file


class FakeErr(Exception):
    ename, evalue, exec_count = "InputError", "In file a.csv, row 7: bad.\nmore", 4


def test_failure_is_described_in_a_few_lines():
    set_language("en")
    msg = runner.describe_failure("clean", "02_clean.ipynb", Path("/x/02_clean.ipynb"), FakeErr())
    lines = msg.splitlines()
    assert lines[0] == "Stage 'clean' failed in notebook 02_clean.ipynb, cell 4."
    assert lines[1].strip() == "In file a.csv, row 7: bad."
    assert "/x/02_clean.ipynb" in lines[2]
    assert len(lines) == 3


def test_every_module_imports_where_fcntl_does_not_exist():
    """Windows has no fcntl: every pipelines module must import without it (fresh process)."""
    import subprocess

    code = (
        "import importlib, pkgutil, sys\n"
        "sys.modules['fcntl'] = None  # import fcntl now raises ImportError\n"
        "import pipelines\n"
        "names = [m.name for m in pkgutil.iter_modules(pipelines.__path__, 'pipelines.')]\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        "assert 'fcntl' not in {m for m in sys.modules if sys.modules[m] is not None}\n"
        "print(len(names))\n"
    )
    out = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", code], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) >= 25  # every module was tried, runner and warmkernel included


def test_versions_name_every_declared_dependency_as_installed():
    """The manifest's versions come from Dampak's own metadata, not a list kept by hand."""
    import tomllib
    from importlib import metadata

    from pipelines.paths import ROOT

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {d.split(">")[0].split("=")[0].split("<")[0].strip() for d in declared}
    got = runner.versions()
    assert {"python", "dampak", "pandas", "fpdf2", "filelock"} <= set(got)
    assert names <= set(got)
    assert all(got[n] == metadata.version(n) for n in names)
    assert "pytest" not in got  # dev tools are not what the numbers depend on


def _hold_lock(root, ready, release):
    with runner.survey_lock(Path(root), "s"):
        ready.set()
        release.wait(10)


def test_second_run_is_refused_while_the_first_holds_the_lock(tmp_path):
    ctx = mp.get_context("spawn")  # as on Windows, where processes are never forked
    ready, release = ctx.Event(), ctx.Event()
    p = ctx.Process(target=_hold_lock, args=(str(tmp_path), ready, release))
    p.start()
    try:
        assert ready.wait(10)
        with pytest.raises(RunError, match="in progress"), runner.survey_lock(tmp_path, "s"):
            pass
    finally:
        release.set()
        p.join(10)
    with runner.survey_lock(tmp_path, "s"):  # free again once the holder is gone
        pass


def _layout(base: Path, tag: str) -> Layout:
    lay = Layout(base / "processed", base / "reports")
    for d in (lay.processed, lay.reports):
        d.mkdir(parents=True)
        (d / "f.txt").write_text(tag)
    return lay


def test_publish_swaps_and_recover_undoes_a_half_publish(tmp_path):
    live = _layout(tmp_path / "live", "old")
    run_dir = tmp_path / "staging" / "s" / "run1"
    staged = _layout(run_dir, "new")
    runner.publish(run_dir, staged, live)
    assert (live.processed / "f.txt").read_text() == "new"
    assert (live.reports / "f.txt").read_text() == "new"

    # simulate a kill after the first rename of a second publish
    run2 = tmp_path / "staging" / "s" / "run2"
    staged2 = _layout(run2, "newer")
    os.replace(live.processed, run2 / "old-0")
    os.replace(staged2.processed, live.processed)
    (run2 / "publish.json").write_text(
        json.dumps({"moved": [[str(live.processed), str(run2 / "old-0")]], "done": False})
    )
    runner.recover(tmp_path / "staging", "s", live)
    assert (live.processed / "f.txt").read_text() == "new"
    assert (live.reports / "f.txt").read_text() == "new"
    assert not run2.exists()


def _site_book(folder: Path, bad: str) -> runner.Notebook:
    """A stand-in site notebook: fails for site ``bad``, shows its kernel's process id."""
    write_notebook(
        folder / "site.ipynb",
        'config_path = processed_dir = reports_dir = ""\nsite = ""',
        f"if site == {bad!r}:\n    raise ValueError('no data for ' + site)",
        "import os\nos.getpid()",
    )
    return runner.Notebook("site.ipynb", runner.STAGES[-1].fan_out.params)


def _kernel_pid(executed: Path) -> int:
    import nbformat

    return int(nbformat.read(executed, as_version=4).cells[-1].outputs[0]["data"]["text/plain"])


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(sys.platform == "win32", reason="forks a worker and reads /proc")
def test_a_failing_site_is_reported_as_before_and_its_worker_goes_on(tmp_path, monkeypatch):
    from concurrent.futures import ProcessPoolExecutor

    from pipelines import paths
    from pipelines.paths import SAMPLE_CONFIG

    folder = tmp_path / "notebooks"
    folder.mkdir()
    monkeypatch.setattr(paths, "NOTEBOOKS", folder)
    run = runner.Run(SAMPLE_CONFIG, out_root=tmp_path, progress=lambda m: None)
    set_language("en")  # the sample config speaks Indonesian
    run.cfg = run.cfg.model_copy(update={"sites": run.cfg.sites[:5]})
    sites = run.cfg.site_ids
    bad = sites[1]
    nb = _site_book(folder, bad)
    staged = Layout(tmp_path / "processed", tmp_path / "reports")
    with ProcessPoolExecutor(1, mp_context=mp.get_context("fork")) as pool:
        run.executor = pool  # not the runner's own pool: the later sites still run
        with pytest.raises(runner.NotebookFailed) as failed:
            run._fan_out(runner.STAGES[-1], nb, run._params(staged), staged, runner.kernel_name())
    sites_dir = staged.executed / "sites"
    assert (failed.value.nb_file, failed.value.executed) == (
        "site.ipynb",
        sites_dir / f"{bad}.ipynb",
    )
    msg = runner.describe_failure("report", nb.file, failed.value.executed, failed.value.err)
    assert msg.splitlines()[:2] == [
        "Stage 'report' failed in notebook site.ipynb, cell 3.",
        f"  unexpected ValueError: no data for {bad}",
    ]
    pids = [_kernel_pid(sites_dir / f"{s}.ipynb") for s in sites if s != bad]
    assert pids[0] != pids[1]  # the failed notebook's kernel was replaced ...
    assert len(set(pids[1:])) == 1  # ... by one kernel for every later site of that worker
    assert not any(_running(pid) for pid in pids)  # stopped when the worker ended
    assert len(list(sites_dir.glob("kernel.worker-*.log"))) == 1


def test_cleaning_warnings_say_the_cost_and_the_totals():
    import pandas as pd

    from pipelines.runner import cleaning_warnings

    def rule(name, column, n, **cost):
        return {"wave": "1", "rule": name, "column": column, "rows_touched": n,
                "values_touched": n, "examples": '"x"', **cost}  # fmt: skip

    summary = pd.DataFrame(
        [
            rule(
                "match_site_unmatched",
                "site",
                153,
                problem="unmatched_site",
                respondents=1175,
                left_every_estimate=153,
                left_models=0,
                accepted=True,
            ),  # fmt: skip
            rule(
                "unknown_category",
                "gender",
                519,
                problem="unknown_category",
                respondents=1175,
                left_every_estimate=0,
                left_models=428,
                lost_breakdowns="gender",
                lost_margins="gender=female",
                accepted=False,
            ),  # fmt: skip
            rule(
                "impossible_value",
                "income",
                2,
                problem="impossible_value",
                respondents=1175,
                left_every_estimate=0,
                left_models=0,
            ),  # fmt: skip: costs nothing, not said
            rule("out_of_design", None, 153, respondents=1175),
            rule("out_of_models", None, 440, respondents=1175),
        ]
    )
    lines = cleaning_warnings(summary)
    assert len(lines) == 5
    assert lines[0].startswith("WARNING: wave 1: 153 row(s) name a site the config does not list")
    assert "Cost: 153 of 1175 respondents leave every estimate" in lines[0]
    assert lines[0].endswith("(accepted in the config).")
    assert lines[1].startswith('WARNING: wave 1: 519 "gender" answer(s) are not among')
    assert "428 of 1175 respondents leave the adjusted models" in lines[1]
    assert "breakdown by gender is lost" in lines[1] and "margin(s) gender=female" in lines[1]
    assert lines[2].endswith(
        'in "income" (e.g. "x"): set missing; see cleaning_rows in '
        "restricted/ for the rows. Cost: no respondent leaves an estimate."
    )
    assert lines[3] == (
        "WARNING: wave 1: In all, 153 of 1175 respondents are in no estimate (no stratum or "
        "cluster) and 440 more are not in the adjusted models (a covariate missing)."
    )
    assert lines[4].startswith("Flagged in wave 1: 2 out-of-range value(s), 519 unknown")


def test_skipped_analyses_are_said_once_each_with_their_reason():
    import pandas as pd

    from pipelines.errors import set_language
    from pipelines.runner import skipped_analyses

    plan = pd.DataFrame(
        {
            "analysis": ["participation", "participation", "did", "descriptive"],
            "outcome": ["skills", "income", "skills", "skills"],
            "needs": ["", "", "", ""],
            "runs": [False, False, False, True],
            "reason": ["plan.skip.no_took_part"] * 2 + ["plan.skip.one_wave", ""],
            "reason_fields": [""] * 4,
        }
    )
    lines = skipped_analyses(plan)
    assert lines == [
        "NOT RUN: participation (skills, income) — the form does not ask whether the "
        "respondent took part.",
        "NOT RUN: did (skills) — the survey has one wave.",
    ]
    set_language("id")
    assert (
        skipped_analyses(plan)[1] == "TIDAK DIJALANKAN: did (skills) — survei baru satu gelombang."
    )
    assert skipped_analyses(plan[plan["runs"]]) == []
