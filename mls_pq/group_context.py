"""GroupContext (RFC 9420 §8.1)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Self

from .codec import Reader, Struct, Writer
from .errors import DecodeError, ValidationError
from .extensions import Extension
from .messages.version import PROTOCOL_VERSION_MLS10

#: the last value of the uint64 ``epoch`` (RFC 9420 §8): a group there cannot advance
LAST_EPOCH = (1 << 64) - 1


def next_epoch(epoch: int) -> int:
    """``epoch + 1``, or :class:`~mls_pq.errors.ValidationError` when ``epoch`` is already
    the last uint64 value (RFC 9420 §8: ``uint64 epoch``): such a group (or a GroupInfo
    claiming it) cannot be committed to or joined by an external commit."""
    if epoch >= LAST_EPOCH:
        raise ValidationError("the group is at the last epoch (2^64-1) and cannot advance", "8")
    return epoch + 1


@dataclass(frozen=True)
class GroupContext(Struct):
    """The group's shared state summary, hashed into the key schedule every epoch."""

    cipher_suite: int
    group_id: bytes
    epoch: int
    tree_hash: bytes
    confirmed_transcript_hash: bytes
    extensions: tuple[Extension, ...] = ()
    version: int = PROTOCOL_VERSION_MLS10

    def encode(self, w: Writer) -> None:
        w.uint16(self.version).uint16(self.cipher_suite).opaque(self.group_id).uint64(self.epoch)
        w.opaque(self.tree_hash).opaque(self.confirmed_transcript_hash).structs(self.extensions)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        version = r.uint16()
        if version != PROTOCOL_VERSION_MLS10:
            raise DecodeError(f"unsupported protocol version {version}")
        return cls(
            version=version,
            cipher_suite=r.uint16(),
            group_id=r.opaque(),
            epoch=r.uint64(),
            tree_hash=r.opaque(),
            confirmed_transcript_hash=r.opaque(),
            extensions=tuple(r.structs(Extension)),
        )

    def evolve(self, **changes: object) -> GroupContext:
        return replace(self, **changes)  # type: ignore[arg-type]

    def extension(self, ext_type: int) -> Extension | None:
        for e in self.extensions:
            if e.extension_type == ext_type:
                return e
        return None
