"""Signature schemes used by MLS (RFC 9420 §5.1.2), identified by TLS SignatureScheme code points.

Schemes exported (all adapters over libraries; nothing here is hand-written cryptography):

==================  ======  ============  =====  =====  ========  ========================
name                id      backend       sk     pk     sig (max) standard
==================  ======  ============  =====  =====  ========  ========================
ECDSA_P256_SHA256   0x0403  cryptography  32     65     72 (DER)  RFC 8446 §4.2.3
ECDSA_P384_SHA384   0x0503  cryptography  48     97     104 (DER) RFC 8446 §4.2.3
ECDSA_P521_SHA512   0x0603  cryptography  66     133    139 (DER) RFC 8446 §4.2.3
ED25519             0x0807  pynacl [*]    32     32     64        RFC 8032 §5.1, RFC 8446
ED448               0x0808  cryptography  57     57     114       RFC 8032 §5.2, RFC 8446
MLDSA44             0x0904  cryptography  32     1312   2420      FIPS 204, draft-ietf-tls-mldsa
MLDSA65             0x0905  cryptography  32     1952   3309      FIPS 204, draft-ietf-tls-mldsa
MLDSA87             0x0906  cryptography  32     2592   4627      FIPS 204, draft-ietf-tls-mldsa
==================  ======  ============  =====  =====  ========  ========================

[*] Ed25519 uses libsodium through pynacl (the faster path: roughly 1.5x cryptography for
verification on the development machine) and falls back to pyca/cryptography when
pynacl is not importable. Both instances are importable (``ED25519_PYNACL`` may be ``None``;
``ED25519_CRYPTOGRAPHY`` always exists) so tests can cross-check them.

Key encodings follow the mlswg test vectors and RFC 9420 §5.1.1:

* EdDSA: RFC 8032 raw private seed / raw public key.
* ECDSA: private key = big-endian scalar of the curve size (P-521: 66 bytes; a shorter
  encoding with the leading zero byte(s) stripped — as in some mlswg passive-client
  vectors — is left-padded); public key = UncompressedPointRepresentation (SEC1 ``0x04 ||
  X || Y``; compressed points are rejected); signature = DER ``ECDSA-Sig-Value``.
* ML-DSA: private key = the 32-byte KeyGen seed ξ (FIPS 204 Algorithm 1/6); public key =
  pkEncode (FIPS 204 Algorithm 22); signatures are *pure* ML-DSA (FIPS 204 Algorithm 2/3)
  with the empty context string, as draft-ietf-tls-mldsa and draft-ietf-mls-pq-ciphersuites
  specify. cryptography signs hedged (randomised), so ML-DSA signatures are not
  reproducible byte for byte.

One verification rule whatever backend is installed: EdDSA inputs pass
:mod:`mls_pq.crypto.ed_checks` before any backend sees them (public key and ``R``
canonical and not of small order, ``S < L``), so the pynacl and cryptography Ed25519
backends decide every signature identically (the Wycheproof files are run against both).
``validate_public_key`` applies the same rule to a key alone; it is called at every signature-key entry point via
:func:`mls_pq.credentials.check_credential_key`.

``verify`` never raises on malformed keys or signatures: it returns ``False``. ``sign`` and
``public_key`` raise :class:`~mls_pq.errors.InvalidKeyError` for a malformed private key
(without echoing it). Parsed key objects are cached per key bytes (``functools.lru_cache``),
because MLS verifies with the same few keys over and over.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.exceptions import UnsupportedAlgorithm as _CryptoUnsupported
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ..errors import InvalidKeyError, UnsupportedAlgorithm
from . import ed_checks
from .base import SignatureScheme

try:  # pragma: no branch - which branch runs depends on the installed packages
    from cryptography.hazmat.primitives.asymmetric import mldsa as _mldsa
except ImportError:  # pragma: no cover - cryptography < 47 has no ML-DSA
    _mldsa = None  # type: ignore[assignment]

try:  # pragma: no branch
    import nacl.bindings as _nacl
    import nacl.exceptions as _nacl_exc
except ImportError:  # pragma: no cover - pynacl is a declared dependency
    _nacl = None  # type: ignore[assignment]
    _nacl_exc = None  # type: ignore[assignment]

__all__ = [
    "ALL",
    "ECDSA_P256_SHA256",
    "ECDSA_P384_SHA384",
    "ECDSA_P521_SHA512",
    "ED448",
    "ED25519",
    "ED25519_CRYPTOGRAPHY",
    "ED25519_PYNACL",
    "MLDSA44",
    "MLDSA65",
    "MLDSA87",
    "Ecdsa",
    "Ed25519Nacl",
    "EdDSACryptography",
    "MlDsa",
]

# Cache sizes: public keys are many (one per group member), private keys few (our own).
_PK_CACHE = 1024
_SK_CACHE = 64

# Errors that a backend may raise on malformed input to a verification.
_VERIFY_ERRORS: tuple[type[BaseException], ...] = (InvalidSignature, ValueError, TypeError, OverflowError)
if _nacl_exc is not None:
    _VERIFY_ERRORS += (_nacl_exc.CryptoError,)
_MLDSA_VERIFY_ERRORS = _VERIFY_ERRORS + (_CryptoUnsupported, UnsupportedAlgorithm)


def _check_pk_bytes(pk: bytes, size: int, name: str) -> None:
    if not isinstance(pk, (bytes, bytearray, memoryview)) or len(pk) != size:
        n = len(pk) if isinstance(pk, (bytes, bytearray, memoryview)) else "non-bytes"
        raise InvalidKeyError(f"{name}: public key must be {size} bytes, got {n}")


def _check_bytes(sk: bytes, size: int, name: str) -> None:
    if not isinstance(sk, (bytes, bytearray, memoryview)) or len(sk) != size:
        n = len(sk) if isinstance(sk, (bytes, bytearray, memoryview)) else "non-bytes"
        raise InvalidKeyError(f"{name}: private key must be {size} bytes, got {n}")


# --------------------------------------------------------------------------------------
# EdDSA over pyca/cryptography (Ed448; Ed25519 fallback)
# --------------------------------------------------------------------------------------


class _EdPrivate(Protocol):
    def sign(self, data: bytes) -> bytes: ...
    def public_key(self) -> Any: ...


class _EdPublic(Protocol):
    def verify(self, signature: bytes, data: bytes) -> None: ...


class EdDSACryptography(SignatureScheme):
    """Pure EdDSA (RFC 8032 §5.1 Ed25519 / §5.2 Ed448, empty context) via pyca/cryptography."""

    backend = "cryptography"

    def __init__(
        self,
        ident: int,
        name: str,
        size: int,
        private_cls: Any,
        public_cls: Any,
    ) -> None:
        self.id = ident
        self.name = name
        self.sk_size = self.pk_size = size
        self.sig_size = 2 * size
        self._private_cls = private_cls
        self._public_cls = public_cls
        self._load_sk: Callable[[bytes], _EdPrivate] = functools.lru_cache(maxsize=_SK_CACHE)(self._parse_sk)
        self._load_pk: Callable[[bytes], _EdPublic] = functools.lru_cache(maxsize=_PK_CACHE)(self._parse_pk)

    def _parse_sk(self, sk: bytes) -> _EdPrivate:
        _check_bytes(sk, self.sk_size, self.name)
        try:
            return self._private_cls.from_private_bytes(bytes(sk))  # type: ignore[no-any-return]
        except ValueError:
            raise InvalidKeyError(f"{self.name}: invalid private key") from None

    def _parse_pk(self, pk: bytes) -> _EdPublic:
        return self._public_cls.from_public_bytes(pk)  # type: ignore[no-any-return]

    def generate(self) -> tuple[bytes, bytes]:
        sk = os.urandom(self.sk_size)  # RFC 8032 §5.1.5 / §5.2.5: the private key is a random string
        return sk, self.public_key(sk)

    def public_key(self, sk: bytes) -> bytes:
        return self._load_sk(bytes(sk)).public_key().public_bytes_raw()  # type: ignore[no-any-return]

    def sign(self, sk: bytes, message: bytes) -> bytes:
        return self._load_sk(bytes(sk)).sign(message)

    def validate_public_key(self, pk: bytes) -> None:
        """Canonical and not of small order (:mod:`mls_pq.crypto.ed_checks`); a y without a
        curve point is left to ``verify``, which every backend rejects."""
        _check_pk_bytes(pk, self.pk_size, self.name)
        if not ed_checks.public_key_ok(self.name, bytes(pk)):
            raise InvalidKeyError(f"{self.name}: public key is non-canonical or of small order")

    def verify(self, pk: bytes, message: bytes, signature: bytes) -> bool:
        try:
            if len(pk) != self.pk_size or len(signature) != self.sig_size:
                return False
            if not ed_checks.signature_ok(self.name, bytes(pk), bytes(signature)):
                return False  # the one rule of every backend (ed_checks)
            self._load_pk(bytes(pk)).verify(bytes(signature), message)
        except _VERIFY_ERRORS:
            return False
        return True


# --------------------------------------------------------------------------------------
# Ed25519 over libsodium (pynacl): the fast path
# --------------------------------------------------------------------------------------


class Ed25519Nacl(SignatureScheme):
    """Ed25519 (RFC 8032 §5.1) via libsodium's ``crypto_sign`` (pynacl bindings).

    libsodium's own checks (small-order and non-canonical keys and ``R``, ``S >= L``) are
    the rule :mod:`mls_pq.crypto.ed_checks` applies in front of every backend, so this
    backend and :class:`EdDSACryptography` decide identically.
    """

    id = 0x0807
    name = "ed25519"
    backend = "pynacl"
    sk_size = 32
    pk_size = 32
    sig_size = 64

    def __init__(self) -> None:
        if _nacl is None:  # pragma: no cover
            raise UnsupportedAlgorithm("pynacl is not installed")
        # seed -> (pk, 64-byte libsodium secret key seed||pk); the derivation is a scalar
        # multiplication, so it is worth caching for a signer's own key.
        self._keypair: Callable[[bytes], tuple[bytes, bytes]] = functools.lru_cache(maxsize=_SK_CACHE)(
            self._derive
        )

    def _derive(self, sk: bytes) -> tuple[bytes, bytes]:
        _check_bytes(sk, self.sk_size, self.name)
        pk, sk64 = _nacl.crypto_sign_seed_keypair(bytes(sk))
        return pk, sk64

    def generate(self) -> tuple[bytes, bytes]:
        sk = os.urandom(self.sk_size)
        return sk, self.public_key(sk)

    def public_key(self, sk: bytes) -> bytes:
        return self._keypair(bytes(sk))[0]

    def sign(self, sk: bytes, message: bytes) -> bytes:
        _, sk64 = self._keypair(bytes(sk))
        # crypto_sign returns signature || message (combined mode); keep the 64-byte signature.
        return _nacl.crypto_sign(bytes(message), sk64)[: self.sig_size]

    def validate_public_key(self, pk: bytes) -> None:
        """Canonical and not of small order (:mod:`mls_pq.crypto.ed_checks`); a y without a
        curve point is left to ``verify``, which every backend rejects."""
        _check_pk_bytes(pk, self.pk_size, self.name)
        if not ed_checks.public_key_ok(self.name, bytes(pk)):
            raise InvalidKeyError(f"{self.name}: public key is non-canonical or of small order")

    def verify(self, pk: bytes, message: bytes, signature: bytes) -> bool:
        try:
            # Length checks are essential: crypto_sign_open takes signature || message, so a
            # short signature would otherwise borrow bytes from the message.
            if len(pk) != self.pk_size or len(signature) != self.sig_size:
                return False
            if not ed_checks.signature_ok(self.name, bytes(pk), bytes(signature)):
                return False  # the one rule of every backend (ed_checks)
            _nacl.crypto_sign_open(bytes(signature) + bytes(message), bytes(pk))
        except _VERIFY_ERRORS:
            return False
        return True


# --------------------------------------------------------------------------------------
# ECDSA over the NIST curves
# --------------------------------------------------------------------------------------


def _der_max(order_bits: int) -> int:
    """Maximum DER size of ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } (SEC1 §C.8)."""
    n = (order_bits + 8) // 8  # an INTEGER < order, plus a leading 0x00 when the top bit is set
    body = 2 * (2 + n)
    return body + (2 if body < 128 else 3)


class Ecdsa(SignatureScheme):
    """ECDSA with SHA-2 on a NIST curve (TLS 1.3 ecdsa_secpXXXr1_shaYYY, RFC 8446 §4.2.3)."""

    backend = "cryptography"

    def __init__(self, ident: int, name: str, curve: ec.EllipticCurve, hash_alg: hashes.HashAlgorithm,
                 order_bits: int) -> None:
        self.id = ident
        self.name = name
        self._curve = curve
        self._algo = ec.ECDSA(hash_alg)
        self.sk_size = (curve.key_size + 7) // 8
        self.pk_size = 1 + 2 * self.sk_size
        self.sig_size = _der_max(order_bits)
        self._load_sk: Callable[[bytes], ec.EllipticCurvePrivateKey] = functools.lru_cache(maxsize=_SK_CACHE)(
            self._parse_sk
        )
        self._load_pk: Callable[[bytes], ec.EllipticCurvePublicKey] = functools.lru_cache(maxsize=_PK_CACHE)(
            self._parse_pk
        )

    def _parse_sk(self, sk: bytes) -> ec.EllipticCurvePrivateKey:
        if not isinstance(sk, bytes) or not 0 < len(sk) <= self.sk_size:
            n = len(sk) if isinstance(sk, bytes) else "non-bytes"
            raise InvalidKeyError(f"{self.name}: private key must be {self.sk_size} bytes, got {n}")
        # Shorter encodings (leading zeros stripped) are accepted: the integer is the same
        # as that of the left-padded scalar.
        try:
            return ec.derive_private_key(int.from_bytes(sk, "big"), self._curve)
        except ValueError:
            raise InvalidKeyError(f"{self.name}: private scalar out of range") from None

    def _parse_pk(self, pk: bytes) -> ec.EllipticCurvePublicKey:
        if len(pk) != self.pk_size or pk[0] != 0x04:
            raise ValueError("not an uncompressed point of the right size")
        return ec.EllipticCurvePublicKey.from_encoded_point(self._curve, pk)

    def generate(self) -> tuple[bytes, bytes]:
        key = ec.generate_private_key(self._curve)
        sk = key.private_numbers().private_value.to_bytes(self.sk_size, "big")
        return sk, key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)

    def normalize_private_key(self, sk: bytes) -> bytes:
        """The canonical (left-padded, ``sk_size``-byte) encoding of a private scalar."""
        self._load_sk(bytes(sk))
        return bytes(sk).rjust(self.sk_size, b"\x00")

    def public_key(self, sk: bytes) -> bytes:
        return self._load_sk(bytes(sk)).public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)

    def sign(self, sk: bytes, message: bytes) -> bytes:
        return self._load_sk(bytes(sk)).sign(message, self._algo)

    def sign_deterministic(self, sk: bytes, message: bytes) -> bytes:
        """ECDSA with the nonce derived from the key and the message (RFC 6979), for
        reproducible test vectors (``mls-pq vectors generate --seed``); verifies like any
        ECDSA signature. Real signing keeps :meth:`sign` (fresh randomness)."""
        algo = ec.ECDSA(self._algo.algorithm, deterministic_signing=True)
        return self._load_sk(bytes(sk)).sign(message, algo)

    def validate_public_key(self, pk: bytes) -> None:
        """An uncompressed SEC1 point on the curve (SEC1 §2.3.4 with the on-curve check of
        SP 800-56A §5.6.2.3.4, done by cryptography); the identity has no such encoding."""
        if not isinstance(pk, (bytes, bytearray, memoryview)):
            raise InvalidKeyError(f"{self.name}: public key must be bytes")
        try:
            self._load_pk(bytes(pk))
        except (ValueError, TypeError):
            raise InvalidKeyError(f"{self.name}: public key is not a valid point of the curve") from None

    def verify(self, pk: bytes, message: bytes, signature: bytes) -> bool:
        """ECDSA verification (SEC1 §4.1.4) of a strict-DER signature: BER variants and
        out-of-range ``r``/``s`` are rejected, high ``s`` is valid (as Wycheproof expects)."""
        try:
            if len(signature) > self.sig_size:
                return False
            self._load_pk(bytes(pk)).verify(bytes(signature), message, self._algo)
        except _VERIFY_ERRORS:
            return False
        return True


# --------------------------------------------------------------------------------------
# ML-DSA (FIPS 204)
# --------------------------------------------------------------------------------------


class MlDsa(SignatureScheme):
    """Pure ML-DSA with the empty context (FIPS 204 §5.2, §5.3), keys from a 32-byte seed."""

    backend = "cryptography"
    sk_size = 32

    def __init__(self, ident: int, name: str, level: int, pk_size: int, sig_size: int) -> None:
        self.id = ident
        self.name = name
        self.pk_size = pk_size
        self.sig_size = sig_size
        self._private_cls: Any = getattr(_mldsa, f"MLDSA{level}PrivateKey", None) if _mldsa else None
        self._public_cls: Any = getattr(_mldsa, f"MLDSA{level}PublicKey", None) if _mldsa else None
        self._load_sk: Callable[[bytes], Any] = functools.lru_cache(maxsize=_SK_CACHE)(self._parse_sk)
        self._load_pk: Callable[[bytes], Any] = functools.lru_cache(maxsize=_PK_CACHE)(self._parse_pk)

    def _require(self) -> None:
        if self._private_cls is None:
            raise UnsupportedAlgorithm(f"{self.name}: the installed cryptography has no ML-DSA")

    def _parse_sk(self, sk: bytes) -> Any:
        self._require()
        _check_bytes(sk, self.sk_size, self.name)
        try:
            return self._private_cls.from_seed_bytes(bytes(sk))
        except _CryptoUnsupported:
            raise UnsupportedAlgorithm(f"{self.name}: not supported by the OpenSSL backend") from None
        except ValueError:
            raise InvalidKeyError(f"{self.name}: invalid private seed") from None

    def _parse_pk(self, pk: bytes) -> Any:
        self._require()
        return self._public_cls.from_public_bytes(pk)

    def generate(self) -> tuple[bytes, bytes]:
        sk = os.urandom(self.sk_size)  # FIPS 204 Algorithm 1: ξ <- B^32
        return sk, self.public_key(sk)

    def public_key(self, sk: bytes) -> bytes:
        return self._load_sk(bytes(sk)).public_key().public_bytes_raw()  # type: ignore[no-any-return]

    def sign(self, sk: bytes, message: bytes) -> bytes:
        return self._load_sk(bytes(sk)).sign(bytes(message))  # type: ignore[no-any-return]

    def validate_public_key(self, pk: bytes) -> None:
        """pkEncode output of the right size (FIPS 204 Algorithm 23 accepts every such string)."""
        _check_pk_bytes(pk, self.pk_size, self.name)
        try:
            self._load_pk(bytes(pk))
        except (ValueError, TypeError):
            raise InvalidKeyError(f"{self.name}: malformed public key") from None

    def verify(self, pk: bytes, message: bytes, signature: bytes) -> bool:
        try:
            if len(pk) != self.pk_size or len(signature) != self.sig_size:
                return False
            self._load_pk(bytes(pk)).verify(bytes(signature), bytes(message))
        except _MLDSA_VERIFY_ERRORS:
            return False
        return True


# --------------------------------------------------------------------------------------
# Instances (names are the contract of mls_pq.crypto._SIGS)
# --------------------------------------------------------------------------------------

ECDSA_P256_SHA256 = Ecdsa(0x0403, "ecdsa_secp256r1_sha256", ec.SECP256R1(), hashes.SHA256(), 256)
ECDSA_P384_SHA384 = Ecdsa(0x0503, "ecdsa_secp384r1_sha384", ec.SECP384R1(), hashes.SHA384(), 384)
ECDSA_P521_SHA512 = Ecdsa(0x0603, "ecdsa_secp521r1_sha512", ec.SECP521R1(), hashes.SHA512(), 521)

ED25519_CRYPTOGRAPHY = EdDSACryptography(
    0x0807, "ed25519", 32, ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey
)
ED25519_PYNACL: Ed25519Nacl | None = Ed25519Nacl() if _nacl is not None else None
ED25519: SignatureScheme = ED25519_PYNACL if ED25519_PYNACL is not None else ED25519_CRYPTOGRAPHY
ED448 = EdDSACryptography(0x0808, "ed448", 57, ed448.Ed448PrivateKey, ed448.Ed448PublicKey)

# TLS code points from draft-ietf-tls-mldsa (mldsa44/65/87 = 0x0904/0x0905/0x0906).
MLDSA44 = MlDsa(0x0904, "mldsa44", 44, 1312, 2420)
MLDSA65 = MlDsa(0x0905, "mldsa65", 65, 1952, 3309)
MLDSA87 = MlDsa(0x0906, "mldsa87", 87, 2592, 4627)

ALL: tuple[SignatureScheme, ...] = (
    ECDSA_P256_SHA256, ECDSA_P384_SHA384, ECDSA_P521_SHA512, ED25519, ED448, MLDSA44, MLDSA65, MLDSA87,
)
