#!/usr/bin/env python3
"""Fuzz ``Group.commit(add=[key_package])`` (RFC 9420 §10.1, §12.1.1, §12.4): bob commits an
Add of an untrusted KeyPackage.

Input: two octets choosing the suite's world, then the KeyPackage (MLSMessage or raw).
Asserts: only ``mls_pq.errors`` exceptions; a rejected KeyPackage leaves bob byte-identical;
every ``CHECK_EVERY`` inputs a real KeyPackage is still committed."""

from __future__ import annotations

from collections.abc import Callable

from _harness import instrumented, main

instrumented()

from _receiver import feed  # noqa: E402
from mls_pq.group import Group  # noqa: E402
from worlds import World, load_worlds, pick  # noqa: E402

WORLDS = load_worlds()


def _still_commits(w: World) -> Callable[[Group], None]:
    def check(g: Group) -> None:
        out = g.commit(add=[w.key_packages[0]])
        assert out.welcome is not None
        g.merge_pending_commit()
        assert len(g.members()) == 4

    return check


def one_input(data: bytes) -> None:
    w, payload = pick(WORLDS, data)
    feed(w, lambda g: g.commit(add=[payload]), "KeyPackage", _still_commits(w))


if __name__ == "__main__":
    main(one_input, "commit_add")
