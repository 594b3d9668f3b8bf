"""DHKEM (mls_pq.crypto.dhkem) against every RFC 9180 / hpke-pq / draft appendix DHKEM case,
the Group API against pyca/cryptography, and invalid-key handling."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, x448, x25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from mls_pq.crypto import get_kem
from mls_pq.crypto.dhkem import (
    DHKEM_P256,
    DHKEM_P384,
    DHKEM_P521,
    DHKEM_X448,
    DHKEM_X25519,
    GROUPS,
    P256,
    P384,
    P521,
    X448,
    X25519,
    Group,
    clear_key_caches,
)
from mls_pq.crypto.kdf import labeled_expand, labeled_extract
from mls_pq.errors import InvalidKeyError
from tests import _vectors
from tests.crypto.test_hpke_rfc9180 import APPENDIX, parse_appendix

H = bytes.fromhex
ALL = [DHKEM_P256, DHKEM_P384, DHKEM_P521, DHKEM_X25519, DHKEM_X448]


def _rfc_ident(i: int, c: dict[str, Any]) -> str:
    return f"{i}-mode{c['mode']}-kem{c['kem_id']:04x}"


def _dhkem_only(d: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for c in d if c["kem_id"] < 0x40]


RFC_CASES = _vectors.cases("rfc9180-hpke", "test-vectors.json", ident=_rfc_ident)
PQ_CASES = (
    _vectors.cases("hpke-pq", "test-vectors.json", select=_dhkem_only, ident=lambda i, c: f"main-kem{c['kem_id']:04x}")
    + _vectors.cases("hpke-pq", "test-vectors-143cd50-2025-11-12.json", select=_dhkem_only,
                     ident=lambda i, c: f"143cd50-kem{c['kem_id']:04x}")
)


@pytest.mark.parametrize("case", RFC_CASES)
def test_rfc9180_kem(case: dict[str, Any]) -> None:
    c = case
    kem: Any = get_kem(c["kem_id"])
    sk_r, pk_r = H(c["skRm"]), H(c["pkRm"])
    assert kem.derive_key_pair(H(c["ikmR"])) == (sk_r, pk_r)
    assert kem.derive_key_pair(H(c["ikmE"])) == (H(c["skEm"]), H(c["pkEm"]))
    assert kem.public_key(sk_r) == pk_r
    assert (len(sk_r), len(pk_r)) == (kem.n_sk, kem.n_pk)
    ss = H(c["shared_secret"])
    if c["mode"] in (2, 3):
        sk_s, pk_s = H(c["skSm"]), H(c["pkSm"])
        assert kem.derive_key_pair(H(c["ikmS"])) == (sk_s, pk_s)
        assert kem.auth_encap_derand(pk_r, sk_s, H(c["ikmE"])) == (ss, H(c["enc"]))
        assert kem.auth_decap(H(c["enc"]), sk_r, pk_s) == ss
        # the unauthenticated Decap of the same enc gives a different secret
        assert kem.decap(H(c["enc"]), sk_r) != ss
    else:
        assert kem.encap_derand(pk_r, H(c["ikmE"])) == (ss, H(c["enc"]))
        assert kem.decap(H(c["enc"]), sk_r) == ss
    assert len(ss) == kem.n_secret


@pytest.mark.parametrize("case", PQ_CASES)
def test_hpke_pq_dhkem(case: dict[str, Any]) -> None:
    c = case
    kem = get_kem(c["kem_id"])
    sk, pk = kem.derive_key_pair(H(c["ikmR"]))
    assert pk == H(c["pkRm"])
    if c["kem_id"] == 0x21:  # these files store the X448 private key clamped; same scalar
        b = bytearray(sk)
        b[0] &= 0xFC
        b[55] |= 0x80
        assert bytes(b) == H(c["skRm"])
    else:
        assert sk == H(c["skRm"])
    assert kem.decap(H(c["enc"]), H(c["skRm"])) == H(c["shared_secret"])
    assert kem.decap(H(c["enc"]), sk) == H(c["shared_secret"])
    assert kem.encap_derand(pk, H(c["ikmE"])) == (H(c["shared_secret"]), H(c["enc"]))


def test_p256_derive_key_pair_rejection_sampling() -> None:
    """draft-ietf-hpke-hpke appendix: the counter-0 candidate is >= order and is rejected."""
    p = _vectors.path(*APPENDIX)
    if not p.exists():
        pytest.skip("appendix vectors missing")
    case = next(c for c in parse_appendix(p.read_text()) if "rejected_candidate (counter=0)" in c)
    ikm = H(case["ikmR"])
    sid = DHKEM_P256.suite_id
    prk = labeled_extract(DHKEM_P256.kdf, sid, b"", b"dkp_prk", ikm)
    cand0 = labeled_expand(DHKEM_P256.kdf, sid, prk, b"candidate", b"\x00", 32)
    assert cand0 == H(case["rejected_candidate (counter=0)"])
    assert P256.order is not None and int.from_bytes(cand0, "big") >= P256.order
    assert P256.scalar_from_bytes(cand0) is None
    cand1 = labeled_expand(DHKEM_P256.kdf, sid, prk, b"candidate", b"\x01", 32)
    assert DHKEM_P256.derive_key_pair(ikm) == (cand1, H(case["pkRm"])) == (H(case["skRm"]), H(case["pkRm"]))


# -- Group API -------------------------------------------------------------------------------
EC = [(P256, ec.SECP256R1()), (P384, ec.SECP384R1()), (P521, ec.SECP521R1())]


@pytest.mark.parametrize("group,curve", EC, ids=lambda x: getattr(x, "name", ""))
def test_ec_group_matches_pyca(group: Group, curve: ec.EllipticCurve) -> None:
    a = ec.generate_private_key(curve)
    b = ec.generate_private_key(curve)
    sk_a = a.private_numbers().private_value.to_bytes(group.n_sk, "big")
    pk_b = b.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    assert group.scalar_base_mult(sk_a) == a.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    z = group.dh(sk_a, pk_b)
    assert z == a.exchange(ec.ECDH(), b.public_key())
    assert len(z) == group.n_dh == group.n_sk
    sk_b = b.private_numbers().private_value.to_bytes(group.n_sk, "big")
    assert group.dh(sk_b, group.scalar_base_mult(sk_a)) == z


@pytest.mark.parametrize("group,cls", [(X25519, x25519.X25519PrivateKey), (X448, x448.X448PrivateKey)],
                         ids=["X25519", "X448"])
def test_x_group_matches_pyca(group: Group, cls: Any) -> None:
    a, b = cls.generate(), cls.generate()
    raw = (Encoding.Raw, PublicFormat.Raw)
    from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

    sk_a = a.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    assert group.scalar_base_mult(sk_a) == a.public_key().public_bytes(*raw)
    assert group.dh(sk_a, b.public_key().public_bytes(*raw)) == a.exchange(b.public_key())
    assert group.order is None


def test_group_table_and_sizes() -> None:
    assert {n: (g.n_sk, g.n_pk, g.n_dh) for n, g in GROUPS.items()} == {
        "P-256": (32, 65, 32), "P-384": (48, 97, 48), "P-521": (66, 133, 66),
        "X25519": (32, 32, 32), "X448": (56, 56, 56)}
    assert "P-256" in repr(P256)


@pytest.mark.parametrize("group", [P256, P384, P521], ids=lambda g: g.name)
def test_scalar_from_bytes_and_random_scalar(group: Group) -> None:
    assert group.order is not None
    n = group.n_sk
    assert group.scalar_from_bytes(bytes(n)) is None
    assert group.scalar_from_bytes(group.order.to_bytes(n, "big")) is None
    top = (group.order - 1).to_bytes(n, "big")
    assert group.scalar_from_bytes(top) == top
    # rejection sampling over consecutive chunks: the first valid chunk wins
    good = (12345).to_bytes(n, "big")
    assert group.random_scalar(b"\xff" * n + good + top) == good
    assert group.random_scalar(top + good) == top
    with pytest.raises(InvalidKeyError):
        group.random_scalar(b"\xff" * (2 * n))
    with pytest.raises(InvalidKeyError):
        group.scalar_from_bytes(b"\x01" * (n - 1))
    sk = group.generate_private_key()
    assert len(sk) == n and group.scalar_from_bytes(sk) == sk


def test_p521_bitmask() -> None:
    """RFC 9180 §7.1.3: bitmask 0x01 for P-521 keeps only the low bit of the first byte."""
    assert P521.scalar_from_bytes(b"\xff" + b"\x00" * 64 + b"\x05", 0x01) == b"\x01" + b"\x00" * 64 + b"\x05"


def test_x_group_random_scalar() -> None:
    seed = bytes(range(64))
    assert X25519.random_scalar(seed) == seed[:32]
    assert X25519.scalar_from_bytes(seed[:32]) == seed[:32]
    with pytest.raises(InvalidKeyError):
        X448.random_scalar(seed[:55])


# -- invalid keys ------------------------------------------------------------------------------
def _off_curve(pk: bytes) -> bytes:
    return pk[:-1] + bytes([pk[-1] ^ 1])


@pytest.mark.parametrize("kem", [DHKEM_P256, DHKEM_P384, DHKEM_P521], ids=lambda k: k.name)
def test_invalid_ec_public_keys(kem: Any) -> None:
    sk, pk = kem.generate_key_pair()
    n = kem.group.n_sk
    p_big = b"\xff" * n
    compressed = bytes([2 + (pk[-1] & 1)]) + pk[1:1 + n]
    for bad in [
        _off_curve(pk),                       # not on the curve
        b"\x00",                              # point at infinity encoding
        bytes(kem.n_pk),                      # all zero
        compressed,                           # compressed form is not SerializePublicKey
        b"\x05" + pk[1:],                     # wrong prefix
        b"\x04" + p_big + pk[1 + n:],         # x >= p
        pk[:-1],                              # short
        pk + b"\x00",                         # long
    ]:
        with pytest.raises(InvalidKeyError):
            kem.validate_public_key(bad)
        with pytest.raises(InvalidKeyError):
            kem.encap(bad)
        with pytest.raises(InvalidKeyError):
            kem.decap(bad, sk)
    kem.validate_public_key(pk)


# low-order points: the DH output is all zero and must be rejected (RFC 9180 §7.1.4, RFC 7748 §6)
X25519_LOW_ORDER = [bytes(32), b"\x01" + bytes(31),
                    H("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")]
X448_LOW_ORDER = [bytes(56), b"\x01" + bytes(55)]


@pytest.mark.parametrize("kem,points", [(DHKEM_X25519, X25519_LOW_ORDER), (DHKEM_X448, X448_LOW_ORDER)],
                         ids=["X25519", "X448"])
def test_x_low_order_points_rejected(kem: Any, points: list[bytes]) -> None:
    sk, pk = kem.generate_key_pair()
    for bad in points:
        with pytest.raises(InvalidKeyError):
            kem.decap(bad, sk)
        with pytest.raises(InvalidKeyError):
            kem.encap(bad)
    for bad in (pk[:-1], pk + b"\x00", b""):
        with pytest.raises(InvalidKeyError):
            kem.validate_public_key(bad)


@pytest.mark.parametrize("kem", [DHKEM_P256, DHKEM_P384, DHKEM_P521], ids=lambda k: k.name)
def test_invalid_ec_private_keys(kem: Any) -> None:
    _, pk = kem.generate_key_pair()
    order = kem.group.order
    for bad in [bytes(kem.n_sk), order.to_bytes(kem.n_sk, "big"), b"\xff" * kem.n_sk, b"", b"\x01" * (kem.n_sk + 1)]:
        with pytest.raises(InvalidKeyError):
            kem.public_key(bad)
        with pytest.raises(InvalidKeyError):
            kem.decap(pk, bad)


@pytest.mark.parametrize("kem", [DHKEM_X25519, DHKEM_X448], ids=lambda k: k.name)
def test_invalid_x_private_key_length(kem: Any) -> None:
    _, pk = kem.generate_key_pair()
    for bad in (b"", b"\x01" * (kem.n_sk - 1), b"\x01" * (kem.n_sk + 1)):
        with pytest.raises(InvalidKeyError):
            kem.public_key(bad)
        with pytest.raises(InvalidKeyError):
            kem.decap(pk, bad)


def test_p521_short_private_key_is_left_padded() -> None:
    """Some interop vectors strip the leading zero byte of a P-521 scalar (vectors/SOURCES.md §1)."""
    while True:
        sk, pk = DHKEM_P521.generate_key_pair()
        if sk[0] == 0:
            break
    assert DHKEM_P521.public_key(sk[1:]) == pk
    ss, enc = DHKEM_P521.encap(pk)
    assert DHKEM_P521.decap(enc, sk[1:]) == ss


# -- round trips and metadata ------------------------------------------------------------------
@pytest.mark.parametrize("kem", ALL, ids=lambda k: k.name)
def test_roundtrip(kem: Any) -> None:
    sk_r, pk_r = kem.generate_key_pair()
    sk_s, pk_s = kem.generate_key_pair()
    ss, enc = kem.encap(pk_r)
    assert kem.decap(enc, sk_r) == ss and len(ss) == kem.n_secret and len(enc) == kem.n_enc
    ss2, enc2 = kem.encap(pk_r)
    assert (ss2, enc2) != (ss, enc)
    ss, enc = kem.auth_encap(pk_r, sk_s)
    assert kem.auth_decap(enc, sk_r, pk_s) == ss
    assert kem.auth_decap(enc, sk_r, kem.generate_key_pair()[1]) != ss
    assert kem.supports_auth
    assert kem.backend == "cryptography"
    assert get_kem(kem.id) is kem


def test_parameters() -> None:
    """RFC 9180 §7.1 Table 2."""
    assert [(k.id, k.n_secret, k.n_enc, k.n_pk, k.n_sk) for k in ALL] == [
        (0x10, 32, 65, 65, 32), (0x11, 48, 97, 97, 48), (0x12, 64, 133, 133, 66),
        (0x20, 32, 32, 32, 32), (0x21, 64, 56, 56, 56)]


def test_key_cache_is_used_and_can_be_cleared() -> None:
    sk, pk = DHKEM_P256.generate_key_pair()
    cache: Any = P256._priv
    hits = cache.cache_info().hits
    DHKEM_P256.decap(DHKEM_P256.encap(pk)[1], sk)
    DHKEM_P256.decap(DHKEM_P256.encap(pk)[1], sk)
    assert cache.cache_info().hits > hits
    clear_key_caches()
    assert cache.cache_info().currsize == 0
    assert DHKEM_P256.public_key(sk) == pk
