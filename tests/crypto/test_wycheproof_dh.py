"""Diffie-Hellman against Wycheproof, on EVERY DH code path mls-pq has.

Files: ``x25519_test.json``, ``x448_test.json``, ``ecdh_secp{256,384,521}r1_ecpoint_test.json``
(public keys as raw SEC1 points).

Backends / code paths (read from ``mls_pq/crypto/dhkem.py`` and ``hybrid.py``), all over
pyca/cryptography but with their own key parsing and output checks:

* ``dhkem``: the DHKEM groups (``X25519``, ``X448``, ``P256``, ``P384``, ``P521``) used by
  DHKEM (RFC 9180 §4.1) — ``group.dh(sk, pk)``;
* ``hybrid``: the nominal groups of the PQ/T hybrid KEMs (X-Wing's X25519, MLKEM768-P256's
  P-256, MLKEM1024-P384's P-384) — ``parse_element`` + ``shared_secret``.

Decisions for ``acceptable`` cases (identical on every path, asserted):

* X25519/X448: a public key giving the all-zero shared secret is **rejected** with a typed
  error (RFC 9180 §7.1.4 and RFC 7748 §6 — the zero check is required); every other
  acceptable case (twist points, non-canonical u, high bit set) is accepted with the
  vector's shared secret, as RFC 7748 §5 specifies (mask the high bit, reduce mod p).
* ECDH: compressed points are **rejected** (RFC 9180 §7.1.1 and RFC 9420 §5.1.1 use the
  uncompressed SEC1 encoding only).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from mls_pq.crypto import dhkem, hybrid
from mls_pq.errors import MLSError
from tests._vectors import load, require

WY = "wycheproof"

Dh = Callable[[bytes, bytes], bytes]


def _dhkem(group: dhkem.Group) -> Dh:
    def dh(sk: bytes, pk: bytes) -> bytes:
        if group.order is not None:  # Wycheproof scalars may carry a leading zero byte, or be short
            sk = int.from_bytes(sk, "big").to_bytes(group.n_sk, "big")
        return group.dh(sk, pk)

    return dh


def _hybrid(group: Any) -> Dh:
    def dh(sk: bytes, pk: bytes) -> bytes:
        if isinstance(group, hybrid._NistCurve):
            scalar = ec.derive_private_key(int.from_bytes(sk, "big"), group._curve)
        else:
            scalar = group.random_scalar(sk)
        secret: bytes = group.shared_secret(scalar, group.parse_element(pk))
        return secret

    return dh


BACKENDS: dict[str, list[tuple[str, Dh]]] = {
    "x25519_test.json": [("dhkem", _dhkem(dhkem.X25519)), ("hybrid (X-Wing)", _hybrid(hybrid.X25519_GROUP))],
    "x448_test.json": [("dhkem", _dhkem(dhkem.X448))],
    "ecdh_secp256r1_ecpoint_test.json": [
        ("dhkem", _dhkem(dhkem.P256)),
        ("hybrid (MLKEM768-P256)", _hybrid(hybrid.P256_GROUP)),
    ],
    "ecdh_secp384r1_ecpoint_test.json": [
        ("dhkem", _dhkem(dhkem.P384)),
        ("hybrid (MLKEM1024-P384)", _hybrid(hybrid.P384_GROUP)),
    ],
    "ecdh_secp521r1_ecpoint_test.json": [("dhkem", _dhkem(dhkem.P521))],
}
PARAMS = [
    pytest.param(f, b, id=f"{f.removesuffix('_test.json')}-{b.split(' ')[0]}") for f, bs in BACKENDS.items() for b, _ in bs
]


def _run(dh: Dh, t: dict[str, Any]) -> bytes | None:
    """The shared secret, or None when the adapter rejects with a typed mls_pq error."""
    try:
        return dh(bytes.fromhex(t["private"]), bytes.fromhex(t["public"]))
    except MLSError:
        return None


def _expected_acceptable(t: dict[str, Any]) -> bool:
    """Our decision for an ``acceptable`` case (module docstring): accept or reject."""
    if "ZeroSharedSecret" in t["flags"]:
        return False
    if "CompressedPoint" in t["flags"] or "CompressedPublic" in t["flags"]:
        return False
    return True


@pytest.mark.parametrize(("file_name", "backend"), PARAMS)
def test_wycheproof_dh(file_name: str, backend: str, wycheproof_tally: Any) -> None:
    require(WY, file_name)
    dh = dict(BACKENDS[file_name])[backend]
    tally = wycheproof_tally(file_name, backend)
    wrong: list[str] = []
    data = load(WY, file_name)
    for group in data["testGroups"]:
        for t in group["tests"]:
            out = _run(dh, t)
            res = t["result"]
            if res == "acceptable":
                res = "valid" if _expected_acceptable(t) else "invalid"
                if (out is not None) == (res == "valid"):
                    if out is None:
                        tally.acceptable_rejected += 1
                    elif out == bytes.fromhex(t["shared"]):
                        tally.acceptable_accepted += 1
                    else:
                        wrong.append(f"tcId {t['tcId']}: wrong shared secret")
                    continue
            elif res == "valid" and out == bytes.fromhex(t["shared"]):
                tally.valid_ok += 1
                continue
            elif res == "invalid" and out is None:
                tally.invalid_rejected += 1
                continue
            got = "rejected" if out is None else out.hex()
            wrong.append(f"tcId {t['tcId']} ({t['result']}, {t['comment']}, {t['flags']}): {got}")
    assert not wrong, "\n".join(wrong)
    assert tally.total == data["numberOfTests"]


@pytest.mark.parametrize("file_name", [f for f, bs in BACKENDS.items() if len(bs) > 1])
def test_wycheproof_dh_paths_agree(file_name: str) -> None:
    """Every DH code path returns the same output or rejects alike, on every case."""
    require(WY, file_name)
    disagreements = []
    for group in load(WY, file_name)["testGroups"]:
        for t in group["tests"]:
            outs = {b: _run(dh, t) for b, dh in BACKENDS[file_name]}
            if len(set(outs.values())) != 1:
                disagreements.append(f"tcId {t['tcId']}: {outs}")
    assert not disagreements, "\n".join(disagreements)


@pytest.mark.parametrize("group", [dhkem.X25519, dhkem.X448], ids=lambda g: g.name)
def test_zero_shared_secret_rejected(group: dhkem.Group) -> None:
    """RFC 9180 §7.1.4 / RFC 7748 §6: an all-zero X25519/X448 output MUST be rejected —
    the low-order public key u = 0 gives it for every private key."""
    sk = group.generate_private_key()
    with pytest.raises(MLSError):
        group.dh(sk, bytes(group.n_pk))
