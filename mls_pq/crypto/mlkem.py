"""ML-KEM-512/768/1024 as HPKE KEMs (draft-ietf-hpke-pq §3, FIPS 203).

Private keys are the 64-byte seed ``d || z`` (hpke-pq §3: SerializePrivateKey is the
identity on the seed format); public keys are the FIPS 203 encapsulation key ``ek``.

* ``DeriveKeyPair(ikm)``: ``dk = SHAKE256.LabeledDerive(ikm, "DeriveKeyPair", "", 64)``
  with ``suite_id = "KEM" || I2OSP(kem_id, 2)``, then ``ML-KEM.KeyGen_internal(d, z)``
  (hpke-pq §3). The ``"raw-seed"`` variant (used by some MLS implementations, e.g.
  ts-mls) takes a 64-byte ``ikm`` as ``d || z`` directly; see :func:`with_derive_mode`.
* ``Encap`` is ``ML-KEM.Encaps`` including the encapsulation-key (modulus) check of
  FIPS 203 §7.2; ``Decap`` is ``ML-KEM.Decaps`` on the key expanded from the seed.

Backends: ML-KEM-768/1024 are served by ``cryptography`` (seed import, encapsulation,
decapsulation). ``cryptography`` has no ML-KEM-512, so ML-KEM-512 is served by the pure
Python ``kyber-py``. Deterministic encapsulation (``Encaps_internal(ek, m)``, for test
vectors only) is not exposed by ``cryptography``; it uses ``kyber-py`` for all three.

**Risk of the kyber-py backend (ML-KEM-512 only).** kyber-py is pure Python and makes no
constant-time claim: decapsulation with a long-term key may leak it through timing to an
attacker who can measure many decapsulations. It is isolated in :class:`_KyberPyBackend`
(ML-KEM-512, and deterministic encapsulation for test vectors) and no RFC 9420 or draft-06
suite of the default profile uses ML-KEM-512 — only the ts-mls-1.6 interop profile (suites 77, 78) does. It stays
because no compiled, maintained ML-KEM-512 on PyPI derives keys from a seed (checked
2026-12: ``cryptography`` ships only 768/1024, ``pqcrypto``'s ML-KEM-512 generates keys
from the OS RNG only, the ``fips203`` bindings load a build-tree path and do not import).
Applications that need side-channel resistance should not use ML-KEM-512 suites here.

Written by hand here (no library provides them as such): the hpke-pq
``SHAKE256.LabeledDerive`` framing (over ``hashlib.shake_256``) and the FIPS 203 §7.2
modulus check for ML-KEM-512 (``kyber-py`` only performs it inside ``encaps``).
"""

from __future__ import annotations

import hashlib
import os
from abc import ABC, abstractmethod
from collections.abc import Callable
from functools import lru_cache
from typing import Any, Literal, cast

from ..errors import CryptoError, InvalidKeyError, UnsupportedAlgorithm
from .base import Kem

__all__ = [
    "MLKEM512",
    "MLKEM768",
    "MLKEM1024",
    "DeriveMode",
    "MLKem",
    "shake256_labeled_derive",
    "with_derive_mode",
]

DeriveMode = Literal["hpke-pq", "raw-seed"]
_DERIVE_MODES: tuple[str, ...] = ("hpke-pq", "raw-seed")

SEED_SIZE = 64  # d || z (FIPS 203 §7.1 seed format)
RANDOM_SIZE = 32  # m of ML-KEM.Encaps_internal (FIPS 203 §6.2)
_Q = 3329

# Cache sizes: private keys are few (a member's own path keys); public keys are many
# (TreeKEM encrypts to every copath resolution node).
_SK_CACHE = 256
_PK_CACHE = 1024


def shake256_labeled_derive(kem_id: int, ikm: bytes, label: bytes, context: bytes, length: int) -> bytes:
    """``SHAKE256.LabeledDerive`` with the KEM suite_id (draft-ietf-hpke-hpke §4.4, hpke-pq §3-§5).

    ``labeled_ikm = ikm || "HPKE-v1" || suite_id || lengthPrefixed(label) || I2OSP(L, 2) || context``
    and ``Derive(x, L) = SHAKE256(x, 8*L)``, with ``suite_id = "KEM" || I2OSP(kem_id, 2)``.
    """
    if not 0 <= length <= 0xFFFF or len(label) > 0xFFFF:
        raise CryptoError("LabeledDerive: length or label out of range")
    suite_id = b"KEM" + kem_id.to_bytes(2, "big")
    labeled_ikm = b"".join(
        (ikm, b"HPKE-v1", suite_id, len(label).to_bytes(2, "big"), label, length.to_bytes(2, "big"), context)
    )
    return hashlib.shake_256(labeled_ikm).digest(length)


def _modulus_check(ek: bytes, k: int) -> bool:
    """FIPS 203 §7.2 encapsulation-key modulus check: every 12-bit coefficient of
    ``ByteDecode_12(ek[0:384k])`` is < q. Written by hand for the kyber-py backend."""
    t = ek[: 384 * k]
    for i in range(0, len(t), 3):
        b0, b1, b2 = t[i], t[i + 1], t[i + 2]
        if b0 | ((b1 & 0x0F) << 8) >= _Q or (b1 >> 4) | (b2 << 4) >= _Q:
            return False
    return True


def _kyber_py(k: int) -> Any:
    """The kyber-py parameter set object for module rank ``k`` (imported lazily)."""
    from kyber_py.ml_kem import ML_KEM_512, ML_KEM_768, ML_KEM_1024

    return {2: ML_KEM_512, 3: ML_KEM_768, 4: ML_KEM_1024}[k]


class _Backend(ABC):
    """Seed-based ML-KEM operations of one parameter set over one library."""

    name: str

    @abstractmethod
    def public_from_seed(self, seed: bytes) -> bytes: ...

    @abstractmethod
    def decaps(self, seed: bytes, ct: bytes) -> bytes: ...

    @abstractmethod
    def encaps(self, pk: bytes) -> tuple[bytes, bytes]:
        """-> (shared_secret, ciphertext); raises InvalidKeyError on a bad ``pk``."""

    @abstractmethod
    def check_public(self, pk: bytes) -> None:
        """Raise InvalidKeyError unless ``pk`` passes the FIPS 203 §7.2 checks."""


class _CryptographyBackend(_Backend):
    """ML-KEM-768/1024 over pyca/cryptography (``from_seed_bytes``, ``from_public_bytes``)."""

    name = "cryptography"

    def __init__(self, priv_cls: Any, pub_cls: Any) -> None:
        self._priv_cls = priv_cls
        self._pub_cls = pub_cls
        self._priv: Callable[[bytes], tuple[Any, bytes]] = lru_cache(maxsize=_SK_CACHE)(self._load_priv)
        self._pub: Callable[[bytes], Any] = lru_cache(maxsize=_PK_CACHE)(self._load_pub)

    def _load_priv(self, seed: bytes) -> tuple[Any, bytes]:
        try:
            key = self._priv_cls.from_seed_bytes(seed)
        except ValueError:
            raise InvalidKeyError("ML-KEM: invalid private key seed") from None
        return key, cast(bytes, key.public_key().public_bytes_raw())

    def _load_pub(self, pk: bytes) -> Any:
        try:
            return self._pub_cls.from_public_bytes(pk)
        except ValueError:
            # cryptography performs the FIPS 203 §7.2 type and modulus checks here
            raise InvalidKeyError("ML-KEM: invalid encapsulation key") from None

    def public_from_seed(self, seed: bytes) -> bytes:
        return self._priv(seed)[1]

    def decaps(self, seed: bytes, ct: bytes) -> bytes:
        try:
            return cast(bytes, self._priv(seed)[0].decapsulate(ct))
        except ValueError:
            raise CryptoError("ML-KEM: decapsulation failed") from None

    def encaps(self, pk: bytes) -> tuple[bytes, bytes]:
        ss, ct = self._pub(pk).encapsulate()
        return bytes(ss), bytes(ct)

    def check_public(self, pk: bytes) -> None:
        self._pub(pk)


class _KyberPyBackend(_Backend):
    """ML-KEM over the pure-Python kyber-py (used for ML-KEM-512)."""

    name = "kyber-py"

    def __init__(self, k: int) -> None:
        self._k = k
        self._keys: Callable[[bytes], tuple[bytes, bytes]] = lru_cache(maxsize=_SK_CACHE)(self._derive)
        self._checked: Callable[[bytes], bool] = lru_cache(maxsize=_PK_CACHE)(self._check)

    def _derive(self, seed: bytes) -> tuple[bytes, bytes]:
        """-> (ek, expanded dk) = ML-KEM.KeyGen_internal(d, z)."""
        try:
            ek, dk = _kyber_py(self._k).key_derive(seed)
        except ValueError:
            raise InvalidKeyError("ML-KEM: invalid private key seed") from None
        return bytes(ek), bytes(dk)

    def _check(self, pk: bytes) -> bool:
        return len(pk) == 384 * self._k + 32 and _modulus_check(pk, self._k)

    def public_from_seed(self, seed: bytes) -> bytes:
        return self._keys(seed)[0]

    def decaps(self, seed: bytes, ct: bytes) -> bytes:
        try:
            return bytes(_kyber_py(self._k).decaps(self._keys(seed)[1], ct))
        except ValueError:
            raise CryptoError("ML-KEM: decapsulation failed") from None

    def encaps(self, pk: bytes) -> tuple[bytes, bytes]:
        self.check_public(pk)
        try:
            ss, ct = _kyber_py(self._k).encaps(pk)
        except ValueError:
            raise InvalidKeyError("ML-KEM: invalid encapsulation key") from None
        return bytes(ss), bytes(ct)

    def check_public(self, pk: bytes) -> None:
        if not self._checked(pk):
            raise InvalidKeyError("ML-KEM: encapsulation key fails the FIPS 203 modulus check")


class MLKem(Kem):
    """One ML-KEM parameter set as an HPKE KEM (draft-ietf-hpke-pq §3, Table 2).

    ``derive_mode`` selects DeriveKeyPair: ``"hpke-pq"`` (the standard, default) or
    ``"raw-seed"`` (``ikm`` must be 64 bytes and is used as ``d || z`` unchanged).
    """

    n_secret = 32
    n_sk = SEED_SIZE
    n_random = RANDOM_SIZE

    def __init__(
        self,
        kem_id: int,
        name: str,
        k: int,
        n_enc: int,
        backend: _Backend,
        derive_mode: DeriveMode = "hpke-pq",
    ) -> None:
        if derive_mode not in _DERIVE_MODES:
            raise UnsupportedAlgorithm(f"{name}: unknown derive_mode {derive_mode!r}")
        self.id = kem_id
        self.name = name if derive_mode == "hpke-pq" else f"{name} ({derive_mode} DeriveKeyPair)"
        self.k = k
        self.n_pk = 384 * k + 32
        self.n_enc = n_enc
        self.derive_mode: DeriveMode = derive_mode
        self.backend = backend.name
        self._impl = backend
        self._base_name = name

    # -- key handling -----------------------------------------------------------------

    def _check_sk(self, sk: bytes) -> None:
        if len(sk) != SEED_SIZE:
            raise InvalidKeyError(f"{self.name}: private key must be the {SEED_SIZE}-byte seed, got {len(sk)} bytes")

    def _check_pk_len(self, pk: bytes) -> None:
        if len(pk) != self.n_pk:
            raise InvalidKeyError(f"{self.name}: public key must be {self.n_pk} bytes, got {len(pk)}")

    def derive_key_pair(self, ikm: bytes) -> tuple[bytes, bytes]:
        """DeriveKeyPair (hpke-pq §3): SHAKE256.LabeledDerive to the seed, then KeyGen_internal."""
        if self.derive_mode == "raw-seed":
            if len(ikm) != SEED_SIZE:
                raise InvalidKeyError(f"{self.name}: raw-seed DeriveKeyPair needs {SEED_SIZE} bytes of ikm")
            seed = bytes(ikm)
        else:
            seed = shake256_labeled_derive(self.id, bytes(ikm), b"DeriveKeyPair", b"", SEED_SIZE)
        return seed, self._impl.public_from_seed(seed)

    def generate_key_pair(self) -> tuple[bytes, bytes]:
        """GenerateKeyPair (hpke-pq §3): KeyGen_internal on a random 64-byte seed."""
        seed = os.urandom(SEED_SIZE)
        return seed, self._impl.public_from_seed(seed)

    def public_key(self, sk: bytes) -> bytes:
        self._check_sk(sk)
        return self._impl.public_from_seed(bytes(sk))

    def validate_public_key(self, pk: bytes) -> None:
        """Type (length) and modulus check of FIPS 203 §7.2."""
        self._check_pk_len(pk)
        self._impl.check_public(bytes(pk))

    # -- encapsulation ----------------------------------------------------------------

    def encap(self, pk: bytes) -> tuple[bytes, bytes]:
        """Encap(pkR) -> (shared_secret, enc): ML-KEM.Encaps; a bad key raises InvalidKeyError."""
        self._check_pk_len(pk)
        return self._impl.encaps(bytes(pk))

    def encap_derand(self, pk: bytes, randomness: bytes) -> tuple[bytes, bytes]:
        """ML-KEM.Encaps_internal(ek, m) with ``m = randomness`` (32 bytes), via kyber-py.

        For test vectors only. Performs the same encapsulation-key checks as Encap.
        """
        self._check_pk_len(pk)
        if len(randomness) != RANDOM_SIZE:
            raise CryptoError(f"{self.name}: encapsulation randomness must be {RANDOM_SIZE} bytes")
        try:
            # kyber-py performs the FIPS 203 §7.2 type and modulus checks inside
            ss, ct = _kyber_py(self.k)._encaps_internal(bytes(pk), bytes(randomness))
        except ValueError:
            raise InvalidKeyError(f"{self.name}: invalid encapsulation key") from None
        return bytes(ss), bytes(ct)

    def decap(self, enc: bytes, sk: bytes) -> bytes:
        """Decap(enc, skR) (hpke-pq §3): ML-KEM.Decaps with the key expanded from the seed.

        ML-KEM rejects implicitly: a well-sized but invalid ``enc`` yields a pseudorandom
        secret. A wrongly sized ``enc`` or ``sk`` raises :class:`CryptoError`.
        """
        self._check_sk(sk)
        if len(enc) != self.n_enc:
            raise CryptoError(f"{self.name}: ciphertext must be {self.n_enc} bytes, got {len(enc)}")
        return self._impl.decaps(bytes(sk), bytes(enc))

    def with_derive_mode(self, derive_mode: DeriveMode) -> MLKem:
        """The same parameter set and backend (sharing its key caches) with another DeriveKeyPair."""
        return MLKem(self.id, self._base_name, self.k, self.n_enc, self._impl, derive_mode)


def with_derive_mode(kem: MLKem, derive_mode: DeriveMode) -> MLKem:
    """Helper constructor for a DeriveKeyPair variant, e.g. ``with_derive_mode(MLKEM768, "raw-seed")``.

    Variants are not registered; a provider registers one with :func:`mls_pq.crypto.register_kem`.
    """
    return kem.with_derive_mode(derive_mode)


def _pyca(name: str) -> _Backend:
    from cryptography.hazmat.primitives.asymmetric import mlkem as pyca_mlkem

    return _CryptographyBackend(getattr(pyca_mlkem, f"{name}PrivateKey"), getattr(pyca_mlkem, f"{name}PublicKey"))


MLKEM512 = MLKem(0x0040, "ML-KEM-512", 2, 768, _KyberPyBackend(2))
MLKEM768 = MLKem(0x0041, "ML-KEM-768", 3, 1088, _pyca("MLKEM768"))
MLKEM1024 = MLKem(0x0042, "ML-KEM-1024", 4, 1568, _pyca("MLKEM1024"))
