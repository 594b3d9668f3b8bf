"""One EdDSA acceptance rule in front of every backend (Ed25519: pynacl and cryptography; Ed448).

Why this module exists
----------------------
RFC 8032 §5.1.7 / §5.2.7 leave implementations room (cofactored or not, strict decoding or
not), and the installed backends use it differently: with the identity point as public key,
OpenSSL (pyca/cryptography) accepts the signature ``R = identity, S = 0`` on *any* message
while libsodium (pynacl) rejects it. Which backend runs depends on what is installed, so two
members could disagree on a message's validity and fork the group. mls-pq therefore decides
one rule and checks it here, before any backend sees the input:

* public key ``A`` and the signature's ``R`` must be **canonical** encodings (the
  y-coordinate is below p; for Ed448 the 7 unused bits of the last byte are zero) and must
  **not be of small order** (no point of the 8-torsion of Ed25519 / 4-torsion of Ed448);
* ``S`` must be **canonical**: ``S < L`` (RFC 8032 §5.1.7 step 1 / §5.2.7 step 1).

The curve equation is not checked here: a y-coordinate without a matching x (RFC 8032
§5.1.3 / §5.2.3 decoding failure) is rejected by every backend's own decoding, so it cannot
cause a disagreement, and checking it in Python would cost a modular exponentiation per new
key (≈ 2–10 signature verifications) at every entry point.

After this filter, both backends verify with the same cofactorless equation (they recompute
``R' = [S]B - [k]A`` and compare encodings), so their verdicts coincide; the Wycheproof
vectors are run against every backend to prove it (tests/crypto/test_wycheproof_signature.py).
The rule is libsodium's (``crypto_sign_verify_detached``, ``ge25519_is_canonical`` /
``ge25519_has_small_order``), applied to every backend and to Ed448.

Hand-written: no installed library exposes these checks for both curves (libsodium's
``crypto_core_ed25519_is_valid_point`` covers Ed25519 only, and only when pynacl is present;
pyca/cryptography has none). The checks are integer comparisons against the curve constants
only; no secret is involved, so constant time is not needed.
"""

from __future__ import annotations

__all__ = [
    "ED448_L",
    "ED448_P",
    "ED25519_L",
    "ED25519_P",
    "point_ok",
    "public_key_ok",
    "signature_ok",
]

# --- Ed25519 (RFC 8032 §5.1) -----------------------------------------------------------
ED25519_P = 2**255 - 19
ED25519_L = 2**252 + 27742317777372353535851937790883648493
# y-coordinates of the 8 points of small order: identity (1), order 2 (p-1), order 4 (0) and
# the four points of order 8 (±Y8, each with both x signs) — libsodium's blocklist; the
# values are re-derived in tests/crypto/test_signature.py.
_Y8 = 2707385501144840649318225287225658788936804267575313519463743609750303402022
_SMALL_Y_25519 = frozenset({0, 1, ED25519_P - 1, _Y8, ED25519_P - _Y8})

# --- Ed448 (RFC 8032 §5.2) -------------------------------------------------------------
ED448_P = 2**448 - 2**224 - 1
ED448_L = 2**446 - 13818066809895115352007386748515426880336692474882178609894547503885
# Ed448 has cofactor 4: identity (y = 1), order 2 (y = p-1), order 4 (x = ±1, y = 0)
_SMALL_Y_448 = frozenset({0, 1, ED448_P - 1})


def _y25519(b: bytes) -> int | None:
    """The y-coordinate of a canonical, non-small-order Ed25519 encoding, else None."""
    if len(b) != 32:
        return None
    y = int.from_bytes(b, "little") & ((1 << 255) - 1)
    if y >= ED25519_P or y in _SMALL_Y_25519:
        return None
    return y


def _y448(b: bytes) -> int | None:
    """The y-coordinate of a canonical, non-small-order Ed448 encoding, else None."""
    if len(b) != 57 or b[56] & 0x7F:
        return None
    y = int.from_bytes(b[:56], "little")
    if y >= ED448_P or y in _SMALL_Y_448:
        return None
    return y


def point_ok(curve: str, b: bytes) -> bool:
    """True iff ``b`` is a canonical point encoding of ``curve`` ("ed25519" / "ed448") whose
    y-coordinate is not that of a small-order point. Does not check the curve equation."""
    if curve == "ed25519":
        return _y25519(b) is not None
    if curve == "ed448":
        return _y448(b) is not None
    raise ValueError(f"unknown EdDSA curve {curve!r}")


def public_key_ok(curve: str, pk: bytes) -> bool:
    """The rule for a public key alone: of the curve's size, canonical, not of small order."""
    return point_ok(curve, bytes(pk))


def signature_ok(curve: str, pk: bytes, sig: bytes) -> bool:
    """The mls-pq EdDSA acceptance rule applied before a backend verifies: ``pk`` and ``R``
    canonical and not of small order, ``S < L``, and the sizes right (module docstring)."""
    if curve == "ed25519":
        n, order = 32, ED25519_L
    elif curve == "ed448":
        n, order = 57, ED448_L
    else:
        raise ValueError(f"unknown EdDSA curve {curve!r}")
    if len(sig) != 2 * n or len(pk) != n:
        return False
    if int.from_bytes(sig[n:], "little") >= order:
        return False
    return point_ok(curve, bytes(pk)) and point_ok(curve, bytes(sig[:n]))
