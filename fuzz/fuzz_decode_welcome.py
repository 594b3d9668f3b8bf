#!/usr/bin/env python3
"""Fuzz the Welcome decoder (RFC 9420 §12.4.3.1): its structure and the KeyPackageRef lookup.

Input: two octets choosing the suite's world (for the suite-dependent checks), then the
encoding. Asserts: only ``mls_pq.errors`` exceptions; a decoded Welcome re-encodes to the input."""

from __future__ import annotations

from _harness import instrumented, main

instrumented()

from _decode import decoder_target  # noqa: E402
from mls_pq.errors import DecodeError  # noqa: E402
from mls_pq.messages.framing_structs import MLSMessage  # noqa: E402
from mls_pq.messages.welcome import Welcome  # noqa: E402
from mls_pq.suites import CipherSuite  # noqa: E402


def check(suite: CipherSuite, payload: bytes) -> None:
    msg = MLSMessage.from_bytes(payload)
    if not isinstance(msg.body, Welcome):
        raise DecodeError("not a Welcome")
    assert msg.to_bytes() == payload, "Welcome does not re-encode to its input"
    msg.body.find(bytes(suite.n_h))


one_input = decoder_target(check)


if __name__ == "__main__":
    main(one_input, "decode_welcome")
