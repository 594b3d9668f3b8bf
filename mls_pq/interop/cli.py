"""``mls-pq interop ts-mls``: run the interop matrix against a live ts-mls (Node.js).

``add_interop_parser(subparsers)`` adds the ``interop`` command to the ``mls-pq`` parser.
The work is :mod:`mls_pq.interop.harness`'s; this module only parses and prints.
Exit status: 0 when every scenario passed, 1 when one failed, 2 when ts-mls could not be
run (no Node.js, npm install failure) or the arguments were wrong.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..errors import MLSError


def _parse_suites(spec: list[str] | None) -> list[int] | None:
    if not spec:
        return None
    ids: list[int] = []
    for item in spec:
        for tok in item.split(","):
            tok = tok.strip()
            if tok == "all":
                return None
            if tok:
                try:
                    ids.append(int(tok, 0))
                except ValueError:
                    raise MLSError(f"--suites: {tok!r} is not a suite id") from None
    return list(dict.fromkeys(ids))


#: column titles of the scenario parts (harness.PARTS)
PART_HEADERS = {
    "welcome": "welcome",
    "commits": "commits",
    "app": "app",
    "psk": "psk",
    "ext_join_tsmls": "ext-join (ts-mls joins)",
    "ext_join_mlspq": "ext-join (mls-pq joins)",
}


def _print_rows(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())


def _print_table(results: list[Any], directions: list[str], info: dict[str, Any]) -> None:
    from .harness import PARTS, PROFILE

    print(f"ts-mls {info.get('ts_mls', '?')} (node {info.get('node', '?')}) <-> mls-pq, profile {PROFILE}")
    print("direction A>B: A creates the group and B's member joins first; see mls_pq/interop/harness.py\n")
    by_suite: dict[int, dict[str, Any]] = {}
    names: dict[int, str] = {}
    for r in results:
        by_suite.setdefault(r.suite, {})[r.direction] = r
        names[r.suite] = r.suite_name

    def cell(r: Any) -> str:
        if r is None:
            return "-"
        if r.status == "passed":
            star = "*" if r.deviations else ""
            return f"passed{star} ({r.epochs} epochs, {r.seconds:.1f}s)"
        return str(r.status).upper()

    header = ["suite", "name", *directions]
    rows = [[f"0x{s:04x}", names[s], *(cell(by_suite[s].get(d)) for d in directions)] for s in by_suite]
    _print_rows(header, rows)

    print("\nscenario parts (welcome, commits, app: steps 1-12; psk: 13-14; external joins: 15-18):")
    header = ["suite", "direction", *(PART_HEADERS[p] for p in PARTS)]
    rows = [
        [f"0x{r.suite:04x}", r.direction, *(r.parts.get(p, "-") if r.parts else "-" for p in PARTS)] for r in results
    ]
    _print_rows(header, rows)

    failed = [r for r in results if r.status == "failed"]
    skipped = [r for r in results if r.status == "skipped"]
    passed = sum(r.status == "passed" for r in results)
    deviating = sum(bool(r.status == "passed" and r.deviations) for r in results)
    tail = f" ({deviating} with a deviation: *)" if deviating else ""
    print(f"\n{passed} passed{tail}, {len(failed)} failed, {len(skipped)} skipped")
    shown = dict.fromkeys((part, r.details.get(part, "")) for r in results for part in r.deviations)
    for part, why in shown:
        print(f"* {PART_HEADERS[part]}: {why}")
    for r in failed:
        print(f"\nFAILED 0x{r.suite:04x} {r.suite_name} [{r.direction}]")
        print(f"  step:   {r.step}")
        if r.field:
            print(f"  first differing field: {r.field}")
        print(f"  detail: {r.detail}")
    for r in skipped:
        print(f"skipped 0x{r.suite:04x} [{r.direction}]: {r.detail}")
    notes = sorted({n for r in results for n in r.observations})
    if notes:
        print("\nobserved deviations (accepted by the ts-mls profile):")
        for n in notes:
            print(f"  - {n}")


def cmd_interop_tsmls(args: argparse.Namespace) -> int:
    from .harness import run_matrix
    from .tsmls import TsMlsPeer

    suites = _parse_suites(args.suites)
    directions = list(DIRECTIONS) if args.direction == "both" else [args.direction]
    if suites is not None:  # checked before Node.js and ts-mls are started (or installed)
        from ..suites import REGISTRY
        from .harness import PROFILE

        for s in suites:
            REGISTRY.definition(s, PROFILE)  # unknown id: UnsupportedCipherSuite, exit 2
    with TsMlsPeer() as peer:

        def progress(r: Any) -> None:
            if args.progress:
                print(f"0x{r.suite:04x} {r.direction}: {r.status}", file=sys.stderr, flush=True)

        results = run_matrix(peer, suites, directions, progress=progress)
        info = dict(peer.info)
    if args.json:
        json.dump(
            {
                "ts_mls": info.get("ts_mls"),
                "node": info.get("node"),
                "profile": "ts-mls-1.6",
                "results": [r.as_dict() for r in results],
            },
            sys.stdout,
            indent=2,
        )
        print()
    else:
        _print_table(results, directions, info)
    return 1 if any(r.status == "failed" for r in results) else 0


#: harness.DIRECTIONS, repeated so that building the parser imports no engine code
DIRECTIONS = ("mls-pq>ts-mls", "ts-mls>mls-pq")


def add_interop_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``interop ts-mls`` to the ``mls-pq`` sub-command parsers."""
    p = subparsers.add_parser("interop", help="interoperability runs against other MLS implementations")
    sub = p.add_subparsers(dest="interop_command", required=True)
    t = sub.add_parser(
        "ts-mls",
        help="run groups together with ts-mls 1.6 (needs Node.js >= 20; installs ts-mls from npm on first use)",
        description="Exchange real MLS wire bytes with ts-mls per cipher suite and direction: Welcomes, "
        "commits (PublicMessage and PrivateMessage), adds, removes, proposals by reference, application "
        "messages, external-PSK commits and external joins from either side's GroupInfo; both sides "
        "must agree on every epoch's authenticator and exporter output.",
    )
    t.add_argument(
        "--suites",
        action="append",
        default=None,
        help="suite ids (comma-separated, repeatable) in the ts-mls-1.6 profile, or 'all' "
        "(default: every suite both implement: 1-7 and 77-88)",
    )
    t.add_argument(
        "--direction",
        choices=["both", *DIRECTIONS],
        default="both",
        help="which implementation creates the group (default: both)",
    )
    t.add_argument("--json", action="store_true", help="machine-readable output (with per-step logs)")
    t.add_argument("--progress", action="store_true", help="print each result to stderr as it completes")
    t.set_defaults(func=cmd_interop_tsmls)
    return p  # type: ignore[no-any-return]
