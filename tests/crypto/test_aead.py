"""HPKE AEADs (mls_pq.crypto.aead): every encryption of the RFC 9180 and hpke-pq vectors
replayed directly on the AEAD (nonce = base_nonce XOR seq), plus negative tests."""

from __future__ import annotations

from typing import Any

import pytest

from mls_pq.crypto import get_aead
from mls_pq.crypto.aead import AES128GCM, AES256GCM, CHACHA20POLY1305, EXPORT_ONLY
from mls_pq.errors import CryptoError, DecryptError, UnsupportedAlgorithm
from tests import _vectors

H = bytes.fromhex


def _with_aead(d: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for c in d if c["aead_id"] != 0xFFFF]


CASES = (
    _vectors.cases("rfc9180-hpke", "test-vectors.json", select=_with_aead,
                   ident=lambda i, c: f"rfc9180-{i}-mode{c['mode']}-kem{c['kem_id']:04x}-aead{c['aead_id']}")
    + _vectors.cases("hpke-pq", "test-vectors.json", select=_with_aead,
                     ident=lambda i, c: f"hpke-pq-{i}-aead{c['aead_id']}")
)


@pytest.mark.parametrize("case", CASES)
def test_vector_encryptions(case: dict[str, Any]) -> None:
    aead = get_aead(case["aead_id"])
    key, base_nonce = H(case["key"]), H(case["base_nonce"])
    assert (len(key), len(base_nonce)) == (aead.n_k, aead.n_n)
    for seq, e in enumerate(case["encryptions"]):
        nonce = bytes(a ^ b for a, b in zip(base_nonce, seq.to_bytes(aead.n_n, "big"), strict=True))
        assert nonce == H(e["nonce"])
        aad, pt, ct = H(e["aad"]), H(e["pt"]), H(e["ct"])
        assert aead.seal(key, nonce, aad, pt) == ct
        assert aead.open(key, nonce, aad, ct) == pt
        assert len(ct) == len(pt) + aead.n_t


@pytest.mark.parametrize("aead", [AES128GCM, AES256GCM, CHACHA20POLY1305], ids=lambda a: a.name)
def test_tampering_raises_decrypt_error(aead: Any) -> None:
    key, nonce = b"\x01" * aead.n_k, b"\x02" * aead.n_n
    ct = aead.seal(key, nonce, b"aad", b"plaintext")
    for args in [
        (key, nonce, b"aad", bytes([ct[0] ^ 1]) + ct[1:]),      # ciphertext bit
        (key, nonce, b"aad", ct[:-1] + bytes([ct[-1] ^ 1])),    # tag bit
        (key, nonce, b"AAD", ct),                                # aad
        (key, b"\x03" * aead.n_n, b"aad", ct),                   # nonce
        (b"\x09" * aead.n_k, nonce, b"aad", ct),                 # key
        (key, nonce, b"aad", ct[:aead.n_t - 1]),                 # shorter than a tag
        (key, nonce, b"aad", b""),
    ]:
        with pytest.raises(DecryptError):
            aead.open(*args)
    assert aead.open(key, nonce, b"aad", ct) == b"plaintext"


@pytest.mark.parametrize("aead", [AES128GCM, AES256GCM, CHACHA20POLY1305], ids=lambda a: a.name)
def test_wrong_key_or_nonce_size(aead: Any) -> None:
    with pytest.raises(CryptoError):
        aead.seal(b"k" * (aead.n_k + 1), b"n" * aead.n_n, b"", b"")
    with pytest.raises(CryptoError):
        aead.open(b"k" * aead.n_k, b"n" * (aead.n_n - 1), b"", b"x" * 16)


def test_parameters_and_registry() -> None:
    """RFC 9180 §7.3 Table 5."""
    assert [(a.id, a.n_k, a.n_n, a.n_t) for a in (AES128GCM, AES256GCM, CHACHA20POLY1305, EXPORT_ONLY)] == [
        (1, 16, 12, 16), (2, 32, 12, 16), (3, 32, 12, 16), (0xFFFF, 0, 0, 0)]
    for a in (AES128GCM, AES256GCM, CHACHA20POLY1305, EXPORT_ONLY):
        assert get_aead(a.id) is a
    assert AES128GCM.backend == "cryptography"


def test_export_only_cannot_seal_or_open() -> None:
    with pytest.raises(UnsupportedAlgorithm):
        EXPORT_ONLY.seal(b"", b"", b"", b"pt")
    with pytest.raises(UnsupportedAlgorithm):
        EXPORT_ONLY.open(b"", b"", b"", b"ct")
