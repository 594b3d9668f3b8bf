"""The cipher suite as data, with the MLS helper functions defined on it (RFC 9420 §5).

A :class:`CipherSuite` is a frozen bundle of primitives (KEM, KDF, AEAD, hash, signature)
plus its identity. The engine only ever calls ``suite.<helper>(...)`` and never branches on
the suite id, so any registered suite — built in or from a plugin — runs a group.
"""

from __future__ import annotations

import dataclasses
import struct
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from ..codec import encode_opaque
from ..crypto.base import Aead, Hash, Kdf, Kem, SignatureScheme

if TYPE_CHECKING:
    from ..crypto.hpke import Hpke, PreparedInfo

MLS_LABEL_PREFIX = b"MLS 1.0 "


def _label(label: str | bytes) -> bytes:
    return MLS_LABEL_PREFIX + (label.encode() if isinstance(label, str) else label)


#: ``opaque label<V>`` of "MLS 1.0 " + label, per label: the KDF labels of the key schedule,
#: the secret tree and TreeKEM are a fixed handful, derived from thousands of times per
#: commit; bounded so that application-chosen exporter labels cannot grow it without limit
_LABEL_CACHE: dict[str | bytes, bytes] = {}
_LABEL_CACHE_MAX = 256


def _opaque_label(label: str | bytes) -> bytes:
    got = _LABEL_CACHE.get(label)
    if got is None:
        got = encode_opaque(_label(label))
        if len(_LABEL_CACHE) < _LABEL_CACHE_MAX:
            _LABEL_CACHE[label] = got
    return got


_U16 = struct.Struct(">H").pack

#: quirk (a wire deviation a code-point profile tolerates, :attr:`CipherSuite.quirks`): an
#: ``external_pub`` GroupInfo extension holding the bare HPKE public key, without the
#: ``HPKEPublicKey`` length prefix of RFC 9420 §12.4.3.2, is read too (the RFC form still is)
BARE_EXTERNAL_PUB = "bare-external-pub"


@dataclass(frozen=True, eq=False)
class CipherSuite:
    """One MLS cipher suite (RFC 9420 §5.1, §17.1) under a code-point profile.

    ``kdf`` is the two-stage KDF MLS uses for Extract/Expand; ``hash`` is the suite's hash
    (RefHash, tree and transcript hashes, MAC); the HPKE instance combines ``kem``,
    ``hpke_kdf`` (defaults to ``kdf``) and ``aead``.
    """

    id: int
    name: str
    kem: Kem
    kdf: Kdf
    aead: Aead
    hash: Hash
    signature: SignatureScheme
    security_level: int = 128
    source: str = ""
    profile: str = "default"
    hpke_kdf: Kdf | None = field(default=None, repr=False)
    #: wire deviations the suite's profile tolerates when reading (e.g. :data:`BARE_EXTERNAL_PUB`);
    #: empty for every standard profile. The engine tests these neutral names, never a profile name.
    quirks: frozenset[str] = field(default=frozenset(), repr=False)

    def __post_init__(self) -> None:
        if not self.kdf.two_stage:
            from ..errors import UnsupportedAlgorithm

            raise UnsupportedAlgorithm(f"suite {self.name}: MLS needs a two-stage KDF, {self.kdf.name} is one-stage")

    def __repr__(self) -> str:
        return f"<CipherSuite 0x{self.id:04x} {self.name} [{self.profile}]>"

    # ---- derived constants -------------------------------------------------------------
    @property
    def n_h(self) -> int:
        """KDF.Nh: the size of secrets in the key schedule."""
        return self.kdf.n_h

    @cached_property
    def hpke(self) -> Hpke:
        from ..crypto.hpke import Hpke

        return Hpke(self.kem, self.hpke_kdf or self.kdf, self.aead)

    def with_primitives(self, **changes: object) -> CipherSuite:
        """A copy with some primitives replaced (e.g. counting adapters for the benchmark)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    # ---- KDF helpers (RFC 9420 §5.1, §8) -----------------------------------------------
    def extract(self, salt: bytes, ikm: bytes) -> bytes:
        """KDF.Extract(salt, ikm) of the suite's KDF (RFC 9420 §5.1)."""
        return self.kdf.extract(salt, ikm)

    def expand(self, prk: bytes, info: bytes, length: int) -> bytes:
        """KDF.Expand(prk, info, length) of the suite's KDF (RFC 9420 §5.1)."""
        return self.kdf.expand(prk, info, length)

    def expand_with_label(self, secret: bytes, label: str | bytes, context: bytes, length: int) -> bytes:
        """ExpandWithLabel (RFC 9420 §8): KDF.Expand(secret, KDFLabel, length)."""
        n = len(context)
        ctx = (bytes((n,)) + context) if n < 0x40 else encode_opaque(context)
        return self.kdf.expand(secret, _U16(length) + _opaque_label(label) + ctx, length)

    def derive_secret(self, secret: bytes, label: str | bytes) -> bytes:
        """DeriveSecret (RFC 9420 §8) = ExpandWithLabel(secret, label, "", Nh)."""
        return self.expand_with_label(secret, label, b"", self.n_h)

    def derive_tree_secret(self, secret: bytes, label: str | bytes, generation: int, length: int) -> bytes:
        """DeriveTreeSecret (RFC 9420 §9)."""
        return self.expand_with_label(secret, label, generation.to_bytes(4, "big"), length)

    def mac(self, key: bytes, data: bytes) -> bytes:
        """MAC (RFC 9420 §5.1): HMAC with the suite's hash."""
        return self.hash.hmac(key, data)

    # ---- hashes and references (RFC 9420 §5.2) ------------------------------------------
    def digest(self, data: bytes) -> bytes:
        """Hash(data) with the suite's hash (RFC 9420 §5.1)."""
        return self.hash.digest(data)

    def ref_hash(self, label: str | bytes, value: bytes) -> bytes:
        """RefHash(label, value) = Hash(RefHashInput) (RFC 9420 §5.2). ``label`` is used as given."""
        lab = label.encode() if isinstance(label, str) else label
        return self.hash.digest(encode_opaque(lab) + encode_opaque(value))

    def make_key_package_ref(self, key_package: bytes) -> bytes:
        """KeyPackageRef = RefHash("MLS 1.0 KeyPackage Reference", KeyPackage) (RFC 9420 §5.2)."""
        return self.ref_hash(b"MLS 1.0 KeyPackage Reference", key_package)

    def make_proposal_ref(self, authenticated_content: bytes) -> bytes:
        """ProposalRef = RefHash("MLS 1.0 Proposal Reference", AuthenticatedContent) (RFC 9420 §5.2)."""
        return self.ref_hash(b"MLS 1.0 Proposal Reference", authenticated_content)

    # ---- signatures (RFC 9420 §5.1.2) --------------------------------------------------
    @staticmethod
    def _sign_content(label: str | bytes, content: bytes) -> bytes:
        return _opaque_label(label) + encode_opaque(content)

    def sign_with_label(self, sk: bytes, label: str | bytes, content: bytes) -> bytes:
        """SignWithLabel(sk, label, content) (RFC 9420 §5.1.2): sign SignContent
        ("MLS 1.0 " + label, content)."""
        return self.signature.sign(sk, self._sign_content(label, content))

    def verify_with_label(self, pk: bytes, label: str | bytes, content: bytes, sig: bytes) -> bool:
        """VerifyWithLabel (RFC 9420 §5.1.2): True iff ``sig`` is valid over SignContent."""
        return self.signature.verify(pk, self._sign_content(label, content), sig)

    # ---- public-key encryption (RFC 9420 §5.1.3) ---------------------------------------
    @staticmethod
    def _encrypt_context(label: str | bytes, context: bytes) -> bytes:
        return _opaque_label(label) + encode_opaque(context)

    def encrypt_with_label(self, pk: bytes, label: str | bytes, context: bytes, plaintext: bytes) -> tuple[bytes, bytes]:
        """EncryptWithLabel -> (kem_output, ciphertext): HPKE SealBase, info = EncryptContext, aad = ""."""
        return self.hpke.seal_base(pk, self._encrypt_context(label, context), b"", plaintext)

    def prepare_encrypt_context(self, label: str | bytes, context: bytes) -> PreparedInfo:
        """The EncryptContext of :meth:`encrypt_with_label` hashed once, for encrypting to
        many recipients with one ``context`` (a Welcome, RFC 9420 §12.4.3.1)."""
        return self.hpke.prepare_info(self._encrypt_context(label, context))

    def encrypt_with_prepared(self, pk: bytes, prepared: PreparedInfo, plaintext: bytes) -> tuple[bytes, bytes]:
        """:meth:`encrypt_with_label` with a :meth:`prepare_encrypt_context` result."""
        return self.hpke.seal_base(pk, prepared, b"", plaintext)

    def decrypt_with_label(
        self, sk: bytes, label: str | bytes, context: bytes, kem_output: bytes, ciphertext: bytes
    ) -> bytes:
        """DecryptWithLabel: HPKE OpenBase; raises :class:`mls_pq.errors.DecryptError`."""
        return self.hpke.open_base(kem_output, sk, self._encrypt_context(label, context), b"", ciphertext)

    # ---- HPKE key pairs ----------------------------------------------------------------
    def derive_key_pair(self, secret: bytes) -> tuple[bytes, bytes]:
        """KEM.DeriveKeyPair(secret) -> (sk, pk), as TreeKEM and external_pub use it."""
        return self.kem.derive_key_pair(secret)

    def generate_key_pair(self) -> tuple[bytes, bytes]:
        """A fresh random HPKE key pair (sk, pk) of the suite's KEM (RFC 9420 §5.1.3)."""
        return self.kem.generate_key_pair()

    # ---- sizes for reports -------------------------------------------------------------
    def sizes(self) -> dict[str, int]:
        """Octet sizes of the suite's keys, KEM output, signature, AEAD tag and hash (for reports)."""
        return {
            "kem_public_key": self.kem.n_pk,
            "kem_output": self.kem.n_enc,
            "kem_private_key": self.kem.n_sk,
            "signature_public_key": self.signature.pk_size,
            "signature": self.signature.sig_size,
            "aead_tag": self.aead.n_t,
            "hash": self.hash.size,
        }

    def backends(self) -> dict[str, str]:
        """Which library implements each primitive (for reports and benchmark metadata)."""
        return {
            "kem": self.kem.backend,
            "kdf": self.kdf.backend,
            "aead": self.aead.backend,
            "hash": self.hash.backend,
            "signature": self.signature.backend,
        }
