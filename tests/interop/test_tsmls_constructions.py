"""What ts-mls 1.6 really computes for each suite, checked against independent libraries.

The driver's ``primitive`` op exposes the ``CiphersuiteImpl`` ts-mls builds for a suite
(the object every MLS operation of that suite goes through). Each test recomputes the
output with hashlib/hmac, pyca/cryptography or kyber-py, so the expectations below are
facts about ts-mls, not about mls-pq. They back the notes on ts-mls's private suites
77-88 in mls_pq/suites/registry.py: MLS KDF HKDF-SHA512 for all of them, "AES128GCM"
suites using AES-256-GCM, ML-KEM DeriveKeyPair taking the 64-byte node secret as d||z,
X-Wing DeriveKeyPair = SHAKE256(ikm, 32), pure ML-DSA-87 with an empty context, and a
separate hash (SHA-256/384/512) for tree/transcript hashes, refs and MACs.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, mldsa, mlkem, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from kyber_py.ml_kem import ML_KEM_512

from mls_pq.interop.tsmls import TsMlsPeer

if not (os.environ.get("MLS_PQ_NODE") or shutil.which("node")):
    pytest.skip("Node.js (node) is not installed: the ts-mls interop peer cannot run", allow_module_level=True)


@dataclass(frozen=True)
class Expect:
    kem: str
    kem_id: int  # HPKE KEM id used in the HPKE suite_id
    kdf: str  # hashlib name of the HKDF hash (MLS key schedule and HPKE)
    aead: str  # "aes" or "chacha"
    aead_key: int
    hash: str  # hashlib name of the MLS hash (tree/transcript hashes, refs, MACs)
    signature: str


_AES, _CHACHA = "aes", "chacha"
EXPECT: dict[int, Expect] = {
    # RFC 9420 §17.1 suites, for comparison
    1: Expect("DHKEM-X25519", 0x0020, "sha256", _AES, 16, "sha256", "Ed25519"),
    2: Expect("DHKEM-P256", 0x0010, "sha256", _AES, 16, "sha256", "P256"),
    3: Expect("DHKEM-X25519", 0x0020, "sha256", _CHACHA, 32, "sha256", "Ed25519"),
    4: Expect("DHKEM-X448", 0x0021, "sha512", _AES, 32, "sha512", "Ed448"),
    5: Expect("DHKEM-P521", 0x0012, "sha512", _AES, 32, "sha512", "P521"),
    6: Expect("DHKEM-X448", 0x0021, "sha512", _CHACHA, 32, "sha512", "Ed448"),
    7: Expect("DHKEM-P384", 0x0011, "sha384", _AES, 32, "sha384", "P384"),
    # ts-mls private numbering: HKDF-SHA512 everywhere, hash as in the name
    77: Expect("ML-KEM-512", 0x0040, "sha512", _AES, 32, "sha256", "Ed25519"),  # name says AES128GCM
    78: Expect("ML-KEM-512", 0x0040, "sha512", _CHACHA, 32, "sha256", "Ed25519"),
    79: Expect("ML-KEM-768", 0x0041, "sha512", _AES, 32, "sha384", "Ed25519"),
    80: Expect("ML-KEM-768", 0x0041, "sha512", _CHACHA, 32, "sha384", "Ed25519"),
    81: Expect("ML-KEM-1024", 0x0042, "sha512", _AES, 32, "sha512", "Ed25519"),
    82: Expect("ML-KEM-1024", 0x0042, "sha512", _CHACHA, 32, "sha512", "Ed25519"),
    83: Expect("X-Wing", 0x647A, "sha512", _AES, 32, "sha512", "Ed25519"),
    84: Expect("X-Wing", 0x647A, "sha512", _CHACHA, 32, "sha512", "Ed25519"),
    85: Expect("ML-KEM-1024", 0x0042, "sha512", _AES, 32, "sha512", "ML-DSA-87"),
    86: Expect("ML-KEM-1024", 0x0042, "sha512", _CHACHA, 32, "sha512", "ML-DSA-87"),
    87: Expect("X-Wing", 0x647A, "sha512", _AES, 32, "sha512", "ML-DSA-87"),
    88: Expect("X-Wing", 0x647A, "sha512", _CHACHA, 32, "sha512", "ML-DSA-87"),
}
ALL = sorted(EXPECT)
PQ = [s for s in ALL if s >= 77]
KDF_IDS = {"sha256": 0x0001, "sha384": 0x0002, "sha512": 0x0003}
AEAD_IDS = {(_AES, 16): 0x0001, (_AES, 32): 0x0002, (_CHACHA, 32): 0x0003}


@pytest.fixture(scope="module")
def peer() -> Iterator[TsMlsPeer]:
    with TsMlsPeer() as p:
        yield p


def _hkdf_extract(h: str, salt: bytes, ikm: bytes) -> bytes:
    return hmac.new(salt, ikm, h).digest()


def _hkdf_expand(h: str, prk: bytes, info: bytes, length: int) -> bytes:
    out, block, i = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([i]), h).digest()
        out += block
        i += 1
    return out[:length]


@pytest.mark.parametrize("suite", ALL)
def test_suite_table_and_kdf(peer: TsMlsPeer, suite: int) -> None:
    e = EXPECT[suite]
    info = peer.primitive(suite, "info")
    assert info["kem"].startswith(e.kem)
    assert info["kdf"] == f"HKDF-SHA{e.kdf[3:]}"
    assert info["kdf_size"] == hashlib.new(e.kdf).digest_size  # Nh of the MLS key schedule (KDF.Nh)
    assert (info["aead_key_length"], info["aead_nonce_length"]) == (e.aead_key, 12)
    nh = hashlib.new(e.kdf).digest_size
    ikm, prk = os.urandom(50), os.urandom(nh)  # PRKs are Nh bytes in MLS
    for salt in (os.urandom(nh), b""):  # @hpke/core accepts only Nh-byte or empty salts, as MLS uses
        assert peer.primitive(suite, "extract", salt=salt, ikm=ikm)["output"] == _hkdf_extract(e.kdf, salt, ikm)
    assert peer.primitive(suite, "expand", prk=prk, info=b"ctx", length=150)["output"] == _hkdf_expand(
        e.kdf, prk, b"ctx", 150
    )


@pytest.mark.parametrize("suite", ALL)
def test_mls_hash_and_mac(peer: TsMlsPeer, suite: int) -> None:
    h = EXPECT[suite].hash
    data, key = os.urandom(77), os.urandom(hashlib.new(EXPECT[suite].kdf).digest_size)
    assert peer.primitive(suite, "digest", data=data)["output"] == hashlib.new(h, data).digest()
    assert peer.primitive(suite, "mac", key=key, data=data)["output"] == hmac.new(key, data, h).digest()
    # and the MLS layer uses it: tree hash / transcript hash lengths, epoch secrets of size Nh(KDF)
    g = peer.create_group(suite, b"hash-check", b"alice")
    kp, _ = peer.key_package(suite, b"bob")
    peer.add(g, kp)
    st = peer.state(g)
    assert len(bytes.fromhex(st["tree_hash"])) == hashlib.new(h).digest_size
    assert len(bytes.fromhex(st["confirmed_transcript_hash"])) == hashlib.new(h).digest_size
    assert len(peer.epoch_authenticator(g)[0]) == hashlib.new(EXPECT[suite].kdf).digest_size


@pytest.mark.parametrize("suite", ALL)
def test_message_aead(peer: TsMlsPeer, suite: int) -> None:
    e = EXPECT[suite]
    key, nonce, aad, pt = os.urandom(e.aead_key), os.urandom(12), b"aad", b"private message content"
    ct = peer.primitive(suite, "aead_seal", key=key, nonce=nonce, aad=aad, plaintext=pt)["output"]
    cipher = AESGCM(key) if e.aead == _AES else ChaCha20Poly1305(key)
    assert cipher.decrypt(nonce, ct, aad) == pt


def _mlkem_keys(kem: str, seed: bytes) -> tuple[bytes, object]:
    """FIPS 203 ML-KEM.KeyGen_internal(d, z) with seed = d || z: (public key, decapsulator)."""
    if kem == "ML-KEM-512":
        ek, dk = ML_KEM_512.key_derive(seed)
        return ek, lambda ct: ML_KEM_512.decaps(dk, ct)
    cls = mlkem.MLKEM768PrivateKey if kem == "ML-KEM-768" else mlkem.MLKEM1024PrivateKey
    sk = cls.from_seed_bytes(seed)
    return sk.public_key().public_bytes_raw(), sk.decapsulate


_XWING_LABEL = b"\\.//^\\"


def _xwing_keys(sk: bytes) -> tuple[bytes, object]:
    """draft-connolly-cfrg-xwing-kem: expand sk with SHAKE256 to (ML-KEM-768 seed, X25519 key)."""
    expanded = hashlib.shake_256(sk).digest(96)
    pk_m, decap_m = _mlkem_keys("ML-KEM-768", expanded[:64])
    sk_x = x25519.X25519PrivateKey.from_private_bytes(expanded[64:])
    pk_x = sk_x.public_key().public_bytes_raw()

    def decap(ct: bytes) -> bytes:
        ct_m, ct_x = ct[:1088], ct[1088:]
        ss_m = decap_m(ct_m)  # type: ignore[operator]
        ss_x = sk_x.exchange(x25519.X25519PublicKey.from_public_bytes(ct_x))
        return hashlib.sha3_256(ss_m + ss_x + ct_x + pk_x + _XWING_LABEL).digest()

    return pk_m + pk_x, decap


@pytest.mark.parametrize("suite", PQ)
def test_derive_key_pair_and_hpke(peer: TsMlsPeer, suite: int) -> None:
    e = EXPECT[suite]
    ikm = os.urandom(hashlib.new(e.kdf).digest_size)  # MLS passes node secrets of Nh = 64 bytes
    kp = peer.primitive(suite, "derive_key_pair", ikm=ikm)
    if e.kem == "X-Wing":
        assert kp["private_key"] == hashlib.shake_256(ikm).digest(32)  # SHAKE256(ikm, 32)
        pk, decap = _xwing_keys(kp["private_key"])
    else:
        assert kp["private_key"] == ikm  # the 64-byte ikm IS the d || z seed, no hashing
        pk, decap = _mlkem_keys(e.kem, ikm)
    assert kp["public_key"] == pk

    # RFC 9180 base mode with suite_id = "HPKE" || kem_id || kdf_id || aead_id
    info, aad, pt = b"MLS 1.0 test info", b"aad", b"group secrets"
    sealed = peer.primitive(suite, "hpke_seal", public_key=pk, info=info, aad=aad, plaintext=pt)
    shared = decap(sealed["enc"])  # type: ignore[operator]
    h = e.kdf
    suite_id = b"HPKE" + b"".join(x.to_bytes(2, "big") for x in (e.kem_id, KDF_IDS[h], AEAD_IDS[e.aead, e.aead_key]))

    def lext(salt: bytes, label: bytes, ikm_: bytes) -> bytes:
        return _hkdf_extract(h, salt, b"HPKE-v1" + suite_id + label + ikm_)

    def lexp(prk: bytes, label: bytes, inf: bytes, n: int) -> bytes:
        return _hkdf_expand(h, prk, n.to_bytes(2, "big") + b"HPKE-v1" + suite_id + label + inf, n)

    ctx = b"\x00" + lext(b"", b"psk_id_hash", b"") + lext(b"", b"info_hash", info)
    secret = lext(shared, b"secret", b"")
    key, nonce = lexp(secret, b"key", ctx, e.aead_key), lexp(secret, b"base_nonce", ctx, 12)
    cipher = AESGCM(key) if e.aead == _AES else ChaCha20Poly1305(key)
    assert cipher.decrypt(nonce, sealed["ciphertext"], aad) == pt


_CURVES = {"P256": (ec.SECP256R1(), hashes.SHA256(), 32), "P384": (ec.SECP384R1(), hashes.SHA384(), 48),
           "P521": (ec.SECP521R1(), hashes.SHA512(), 66)}  # fmt: skip


@pytest.mark.parametrize("suite", ALL)
def test_signature(peer: TsMlsPeer, suite: int) -> None:
    alg = EXPECT[suite].signature
    msg = b"\x0fMLS 1.0 LeafNodeTBS" + os.urandom(40)
    r = peer.primitive(suite, "sign", message=msg)
    pk, sig = r["public_key"], r["signature"]
    if alg == "Ed25519":
        ed25519.Ed25519PublicKey.from_public_bytes(pk).verify(sig, msg)
    elif alg == "Ed448":
        ed448.Ed448PublicKey.from_public_bytes(pk).verify(sig, msg)
    elif alg == "ML-DSA-87":
        key = mldsa.MLDSA87PublicKey.from_public_bytes(pk)
        key.verify(sig, msg)  # pure ML-DSA, empty context (FIPS 204 §5.2)
        with pytest.raises(InvalidSignature):
            key.verify(sig, msg, b"MLS")
    else:
        curve, digest, size = _CURVES[alg]
        # ts-mls 1.6.4 (@noble/curves 2 getPublicKey default) emits COMPRESSED SEC1 points,
        # not the UncompressedPointRepresentation RFC 9420 §5.1.1 asks for.
        assert len(pk) == 1 + size and pk[0] in (2, 3)
        ec.EllipticCurvePublicKey.from_encoded_point(curve, pk).verify(sig, msg, ec.ECDSA(digest))
