"""``mls-pq simulate WORKLOAD.toml``: the command line of the fleet simulation.

Errors (a bad workload file, a missing optional dependency, a scheduler that cannot be
reached) are printed one per line as ``error: ...`` with exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from ..errors import MLSError
from .workload import WorkloadError, load_workload


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Register ``simulate`` on the top-level subparsers of ``mls-pq``."""
    p: argparse.ArgumentParser = sub.add_parser(
        "simulate", help="what a suite costs a whole messaging service (workload file in, costs out)",
        description="Simulate a fleet of MLS groups from a workload file: bytes, CPU, fan-out, joins and "
                    "state per policy (see examples/workloads/).")
    p.add_argument("workload", help="workload TOML file (schema: mls_pq/simulate/workload.py)")
    p.add_argument("--out", default=None, help="directory for simulation.json/.csv/.png")
    p.add_argument("--mode", choices=("calibrated", "exact"), default="calibrated",
                   help="calibrated: size model + fitted time curves (default); exact: real engine for every event")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--workers", type=int, default=None, help="run shards on a local Dask cluster of N processes")
    g.add_argument("--scheduler", default=None, help="run shards on an existing Dask cluster (tcp://HOST:8786)")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: the workload's, else 0)")
    p.add_argument("--scale", type=float, default=1.0, help="multiply every population's group count (e.g. 0.001)")
    p.add_argument("--days", type=float, default=None, help="override the workload's duration")
    p.add_argument("--self-check", type=int, default=None, metavar="K",
                   help="groups per population re-run in exact mode (default: the workload's; 0: none)")
    p.add_argument("--cache-dir", default=None, help="calibration cache (default: ~/.cache/mls-pq/simulate)")
    p.add_argument("--recalibrate", action="store_true", help="ignore cached calibrations")
    p.add_argument("--json", action="store_true", help="print the JSON document instead of the table")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Run the simulation the arguments describe; 2 on any error (one line each)."""
    try:
        return _run(args)
    except WorkloadError as e:
        for prob in e.problems:
            print(f"error: {e.source}: {prob}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        raise
    except (MLSError, OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from .api import simulate

    w = load_workload(args.workload)
    probs = []
    if args.workers is not None and args.workers < 1:
        probs.append("--workers: expected an integer >= 1")
    if args.scale <= 0:
        probs.append("--scale: expected a number > 0")
    if args.days is not None and args.days <= 0:
        probs.append("--days: expected a number > 0")
    if args.self_check is not None and args.self_check < 0:
        probs.append("--self-check: expected an integer >= 0")
    if probs:
        raise WorkloadError(probs, "simulate")
    if args.scale != 1.0:
        w = w.scaled(args.scale)
    if args.days is not None:
        w = replace(w, days=args.days)
    if args.self_check is not None:
        w = replace(w, self_check=replace(w.self_check, groups=args.self_check))
    t0 = time.perf_counter()
    doc = simulate(w, mode=args.mode, seed=args.seed, workers=args.workers, scheduler=args.scheduler,
                   cache_dir=Path(args.cache_dir) if args.cache_dir else None, refresh=args.recalibrate,
                   progress=not args.quiet)
    doc["wall_s"] = time.perf_counter() - t0
    from .report import table, write_all

    if args.json:
        import json

        print(json.dumps(doc, indent=2, default=str))
    else:
        print(table(doc))
    if args.out:
        for note in write_all(doc, Path(args.out)):
            print(f"note: {note}", file=sys.stderr)
        if not args.quiet:
            print(f"wrote {args.out}/simulation.json, .csv" + ("" if not Path(args.out, "simulation.png").exists()
                                                               else ", .png"), file=sys.stderr)
    return 0


__all__ = ["add_parser", "run"]
