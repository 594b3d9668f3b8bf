#!/usr/bin/env python3
"""Fuzz the GroupInfo decoder with its ratchet_tree extension, and its verification (RFC 9420 §12.4.3).

Input: two octets choosing the suite's world (for the suite-dependent checks), then the
encoding. Asserts: only ``mls_pq.errors`` exceptions; a decoded GroupInfo re-encodes to the input."""

from __future__ import annotations

from _harness import instrumented, main

instrumented()

from _decode import decoder_target  # noqa: E402
from mls_pq.errors import DecodeError  # noqa: E402
from mls_pq.group.welcome import tree_for_group_info, verify_group_info  # noqa: E402
from mls_pq.messages.framing_structs import MLSMessage  # noqa: E402
from mls_pq.messages.welcome import GroupInfo  # noqa: E402
from mls_pq.suites import CipherSuite  # noqa: E402
from worlds import FIXED_NOW  # noqa: E402


def check(suite: CipherSuite, payload: bytes) -> None:
    msg = MLSMessage.from_bytes(payload)
    if not isinstance(msg.body, GroupInfo):
        raise DecodeError("not a GroupInfo")
    assert msg.to_bytes() == payload, "GroupInfo does not re-encode to its input"
    tree = tree_for_group_info(suite, msg.body, None)
    verify_group_info(suite, msg.body, tree, now=FIXED_NOW)


one_input = decoder_target(check)


if __name__ == "__main__":
    main(one_input, "decode_group_info")
