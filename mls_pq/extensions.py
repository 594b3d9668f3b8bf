"""Extensions (RFC 9420 §13): the generic ``Extension`` struct and the registered types."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

from .codec import Reader, Struct, Writer

# RFC 9420 §17.3 — MLS Extension Types
APPLICATION_ID = 0x0001
RATCHET_TREE = 0x0002
REQUIRED_CAPABILITIES = 0x0003
EXTERNAL_PUB = 0x0004
EXTERNAL_SENDERS = 0x0005

DEFAULT_EXTENSION_TYPES = frozenset({APPLICATION_ID, RATCHET_TREE, REQUIRED_CAPABILITIES, EXTERNAL_PUB, EXTERNAL_SENDERS})

#: RFC 9420 §13.5 GREASE values (0x0A0A, 0x1A1A, ..., 0xEAEA)
GREASE_VALUES = frozenset(0x0A0A + 0x1010 * i for i in range(15))


def is_grease(value: int) -> bool:
    return value in GREASE_VALUES


@dataclass(frozen=True)
class Extension(Struct):
    """``struct { ExtensionType extension_type; opaque extension_data<V>; } Extension``"""

    extension_type: int
    extension_data: bytes

    def encode(self, w: Writer) -> None:
        w.uint16(self.extension_type).opaque(self.extension_data)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(r.uint16(), r.opaque())
