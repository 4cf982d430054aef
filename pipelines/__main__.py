"""Command line: `python -m pipelines run|simulate|scan|bench ...` (see `--help`)."""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

from pipelines import paths
from pipelines.errors import DampakError


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


def _simulate(args) -> int:
    from pipelines import simulate

    return simulate.main(args.rest) or 0


def _scan(args) -> int:
    from pipelines import privacy

    privacy.assert_clean([Path(p) for p in args.paths])
    print("No personal data found.")
    return 0


def _bench(args) -> int:
    from pipelines import bench

    return bench.main(args.rest) or 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m pipelines", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run the pipeline on a survey config")
    r.add_argument("config", nargs="?", default=str(paths.SAMPLE_CONFIG))
    r.add_argument("--stage", action="append", help="only these stages (ingest,clean,...)")
    r.add_argument("--out-root", default=None, help="write data/ and reports/ under this folder")
    r.add_argument("--jobs", type=int, default=None, help="parallel site reports")
    r.set_defaults(func=_run)
    s = sub.add_parser("simulate", help="generate a synthetic survey", add_help=False)
    s.add_argument("rest", nargs=argparse.REMAINDER)
    s.set_defaults(func=_simulate)
    c = sub.add_parser("scan", help="scan files or folders for personal data")
    c.add_argument("paths", nargs="+")
    c.set_defaults(func=_scan)
    b = sub.add_parser("bench", help="benchmark the pipeline", add_help=False)
    b.add_argument("rest", nargs=argparse.REMAINDER)
    b.set_defaults(func=_bench)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    passthrough = {"simulate": _simulate, "bench": _bench}
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
