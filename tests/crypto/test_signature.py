"""Signature schemes (mls_pq.crypto.signature): known-answer tests, independent-library
cross-checks, the official MLS vectors, and malformed-input behaviour.

Sources of expected values:

* RFC 8032 §7.1 (Ed25519 TEST 1-3) and §7.4 (Ed448 "Blank" and "1 octet") test vectors,
  transcribed from the RFC text.
* mlswg crypto-basics.json ``sign_with_label`` (every suite 1-7) and the P-521 cases of
  passive-client-welcome.json whose ``signature_priv`` has its leading zero stripped.
* pyca/cryptography used directly (not through our adapters) and pynacl vs cryptography.
"""

from __future__ import annotations

import os

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given, settings
from hypothesis import strategies as st

import mls_pq.crypto as C
from mls_pq.codec import Writer
from mls_pq.crypto.base import SignatureScheme
from mls_pq.crypto.signature import (
    ALL,
    ECDSA_P256_SHA256,
    ECDSA_P384_SHA384,
    ECDSA_P521_SHA512,
    ED448,
    ED25519,
    ED25519_CRYPTOGRAPHY,
    ED25519_PYNACL,
    MLDSA44,
    MLDSA65,
    MLDSA87,
    Ecdsa,
)
from mls_pq.errors import InvalidKeyError
from tests._vectors import cases

EVERY = list(ALL) + [ED25519_CRYPTOGRAPHY]
IDS = [f"{s.name}-{s.backend}" for s in EVERY]
ECDSA = [ECDSA_P256_SHA256, ECDSA_P384_SHA384, ECDSA_P521_SHA512]
ED25519_IMPLS = [s for s in (ED25519_PYNACL, ED25519_CRYPTOGRAPHY) if s is not None]


# --------------------------------------------------------------------------------------
# Registry contract, sizes and code points
# --------------------------------------------------------------------------------------

EXPECTED = {
    # id: (instance, sk_size, pk_size, sig_size)
    0x0403: (ECDSA_P256_SHA256, 32, 65, 72),
    0x0503: (ECDSA_P384_SHA384, 48, 97, 104),
    0x0603: (ECDSA_P521_SHA512, 66, 133, 139),
    0x0807: (ED25519, 32, 32, 64),
    0x0808: (ED448, 57, 57, 114),
    0x0904: (MLDSA44, 32, 1312, 2420),  # FIPS 204 Table 2; code point draft-ietf-tls-mldsa
    0x0905: (MLDSA65, 32, 1952, 3309),
    0x0906: (MLDSA87, 32, 2592, 4627),
}


@pytest.mark.parametrize("ident", sorted(EXPECTED))
def test_table_entry_and_sizes(ident: int) -> None:
    inst, sk_size, pk_size, sig_size = EXPECTED[ident]
    # mls_pq.crypto maps the id to "signature:ATTR"; that attribute must be this instance.
    assert C.get_signature(ident) is inst
    assert ident in C.signature_ids()
    assert (inst.id, inst.sk_size, inst.pk_size, inst.sig_size) == (ident, sk_size, pk_size, sig_size)


def test_ed25519_backends() -> None:
    assert ED25519_PYNACL is not None, "pynacl is a declared dependency"
    assert ED25519 is ED25519_PYNACL and ED25519.backend == "pynacl"
    assert ED25519_CRYPTOGRAPHY.backend == "cryptography"
    assert ED25519_CRYPTOGRAPHY.id == 0x0807


@pytest.mark.parametrize("scheme", EVERY, ids=IDS)
def test_generate_sign_verify(scheme: SignatureScheme) -> None:
    sk, pk = scheme.generate()
    assert (len(sk), len(pk)) == (scheme.sk_size, scheme.pk_size)
    assert scheme.public_key(sk) == pk
    sk2, pk2 = scheme.generate()
    assert sk2 != sk and pk2 != pk
    msg = b"MLS 1.0 test message"
    sig = scheme.sign(sk, msg)
    assert len(sig) <= scheme.sig_size
    assert scheme.verify(pk, msg, sig) is True
    assert scheme.verify(pk2, msg, sig) is False
    assert scheme.verify(pk, msg + b"!", sig) is False
    assert scheme.verify(pk, b"", scheme.sign(sk, b"")) is True


@settings(max_examples=15, deadline=None)
@given(msg=st.binary(max_size=300), idx=st.integers(0, len(EVERY) - 1))
def test_roundtrip_property(msg: bytes, idx: int) -> None:
    scheme = EVERY[idx]
    sk, pk = scheme.generate()
    sig = scheme.sign(sk, msg)
    assert scheme.verify(pk, msg, sig)
    assert not scheme.verify(pk, msg + b"\x00", sig)


@pytest.mark.parametrize("scheme", EVERY, ids=IDS)
def test_repr_has_no_secret(scheme: SignatureScheme) -> None:
    sk, _ = scheme.generate()
    scheme.sign(sk, b"x")  # populate caches
    text = repr(scheme)
    assert f"0x{scheme.id:04x}" in text and scheme.name in text
    assert sk.hex() not in text


# --------------------------------------------------------------------------------------
# EdDSA known answers (RFC 8032 §7.1, §7.4)
# --------------------------------------------------------------------------------------

# (secret key, public key, message, signature) — RFC 8032 §7.1 TEST 1, TEST 2, TEST 3.
RFC8032_ED25519 = [
    (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    (
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
]

# RFC 8032 §7.4, "-----Blank" and "-----1 octet" (pure Ed448, empty context).
RFC8032_ED448 = [
    (
        "6c82a562cb808d10d632be89c8513ebf6c929f34ddfa8c9f63c9960ef6e348a3528c8a3fcc2f044e39a3fc5b94492f8f032e7549a20098f95b",
        "5fd7449b59b461fd2ce787ec616ad46a1da1342485a70e1f8a0ea75d80e96778edf124769b46c7061bd6783df1e50f6cd1fa1abeafe8256180",
        "",
        "533a37f6bbe457251f023c0d88f976ae2dfb504a843e34d2074fd823d41a591f2b233f034f628281f2fd7a22ddd47d7828c59bd0a21bfd3980ff0d2028d4b18a9df63e006c5d1c2d345b925d8dc00b4104852db99ac5c7cdda8530a113a0f4dbb61149f05a7363268c71d95808ff2e652600",
    ),
    (
        "c4eab05d357007c632f3dbb48489924d552b08fe0c353a0d4a1f00acda2c463afbea67c5e8d2877c5e3bc397a659949ef8021e954e0a12274e",
        "43ba28f430cdff456ae531545f7ecd0ac834a55d9358c0372bfa0c6c6798c0866aea01eb00742802b8438ea4cb82169c235160627b4c3a9480",
        "03",
        "26b8f91727bd62897af15e41eb43c377efb9c610d48f2335cb0bd0087810f4352541b143c4b981b7e18f62de8ccdf633fc1bf037ab7cd779805e0dbcc0aae1cbcee1afb2e027df36bc04dcecbf154336c19f0af7e0a6472905e799f1953d2a0ff3348ab21aa4adafd1d234441cf807c03a00",
    ),
]

KAT = [
    pytest.param(s, v, id=f"{s.name}-{s.backend}-rfc8032-7.1-test{i + 1}")
    for s in ED25519_IMPLS
    for i, v in enumerate(RFC8032_ED25519)
] + [pytest.param(ED448, v, id=f"ed448-rfc8032-7.4-{i}") for i, v in enumerate(RFC8032_ED448)]


@pytest.mark.parametrize(("scheme", "vec"), KAT)
def test_rfc8032_known_answers(scheme: SignatureScheme, vec: tuple[str, str, str, str]) -> None:
    sk, pk, msg, sig = (bytes.fromhex(x) for x in vec)
    assert scheme.public_key(sk) == pk
    assert scheme.sign(sk, msg) == sig  # EdDSA is deterministic
    assert scheme.verify(pk, msg, sig)
    bad = bytearray(sig)
    bad[len(sig) // 2] ^= 0x01
    assert not scheme.verify(pk, msg, bytes(bad))


def test_ed25519_pynacl_matches_cryptography() -> None:
    assert ED25519_PYNACL is not None
    for i in range(25):
        seed = os.urandom(32)
        msg = os.urandom(i * 7)
        pk = ED25519_PYNACL.public_key(seed)
        assert ED25519_CRYPTOGRAPHY.public_key(seed) == pk
        sig_n = ED25519_PYNACL.sign(seed, msg)
        sig_c = ED25519_CRYPTOGRAPHY.sign(seed, msg)
        assert sig_n == sig_c
        assert ED25519_CRYPTOGRAPHY.verify(pk, msg, sig_n)
        assert ED25519_PYNACL.verify(pk, msg, sig_c)


@pytest.mark.parametrize("scheme", ED25519_IMPLS, ids=lambda s: s.backend)
def test_ed25519_short_signature_does_not_borrow_message(scheme: SignatureScheme) -> None:
    # libsodium's combined mode takes sig || msg; a 63-byte signature must not be completed
    # with the first byte of the message.
    sk, pk = scheme.generate()
    msg = b"hello"
    sig = scheme.sign(sk, msg)
    # sig[:-1] || (sig[-1:] || msg) == sig || msg: without a length check this would verify.
    assert not scheme.verify(pk, sig[-1:] + msg, sig[:-1])


# --------------------------------------------------------------------------------------
# Official MLS vectors: crypto-basics sign_with_label, P-521 stripped scalars
# --------------------------------------------------------------------------------------

SUITE_SCHEME = {1: ED25519, 2: ECDSA_P256_SHA256, 3: ED25519, 4: ED448,
                5: ECDSA_P521_SHA512, 6: ED448, 7: ECDSA_P384_SHA384}


def _sign_content(label: str, content: bytes) -> bytes:
    """SignContent (RFC 9420 §5.1.2): opaque label<V> = "MLS 1.0 " + Label; opaque content<V>."""
    return Writer().opaque(b"MLS 1.0 " + label.encode()).opaque(content).getvalue()


@pytest.mark.parametrize(
    "case", cases("mls-implementations", "test-vectors", "crypto-basics.json",
                  ident=lambda i, c: f"suite{c['cipher_suite']}")
)
def test_mlswg_sign_with_label(case: dict) -> None:  # type: ignore[type-arg]
    scheme = SUITE_SCHEME[case["cipher_suite"]]
    v = case["sign_with_label"]
    priv, pub, sig = (bytes.fromhex(v[k]) for k in ("priv", "pub", "signature"))
    tbs = _sign_content(v["label"], bytes.fromhex(v["content"]))
    assert scheme.public_key(priv) == pub
    assert scheme.verify(pub, tbs, sig)
    assert not scheme.verify(pub, _sign_content(v["label"] + "x", bytes.fromhex(v["content"])), sig)
    mine = scheme.sign(priv, tbs)
    assert scheme.verify(pub, tbs, mine)
    if isinstance(scheme, Ecdsa):
        assert len(sig) <= scheme.sig_size
    else:
        assert mine == sig  # EdDSA: deterministic, byte-exact


def _p521_welcome_cases(data: list) -> list:  # type: ignore[type-arg]
    return [c for c in data if c["cipher_suite"] == 5]


@pytest.mark.parametrize(
    "case",
    cases("mls-implementations", "test-vectors", "passive-client-welcome.json", select=_p521_welcome_cases),
)
def test_p521_private_key_padding(case: dict) -> None:  # type: ignore[type-arg]
    priv = bytes.fromhex(case["signature_priv"])
    padded = priv.rjust(66, b"\x00")
    pk = ECDSA_P521_SHA512.public_key(priv)
    assert pk == ECDSA_P521_SHA512.public_key(padded)
    assert ECDSA_P521_SHA512.normalize_private_key(priv) == padded
    # The key package carries the member's signature key: ours must be that key.
    assert pk in bytes.fromhex(case["key_package"])
    sig = ECDSA_P521_SHA512.sign(priv, b"tbs")
    assert ECDSA_P521_SHA512.verify(pk, b"tbs", sig)


def test_p521_short_keys_present_in_vectors() -> None:
    """The padding case really occurs in the vectors (SOURCES.md: 5 of 8 suite-5 cases)."""
    from tests._vectors import load, path

    if not path("mls-implementations", "test-vectors", "passive-client-welcome.json").exists():
        pytest.skip("vectors folder missing")
    data = load("mls-implementations", "test-vectors", "passive-client-welcome.json")
    lengths = [len(c["signature_priv"]) // 2 for c in data if c["cipher_suite"] == 5]
    assert lengths.count(65) == 5 and lengths.count(66) == 3


def test_p521_synthetic_short_scalar() -> None:
    # A scalar < 2^512 has (at least) two leading zero bytes in its 66-byte encoding.
    for short_len in (64, 65):
        sk = bytes(66 - short_len) + b"\x01" + os.urandom(short_len - 1)
        stripped = sk.lstrip(b"\x00")
        assert len(stripped) == short_len
        assert ECDSA_P521_SHA512.public_key(stripped) == ECDSA_P521_SHA512.public_key(sk)


# --------------------------------------------------------------------------------------
# ECDSA against pyca/cryptography used directly
# --------------------------------------------------------------------------------------

_CURVES = {0x0403: (ec.SECP256R1(), hashes.SHA256()), 0x0503: (ec.SECP384R1(), hashes.SHA384()),
           0x0603: (ec.SECP521R1(), hashes.SHA512())}


@pytest.mark.parametrize("scheme", ECDSA, ids=lambda s: s.name)
def test_ecdsa_against_cryptography(scheme: Ecdsa) -> None:
    curve, h = _CURVES[scheme.id]
    ref = ec.generate_private_key(curve)
    sk = ref.private_numbers().private_value.to_bytes(scheme.sk_size, "big")
    ref_pk = ref.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    assert scheme.public_key(sk) == ref_pk
    msg = os.urandom(100)
    # ours -> theirs
    sig = scheme.sign(sk, msg)
    ref.public_key().verify(sig, msg, ec.ECDSA(h))  # raises if invalid or not DER
    # theirs -> ours
    assert scheme.verify(ref_pk, msg, ref.sign(msg, ec.ECDSA(h)))
    # a signature with another hash is not accepted
    other = hashes.SHA512() if scheme.id != 0x0603 else hashes.SHA256()
    assert not scheme.verify(ref_pk, msg, ref.sign(msg, ec.ECDSA(other)))
    with pytest.raises(InvalidSignature):
        ref.public_key().verify(scheme.sign(sk, msg + b"x"), msg, ec.ECDSA(h))


def test_ecdsa_der_max_sizes() -> None:
    # SEQUENCE{INTEGER r, INTEGER s}: P-256 2+2*(2+33); P-384 2+2*(2+49); P-521 3+2*(2+66).
    assert [s.sig_size for s in ECDSA] == [72, 104, 139]
    for s in ECDSA:
        sk, _ = s.generate()
        assert all(len(s.sign(sk, bytes([i]))) <= s.sig_size for i in range(20))


@pytest.mark.parametrize("scheme", ECDSA, ids=lambda s: s.name)
def test_ecdsa_invalid_keys(scheme: Ecdsa) -> None:
    curve, _ = _CURVES[scheme.id]
    sk, pk = scheme.generate()
    sig = scheme.sign(sk, b"m")
    # compressed encoding of the same point is not the MLS encoding (RFC 9420 §5.1.1)
    compressed = ec.EllipticCurvePublicKey.from_encoded_point(curve, pk).public_bytes(
        Encoding.X962, PublicFormat.CompressedPoint
    )
    assert not scheme.verify(compressed, b"m", sig)
    assert not scheme.verify(b"\x05" + pk[1:], b"m", sig)  # wrong prefix
    off_curve = pk[:-1] + bytes([pk[-1] ^ 1])
    assert not scheme.verify(off_curve, b"m", sig)
    assert not scheme.verify(b"\x04" + b"\x00" * (scheme.pk_size - 1), b"m", sig)
    assert not scheme.verify(pk, b"m", b"\x30\x00")
    assert not scheme.verify(pk, b"m", b"not DER at all")
    assert not scheme.verify(pk, b"m", sig + b"\x00" * scheme.sig_size)
    # private scalars out of range / wrong size
    order = {0x0403: 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551}.get(scheme.id)
    for bad in (b"\x00" * scheme.sk_size, b"\xff" * scheme.sk_size, b"\x01" * (scheme.sk_size + 1), b""):
        with pytest.raises(InvalidKeyError):
            scheme.public_key(bad)
        with pytest.raises(InvalidKeyError):
            scheme.sign(bad, b"m")
    if order is not None:
        with pytest.raises(InvalidKeyError):
            scheme.public_key(order.to_bytes(32, "big"))
        assert scheme.public_key((order - 1).to_bytes(32, "big"))


# --------------------------------------------------------------------------------------
# Negative cases for every scheme
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", EVERY, ids=IDS)
def test_tampered_and_malformed_inputs(scheme: SignatureScheme) -> None:
    sk, pk = scheme.generate()
    msg = b"commit"
    sig = scheme.sign(sk, msg)
    for pos in (0, len(sig) // 2, len(sig) - 1):
        bad = bytearray(sig)
        bad[pos] ^= 0x40
        assert scheme.verify(pk, msg, bytes(bad)) is False
    assert scheme.verify(pk, msg, sig[:-1]) is False
    assert scheme.verify(pk, msg, sig + b"\x00") is False
    assert scheme.verify(pk, msg, b"") is False
    assert scheme.verify(pk[:-1], msg, sig) is False
    assert scheme.verify(pk + b"\x00", msg, sig) is False
    assert scheme.verify(b"", msg, sig) is False
    assert scheme.verify(b"\x00" * scheme.pk_size, msg, sig) is False
    assert scheme.verify(b"\xff" * scheme.pk_size, msg, b"\xff" * scheme.sig_size) is False
    # ECDSA accepts shorter (leading-zero-stripped) scalars, so sk[:-1] is only bad elsewhere.
    bad_sks = [b"", sk + b"\x00" * 2] + ([] if isinstance(scheme, Ecdsa) else [sk[:-1]])
    for bad_sk in bad_sks:
        with pytest.raises(InvalidKeyError):
            scheme.sign(bad_sk, msg)
        with pytest.raises(InvalidKeyError):
            scheme.public_key(bad_sk)


@pytest.mark.parametrize("scheme", EVERY, ids=IDS)
def test_invalid_key_error_hides_secret(scheme: SignatureScheme) -> None:
    bad = os.urandom(scheme.sk_size + 3)
    with pytest.raises(InvalidKeyError) as exc:
        scheme.sign(bad, b"m")
    assert bad.hex() not in str(exc.value)


def test_public_key_cache_is_used() -> None:
    sk, pk = ECDSA_P256_SHA256.generate()
    sig = ECDSA_P256_SHA256.sign(sk, b"m")
    before = ECDSA_P256_SHA256._load_pk.cache_info().hits  # type: ignore[attr-defined]
    for _ in range(5):
        assert ECDSA_P256_SHA256.verify(pk, b"m", sig)
    assert ECDSA_P256_SHA256._load_pk.cache_info().hits - before >= 4  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------------
# One verification rule whatever backend is installed (issue 8)
# --------------------------------------------------------------------------------------

_P25519 = 2**255 - 19
_D25519 = (-121665 * pow(121666, -1, _P25519)) % _P25519
_IDENTITY_25519 = (1).to_bytes(32, "little")
ED_ALL = [*ED25519_IMPLS, ED448]
ED_IDS = [f"{s.name}-{s.backend}" for s in ED_ALL]


@pytest.mark.parametrize("scheme", ED25519_IMPLS, ids=lambda s: s.backend)
def test_identity_key_r_identity_s_zero_rejected_by_every_backend(scheme: SignatureScheme) -> None:
    """Decision (issue 8, RFC 8032 §5.1.7 leaves it open): mls-pq rejects small-order and
    non-canonical EdDSA public keys and ``R`` values and ``S >= L``, in front of every backend
    (mls_pq.crypto.ed_checks). Before it, OpenSSL (cryptography) accepted the identity key with
    the signature ``R = identity, S = 0`` on any message while libsodium (pynacl) rejected it,
    so members with different installed backends could split a group."""
    forged = _IDENTITY_25519 + bytes(32)  # R = identity, S = 0
    for msg in (b"", b"any message", os.urandom(64)):
        assert not scheme.verify(_IDENTITY_25519, msg, forged)
    with pytest.raises(InvalidKeyError):
        scheme.validate_public_key(_IDENTITY_25519)


def _ed25519_add(p: tuple[int, int], q: tuple[int, int]) -> tuple[int, int]:
    """Affine Edwards addition on -x^2 + y^2 = 1 + d x^2 y^2 (RFC 8032 §5.1.4), test oracle."""
    (x1, y1), (x2, y2), m = p, q, _P25519
    t = _D25519 * x1 * x2 * y1 * y2 % m
    return (x1 * y2 + x2 * y1) * pow(1 + t, -1, m) % m, (y1 * y2 + x1 * x2) * pow(1 - t, -1, m) % m


def _ed25519_decode(b: bytes) -> tuple[int, int]:
    """RFC 8032 §5.1.3 point decoding (test oracle, independent of mls_pq.crypto.ed_checks)."""
    m = _P25519
    y = int.from_bytes(b, "little") & ((1 << 255) - 1)
    u, v = (y * y - 1) % m, (_D25519 * y * y + 1) % m
    x = u * pow(v, 3, m) * pow(u * pow(v, 7, m), (m - 5) // 8, m) % m
    if v * x * x % m != u:
        x = x * pow(2, (m - 1) // 4, m) % m
    assert v * x * x % m == u
    if (x & 1) != b[31] >> 7:
        x = -x % m
    return x, y


def _small_order_encodings_25519() -> list[bytes]:
    """The canonical encodings of all 8 points of the 8-torsion, both x signs."""
    from mls_pq.crypto.ed_checks import _SMALL_Y_25519

    out = []
    for y in sorted(_SMALL_Y_25519):
        for sign in (0, 1):
            b = bytearray(y.to_bytes(32, "little"))
            b[31] |= sign << 7
            out.append(bytes(b))
    return out


def test_ed25519_small_order_blocklist_is_the_8_torsion() -> None:
    """Every blocked y-coordinate decodes to a point P with 8P = identity (RFC 8032 §5.1),
    and there are exactly the 8 torsion points among them."""
    points = set()
    for enc in _small_order_encodings_25519():
        try:
            pt = _ed25519_decode(enc)
        except AssertionError:
            continue  # x = 0 with the sign bit set: not a valid encoding at all
        acc = pt
        for _ in range(3):
            acc = _ed25519_add(acc, acc)
        assert acc == (0, 1), enc.hex()
        points.add(pt)
    assert len(points) == 8


@pytest.mark.parametrize("scheme", ED25519_IMPLS, ids=lambda s: s.backend)
def test_ed25519_small_order_keys_and_r_rejected(scheme: SignatureScheme) -> None:
    sk, pk = scheme.generate()
    msg = b"m"
    sig = scheme.sign(sk, msg)
    for enc in _small_order_encodings_25519():
        assert not scheme.verify(enc, msg, enc + bytes(32))
        assert not scheme.verify(enc, msg, sig)
        assert not scheme.verify(pk, msg, enc + sig[32:])  # R of small order
        with pytest.raises(InvalidKeyError):
            scheme.validate_public_key(enc)
    scheme.validate_public_key(pk)


@pytest.mark.parametrize("scheme", ED25519_IMPLS, ids=lambda s: s.backend)
def test_ed25519_non_canonical_rejected(scheme: SignatureScheme) -> None:
    sk, pk = scheme.generate()
    msg = b"m"
    sig = scheme.sign(sk, msg)
    from mls_pq.crypto.ed_checks import ED25519_L

    s = int.from_bytes(sig[32:], "little")
    assert not scheme.verify(pk, msg, sig[:32] + (s + ED25519_L).to_bytes(32, "little"))  # S >= L (malleable)
    for y in range(_P25519, 2**255):  # the 19 non-canonical y encodings
        enc = y.to_bytes(32, "little")
        with pytest.raises(InvalidKeyError):
            scheme.validate_public_key(enc)
        assert not scheme.verify(enc, msg, sig)
        assert not scheme.verify(pk, msg, enc + sig[32:])


def _on_curve(curve: str, y: int) -> bool:
    """RFC 8032 §5.1.3 / §5.2.3: does some x satisfy the curve equation for this y? (oracle)"""
    if curve == "ed25519":
        p, u, v = _P25519, y * y - 1, _D25519 * y * y + 1
    else:
        p = 2**448 - 2**224 - 1
        u, v = y * y - 1, (p - 39081) * y * y - 1
    a = u * pow(v, -1, p) % p
    return a == 0 or pow(a, (p - 1) // 2, p) == 1


@pytest.mark.parametrize("scheme", ED_ALL, ids=ED_IDS)
def test_eddsa_validate_public_key(scheme: SignatureScheme) -> None:
    for _ in range(5):
        scheme.validate_public_key(scheme.generate()[1])
    with pytest.raises(InvalidKeyError):
        scheme.validate_public_key(bytes(scheme.pk_size - 1))
    # A y-coordinate with no curve point: left to verify (ed_checks does not solve the curve
    # equation), which every backend rejects whatever the signature.
    y = next(y for y in range(2, 200) if not _on_curve(scheme.name, y))
    enc = y.to_bytes(scheme.pk_size, "little")
    for impl in ED25519_IMPLS if scheme.name == "ed25519" else [scheme]:
        assert not impl.verify(enc, b"m", bytes(scheme.sig_size))
        assert not impl.verify(enc, b"m", scheme.generate()[1] + bytes(scheme.sig_size // 2))


def test_ed448_small_order_and_non_canonical_rejected() -> None:
    """Ed448 (RFC 8032 §5.2) has cofactor 4: identity, (0, -1) and (±1, 0) are refused, as
    are y >= p, set unused bits of the last byte and S >= L."""
    from mls_pq.crypto.ed_checks import ED448_L, ED448_P

    sk, pk = ED448.generate()
    sig = ED448.sign(sk, b"m")
    assert ED448.verify(pk, b"m", sig)
    small = [y.to_bytes(57, "little") for y in (1, ED448_P - 1, 0)] + [bytes(56) + b"\x80"]
    for enc in small:
        with pytest.raises(InvalidKeyError):
            ED448.validate_public_key(enc)
        assert not ED448.verify(enc, b"m", enc + bytes(57))
        assert not ED448.verify(pk, b"m", enc + sig[57:])
    for enc in (ED448_P.to_bytes(57, "little"), pk[:56] + b"\x01"):
        with pytest.raises(InvalidKeyError):
            ED448.validate_public_key(enc)
    s = int.from_bytes(sig[57:], "little")
    assert not ED448.verify(pk, b"m", sig[:57] + (s + ED448_L).to_bytes(57, "little"))


@pytest.mark.parametrize("scheme", [*ECDSA, MLDSA44], ids=lambda s: s.name)
def test_validate_public_key_other_schemes(scheme: SignatureScheme) -> None:
    try:
        pk = scheme.generate()[1]
    except Exception as e:  # pragma: no cover - ML-DSA absent from an old cryptography
        pytest.skip(f"{scheme.name}: {e}")
    scheme.validate_public_key(pk)
    with pytest.raises(InvalidKeyError):
        scheme.validate_public_key(pk[:-1])
    if isinstance(scheme, Ecdsa):
        off = bytearray(pk)
        off[-1] ^= 1  # (x, y+-1) is not on the curve
        with pytest.raises(InvalidKeyError):
            scheme.validate_public_key(bytes(off))


def test_entry_point_rejects_small_order_signature_key() -> None:
    """The key check runs at every signature-key entry point (KeyPackage, LeafNode,
    credential, external sender all pass through credentials.check_credential_key)."""
    from mls_pq.credentials import check_credential_key
    from mls_pq.messages.credential import Credential
    from mls_pq.suites import get_suite

    suite = get_suite(1)
    cred = Credential.basic(b"alice")
    check_credential_key(suite, cred, suite.signature.generate()[1])
    with pytest.raises(InvalidKeyError):
        check_credential_key(suite, cred, _IDENTITY_25519)


@pytest.mark.parametrize("scheme", ED25519_IMPLS, ids=lambda s: s.backend)
def test_forged_identity_key_package_rejected_by_every_backend(scheme: SignatureScheme) -> None:
    """End to end (RFC 9420 §10.1, §12.1.1): a KeyPackage whose LeafNode signature key is the
    Ed25519 identity, with the forged signatures ``R = identity, S = 0`` on LeafNodeTBS and
    KeyPackageTBS, is refused whichever Ed25519 backend serves the suite — before issue 8 a
    member on the cryptography backend added it — and the group is left byte-identical."""
    import dataclasses

    from mls_pq.client import Client
    from mls_pq.errors import MLSError
    from mls_pq.group import Group
    from mls_pq.messages.framing_structs import MLSMessage
    from mls_pq.messages.key_package import KeyPackage
    from mls_pq.suites import get_suite

    suite = get_suite(1).with_primitives(signature=scheme)
    alice = Client.generate(suite, b"alice")
    g = Group.create(suite, b"g", alice.credential, alice.signature_priv)
    kp_bytes, _ = Client.generate(suite, b"mallory").key_package()
    kp = MLSMessage.from_bytes(kp_bytes).body
    assert isinstance(kp, KeyPackage)
    forged_sig = _IDENTITY_25519 + bytes(32)
    leaf = dataclasses.replace(kp.leaf_node, signature_key=_IDENTITY_25519, signature=forged_sig)
    forged = dataclasses.replace(kp, leaf_node=leaf, signature=forged_sig)
    assert not forged.verify(suite) and not leaf.verify(suite)
    before = g.to_bytes()
    with pytest.raises(MLSError):
        g.commit(add=[MLSMessage(forged).to_bytes()])
    assert g.to_bytes() == before


def test_wrapped_scheme_validates_like_the_wrapped_one() -> None:
    """Counting adapters (mls_pq.instrument) keep the entry-point key check of their scheme."""
    from mls_pq.instrument import CountingSignature, OpCounter

    wrapped = CountingSignature(ED25519_CRYPTOGRAPHY, OpCounter())
    wrapped.validate_public_key(ED25519_CRYPTOGRAPHY.generate()[1])
    with pytest.raises(InvalidKeyError):
        wrapped.validate_public_key(_IDENTITY_25519)


def test_external_sender_with_small_order_key_rejected() -> None:
    """RFC 9420 §12.1.8.1: an ``external_senders`` entry is a signature-key entry point; a
    small-order Ed25519 key there is refused (InvalidKeyError) before the commit changes
    anything, whatever backend serves the suite."""
    from mls_pq.client import Client
    from mls_pq.group import Group
    from mls_pq.messages.credential import Credential
    from mls_pq.messages.external_senders import ExternalSender, external_senders_extension
    from mls_pq.suites import get_suite

    for scheme in ED25519_IMPLS:
        suite = get_suite(1).with_primitives(signature=scheme)
        alice = Client.generate(suite, b"alice")
        g = Group.create(suite, b"g", alice.credential, alice.signature_priv)
        before = g.to_bytes()
        bad = external_senders_extension([ExternalSender(_IDENTITY_25519, Credential.basic(b"ds"))])
        with pytest.raises(InvalidKeyError):
            g.commit(group_context_extensions=[bad])
        assert g.to_bytes() == before
        good = external_senders_extension([ExternalSender(scheme.generate()[1], Credential.basic(b"ds"))])
        g.commit(group_context_extensions=[good])


def _ed25519_mul(k: int, pt: tuple[int, int]) -> tuple[int, int]:
    acc, add = (0, 1), pt
    while k:
        if k & 1:
            acc = _ed25519_add(acc, add)
        add = _ed25519_add(add, add)
        k >>= 1
    return acc


def _ed25519_encode(pt: tuple[int, int]) -> bytes:
    x, y = pt
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def test_ed25519_backends_agree_on_mixed_order_keys() -> None:
    """Where cofactored and cofactorless verification differ (RFC 8032 §5.1.7 allows both):
    a key A = aB + T with T of order 8 and a signature S = r + k·a. The cofactorless check
    that both backends apply (after ed_checks) accepts exactly when k·T is the identity; the
    two backends must agree on every such case, accepted or not."""
    import hashlib

    from mls_pq.crypto.ed_checks import ED25519_L

    if len(ED25519_IMPLS) < 2:
        pytest.skip("only one Ed25519 backend installed")
    base = _ed25519_decode((4 * pow(5, -1, _P25519) % _P25519).to_bytes(32, "little"))
    from mls_pq.crypto.ed_checks import _Y8

    torsion = _ed25519_decode(_Y8.to_bytes(32, "little"))  # a point of order 8
    assert _ed25519_mul(8, torsion) == (0, 1) and _ed25519_mul(4, torsion) != (0, 1)
    seen = []
    rng = __import__("random").Random(8)
    for _key in range(2):
        a, r = rng.randrange(1, ED25519_L), rng.randrange(1, ED25519_L)
        pk = _ed25519_encode(_ed25519_add(_ed25519_mul(a, base), torsion))
        r_enc = _ed25519_encode(_ed25519_mul(r, base))
        for i in range(64):
            msg = i.to_bytes(2, "big")
            k = int.from_bytes(hashlib.sha512(r_enc + pk + msg).digest(), "little") % ED25519_L
            sig = r_enc + ((r + k * a) % ED25519_L).to_bytes(32, "little")
            verdicts = {s.backend: s.verify(pk, msg, sig) for s in ED25519_IMPLS}
            assert len(set(verdicts.values())) == 1, (i, verdicts)
            expected = k % 8 == 0  # cofactorless: [S]B - [k]A = R - k·T, T of order 8
            assert verdicts["pynacl"] is expected
            seen.append(expected)
    assert True in seen and False in seen  # both regions exercised


@pytest.mark.parametrize("suite_id", [0x0002, 0x0005, 0x0007])
def test_ecdsa_sign_deterministic_is_rfc6979_and_verifies(suite_id: int) -> None:
    """For reproducible test vectors (``vectors generate --seed``): the same key and message give
    the same signature (RFC 6979), which verifies; ``sign`` stays randomised."""
    from mls_pq.suites import get_suite as _get

    sig = _get(suite_id).signature
    sk, pk = sig.generate()
    a, b = sig.sign_deterministic(sk, b"m"), sig.sign_deterministic(sk, b"m")  # type: ignore[attr-defined]
    assert a == b and sig.verify(pk, b"m", a)
    assert sig.sign_deterministic(sk, b"n") != a  # type: ignore[attr-defined]
    assert sig.sign(sk, b"m") != sig.sign(sk, b"m")
