"""Application PSKs: ``psk_type = application(3)`` with ``component_id`` in PreSharedKeyID
(draft-ietf-mls-extensions §4.5) and their PSKLabel in the psk_secret chain (RFC 9420 §8.4)."""

from __future__ import annotations

import pytest

from mls_pq.errors import DecodeError, DraftValidationError
from mls_pq.psk import PSK_APPLICATION, PreSharedKeyID, psk_secret
from mls_pq.suites import get_suite


def test_application_psk_id_encoding_section_4_5() -> None:
    pid = PreSharedKeyID.application(0x0006, b"\xaa\xbb", b"\x01" * 3)
    assert pid.psktype == PSK_APPLICATION == 3
    # psktype(3) || uint16 component_id || opaque psk_id<V> || opaque psk_nonce<V>
    assert pid.to_bytes() == bytes.fromhex("03" "0006" "02aabb" "03010101")
    assert PreSharedKeyID.from_bytes(pid.to_bytes()) == pid


def test_application_psk_truncated_and_unknown_type() -> None:
    enc = PreSharedKeyID.application(7, b"id", b"n").to_bytes()
    for cut in range(1, len(enc)):
        with pytest.raises(DecodeError):
            PreSharedKeyID.from_bytes(enc[:cut])
    with pytest.raises(DecodeError, match="PSKType 4"):
        PreSharedKeyID.from_bytes(b"\x04" + enc[1:])


def test_application_psk_component_id_is_uint16_section_4_5() -> None:
    with pytest.raises(DraftValidationError, match="§4.5"):
        PreSharedKeyID.application(0x10000, b"", b"")


def test_psk_label_embeds_application_variant_rfc9420_8_4() -> None:
    """psk_secret of one application PSK computed by hand from RFC 9420 §8.4: PSKLabel =
    PreSharedKeyID (with component_id) || uint16 index || uint16 count."""
    s = get_suite(0x0001)
    psk = bytes(range(32))
    pid = PreSharedKeyID.application(0x0006, b"id", b"\x00" * s.n_h)
    zero = bytes(s.n_h)
    label = b"\x03\x00\x06\x02id" + bytes([s.n_h]) + zero + b"\x00\x00\x00\x01"
    psk_input = s.expand_with_label(s.extract(zero, psk), "derived psk", label, s.n_h)
    assert psk_secret(s, [(pid, psk)]) == s.extract(psk_input, zero)


def test_application_psks_domain_separated_section_4_5() -> None:
    """Same psk_id and value under different components, or as an external PSK: different
    psk_secret (§4.5: components' PSKs do not collide, nor with MLS's own)."""
    s = get_suite(0x0001)
    psk, nonce = b"\x11" * 32, b"\x22" * s.n_h
    a6 = psk_secret(s, [(PreSharedKeyID.application(6, b"id", nonce), psk)])
    a7 = psk_secret(s, [(PreSharedKeyID.application(7, b"id", nonce), psk)])
    ext = psk_secret(s, [(PreSharedKeyID.external(b"id", nonce), psk)])
    assert len({a6, a7, ext}) == 3
    assert a6 == psk_secret(s, [(PreSharedKeyID.application(6, b"id", nonce), psk)])
