"""Interfaces of the cryptographic primitives, identified by their IANA code points.

Every primitive is a small adapter over a backend library. The engine only ever talks to
these interfaces (through a :class:`mls_pq.suites.CipherSuite`), which is what lets a
provider swap a backend and lets the benchmark wrap them in counting adapters.

Keys cross these interfaces as ``bytes`` in their standard serialisation (RFC 9180
SerializePublicKey/SerializePrivateKey; RFC 9420 signature key encodings). Adapters may
cache parsed key objects internally; they never expose secrets in ``repr``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod


class Primitive(ABC):
    """Common fields: the IANA ``id``, a readable ``name`` and the ``backend`` serving it."""

    id: int
    name: str
    backend: str

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} (0x{self.id:04x}) via {self.backend}>"


class Hash(ABC):
    """A hash function as used by MLS for RefHash, tree hashes and transcript hashes."""

    name: str
    size: int
    backend: str = "hashlib"

    @abstractmethod
    def digest(self, data: bytes) -> bytes: ...

    @abstractmethod
    def hmac(self, key: bytes, data: bytes) -> bytes: ...


class Kdf(Primitive):
    """An HPKE KDF (draft-ietf-hpke-hpke §4). Two-stage KDFs provide ``extract``/``expand``;
    one-stage KDFs provide ``derive``. ``n_h`` is Nh from the HPKE KDF registry."""

    n_h: int
    two_stage: bool

    def extract(self, salt: bytes, ikm: bytes) -> bytes:
        raise NotImplementedError(f"{self.name} is a one-stage KDF: no Extract")

    def expand(self, prk: bytes, info: bytes, length: int) -> bytes:
        raise NotImplementedError(f"{self.name} is a one-stage KDF: no Expand")

    def derive(self, ikm: bytes, length: int) -> bytes:
        raise NotImplementedError(f"{self.name} is a two-stage KDF: no Derive")


class Aead(Primitive):
    """An HPKE AEAD (RFC 9180 §5.2). ``open`` raises :class:`mls_pq.errors.DecryptError`."""

    n_k: int
    n_n: int
    n_t: int

    @abstractmethod
    def seal(self, key: bytes, nonce: bytes, aad: bytes, pt: bytes) -> bytes: ...

    @abstractmethod
    def open(self, key: bytes, nonce: bytes, aad: bytes, ct: bytes) -> bytes: ...


class Kem(Primitive):
    """An HPKE KEM (RFC 9180 §4, draft-ietf-hpke-pq).

    Private keys are the KEM's SerializePrivateKey form (a seed where the standard keeps
    seeds: ML-KEM's 64-byte d||z, the hybrids' 32-byte seed).
    """

    n_secret: int
    n_enc: int
    n_pk: int
    n_sk: int
    supports_auth: bool = False

    @abstractmethod
    def derive_key_pair(self, ikm: bytes) -> tuple[bytes, bytes]:
        """DeriveKeyPair(ikm) -> (sk, pk), serialised."""

    @abstractmethod
    def generate_key_pair(self) -> tuple[bytes, bytes]:
        """GenerateKeyPair() -> (sk, pk), serialised."""

    @abstractmethod
    def public_key(self, sk: bytes) -> bytes:
        """The serialised public key of a serialised private key."""

    @abstractmethod
    def encap(self, pk: bytes) -> tuple[bytes, bytes]:
        """Encap(pkR) -> (shared_secret, enc)."""

    def encap_derand(self, pk: bytes, randomness: bytes) -> tuple[bytes, bytes]:
        """Deterministic Encap with caller-supplied randomness (for vectors only)."""
        from ..errors import UnsupportedAlgorithm

        raise UnsupportedAlgorithm(f"{self.name}: deterministic encapsulation is not available")

    @abstractmethod
    def decap(self, enc: bytes, sk: bytes) -> bytes:
        """Decap(enc, skR) -> shared_secret."""

    def auth_encap(self, pk: bytes, sk_s: bytes) -> tuple[bytes, bytes]:
        from ..errors import UnsupportedAlgorithm

        raise UnsupportedAlgorithm(f"{self.name} does not support authenticated modes")

    def auth_decap(self, enc: bytes, sk: bytes, pk_s: bytes) -> bytes:
        from ..errors import UnsupportedAlgorithm

        raise UnsupportedAlgorithm(f"{self.name} does not support authenticated modes")

    def validate_public_key(self, pk: bytes) -> None:
        """Raise :class:`mls_pq.errors.InvalidKeyError` if ``pk`` is not a valid public key."""
        if len(pk) != self.n_pk:
            from ..errors import InvalidKeyError

            raise InvalidKeyError(f"{self.name}: public key must be {self.n_pk} bytes, got {len(pk)}")


class SignatureScheme(Primitive):
    """A TLS SignatureScheme as used by MLS (RFC 9420 §5.1.2).

    ``id`` is the TLS SignatureScheme code point. Private keys use the encodings of the
    mlswg test vectors: Ed25519/Ed448 raw seeds, ECDSA big-endian scalars of the curve
    size, ML-DSA 32-byte seeds. Public keys: raw (EdDSA, ML-DSA) or uncompressed points
    (ECDSA). ECDSA signatures are DER-encoded.
    """

    pk_size: int
    sig_size: int  # maximum size in bytes
    sk_size: int

    @abstractmethod
    def generate(self) -> tuple[bytes, bytes]:
        """-> (sk, pk)"""

    @abstractmethod
    def public_key(self, sk: bytes) -> bytes: ...

    @abstractmethod
    def sign(self, sk: bytes, message: bytes) -> bytes: ...

    @abstractmethod
    def verify(self, pk: bytes, message: bytes, signature: bytes) -> bool:
        """True iff the signature is valid. Never raises on malformed input: returns False."""

    def validate_public_key(self, pk: bytes) -> None:
        """Raise :class:`mls_pq.errors.InvalidKeyError` if ``pk`` is not an acceptable public
        key of this scheme. Called at every signature-key entry point (KeyPackage, LeafNode,
        credential, external sender: :func:`mls_pq.credentials.check_credential_key`). The
        built-in schemes override it. This default delegates to ``self.inner`` when the
        scheme is a wrapper (the counting/tallying adapters keep the wrapped scheme there) and
        otherwise accepts every key (``verify`` still decides each signature)."""
        inner = getattr(self, "inner", None)
        if isinstance(inner, SignatureScheme):
            inner.validate_public_key(pk)
