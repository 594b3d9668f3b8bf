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
import math
import sys
import time
from pathlib import Path
from typing import Any

from ..cliutil import Parser, UsageError, check_out_dir, fail, parse_int_list, parse_sizes, parse_suites
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


#: above this group size a run needs --allow-large (it prints an estimate first)
LARGE_N = 20_000


def _int_list(spec: list[str]) -> list[int]:
    return parse_int_list(spec, "--sizes")


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
            elif t in TIME_OPS or t == "sizes":
                out.append(t)
            elif t:
                raise UsageError(f"--ops: unknown operation {t!r}; valid: {', '.join(TIME_OPS)}, sizes, times, all")
    return list(dict.fromkeys(out))


def add_bench_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``bench`` sub-command to an ``argparse`` sub-parsers object."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "bench",
        help="benchmark MLS operations per cipher suite and group size (bytes, ms, crypto floor)",
        description="Measure sizes and times of MLS operations over the real engine, per suite, group size N "
        "and tree shape; count primitive calls for the crypto floor; compare sizes with the analytic model.",
    )
    p.add_argument("diff", nargs="*", metavar="diff A.json B.json",
                   help="compare two results.json files figure by figure (change and its significance)")
    p.add_argument("--suites", action="append", default=None,
                   help="suites, comma-separated: ids (1, 0xF001), names or aliases, case-insensitive (suite1, "
                        "x-wing, mlkem768, mldsa65, a full MLS_... name), or 'all' / 'pq' (default: every suite "
                        "registered in the profile: 0x0001-0x0007, 0xF001-0xF00B and installed plugin suites)")
    p.add_argument("--at", type=int, default=None, metavar="N",
                   help="one-screen answer for a group of N members: each suite's bytes and time relative to "
                        "suite 1 and to --baseline (runs the largest size N only, unless --sizes is given)")
    p.add_argument("--baseline", default=None, metavar="SUITE",
                   help="the suite the --at table (and every ratio) is relative to besides suite 1")
    p.add_argument("--allow-large", action="store_true",
                   help=f"run group sizes above {LARGE_N:,} (prints an estimate of the time and memory first)")
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
                   help="time budget per figure for the adaptive repetitions beyond the first --reps runs "
                        "(default: 0.5)")
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
    p.add_argument("--combiner", action="append", default=None, metavar="T+PQ",
                   help="APQ-MLS combiner (draft-ietf-mls-combiner): traditional+PQ suite pairs, comma-separated "
                        "(e.g. 0x0001+0xF006; mode 1 when the PQ suite signs with ML-DSA): FULL and PARTIAL commit "
                        "bytes and times, Welcome pair, join and the cost per commit for a FULL commit every k "
                        "commits, beside the --suites (default: 0xF001 X-Wing and 0x0001); writes combiner.json")
    p.add_argument("--k", action="append", default=None, metavar="K",
                   help="with --combiner: amortization periods, comma-separated (default: 1,10,100)")
    p.add_argument("--cpu-time", action="store_true",
                   help="with --combiner: base the tables and the cost per commit on this process's CPU time per "
                        "run instead of wall-clock time (for a machine shared with other processes; both are in "
                        "the JSON)")
    p.set_defaults(func=cmd_bench)
    return p


def config_from_args(args: argparse.Namespace) -> BenchConfig:
    """The run's configuration; raises :class:`~mls_pq.cliutil.UsageError` for a wrong argument."""
    if args.suites:
        suites = parse_suites(args.suites, args.profile)
    else:
        suites = list(DEFAULT_SUITES or ())  # empty: every registered suite of the profile
    if getattr(args, "baseline", None):
        (base,) = parse_suites([args.baseline], args.profile)[:1]
        if suites and base not in suites:
            suites = [*suites, base]
        elif not suites:
            suites = [*parse_suites(["all"], args.profile)]
    shapes = list(SHAPES) if args.shape == "both" else [args.shape] if args.shape else list(DEFAULT_SHAPES)
    ext = [n for n in (args.extrapolate or [100_000]) if n > 0]
    if args.sizes and getattr(args, "at", None) is not None:
        sizes = parse_sizes([*args.sizes, str(args.at)])  # the --at size is always measured
    elif args.sizes:
        sizes = parse_sizes(args.sizes)
    elif getattr(args, "at", None) is not None:
        sizes = parse_sizes([str(args.at)])
    else:
        sizes = list(DEFAULT_SIZES)
    if getattr(args, "at", None) is not None and args.at < 2:
        raise UsageError(f"--at: the group size must be an integer >= 2, got {args.at}")
    for flag, v, lo in (("--reps", args.reps, 1), ("--warmup", args.warmup, 0), ("--payload", args.payload, 0)):
        if v < lo:
            raise UsageError(f"{flag}: must be >= {lo}, got {v}")
    if not 0 < getattr(args, "target", 5.0) < 100:
        raise UsageError(f"--target: a percentage between 0 and 100, got {args.target}")
    if getattr(args, "budget", 0.5) < 0:
        raise UsageError(f"--budget: seconds >= 0, got {args.budget}")
    cfg = BenchConfig(
        suites=suites,
        sizes=sizes,
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
    if getattr(args, "baseline", None):
        cfg.baseline = parse_suites([args.baseline], args.profile)[0]
    return cfg


def estimate(config: BenchConfig) -> str:
    """A rough estimate of a large run, scaled from a measured 10 000-member run (bench/README.md:
    building one group took 11-38 s and the run's main process peaked at 1.9 GB with a 62 MiB
    tree): time ∝ N per suite, memory ∝ the largest tree (from the size model)."""
    from ..suites import get_suite
    from .model import SuiteSizes, model_sizes

    n = max(config.sizes)
    trees = []
    for sid in config.suites:
        t = model_sizes(SuiteSizes.of(get_suite(sid, config.profile)), n, "populated")["ratchet_tree"]
        trees.append(t if t is not None else math.inf)
    mem = 30 * max(trees)
    secs = len(config.suites) * (n / 10_000) * 25
    mem_txt = "more than the MLS vector limit allows (not encodable)" if math.isinf(mem) else f"{mem / 2**30:.1f} GB"
    return (f"N = {n:,} over {len(config.suites)} suites: roughly {secs / 60:.0f} min and {mem_txt} of memory "
            "(scaled from a 10 000-member run; rough)")


class _Progress:
    """Progress on stderr with an ETA: a rich bar if rich is installed, else one line per
    step. Steps are weighted by N (building and measuring a group grows about linearly
    with N), so the ETA comes from the measured rate of the steps done so far."""

    def __init__(self, config: BenchConfig, quiet: bool) -> None:
        self.quiet = quiet
        self.bar: Any = None
        self.done = 0
        self.total = len(config.suites) * len(config.sizes) * len(config.shapes)
        self.weight_total = len(config.suites) * len(config.shapes) * sum(self._w(n) for n in config.sizes)
        self.weight_done = 0.0
        self.t0 = time.perf_counter()
        if quiet:
            return
        try:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            # no auto-refresh thread: it would take the GIL in the middle of timed runs
            self.bar = Progress(TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(),
                                TimeElapsedColumn(), TextColumn("{task.fields[eta]}"), console=Console(stderr=True),
                                transient=True, auto_refresh=False)
            self.task = self.bar.add_task("bench", total=self.total, eta="")
            self.bar.start()
        except ImportError:
            self.bar = None

    @staticmethod
    def _w(n: int) -> float:
        return 20.0 + n

    def eta(self) -> str:
        if self.weight_done <= 0:
            return "ETA after the first group"
        left = (time.perf_counter() - self.t0) / self.weight_done * (self.weight_total - self.weight_done)
        return f"about {left / 60:.0f} min left" if left >= 90 else f"about {left:.0f} s left"

    def __call__(self, desc: str, advance: int) -> None:
        if self.quiet:
            return
        self.done += advance
        if advance:
            n = next((int(t[2:]) for t in desc.split() if t.startswith("N=") and t[2:].isdigit()), 0)
            self.weight_done += advance * self._w(n)
        if self.bar is not None:
            self.bar.update(self.task, description=desc, advance=advance, eta=self.eta(), refresh=True)
        elif advance:
            print(f"[{self.done}/{self.total}] {desc} done; {self.eta()}", file=sys.stderr, flush=True)
        elif desc.endswith("build"):  # a large group takes a while to build: say what is going on
            print(f"[{self.done}/{self.total}] building the {desc.removesuffix(' build')} group (not timed)…",
                  file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def cmd_bench(args: argparse.Namespace) -> int:
    if args.diff:
        from .diff import cmd_diff

        return cmd_diff(args.diff)
    if getattr(args, "combiner", None):
        from .combiner import cmd_combiner

        return cmd_combiner(args)
    if getattr(args, "compare", None):
        from .compare import cmd_compare

        return cmd_compare(args)
    # every argument is checked before any work (and before importing numpy)
    config = config_from_args(args)
    try:
        config.validate()
    except ValueError as e:
        raise UsageError(str(e)) from None
    out = check_out_dir(args.out)
    if max(config.sizes) > LARGE_N and not args.allow_large:
        raise UsageError(f"--sizes: {estimate(config)}; pass --allow-large to run it")
    try:
        from . import plots, report
        from .reliability import summary_line
        from .runner import run
    except ImportError as e:  # numpy is the one hard requirement of the benchmark
        return fail(f"{e}; install the benchmark extra: pip install 'mls-pq[bench]'")
    if max(config.sizes) > LARGE_N and not args.quiet:
        print(f"note: {estimate(config)}", file=sys.stderr)
    prog = _Progress(config, args.quiet or args.json and not sys.stderr.isatty())
    try:
        doc = run(config, progress=prog)
    finally:
        prog.close()
    out.mkdir(parents=True, exist_ok=True)
    report.write_json(doc, out / "results.json")
    report.write_csv(doc, out / "results.csv")
    written = [out / "results.json", out / "results.csv"]
    if not doc.get("complete", True):  # Ctrl-C: the partial results are written, marked incomplete
        print(f"mls-pq: interrupted: partial results (marked incomplete) in {out / 'results.json'}",
              file=sys.stderr)
        return 130
    if not args.no_plots:
        if plots.available():
            written += plots.write_plots(doc, out)
        else:
            print("note: matplotlib is not installed (pip install 'mls-pq[bench]'): no plots", file=sys.stderr)
    verdict = summary_line(doc["rows"], doc.get("reliability"))
    if args.json:
        json.dump(doc, sys.stdout, indent=1, default=str)
        print()
        if verdict:
            print(verdict, file=sys.stderr)
        return 0
    if getattr(args, "at", None) is not None:
        from .at import render_at

        print(render_at(doc, args.at, config.baseline))
    elif sys.stdout.isatty():
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
    """Stand-alone entry point: ``python -m mls_pq.bench`` (the same as ``mls-pq bench``)."""
    parser = Parser(prog="mls-pq")
    sub = parser.add_subparsers(dest="command", required=True)
    add_bench_parser(sub)
    try:
        args = parser.parse_args(["bench", *(sys.argv[1:] if argv is None else argv)])
        return int(args.func(args))
    except UsageError as e:
        return fail(str(e))
    except KeyboardInterrupt:
        print("mls-pq: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["add_bench_parser", "cmd_bench", "config_from_args"]
