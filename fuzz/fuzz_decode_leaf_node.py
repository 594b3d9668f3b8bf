#!/usr/bin/env python3
"""Fuzz the LeafNode decoder and leaf node validation (RFC 9420 §7.2, §7.3).

Input: two octets choosing the suite's world (for the suite-dependent checks), then the
encoding. Asserts: only ``mls_pq.errors`` exceptions; a decoded LeafNode re-encodes to the input."""

from __future__ import annotations

from _harness import instrumented, main

instrumented()

from _decode import decoder_target  # noqa: E402
from mls_pq.messages.leaf_node import LeafNode  # noqa: E402
from mls_pq.tree.leaf_validation import LeafContext, validate_leaf_node  # noqa: E402
from mls_pq.suites import CipherSuite  # noqa: E402
from worlds import FIXED_NOW, GROUP_ID  # noqa: E402


def check(suite: CipherSuite, payload: bytes) -> None:
    leaf = LeafNode.from_bytes(payload)
    assert leaf.to_bytes() == payload, "LeafNode does not re-encode to its input"
    validate_leaf_node(suite, leaf, LeafContext.tree(GROUP_ID, 1, now=FIXED_NOW))
    leaf.verify(suite, GROUP_ID, 1)


one_input = decoder_target(check)


if __name__ == "__main__":
    main(one_input, "decode_leaf_node")
