#!/usr/bin/env python3
"""Fuzz ``Group.join_external`` (RFC 9420 §12.4.3.2): an (unauthenticated until checked)
GroupInfo with its ratchet_tree extension, joined by an outsider.

Input: two octets choosing the suite's world, then the GroupInfo MLSMessage. Asserts: only
``mls_pq.errors`` exceptions; every ``CHECK_EVERY`` inputs the real GroupInfo still joins."""

from __future__ import annotations

from _harness import COUNTER, instrumented, main

instrumented()

from mls_pq.errors import MLSError  # noqa: E402
from mls_pq.group import Group, GroupConfig  # noqa: E402
from worlds import clock, load_worlds, pick  # noqa: E402

WORLDS = load_worlds()
OUTSIDERS = {w.suite: w.outsider() for w in WORLDS}


def one_input(data: bytes) -> None:
    w, payload = pick(WORLDS, data)
    cred, sig = OUTSIDERS[w.suite]
    try:
        Group.join_external(payload, cred, sig, config=GroupConfig(clock=clock))
    except MLSError:
        COUNTER.rejected += 1
    else:
        COUNTER.accepted += 1
    if COUNTER.tick():
        g, commit = Group.join_external(w.group_info, cred, sig, config=GroupConfig(clock=clock))
        assert g.epoch == 3 and commit


if __name__ == "__main__":
    main(one_input, "join_external")
