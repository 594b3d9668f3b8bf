#!/usr/bin/env python3
"""Fuzz ``Group.commit(add=[key_package])`` (RFC 9420 §10.1, §12.1.1, §12.4): bob commits an
Add of an untrusted KeyPackage.

Input: two octets choosing the suite's world, then the KeyPackage (MLSMessage or raw).
Asserts: only ``mls_pq.errors`` exceptions; a rejected KeyPackage leaves bob byte-identical;
every ``CHECK_EVERY`` inputs a real KeyPackage is still committed."""

from __future__ import annotations

from _harness import COUNTER, instrumented, main

instrumented()

from mls_pq.errors import MLSError  # noqa: E402
from mls_pq.group import Group  # noqa: E402
from worlds import World, load_worlds, pick  # noqa: E402

WORLDS = load_worlds()
_live: dict[int, Group] = {}


def _committer(w: World) -> Group:
    g = _live.get(w.suite)
    if g is None:
        g = _live[w.suite] = w.receiver_group()
    return g


def one_input(data: bytes) -> None:
    w, payload = pick(WORLDS, data)
    g = _committer(w)
    before = g.to_bytes()
    try:
        g.commit(add=[payload])
    except MLSError:
        COUNTER.rejected += 1
        assert g.to_bytes() == before, "a rejected KeyPackage changed the group state"
    else:
        COUNTER.accepted += 1
        del _live[w.suite]
    if COUNTER.tick():
        g = _committer(w)
        out = g.commit(add=[w.key_packages[0]])
        assert out.welcome is not None
        g.merge_pending_commit()
        assert len(g.members()) == 4
        _live.pop(w.suite, None)


if __name__ == "__main__":
    main(one_input, "commit_add")
