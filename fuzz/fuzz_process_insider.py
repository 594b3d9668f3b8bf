#!/usr/bin/env python3
"""Fuzz ``Group.process`` from the inside (RFC 9420 §12): the fuzzer mutates the FramedContent
(group_id, epoch, sender, authenticated_data, proposal or commit) and alice — a real member —
signs it, adds the membership tag, or encrypts it under her own ratchet, so every mutation
passes the checks of §6 and reaches the protocol logic. A commit carries an all-zero
confirmation tag (the last check).

Input: two octets choosing the suite's world, one octet (odd: PrivateMessage), then the
FramedContent encoding. Asserts: only ``mls_pq.errors`` exceptions; a rejected message leaves
bob byte-identical; every ``CHECK_EVERY`` inputs bob still processes the next valid commit."""

from __future__ import annotations

from _harness import instrumented, main

instrumented()

from _receiver import feed, next_commit_processes, receive  # noqa: E402
from mls_pq.errors import MLSError  # noqa: E402
from mls_pq.messages.framing_structs import FramedContent  # noqa: E402
from worlds import insider_frame, load_worlds, pick  # noqa: E402

WORLDS = load_worlds()
ALICE = {w.suite: w.committer_group().state for w in WORLDS}


def one_input(data: bytes) -> None:
    w, payload = pick(WORLDS, data)
    if not payload:
        return
    try:
        content = FramedContent.from_bytes(payload[1:])
    except MLSError:
        return
    message = insider_frame(ALICE[w.suite], content, bool(payload[0] & 1))
    if message is None:
        return
    feed(w, lambda g: receive(g, message), "message", next_commit_processes(w))


if __name__ == "__main__":
    main(one_input, "process_insider")
