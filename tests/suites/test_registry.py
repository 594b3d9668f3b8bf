"""The cipher-suite registry: built-in suites, profiles, run-time registration, errors."""

from __future__ import annotations

import pytest

from mls_pq import crypto
from mls_pq.errors import MLSError, UnsupportedCipherSuite
from mls_pq.suites import REGISTRY, Registry, SuiteDef, get_suite
from mls_pq.suites.registry import PQ_SUITES, RFC9420_SUITES

# RFC 9420 §17.1 Table 3 — (id, KEM, KDF/hash, AEAD, signature) as printed in the RFC
RFC_TABLE = {
    1: ("DHKEM(X25519, HKDF-SHA256)", "AES-128-GCM", "SHA256", "Ed25519"),
    2: ("DHKEM(P-256, HKDF-SHA256)", "AES-128-GCM", "SHA256", "ECDSA-P256-SHA256"),
    3: ("DHKEM(X25519, HKDF-SHA256)", "ChaCha20Poly1305", "SHA256", "Ed25519"),
    4: ("DHKEM(X448, HKDF-SHA512)", "AES-256-GCM", "SHA512", "Ed448"),
    5: ("DHKEM(P-521, HKDF-SHA512)", "AES-256-GCM", "SHA512", "ECDSA-P521-SHA512"),
    6: ("DHKEM(X448, HKDF-SHA512)", "ChaCha20Poly1305", "SHA512", "Ed448"),
    7: ("DHKEM(P-384, HKDF-SHA384)", "AES-256-GCM", "SHA384", "ECDSA-P384-SHA384"),
}

# draft-ietf-mls-pq-ciphersuites-06 Table 2 — KEM id, KDF id, AEAD id, hash, signature code point
PQ_TABLE = {
    "TBD1": (0x647A, 1, 1, "SHA256", 0x0807),
    "TBD2": (0x647A, 2, 2, "SHA384", 0x0807),
    "TBD3": (0x0050, 1, 1, "SHA256", 0x0403),
    "TBD4": (0x0050, 2, 2, "SHA384", 0x0403),
    "TBD5": (0x0051, 2, 2, "SHA384", 0x0503),
    "TBD6": (0x0041, 2, 2, "SHA384", 0x0807),
    "TBD7": (0x0041, 2, 2, "SHA384", 0x0403),
    "TBD8": (0x0042, 2, 2, "SHA384", 0x0503),
    "TBD9": (0x647A, 2, 3, "SHA384", 0x0904),
    "TBD10": (0x0041, 2, 2, "SHA384", 0x0905),
    "TBD11": (0x0042, 2, 2, "SHA384", 0x0906),
}


def test_rfc9420_suites_match_the_rfc_table() -> None:
    assert [i for i, _ in RFC9420_SUITES] == list(range(1, 8))
    for sid, (kem, aead, hash_, sig) in RFC_TABLE.items():
        s = get_suite(sid)
        assert s.hash.name == hash_
        assert s.kdf.n_h == s.hash.size  # HKDF over the suite's hash
        assert s.aead.name.replace("-", "").replace("_", "").lower() == aead.replace("-", "").lower()
        assert s.kem.id == {1: 0x20, 2: 0x10, 3: 0x20, 4: 0x21, 5: 0x12, 6: 0x21, 7: 0x11}[sid], kem
        assert s.signature.id == {"Ed25519": 0x0807, "Ed448": 0x0808, "ECDSA-P256-SHA256": 0x0403,
                                   "ECDSA-P384-SHA384": 0x0503, "ECDSA-P521-SHA512": 0x0603}[sig]


def test_pq_suites_match_draft_06_table() -> None:
    assert [t for t, _ in PQ_SUITES] == list(PQ_TABLE)
    for (tbd, d), sid in zip(PQ_SUITES, range(0xF001, 0xF00C)):
        kem, kdf, aead, hash_, sig = PQ_TABLE[tbd]
        assert (d.kem, d.kdf, d.aead, d.hash, d.signature_id) == (kem, kdf, aead, hash_, sig)
        assert REGISTRY.definition(sid) is d


def test_eighteen_builtin_suites_build() -> None:
    reg = Registry(load_plugins=False)
    suites = reg.all()
    assert len(suites) == 18
    for s in suites:
        assert s.kem.n_pk > 0 and s.signature.pk_size > 0 and s.n_h in (32, 48, 64)


def test_unknown_suite_names_id_and_lists_available() -> None:
    with pytest.raises(UnsupportedCipherSuite) as e:
        get_suite(0x1234)
    assert "0x1234" in str(e.value) and "0x0001" in str(e.value)
    assert e.value.suite_id == 0x1234 and 1 in e.value.available


def test_unbuildable_suite_is_unsupported_at_first_use() -> None:
    reg = Registry(load_plugins=False)
    reg.register(SuiteDef("BROKEN", 0x7777, 1, 1, "SHA256", 0x0807, 128, "test"), 0xF0F0)
    with pytest.raises(UnsupportedCipherSuite) as e:
        reg.get(0xF0F0)
    assert "0xf0f0" in str(e.value)


def test_profiles_change_numbers_never_constructions() -> None:
    reg = Registry(load_plugins=False)
    assert {"default", "ts-mls-1.6"} <= set(reg.profiles())
    for sid in (1, 3, 4, 6):
        assert reg.definition(sid, "ts-mls-1.6") is reg.definition(sid, "default")
    # 2/5/7: same construction and wire format; the ECDSA verifier also takes compressed keys
    for sid in (2, 5, 7):
        ts, std = reg.get(sid, "ts-mls-1.6"), reg.get(sid, "default")
        assert ts.name == std.name and ts.signature.id == std.signature.id and ts.signature is not std.signature
        assert (ts.kem, ts.kdf, ts.aead, ts.hash) == (std.kem, std.kdf, std.aead, std.hash)
    # ts-mls 77..88 are different constructions (HKDF-SHA512 key schedule): never draft-06 ones
    draft06 = {d.name for _, d in PQ_SUITES}
    assert [i for i in reg.ids("ts-mls-1.6") if i > 7] == list(range(77, 89))
    for sid in range(77, 89):
        d = reg.definition(sid, "ts-mls-1.6")
        assert d.name.startswith("TSMLS_") and d.name not in draft06 and d.kdf == 0x0003
        assert sid not in reg.ids("default")
    with pytest.raises(MLSError):
        reg.ids("no-such-profile")


def test_tsmls_profile_constructions() -> None:
    """The ts-mls 1.6 variants (facts checked against ts-mls in tests/interop/test_tsmls_constructions.py)."""
    import hashlib

    reg = Registry(load_plugins=False)
    kems = {77: 0x40, 78: 0x40, 79: 0x41, 80: 0x41, 81: 0x42, 82: 0x42, 85: 0x42, 86: 0x42}
    hashes_ = {77: "SHA256", 78: "SHA256", 79: "SHA384", 80: "SHA384"}
    for sid in range(77, 89):
        s = reg.get(sid, "ts-mls-1.6")
        assert s.kdf.name.upper().replace("-", "") == "HKDFSHA512" and s.n_h == 64
        assert s.hash.name == hashes_.get(sid, "SHA512")
        assert s.aead.id == (2 if sid % 2 else 3)  # AES-256-GCM for odd ids, even 77
        assert s.signature.id == (0x0906 if sid >= 85 else 0x0807)
        assert s.kem.id == kems.get(sid, 0x647A)
        ikm = bytes(range(64))
        sk, pk = s.derive_key_pair(ikm)
        if s.kem.id == 0x647A:
            assert sk == hashlib.shake_256(ikm).digest(32)  # X-Wing draft DeriveKeyPair
        else:
            assert sk == ikm  # the 64-byte secret is d || z
        assert pk == s.kem.public_key(sk)
    # the standard KEMs are untouched by the variants
    from mls_pq.crypto import get_kem

    assert get_kem(0x41).derive_key_pair(bytes(64))[0] != bytes(64)
    assert reg.get(0xF006).kem is get_kem(0x41)


def test_tsmls_ecdsa_accepts_compressed_keys_default_does_not() -> None:
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    reg = Registry(load_plugins=False)
    for sid, curve in ((2, ec.SECP256R1()), (5, ec.SECP521R1()), (7, ec.SECP384R1())):
        ts, std = reg.get(sid, "ts-mls-1.6"), reg.get(sid, "default")
        sk, pk = std.signature.generate()
        key = ec.EllipticCurvePublicKey.from_encoded_point(curve, pk)
        compressed = key.public_bytes(Encoding.X962, PublicFormat.CompressedPoint)
        sig = std.sign_with_label(sk, "LeafNodeTBS", b"x")
        assert ts.verify_with_label(compressed, "LeafNodeTBS", b"x", sig)
        assert ts.verify_with_label(pk, "LeafNodeTBS", b"x", sig)
        assert not ts.verify_with_label(compressed, "LeafNodeTBS", b"y", sig)
        assert not std.verify_with_label(compressed, "LeafNodeTBS", b"x", sig)  # RFC 9420 §5.1.1: strict
        assert ts.signature.public_key(sk) == pk  # mls-pq still emits uncompressed points


def test_register_suite_at_run_time_and_conflicts() -> None:
    reg = Registry(load_plugins=False)
    d = SuiteDef("MLS_TEST_XWING_CHACHA_SHA256_Ed25519", 0x647A, 1, 3, "SHA256", 0x0807, 128, "test")
    reg.register(d, 0xF0F1)
    s = reg.get(0xF0F1)
    assert s.kem.id == 0x647A and s.aead.id == 3 and s.profile == "default"
    assert reg.get(0xF0F1, "ts-mls-1.6").id == 0xF0F1  # registered in every profile by default
    with pytest.raises(MLSError):
        reg.register(SuiteDef("OTHER", 0x20, 1, 1, "SHA256", 0x0807, 128, "t"), 0xF0F1)


def test_mls_helpers_round_trip_on_every_suite() -> None:
    """Sign/verify and encrypt/decrypt through the registry for every built-in suite."""
    for s in Registry(load_plugins=False).all():
        ssk, spk = s.signature.generate()
        sig = s.sign_with_label(ssk, "Test", b"content")
        assert s.verify_with_label(spk, "Test", b"content", sig)
        assert not s.verify_with_label(spk, "Test", b"content!", sig)
        sk, pk = s.derive_key_pair(bytes(range(s.n_h)))
        kem_out, ct = s.encrypt_with_label(pk, "UpdatePathNode", b"ctx", b"secret")
        assert s.decrypt_with_label(sk, "UpdatePathNode", b"ctx", kem_out, ct) == b"secret"


def test_primitive_lookup_errors() -> None:
    from mls_pq.errors import UnsupportedAlgorithm

    with pytest.raises(UnsupportedAlgorithm):
        crypto.get_kem(0x9999)
