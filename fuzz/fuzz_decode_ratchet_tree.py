#!/usr/bin/env python3
"""Fuzz the ratchet_tree decoder (RFC 9420 §12.4.3.3) and the joiner's tree validation (§12.4.3.1).

Input: two octets choosing the suite's world (for the suite-dependent checks), then the
encoding. Asserts: only ``mls_pq.errors`` exceptions."""

from __future__ import annotations

from _harness import instrumented, main

instrumented()

from _decode import decoder_target  # noqa: E402
from mls_pq.tree.leaf_validation import validate_ratchet_tree  # noqa: E402
from mls_pq.tree.ratchet_tree import RatchetTree  # noqa: E402
from mls_pq.suites import CipherSuite  # noqa: E402
from worlds import FIXED_NOW, GROUP_ID  # noqa: E402


def check(suite: CipherSuite, payload: bytes) -> None:
    tree = RatchetTree.from_bytes(suite, payload)
    tree.tree_hash()
    validate_ratchet_tree(tree, GROUP_ID, (), now=FIXED_NOW)


one_input = decoder_target(check)


if __name__ == "__main__":
    main(one_input, "decode_ratchet_tree")
