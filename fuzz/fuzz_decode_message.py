#!/usr/bin/env python3
"""Fuzz the MLSMessage decoder (RFC 9420 §6): every wire format.

Input: two octets choosing the suite's world (for the suite-dependent checks), then the
encoding. Asserts: only ``mls_pq.errors`` exceptions; a decoded message re-encodes to the input."""

from __future__ import annotations

from _harness import instrumented, main

instrumented()

from _decode import decoder_target  # noqa: E402
from mls_pq.messages.framing_structs import MLSMessage, PublicMessage, SenderType  # noqa: E402
from mls_pq.suites import CipherSuite  # noqa: E402


def check(suite: CipherSuite, payload: bytes) -> None:
    msg = MLSMessage.from_bytes(payload)
    assert msg.to_bytes() == payload, "MLSMessage does not re-encode to its input"
    body = msg.body
    if isinstance(body, PublicMessage) and body.content.sender.sender_type in (
        SenderType.EXTERNAL,
        SenderType.NEW_MEMBER_PROPOSAL,
    ):
        body.authenticated_content().tbs(None)


one_input = decoder_target(check)


if __name__ == "__main__":
    main(one_input, "decode_message")
