"""HPKE KDFs (mls_pq.crypto.kdf): HKDF against RFC 5869 and pyca/cryptography, SHAKE against
hashlib, and the labelled functions of RFC 9180 §4 / draft-ietf-hpke-hpke §4.4."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF, HKDFExpand

from mls_pq.crypto import get_kdf
from mls_pq.crypto.kdf import (
    HKDF_SHA256,
    HKDF_SHA384,
    HKDF_SHA512,
    SHAKE128,
    SHAKE256,
    TURBOSHAKE128,
    TURBOSHAKE256,
    labeled_derive,
    labeled_expand,
    labeled_extract,
)
from mls_pq.crypto.turboshake import turboshake128
from mls_pq.errors import CryptoError
from tests import _vectors

H = bytes.fromhex


@pytest.mark.parametrize(
    "kdf_id,obj,n_h,two_stage",
    [(0x0001, HKDF_SHA256, 32, True), (0x0002, HKDF_SHA384, 48, True), (0x0003, HKDF_SHA512, 64, True),
     (0x0010, SHAKE128, 32, False), (0x0011, SHAKE256, 64, False),
     (0x0012, TURBOSHAKE128, 32, False), (0x0013, TURBOSHAKE256, 64, False)],
)
def test_registry_and_parameters(kdf_id: int, obj: Any, n_h: int, two_stage: bool) -> None:
    """Ids and Nh from draft-ietf-hpke-hpke Table 3 and draft-ietf-hpke-pq §5."""
    assert get_kdf(kdf_id) is obj
    assert (obj.id, obj.n_h, obj.two_stage) == (kdf_id, n_h, two_stage)
    assert obj.backend == ("pycryptodome" if kdf_id in (0x0012, 0x0013) else "hashlib")


# RFC 5869 Appendix A.1 and A.3 (HKDF-SHA256)
RFC5869 = [
    ("0b" * 22, "000102030405060708090a0b0c", "f0f1f2f3f4f5f6f7f8f9", 42,
     "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
     "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"),
    ("0b" * 22, "", "", 42,
     "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
     "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"),
]


@pytest.mark.parametrize("ikm,salt,info,length,prk,okm", RFC5869, ids=["A.1", "A.3"])
def test_hkdf_sha256_rfc5869(ikm: str, salt: str, info: str, length: int, prk: str, okm: str) -> None:
    assert HKDF_SHA256.extract(H(salt), H(ikm)) == H(prk)
    assert HKDF_SHA256.expand(H(prk), H(info), length) == H(okm)


@pytest.mark.parametrize("kdf,algo", [(HKDF_SHA256, hashes.SHA256), (HKDF_SHA384, hashes.SHA384),
                                      (HKDF_SHA512, hashes.SHA512)])
@pytest.mark.parametrize("length", [0, 1, 31, 32, 48, 64, 65, 1000])
def test_hkdf_matches_pyca(kdf: Any, algo: Any, length: int) -> None:
    ikm, salt, info = b"input keying material", b"salty", b"context info"
    if length == 0:
        assert kdf.expand(kdf.extract(salt, ikm), info, 0) == b""
        return
    want = HKDF(algorithm=algo(), length=length, salt=salt, info=info).derive(ikm)
    assert kdf.expand(kdf.extract(salt, ikm), info, length) == want
    prk = bytes(range(kdf.n_h))
    assert kdf.expand(prk, info, length) == HKDFExpand(algorithm=algo(), length=length, info=info).derive(prk)
    # empty salt = Nh zero bytes (RFC 5869 §2.2)
    assert kdf.extract(b"", ikm) == kdf.extract(bytes(kdf.n_h), ikm)


@pytest.mark.parametrize("kdf", [HKDF_SHA256, HKDF_SHA384, HKDF_SHA512])
def test_hkdf_expand_limit(kdf: Any) -> None:
    assert len(kdf.expand(b"k" * kdf.n_h, b"", 255 * kdf.n_h)) == 255 * kdf.n_h
    with pytest.raises(CryptoError):
        kdf.expand(b"k" * kdf.n_h, b"", 255 * kdf.n_h + 1)


def test_shake_and_turboshake_derive() -> None:
    msg = b"some ikm"
    assert SHAKE128.derive(msg, 77) == hashlib.shake_128(msg).digest(77)
    assert SHAKE256.derive(msg, 77) == hashlib.shake_256(msg).digest(77)
    assert TURBOSHAKE128.derive(msg, 77) == turboshake128(msg, 77, 0x1F)
    with pytest.raises(CryptoError):
        SHAKE128.derive(msg, -1)


def test_stage_mismatch_is_refused() -> None:
    with pytest.raises(NotImplementedError):
        SHAKE256.extract(b"", b"")
    with pytest.raises(NotImplementedError):
        HKDF_SHA256.derive(b"", 32)


def test_labeled_extract_and_expand_layout() -> None:
    """RFC 9180 §4: labeled_ikm = "HPKE-v1" || suite_id || label || ikm;
    labeled_info = I2OSP(L, 2) || "HPKE-v1" || suite_id || label || info."""
    sid = b"KEM\x00\x20"
    assert labeled_extract(HKDF_SHA256, sid, b"salt", b"dkp_prk", b"ikm") == HKDF_SHA256.extract(
        b"salt", b"HPKE-v1KEM\x00\x20dkp_prkikm")
    assert labeled_expand(HKDF_SHA256, sid, b"p" * 32, b"sk", b"ctx", 32) == HKDFExpand(
        algorithm=hashes.SHA256(), length=32, info=b"\x00\x20HPKE-v1KEM\x00\x20skctx").derive(b"p" * 32)
    with pytest.raises(CryptoError):
        labeled_expand(HKDF_SHA512, sid, b"p" * 64, b"sec", b"", 0x10000)


def test_labeled_derive_layout() -> None:
    """draft-ietf-hpke-hpke §4.4: ikm || "HPKE-v1" || suite_id || lengthPrefixed(label) || I2OSP(L, 2) || context."""
    sid = b"HPKE\x00\x10\x00\x11\x00\x01"
    want = hashlib.shake_256(b"IKM" + b"HPKE-v1" + sid + b"\x00\x03sec" + b"\x00\x2a" + b"ctx").digest(42)
    assert labeled_derive(SHAKE256, sid, b"IKM", b"sec", b"ctx", 42) == want
    with pytest.raises(CryptoError):
        labeled_derive(SHAKE256, sid, b"IKM", b"sec", b"", 0x10000)


def _pq_cases() -> list[Any]:
    return (_vectors.cases("hpke-pq", "test-vectors.json", ident=lambda i, c: f"main-{i}-kem{c['kem_id']:04x}")
            + _vectors.cases("hpke-pq", "test-vectors-143cd50-2025-11-12.json",
                             ident=lambda i, c: f"143cd50-{i}-kem{c['kem_id']:04x}"))


@pytest.mark.parametrize("case", _pq_cases())
def test_one_and_two_stage_key_schedule_from_vectors(case: dict[str, Any]) -> None:
    """CombineSecrets for every hpke-pq case, written out with only the labelled helpers."""
    c = case
    kdf = get_kdf(c["kdf_id"])
    sid = H(c["suite_id"])
    ss, info = H(c["shared_secret"]), H(c["info"])
    n_k, n_n = len(H(c["key"])), len(H(c["base_nonce"]))
    if kdf.two_stage:
        ctx = b"\x00" + labeled_extract(kdf, sid, b"", b"psk_id_hash", b"") + labeled_extract(
            kdf, sid, b"", b"info_hash", info)
        secret = labeled_extract(kdf, sid, ss, b"secret", b"")
        key = labeled_expand(kdf, sid, secret, b"key", ctx, n_k)
        nonce = labeled_expand(kdf, sid, secret, b"base_nonce", ctx, n_n)
        exp = labeled_expand(kdf, sid, secret, b"exp", ctx, kdf.n_h)
    else:
        secrets = b"\x00\x00" + len(ss).to_bytes(2, "big") + ss
        context = b"\x00" + b"\x00\x00" + len(info).to_bytes(2, "big") + info
        out = labeled_derive(kdf, sid, secrets, b"secret", context, n_k + n_n + kdf.n_h)
        key, nonce, exp = out[:n_k], out[n_k:n_k + n_n], out[n_k + n_n:]
    assert (key, nonce, exp) == (H(c["key"]), H(c["base_nonce"]), H(c["exporter_secret"]))
