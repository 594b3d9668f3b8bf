"""DHKEM (RFC 9180 §4.1, draft-ietf-hpke-hpke §4.5, §7.1) over pyca/cryptography.

KEMs exported (ids from the HPKE KEM registry):

=============  ======  ===========  =======  ===  ===  ===
name           id      KDF          Nsecret  Npk  Nsk  Ndh
=============  ======  ===========  =======  ===  ===  ===
DHKEM_P256     0x0010  HKDF-SHA256  32       65   32   32
DHKEM_P384     0x0011  HKDF-SHA384  48       97   48   48
DHKEM_P521     0x0012  HKDF-SHA512  64       133  66   66
DHKEM_X25519   0x0020  HKDF-SHA256  32       32   32   32
DHKEM_X448     0x0021  HKDF-SHA512  64       56   56   56
=============  ======  ===========  =======  ===  ===  ===

Private keys are serialised as in RFC 9180 §7.1.2: big-endian scalars of Nsk bytes for the
NIST curves (P-521: 66 bytes; a leading-zero-stripped shorter encoding is left-padded on
input), raw byte strings for X25519/X448. Public keys are uncompressed SEC1 points / raw
RFC 7748 u-coordinates.

Group API (for hybrid KEMs such as X-Wing, MLKEM768-P256, MLKEM1024-P384)
--------------------------------------------------------------------------
``GROUPS`` maps ``"P-256"``, ``"P-384"``, ``"P-521"``, ``"X25519"``, ``"X448"`` to a
:class:`Group` (also importable as ``P256``, ``P384``, ``P521``, ``X25519``, ``X448``).
All inputs and outputs are ``bytes`` in the serialisations above:

* ``group.n_sk`` (Nscalar), ``group.n_pk`` (Nelem), ``group.n_dh`` (Nss), ``group.order``
  (``None`` for X25519/X448).
* ``group.scalar_base_mult(sk) -> pk`` — the public key of a private scalar.
* ``group.dh(sk, pk) -> ss`` — ECDH: x-coordinate (NIST curves, Ndh bytes) or X25519/X448
  output; validates ``pk`` and rejects an all-zero / identity result with
  :class:`~mls_pq.errors.InvalidKeyError`.
* ``group.validate_public_key(pk)`` / ``group.validate_private_key(sk)`` — raise
  :class:`~mls_pq.errors.InvalidKeyError`.
* ``group.scalar_from_bytes(b) -> bytes | None`` — ``b`` (exactly Nsk bytes, after
  ``bitmask`` on the first byte if given) as a private key, or ``None`` when it is not a
  valid scalar (0 or >= order). X25519/X448 accept every Nsk-byte string.
* ``group.random_scalar(seed) -> bytes`` — rejection sampling over consecutive Nsk-byte
  chunks of ``seed`` (the first chunk that is a valid scalar wins; InvalidKeyError if none).
  For X25519/X448 this is ``seed[:Nsk]``.
* ``group.generate_private_key() -> bytes`` — a fresh random private key.

Parsed key objects are cached (``functools.lru_cache`` keyed by the serialised bytes, 512
entries per group and kind) so repeated use of one key (e.g. a tree node's HPKE key) is
cheap. :func:`clear_key_caches` drops them, e.g. after an epoch's private keys are deleted
(RFC 9420 §9.2 forward secrecy).
"""

from __future__ import annotations

import functools
import os
from abc import ABC, abstractmethod
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, x448, x25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ..errors import CryptoError, InvalidKeyError
from .base import Kdf, Kem
from .kdf import (
    HKDF_SHA256,
    HKDF_SHA384,
    HKDF_SHA512,
    labeled_derive,
    labeled_expand,
    labeled_extract,
)

__all__ = [
    "DHKEM",
    "DHKEM_P256",
    "DHKEM_P384",
    "DHKEM_P521",
    "DHKEM_X448",
    "DHKEM_X25519",
    "GROUPS",
    "P256",
    "P384",
    "P521",
    "X448",
    "X25519",
    "EcGroup",
    "Group",
    "XGroup",
]

_CACHE = 512


class Group(ABC):
    """A Diffie-Hellman group with byte-string scalars and elements (see the module docstring)."""

    name: str
    n_sk: int
    n_pk: int
    n_dh: int
    order: int | None

    @abstractmethod
    def scalar_base_mult(self, sk: bytes) -> bytes: ...

    @abstractmethod
    def dh(self, sk: bytes, pk: bytes) -> bytes: ...

    @abstractmethod
    def validate_public_key(self, pk: bytes) -> None: ...

    @abstractmethod
    def validate_private_key(self, sk: bytes) -> None: ...

    @abstractmethod
    def scalar_from_bytes(self, b: bytes, bitmask: int = 0xFF) -> bytes | None: ...

    def random_scalar(self, seed: bytes) -> bytes:
        """The first valid scalar among the consecutive Nsk-byte chunks of ``seed``."""
        for start in range(0, len(seed) - self.n_sk + 1, self.n_sk):
            sk = self.scalar_from_bytes(seed[start:start + self.n_sk])
            if sk is not None:
                return sk
        raise InvalidKeyError(f"{self.name}: no valid scalar in the {len(seed)}-byte seed")

    @abstractmethod
    def generate_private_key(self) -> bytes: ...

    def clear_caches(self) -> None:
        """Forget every cached parsed key of this group."""
        for name in ("_priv", "_pub", "_pk_of"):
            cached = getattr(self, name, None)
            if cached is not None:
                cached.cache_clear()

    def __repr__(self) -> str:
        return f"<Group {self.name}>"


class EcGroup(Group):
    """A NIST prime-order curve (P-256/384/521) via pyca/cryptography (RFC 9180 §7.1)."""

    def __init__(self, name: str, curve: ec.EllipticCurve, n_sk: int, order: int) -> None:
        self.name = name
        self._curve = curve
        self.n_sk = n_sk
        self.n_dh = n_sk
        self.n_pk = 1 + 2 * n_sk
        self.order = order
        self._order = order
        self._priv = functools.lru_cache(maxsize=_CACHE)(self._load_private)
        self._pub = functools.lru_cache(maxsize=_CACHE)(self._load_public)
        self._pk_of = functools.lru_cache(maxsize=_CACHE)(self._public_of)

    # -- parsing (cached) -------------------------------------------------------------
    def _scalar(self, sk: bytes) -> int:
        if not isinstance(sk, bytes | bytearray) or not 0 < len(sk) <= self.n_sk:
            raise InvalidKeyError(f"{self.name}: private key must be {self.n_sk} bytes")
        s = int.from_bytes(sk, "big")
        if not 0 < s < self._order:
            raise InvalidKeyError(f"{self.name}: private key is not in [1, order-1]")
        return s

    def _load_private(self, sk: bytes) -> ec.EllipticCurvePrivateKey:
        return ec.derive_private_key(self._scalar(sk), self._curve)

    def _load_public(self, pk: bytes) -> ec.EllipticCurvePublicKey:
        if not isinstance(pk, bytes | bytearray) or len(pk) != self.n_pk or pk[0] != 0x04:
            raise InvalidKeyError(f"{self.name}: public key must be a {self.n_pk}-byte uncompressed point")
        try:
            # checks coordinate range and the curve equation (SP 800-56A §5.6.2.3.4)
            return ec.EllipticCurvePublicKey.from_encoded_point(self._curve, bytes(pk))
        except ValueError:
            raise InvalidKeyError(f"{self.name}: public key is not a point on the curve") from None

    def _public_of(self, sk: bytes) -> bytes:
        return self._priv(sk).public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)

    # -- Group API --------------------------------------------------------------------
    def scalar_base_mult(self, sk: bytes) -> bytes:
        return self._pk_of(bytes(sk))

    def dh(self, sk: bytes, pk: bytes) -> bytes:
        priv = self._priv(bytes(sk))
        pub = self._pub(bytes(pk))
        try:
            z = priv.exchange(ec.ECDH(), pub)
        except ValueError:
            raise InvalidKeyError(f"{self.name}: Diffie-Hellman result is the point at infinity") from None
        return z.rjust(self.n_dh, b"\x00")

    def validate_public_key(self, pk: bytes) -> None:
        self._pub(bytes(pk) if isinstance(pk, bytearray) else pk)

    def validate_private_key(self, sk: bytes) -> None:
        self._scalar(sk)

    def scalar_from_bytes(self, b: bytes, bitmask: int = 0xFF) -> bytes | None:
        if len(b) != self.n_sk:
            raise InvalidKeyError(f"{self.name}: scalar candidate must be {self.n_sk} bytes")
        s = int.from_bytes(bytes([b[0] & bitmask]) + b[1:], "big")
        if s == 0 or s >= self._order:
            return None
        return s.to_bytes(self.n_sk, "big")

    def generate_private_key(self) -> bytes:
        key = ec.generate_private_key(self._curve)
        return key.private_numbers().private_value.to_bytes(self.n_sk, "big")

    def normalize_private_key(self, sk: bytes) -> bytes:
        """``sk`` as exactly Nsk bytes (left-pads a leading-zero-stripped encoding)."""
        self._scalar(sk)
        return bytes(sk).rjust(self.n_sk, b"\x00")


class XGroup(Group):
    """X25519 / X448 (RFC 7748) via pyca/cryptography."""

    order = None

    def __init__(self, name: str, n: int, priv_cls: Any, pub_cls: Any) -> None:
        self.name = name
        self.n_sk = self.n_pk = self.n_dh = n
        self._priv_cls = priv_cls
        self._pub_cls = pub_cls
        self._priv = functools.lru_cache(maxsize=_CACHE)(self._load_private)
        self._pub = functools.lru_cache(maxsize=_CACHE)(self._load_public)
        self._pk_of = functools.lru_cache(maxsize=_CACHE)(self._public_of)

    def _load_private(self, sk: bytes) -> Any:
        if len(sk) != self.n_sk:
            raise InvalidKeyError(f"{self.name}: private key must be {self.n_sk} bytes")
        return self._priv_cls.from_private_bytes(sk)

    def _load_public(self, pk: bytes) -> Any:
        if len(pk) != self.n_pk:
            raise InvalidKeyError(f"{self.name}: public key must be {self.n_pk} bytes")
        try:
            return self._pub_cls.from_public_bytes(pk)
        except ValueError:
            raise InvalidKeyError(f"{self.name}: malformed public key") from None

    def _public_of(self, sk: bytes) -> bytes:
        return self._priv(sk).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)  # type: ignore[no-any-return]

    def scalar_base_mult(self, sk: bytes) -> bytes:
        return self._pk_of(bytes(sk))

    def dh(self, sk: bytes, pk: bytes) -> bytes:
        priv = self._priv(bytes(sk))
        pub = self._pub(bytes(pk))
        try:
            z: bytes = priv.exchange(pub)
        except ValueError:
            # OpenSSL refuses an all-zero output (low-order point), RFC 7748 §6 / RFC 9180 §7.1.4
            raise InvalidKeyError(f"{self.name}: Diffie-Hellman result is all zeros") from None
        if not any(z):
            raise InvalidKeyError(f"{self.name}: Diffie-Hellman result is all zeros")
        return z

    def validate_public_key(self, pk: bytes) -> None:
        self._pub(bytes(pk))

    def validate_private_key(self, sk: bytes) -> None:
        self._priv(bytes(sk))

    def scalar_from_bytes(self, b: bytes, bitmask: int = 0xFF) -> bytes | None:
        if len(b) != self.n_sk:
            raise InvalidKeyError(f"{self.name}: scalar candidate must be {self.n_sk} bytes")
        return bytes(b)

    def random_scalar(self, seed: bytes) -> bytes:
        if len(seed) < self.n_sk:
            raise InvalidKeyError(f"{self.name}: seed shorter than {self.n_sk} bytes")
        return bytes(seed[: self.n_sk])

    def generate_private_key(self) -> bytes:
        return os.urandom(self.n_sk)


P256 = EcGroup("P-256", ec.SECP256R1(), 32,
               0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551)
P384 = EcGroup("P-384", ec.SECP384R1(), 48,
               0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973)
P521 = EcGroup("P-521", ec.SECP521R1(), 66,
               0x01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFA51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409)
X25519 = XGroup("X25519", 32, x25519.X25519PrivateKey, x25519.X25519PublicKey)
X448 = XGroup("X448", 56, x448.X448PrivateKey, x448.X448PublicKey)

GROUPS: dict[str, Group] = {g.name: g for g in (P256, P384, P521, X25519, X448)}


def clear_key_caches() -> None:
    """Drop all cached parsed key objects of every group."""
    for g in GROUPS.values():
        g.clear_caches()


class DHKEM(Kem):
    """DHKEM(Group, KDF) (RFC 9180 §4.1; draft-ietf-hpke-hpke §4.5), including AuthEncap/AuthDecap.

    ``kdf`` is the KEM's own KDF (used for DeriveKeyPair and ExtractAndExpand, independent of
    the HPKE suite's KDF). Both two-stage and one-stage KDFs are supported.
    """

    supports_auth = True
    backend = "cryptography"

    def __init__(self, ident: int, name: str, group: Group, kdf: Kdf, n_secret: int, bitmask: int) -> None:
        self.id = ident
        self.name = name
        self.group = group
        self.kdf = kdf
        self.n_secret = n_secret
        self.n_enc = self.n_pk = group.n_pk
        self.n_sk = group.n_sk
        self._bitmask = bitmask
        self.suite_id = b"KEM" + ident.to_bytes(2, "big")

    # -- key derivation (§7.1.3) --------------------------------------------------------
    def derive_key_pair(self, ikm: bytes) -> tuple[bytes, bytes]:
        """DeriveKeyPair(ikm) -> (sk, pk) (RFC 9180 §7.1.3; draft-ietf-hpke-hpke §7.1.3)."""
        kdf, sid, g = self.kdf, self.suite_id, self.group
        if g.order is None:
            if kdf.two_stage:
                prk = labeled_extract(kdf, sid, b"", b"dkp_prk", ikm)
                sk = labeled_expand(kdf, sid, prk, b"sk", b"", self.n_sk)
            else:
                sk = labeled_derive(kdf, sid, ikm, b"sk", b"", self.n_sk)
            return sk, g.scalar_base_mult(sk)
        prk = labeled_extract(kdf, sid, b"", b"dkp_prk", ikm) if kdf.two_stage else b""
        for counter in range(256):
            ctr = bytes([counter])
            if kdf.two_stage:
                cand = labeled_expand(kdf, sid, prk, b"candidate", ctr, self.n_sk)
            else:
                cand = labeled_derive(kdf, sid, ikm, b"candidate", ctr, self.n_sk)
            sk_or_none = g.scalar_from_bytes(cand, self._bitmask)
            if sk_or_none is not None:
                return sk_or_none, g.scalar_base_mult(sk_or_none)
        raise CryptoError(f"{self.name}: DeriveKeyPairError")  # pragma: no cover - probability ~2^-8000

    def generate_key_pair(self) -> tuple[bytes, bytes]:
        """GenerateKeyPair() = DeriveKeyPair(random(Nsk)) (RFC 9180 §7.1.3)."""
        return self.derive_key_pair(os.urandom(self.n_sk))

    def public_key(self, sk: bytes) -> bytes:
        return self.group.scalar_base_mult(self._sk(sk))

    def _sk(self, sk: bytes) -> bytes:
        if isinstance(self.group, EcGroup):
            return self.group.normalize_private_key(sk)
        self.group.validate_private_key(sk)
        return sk

    def validate_public_key(self, pk: bytes) -> None:
        """Partial public-key validation (RFC 9180 §7.1.4); raises InvalidKeyError."""
        if not isinstance(pk, bytes | bytearray):
            raise InvalidKeyError(f"{self.name}: public key must be bytes")
        self.group.validate_public_key(bytes(pk))

    # -- shared secret (§4.1) -----------------------------------------------------------
    def _extract_and_expand(self, dh: bytes, kem_context: bytes) -> bytes:
        if self.kdf.two_stage:
            prk = labeled_extract(self.kdf, self.suite_id, b"", b"eae_prk", dh)
            return labeled_expand(self.kdf, self.suite_id, prk, b"shared_secret", kem_context, self.n_secret)
        return labeled_derive(self.kdf, self.suite_id, dh, b"shared_secret", kem_context, self.n_secret)

    def encap(self, pk: bytes) -> tuple[bytes, bytes]:
        """Encap(pkR) -> (shared_secret, enc)."""
        return self.encap_derand(pk, os.urandom(self.n_sk))

    def encap_derand(self, pk: bytes, randomness: bytes) -> tuple[bytes, bytes]:
        """Encap with the ephemeral key pair DeriveKeyPair(randomness) (= ikmE of the vectors)."""
        self.validate_public_key(pk)
        sk_e, enc = self.derive_key_pair(randomness)
        dh = self.group.dh(sk_e, pk)
        return self._extract_and_expand(dh, enc + pk), enc

    def decap(self, enc: bytes, sk: bytes) -> bytes:
        """Decap(enc, skR) -> shared_secret."""
        sk = self._sk(sk)
        self.validate_public_key(enc)
        dh = self.group.dh(sk, enc)
        return self._extract_and_expand(dh, enc + self.group.scalar_base_mult(sk))

    def auth_encap(self, pk: bytes, sk_s: bytes) -> tuple[bytes, bytes]:
        """AuthEncap(pkR, skS) -> (shared_secret, enc) (RFC 9180 §4.1)."""
        return self.auth_encap_derand(pk, sk_s, os.urandom(self.n_sk))

    def auth_encap_derand(self, pk: bytes, sk_s: bytes, randomness: bytes) -> tuple[bytes, bytes]:
        """AuthEncap with the ephemeral key pair DeriveKeyPair(randomness)."""
        self.validate_public_key(pk)
        sk_s = self._sk(sk_s)
        sk_e, enc = self.derive_key_pair(randomness)
        dh = self.group.dh(sk_e, pk) + self.group.dh(sk_s, pk)
        kem_context = enc + pk + self.group.scalar_base_mult(sk_s)
        return self._extract_and_expand(dh, kem_context), enc

    def auth_decap(self, enc: bytes, sk: bytes, pk_s: bytes) -> bytes:
        """AuthDecap(enc, skR, pkS) -> shared_secret (RFC 9180 §4.1)."""
        sk = self._sk(sk)
        self.validate_public_key(enc)
        self.validate_public_key(pk_s)
        dh = self.group.dh(sk, enc) + self.group.dh(sk, pk_s)
        kem_context = enc + self.group.scalar_base_mult(sk) + pk_s
        return self._extract_and_expand(dh, kem_context)


DHKEM_P256 = DHKEM(0x0010, "DHKEM(P-256, HKDF-SHA256)", P256, HKDF_SHA256, 32, 0xFF)
DHKEM_P384 = DHKEM(0x0011, "DHKEM(P-384, HKDF-SHA384)", P384, HKDF_SHA384, 48, 0xFF)
DHKEM_P521 = DHKEM(0x0012, "DHKEM(P-521, HKDF-SHA512)", P521, HKDF_SHA512, 64, 0x01)
DHKEM_X25519 = DHKEM(0x0020, "DHKEM(X25519, HKDF-SHA256)", X25519, HKDF_SHA256, 32, 0xFF)
DHKEM_X448 = DHKEM(0x0021, "DHKEM(X448, HKDF-SHA512)", X448, HKDF_SHA512, 64, 0xFF)
