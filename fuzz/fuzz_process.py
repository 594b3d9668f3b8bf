#!/usr/bin/env python3
"""Fuzz ``Group.process`` (RFC 9420 §6, §12): PublicMessage/PrivateMessage handshakes and
application data, received by bob (leaf 1 of a three-member group, epoch 2).

Input: two octets choosing the suite's world, then the MLSMessage. Asserts: only
``mls_pq.errors`` exceptions; a rejected message leaves bob byte-identical; every
``CHECK_EVERY`` inputs, bob still processes the next valid commit."""

from __future__ import annotations

from _harness import COUNTER, instrumented, main

instrumented()

from mls_pq.errors import MLSError  # noqa: E402
from mls_pq.group import Group  # noqa: E402
from worlds import World, load_worlds, pick  # noqa: E402

WORLDS = load_worlds()
_live: dict[int, Group] = {}


def _receiver(w: World) -> Group:
    g = _live.get(w.suite)
    if g is None:
        g = _live[w.suite] = w.receiver_group()
    return g


def one_input(data: bytes) -> None:
    w, payload = pick(WORLDS, data)
    g = _receiver(w)
    before = g.to_bytes()
    try:
        g.process(payload)
    except MLSError:
        COUNTER.rejected += 1
        assert g.to_bytes() == before, "a rejected message changed the group state"
    else:
        COUNTER.accepted += 1
        del _live[w.suite]  # accepted: start from the pristine receiver next time
    if COUNTER.tick():
        g = _receiver(w)
        epoch = g.epoch
        res = g.process(w.messages[w.valid_next])
        assert res.kind == "commit" and g.epoch == epoch + 1, "the next valid commit was not processed"
        _live.pop(w.suite, None)


if __name__ == "__main__":
    main(one_input, "process")
