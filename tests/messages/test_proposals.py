"""Proposal, ProposalOrRef and Commit wire structs (RFC 9420 §12.1, §12.4)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

import pytest

from mls_pq.codec import Reader, Struct, Writer
from mls_pq.errors import DecodeError, ValidationError
from mls_pq.extensions import Extension
from mls_pq.messages.commit import Commit
from mls_pq.messages.proposals import (
    PROPOSAL_TYPES,
    ExternalInit,
    GroupContextExtensions,
    PreSharedKey,
    Proposal,
    ProposalOrRef,
    ProposalOrRefType,
    ProposalType,
    ReInit,
    Remove,
    register_proposal_type,
)
from mls_pq.psk import PreSharedKeyID


def test_remove_proposal_exact_encoding() -> None:
    p = Proposal(Remove(2))
    assert p.proposal_type == ProposalType.REMOVE
    # proposal_type 0x0003, removed uint32 2 (this is the "proposal" of message-protection.json)
    assert p.to_bytes() == bytes.fromhex("000300000002")
    assert Proposal.from_bytes(p.to_bytes()) == p


@pytest.mark.parametrize(
    "body",
    [
        Remove(0xFFFFFFFF),
        PreSharedKey(PreSharedKeyID.external(b"id", b"\x01" * 32)),
        PreSharedKey(PreSharedKeyID.resumption(2, b"g", 7, b"\x02" * 32)),
        ReInit(b"new-group", 1, 0x0003, (Extension(0x0A0A, b"grease"),)),
        ExternalInit(b"\x05" * 32),
        GroupContextExtensions(()),
        GroupContextExtensions((Extension(5, b"x"), Extension(0xF000, b""))),
    ],
)
def test_proposal_roundtrip(body: Struct) -> None:
    p = Proposal(body)
    again = Proposal.from_bytes(p.to_bytes())
    assert again == p
    assert type(again.body) is type(body)
    assert again.to_bytes()[:2] == int(getattr(body, "proposal_type")).to_bytes(2, "big")  # noqa: B009


def test_registry_columns_follow_rfc_table() -> None:
    """RFC 9420 §17.4: External and Path Required columns."""
    ext = {t for t, i in PROPOSAL_TYPES.items() if i.external and t in set(ProposalType)}
    path = {t for t, i in PROPOSAL_TYPES.items() if i.path_required and t in set(ProposalType)}
    assert ext == {1, 3, 4, 5, 7}
    assert path == {2, 3, 6, 7}


@pytest.mark.parametrize("ptype", [0x0000, 0x000B, 0x0A0A, 0xF000])
def test_unknown_proposal_type_is_a_decode_error(ptype: int) -> None:
    """§12.1: Proposal has no length prefix, so an unknown body cannot be skipped."""
    data = ptype.to_bytes(2, "big") + b"\x00\x00\x00\x01"
    with pytest.raises(DecodeError, match="unknown proposal type"):
        Proposal.from_bytes(data)


@dataclass(frozen=True)
class _Custom(Struct):
    proposal_type = 0xF0F0
    payload: bytes

    def encode(self, w: Writer) -> None:
        w.opaque(self.payload)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(r.opaque())


def test_registered_custom_proposal_type() -> None:
    register_proposal_type(_Custom, external=False, path_required=True)
    try:
        p = Proposal.from_bytes(bytes.fromhex("f0f0") + b"\x03abc")
        assert p.body == _Custom(b"abc") and p.proposal_type == 0xF0F0
        assert p.to_bytes() == bytes.fromhex("f0f0") + b"\x03abc"
    finally:
        del PROPOSAL_TYPES[0xF0F0]
    with pytest.raises(ValueError):
        register_proposal_type(Remove, external=True, path_required=True)


def test_proposal_or_ref() -> None:
    ref = ProposalOrRef(reference=b"\xaa" * 32)
    assert ref.type == ProposalOrRefType.REFERENCE
    assert ref.to_bytes() == b"\x02\x20" + b"\xaa" * 32
    by_value = ProposalOrRef(Proposal(Remove(1)))
    assert by_value.to_bytes() == bytes.fromhex("01000300000001")
    for x in (ref, by_value):
        assert ProposalOrRef.from_bytes(x.to_bytes()) == x
    with pytest.raises(DecodeError):
        ProposalOrRef.from_bytes(b"\x03\x00")
    with pytest.raises(ValidationError):
        ProposalOrRef()
    with pytest.raises(ValidationError):
        ProposalOrRef(Proposal(Remove(1)), b"x")


def test_proposal_rejects_non_body() -> None:
    with pytest.raises(ValidationError):
        Proposal(Extension(1, b""))


def test_commit_without_path() -> None:
    c = Commit((ProposalOrRef(Proposal(Remove(3))), ProposalOrRef(reference=b"r")))
    data = c.to_bytes()
    assert data[-1] == 0  # optional<UpdatePath> absent
    assert Commit.from_bytes(data) == c
    with pytest.raises(DecodeError):
        Commit.from_bytes(data[:-1] + b"\x02")  # bad presence octet
    assert Commit().to_bytes() == b"\x00\x00"
