"""Extensions (RFC 9420 §13): the generic ``Extension`` struct, the registered types, and the
one rule every list of extensions obeys (:func:`check_unique_types`, §13.5)."""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Iterable
from typing import Self

from .codec import Reader, Struct, Writer
from .errors import ValidationError

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


@dataclass(frozen=True, slots=True)
class Extension(Struct):
    """``struct { ExtensionType extension_type; opaque extension_data<V>; } Extension``

    Slotted (no per-instance ``__dict__``; :class:`~mls_pq.codec.Struct` declares
    ``__slots__ = ()``): a hostile list of empty extensions decodes to about half the
    memory (issue 8). Extension caches nothing on itself, unlike the ``CachedStruct``s."""

    extension_type: int
    extension_data: bytes

    def encode(self, w: Writer) -> None:
        w.uint16(self.extension_type).opaque(self.extension_data)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(r.uint16(), r.opaque())


def check_unique_types(extensions: Iterable[Extension], what: str) -> None:
    """RFC 9420 §13.5: "Any field containing a list of extensions MUST NOT have more than one
    extension of any given type." Raises :class:`~mls_pq.errors.ValidationError` (§13.5)
    naming ``what`` (e.g. "the KeyPackage extensions") and the first repeated type.

    The one home of this rule: applied where an extension list enters the protocol (a
    KeyPackage, a LeafNode, a GroupContextExtensions or ReInit proposal, a GroupInfo and its
    GroupContext, a group we create), at validation time rather than while decoding, so
    any well-formed message still decodes and re-encodes byte for byte. One pass, a set."""
    seen: set[int] = set()
    for ext in extensions:
        t = ext.extension_type
        if t in seen:
            raise ValidationError(f"{what} contain more than one extension of type 0x{t:04x}", "13.5")
        seen.add(t)
