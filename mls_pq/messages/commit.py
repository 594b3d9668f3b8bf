"""Commit (RFC 9420 §12.4)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

from ..codec import Reader, Struct, Writer
from .proposals import ProposalOrRef
from .update_path import UpdatePath


@dataclass(frozen=True)
class Commit(Struct):
    """``struct { ProposalOrRef proposals<V>; optional<UpdatePath> path; } Commit``.

    Whether ``path`` may be absent depends on the covered proposals (§12.4); that check
    belongs to commit validation, not to decoding.
    """

    proposals: tuple[ProposalOrRef, ...] = ()
    path: UpdatePath | None = None

    def encode(self, w: Writer) -> None:
        w.structs(self.proposals)
        w.optional(self.path, lambda ww, p: p.encode(ww))

    @classmethod
    def decode(cls, r: Reader) -> Self:
        proposals = tuple(r.structs(ProposalOrRef))
        return cls(proposals, r.optional(UpdatePath.decode))
