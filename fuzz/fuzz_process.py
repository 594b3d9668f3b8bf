#!/usr/bin/env python3
"""Fuzz ``Group.process`` (RFC 9420 §6, §12): PublicMessage/PrivateMessage handshakes and
application data, received by bob (leaf 1 of a three-member group, epoch 2).

Input: two octets choosing the suite's world, then the MLSMessage. Asserts: only
``mls_pq.errors`` exceptions; a rejected message leaves bob byte-identical; every
``CHECK_EVERY`` inputs, bob still processes the next valid commit."""

from __future__ import annotations

from _harness import instrumented, main

instrumented()

from _receiver import feed, next_commit_processes, receive  # noqa: E402
from worlds import load_worlds, pick  # noqa: E402

WORLDS = load_worlds()


def one_input(data: bytes) -> None:
    w, payload = pick(WORLDS, data)
    feed(w, lambda g: receive(g, payload), "message", next_commit_processes(w))


if __name__ == "__main__":
    main(one_input, "process")
