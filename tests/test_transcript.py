"""Transcript hashes and confirmation tags (RFC 9420 §8.2)."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from mls_pq.errors import ValidationError
from mls_pq.framing import authenticate
from mls_pq.group_context import GroupContext
from mls_pq.messages.commit import Commit
from mls_pq.messages.framing_structs import (
    AuthenticatedContent,
    FramedContent,
    FramedContentAuthData,
    Sender,
    WireFormat,
)
from mls_pq.messages.proposals import Proposal, Remove
from mls_pq.suites import get_suite
from mls_pq.transcript import (
    confirmation_tag,
    confirmed_transcript_hash,
    confirmed_transcript_hash_input,
    interim_transcript_hash,
    update_transcript,
    verify_confirmation_tag,
)

S = get_suite(1)


def test_against_hashlib() -> None:
    fc = FramedContent(b"g", 0, Sender.member(0), b"", Commit())
    sig = b"\x55" * 64
    inp = confirmed_transcript_hash_input(WireFormat.PUBLIC_MESSAGE, fc, sig)
    assert inp == b"\x00\x01" + fc.to_bytes() + b"\x40\x40" + sig
    confirmed = confirmed_transcript_hash(S, b"", WireFormat.PUBLIC_MESSAGE, fc, sig)
    assert confirmed == hashlib.sha256(inp).digest()
    key = b"\x01" * 32
    tag = confirmation_tag(S, key, confirmed)
    assert tag == hmac.new(key, confirmed, hashlib.sha256).digest()
    assert interim_transcript_hash(S, confirmed, tag) == hashlib.sha256(confirmed + b"\x20" + tag).digest()
    verify_confirmation_tag(S, key, confirmed, tag)
    with pytest.raises(ValidationError) as e:
        verify_confirmation_tag(S, key, confirmed, tag[:-1] + bytes([tag[-1] ^ 1]))
    assert e.value.section == "6.1"


def test_chain_over_two_commits() -> None:
    sk, _ = S.signature.generate()
    interim = b""
    seen = set()
    for epoch in range(2):
        fc = FramedContent(b"g", epoch, Sender.member(0), b"", Commit())
        ac0 = authenticate(S, WireFormat.PUBLIC_MESSAGE, fc, sk, _ctx(epoch), b"\x00" * 32)
        confirmed = confirmed_transcript_hash(S, interim, ac0.wire_format, fc, ac0.auth.signature)
        tag = confirmation_tag(S, b"\x02" * 32, confirmed)
        ac = AuthenticatedContent(ac0.wire_format, fc, FramedContentAuthData(ac0.auth.signature, tag))
        c2, i2 = update_transcript(S, interim, ac)
        assert c2 == confirmed and i2 == interim_transcript_hash(S, confirmed, tag)
        # the confirmation tag is not part of the confirmed hash, only of the interim one
        c3, i3 = update_transcript(S, interim, AuthenticatedContent(ac0.wire_format, fc, ac0.auth))
        assert c3 == c2 and i3 != i2
        seen.add(c2)
        interim = i2
    assert len(seen) == 2


def test_only_commits() -> None:
    fc = FramedContent(b"g", 0, Sender.member(0), b"", Proposal(Remove(1)))
    with pytest.raises(ValidationError):
        confirmed_transcript_hash_input(WireFormat.PUBLIC_MESSAGE, fc, b"s")


def _ctx(epoch: int) -> GroupContext:
    return GroupContext(1, b"g", epoch, b"t", b"c")
