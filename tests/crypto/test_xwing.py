"""X-Wing / MLKEM768-X25519 (mls_pq.crypto.hybrid.XWING) against the X-Wing draft's vectors."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import x25519

from mls_pq.crypto import kem
from mls_pq.crypto.hybrid import XWING, with_derive_mode
from mls_pq.crypto.mlkem import MLKEM768
from mls_pq.errors import CryptoError
from tests._vectors import cases

h = bytes.fromhex
XWING_CASES = cases("xwing", "test-vectors.json", ident=lambda i, c: f"xwing-{i}")


def test_constants() -> None:
    assert kem(0x647A) is XWING
    assert (XWING.n_secret, XWING.n_enc, XWING.n_pk, XWING.n_sk) == (32, 1120, 1216, 32)
    assert XWING.label.hex() == "5c2e2f2f5e5c"  # xwing §5.3
    assert not XWING.supports_auth


@pytest.mark.parametrize("case", XWING_CASES)
def test_xwing_vector(case: dict[str, Any]) -> None:
    seed, pk, ct, ss = h(case["seed"]), h(case["pk"]), h(case["ct"]), h(case["ss"])
    assert h(case["sk"]) == seed  # the decapsulation key is the 32-byte seed
    assert XWING.public_key(seed) == pk
    XWING.validate_public_key(pk)
    assert XWING.encap_derand(pk, h(case["eseed"])) == (ss, ct)
    assert XWING.decap(ct, seed) == ss


@pytest.mark.parametrize("case", XWING_CASES)
def test_xwing_vector_components(case: dict[str, Any]) -> None:
    """The key layout of xwing §5.2 checked with the component libraries directly."""
    seed, pk = h(case["seed"]), h(case["pk"])
    expanded = hashlib.shake_256(seed).digest(96)
    assert pk[:1184] == MLKEM768.public_key(expanded[:64])
    assert pk[1184:] == x25519.X25519PrivateKey.from_private_bytes(expanded[64:]).public_key().public_bytes_raw()
    ct, eseed = h(case["ct"]), h(case["eseed"])
    assert ct[1088:] == x25519.X25519PrivateKey.from_private_bytes(eseed[32:]).public_key().public_bytes_raw()


def test_xwing_draft_derive_variant() -> None:
    """xwing §5.6 DeriveKeyPair: sk = SHAKE256(ikm, 256); hpke-pq's uses LabeledDerive."""
    draft = with_derive_mode(XWING, "xwing-draft")
    assert kem(0x647A) is XWING
    ikm = b"\x42" * 32
    sk, pk = draft.derive_key_pair(ikm)
    assert sk == hashlib.shake_256(ikm).digest(32)
    assert pk == XWING.public_key(sk)
    assert XWING.derive_key_pair(ikm)[0] != sk
    ss, enc = draft.encap(pk)
    assert XWING.decap(enc, sk) == ss


def test_round_trip_and_binding() -> None:
    sk, pk = XWING.generate_key_pair()
    ss, enc = XWING.encap(pk)
    assert XWING.decap(enc, sk) == ss
    # changing the X25519 ciphertext changes the secret (ct_X is bound by the combiner)
    other = x25519.X25519PrivateKey.generate().public_key().public_bytes_raw()
    assert XWING.decap(enc[:1088] + other, sk) != ss


def test_small_order_x25519_ciphertext_is_a_typed_error() -> None:
    sk, pk = XWING.derive_key_pair(b"\x00" * 32)
    _ss, enc = XWING.encap(pk)
    with pytest.raises(CryptoError):
        XWING.decap(enc[:1088] + bytes(32), sk)
    with pytest.raises(CryptoError):
        XWING.encap(pk[:1184] + bytes(32))
