"""PQ/T hybrid KEMs for HPKE: MLKEM768-X25519 (X-Wing), MLKEM768-P256, MLKEM1024-P384.

All three instantiate the CG framework of draft-irtf-cfrg-hybrid-kems §5.5 (C2PRI
combiner with a nominal group), with SHAKE256 as PRG and SHA3-256 as KDF, as fixed by
draft-irtf-cfrg-concrete-hybrid-kems §4 and mapped to HPKE by draft-ietf-hpke-pq §4.
MLKEM768-X25519 is identical to X-Wing (draft-connolly-cfrg-xwing-kem §5).

* Private key: the 32-byte seed. ``expandDecapsKeyG`` (hybrid-kems §5.1.1) expands it
  with ``SHAKE256(seed, 64 + Group.Nseed)`` into the ML-KEM seed ``d || z`` and the
  group seed, from which ``RandomScalar`` takes the scalar.
* Public key ``ek_PQ || ek_T``; ciphertext ``ct_PQ || ct_T`` (group elements: X25519
  u-coordinates, or uncompressed SEC1 points for P-256/P-384).
* Shared secret: ``SHA3-256(ss_PQ || ss_T || ct_T || ek_T || Label)`` (hybrid-kems §5.1.3).
* HPKE ``DeriveKeyPair(ikm)``: ``seed = SHAKE256.LabeledDerive(ikm, "DeriveKeyPair", "", 32)``
  with ``suite_id = "KEM" || I2OSP(kem_id, 2)`` (hpke-pq §4). The X-Wing draft's own
  variant ``SHAKE256(ikm, 32)`` (xwing §5.6) is available as ``derive_mode="xwing-draft"``.
* ``EncapsDerand`` (hybrid-kems Appendix A): the first 32 bytes of the randomness are
  ML-KEM's ``m``, the rest is the group's ``RandomScalar`` seed (X-Wing 32+32,
  MLKEM768-P256 32+96, MLKEM1024-P384 32+48 in the hpke-pq test vectors).

The ML-KEM and elliptic-curve operations come from ``cryptography`` (through
:mod:`mls_pq.crypto.mlkem`); the seed expansion, ``RandomScalar`` rejection sampling and
the combiner are the hand-written glue the drafts define, over ``hashlib`` SHAKE256 and
SHA3-256 (no library exposes these hybrids as raw KEMs).
"""

from __future__ import annotations

import hashlib
import os
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, x25519

from ..errors import CryptoError, InvalidKeyError, UnsupportedAlgorithm
from .base import Kem
from .mlkem import MLKEM768, MLKEM1024, RANDOM_SIZE, MLKem, shake256_labeled_derive

__all__ = ["MLKEM768_P256", "MLKEM1024_P384", "XWING", "HybridDeriveMode", "HybridKem", "with_derive_mode"]

HybridDeriveMode = Literal["hpke-pq", "xwing-draft"]
_DERIVE_MODES: tuple[str, ...] = ("hpke-pq", "xwing-draft")

SEED_SIZE = 32  # Nsk of all three hybrids (hpke-pq Table 3)
_PQ_SEED = 64  # ML-KEM Nseed (d || z)
_SK_CACHE = 256
_PK_CACHE = 1024


# --- nominal groups (hybrid-kems §4.2, concrete-hybrid-kems §3.1) ----------------------


class _Group(ABC):
    """A nominal group: scalars are backend private keys, elements serialised bytes."""

    name: str
    n_seed: int  # Nseed: bytes consumed by RandomScalar in key generation
    n_elem: int  # Nelem: serialised element size

    @abstractmethod
    def random_scalar(self, seed: bytes) -> Any:
        """RandomScalar(seed) as a backend private key."""

    @abstractmethod
    def check_randomness(self, seed: bytes) -> None:
        """Raise CryptoError if ``seed`` has an unusable length for RandomScalar."""

    @abstractmethod
    def generate(self) -> Any:
        """A uniformly random scalar (RandomScalar(random(Nseed)))."""

    @abstractmethod
    def element(self, scalar: Any) -> bytes:
        """Exp(g, x), serialised."""

    @abstractmethod
    def parse_element(self, data: bytes) -> Any:
        """Deserialise an element; raise InvalidKeyError if it is not a valid one."""

    @abstractmethod
    def shared_secret(self, scalar: Any, element: Any) -> bytes:
        """ElementToSharedSecret(Exp(p, x))."""


class _Curve25519(_Group):
    """Curve25519 (concrete-hybrid-kems §3.1.2): RandomScalar and ElementToSharedSecret
    are the identity; Exp is X25519 (RFC 7748 §5)."""

    name = "X25519"
    n_seed = 32
    n_elem = 32

    def check_randomness(self, seed: bytes) -> None:
        if len(seed) != 32:
            raise CryptoError("X25519: RandomScalar needs exactly 32 bytes")

    def random_scalar(self, seed: bytes) -> Any:
        self.check_randomness(seed)
        return x25519.X25519PrivateKey.from_private_bytes(seed)

    def generate(self) -> Any:
        return x25519.X25519PrivateKey.generate()

    def element(self, scalar: Any) -> bytes:
        return bytes(scalar.public_key().public_bytes_raw())

    def parse_element(self, data: bytes) -> Any:
        if len(data) != self.n_elem:
            raise InvalidKeyError("X25519: element must be 32 bytes")
        return x25519.X25519PublicKey.from_public_bytes(data)

    def shared_secret(self, scalar: Any, element: Any) -> bytes:
        try:
            return bytes(scalar.exchange(element))
        except ValueError:
            # cryptography refuses the all-zero output of a small-order point
            raise CryptoError("X25519: shared secret is all zero (small-order point)") from None


class _NistCurve(_Group):
    """P-256 / P-384 (concrete-hybrid-kems §3.1.1): SEC1 uncompressed points, big-endian
    scalars, ElementToSharedSecret = the X coordinate."""

    def __init__(self, name: str, curve: ec.EllipticCurve, order: int, n_scalar: int, n_seed: int) -> None:
        self.name = name
        self._curve = curve
        self._order = order
        self.n_scalar = n_scalar
        self.n_seed = n_seed
        self.n_elem = 1 + 2 * n_scalar

    def check_randomness(self, seed: bytes) -> None:
        if len(seed) < self.n_scalar or len(seed) % self.n_scalar:
            raise CryptoError(f"{self.name}: RandomScalar seed must be a positive multiple of {self.n_scalar} bytes")

    def random_scalar(self, seed: bytes) -> Any:
        """RandomScalar by rejection sampling: the first ``Nscalar``-byte big-endian
        candidate with ``0 < sk < order``; fails (negligibly likely) when none is."""
        self.check_randomness(seed)
        for start in range(0, len(seed), self.n_scalar):
            sk = int.from_bytes(seed[start : start + self.n_scalar], "big")
            if 0 < sk < self._order:
                return ec.derive_private_key(sk, self._curve)
        raise CryptoError(f"{self.name}: RandomScalar rejection sampling failed")

    def generate(self) -> Any:
        return ec.generate_private_key(self._curve)

    def element(self, scalar: Any) -> bytes:
        return bytes(
            scalar.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        )

    def parse_element(self, data: bytes) -> Any:
        if len(data) != self.n_elem or data[0] != 0x04:
            raise InvalidKeyError(f"{self.name}: element must be a {self.n_elem}-byte uncompressed point")
        try:
            return ec.EllipticCurvePublicKey.from_encoded_point(self._curve, data)
        except ValueError:
            raise InvalidKeyError(f"{self.name}: point is not on the curve") from None

    def shared_secret(self, scalar: Any, element: Any) -> bytes:
        return bytes(scalar.exchange(ec.ECDH(), element))


X25519_GROUP = _Curve25519()
# Nseed for key generation: P-256 128 (4 candidates), P-384 48 (concrete-hybrid-kems §3.1.1).
P256_GROUP = _NistCurve(
    "P-256", ec.SECP256R1(), 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551, 32, 128
)
P384_GROUP = _NistCurve(
    "P-384",
    ec.SECP384R1(),
    0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973,
    48,
    48,
)


# --- the hybrid KEM ------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class _Expanded:
    """expandDecapsKeyG(seed): the component keys of one hybrid private key."""

    seed_pq: bytes
    scalar_t: Any
    ek_pq: bytes
    ek_t: bytes

    def __repr__(self) -> str:
        return "<expanded hybrid key>"


class HybridKem(Kem):
    """A CG-framework hybrid of ML-KEM and a nominal group (hybrid-kems §5.5, hpke-pq §4)."""

    n_secret = 32
    n_sk = SEED_SIZE

    def __init__(
        self,
        kem_id: int,
        name: str,
        pq: MLKem,
        group: _Group,
        label: bytes,
        n_random: int,
        derive_mode: HybridDeriveMode = "hpke-pq",
    ) -> None:
        if derive_mode not in _DERIVE_MODES:
            raise UnsupportedAlgorithm(f"{name}: unknown derive_mode {derive_mode!r}")
        self.id = kem_id
        self.name = name if derive_mode == "hpke-pq" else f"{name} ({derive_mode} DeriveKeyPair)"
        self.backend = "cryptography"
        self.pq = pq
        self.group = group
        self.label = label
        self.n_random = n_random
        self.derive_mode: HybridDeriveMode = derive_mode
        self.n_pk = pq.n_pk + group.n_elem
        self.n_enc = pq.n_enc + group.n_elem
        self._base_name = name
        self._expand: Callable[[bytes], _Expanded] = lru_cache(maxsize=_SK_CACHE)(self._expand_uncached)
        self._parse_pk: Callable[[bytes], tuple[bytes, Any]] = lru_cache(maxsize=_PK_CACHE)(self._parse_pk_uncached)

    # -- subroutines ------------------------------------------------------------------

    def _expand_uncached(self, seed: bytes) -> _Expanded:
        """expandDecapsKeyG (hybrid-kems §5.1.1) with PRG = SHAKE256."""
        full = hashlib.shake_256(seed).digest(_PQ_SEED + self.group.n_seed)
        seed_pq = full[:_PQ_SEED]
        scalar_t = self.group.random_scalar(full[_PQ_SEED:])
        return _Expanded(seed_pq, scalar_t, self.pq.public_key(seed_pq), self.group.element(scalar_t))

    def _parse_pk_uncached(self, pk: bytes) -> tuple[bytes, Any]:
        """-> (ek_PQ, parsed ek_T); raises InvalidKeyError."""
        if len(pk) != self.n_pk:
            raise InvalidKeyError(f"{self.name}: public key must be {self.n_pk} bytes, got {len(pk)}")
        return pk[: self.pq.n_pk], self.group.parse_element(pk[self.pq.n_pk :])

    def _combine(self, ss_pq: bytes, ss_t: bytes, ct_t: bytes, ek_t: bytes) -> bytes:
        """C2PRICombiner with KDF = SHA3-256 (hybrid-kems §5.1.3)."""
        return hashlib.sha3_256(ss_pq + ss_t + ct_t + ek_t + self.label).digest()

    def _check_sk(self, sk: bytes) -> None:
        if len(sk) != SEED_SIZE:
            raise InvalidKeyError(f"{self.name}: private key must be the {SEED_SIZE}-byte seed, got {len(sk)} bytes")

    # -- Kem interface ----------------------------------------------------------------

    def derive_key_pair(self, ikm: bytes) -> tuple[bytes, bytes]:
        """HPKE DeriveKeyPair (hpke-pq §4), or X-Wing's SHAKE256(ikm, 32) (xwing §5.6)."""
        if self.derive_mode == "xwing-draft":
            seed = hashlib.shake_256(bytes(ikm)).digest(SEED_SIZE)
        else:
            seed = shake256_labeled_derive(self.id, bytes(ikm), b"DeriveKeyPair", b"", SEED_SIZE)
        return seed, self.public_key(seed)

    def generate_key_pair(self) -> tuple[bytes, bytes]:
        """GenerateKeyPair (hybrid-kems §5.2): a random 32-byte seed."""
        seed = os.urandom(SEED_SIZE)
        return seed, self.public_key(seed)

    def public_key(self, sk: bytes) -> bytes:
        self._check_sk(sk)
        x = self._expand(bytes(sk))
        return x.ek_pq + x.ek_t

    def validate_public_key(self, pk: bytes) -> None:
        pk = bytes(pk)
        ek_pq, _ = self._parse_pk(pk)
        self.pq.validate_public_key(ek_pq)

    def encap(self, pk: bytes) -> tuple[bytes, bytes]:
        """Encaps (hybrid-kems §5.5) -> (shared_secret, enc)."""
        pk = bytes(pk)
        ek_pq, elem_t = self._parse_pk(pk)
        ss_pq, ct_pq = self.pq.encap(ek_pq)
        sk_e = self.group.generate()
        return self._finish_encap(pk, ss_pq, ct_pq, sk_e, elem_t)

    def encap_derand(self, pk: bytes, randomness: bytes) -> tuple[bytes, bytes]:
        """EncapsDerand (hybrid-kems Appendix A): randomness = m (32) || group seed."""
        pk = bytes(pk)
        randomness = bytes(randomness)
        ek_pq, elem_t = self._parse_pk(pk)
        rand_pq, rand_t = randomness[:RANDOM_SIZE], randomness[RANDOM_SIZE:]
        if len(rand_pq) != RANDOM_SIZE:
            raise CryptoError(f"{self.name}: encapsulation randomness too short")
        self.group.check_randomness(rand_t)
        ss_pq, ct_pq = self.pq.encap_derand(ek_pq, rand_pq)
        sk_e = self.group.random_scalar(rand_t)
        return self._finish_encap(pk, ss_pq, ct_pq, sk_e, elem_t)

    def _finish_encap(self, pk: bytes, ss_pq: bytes, ct_pq: bytes, sk_e: Any, elem_t: Any) -> tuple[bytes, bytes]:
        ct_t = self.group.element(sk_e)
        ss_t = self.group.shared_secret(sk_e, elem_t)
        ek_t = pk[self.pq.n_pk :]
        return self._combine(ss_pq, ss_t, ct_t, ek_t), ct_pq + ct_t

    def decap(self, enc: bytes, sk: bytes) -> bytes:
        """Decaps (hybrid-kems §5.5). A malformed ``enc`` raises :class:`CryptoError`."""
        self._check_sk(sk)
        enc = bytes(enc)
        if len(enc) != self.n_enc:
            raise CryptoError(f"{self.name}: ciphertext must be {self.n_enc} bytes, got {len(enc)}")
        x = self._expand(bytes(sk))
        ct_pq, ct_t = enc[: self.pq.n_enc], enc[self.pq.n_enc :]
        ss_pq = self.pq.decap(ct_pq, x.seed_pq)
        try:
            elem = self.group.parse_element(ct_t)
        except InvalidKeyError:
            raise CryptoError(f"{self.name}: ciphertext holds an invalid {self.group.name} element") from None
        ss_t = self.group.shared_secret(x.scalar_t, elem)
        return self._combine(ss_pq, ss_t, ct_t, x.ek_t)

    def with_derive_mode(self, derive_mode: HybridDeriveMode) -> HybridKem:
        """The same KEM with another DeriveKeyPair (e.g. ``"xwing-draft"`` for ts-mls)."""
        return HybridKem(self.id, self._base_name, self.pq, self.group, self.label, self.n_random, derive_mode)


def with_derive_mode(kem: HybridKem, derive_mode: HybridDeriveMode) -> HybridKem:
    """Helper constructor for a DeriveKeyPair variant, e.g. ``with_derive_mode(XWING, "xwing-draft")``.

    Variants are not registered; a provider registers one with :func:`mls_pq.crypto.register_kem`.
    """
    return kem.with_derive_mode(derive_mode)


# Labels: concrete-hybrid-kems §4; X-Wing's is "\.//^\" (hex 5c2e2f2f5e5c, xwing §5.3).
XWING = HybridKem(0x647A, "MLKEM768-X25519", MLKEM768, X25519_GROUP, b"\\.//^\\", 64)
MLKEM768_P256 = HybridKem(0x0050, "MLKEM768-P256", MLKEM768, P256_GROUP, b"MLKEM768-P256", 128)
MLKEM1024_P384 = HybridKem(0x0051, "MLKEM1024-P384", MLKEM1024, P384_GROUP, b"MLKEM1024-P384", 80)
