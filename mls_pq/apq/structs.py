"""Wire structs of the APQ-MLS combiner (draft-ietf-mls-combiner, editors' copy 2026-08-21):
``APQInfo`` (§5.1), ``APQInfoUpdate`` (§5.1.1) and ``APQMessagePair`` (§6) with the outer
``MLSMessage`` framing of wire format ``apq_message_pair`` (0x0007, §9.2).

The combiner is an application *component* (id 0x0006, §9.1) of draft-ietf-mls-extensions; the
MLS engine knows nothing of it. Written by hand: no Python library implements this draft.

Reject rules of §6 enforced here, at construction and decoding (``DraftValidationError`` naming
draft-ietf-mls-combiner §6):

* ``wire_format`` MUST NOT be ``apq_message_pair``;
* the wire formats of ``t_message`` and ``pq_message`` MUST equal ``wire_format`` (checked on the
  inner header before the inner body is decoded);
* a message with wire format ``mls_private_message`` MUST NOT be of content type application.
  ``PrivateMessage.content_type`` travels in clear and is part of the AEAD's additional data
  (``PrivateContentAAD``, RFC 9420 §6.3.2), so checking the clear field here is sound: a forged
  value fails decryption later. A ``PublicMessage`` of content type application is rejected too
  (RFC 9420 §6.2 already forbids it).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar, Final, Self

from ..codec import Reader, Struct, Writer
from ..errors import DecodeError, DraftValidationError
from ..messages.framing_structs import (
    ContentType,
    MLSMessage,
    PrivateMessage,
    PublicMessage,
)
from ..messages.version import PROTOCOL_VERSION_MLS10

DRAFT: Final = "draft-ietf-mls-combiner"

#: §9.1 apq_mls_info MLS Component Type (Where: GC)
APQ_COMPONENT_ID: Final = 0x0006
#: §9.2 apq_message_pair MLS Wire Format
APQ_MESSAGE_PAIR: Final = 0x0007


def combiner_error(message: str, section: str) -> DraftValidationError:
    return DraftValidationError(message, section, DRAFT)


@dataclass(frozen=True)
class APQInfo(Struct):
    """``APQInfo`` (§5.1), the data of component 0x0006 in both sessions' GroupContext::

        struct { opaque t_session_group_id<V>; opaque pq_session_group_id<V>; bool mode;
                 CipherSuite t_cipher_suite; CipherSuite pq_cipher_suite;
                 uint64 t_epoch; uint64 pq_epoch; } APQInfo

    ``mode`` False: PQ/T confidentiality only (§4.1); True: confidentiality + authenticity (§4.2)."""

    wire_name: ClassVar[str] = "APQInfo"
    t_session_group_id: bytes
    pq_session_group_id: bytes
    mode: bool
    t_cipher_suite: int
    pq_cipher_suite: int
    t_epoch: int
    pq_epoch: int

    def encode(self, w: Writer) -> None:
        w.opaque(self.t_session_group_id).opaque(self.pq_session_group_id).boolean(self.mode)
        w.uint16(self.t_cipher_suite).uint16(self.pq_cipher_suite).uint64(self.t_epoch).uint64(self.pq_epoch)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(r.opaque(), r.opaque(), r.boolean(), r.uint16(), r.uint16(), r.uint64(), r.uint64())

    def immutable_fields(self) -> tuple[bytes, bytes, bool, int, int]:
        """Every field but the two epochs: fixed for the session's lifetime (§5.1.1, §7.1)."""
        return (self.t_session_group_id, self.pq_session_group_id, self.mode, self.t_cipher_suite, self.pq_cipher_suite)


class APQUpdateType(IntEnum):
    """``enum { full_update(0), new_t_epoch(1), new_pq_epoch(2), (255) } APQUpdateType`` (§5.1.1)."""

    FULL_UPDATE = 0
    NEW_T_EPOCH = 1
    NEW_PQ_EPOCH = 2


@dataclass(frozen=True)
class APQInfoUpdate(Struct):
    """``APQInfoUpdate`` (§5.1.1), the ``update`` payload of an AppDataUpdate for component
    0x0006: a complete ``new_apq_info`` (full_update) or one new epoch value."""

    wire_name: ClassVar[str] = "APQInfoUpdate"
    update_type: APQUpdateType
    new_apq_info: APQInfo | None = None
    new_epoch: int = 0

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "update_type", APQUpdateType(self.update_type))
        except ValueError:
            raise combiner_error(f"unknown APQUpdateType {self.update_type!r}", "5.1.1") from None
        if (self.update_type == APQUpdateType.FULL_UPDATE) != (self.new_apq_info is not None):
            raise combiner_error("new_apq_info is present exactly for full_update", "5.1.1")
        if not 0 <= self.new_epoch < 1 << 64:
            raise combiner_error("new epoch is not a uint64", "5.1.1")

    @classmethod
    def full(cls, info: APQInfo) -> APQInfoUpdate:
        return cls(APQUpdateType.FULL_UPDATE, info)

    @classmethod
    def t_epoch(cls, epoch: int) -> APQInfoUpdate:
        return cls(APQUpdateType.NEW_T_EPOCH, new_epoch=epoch)

    @classmethod
    def pq_epoch(cls, epoch: int) -> APQInfoUpdate:
        return cls(APQUpdateType.NEW_PQ_EPOCH, new_epoch=epoch)

    def encode(self, w: Writer) -> None:
        w.uint8(self.update_type)
        if self.new_apq_info is not None:
            self.new_apq_info.encode(w)
        else:
            w.uint64(self.new_epoch)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        t = r.uint8()
        if t == APQUpdateType.FULL_UPDATE:
            return cls(APQUpdateType.FULL_UPDATE, APQInfo.decode(r))
        if t in (APQUpdateType.NEW_T_EPOCH, APQUpdateType.NEW_PQ_EPOCH):
            return cls(APQUpdateType(t), new_epoch=r.uint64())
        raise DecodeError(f"unknown APQUpdateType {t} ({DRAFT} §5.1.1)")


def _check_inner(wire_format: int, which: str, message: MLSMessage) -> None:
    if int(message.wire_format) != wire_format:
        raise combiner_error(
            f"{which} has wire format 0x{int(message.wire_format):04x}, the pair says 0x{wire_format:04x}", "6"
        )
    body = message.body
    if isinstance(body, PrivateMessage) and body.content_type == ContentType.APPLICATION:
        raise combiner_error(f"{which} is a PrivateMessage of content type application", "6")
    if isinstance(body, PublicMessage) and body.content.content_type == ContentType.APPLICATION:
        raise combiner_error(f"{which} is a PublicMessage of content type application", "6")


@dataclass(frozen=True)
class APQMessagePair(Struct):
    """``struct { WireFormat wire_format; MLSMessage t_message; MLSMessage pq_message; }``
    (§6), with the §6 reject rules (see the module docstring)."""

    wire_name: ClassVar[str] = "APQMessagePair"
    wire_format: int
    t_message: MLSMessage
    pq_message: MLSMessage

    def __post_init__(self) -> None:
        if self.wire_format == APQ_MESSAGE_PAIR:
            raise combiner_error("APQMessagePair.wire_format is apq_message_pair", "6")
        _check_inner(self.wire_format, "t_message", self.t_message)
        _check_inner(self.wire_format, "pq_message", self.pq_message)

    @classmethod
    def of(cls, t_message: MLSMessage, pq_message: MLSMessage) -> APQMessagePair:
        """A pair whose ``wire_format`` is that of ``t_message``."""
        return cls(int(t_message.wire_format), t_message, pq_message)

    def encode(self, w: Writer) -> None:
        w.uint16(self.wire_format)
        self.t_message.encode(w)
        self.pq_message.encode(w)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        wf = r.uint16()
        if wf == APQ_MESSAGE_PAIR:
            raise combiner_error("APQMessagePair.wire_format is apq_message_pair", "6")
        t = _decode_inner(r, wf, "t_message")
        pq = _decode_inner(r, wf, "pq_message")
        return cls(wf, t, pq)

    # ---- the outer MLSMessage (version, wire_format = apq_message_pair, APQMessagePair) ----
    def to_mls_message(self) -> bytes:
        """The MLSMessage carrying this pair: ``ProtocolVersion version = mls10; WireFormat
        wire_format = apq_message_pair; APQMessagePair pair`` (§6)."""
        w = Writer().uint16(PROTOCOL_VERSION_MLS10).uint16(APQ_MESSAGE_PAIR)
        self.encode(w)
        return w.getvalue()

    @classmethod
    def from_mls_message(cls, data: bytes) -> APQMessagePair:
        """Inverse of :meth:`to_mls_message`; DecodeError / DraftValidationError on bad input."""
        if not is_apq_message_pair(data):
            raise DecodeError(f"not an MLSMessage of wire format apq_message_pair ({DRAFT} §6)")
        return cls.from_bytes(bytes(data[4:]))


def _decode_inner(r: Reader, wire_format: int, which: str) -> MLSMessage:
    """Check an inner MLSMessage's wire format on its header, before decoding its body (§6)."""
    if r.remaining() < 4:
        raise DecodeError(f"short input: {which} header")
    inner_wf = int.from_bytes(r.data[r.pos + 2 : r.pos + 4], "big")
    if inner_wf != wire_format:
        raise combiner_error(f"{which} has wire format 0x{inner_wf:04x}, the pair says 0x{wire_format:04x}", "6")
    return MLSMessage.decode(r)


def is_apq_message_pair(data: bytes) -> bool:
    """Does ``data`` start like an MLSMessage (mls10) of wire format apq_message_pair? For
    dispatching received bytes between a pair and a single traditional message."""
    return len(data) >= 4 and data[:2] == PROTOCOL_VERSION_MLS10.to_bytes(2, "big") and data[2:4] == b"\x00\x07"
