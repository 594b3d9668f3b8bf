"""Shared body of the targets that feed one input to bob's live group (``fuzz_process.py``,
``fuzz_process_insider.py``, ``fuzz_commit_add.py``).

bob's group of each world is kept across inputs while they are rejected (a rejected input must
leave it byte-identical, which :func:`feed` asserts) and rebuilt from the world after an
accepted one. Every ``CHECK_EVERY`` inputs :func:`feed` runs the target's "next valid input
still works" check on a group the fuzzer reached, then starts over from the world.

Import after :func:`_harness.instrumented` (this module imports mls_pq).

Written by hand: glue between atheris and the library, nothing a library provides.
"""

from __future__ import annotations

from collections.abc import Callable

from _harness import COUNTER
from mls_pq.errors import MLSError
from mls_pq.group import Group, StagedCommit
from worlds import World

_live: dict[int, Group] = {}


def receiver(w: World) -> Group:
    """bob's live group of world ``w`` (rebuilt from the world when there is none)."""
    g = _live.get(w.suite)
    if g is None:
        g = _live[w.suite] = w.receiver_group()
    return g


def feed(w: World, op: Callable[[Group], object], what: str, check_next: Callable[[Group], None]) -> None:
    """Apply ``op`` to bob's live group: only MLSError may escape it, and a rejected ``what``
    leaves the group byte-identical. Periodically ``check_next`` proves the group still works."""
    g = receiver(w)
    before = g.to_bytes()
    try:
        op(g)
    except MLSError:
        COUNTER.rejected += 1
        assert g.to_bytes() == before, f"a rejected {what} changed the group state"
    else:
        COUNTER.accepted += 1
        del _live[w.suite]  # accepted: start from the pristine receiver next time
    if COUNTER.tick():
        check_next(receiver(w))
        _live.pop(w.suite, None)


def receive(g: Group, data: bytes) -> object:
    """``g.process(data)``; an accepted commit is merged at once (RFC 9420 §12.4.2), so that
    the merge is fuzzed too."""
    res = g.process(data)
    if isinstance(res, StagedCommit):
        res.merge()
    return res


def next_commit_processes(w: World) -> Callable[[Group], None]:
    """The check of the ``process`` targets: bob processes alice's real next commit."""

    def check(g: Group) -> None:
        epoch = g.epoch
        res = receive(g, w.messages[w.valid_next])
        assert isinstance(res, StagedCommit) and g.epoch == epoch + 1, "the next valid commit was not processed"

    return check
