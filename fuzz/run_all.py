#!/usr/bin/env python3
"""Run every atheris target in turn and print the inputs each executed.

    python fuzz/run_all.py --seconds 3600            # one hour per target
    python fuzz/run_all.py --seconds 120 --targets process,join

For each target: new coverage goes to ``fuzz/work/<target>`` (seeded from the generated corpus
``fuzz/corpus/<target>``, which stays as generated), crash/timeout/OOM inputs to
``fuzz/crashes/<target>/``. One atheris process at a time (``nice``d); run several targets in
parallel by starting several ``fuzz/fuzz_<target>.py`` processes yourself. Exit status 1 if
any target crashed.

Written by hand: a driver around libFuzzer's command line, nothing a library provides.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGETS = sorted(p.stem[len("fuzz_") :] for p in HERE.glob("fuzz_*.py"))


def run(target: str, seconds: int, extra: list[str]) -> tuple[int, bool, float, str]:
    work, crashes = HERE / "work" / target, HERE / "crashes" / target
    work.mkdir(parents=True, exist_ok=True)
    crashes.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        str(HERE / f"fuzz_{target}.py"),
        str(work),
        str(HERE / "corpus" / target),
        f"-max_total_time={seconds}",
        "-timeout=30",
        "-rss_limit_mb=2048",
        "-print_final_stats=1",
        f"-artifact_prefix={crashes}/",
        *extra,
    ]
    t = time.monotonic()
    proc = subprocess.run(
        ["nice", "-n", "10", *cmd], capture_output=True, text=True, check=False, env={**os.environ, "PYTHONHASHSEED": "0"}
    )
    elapsed = time.monotonic() - t
    out = proc.stdout + proc.stderr
    m = re.search(r"stat::number_of_executed_units:\s*(\d+)", out)
    units = int(m.group(1)) if m else -1
    crashed = proc.returncode != 0
    tail = "\n".join(out.strip().splitlines()[-40:]) if crashed else ""
    return units, crashed, elapsed, tail


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=int, default=3600, help="per target (default: one hour)")
    ap.add_argument("--targets", default=",".join(TARGETS))
    ap.add_argument("extra", nargs="*", help="more libFuzzer flags, after --")
    args = ap.parse_args(argv)
    if not (HERE / "corpus").is_dir():
        print("no corpus: run `python fuzz/make_corpus.py` first", file=sys.stderr)
        return 2
    failed = False
    total = 0
    for target in [t for t in args.targets.split(",") if t]:
        units, crashed, elapsed, tail = run(target, args.seconds, args.extra)
        total += max(units, 0)
        status = "CRASH (see fuzz/crashes/%s/)" % target if crashed else "ok"
        print(f"{target:22s} {units:9d} inputs in {elapsed:7.1f}s  {status}", flush=True)
        if crashed:
            failed = True
            print(tail, flush=True)
    print(f"{'total':22s} {total:9d} inputs")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
