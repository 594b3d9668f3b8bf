"""GroupInfo, GroupSecrets and Welcome (RFC 9420 §12.4.3)."""

from __future__ import annotations

import pytest

from mls_pq.errors import DecodeError, DecryptError
from mls_pq.extensions import Extension
from mls_pq.group.welcome import decrypt_group_info, encrypt_group_info, open_group_secrets, seal_group_secrets
from mls_pq.group_context import GroupContext
from mls_pq.messages.framing_structs import MLSMessage, WireFormat
from mls_pq.messages.welcome import EncryptedGroupSecrets, GroupInfo, GroupSecrets, Welcome
from mls_pq.psk import PreSharedKeyID
from mls_pq.suites import get_suite

SUITE = get_suite(1)


def _group_info() -> GroupInfo:
    gc = GroupContext(1, b"group", 3, b"\x01" * 32, b"\x02" * 32, (Extension(3, b"\x00\x00\x00"),))
    return GroupInfo(gc, (Extension(0x0A0A, b""),), b"\x03" * 32, 2)


def test_group_info_sign_verify() -> None:
    sk, pk = SUITE.signature.generate()
    gi = _group_info().sign(SUITE, sk)
    assert gi.verify(SUITE, pk)
    assert GroupInfo.from_bytes(gi.to_bytes()) == gi
    assert gi.to_bytes().startswith(gi.tbs())
    # the signature covers every field and uses the "GroupInfoTBS" label
    from dataclasses import replace

    assert not replace(gi, signer=1).verify(SUITE, pk)
    assert not replace(gi, confirmation_tag=b"\x04" * 32).verify(SUITE, pk)
    assert not SUITE.verify_with_label(pk, "GroupInfo", gi.tbs(), gi.signature)
    assert SUITE.verify_with_label(pk, "GroupInfoTBS", gi.tbs(), gi.signature)
    m = MLSMessage(gi)
    assert m.wire_format == WireFormat.GROUP_INFO and MLSMessage.from_bytes(m.to_bytes()) == m


def test_group_secrets_roundtrip_and_repr() -> None:
    psk = PreSharedKeyID.external(b"id", b"\x09" * 32)
    for gs in (GroupSecrets(b"\x11" * 32), GroupSecrets(b"\x11" * 32, b"\x22" * 32, (psk,))):
        assert GroupSecrets.from_bytes(gs.to_bytes()) == gs
        assert "1111" not in repr(gs) and "2222" not in repr(gs)
    assert GroupSecrets(b"\x11").to_bytes() == b"\x01\x11\x00\x00"
    with pytest.raises(DecodeError):
        GroupSecrets.from_bytes(b"\x01\x11\x02\x00")


def test_welcome_seal_open() -> None:
    init_sk, init_pk = SUITE.generate_key_pair()
    welcome_secret = b"\x05" * SUITE.n_h
    gi = _group_info()
    egi = encrypt_group_info(SUITE, welcome_secret, gi)
    gs = GroupSecrets(b"\x33" * 32, None, ())
    sealed = seal_group_secrets(SUITE, init_pk, egi, gs)
    w = Welcome(SUITE.id, (EncryptedGroupSecrets(b"ref", sealed),), egi)
    w2 = MLSMessage.from_bytes(MLSMessage(w).to_bytes()).body
    assert w2 == w and isinstance(w2, Welcome)
    entry = w2.find(b"ref")
    assert entry is not None and w2.find(b"other") is None
    assert open_group_secrets(SUITE, init_sk, w2.encrypted_group_info, entry.encrypted_group_secrets) == gs
    assert decrypt_group_info(SUITE, welcome_secret, w2.encrypted_group_info) == gi
    # the GroupSecrets are bound to encrypted_group_info (the HPKE context)
    with pytest.raises(DecryptError):
        open_group_secrets(SUITE, init_sk, egi + b"x", sealed)
    with pytest.raises(DecryptError):
        decrypt_group_info(SUITE, b"\x06" * SUITE.n_h, egi)
