"""HPKE KDFs and the HPKE labelled derivation functions.

Two-stage KDFs (``Extract``/``Expand``), RFC 9180 §4 / draft-ietf-hpke-hpke §4.2, §7.2:

* ``HKDF_SHA256`` (0x0001), ``HKDF_SHA384`` (0x0002), ``HKDF_SHA512`` (0x0003) — HKDF
  (RFC 5869) over the standard library's HMAC (OpenSSL-backed).

One-stage KDFs (``Derive``), draft-ietf-hpke-pq §5:

* ``SHAKE128`` (0x0010, Nh 32), ``SHAKE256`` (0x0011, Nh 64) — ``hashlib``.
* ``TURBOSHAKE128`` (0x0012, Nh 32), ``TURBOSHAKE256`` (0x0013, Nh 64) — RFC 9861 with
  domain byte D = 0x1F, from :mod:`mls_pq.crypto.turboshake` (pycryptodome).

The labelled functions of draft-ietf-hpke-hpke §4.4 are module-level helpers taking the
``suite_id`` explicitly, so that every layer (DHKEM, ML-KEM/hybrid ``DeriveKeyPair``, the
HPKE key schedule) shares one implementation:

* :func:`labeled_extract` / :func:`labeled_expand` — two-stage KDFs only;
* :func:`labeled_derive` — one-stage KDFs only. For example the PQ KEMs'
  ``DeriveKeyPair`` (draft-ietf-hpke-pq §3, §4) is::

      labeled_derive(SHAKE256, b"KEM" + kem_id.to_bytes(2, "big"), ikm, b"DeriveKeyPair", b"", Nsk)

Labels, contexts and ``suite_id`` are ``bytes``.
"""

from __future__ import annotations

import hashlib
import hmac as _hmac

from ..errors import CryptoError
from .base import Kdf

__all__ = [
    "HKDF_SHA256",
    "HKDF_SHA384",
    "HKDF_SHA512",
    "HPKE_V1",
    "SHAKE128",
    "SHAKE256",
    "TURBOSHAKE128",
    "TURBOSHAKE256",
    "HkdfKdf",
    "ShakeKdf",
    "TurboShakeKdf",
    "labeled_derive",
    "labeled_expand",
    "labeled_extract",
]

HPKE_V1 = b"HPKE-v1"
"""The label prefix of every labelled KDF call (draft-ietf-hpke-hpke §4.4)."""

_MAX_U16 = 0xFFFF


class HkdfKdf(Kdf):
    """HKDF (RFC 5869) as a two-stage HPKE KDF (RFC 9180 §7.2)."""

    two_stage = True
    backend = "hashlib"

    def __init__(self, ident: int, name: str, algo: str, n_h: int) -> None:
        self.id = ident
        self.name = name
        self.n_h = n_h
        self._algo = algo

    def extract(self, salt: bytes, ikm: bytes) -> bytes:
        """HKDF-Extract: ``HMAC(salt, ikm)``; an empty salt means Nh zero bytes (RFC 5869 §2.2)."""
        return _hmac.digest(salt or bytes(self.n_h), ikm, self._algo)

    def expand(self, prk: bytes, info: bytes, length: int) -> bytes:
        """HKDF-Expand (RFC 5869 §2.3); ``length`` is at most 255*Nh."""
        if length < 0 or length > 255 * self.n_h:
            raise CryptoError(f"{self.name}: Expand length {length} exceeds 255*Nh")
        out = bytearray()
        block = b""
        counter = 1
        while len(out) < length:
            block = _hmac.digest(prk, block + info + bytes([counter]), self._algo)
            out += block
            counter += 1
        return bytes(out[:length])


class ShakeKdf(Kdf):
    """SHAKE as a one-stage HPKE KDF: ``Derive(ikm, L) = SHAKE(ikm, 8L)`` (draft-ietf-hpke-pq §5)."""

    two_stage = False
    backend = "hashlib"

    def __init__(self, ident: int, name: str, bits: int, n_h: int) -> None:
        self.id = ident
        self.name = name
        self.n_h = n_h
        self._ctor = hashlib.shake_128 if bits == 128 else hashlib.shake_256

    def derive(self, ikm: bytes, length: int) -> bytes:
        if length < 0:
            raise CryptoError(f"{self.name}: negative output length")
        return self._ctor(ikm).digest(length)


class TurboShakeKdf(Kdf):
    """TurboSHAKE as a one-stage HPKE KDF: ``Derive(ikm, L) = TurboSHAKE(M=ikm, D=0x1F, L)``
    (draft-ietf-hpke-pq §5, RFC 9861)."""

    two_stage = False
    backend = "pycryptodome"

    def __init__(self, ident: int, name: str, bits: int, n_h: int) -> None:
        self.id = ident
        self.name = name
        self.n_h = n_h
        self._bits = bits

    def derive(self, ikm: bytes, length: int) -> bytes:
        from . import turboshake

        if length < 0:
            raise CryptoError(f"{self.name}: negative output length")
        if self._bits == 128:
            return turboshake.turboshake128(ikm, length, 0x1F)
        return turboshake.turboshake256(ikm, length, 0x1F)


HKDF_SHA256 = HkdfKdf(0x0001, "HKDF-SHA256", "sha256", 32)
HKDF_SHA384 = HkdfKdf(0x0002, "HKDF-SHA384", "sha384", 48)
HKDF_SHA512 = HkdfKdf(0x0003, "HKDF-SHA512", "sha512", 64)
SHAKE128 = ShakeKdf(0x0010, "SHAKE128", 128, 32)
SHAKE256 = ShakeKdf(0x0011, "SHAKE256", 256, 64)
TURBOSHAKE128 = TurboShakeKdf(0x0012, "TurboSHAKE128", 128, 32)
TURBOSHAKE256 = TurboShakeKdf(0x0013, "TurboSHAKE256", 256, 64)


def _u16(n: int, what: str) -> bytes:
    if not 0 <= n <= _MAX_U16:
        raise CryptoError(f"{what} ({n}) does not fit the two-byte length field")
    return n.to_bytes(2, "big")


def labeled_extract(kdf: Kdf, suite_id: bytes, salt: bytes, label: bytes, ikm: bytes) -> bytes:
    """``LabeledExtract(salt, label, ikm)`` (RFC 9180 §4, draft-ietf-hpke-hpke §4.4):
    ``Extract(salt, "HPKE-v1" || suite_id || label || ikm)``. Two-stage KDFs only."""
    return kdf.extract(salt, HPKE_V1 + suite_id + label + ikm)


def labeled_expand(kdf: Kdf, suite_id: bytes, prk: bytes, label: bytes, info: bytes, length: int) -> bytes:
    """``LabeledExpand(prk, label, info, L)`` (RFC 9180 §4, draft-ietf-hpke-hpke §4.4):
    ``Expand(prk, I2OSP(L, 2) || "HPKE-v1" || suite_id || label || info, L)``. Two-stage only."""
    return kdf.expand(prk, _u16(length, "output length") + HPKE_V1 + suite_id + label + info, length)


def labeled_derive(kdf: Kdf, suite_id: bytes, ikm: bytes, label: bytes, context: bytes, length: int) -> bytes:
    """``LabeledDerive(ikm, label, context, L)`` for one-stage KDFs (draft-ietf-hpke-hpke §4.4)::

        Derive(ikm || "HPKE-v1" || suite_id || lengthPrefixed(label) || I2OSP(L, 2) || context, L)

    ``suite_id`` is ``"KEM" || I2OSP(kem_id, 2)`` inside a KEM (e.g. ML-KEM and hybrid
    ``DeriveKeyPair`` with SHAKE256, draft-ietf-hpke-pq §3–4) and
    ``"HPKE" || kem_id || kdf_id || aead_id`` in the HPKE key schedule.
    """
    labeled_ikm = b"".join(
        (ikm, HPKE_V1, suite_id, _u16(len(label), "label length"), label, _u16(length, "output length"), context)
    )
    return kdf.derive(labeled_ikm, length)
