#!/usr/bin/env python3
"""Fuzz ``Group.join`` (RFC 9420 §12.4.3.1): a Welcome, decrypted with the joiner's real
KeyPackage bundle (which must stay unchanged).

Input: two octets choosing the suite's world, then the Welcome MLSMessage. Asserts: only
``mls_pq.errors`` exceptions; the bundle is untouched; every ``CHECK_EVERY`` inputs the real
Welcome still joins."""

from __future__ import annotations

from _harness import COUNTER, instrumented, main

instrumented()

from mls_pq.errors import MLSError  # noqa: E402
from mls_pq.group import Group, GroupConfig, KeyPackageBundle  # noqa: E402
from worlds import clock, load_worlds, pick  # noqa: E402

WORLDS = load_worlds()
BUNDLES = {w.suite: KeyPackageBundle.from_bytes(w.joiner_bundle) for w in WORLDS}


def one_input(data: bytes) -> None:
    w, payload = pick(WORLDS, data)
    bundle = BUNDLES[w.suite]
    try:
        Group.join(payload, [bundle], config=GroupConfig(clock=clock))
    except MLSError:
        COUNTER.rejected += 1
    else:
        COUNTER.accepted += 1
    assert bundle.to_bytes() == w.joiner_bundle, "join changed the KeyPackage bundle"
    if COUNTER.tick():
        g = Group.join(w.welcome, [bundle], config=GroupConfig(clock=clock))
        assert g.leaf_index >= 0 and g.epoch == 3


if __name__ == "__main__":
    main(one_input, "join")
