"""The runner: executes the pipeline notebooks with Papermill, safely.

It knows nothing of statistics. It validates parameters, runs stages in a staging folder under a
lock, fans the per-site report out over an executor, writes a manifest and publishes the outputs
only when every stage succeeded, so a failed or killed run leaves the previous outputs untouched.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from filelock import FileLock, Timeout

from pipelines import paths
from pipelines.config import SurveyConfig, config_as_dict, load_config
from pipelines.errors import Joined, Message, RunError, current_language, msg, set_language


@dataclass(frozen=True)
class Notebook:
    """One notebook of a stage and the types of the parameters it accepts."""

    file: str
    params: dict[str, type]


@dataclass(frozen=True)
class Stage:
    name: str
    notebooks: tuple[Notebook, ...]
    fan_out: Notebook | None = None  # run once per site


COMMON = {"config_path": str, "processed_dir": str, "reports_dir": str}
STAGES: tuple[Stage, ...] = (
    Stage("ingest", (Notebook("01_ingest.ipynb", COMMON),)),
    Stage("clean", (Notebook("02_clean.ipynb", COMMON),)),
    Stage("analyse", (Notebook("03_analyse.ipynb", COMMON),)),
    Stage(
        "report",
        (Notebook("04_report_city.ipynb", COMMON),),
        fan_out=Notebook("05_report_site.ipynb", {**COMMON, "site": str}),
    ),
)
STAGE_NAMES = tuple(s.name for s in STAGES)


def check_params(nb: Notebook, params: dict) -> dict:
    """Reject unknown names and wrong types before Papermill (which checks neither) sees them."""
    unknown = set(params) - set(nb.params)
    if unknown:
        raise RunError(f"Notebook {nb.file} has no parameter(s) {sorted(unknown)}.")
    missing = set(nb.params) - set(params)
    if missing:
        raise RunError(f"Notebook {nb.file} needs parameter(s) {sorted(missing)}.")
    for name, value in params.items():
        want = nb.params[name]
        if not isinstance(value, want) or isinstance(value, bool) and want is not bool:
            raise RunError(
                f"Parameter '{name}' of {nb.file} must be {want.__name__}, "
                f"got {type(value).__name__} {value!r}."
            )
    return params


def kernel_name() -> str:
    """The project's kernel when registered in this environment, else Python 3 of this process."""
    from jupyter_client.kernelspec import KernelSpecManager

    specs = KernelSpecManager().find_kernel_specs()
    return os.environ.get("DAMPAK_KERNEL") or ("dampak" if "dampak" in specs else "python3")


def execute(
    nb: Notebook, params: dict, out: Path, kernel: str | None = None, warm: bool = False
) -> float:
    """Run one notebook with Papermill; return its wall time. Raises papermill's error on failure.

    ``warm``: run it in this worker's already started kernel (pipelines.warmkernel), reset
    first; for the per-site fan-out. Kernel log lines then go to one file per worker."""
    import papermill as pm

    check_params(nb, params)
    out.parent.mkdir(parents=True, exist_ok=True)
    log, engine = out.with_suffix(".kernel.log"), {}
    if warm:
        from pipelines import warmkernel

        log = out.parent / f"kernel.worker-{os.getpid()}.log"
        engine = {
            "engine_name": warmkernel.ENGINE,
            "warm_scope": str(out.parent),  # one run's fan-out: a later run gets new kernels
            "kernel_log": str(log),
        }
    t0 = time.perf_counter()
    with _kernel_log(log, append=warm, title=out.name):
        pm.execute_notebook(
            str(paths.NOTEBOOKS / nb.file),
            str(out),
            parameters=params,
            kernel_name=kernel or kernel_name(),
            progress_bar=False,
            cwd=str(paths.NOTEBOOKS),
            log_output=False,
            **engine,
        )
    return time.perf_counter() - t0


@contextlib.contextmanager
def _kernel_log(path: Path, append: bool = False, title: str = "") -> Iterator[None]:
    """Send the kernel process's own log lines (stderr) to a file beside the executed notebook;
    errors still reach the user through Papermill's exception. ``append``: a shared log, where
    each notebook's lines follow a line naming it."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "a" if append else "w") as fh:
        if append:
            fh.write(f"--- {title}\n")
            fh.flush()
        os.dup2(fh.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def run_site(job: tuple) -> tuple[str, float]:
    """One site's report in an executor's worker, in its warm kernel (see pipelines.warmkernel).

    ``job``: (notebook, parameters with ``site``, executed notebook path, kernel name); returns
    the site and the wall time. A kernel that dies before its first reply (jupyter_client's
    start-up race when workers start kernels at once) is started again, once."""
    nb, params, out, kernel = job
    try:
        return params["site"], execute(nb, params, Path(out), kernel, warm=True)
    except RuntimeError as e:  # "Kernel died before replying to kernel_info"
        if "kernel_info" not in str(e):
            raise
    return params["site"], execute(nb, params, Path(out), kernel, warm=True)


def site_reports(
    nb: Notebook,
    params: dict,
    sites: list[str],
    folder: Path,
    kernel: str | None = None,
    executor: Executor | None = None,
    jobs: int | None = None,
) -> Iterator[tuple[str, Path, float]]:
    """The per-site fan-out: ``nb`` once per site over ``executor`` (any ``concurrent.futures``
    executor, e.g. a Dask client's; default a process pool of ``jobs`` workers, shut down at the
    end). Yields (site, executed notebook, seconds) in site order; a failing site raises
    :class:`NotebookFailed` once the sites before it are yielded."""
    import papermill as pm
    from tqdm import tqdm

    kernel = kernel or kernel_name()
    todo = [(nb, {**params, "site": s}, str(folder / f"{s}.ipynb"), kernel) for s in sites]
    if not todo:
        return
    own = executor is None
    workers = jobs or default_jobs()
    executor = executor or ProcessPoolExecutor(max_workers=min(workers, len(todo)))
    try:
        futures = {executor.submit(run_site, job): job for job in todo}
        bar = tqdm(
            total=len(todo), desc="      site reports", unit="site", file=sys.stdout, disable=None
        )
        for fut, job in futures.items():
            try:
                site, secs = fut.result()
            except pm.PapermillExecutionError as err:
                raise NotebookFailed(nb.file, Path(job[2]), err) from None
            bar.update(1)
            yield site, Path(job[2]), secs
        bar.close()
    finally:
        if own:
            executor.shutdown(cancel_futures=True)


def default_jobs() -> int:
    """Site-report workers when none are asked for: the cores, at most 4."""
    return max(1, min(os.cpu_count() or 1, 4))


# --- failure reporting ------------------------------------------------------------------------


def describe_failure(stage: str, nb_file: str, executed: Path, err: BaseException) -> str:
    """A few lines for a staff member: stage, notebook, cell, the error in one sentence, where."""
    cell = getattr(err, "exec_count", None) or getattr(err, "cell_index", None)
    ename = getattr(err, "ename", type(err).__name__)
    evalue = getattr(err, "evalue", str(err))
    sentence = evalue.strip().splitlines()[0] if evalue else ename
    if not _is_dampak(ename):
        sentence = msg("runner.unexpected", ename=ename, sentence=sentence)
    at = msg("runner.at_cell", cell=cell) if cell is not None else ""
    return msg(
        "runner.failed", stage=stage, notebook=nb_file, at=at, sentence=sentence, executed=executed
    )


# Cleaning-log rules a staff member should hear about: worded by the catalogue's
# msg.runner.warn.<rule> ({col} is the column, quoted). What a problem costs (respondents leaving estimates, breakdowns and
# weighting margins lost) follows each line.
WARN_RULES = (
    "match_site_unmatched",
    "match_kelurahan_unmatched",
    "likert_out_of_scale",
    "unknown_category",
    "unknown_yes_no",
    "not_a_number",
    "parse_submitted_at",
    "parse_started_at",
    "parse_ended_at",
    "impossible_value",
    "impossible_age",
    "multiselect_unknown",
    "multiselect_option_unknown",
    "unknown_date",
    "answer_not_asked",
    "margin_not_in_data",
)
# Rules whose lines name one column each: what they cost differs from column to column.
PER_COLUMN = {
    "unknown_category",
    "unknown_yes_no",
    "not_a_number",
    "impossible_value",
    "margin_not_in_data",
}


def _num(grp, col: str) -> int:
    return int(grp[col].fillna(0).sum()) if col in grp else 0


def _joined(grp, col: str) -> str:
    if col not in grp:
        return ""
    parts = [p for v in grp[col].dropna().astype(str) for p in v.split("; ") if p]
    return ", ".join(dict.fromkeys(parts))


def _cost(grp) -> str:
    """What a problem costs, in one sentence: respondents leaving every estimate or the
    adjusted models, breakdowns and weighting margins lost ('' for a rule without a count)."""
    if "problem" not in grp or grp["problem"].isna().all():
        return ""
    n = _num(grp.head(1), "respondents")
    out_all, out_models = _num(grp, "left_every_estimate"), _num(grp, "left_models")
    lost_b, lost_m = _joined(grp, "lost_breakdowns"), _joined(grp, "lost_margins")
    from pipelines.clean import cost_parts

    parts = cost_parts(n, out_all, out_models, lost_b, lost_m)
    if not parts:
        return msg("runner.cost_none")
    accepted = "accepted" in grp and grp["accepted"].fillna(False).astype(bool).any()
    tail = Message("runner.accepted") if accepted else ""
    return msg("runner.cost", cost=Joined(parts, "; "), accepted=tail)


def cleaning_warnings(summary) -> list[str]:
    """One line per wave and notable cleaning rule (per column where costs differ), with what
    it costs, in the messages language (see WARN_RULES); per wave the respondents left out in
    all; then the flagged-value totals."""
    lines = []
    if summary is None or not len(summary) or "rule" not in summary:
        return lines
    hits = summary[summary["rule"].isin(list(WARN_RULES)) & (summary["values_touched"] > 0)]
    waves = hits["wave"] if "wave" in hits else [""] * len(hits)
    keys = [list(waves), "rule", hits["column"].where(hits["rule"].isin(PER_COLUMN), "")]
    by_wave: dict = {}
    for (wave, rule, _), grp in hits.groupby(keys, sort=False):
        ex = grp["examples"].dropna().astype(str) if "examples" in grp else []
        ex = next((e for e in ex if e), "")
        cols = grp["column"].dropna().astype(str).unique() if "column" in grp else []
        col = ", ".join(f'"{c}"' for c in cols[:5]) + (" …" if len(cols) > 5 else "") or "-"
        text = msg(f"runner.warn.{rule}", n=int(grp["values_touched"].sum()), ex=ex or "-", col=col)
        line = _head(wave) + text[0].upper() + text[1:] + _cost(grp)
        by_wave.setdefault(wave, []).append(line)
    all_waves = list(summary["wave"]) if "wave" in summary else [""] * len(summary)
    for wave, grp in summary.groupby(all_waves, sort=False):
        total = _total(grp)
        lines += by_wave.pop(wave, []) + ([_head(wave) + total] if total else [])
    return lines + [line for rest in by_wave.values() for line in rest] + flagged_totals(summary)


def _head(wave) -> str:
    return msg("runner.warning_wave", wave=wave) if wave != "" else msg("runner.warning")


def _total(grp) -> str:
    """'In all, X of N respondents are in no estimate and Y more not in the adjusted models.'"""
    rows = grp.set_index("rule")["rows_touched"] if "rows_touched" in grp else {}
    out_all = int(rows.get("out_of_design", 0) or 0)
    out_models = int(rows.get("out_of_models", 0) or 0)
    if not out_all and not out_models:
        return ""
    n = int(grp.loc[grp["rule"] == "out_of_design", "respondents"].fillna(0).max())
    return msg("runner.total", out_all=out_all, n=n, out_models=out_models)


def skipped_analyses(plan) -> list[str]:
    """One line per planned analysis not run, with its reason and the outcomes it concerns."""
    skipped = plan[~plan["runs"].astype(bool)]
    if skipped.empty:
        return []
    from pipelines.plan import reasons

    skipped = skipped.assign(why=reasons(skipped, current_language()))
    lines = []
    for (analysis, why), grp in skipped.groupby(["analysis", "why"], sort=False):
        outs = ", ".join(str(o) for o in grp["outcome"].dropna().unique())
        outcomes = f" ({outs})" if outs else ""
        lines.append(msg("runner.not_run", analysis=analysis, outcomes=outcomes, why=why))
    return lines


def flagged_totals(summary) -> list[str]:
    """One line per wave with values flagged: out of range, unknown options, impossible dates."""
    from pipelines.clean import flagged_values

    if "wave" not in summary:
        summary = summary.assign(wave="")
    lines = []
    for wave, grp in summary.groupby(summary["wave"].astype(str), sort=False):
        counts, _ = flagged_values(grp)
        if any(counts.values()):
            lines.append(msg("runner.flagged_total", wave=wave or "-", **counts))
    return lines


def _is_dampak(ename: str) -> bool:
    from pipelines import errors

    return isinstance(getattr(errors, ename, None), type)


# --- staging, lock, publish --------------------------------------------------------------------


@contextlib.contextmanager
def survey_lock(staging_root: Path, survey_id: str) -> Iterator[None]:
    """One run per survey at a time; the OS drops the lock if the process dies (even kill -9).

    filelock takes the operating system's own lock (flock on Linux and macOS, msvcrt on
    Windows), so the same code runs everywhere."""
    staging_root.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(staging_root / f"{survey_id}.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise RunError(Message("runner.locked", survey=survey_id)) from None
    try:
        yield
    finally:
        lock.release()


def recover(staging_root: Path, survey_id: str, layout: paths.Layout) -> None:
    """Undo a publish that a killed run left half done, then drop stale staging folders."""
    base = staging_root / survey_id
    for journal in sorted(base.glob("*/publish.json")):
        steps = json.loads(journal.read_text())
        if steps.get("done"):
            continue
        for target, old in reversed(steps["moved"]):
            target, old = Path(target), Path(old)
            if old.exists():
                if target.exists():
                    shutil.rmtree(target)
                os.replace(old, target)
    for stale in base.glob("*"):
        if stale.is_dir() and not stale.name.startswith("failed"):
            shutil.rmtree(stale, ignore_errors=True)


def publish(run_dir: Path, staged: paths.Layout, layout: paths.Layout) -> None:
    """Swap the staged outputs into place with renames, journalled so a kill can be undone."""
    journal = run_dir / "publish.json"
    moved: list[tuple[str, str]] = []
    pairs = [(staged.processed, layout.processed), (staged.reports, layout.reports)]
    for i, (new, target) in enumerate(pairs):
        target.parent.mkdir(parents=True, exist_ok=True)
        old = run_dir / f"old-{i}"
        if target.exists():
            os.replace(target, old)
            moved.append((str(target), str(old)))
        else:
            moved.append((str(target), str(old)))
        journal.write_text(json.dumps({"moved": moved, "done": False}))
        os.replace(new, target)
    journal.write_text(json.dumps({"moved": moved, "done": True}))


# --- manifest ----------------------------------------------------------------------------------


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=paths.ROOT, capture_output=True, text=True, timeout=5
        )
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def versions() -> dict[str, str]:
    """Python, Dampak and every package Dampak requires (its installed metadata), with the
    installed version of each: what a run's numbers were made with."""
    found = {"python": platform.python_version()}
    try:
        found["dampak"] = metadata.version("dampak")
        required = metadata.requires("dampak") or []
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return found
    for req in required:
        if "extra ==" in req:  # dev and optional extras are not what the numbers depend on
            continue
        name = re.split(r"[\s<>=!~;\[(]", req, maxsplit=1)[0]
        with contextlib.suppress(metadata.PackageNotFoundError):
            found[name] = metadata.version(name)
    return found


@dataclass
class RunResult:
    survey_id: str
    layout: paths.Layout
    stages: dict[str, float] = field(default_factory=dict)
    manifest: Path | None = None


Progress = Callable[[str], None]


def _print(msg: str) -> None:
    print(msg, flush=True)


def _refuse_inconsistent(cfg: SurveyConfig) -> None:
    """Refuse before any stage what `check` refuses for a config or codebook reason (the same
    function decides), so a failure never waits for the analysis stage."""
    from pipelines.check import survey_problems
    from pipelines.codebook import load_codebook
    from pipelines.errors import ConfigError

    problems = survey_problems(cfg, load_codebook(cfg.instrument, cfg.base_dir))
    if problems:
        raise ConfigError(Joined(problems, " "))


class Run:
    """One run of the pipeline on one survey config."""

    def __init__(
        self,
        config_path: str | Path,
        stages: list[str] | None = None,
        out_root: str | Path | None = None,
        executor: Executor | None = None,
        jobs: int | None = None,
        progress: Progress = _print,
    ):
        self.config_path = Path(config_path).resolve()
        self.cfg: SurveyConfig = load_config(self.config_path)
        set_language(self.cfg.messages_language)
        _refuse_inconsistent(self.cfg)
        unknown = [s for s in stages or [] if s not in STAGE_NAMES]
        if unknown:
            raise RunError(f"Unknown stage(s) {unknown}: choose from {', '.join(STAGE_NAMES)}.")
        self.stages = [s for s in STAGES if not stages or s.name in stages]
        # absolute: the notebooks run with cwd=notebooks/, where a relative path would land
        root = Path(out_root).resolve() if out_root else paths.ROOT
        sid = self.cfg.survey.id
        self.layout = paths.Layout(root / "data/processed" / sid, root / "reports" / sid)
        self.staging_root = root / "data/.staging"
        self.executor = executor
        self.jobs = jobs or default_jobs()
        self.progress = progress

    def run(self) -> RunResult:
        sid = self.cfg.survey.id
        with survey_lock(self.staging_root, sid):
            recover(self.staging_root, sid, self.layout)
            run_id = dt.datetime.now().strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
            run_dir = self.staging_root / sid / run_id
            staged = paths.Layout(run_dir / "processed", run_dir / "reports")
            self._seed_staging(staged)
            result = RunResult(sid, self.layout)
            started = dt.datetime.now(dt.UTC)
            kernel = kernel_name()
            total = len(self.stages)
            for i, stage in enumerate(self.stages, 1):
                t0 = time.perf_counter()
                self.progress(f"[{i}/{total}] {stage.name} ...")
                try:
                    self._run_stage(stage, staged, kernel)
                except NotebookFailed as f:
                    kept = self._keep_failed(run_dir, staged) / f.executed.relative_to(
                        staged.executed
                    )
                    raise RunError(describe_failure(stage.name, f.nb_file, kept, f.err)) from None
                except BaseException:
                    self._keep_failed(run_dir, staged)
                    raise
                if stage.name == "clean":
                    self._warn(staged)
                if stage.name == "analyse":
                    self._skipped(staged)
                result.stages[stage.name] = round(time.perf_counter() - t0, 3)
                self.progress(
                    f"[{i}/{total}] {stage.name} done in {result.stages[stage.name]:.1f} s"
                )
            self._scan(staged)
            result.manifest = self._manifest(staged, result, started, kernel)
            publish(run_dir, staged, self.layout)
            shutil.rmtree(run_dir, ignore_errors=True)
            result.manifest = self.layout.reports / "manifest.json"
            return result

    def _seed_staging(self, staged: paths.Layout) -> None:
        """A partial run starts from the published outputs so untouched stages carry over."""
        partial = len(self.stages) < len(STAGES)
        for src, dst in (
            (self.layout.processed, staged.processed),
            (self.layout.reports, staged.reports),
        ):
            if partial and src.exists():
                shutil.copytree(src, dst)
            dst.mkdir(parents=True, exist_ok=True)

    def _params(self, staged: paths.Layout) -> dict:
        return {
            "config_path": str(self.config_path),
            "processed_dir": str(staged.processed),
            "reports_dir": str(staged.reports),
        }

    def _run_stage(self, stage: Stage, staged: paths.Layout, kernel: str) -> None:
        import papermill as pm

        params = self._params(staged)
        for nb in stage.notebooks:
            out = staged.executed / nb.file
            try:
                secs = execute(nb, params, out, kernel)
            except pm.PapermillExecutionError as err:
                raise NotebookFailed(nb.file, out, err) from None
            self.progress(f"      {nb.file} {secs:.1f} s")
        if stage.fan_out:
            self._fan_out(stage, stage.fan_out, params, staged, kernel)

    def _fan_out(self, stage, nb: Notebook, params: dict, staged, kernel) -> None:
        folder = staged.executed / "sites"
        sites = self.cfg.site_ids
        for _ in site_reports(nb, params, sites, folder, kernel, self.executor, self.jobs):
            pass

    def _warn(self, staged: paths.Layout) -> None:
        import pandas as pd

        log = staged.clean / "cleaning_log.csv"
        if log.exists():
            for line in cleaning_warnings(pd.read_csv(log, dtype={"wave": str})):
                self.progress(line)

    def _skipped(self, staged: paths.Layout) -> None:
        import pyarrow.parquet as pq  # one file: ParquetFile, without pyarrow.dataset's import

        plan = staged.results / "plan.parquet"
        if plan.exists():
            for line in skipped_analyses(pq.ParquetFile(plan).read().to_pandas()):
                self.progress(line)

    def _scan(self, staged: paths.Layout) -> None:
        from pipelines import privacy

        fingerprints_file = staged.restricted / "name_fingerprints.txt"
        fps = set(fingerprints_file.read_text().split()) if fingerprints_file.exists() else set()
        targets = [p for p in (staged.processed, staged.reports) if p.exists()]
        secret = privacy.load_or_create_secret(privacy.default_secret_path())
        privacy.assert_clean(targets, fingerprints=fps, secret=secret)

    def _manifest(self, staged, result: RunResult, started, kernel) -> Path:
        inputs = {
            str(p.relative_to(self.cfg.base_dir)): sha256(p)
            for w in self.cfg.waves
            for p in self.cfg.wave_files(w)
        }
        manifest = {
            "survey": self.cfg.survey.id,
            "config_file": str(self.config_path.name),
            "started": started.isoformat(timespec="seconds"),
            "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "stages_run": list(result.stages),
            "seconds_per_stage": result.stages,
            "inputs_sha256": inputs,
            "config": config_as_dict(self.cfg),
            "versions": versions(),
            "git_commit": git_commit(),
            "kernel": kernel,
            "platform": platform.platform(),
        }
        path = staged.reports / "manifest.json"
        path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False, default=str))
        return path

    def _keep_failed(self, run_dir: Path, staged: paths.Layout) -> Path:
        """Keep the failed run's executed notebooks for inspection; drop its other outputs."""
        failed = self.staging_root / self.cfg.survey.id / "failed"
        shutil.rmtree(failed, ignore_errors=True)
        if staged.executed.exists():
            shutil.copytree(staged.executed, failed / "executed")
        shutil.rmtree(run_dir, ignore_errors=True)
        return failed / "executed"


class NotebookFailed(Exception):
    """A notebook failed: its file, the executed copy (with the error) and Papermill's error."""

    def __init__(self, nb_file: str, executed: Path, err: BaseException):
        super().__init__(nb_file)
        self.nb_file, self.executed, self.err = nb_file, executed, err
