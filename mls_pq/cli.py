"""The ``mls-pq`` command line: a thin layer over the library."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from .errors import MLSError


def _suite_row(suite: Any) -> dict[str, Any]:
    return {
        "id": suite.id,
        "hex": f"0x{suite.id:04x}",
        "name": suite.name,
        "kem": suite.kem.name,
        "kdf": suite.kdf.name,
        "aead": suite.aead.name,
        "hash": suite.hash.name,
        "signature": suite.signature.name,
        "security_level": suite.security_level,
        "source": suite.source,
        "profile": suite.profile,
        "sizes": suite.sizes(),
        "backends": suite.backends(),
    }


def cmd_suites(args: argparse.Namespace) -> int:
    from .suites import REGISTRY

    rows = []
    problems = []
    for sid in REGISTRY.ids(args.profile):
        try:
            rows.append(_suite_row(REGISTRY.get(sid, args.profile)))
        except MLSError as e:
            problems.append({"id": sid, "error": str(e)})
    if args.json:
        json.dump(rows, sys.stdout, indent=2)
        print()
    else:
        cols: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
            ("id", lambda r: r["hex"]),
            ("name", lambda r: r["name"]),
            ("KEM", lambda r: r["kem"]),
            ("AEAD", lambda r: r["aead"]),
            ("hash", lambda r: r["hash"]),
            ("signature", lambda r: r["signature"]),
            ("pk", lambda r: str(r["sizes"]["kem_public_key"])),
            ("enc", lambda r: str(r["sizes"]["kem_output"])),
            ("spk", lambda r: str(r["sizes"]["signature_public_key"])),
            ("sig", lambda r: str(r["sizes"]["signature"])),
            ("backends", lambda r: " ".join(f"{k}={v}" for k, v in r["backends"].items() if k in ("kem", "signature"))),
        ]
        cells = [[title for title, _ in cols]] + [[f(r) for _, f in cols] for r in rows]
        widths = [max(len(row[i]) for row in cells) for i in range(len(cols))]
        print(f"profile: {args.profile or REGISTRY.active_profile}")
        for row in cells:
            print("  ".join(c.rjust(w) if c.isdigit() or i in (6, 7, 8, 9) else c.ljust(w)
                            for i, (c, w) in enumerate(zip(row, widths))).rstrip())
        print("\nsizes in bytes: pk = KEM public key, enc = KEM output, spk = signature public key, "
              "sig = signature (maximum)")
    for p in problems:
        print(f"warning: suite 0x{p['id']:04x} unavailable: {p['error']}", file=sys.stderr)
    for err in REGISTRY.plugin_errors:
        print(f"warning: plugin failed to load: {err}", file=sys.stderr)
    return 0


def cmd_vectors_verify(args: argparse.Namespace) -> int:
    from .vectors import verify_file

    results = []
    errors: list[dict[str, str]] = []
    for path in args.files:
        try:
            results.append(verify_file(path, args.kind, profile=args.profile))
        except (MLSError, OSError, ValueError) as e:  # unreadable file or unknown kind: report, go on
            errors.append({"file": str(path), "error": str(e)})
    if args.json:
        json.dump([r.as_dict() for r in results] + errors, sys.stdout, indent=2)
        print()
    else:
        for r in results:
            print(f"{r.file}: kind={r.kind} passed={r.passed} failed={r.failed} skipped={r.skipped}")
            for n in r.notes:  # a check the kind relaxes or qualifies is never silent
                print(f"  note: {n}")
            for c in r.cases:
                if c.status != "passed":
                    print(f"  case {c.index}: {c.status}: {c.reason}")
        for err in errors:
            print(f"{err['file']}: error: {err['error']}", file=sys.stderr)
    if errors:
        return 2
    return 1 if any(r.failed for r in results) else 0


def _parse_suites(spec: list[str], profile: str | None) -> list[int]:
    from .suites import REGISTRY
    from .suites.registry import PQ_SUITES

    ids: list[int] = []
    for item in spec:
        for tok in item.split(","):
            tok = tok.strip()
            if tok == "all":
                ids += REGISTRY.ids(profile)
            elif tok == "pq":
                pq_names = {d.name for _, d in PQ_SUITES}
                ids += [i for i in REGISTRY.ids(profile) if REGISTRY.definition(i, profile).name in pq_names]
            elif tok:
                ids.append(int(tok, 0))
    return list(dict.fromkeys(ids))


def cmd_vectors_generate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .suites import REGISTRY
    from .vectors.generate import available_kinds, file_stem, generate

    suites = [REGISTRY.get(i, args.profile) for i in _parse_suites(args.suite, args.profile)]
    kinds = args.kind or available_kinds()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for k in kinds:
        cases: list[Any] = []
        for n, suite in enumerate(suites):
            cases += generate(k, suite, None if args.seed is None else args.seed * 1000 + n)
        path = out / f"{file_stem(k)}.json"
        path.write_text(json.dumps(cases, indent=2) + "\n")
        print(f"{path}: {len(cases)} cases ({len(suites)} suites)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mls-pq", description="MLS (RFC 9420) with post-quantum cipher suites")
    sub = p.add_subparsers(dest="command", required=True)

    ps = sub.add_parser("suites", help="list every registered cipher suite")
    ps.add_argument("--profile", default=None, help="code-point profile (default: 'default')")
    ps.add_argument("--json", action="store_true", help="machine-readable output")
    ps.set_defaults(func=cmd_suites)

    pv = sub.add_parser("vectors", help="test vectors")
    vsub = pv.add_subparsers(dest="vectors_command", required=True)
    pvv = vsub.add_parser("verify", help="verify mlswg-format vector files")
    pvv.add_argument("files", nargs="+")
    pvv.add_argument("--kind", default=None, help="vector kind (inferred from the file name when omitted)")
    pvv.add_argument("--json", action="store_true")
    pvv.add_argument("--profile", default=None, help="code-point profile the files' suite ids belong to")
    pvv.set_defaults(func=cmd_vectors_verify)
    pvg = vsub.add_parser("generate", help="generate mlswg-format vectors for registered suites")
    pvg.add_argument("--suite", action="append", required=True,
                     help="suite id(s), comma-separated, or 'pq' / 'all'; repeatable")
    pvg.add_argument("--kind", action="append", default=None, help="vector kind (default: every kind available)")
    pvg.add_argument("--out", required=True, help="output directory")
    pvg.add_argument("--seed", type=int, default=None, help="seed for the generator's chosen inputs")
    pvg.add_argument("--profile", default=None)
    pvg.set_defaults(func=cmd_vectors_generate)

    from .bench.cli import add_bench_parser
    from .interop.cli import add_interop_parser

    add_bench_parser(sub)
    add_interop_parser(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except MLSError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `mls-pq suites | head`
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
