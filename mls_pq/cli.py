"""The ``mls-pq`` command line: a thin layer over the library."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
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
        header = f"{'id':>6}  {'name':<55} {'KEM':<16} {'AEAD':<18} {'hash':<7} {'signature':<18} {'pk':>5} {'enc':>5} {'spk':>5} {'sig':>5}"
        print(f"profile: {args.profile or REGISTRY.active_profile}")
        print(header)
        for r in rows:
            z = r["sizes"]
            print(
                f"{r['hex']:>6}  {r['name']:<55} {r['kem']:<16} {r['aead']:<18} {r['hash']:<7} {r['signature']:<18} "
                f"{z['kem_public_key']:>5} {z['kem_output']:>5} {z['signature_public_key']:>5} {z['signature']:>5}"
            )
        print("\nsizes in bytes: pk = KEM public key, enc = KEM output, spk = signature public key, sig = signature (max)")
        print("backends: " + "; ".join(sorted({f"{k}={v}" for r in rows for k, v in r["backends"].items()})))
    for p in problems:
        print(f"warning: suite 0x{p['id']:04x} unavailable: {p['error']}", file=sys.stderr)
    for err in REGISTRY.plugin_errors:
        print(f"warning: plugin failed to load: {err}", file=sys.stderr)
    return 0


def cmd_vectors_verify(args: argparse.Namespace) -> int:
    from .vectors import verify_file

    results = []
    for path in args.files:
        try:
            results.append(verify_file(path, args.kind))
        except (MLSError, OSError, ValueError) as e:
            print(f"error: {path}: {e}", file=sys.stderr)
            return 2
    failed = any(r.failed for r in results)
    if args.json:
        json.dump([r.as_dict() for r in results], sys.stdout, indent=2)
        print()
    else:
        for r in results:
            print(f"{r.file}: kind={r.kind} passed={r.passed} failed={r.failed} skipped={r.skipped}")
            for c in r.cases:
                if c.status != "passed":
                    print(f"  case {c.index}: {c.status}: {c.reason}")
    return 1 if failed else 0


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
    pvv.set_defaults(func=cmd_vectors_verify)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except MLSError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
