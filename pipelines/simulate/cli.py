"""Command line: ``python -m pipelines simulate --n 2000 --seed 2025 --out DIR``."""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

from .generate import simulate
from .writers import write, write_config


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: ``python -m pipelines simulate --n 2000 --seed 2025 --sites 14 --out DIR``."""
    ap = argparse.ArgumentParser(
        prog="python -m pipelines simulate",
        description="Write a synthetic, messy TPBIS survey (two waves) and its planted truth.",
    )
    ap.add_argument("--n", type=int, default=2000, help="rows per wave (default 2000)")
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument(
        "--sites",
        type=int,
        default=None,
        help="library sites: up to 14 = the real Kota Solok ones, more = synthetic extras",
    )
    ap.add_argument("--panel-share", type=float, default=0.5)
    ap.add_argument("--start-year", type=int, default=2025)
    ap.add_argument("--out", default="data/raw/solok")
    ap.add_argument("--formats", default="csv,xlsx,sav", help="comma-separated: csv,xlsx,sav")
    ap.add_argument("--prefix", default="solok")
    ap.add_argument("--config", action="store_true", help="also write the survey YAML configs")
    ap.add_argument("--overwrite-config", action="store_true")
    args = ap.parse_args(argv)
    formats = tuple(f.strip() for f in args.formats.split(",") if f.strip())
    t0 = time.perf_counter()
    sim = simulate(args.n, args.seed, args.sites, args.panel_share, args.start_year)
    t1 = time.perf_counter()
    paths = write(sim, args.out, formats, args.prefix)
    if args.config:
        paths += write_config(args.out, sim, args.prefix, formats, args.overwrite_config)
    t2 = time.perf_counter()
    for p in paths:
        print(f"{p}  ({p.stat().st_size / 1e6:.2f} MB)")
    print(f"simulated in {t1 - t0:.1f}s, written in {t2 - t1:.1f}s")
    return 0
