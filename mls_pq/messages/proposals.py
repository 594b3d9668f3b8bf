"""Proposals (RFC 9420 §12.1) and ``ProposalOrRef`` (§12.4).

Each proposal body is its own frozen struct (:class:`Add`, :class:`Update`, ...) carrying
its ``proposal_type``; :class:`Proposal` is the tagged union around one body.

Unknown proposal types: RFC 9420 gives ``Proposal`` no length prefix, so the body of a
proposal type this implementation does not know cannot be delimited and therefore cannot
be kept as opaque bytes. Decoding one raises :class:`~mls_pq.errors.DecodeError`, unless
an extension registered a body struct for that type with :func:`register_proposal_type`
(RFC 9420 §13.2: new proposal types define their own wire format).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import ClassVar, Self

from ..codec import Reader, Struct, Writer
from ..errors import DecodeError, ValidationError
from ..extensions import Extension
from ..psk import PreSharedKeyID
from .app_data import AppDataUpdate
from .key_package import KeyPackage
from .leaf_node import LeafNode


class ProposalType(IntEnum):
    """The RFC 9420 entries of the "MLS Proposal Types" registry (§17.4)."""

    ADD = 0x0001
    UPDATE = 0x0002
    REMOVE = 0x0003
    PSK = 0x0004
    REINIT = 0x0005
    EXTERNAL_INIT = 0x0006
    GROUP_CONTEXT_EXTENSIONS = 0x0007


@dataclass(frozen=True)
class ProposalTypeInfo:
    """Registry columns of a proposal type (RFC 9420 §17.4): may an ``external`` sender send
    it, and does a Commit covering it need a ``path``."""

    body: type[Struct]
    external: bool
    path_required: bool


# ---- bodies (RFC 9420 §12.1.1–§12.1.7) ----------------------------------------------------


@dataclass(frozen=True)
class Add(Struct):
    """``struct { KeyPackage key_package; } Add`` (§12.1.1)."""

    proposal_type: ClassVar[int] = ProposalType.ADD
    key_package: KeyPackage

    def encode(self, w: Writer) -> None:
        self.key_package.encode(w)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(KeyPackage.decode(r))


@dataclass(frozen=True)
class Update(Struct):
    """``struct { LeafNode leaf_node; } Update`` (§12.1.2)."""

    proposal_type: ClassVar[int] = ProposalType.UPDATE
    leaf_node: LeafNode

    def encode(self, w: Writer) -> None:
        self.leaf_node.encode(w)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(LeafNode.decode(r))


@dataclass(frozen=True)
class Remove(Struct):
    """``struct { uint32 removed; } Remove`` (§12.1.3)."""

    proposal_type: ClassVar[int] = ProposalType.REMOVE
    removed: int

    def encode(self, w: Writer) -> None:
        w.uint32(self.removed)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(r.uint32())


@dataclass(frozen=True)
class PreSharedKey(Struct):
    """``struct { PreSharedKeyID psk; } PreSharedKey`` (§12.1.4)."""

    proposal_type: ClassVar[int] = ProposalType.PSK
    psk: PreSharedKeyID

    def encode(self, w: Writer) -> None:
        self.psk.encode(w)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(PreSharedKeyID.decode(r))


@dataclass(frozen=True)
class ReInit(Struct):
    """``ReInit`` (§12.1.5): the parameters of the group that replaces this one.

    ``version`` is decoded as any uint16 (a ReInit may announce a newer protocol version).
    """

    proposal_type: ClassVar[int] = ProposalType.REINIT
    group_id: bytes
    version: int
    cipher_suite: int
    extensions: tuple[Extension, ...] = ()

    def encode(self, w: Writer) -> None:
        w.opaque(self.group_id).uint16(self.version).uint16(self.cipher_suite).structs(self.extensions)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(r.opaque(), r.uint16(), r.uint16(), tuple(r.structs(Extension)))


@dataclass(frozen=True)
class ExternalInit(Struct):
    """``struct { opaque kem_output<V>; } ExternalInit`` (§12.1.6)."""

    proposal_type: ClassVar[int] = ProposalType.EXTERNAL_INIT
    kem_output: bytes

    def encode(self, w: Writer) -> None:
        w.opaque(self.kem_output)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(r.opaque())


@dataclass(frozen=True)
class GroupContextExtensions(Struct):
    """``struct { Extension extensions<V>; } GroupContextExtensions`` (§12.1.7)."""

    proposal_type: ClassVar[int] = ProposalType.GROUP_CONTEXT_EXTENSIONS
    extensions: tuple[Extension, ...] = ()

    def encode(self, w: Writer) -> None:
        w.structs(self.extensions)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(tuple(r.structs(Extension)))


#: proposal_type -> body struct and registry columns (RFC 9420 §17.4, Table 8)
PROPOSAL_TYPES: dict[int, ProposalTypeInfo] = {
    ProposalType.ADD: ProposalTypeInfo(Add, external=True, path_required=False),
    ProposalType.UPDATE: ProposalTypeInfo(Update, external=False, path_required=True),
    ProposalType.REMOVE: ProposalTypeInfo(Remove, external=True, path_required=True),
    ProposalType.PSK: ProposalTypeInfo(PreSharedKey, external=True, path_required=False),
    ProposalType.REINIT: ProposalTypeInfo(ReInit, external=True, path_required=False),
    ProposalType.EXTERNAL_INIT: ProposalTypeInfo(ExternalInit, external=False, path_required=True),
    ProposalType.GROUP_CONTEXT_EXTENSIONS: ProposalTypeInfo(GroupContextExtensions, external=True, path_required=True),
}

DEFAULT_PROPOSAL_TYPES = frozenset(int(t) for t in ProposalType)

# draft-ietf-mls-extensions §4.7, §7.2: AppDataUpdate (0x0008 suggested; External: Y, Path
# Required: N). A non-default type: members must advertise it (§12.2), and a group without a
# component registry rejects it (mls_pq.components: component unknown to the application).
PROPOSAL_TYPES[AppDataUpdate.proposal_type] = ProposalTypeInfo(AppDataUpdate, external=True, path_required=False)


def register_proposal_type(body: type[Struct], *, external: bool, path_required: bool) -> None:
    """Register the wire struct of a new proposal type (RFC 9420 §13.2). ``body`` must define a
    class attribute ``proposal_type``; built-in types cannot be replaced."""
    ptype = int(getattr(body, "proposal_type"))  # noqa: B009  (not declared on Struct)
    if ptype in DEFAULT_PROPOSAL_TYPES:
        raise ValueError(f"proposal type 0x{ptype:04x} is defined by RFC 9420 and cannot be replaced")
    PROPOSAL_TYPES[ptype] = ProposalTypeInfo(body, external, path_required)


def proposal_type_info(ptype: int) -> ProposalTypeInfo | None:
    return PROPOSAL_TYPES.get(ptype)


@dataclass(frozen=True)
class Proposal(Struct):
    """``struct { ProposalType proposal_type; select (proposal_type) {...}; } Proposal``."""

    body: Struct

    def __post_init__(self) -> None:
        if not isinstance(getattr(type(self.body), "proposal_type", None), int):
            raise ValidationError(f"{type(self.body).__name__} is not a proposal body", "12.1")

    @property
    def proposal_type(self) -> int:
        return int(getattr(type(self.body), "proposal_type"))  # noqa: B009  (not declared on Struct)

    def encode(self, w: Writer) -> None:
        w.uint16(self.proposal_type)
        self.body.encode(w)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        ptype = r.uint16()
        info = PROPOSAL_TYPES.get(ptype)
        if info is None:
            raise DecodeError(f"unknown proposal type 0x{ptype:04x}: its body cannot be delimited (RFC 9420 §12.1)")
        return cls(info.body.decode(r))


class ProposalOrRefType(IntEnum):
    """``enum { reserved(0), proposal(1), reference(2), (255) } ProposalOrRefType``."""

    PROPOSAL = 1
    REFERENCE = 2


@dataclass(frozen=True)
class ProposalOrRef(Struct):
    """A proposal by value or by ``ProposalRef`` (§12.4). Exactly one field is set."""

    proposal: Proposal | None = None
    reference: bytes | None = field(default=None)

    def __post_init__(self) -> None:
        if (self.proposal is None) == (self.reference is None):
            raise ValidationError("ProposalOrRef holds exactly one of proposal and reference", "12.4")

    @property
    def type(self) -> ProposalOrRefType:
        return ProposalOrRefType.PROPOSAL if self.proposal is not None else ProposalOrRefType.REFERENCE

    def encode(self, w: Writer) -> None:
        if self.proposal is not None:
            w.uint8(ProposalOrRefType.PROPOSAL)
            self.proposal.encode(w)
        else:
            assert self.reference is not None
            w.uint8(ProposalOrRefType.REFERENCE).opaque(self.reference)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        t = r.uint8()
        if t == ProposalOrRefType.PROPOSAL:
            return cls(proposal=Proposal.decode(r))
        if t == ProposalOrRefType.REFERENCE:
            return cls(reference=r.opaque())
        raise DecodeError(f"unknown ProposalOrRefType {t} (RFC 9420 §12.4)")
