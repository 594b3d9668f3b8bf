"""Framing wire structs (RFC 9420 §6) and the MLSMessage envelope; decoding garbage only
ever raises DecodeError."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mls_pq.errors import DecodeError, ValidationError
from mls_pq.messages.commit import Commit
from mls_pq.messages.framing_structs import (
    AuthenticatedContent,
    ContentType,
    FramedContent,
    FramedContentAuthData,
    MLSMessage,
    PrivateMessage,
    PrivateMessageContent,
    PublicMessage,
    Sender,
    SenderData,
    SenderType,
    WireFormat,
)
from mls_pq.messages.proposals import Proposal, Remove
from tests._vectors import load, path

MESSAGES = ("mls-implementations", "test-vectors", "messages.json")


@pytest.mark.parametrize(
    "sender, enc",
    [
        (Sender.member(5), "0100000005"),
        (Sender.external(1), "0200000001"),
        (Sender.new_member_proposal(), "03"),
        (Sender.new_member_commit(), "04"),
    ],
)
def test_sender_encoding(sender: Sender, enc: str) -> None:
    assert sender.to_bytes().hex() == enc
    assert Sender.from_bytes(bytes.fromhex(enc)) == sender


@pytest.mark.parametrize("bad", ["00", "05", "ff", "01000000"])
def test_sender_rejects(bad: str) -> None:
    with pytest.raises(DecodeError):
        Sender.from_bytes(bytes.fromhex(bad))


def test_leaf_index_only_for_members() -> None:
    assert Sender.member(3).leaf_index == 3
    with pytest.raises(ValidationError):
        _ = Sender.external(3).leaf_index


MEMBER1 = Sender.member(1)


def _content(body: bytes | Proposal | Commit, sender: Sender = MEMBER1) -> FramedContent:
    return FramedContent(b"group", 7, sender, b"ad", body)


def test_framed_content_roundtrip_and_content_type() -> None:
    for body, ct in (
        (b"hello", ContentType.APPLICATION),
        (Proposal(Remove(1)), ContentType.PROPOSAL),
        (Commit(), ContentType.COMMIT),
    ):
        fc = _content(body)
        assert fc.content_type == ct
        assert FramedContent.from_bytes(fc.to_bytes()) == fc
    data = bytearray(_content(b"x").to_bytes())
    i = len(b"\x05group") + 8 + 5 + 3  # the content_type octet
    assert data[i] == ContentType.APPLICATION
    for bad in (0, 4, 255):
        data[i] = bad
        with pytest.raises(DecodeError):
            FramedContent.from_bytes(bytes(data))


def test_confirmation_tag_exactly_for_commits() -> None:
    """§6.1: FramedContentAuthData carries confirmation_tag iff content_type == commit."""
    with pytest.raises(ValidationError):
        AuthenticatedContent(WireFormat.PUBLIC_MESSAGE, _content(Commit()), FramedContentAuthData(b"s"))
    with pytest.raises(ValidationError):
        AuthenticatedContent(WireFormat.PUBLIC_MESSAGE, _content(b"a"), FramedContentAuthData(b"s", b"t"))
    ac = AuthenticatedContent(WireFormat.PUBLIC_MESSAGE, _content(Commit()), FramedContentAuthData(b"s", b"t"))
    assert ac.to_bytes().endswith(b"\x01s\x01t")
    assert AuthenticatedContent.from_bytes(ac.to_bytes()) == ac
    with pytest.raises(DecodeError):  # an AuthenticatedContent is only public or private
        AuthenticatedContent.from_bytes(b"\x00\x03" + ac.to_bytes()[2:])


def test_membership_tag_exactly_for_members() -> None:
    """§6.2: membership_tag is present for member senders only."""
    auth = FramedContentAuthData(b"sig")
    with pytest.raises(ValidationError):
        PublicMessage(_content(Proposal(Remove(0))), auth)
    with pytest.raises(ValidationError):
        PublicMessage(_content(Proposal(Remove(0)), Sender.external(0)), auth, b"tag")
    for pm in (
        PublicMessage(_content(Proposal(Remove(0))), auth, b"tag"),
        PublicMessage(_content(Proposal(Remove(0)), Sender.external(0)), auth),
    ):
        assert PublicMessage.from_bytes(pm.to_bytes()) == pm


def test_private_message_content_padding() -> None:
    pmc = PrivateMessageContent(b"data", FramedContentAuthData(b"sig"), padding=5)
    pt = pmc.to_bytes()
    assert pt == b"\x04data\x03sig" + bytes(5)
    assert PrivateMessageContent.from_bytes(pt, ContentType.APPLICATION) == pmc
    for i in range(1, 6):  # any non-zero padding octet is rejected (§6.3.1)
        bad = bytearray(pt)
        bad[-i] = 0x80
        with pytest.raises(ValidationError) as e:
            PrivateMessageContent.from_bytes(bytes(bad), ContentType.APPLICATION)
        assert e.value.section == "6.3.1"
    with pytest.raises(DecodeError):
        PrivateMessageContent.from_bytes(b"\x04dat", ContentType.APPLICATION)


def test_sender_data() -> None:
    sd = SenderData(3, 9, b"\x01\x02\x03\x04")
    assert sd.to_bytes().hex() == "000000030000000901020304"
    assert SenderData.from_bytes(sd.to_bytes()) == sd
    assert "01020304" not in repr(sd)
    with pytest.raises(DecodeError):
        SenderData.from_bytes(sd.to_bytes()[:-1])


def test_mls_message_envelope() -> None:
    pm = PrivateMessage(b"g", 1, ContentType.APPLICATION, b"", b"esd", b"ct")
    m = MLSMessage(pm)
    data = m.to_bytes()
    assert data[:4] == b"\x00\x01\x00\x02"
    assert MLSMessage.from_bytes(data) == m
    with pytest.raises(DecodeError, match="version"):
        MLSMessage.from_bytes(b"\x00\x02" + data[2:])
    for wf in (0, 6, 0xF000):
        with pytest.raises(DecodeError):
            MLSMessage.from_bytes(b"\x00\x01" + wf.to_bytes(2, "big") + data[4:])
    with pytest.raises(DecodeError, match="trailing"):
        MLSMessage.from_bytes(data + b"\x00")
    with pytest.raises(ValidationError):
        MLSMessage(Sender.member(1))  # type: ignore[arg-type]


# ---- fuzz: truncated / garbled messages raise DecodeError only ------------------------


def _seed_messages() -> list[bytes]:
    if not path(*MESSAGES).exists():
        return [MLSMessage(PrivateMessage(b"g", 1, ContentType.APPLICATION, b"", b"e", b"c")).to_bytes()]
    out = []
    for case in load(*MESSAGES)[:3]:
        for k in (
            "mls_welcome",
            "mls_group_info",
            "mls_key_package",
            "public_message_application",
            "public_message_proposal",
            "public_message_commit",
            "private_message",
        ):
            out.append(bytes.fromhex(case[k]))
    return out


SEEDS = _seed_messages()


def _decode_only_decode_error(data: bytes) -> None:
    try:
        m = MLSMessage.from_bytes(data)
    except DecodeError:
        return
    assert m.to_bytes() == data  # anything accepted re-encodes identically


@settings(max_examples=2500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SEEDS), st.data())
def test_fuzz_mutated_messages(seed: bytes, data: st.DataObject) -> None:
    buf = bytearray(seed)
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(["flip", "truncate", "insert", "delete"]))
        if not buf:
            break
        i = data.draw(st.integers(0, len(buf) - 1))
        if op == "flip":
            buf[i] ^= data.draw(st.integers(1, 255))
        elif op == "truncate":
            del buf[i:]
        elif op == "insert":
            buf[i:i] = data.draw(st.binary(min_size=1, max_size=4))
        else:
            del buf[i : i + data.draw(st.integers(1, 8))]
    _decode_only_decode_error(bytes(buf))


@settings(max_examples=1000, deadline=None)
@given(st.binary(max_size=64).map(lambda b: b"\x00\x01" + b))
def test_fuzz_random_bytes(data: bytes) -> None:
    _decode_only_decode_error(data)


def test_every_truncation_of_a_commit_message_is_a_decode_error() -> None:
    seed = next(s for s in SEEDS if s[2:4] == b"\x00\x01")
    for n in range(len(seed)):
        with pytest.raises(DecodeError):
            MLSMessage.from_bytes(seed[:n])


def test_sender_normalises_type() -> None:
    assert Sender(1, 4) == Sender.member(4) and Sender(1, 4).sender_type is SenderType.MEMBER  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        Sender(9)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        Sender(SenderType.NEW_MEMBER_COMMIT, 2)
