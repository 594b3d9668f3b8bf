#!/usr/bin/env python3
"""Fuzz the KeyPackage decoder and its validation (RFC 9420 §10.1, §7.3), as MLSMessage or raw.

Input: two octets choosing the suite's world (for the suite-dependent checks), then the
encoding. Asserts: only ``mls_pq.errors`` exceptions; a decoded KeyPackage re-encodes to the input."""

from __future__ import annotations

from _harness import instrumented, main

instrumented()

from _decode import decoder_target  # noqa: E402
from mls_pq.client import parse_key_package  # noqa: E402
from mls_pq.group.validation import check_key_package  # noqa: E402
from mls_pq.messages.framing_structs import MLSMessage  # noqa: E402
from mls_pq.suites import CipherSuite  # noqa: E402
from worlds import FIXED_NOW  # noqa: E402


def check(suite: CipherSuite, payload: bytes) -> None:
    kp = parse_key_package(payload)
    assert payload in (kp.to_bytes(), MLSMessage(kp).to_bytes()), "KeyPackage does not re-encode to its input"
    check_key_package(suite, kp, (), FIXED_NOW)


one_input = decoder_target(check)


if __name__ == "__main__":
    main(one_input, "decode_key_package")
