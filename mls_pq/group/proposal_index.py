"""O(1) lookup of an epoch's cached proposals by ProposalRef (RFC 9420 §12.1, §12.4).

A :class:`~mls_pq.group.state.GroupState` keeps the proposals cached in its epoch as an
immutable tuple (in arrival order: the order a commit covers them, and the serialised order).
Finding one by its ProposalRef by scanning that tuple made every received proposal (which is
looked up before it is cached) and every commit by reference cost O(P), so P proposals in
one epoch cost O(P^2). :class:`RefIndex` is the dict ``ref -> position`` kept alongside.

Sharing without copying: the index is not serialised and not compared; a state holds it
as ``(tuple, index)``, valid only while that tuple *is* the state's ``proposals`` (identity),
so a state whose proposals were replaced any other way rebuilds it once, lazily. Appending
(:func:`appended`) extends the index in place when the state is the newest of the states
sharing it (its tuple is as long as the index) and gives the new state the same index; an
older state sharing it still sees exactly its own entries, because a position counts only
when it is inside that state's tuple. Appending to an older state (a fork: a message that
was rejected after its tentative state was built, then another) copies the index first.
The tuple itself is still copied on append (a pointer copy, far cheaper than the per-
proposal signature checks); ``Limits.max_pending_proposals`` bounds P.

Written by hand: a few lines of bookkeeping no library provides for a frozen dataclass.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar


class Referenced(Protocol):
    """What the index needs of a cached proposal (:class:`~mls_pq.group.state.CachedProposal`):
    its ProposalRef. Typed structurally so that this module sits below the state module."""

    @property
    def ref(self) -> bytes: ...


#: the cached-proposal type a caller indexes (its own type comes back from the lookups)
CachedProposal = TypeVar("CachedProposal", bound=Referenced)


class RefIndex:
    """``ref -> position`` of the proposals of one lineage of cached-proposal tuples, and
    ``size``: the length of the longest (newest) tuple it indexes."""

    __slots__ = ("by_ref", "size")

    def __init__(self, proposals: Sequence[Referenced] = ()) -> None:
        self.by_ref: dict[bytes, int] = {}
        for i, c in enumerate(proposals):
            self.by_ref.setdefault(c.ref, i)
        self.size = len(proposals)

    def find(self, proposals: Sequence[CachedProposal], ref: bytes) -> CachedProposal | None:
        """The proposal of ``proposals`` (a tuple this index covers) with ``ref``, or None."""
        i = self.by_ref.get(ref)
        if i is None or i >= len(proposals):
            return None
        return proposals[i]

    def __repr__(self) -> str:
        return f"<RefIndex {len(self.by_ref)} refs, size {self.size}>"


#: what a GroupState stores: the tuple the index was built for, and the index
IndexCache = tuple[tuple[Referenced, ...], RefIndex]


def index_for(proposals: tuple[Referenced, ...], cache: IndexCache | None) -> RefIndex:
    """The index of ``proposals``: the cached one if it was built for this very tuple,
    else a new one (O(len(proposals)), once per tuple not made by :func:`appended`)."""
    if cache is not None and cache[0] is proposals:
        return cache[1]
    return RefIndex(proposals)


def appended(
    proposals: tuple[CachedProposal, ...], cache: IndexCache | None, new: CachedProposal
) -> tuple[tuple[CachedProposal, ...], IndexCache]:
    """``proposals + (new,)`` and its index cache; O(1) for the index when ``proposals`` is
    the newest tuple of its index, one copy otherwise (see the module docstring)."""
    index = index_for(proposals, cache)
    if index.size != len(proposals):  # an older state appends: do not disturb the newer ones
        index = RefIndex(proposals)
    index.by_ref.setdefault(new.ref, len(proposals))
    index.size = len(proposals) + 1
    out = (*proposals, new)
    return out, (out, index)


__all__ = ["IndexCache", "RefIndex", "Referenced", "appended", "index_for"]
