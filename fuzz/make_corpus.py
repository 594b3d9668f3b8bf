#!/usr/bin/env python3
"""Generate the seed corpus of every fuzz target from real groups of every suite family.

    python fuzz/make_corpus.py [--seed N] [--suites 0x0001,0xf001,...] [--out fuzz/corpus]

Writes ``<out>/worlds/<suite>.json`` (the groups and keys the targets run against) and
``<out>/<target>/<suite>-<name>`` seed files (two octets of suite id, then the payload).
Deterministic for a seed wherever the library's randomness comes from ``os.urandom`` (the
classical suites byte for byte); ML-KEM encapsulation, ECDSA and hedged ML-DSA signatures
draw from OpenSSL and vary between runs, the structure of the corpus does not. The corpus is
generated, never fetched, and not committed (``fuzz/.gitignore``): about 3 MB.

Written by hand: a fixture generator, nothing a library provides.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from worlds import (  # noqa: E402
    DEFAULT_CORPUS,
    SUITE_FAMILIES,
    World,
    build_world,
    STATE_LABEL,
    framed,
    insider_contents,
    unseal,
    sqlite_files,
    stored_blobs,
    write_worlds,
)

TARGETS = (
    "process",
    "process_insider",
    "join",
    "join_external",
    "commit_add",
    "from_bytes",
    "sqlite_load",
    "decode_message",
    "decode_key_package",
    "decode_leaf_node",
    "decode_group_info",
    "decode_welcome",
    "decode_ratchet_tree",
)


def seeds(w: World, tmp: Path) -> dict[str, dict[str, bytes]]:
    """target -> name -> payload (without the suite prefix)."""
    kps = {f"kp{i}": kp for i, kp in enumerate(w.key_packages)}
    out: dict[str, dict[str, bytes]] = {
        "process": dict(w.messages),
        "process_insider": {
            f"{name}_{wf}": bytes([wf]) + content
            for name, content in insider_contents(w).items()
            for wf in (0, 1)
        },
        "join": {"welcome": w.welcome},
        "join_external": {"group_info": w.group_info},
        "commit_add": {**kps, "kp_raw": w.extra["key_package_raw"]},
        "from_bytes": {"receiver": b"\0" + w.receiver, "committer_pending": b"\0" + w.committer},
        "decode_message": {**w.messages, **kps, "welcome": w.welcome, "group_info": w.group_info},
        "decode_key_package": {**kps, "kp_raw": w.extra["key_package_raw"]},
        "decode_leaf_node": {"leaf_node": w.extra["leaf_node"]},
        "decode_group_info": {"group_info": w.group_info},
        "decode_welcome": {"welcome": w.welcome},
        "decode_ratchet_tree": {"ratchet_tree": w.ratchet_tree},
    }
    body = unseal(w.state_blob, STATE_LABEL)
    if body is not None:
        out["from_bytes"]["receiver_state_resealed"] = b"\1" + body
    try:
        bob, alice = sqlite_files(w, tmp)
    except Exception as e:  # noqa: BLE001 - report and go on without these seeds
        print(f"warning: 0x{w.suite:04x}: no sqlite_load seeds ({type(e).__name__}: {e})", file=sys.stderr)
        return out
    sq: dict[str, bytes] = {}
    for table, blob in stored_blobs(bob):
        sq[f"bob_{table}"] = bytes([0]) + blob
        sq[f"bob_{table}_api"] = bytes([3]) + blob
        body = unseal(blob, STATE_LABEL)
        if body is not None:
            sq[f"bob_{table}_resealed"] = bytes([4]) + body
    for table, blob in stored_blobs(alice):
        sq[f"alice_{table}"] = bytes([1 if table == "pending" else 2]) + blob
    out["sqlite_load"] = sq
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--suites", default=",".join(f"0x{s:04x}" for s in SUITE_FAMILIES))
    ap.add_argument("--out", type=Path, default=DEFAULT_CORPUS)
    args = ap.parse_args(argv)
    suites = [int(s, 0) for s in args.suites.split(",") if s]
    worlds = [build_world(s, args.seed) for s in suites]
    if args.out.exists():
        shutil.rmtree(args.out)
    write_worlds(worlds, args.out)
    total_files = total_bytes = 0
    per_target: dict[str, int] = {t: 0 for t in TARGETS}
    with tempfile.TemporaryDirectory() as tmp:
        for w in worlds:
            for target, entries in seeds(w, Path(tmp)).items():
                d = args.out / target
                d.mkdir(parents=True, exist_ok=True)
                for name, payload in entries.items():
                    data = framed(w.suite, payload)
                    (d / f"{w.suite:04x}-{name}").write_bytes(data)
                    per_target[target] += 1
                    total_files += 1
                    total_bytes += len(data)
    for t in TARGETS:
        print(f"{t:22s} {per_target[t]:4d} seeds")
    print(f"corpus: {total_files} seed files, {total_bytes} bytes, {len(worlds)} suites "
          f"({', '.join(f'0x{s:04x}' for s in suites)}), seed {args.seed} -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
