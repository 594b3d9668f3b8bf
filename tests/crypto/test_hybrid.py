"""PQ KEMs at the KEM level against the draft-ietf-hpke-pq vectors, and the P-256/P-384
hybrids (mls_pq.crypto.hybrid) in detail. The HPKE key schedule part of those vectors is
tested in test_hpke_pq.py."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from mls_pq.crypto import kem
from mls_pq.crypto.hybrid import (
    MLKEM768_P256,
    MLKEM1024_P384,
    P256_GROUP,
    P384_GROUP,
    XWING,
    HybridKem,
)
from mls_pq.crypto.mlkem import MLKEM768, MLKEM1024
from mls_pq.errors import CryptoError, InvalidKeyError
from tests._vectors import cases

h = bytes.fromhex
PQ_KEM_IDS = {0x0040, 0x0041, 0x0042, 0x0050, 0x0051, 0x647A}
HYBRIDS = {"MLKEM768-P256": MLKEM768_P256, "MLKEM1024-P384": MLKEM1024_P384, "X-Wing": XWING}
P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def _pq_cases(name: str) -> list[Any]:
    return cases(
        "hpke-pq", name,
        select=lambda d: [c for c in d if c["kem_id"] in PQ_KEM_IDS],
        ident=lambda i, c: f"{name.removesuffix('.json')}-kem{c['kem_id']:04x}-kdf{c['kdf_id']:04x}-aead{c['aead_id']:04x}",
    )


HPKE_PQ = _pq_cases("test-vectors.json") + _pq_cases("test-vectors-143cd50-2025-11-12.json")


@pytest.mark.parametrize("case", HPKE_PQ)
def test_hpke_pq_kem_level(case: dict[str, Any]) -> None:
    """DeriveKeyPair(ikmR) == (skRm, pkRm); Decap(enc, skRm); EncapDerand(pkRm, ikmE)."""
    k = kem(case["kem_id"])
    sk, pk = h(case["skRm"]), h(case["pkRm"])
    assert k.derive_key_pair(h(case["ikmR"])) == (sk, pk)
    assert k.public_key(sk) == pk
    k.validate_public_key(pk)
    assert k.decap(h(case["enc"]), sk) == h(case["shared_secret"])
    assert k.encap_derand(pk, h(case["ikmE"])) == (h(case["shared_secret"]), h(case["enc"]))
    assert (len(sk), len(pk), len(case["enc"]) // 2) == (k.n_sk, k.n_pk, k.n_enc)


@pytest.mark.parametrize("case", [c for c in HPKE_PQ if isinstance(c.values[0], dict) and c.values[0]["kem_id"] in (0x50, 0x51)])
def test_hpke_pq_nist_hybrid_components(case: dict[str, Any]) -> None:
    """expandDecapsKeyG and the C2PRI combiner recomputed with cryptography directly."""
    k = kem(case["kem_id"])
    assert isinstance(k, HybridKem)
    curve, n = (ec.SECP256R1(), 32) if k.id == 0x50 else (ec.SECP384R1(), 48)
    pq = MLKEM768 if k.id == 0x50 else MLKEM1024
    seed, pk, enc = h(case["skRm"]), h(case["pkRm"]), h(case["enc"])
    full = hashlib.shake_256(seed).digest(64 + n)
    assert pk[: pq.n_pk] == pq.public_key(full[:64])
    d_t = ec.derive_private_key(int.from_bytes(full[64 : 64 + n], "big"), curve)
    ek_t = d_t.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    assert pk[pq.n_pk :] == ek_t
    ct_pq, ct_t = enc[: pq.n_enc], enc[pq.n_enc :]
    ss_t = d_t.exchange(ec.ECDH(), ec.EllipticCurvePublicKey.from_encoded_point(curve, ct_t))
    label = b"MLKEM768-P256" if k.id == 0x50 else b"MLKEM1024-P384"
    expected = hashlib.sha3_256(pq.decap(ct_pq, full[:64]) + ss_t + ct_t + ek_t + label).digest()
    assert expected == h(case["shared_secret"])


# --- constants -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kem_id, obj, n_enc, n_pk, n_random",
    [(0x50, MLKEM768_P256, 1153, 1249, 128), (0x51, MLKEM1024_P384, 1665, 1665, 80), (0x647A, XWING, 1120, 1216, 64)],
)
def test_constants(kem_id: int, obj: HybridKem, n_enc: int, n_pk: int, n_random: int) -> None:
    """hpke-pq Table 3."""
    assert kem(kem_id) is obj
    assert (obj.n_secret, obj.n_enc, obj.n_pk, obj.n_sk, obj.n_random) == (32, n_enc, n_pk, 32, n_random)


# --- RandomScalar rejection sampling (concrete-hybrid-kems §3.1.1) ---------------------


def _scalar(sk: Any) -> int:
    return int(sk.private_numbers().private_value)


def test_random_scalar_rejection_p256() -> None:
    good = (12345).to_bytes(32, "big")
    for bad in (bytes(32), P256_N.to_bytes(32, "big"), b"\xff" * 32):
        assert _scalar(P256_GROUP.random_scalar(bad + good + bytes(32))) == 12345
        assert _scalar(P256_GROUP.random_scalar(bad + bad + good)) == 12345
        with pytest.raises(CryptoError):
            P256_GROUP.random_scalar(bad + bad + bad)
    assert _scalar(P256_GROUP.random_scalar((P256_N - 1).to_bytes(32, "big"))) == P256_N - 1
    with pytest.raises(CryptoError):
        P256_GROUP.random_scalar(good[:31])


def test_random_scalar_rejection_p384() -> None:
    with pytest.raises(CryptoError):
        P384_GROUP.random_scalar(b"\xff" * 48)
    with pytest.raises(CryptoError):
        P384_GROUP.random_scalar(bytes(48))
    assert _scalar(P384_GROUP.random_scalar((7).to_bytes(48, "big"))) == 7


def test_encap_derand_uses_next_candidate() -> None:
    """EncapsDerand with a rejected first P-256 candidate equals the one starting at the second."""
    _, pk = MLKEM768_P256.derive_key_pair(b"rejection")
    m = bytes(range(32))
    good = hashlib.sha256(b"candidate").digest()
    assert MLKEM768_P256.encap_derand(pk, m + b"\xff" * 32 + good + bytes(32)) == MLKEM768_P256.encap_derand(
        pk, m + good + bytes(64)
    )
    with pytest.raises(CryptoError):
        MLKEM768_P256.encap_derand(pk, m + b"\xff" * 96)


# --- round trips and negative cases -----------------------------------------------------


@pytest.mark.parametrize("obj", HYBRIDS.values(), ids=HYBRIDS.keys())
def test_round_trip(obj: HybridKem) -> None:
    sk, pk = obj.generate_key_pair()
    obj.validate_public_key(pk)
    ss, enc = obj.encap(pk)
    assert len(enc) == obj.n_enc and obj.decap(enc, sk) == ss
    ss2, enc2 = obj.encap(pk)
    assert enc2 != enc and obj.decap(enc2, sk) == ss2 != ss
    # implicit rejection of the ML-KEM part still yields a (different) secret
    assert obj.decap(bytes([enc[0] ^ 1]) + enc[1:], sk) != ss


@pytest.mark.parametrize("obj", HYBRIDS.values(), ids=HYBRIDS.keys())
def test_wrong_sizes_raise_typed_errors(obj: HybridKem) -> None:
    sk, pk = obj.derive_key_pair(b"\x07" * 32)
    _ss, enc = obj.encap(pk)
    rand = bytes(obj.n_random)
    for bad_pk in (pk[:-1], pk + b"\x00", b""):
        for call in (obj.validate_public_key, obj.encap, lambda p: obj.encap_derand(p, rand)):
            with pytest.raises(InvalidKeyError):
                call(bad_pk)
    for bad_sk in (sk[:-1], sk + b"\x00", b""):
        with pytest.raises(InvalidKeyError):
            obj.public_key(bad_sk)
        with pytest.raises(InvalidKeyError):
            obj.decap(enc, bad_sk)
    for bad_enc in (enc[:-1], enc + b"\x00", b""):
        with pytest.raises(CryptoError):
            obj.decap(bad_enc, sk)
    for bad_rand in (rand[:31], rand[:-1], rand + b"\x00"):
        with pytest.raises(CryptoError):
            obj.encap_derand(pk, bad_rand)


@pytest.mark.parametrize("obj", [MLKEM768_P256, MLKEM1024_P384], ids=["P256", "P384"])
def test_invalid_points_rejected(obj: HybridKem) -> None:
    sk, pk = obj.derive_key_pair(b"points")
    _ss, enc = obj.encap(pk)
    n = obj.pq.n_pk
    off_curve = bytearray(pk[n:])
    off_curve[-1] ^= 1
    compressed = b"\x02" + pk[n + 1 : n + 1 + (len(pk) - n - 1) // 2] + b"\x00" * ((len(pk) - n - 1) // 2)
    for bad_t in (bytes(off_curve), compressed):
        with pytest.raises(InvalidKeyError):
            obj.validate_public_key(pk[:n] + bad_t)
        with pytest.raises(InvalidKeyError):
            obj.encap(pk[:n] + bad_t)
    bad_ct = bytearray(enc)
    bad_ct[-1] ^= 1
    with pytest.raises(CryptoError):
        obj.decap(bytes(bad_ct), sk)
    # an ML-KEM encapsulation key failing the modulus check
    bad_pq = b"\xff" * 3 + pk[3:]
    with pytest.raises(InvalidKeyError):
        obj.validate_public_key(bad_pq)
    with pytest.raises(InvalidKeyError):
        obj.encap(bad_pq)


def test_expanded_keys_are_cached() -> None:
    sk, _ = MLKEM768_P256.derive_key_pair(b"cache")
    before = MLKEM768_P256._expand.cache_info().hits  # type: ignore[attr-defined]
    MLKEM768_P256.public_key(sk)
    MLKEM768_P256.public_key(sk)
    assert MLKEM768_P256._expand.cache_info().hits >= before + 2  # type: ignore[attr-defined]


def test_repr_has_no_secrets() -> None:
    sk, _ = XWING.derive_key_pair(b"ikm")
    assert repr(XWING) == "<HybridKem MLKEM768-X25519 (0x647a) via cryptography>"
    assert sk.hex() not in repr(XWING._expand(sk))
