"""``mls-pq bench``: the benchmark command (wired into :mod:`mls_pq.cli` by
:func:`add_bench_parser`).

Example::

    mls-pq bench                                  # default grid, < 2 minutes
    mls-pq bench --suites 1,0xF001 --sizes 64,1024,8192 --shape both --reps 5 --out out/
    mls-pq bench --suites all --ops update_commit,process_far,sizes --json > results.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .config import (
    DEFAULT_PAYLOAD,
    DEFAULT_REPS,
    DEFAULT_SHAPES,
    DEFAULT_SIZES,
    DEFAULT_SUITES,
    SHAPES,
    TIME_OPS,
    BenchConfig,
)


def _int_list(spec: list[str]) -> list[int]:
    out: list[int] = []
    for item in spec:
        out += [int(t, 0) for t in item.split(",") if t.strip()]
    return out


def _ops(spec: list[str] | None) -> list[str]:
    if not spec:
        return [*TIME_OPS, "sizes"]
    out: list[str] = []
    for item in spec:
        for t in item.split(","):
            t = t.strip()
            if t == "all":
                out += [*TIME_OPS, "sizes"]
            elif t == "times":
                out += list(TIME_OPS)
            elif t:
                out.append(t)
    return list(dict.fromkeys(out))


def add_bench_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``bench`` sub-command to an ``argparse`` sub-parsers object."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "bench",
        help="benchmark MLS operations per cipher suite and group size (bytes, ms, crypto floor)",
        description="Measure sizes and times of MLS operations over the real engine, per suite, group size N "
        "and tree shape; count primitive calls for the crypto floor; compare sizes with the analytic model.",
    )
    p.add_argument("--suites", action="append", default=None,
                   help="suite ids, comma-separated, or 'all' / 'pq' (default: every suite registered in the "
                        "profile: 0x0001-0x0007, 0xF001-0xF00B and installed plugin suites)")
    p.add_argument("--sizes", action="append", default=None,
                   help=f"group sizes N, comma-separated (default: {','.join(map(str, DEFAULT_SIZES))})")
    p.add_argument("--shape", choices=[*SHAPES, "both"], default=None,
                   help=f"tree shape: sparse (right after a bulk add), populated (committer's copath full) or both "
                        f"(default: {'/'.join(DEFAULT_SHAPES)})")
    p.add_argument("--ops", action="append", default=None,
                   help=f"operations, comma-separated: {', '.join(TIME_OPS)}, sizes; or 'times' / 'all' "
                        "(default: all)")
    p.add_argument("--reps", type=int, default=DEFAULT_REPS, help=f"timed repetitions per operation "
                   f"(at least; sub-millisecond operations get more) (default: {DEFAULT_REPS})")
    p.add_argument("--target", type=float, default=5.0, metavar="PERCENT",
                   help="adaptive repetitions: repeat until the median is known to ±PERCENT (95%% confidence "
                        "interval) or the --budget per figure is spent (default: 5)")
    p.add_argument("--budget", type=float, default=0.5, metavar="SECONDS",
                   help="time budget per figure for the adaptive repetitions (default: 0.5)")
    p.add_argument("--no-interleave", action="store_true",
                   help="do not re-measure ratios to the baseline suite interleaved in time (A B A B) at the "
                        "largest N; ratios then come from separate runs")
    p.add_argument("--wide", action="store_true", help="every column in the terminal tables (default: fit 100 columns)")
    p.add_argument("--warmup", type=int, default=1, help="untimed warm-up runs (default: 1)")
    p.add_argument("--payload", type=int, default=DEFAULT_PAYLOAD, help="application message payload octets")
    p.add_argument("--no-floor", action="store_true", help="skip primitive counting and the crypto floor")
    p.add_argument("--warm-caches", action="store_true",
                   help="keep the crypto adapters' parsed-key caches between repetitions (steady state); default: "
                        "cleared before every timed run (first-time cost), unit times measured the same way")
    p.add_argument("--extrapolate", type=int, action="append", default=None,
                   help="also give model sizes at this N (default: 100000; 0 disables)")
    p.add_argument("--profile", default=None, help="code-point profile of the suite ids")
    p.add_argument("--out", default="bench-results", help="output directory (default: ./bench-results)")
    p.add_argument("--no-plots", action="store_true", help="do not write PNG plots")
    p.add_argument("--json", action="store_true", help="print the results JSON to stdout instead of tables")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.add_argument("--serial", action="store_true",
                   help="build every group in this process (default with >= 2 CPUs: a second process builds the "
                        "next groups while this one measures; timings are always taken one at a time here)")
    p.add_argument("--compare", choices=["ts-mls"], default=None,
                   help="run the same scenario (sparse shape) in ts-mls 1.6 via Node.js >= 20 (installed from npm "
                        "on first use) for every shared suite (default: 1-7, 77-88; sizes default 2,16,64) and "
                        "report mls-pq/ts-mls ratios and size agreement; writes compare.json/compare.csv")
    p.set_defaults(func=cmd_bench)
    return p


def config_from_args(args: argparse.Namespace) -> BenchConfig:
    if args.suites:
        from ..cli import _parse_suites

        suites = _parse_suites(args.suites, args.profile)
    else:
        suites = list(DEFAULT_SUITES or ())  # empty: every registered suite of the profile
    shapes = list(SHAPES) if args.shape == "both" else [args.shape] if args.shape else list(DEFAULT_SHAPES)
    ext = [n for n in (args.extrapolate or [100_000]) if n > 0]
    return BenchConfig(
        suites=suites,
        sizes=sorted(set(_int_list(args.sizes))) if args.sizes else list(DEFAULT_SIZES),
        shapes=shapes,
        ops=_ops(args.ops),
        reps=args.reps,
        warmup=args.warmup,
        payload=args.payload,
        count=not args.no_floor,
        cold=not args.warm_caches,
        profile=args.profile,
        extrapolate=ext,
        build_ahead=not getattr(args, "serial", False),
        target=getattr(args, "target", 5.0) / 100,
        budget=getattr(args, "budget", 0.5),
        interleave=not getattr(args, "no_interleave", False),
    )


class _Progress:
    """A rich progress bar on stderr if rich is installed, else one line per step."""

    def __init__(self, total: int, quiet: bool) -> None:
        self.quiet = quiet
        self.bar: Any = None
        self.done = 0
        self.total = total
        if quiet:
            return
        try:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            # no auto-refresh thread: it would take the GIL in the middle of timed runs
            self.bar = Progress(TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(),
                                TimeElapsedColumn(), console=Console(stderr=True), transient=True,
                                auto_refresh=False)
            self.task = self.bar.add_task("bench", total=total)
            self.bar.start()
        except ImportError:
            self.bar = None

    def __call__(self, desc: str, advance: int) -> None:
        if self.quiet:
            return
        self.done += advance
        if self.bar is not None:
            self.bar.update(self.task, description=desc, advance=advance, refresh=True)
        elif advance:
            print(f"[{self.done}/{self.total}] {desc}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def cmd_bench(args: argparse.Namespace) -> int:
    if getattr(args, "compare", None):
        from .compare import cmd_compare

        return cmd_compare(args)
    try:
        from . import plots, report
        from .runner import run
    except ImportError as e:  # numpy is the one hard requirement of the benchmark
        print(f"error: {e}; install the benchmark extra: pip install 'mls-pq[bench]'", file=sys.stderr)
        return 2

    try:
        config = config_from_args(args)
        config.validate()
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    total = len(config.suites) * len(config.sizes) * len(config.shapes)
    prog = _Progress(total, args.quiet or args.json and not sys.stderr.isatty())
    try:
        doc = run(config, progress=prog)
    finally:
        prog.close()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report.write_json(doc, out / "results.json")
    report.write_csv(doc, out / "results.csv")
    written = [out / "results.json", out / "results.csv"]
    if not args.no_plots:
        if plots.available():
            written += plots.write_plots(doc, out)
        else:
            print("note: matplotlib is not installed (pip install 'mls-pq[bench]'): no plots", file=sys.stderr)
    from .reliability import summary_line

    verdict = summary_line(doc["rows"], doc.get("reliability"))
    if args.json:
        json.dump(doc, sys.stdout, indent=1, default=str)
        print()
        if verdict:
            print(verdict, file=sys.stderr)
        return 0
    if sys.stdout.isatty():
        try:
            report.render_rich(doc, wide=args.wide)
        except ImportError:
            print(report.render_plain(doc, wide=args.wide))
    else:  # piped or redirected: plain text, never wrapped to a guessed width
        print(report.render_plain(doc, wide=args.wide))
    print("wrote " + ", ".join(str(p) for p in written))
    if verdict:  # the last line: the reliability verdict
        print(verdict)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point: ``python -m mls_pq.bench.cli``."""
    parser = argparse.ArgumentParser(prog="mls-pq")
    sub = parser.add_subparsers(dest="command", required=True)
    add_bench_parser(sub)
    args = parser.parse_args(["bench", *(sys.argv[1:] if argv is None else argv)])
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["add_bench_parser", "cmd_bench", "config_from_args"]
