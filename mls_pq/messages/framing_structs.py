"""Message framing structs (RFC 9420 §6): senders, FramedContent, its authentication data,
PublicMessage, PrivateMessage with its encrypted parts, and the MLSMessage envelope.

These are the wire formats only. Signing, membership tags and encryption live in
:mod:`mls_pq.framing`; every decode error is a :class:`~mls_pq.errors.DecodeError`.
Semantic rules that are not about syntax (e.g. "application data is never sent as a
PublicMessage", §6.2) are enforced when protecting/unprotecting, so that any syntactically
valid message can be decoded and re-encoded byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from functools import cached_property
from typing import Self, TypeVar

from ..codec import CachedStruct, Reader, Struct, Writer
from ..errors import DecodeError, ValidationError
from ..group_context import GroupContext
from .commit import Commit
from .key_package import KeyPackage
from .proposals import Proposal
from .version import PROTOCOL_VERSION_MLS10
from .welcome import GroupInfo, Welcome

E = TypeVar("E", bound=IntEnum)


def _enum(cls: type[E], value: int, what: str) -> E:
    try:
        return cls(value)
    except ValueError:
        raise DecodeError(f"unknown {what} {value} (RFC 9420 §6)") from None


class WireFormat(IntEnum):
    """The RFC 9420 entries of the "MLS Wire Formats" registry (§17.2)."""

    PUBLIC_MESSAGE = 0x0001
    PRIVATE_MESSAGE = 0x0002
    WELCOME = 0x0003
    GROUP_INFO = 0x0004
    KEY_PACKAGE = 0x0005


class ContentType(IntEnum):
    """``enum { reserved(0), application(1), proposal(2), commit(3), (255) } ContentType``."""

    APPLICATION = 1
    PROPOSAL = 2
    COMMIT = 3


class SenderType(IntEnum):
    """``enum { reserved(0), member(1), external(2), new_member_proposal(3), new_member_commit(4) }``."""

    MEMBER = 1
    EXTERNAL = 2
    NEW_MEMBER_PROPOSAL = 3
    NEW_MEMBER_COMMIT = 4


@dataclass(frozen=True)
class Sender(Struct):
    """``Sender`` (§6): ``index`` is the ``leaf_index`` of a member, the ``sender_index`` into
    the external_senders extension of an external sender, and 0 (not encoded) otherwise."""

    sender_type: SenderType
    index: int = 0

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "sender_type", SenderType(self.sender_type))
        except ValueError:
            raise ValidationError(f"unknown sender type {self.sender_type}", "6") from None
        if self.sender_type in (SenderType.NEW_MEMBER_PROPOSAL, SenderType.NEW_MEMBER_COMMIT) and self.index:
            raise ValidationError(f"a {self.sender_type.name} sender has no index", "6")

    @classmethod
    def member(cls, leaf_index: int) -> Sender:
        return cls(SenderType.MEMBER, leaf_index)

    @classmethod
    def external(cls, sender_index: int) -> Sender:
        return cls(SenderType.EXTERNAL, sender_index)

    @classmethod
    def new_member_proposal(cls) -> Sender:
        return cls(SenderType.NEW_MEMBER_PROPOSAL)

    @classmethod
    def new_member_commit(cls) -> Sender:
        return cls(SenderType.NEW_MEMBER_COMMIT)

    @property
    def is_member(self) -> bool:
        return self.sender_type == SenderType.MEMBER

    @property
    def leaf_index(self) -> int:
        if self.sender_type != SenderType.MEMBER:
            raise ValidationError(f"sender of type {self.sender_type.name} has no leaf index", "6")
        return self.index

    def encode(self, w: Writer) -> None:
        w.uint8(self.sender_type)
        if self.sender_type in (SenderType.MEMBER, SenderType.EXTERNAL):
            w.uint32(self.index)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        st = _enum(SenderType, r.uint8(), "SenderType")
        if st in (SenderType.MEMBER, SenderType.EXTERNAL):
            return cls(st, r.uint32())
        return cls(st)


Body = bytes | Proposal | Commit


def content_type_of(body: Body) -> ContentType:
    if isinstance(body, bytes):
        return ContentType.APPLICATION
    if isinstance(body, Proposal):
        return ContentType.PROPOSAL
    if isinstance(body, Commit):
        return ContentType.COMMIT
    raise ValidationError(f"{type(body).__name__} is not application data, a Proposal or a Commit", "6")


def encode_body(w: Writer, body: Body) -> None:
    """The ``select (content_type)`` part shared by FramedContent and PrivateMessageContent."""
    if isinstance(body, bytes):
        w.opaque(body)
    else:
        body.encode(w)


def decode_body(r: Reader, content_type: ContentType) -> Body:
    if content_type == ContentType.APPLICATION:
        return r.opaque()
    if content_type == ContentType.PROPOSAL:
        return Proposal.decode(r)
    return Commit.decode(r)


@dataclass(frozen=True)
class FramedContent(Struct):
    """``FramedContent`` (§6). ``body`` is application data (bytes), a Proposal or a Commit;
    ``content_type`` follows from it."""

    group_id: bytes
    epoch: int
    sender: Sender
    authenticated_data: bytes
    body: Body

    def __post_init__(self) -> None:
        content_type_of(self.body)

    @property
    def content_type(self) -> ContentType:
        return content_type_of(self.body)

    def encode(self, w: Writer) -> None:
        w.opaque(self.group_id).uint64(self.epoch)
        self.sender.encode(w)
        w.opaque(self.authenticated_data).uint8(self.content_type)
        encode_body(w, self.body)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        group_id = r.opaque()
        epoch = r.uint64()
        sender = Sender.decode(r)
        authenticated_data = r.opaque()
        ct = _enum(ContentType, r.uint8(), "ContentType")
        return cls(group_id, epoch, sender, authenticated_data, decode_body(r, ct))


def framed_content_tbs(wire_format: int, content: FramedContent, context: GroupContext | None) -> bytes:
    """The encoded ``FramedContentTBS`` (§6.1): the GroupContext is included for ``member``
    and ``new_member_commit`` senders and must then be given."""
    w = Writer().uint16(PROTOCOL_VERSION_MLS10).uint16(wire_format)
    content.encode(w)
    if content.sender.sender_type in (SenderType.MEMBER, SenderType.NEW_MEMBER_COMMIT):
        if context is None:
            raise ValidationError(
                "FramedContentTBS of a member or new_member_commit sender needs the GroupContext", "6.1"
            )
        context.encode(w)
    return w.getvalue()


@dataclass(frozen=True)
class FramedContentAuthData(Struct):
    """``FramedContentAuthData`` (§6.1): the signature and, for commits only, the
    ``confirmation_tag``. Its layout depends on the content type, so decode it with
    :meth:`decode_for`."""

    signature: bytes
    confirmation_tag: bytes | None = None

    def encode(self, w: Writer) -> None:
        w.opaque(self.signature)
        if self.confirmation_tag is not None:
            w.opaque(self.confirmation_tag)

    @classmethod
    def decode_for(cls, r: Reader, content_type: ContentType) -> Self:
        signature = r.opaque()
        return cls(signature, r.opaque() if content_type == ContentType.COMMIT else None)

    @classmethod
    def decode(cls, r: Reader) -> Self:  # pragma: no cover - layout needs the content type
        raise DecodeError("FramedContentAuthData needs its content type: use decode_for")


def _check_auth(content_type: ContentType, auth: FramedContentAuthData) -> None:
    if (auth.confirmation_tag is not None) != (content_type == ContentType.COMMIT):
        raise ValidationError("confirmation_tag is present exactly for commits", "6.1")


@dataclass(frozen=True)
class AuthenticatedContent(CachedStruct):
    """``struct { WireFormat wire_format; FramedContent content; FramedContentAuthData auth; }``."""

    wire_format: WireFormat
    content: FramedContent
    auth: FramedContentAuthData

    def __post_init__(self) -> None:
        _check_auth(self.content.content_type, self.auth)

    @cached_property
    def encoded(self) -> bytes:
        w = Writer().uint16(self.wire_format)
        self.content.encode(w)
        self.auth.encode(w)
        return w.getvalue()

    def to_bytes(self) -> bytes:
        return self.encoded

    @classmethod
    def decode(cls, r: Reader) -> Self:
        wf = _enum(WireFormat, r.uint16(), "WireFormat")
        if wf not in (WireFormat.PUBLIC_MESSAGE, WireFormat.PRIVATE_MESSAGE):
            raise DecodeError(f"AuthenticatedContent with wire format {wf.name} (RFC 9420 §6)")
        content = FramedContent.decode(r)
        return cls(wf, content, FramedContentAuthData.decode_for(r, content.content_type))

    def tbs(self, context: GroupContext | None) -> bytes:
        """The encoded ``FramedContentTBS`` this content's signature covers."""
        return framed_content_tbs(self.wire_format, self.content, context)

    def tbm(self, context: GroupContext | None) -> bytes:
        """The encoded ``AuthenticatedContentTBM`` = FramedContentTBS || auth (§6.2)."""
        return self.tbs(context) + self.auth.to_bytes()


@dataclass(frozen=True)
class PublicMessage(Struct):
    """``PublicMessage`` (§6.2): ``membership_tag`` is present exactly for member senders."""

    content: FramedContent
    auth: FramedContentAuthData
    membership_tag: bytes | None = None

    def __post_init__(self) -> None:
        _check_auth(self.content.content_type, self.auth)
        if (self.membership_tag is not None) != self.content.sender.is_member:
            raise ValidationError("membership_tag is present exactly for member senders", "6.2")

    def encode(self, w: Writer) -> None:
        self.content.encode(w)
        self.auth.encode(w)
        if self.membership_tag is not None:
            w.opaque(self.membership_tag)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        content = FramedContent.decode(r)
        auth = FramedContentAuthData.decode_for(r, content.content_type)
        tag = r.opaque() if content.sender.is_member else None
        return cls(content, auth, tag)

    def authenticated_content(self) -> AuthenticatedContent:
        return AuthenticatedContent(WireFormat.PUBLIC_MESSAGE, self.content, self.auth)


@dataclass(frozen=True)
class PrivateMessage(Struct):
    """``PrivateMessage`` (§6.3)."""

    group_id: bytes
    epoch: int
    content_type: ContentType
    authenticated_data: bytes
    encrypted_sender_data: bytes
    ciphertext: bytes

    def encode(self, w: Writer) -> None:
        w.opaque(self.group_id).uint64(self.epoch).uint8(self.content_type).opaque(self.authenticated_data)
        w.opaque(self.encrypted_sender_data).opaque(self.ciphertext)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        group_id = r.opaque()
        epoch = r.uint64()
        ct = _enum(ContentType, r.uint8(), "ContentType")
        return cls(group_id, epoch, ct, r.opaque(), r.opaque(), r.opaque())

    def sender_data_aad(self) -> bytes:
        return SenderDataAAD(self.group_id, self.epoch, self.content_type).to_bytes()

    def content_aad(self) -> bytes:
        return PrivateContentAAD(self.group_id, self.epoch, self.content_type, self.authenticated_data).to_bytes()


@dataclass(frozen=True)
class PrivateMessageContent:
    """``PrivateMessageContent`` (§6.3.1): body, auth and ``padding`` zero octets."""

    body: Body
    auth: FramedContentAuthData
    padding: int = 0

    def __post_init__(self) -> None:
        _check_auth(content_type_of(self.body), self.auth)
        if self.padding < 0:
            raise ValidationError("padding length must be non-negative", "6.3.1")

    def to_bytes(self) -> bytes:
        w = Writer()
        encode_body(w, self.body)
        self.auth.encode(w)
        w.raw(bytes(self.padding))
        return w.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes, content_type: ContentType) -> PrivateMessageContent:
        """Decode a plaintext; the remaining octets are padding and MUST all be zero (§6.3.1)."""
        r = Reader(data)
        try:
            body = decode_body(r, content_type)
            auth = FramedContentAuthData.decode_for(r, content_type)
        except (IndexError, ValueError) as e:  # defensive: never leak raw errors
            raise DecodeError(f"malformed PrivateMessageContent: {e}") from None
        rest = r.raw(r.remaining())
        if rest.count(0) != len(rest):
            raise ValidationError("PrivateMessageContent padding contains non-zero octets", "6.3.1")
        return cls(body, auth, len(rest))


@dataclass(frozen=True)
class SenderData(Struct):
    """``struct { uint32 leaf_index; uint32 generation; opaque reuse_guard[4]; } SenderData``."""

    leaf_index: int
    generation: int
    reuse_guard: bytes

    def __post_init__(self) -> None:
        if len(self.reuse_guard) != 4:
            raise ValidationError("reuse_guard is 4 octets", "6.3.2")

    def __repr__(self) -> str:
        return f"SenderData(leaf_index={self.leaf_index}, generation={self.generation})"

    def encode(self, w: Writer) -> None:
        w.uint32(self.leaf_index).uint32(self.generation).raw(self.reuse_guard)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(r.uint32(), r.uint32(), r.raw(4))


@dataclass(frozen=True)
class SenderDataAAD(Struct):
    """``struct { opaque group_id<V>; uint64 epoch; ContentType content_type; } SenderDataAAD``."""

    group_id: bytes
    epoch: int
    content_type: ContentType

    def encode(self, w: Writer) -> None:
        w.opaque(self.group_id).uint64(self.epoch).uint8(self.content_type)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(r.opaque(), r.uint64(), _enum(ContentType, r.uint8(), "ContentType"))


@dataclass(frozen=True)
class PrivateContentAAD(Struct):
    """``PrivateContentAAD`` (§6.3.1): group_id, epoch, content_type, authenticated_data."""

    group_id: bytes
    epoch: int
    content_type: ContentType
    authenticated_data: bytes

    def encode(self, w: Writer) -> None:
        w.opaque(self.group_id).uint64(self.epoch).uint8(self.content_type).opaque(self.authenticated_data)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        gid = r.opaque()
        epoch = r.uint64()
        ct = _enum(ContentType, r.uint8(), "ContentType")
        return cls(gid, epoch, ct, r.opaque())


MessageBody = PublicMessage | PrivateMessage | Welcome | GroupInfo | KeyPackage

_WIRE_FORMAT_OF: dict[type, WireFormat] = {
    PublicMessage: WireFormat.PUBLIC_MESSAGE,
    PrivateMessage: WireFormat.PRIVATE_MESSAGE,
    Welcome: WireFormat.WELCOME,
    GroupInfo: WireFormat.GROUP_INFO,
    KeyPackage: WireFormat.KEY_PACKAGE,
}
_BODY_OF: dict[WireFormat, type[Struct]] = {v: k for k, v in _WIRE_FORMAT_OF.items()}


@dataclass(frozen=True)
class MLSMessage(Struct):
    """``MLSMessage`` (§6): version, wire format and one of the five message bodies.
    ``wire_format`` follows from the body's type. Only ``mls10`` is decoded."""

    body: MessageBody
    version: int = PROTOCOL_VERSION_MLS10

    def __post_init__(self) -> None:
        if type(self.body) not in _WIRE_FORMAT_OF:
            raise ValidationError(f"{type(self.body).__name__} cannot be sent as an MLSMessage", "6")

    @property
    def wire_format(self) -> WireFormat:
        return _WIRE_FORMAT_OF[type(self.body)]

    def encode(self, w: Writer) -> None:
        w.uint16(self.version).uint16(self.wire_format)
        self.body.encode(w)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        version = r.uint16()
        if version != PROTOCOL_VERSION_MLS10:
            raise DecodeError(f"unsupported protocol version {version} (RFC 9420 §6)")
        wf = _enum(WireFormat, r.uint16(), "WireFormat")
        body = _BODY_OF[wf].decode(r)
        return cls(body, version)  # type: ignore[arg-type]
