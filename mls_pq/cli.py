"""The ``mls-pq`` command line: a thin layer over the library.

Exit status: 0 success; 1 a vector case failed (``vectors verify``) or an interop scenario
failed; 2 a usage error or an unusable input (one line on stderr, never a traceback);
130 interrupted by Ctrl-C (one line; ``bench`` writes its partial results first).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from .version import __version__
from .cliutil import Parser, UsageError, check_out_dir, fail, parse_suites
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


#: the JSON written by ``vectors verify --json`` (also shown by ``--help``)
VERIFY_JSON_SCHEMA = """--json prints a list with one object per file:
  {"file": str, "kind": str, "passed": int, "failed": int, "skipped": int,
   "notes": [str], "cases": [{"index": int, "status": "passed"|"failed"|"skipped", "reason": str}]}
or, for a file that could not be verified at all, {"file": str, "error": str}.
exit status: 0 every case passed or was skipped, 1 a case failed, 2 a file could not be verified."""


def _verify_one(path: str, kind: str | None, profile: str | None) -> Any:
    """One file's result, or raises UsageError with one sentence about the file."""
    import os

    from .vectors import verify_file

    if not os.path.exists(path):
        raise UsageError(f"{path}: no such file")
    if os.path.isdir(path):
        raise UsageError(f"{path}: is a directory, not a vector file")
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not a JSON file (not UTF-8 text)") from None
    except json.JSONDecodeError as e:
        raise UsageError(f"{path}: not a JSON file ({e.msg} at line {e.lineno}, column {e.colno})") from None
    except OSError as e:
        raise UsageError(f"{path}: cannot read it ({e.strerror})") from None
    if data == [] or data == {}:
        raise UsageError(f"{path}: contains no test cases (an empty {'list' if data == [] else 'object'})")
    if not isinstance(data, (list, dict)) or (isinstance(data, list) and not all(isinstance(c, dict) for c in data)):
        raise UsageError(f"{path}: not a vector file (expected a JSON list of test-case objects)")
    try:
        return verify_file(path, kind, profile=profile)
    except MLSError as e:
        raise UsageError(f"{path}: {e}") from None


def cmd_vectors_verify(args: argparse.Namespace) -> int:
    if args.kind is not None and args.kind.replace("_", "-") not in VERIFY_KINDS:
        raise UsageError(f"--kind: unknown kind {args.kind!r}; valid: {', '.join(VERIFY_KINDS)}")
    results = []
    errors: list[dict[str, str]] = []
    for path in args.files:
        try:
            results.append(_verify_one(path, args.kind, args.profile))
        except UsageError as e:  # unreadable file, wrong kind: report, go on with the next file
            errors.append({"file": str(path), "error": str(e).removeprefix(f"{path}: ")})
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
        print(f"mls-pq: error: {err['file']}: {err['error']}", file=sys.stderr)
    if errors:
        return 2
    return 1 if any(r.failed for r in results) else 0


def _parse_suites(spec: list[str], profile: str | None) -> list[int]:
    """Kept for callers of the old name: :func:`mls_pq.cliutil.parse_suites`."""
    return parse_suites(spec, profile)


def cmd_vectors_generate(args: argparse.Namespace) -> int:
    from .suites import REGISTRY
    from .vectors.generate import available_kinds, file_stem, generate

    known = available_kinds()
    # opt-in kinds (apq: combined groups, one file per suite pair) only when asked for
    kinds = [k.replace("_", "-") for k in args.kind] if args.kind else [k for k in known if k not in OPT_IN_KINDS]
    unknown = [k for k in kinds if k not in known]
    if unknown:  # checked before the output folder is made: nothing is left behind
        raise UsageError(f"--kind: unknown kind {unknown[0]!r}; valid: {', '.join(known)}")
    out = check_out_dir(args.out)
    suites = [REGISTRY.get(i, args.profile) for i in parse_suites(args.suite, args.profile)]
    files = {}
    with contextlib.ExitStack() as stack:
        if args.seed is not None:  # every source of randomness from one DRBG: reproducible files
            from .vectors.seeded import reproducible, seeded_randomness

            stack.enter_context(seeded_randomness(args.seed, suites))
            varying = [f"0x{s.id:04x}" for s in suites if not reproducible(s)]
            if varying:
                print(f"note: --seed: signatures of {', '.join(varying)} are randomised by their scheme "
                      "(ML-DSA/SLH-DSA): those cases differ between runs but verify", file=sys.stderr)
        for k in kinds:  # everything is generated before anything is written
            cases: list[Any] = []
            for n, suite in enumerate(suites):
                cases += generate(k, suite, None if args.seed is None else args.seed * 1000 + n)
            if k == "apq":  # one file per suite pair and mode (mls_pq/vectors/apq.py)
                from .vectors.apq import file_name

                files.update({out / file_name(c): [c] for c in cases})
            else:
                files[out / f"{file_stem(k)}.json"] = cases
    out.mkdir(parents=True, exist_ok=True)
    for path, cases in files.items():
        path.write_text(json.dumps(cases, indent=2) + "\n")
        print(f"{path}: {len(cases)} case{'s' if len(cases) != 1 else ''} ({len(suites)} suites)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="mls-pq", description="MLS (RFC 9420) with post-quantum cipher suites")
    p.add_argument("--version", action="version", version=f"mls-pq {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    ps = sub.add_parser("suites", help="list every registered cipher suite")
    ps.add_argument("--profile", default=None, help="code-point profile (default: 'default')")
    ps.add_argument("--json", action="store_true", help="machine-readable output")
    ps.set_defaults(func=cmd_suites)

    pv = sub.add_parser("vectors", help="test vectors")
    vsub = pv.add_subparsers(dest="vectors_command", required=True)
    pvv = vsub.add_parser("verify", help="verify mlswg-format vector files",
                          formatter_class=argparse.RawDescriptionHelpFormatter,
                          epilog="kinds: " + ", ".join(VERIFY_KINDS) + "\n\n" + VERIFY_JSON_SCHEMA)
    pvv.add_argument("files", nargs="+")
    pvv.add_argument("--kind", default=None, help="vector kind (inferred from the file name when omitted; "
                     "the kinds are listed below)")
    pvv.add_argument("--json", action="store_true")
    pvv.add_argument("--profile", default=None, help="code-point profile the files' suite ids belong to")
    pvv.set_defaults(func=cmd_vectors_verify)
    pvg = vsub.add_parser("generate", help="generate mlswg-format vectors for registered suites")
    pvg.add_argument("--suite", action="append", required=True,
                     help="suites, comma-separated: ids (0xF001), names or aliases (x-wing, mlkem768, suite1), "
                          "or 'pq' / 'all'; repeatable")
    pvg.add_argument("--kind", action="append", default=None,
                     help="vector kind (default: every kind available: " + ", ".join(GENERATE_KINDS) + ")")
    pvg.add_argument("--out", required=True, help="output directory")
    pvg.add_argument("--seed", type=int, default=None,
                     help="derive every random value from this seed (test vectors only): the same seed gives "
                          "byte-identical files for suites with Ed25519/Ed448/ECDSA (RFC 6979) signatures; "
                          "ML-DSA/SLH-DSA signatures stay randomised (see mls_pq/vectors/seeded.py)")
    pvg.add_argument("--profile", default=None)
    pvg.set_defaults(func=cmd_vectors_generate)

    from .bench.cli import add_bench_parser
    from .interop.cli import add_interop_parser

    add_bench_parser(sub)
    add_interop_parser(sub)
    from .simulate.cli import add_parser as add_simulate_parser

    add_simulate_parser(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return int(args.func(args))
    except UsageError as e:
        return fail(str(e))
    except MLSError as e:
        return fail(str(e))
    except KeyboardInterrupt:
        print("mls-pq: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `mls-pq suites | head`
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


#: the kinds ``vectors verify`` and ``vectors generate`` know (listed by --help without
#: importing the engine; tests/test_cli.py checks them against the registries)
VERIFY_KINDS = (
    "apq", "crypto-basics", "deserialization", "key-schedule", "message-protection", "messages", "passive-client",
    "passive-client-handling-commit", "passive-client-random", "passive-client-welcome", "psk-secret",
    "secret-tree", "transcript-hashes", "tree-math", "tree-operations", "tree-validation", "treekem", "welcome",
)
GENERATE_KINDS = (
    "apq", "crypto-basics", "key-schedule", "message-protection", "passive-client-handling-commit",
    "passive-client-random", "passive-client-welcome", "psk-secret", "secret-tree", "transcript-hashes",
    "tree-operations", "tree-validation", "treekem", "welcome",
)
#: generated only with ``--kind``: apq (APQ-MLS combiner vectors, one file per suite pair)
OPT_IN_KINDS = ("apq",)


if __name__ == "__main__":
    raise SystemExit(main())
