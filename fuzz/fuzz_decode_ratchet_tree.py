#!/usr/bin/env python3
"""Fuzz the ratchet_tree decoder (RFC 9420 §12.4.3.3) and the joiner's tree validation (§12.4.3.1).

Input: two octets choosing the suite's world (for the suite-dependent checks), then the
encoding. Asserts: only ``mls_pq.errors`` exceptions."""

from __future__ import annotations

from _harness import COUNTER, instrumented, main

instrumented()

from mls_pq.errors import MLSError  # noqa: E402
from mls_pq.tree.ratchet_tree import RatchetTree  # noqa: E402
from mls_pq.suites import CipherSuite, get_suite  # noqa: E402
from worlds import FIXED_NOW, GROUP_ID, load_worlds, pick  # noqa: E402, F401

WORLDS = load_worlds()
SUITES = {w.suite: get_suite(w.suite) for w in WORLDS}


def check(suite: CipherSuite, payload: bytes) -> None:
    tree = RatchetTree.from_bytes(suite, payload)
    tree.tree_hash()
    tree.validate(GROUP_ID, (), now=FIXED_NOW)


def one_input(data: bytes) -> None:
    w, payload = pick(WORLDS, data)
    try:
        check(SUITES[w.suite], payload)
    except MLSError:
        COUNTER.rejected += 1
    else:
        COUNTER.accepted += 1
    COUNTER.tick()


if __name__ == "__main__":
    main(one_input, "decode_ratchet_tree")
