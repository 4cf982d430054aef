"""Command line: `dampak run|check|plan|init|export-form|simulate|scan ...` or `python -m
pipelines ...` (see `--help`).

Benchmarks are developer tooling and live outside the package: `make bench` (bench/run.py).
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from pathlib import Path

# Dampak's models are skinny (tens of columns, up to millions of rows): there OpenBLAS's extra
# threads cost more than they save (inclusion models at 200,000 rows: 37.6 s with 2 threads,
# 14.7 s with 1). Set before numpy loads; the notebooks' kernels inherit it; a user's own
# setting wins.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from pipelines import paths  # noqa: E402
from pipelines.errors import DampakError  # noqa: E402
from pipelines.i18n import languages  # noqa: E402


def _run(args) -> int:
    from pipelines.runner import STAGE_NAMES, Run

    stages = None
    if args.stage:
        stages = [s.strip() for part in args.stage for s in part.split(",") if s.strip()]
    run = Run(args.config, stages=stages, out_root=args.out_root, jobs=args.jobs)
    print(
        f"Dampak: survey '{run.cfg.survey.id}', stages {', '.join(s.name for s in run.stages)}"
        f" (of {', '.join(STAGE_NAMES)})"
    )
    result = run.run()
    total = sum(result.stages.values())
    print(
        f"Done in {total:.1f} s. Data: {result.layout.processed}  Reports: {result.layout.reports}"
    )
    return 0


def _check(args) -> int:
    """Everything a run would reject, in one go, writing nothing (see pipelines.check)."""
    from pipelines import check

    return check.main(args.config, args.log)


def _init(args) -> int:
    from pipelines import init
    from pipelines.errors import set_language

    set_language(args.lang)
    result = init.init_survey(args.folder, force=args.force, survey_id=args.id, lang=args.lang)
    init.print_result(result)
    return 0


def _export_form(args) -> int:
    from pipelines import xlsform
    from pipelines.codebook import load_codebook

    cb = load_codebook(args.codebook)
    for path in xlsform.export_form(cb, Path(args.out)):
        print(path)
    return 0


def _simulate(args) -> int:
    from pipelines import simulate

    return simulate.main(args.rest) or 0


def _scan(args) -> int:
    from pipelines import privacy

    privacy.assert_clean([Path(p) for p in args.paths])
    print("No personal data found.")
    return 0


def _prog() -> str:
    """The name the command was called by: the `dampak` script or `python -m pipelines`."""
    return "dampak" if Path(sys.argv[0]).stem == "dampak" else "python -m pipelines"


def _plan(args) -> int:
    from pipelines import planning

    return planning.main(args.rest) or 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=_prog(), description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run the pipeline on a survey config")
    r.add_argument("config", nargs="?", default=str(paths.SAMPLE_CONFIG))
    r.add_argument("--stage", action="append", help="only these stages (ingest,clean,...)")
    r.add_argument("--out-root", default=None, help="write data/ and reports/ under this folder")
    r.add_argument("--jobs", type=int, default=None, help="parallel site reports")
    r.set_defaults(func=_run)
    k = sub.add_parser("check", help="read and clean a survey's exports in memory, write nothing")
    k.add_argument("config")
    k.add_argument("--log", default=None, help="also write the cleaning log (CSV) here")
    k.set_defaults(func=_check)
    i = sub.add_parser(
        "init", help="write survey.yaml (and a draft codebook) for a folder of exports"
    )
    i.add_argument("folder", help="the folder under data/raw/ holding the exports")
    i.add_argument("--force", action="store_true", help="replace survey.yaml/codebook.yaml")
    i.add_argument("--id", default=None, help="survey id (default: from the folder name)")
    langs = list(languages())  # the folders of pipelines/locales
    i.add_argument("--lang", choices=langs, default="id", help="messages language")
    i.set_defaults(func=_init)
    f = sub.add_parser("export-form", help="codebook -> XLSForm and a question list (Google Forms)")
    f.add_argument("codebook", help="a codebook YAML or a bundled instrument (tpbis)")
    f.add_argument("--out", required=True, help="folder to write form.xlsx and questions.md/csv")
    f.set_defaults(func=_export_form)
    s = sub.add_parser("simulate", help="generate a synthetic survey", add_help=False)
    s.add_argument("rest", nargs=argparse.REMAINDER)
    s.set_defaults(func=_simulate)
    c = sub.add_parser("scan", help="scan files or folders for personal data")
    c.add_argument("paths", nargs="+")
    c.set_defaults(func=_scan)
    n = sub.add_parser("plan", help="respondents per library for the next wave", add_help=False)
    n.add_argument("rest", nargs=argparse.REMAINDER)
    n.set_defaults(func=_plan)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    passthrough = {"simulate": _simulate, "plan": _plan}
    if argv and argv[0] in passthrough:  # these parse their own options
        args = argparse.Namespace(func=passthrough[argv[0]], rest=argv[1:])
    else:
        args = parser().parse_args(argv)
    try:
        return args.func(args)
    except DampakError as e:
        print(f"ERROR: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Stopped. The previous outputs are unchanged.", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001 - the last line of defence: no bare traceback for staff
        log = paths.STAGING / "last-error.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(traceback.format_exc())
        print(
            f"ERROR: unexpected problem ({type(e).__name__}: {e}). The previous outputs are "
            f"unchanged. Details for a developer: {log}",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
