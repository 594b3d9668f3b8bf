#!/usr/bin/env python3
"""Resource-limit figures (issue 8): input size -> CPU time and peak memory for hostile inputs.

For each input kind and size it prints one table row: the outcome (accepted, or the error
class and the limit that refused it), the CPU time of the call (best of ``--repeat`` runs,
``time.process_time``, measured without tracing) and the peak memory allocated during the
call (a separate run under ``tracemalloc``), absolute and per input octet.

Inputs (builders in tests/group/_hostile.py):

* ``key_package``: a valid KeyPackage whose leaf has N extensions of distinct types (§13.5)
  listed among N capability types (decode + §10.1/§7.3 validation, ``check_key_package``);
* ``add_proposal``: the same KeyPackage in a new_member_proposal Add, processed by a member
  (``Group.process``);
* ``leaf_node``: an Update LeafNode of the same shape (decode + ``validate_leaf_node``);
* ``blank_tree``: a GroupInfo of an attacker's group whose ratchet tree is all blank leaves
  but the last (tree hash right, signed), given to ``Group.join_external``: accepted up to
  ``Limits.max_group_size`` leaves, refused while decoding beyond;
* ``message``: an application PrivateMessage of the given size processed by a member, and
  one octet over ``Limits.max_message_size`` (refused before decoding).

Usage: ``python scripts/resource_limits.py [--quick] [--repeat N]`` (about a minute;
``--quick`` for the smaller sizes only). Not run by the test suite.
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mls_pq.client import Client
from mls_pq.errors import MLSError
from mls_pq.group import Group
from mls_pq.group import validation as v
from mls_pq.group.external import new_member_add_proposal
from mls_pq.limits import DEFAULT_LIMITS, Limits
from mls_pq.messages.framing_structs import MLSMessage
from mls_pq.messages.key_package import KeyPackage
from mls_pq.messages.leaf_node import LeafNode
from mls_pq.tree.leaf_validation import LeafContext, validate_leaf_node
from tests.group._hostile import (
    blank_padded_tree,
    blank_tree_group_info,
    hostile_key_package,
    hostile_update_leaf,
)

KiB = 1024
MiB = 1024 * KiB


def measure(fn: Callable[[], object], repeat: int) -> tuple[str, float, int]:
    """(outcome, best CPU seconds, peak traced octets) of ``fn``."""
    outcome = "accepted"
    best = float("inf")
    for _ in range(repeat):
        t = time.process_time()
        try:
            fn()
        except MLSError as e:
            outcome = f"{type(e).__name__}: {_reason(e)}"
        best = min(best, time.process_time() - t)
    tracemalloc.start()
    try:
        try:
            fn()
        except MLSError:
            pass
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return outcome, best, peak


def _reason(e: MLSError) -> str:
    s = str(e)
    for limit in ("max_group_size", "max_message_size", "max_proposals_per_commit"):
        if limit in s:
            return limit
    return s[:40]


def row(kind: str, size: int, outcome: str, cpu: float, peak: int) -> None:
    print(f"| {kind:<18} | {size:>10,} | {outcome:<32} | {cpu:>7.3f} | {peak / MiB:>8.1f} | {peak / size:>6.1f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes only")
    ap.add_argument("--repeat", type=int, default=2, help="timed runs per row (best is kept)")
    args = ap.parse_args()
    sizes = [64 * KiB, 256 * KiB] if args.quick else [64 * KiB, 256 * KiB, 1 * MiB]
    tree_leaves = [1024, 16384] if args.quick else [1024, 16384, DEFAULT_LIMITS.max_group_size]
    over_leaves = [DEFAULT_LIMITS.max_group_size + 1, 2_000_000]
    messages = [64 * KiB, 1 * MiB] if args.quick else [64 * KiB, 1 * MiB, 16 * MiB]

    print(f"Limits: {DEFAULT_LIMITS}")
    print("| input              |   size (B) | outcome                          | CPU (s) | peak MiB | peak/B |")
    print("|--------------------|-----------:|----------------------------------|--------:|---------:|-------:|")
    owner = Client.generate(1, b"owner")
    group = Group.create(1, b"limits", owner.credential, owner.signature_priv)
    suite = group.suite
    for size in sizes:
        joiner = Client.generate(1, b"joiner")
        kp_bytes, _ = hostile_key_package(joiner, size)

        def kp_call(data: bytes = kp_bytes) -> None:
            kp = MLSMessage.from_bytes(data).body
            assert isinstance(kp, KeyPackage)
            v.check_key_package(suite, kp, (), None)

        row("key_package", len(kp_bytes), *measure(kp_call, args.repeat))
        kp = MLSMessage.from_bytes(kp_bytes).body
        assert isinstance(kp, KeyPackage)
        add = new_member_add_proposal(suite, group.group_id, group.epoch, kp, joiner.signature_priv)

        def add_call(data: bytes = add) -> None:
            group.process(data)
            group._state = group._state.evolve(proposals=())  # forget it for the next run

        row("add_proposal", len(add), *measure(add_call, args.repeat))
        leaf = hostile_update_leaf(joiner, size, suite.generate_key_pair()[1], group.group_id, 1)
        leaf_bytes = leaf.to_bytes()

        def leaf_call(data: bytes = leaf_bytes) -> None:
            ln = LeafNode.from_bytes(data)
            validate_leaf_node(suite, ln, LeafContext.update(group.group_id, 1))

        row("leaf_node", len(leaf_bytes), *measure(leaf_call, args.repeat))

    ext = Client.generate(1, b"external")
    for n in tree_leaves:
        gi = blank_tree_group_info(n)
        row(
            f"blank_tree {n}",
            len(gi),
            *measure(lambda gi=gi: Group.join_external(gi, ext.credential, ext.signature_priv), 1),  # type: ignore[misc]
        )
    last = group.state.tree.leaf(0)
    assert last is not None
    for n in over_leaves:
        # over the limit: the tree hash cannot be computed cheaply (that is the point), so the
        # GroupInfo carries the blank tree as is; it is refused while the tree is decoded
        from mls_pq.extensions import RATCHET_TREE, Extension
        from mls_pq.messages.welcome import GroupInfo

        base = MLSMessage.from_bytes(group.group_info(ratchet_tree=True, external_pub=True)).body
        assert isinstance(base, GroupInfo)
        exts = tuple(
            Extension(RATCHET_TREE, blank_padded_tree(last, n)) if e.extension_type == RATCHET_TREE else e
            for e in base.extensions
        )
        signed = GroupInfo(base.group_context, exts, base.confirmation_tag, 0).sign(suite, owner.signature_priv)
        data = MLSMessage(signed).to_bytes()
        row(
            f"blank_tree {n}",
            len(data),
            *measure(lambda d=data: Group.join_external(d, ext.credential, ext.signature_priv), 1),  # type: ignore[misc]
        )

    sender = Client.generate(1, b"sender")
    kp_bytes, bundle = sender.key_package()
    out = group.commit(add=[kp_bytes])
    group.merge_pending_commit()
    assert out.welcome is not None
    member = Group.join(out.welcome, bundle)
    for size in messages:
        msg = group.encrypt(b"\x00" * size)
        snapshot = member._state

        def msg_call(data: bytes = msg, before: object = snapshot) -> None:
            member._state = before  # type: ignore[assignment]
            member.process(data)

        row("message", len(msg), *measure(msg_call, args.repeat))
    small = Limits(max_message_size=1 * MiB)
    member.config = replace(member.config, limits=small)
    over = b"\x00" * (small.max_message_size + 1)
    row("message >max", len(over), *measure(lambda: member.process(over), args.repeat))


if __name__ == "__main__":
    main()
