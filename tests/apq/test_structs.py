"""Combiner wire structs: APQInfo (draft-ietf-mls-combiner §5.1), APQInfoUpdate (§5.1.1) and
APQMessagePair with its reject rules (§6) and code points (§9)."""

from __future__ import annotations

import pytest

from mls_pq.apq.structs import (
    APQ_COMPONENT_ID,
    APQ_MESSAGE_PAIR,
    APQInfo,
    APQInfoUpdate,
    APQMessagePair,
    APQUpdateType,
    is_apq_message_pair,
)
from mls_pq.client import Client
from mls_pq.codec import Writer
from mls_pq.errors import DecodeError, DraftValidationError, MLSError
from mls_pq.group import Group
from mls_pq.messages.framing_structs import (
    ContentType,
    MLSMessage,
    PrivateMessage,
    WireFormat,
)
from mls_pq.suites import get_suite

INFO = APQInfo(b"t-group", b"pq-group", True, 0x0001, 0x0010, 5, 2)


def test_code_points_section_9() -> None:
    assert APQ_COMPONENT_ID == 0x0006 and APQ_MESSAGE_PAIR == 0x0007


def test_apq_info_encoding_section_5_1() -> None:
    enc = INFO.to_bytes()
    assert enc == (
        b"\x07t-group" + b"\x08pq-group" + b"\x01" + b"\x00\x01" + b"\x00\x10"
        + (5).to_bytes(8, "big") + (2).to_bytes(8, "big")
    )
    assert APQInfo.from_bytes(enc) == INFO
    assert INFO.immutable_fields() == (b"t-group", b"pq-group", True, 1, 0x10)


def test_apq_info_bad_bool_and_truncation_section_5_1() -> None:
    enc = bytearray(INFO.to_bytes())
    enc[17] = 2  # the mode octet (after 1+7 and 1+8 bytes of group ids)
    with pytest.raises(DecodeError, match="boolean"):
        APQInfo.from_bytes(bytes(enc))
    with pytest.raises(DecodeError):
        APQInfo.from_bytes(INFO.to_bytes()[:-1])
    with pytest.raises(DecodeError):
        APQInfo.from_bytes(INFO.to_bytes() + b"\x00")


def test_apq_info_update_encoding_section_5_1_1() -> None:
    full = APQInfoUpdate.full(INFO)
    assert full.to_bytes() == b"\x00" + INFO.to_bytes()
    t = APQInfoUpdate.t_epoch(7)
    assert t.to_bytes() == b"\x01" + (7).to_bytes(8, "big")
    pq = APQInfoUpdate.pq_epoch(2**64 - 1)
    assert pq.to_bytes() == b"\x02" + b"\xff" * 8
    for u in (full, t, pq):
        assert APQInfoUpdate.from_bytes(u.to_bytes()) == u
    assert t.update_type is APQUpdateType.NEW_T_EPOCH


@pytest.mark.parametrize("t", [3, 255])
def test_apq_info_update_unknown_type_rejected_section_5_1_1(t: int) -> None:
    with pytest.raises(DecodeError, match="combiner §5.1.1"):
        APQInfoUpdate.from_bytes(bytes([t]) + bytes(8))
    with pytest.raises(DraftValidationError, match="combiner §5.1.1"):
        APQInfoUpdate(t)  # type: ignore[arg-type]


def test_apq_info_update_shape_section_5_1_1() -> None:
    with pytest.raises(DraftValidationError, match="§5.1.1"):
        APQInfoUpdate(APQUpdateType.FULL_UPDATE)
    with pytest.raises(DraftValidationError, match="§5.1.1"):
        APQInfoUpdate(APQUpdateType.NEW_T_EPOCH, INFO)
    with pytest.raises(DraftValidationError, match="§5.1.1"):
        APQInfoUpdate.t_epoch(2**64)


# ---- APQMessagePair (§6) -----------------------------------------------------------------


@pytest.fixture(scope="module")
def messages() -> dict[str, MLSMessage]:
    """Real messages from two one-member groups: public and private commits, an application message."""
    s = get_suite(0x0001)
    out: dict[str, MLSMessage] = {}
    for name in ("t", "pq"):
        c = Client.generate(s, name.encode())
        g = Group.create(s, name.encode() + b"-group", c.credential, c.signature_priv)
        pub = g.commit(path=True, wire_format=WireFormat.PUBLIC_MESSAGE)
        g.merge_pending_commit()
        priv = g.commit(path=True, wire_format=WireFormat.PRIVATE_MESSAGE)
        g.merge_pending_commit()
        out[name + "_pub"] = MLSMessage.from_bytes(pub.commit)
        out[name + "_priv"] = MLSMessage.from_bytes(priv.commit)
        out[name + "_app"] = MLSMessage.from_bytes(g.encrypt(b"hello"))
    return out


def test_pair_round_trip_section_6(messages: dict[str, MLSMessage]) -> None:
    for kind in ("pub", "priv"):
        pair = APQMessagePair.of(messages["t_" + kind], messages["pq_" + kind])
        enc = pair.to_bytes()
        assert enc[:2] == int(messages["t_" + kind].wire_format).to_bytes(2, "big")
        assert enc[2:] == messages["t_" + kind].to_bytes() + messages["pq_" + kind].to_bytes()
        assert APQMessagePair.from_bytes(enc) == pair
        outer = pair.to_mls_message()
        assert outer[:4] == b"\x00\x01\x00\x07" and is_apq_message_pair(outer)
        assert APQMessagePair.from_mls_message(outer) == pair
    assert not is_apq_message_pair(messages["t_pub"].to_bytes())
    with pytest.raises(DecodeError, match="apq_message_pair"):
        APQMessagePair.from_mls_message(messages["t_pub"].to_bytes())


def test_pair_inner_wire_formats_must_match_section_6(messages: dict[str, MLSMessage]) -> None:
    with pytest.raises(DraftValidationError, match="pq_message has wire format.*combiner §6"):
        APQMessagePair(1, messages["t_pub"], messages["pq_priv"])
    with pytest.raises(DraftValidationError, match="t_message has wire format.*combiner §6"):
        APQMessagePair(2, messages["t_pub"], messages["pq_priv"])
    # on the wire: the pair says public, pq_message is private
    enc = Writer().uint16(1).raw(messages["t_pub"].to_bytes()).raw(messages["pq_priv"].to_bytes()).getvalue()
    with pytest.raises(DraftValidationError, match="pq_message.*§6"):
        APQMessagePair.from_bytes(enc)
    # the pair's own wire format disagrees with both
    enc = Writer().uint16(3).raw(messages["t_pub"].to_bytes()).raw(messages["pq_pub"].to_bytes()).getvalue()
    with pytest.raises(DraftValidationError, match="t_message.*§6"):
        APQMessagePair.from_bytes(enc)


def test_pair_wire_format_not_apq_message_pair_section_6(messages: dict[str, MLSMessage]) -> None:
    with pytest.raises(DraftValidationError, match="combiner §6"):
        APQMessagePair(APQ_MESSAGE_PAIR, messages["t_pub"], messages["pq_pub"])
    nested = APQMessagePair.of(messages["t_pub"], messages["pq_pub"]).to_mls_message()
    enc = Writer().uint16(APQ_MESSAGE_PAIR).raw(nested).raw(nested).getvalue()
    with pytest.raises(DraftValidationError, match="apq_message_pair.*§6"):
        APQMessagePair.from_bytes(enc)


def test_pair_rejects_application_content_section_6(messages: dict[str, MLSMessage]) -> None:
    app = messages["t_app"]
    assert isinstance(app.body, PrivateMessage) and app.body.content_type == ContentType.APPLICATION
    with pytest.raises(DraftValidationError, match="content type application.*§6"):
        APQMessagePair.of(app, messages["pq_priv"])
    with pytest.raises(DraftValidationError, match="pq_message.*application.*§6"):
        APQMessagePair.of(messages["t_priv"], messages["pq_app"])
    enc = Writer().uint16(2).raw(messages["t_priv"].to_bytes()).raw(messages["pq_app"].to_bytes()).getvalue()
    with pytest.raises(DraftValidationError, match="application.*§6"):
        APQMessagePair.from_bytes(enc)


def test_pair_truncations_are_mls_errors(messages: dict[str, MLSMessage]) -> None:
    enc = APQMessagePair.of(messages["t_priv"], messages["pq_priv"]).to_bytes()
    for cut in (0, 1, 2, 3, 5, len(enc) // 2, len(enc) - 1):
        with pytest.raises(MLSError):
            APQMessagePair.from_bytes(enc[:cut])
