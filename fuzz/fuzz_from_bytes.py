#!/usr/bin/env python3
"""Fuzz ``Group.from_bytes``: a serialised member (state and pending commit) from an
untrusted place.

Input: two octets choosing the suite's world, one mode octet, then the serialised group (mode
even) or — mode odd — the body of a GroupState, which the target seals with the SHA-256 digests
the library checks first (so the mutation reaches the field-by-field validation behind them,
as a forged or consistently corrupted file would). Asserts: only
``mls_pq.errors`` exceptions while loading and while the loaded group processes a real
application message, encrypts, and re-serialises (round trip: ``to_bytes()`` returns the
input)."""

from __future__ import annotations

from _harness import COUNTER, instrumented, main

instrumented()

from mls_pq.errors import MLSError  # noqa: E402
from mls_pq.group import Group, GroupConfig  # noqa: E402
from worlds import clock, group_bytes, load_worlds, pick  # noqa: E402

WORLDS = load_worlds()


def one_input(data: bytes) -> None:
    w, payload = pick(WORLDS, data)
    if not payload:
        return
    payload = group_bytes(payload[1:]) if payload[0] & 1 else payload[1:]
    try:
        g = Group.from_bytes(payload, config=GroupConfig(clock=clock))
    except MLSError:
        COUNTER.rejected += 1
        return
    COUNTER.accepted += 1
    assert g.to_bytes() == payload, "from_bytes/to_bytes does not round-trip"
    # a loaded (possibly corrupted but accepted) state must still fail only with typed errors
    for use in (lambda: g.process(w.messages["app_alice"]), lambda: g.encrypt(b"x"), lambda: g.commit()):
        try:
            use()
        except MLSError:
            pass
    COUNTER.tick()


if __name__ == "__main__":
    main(one_input, "from_bytes")
