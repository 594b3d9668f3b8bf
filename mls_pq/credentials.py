"""Credential checks (RFC 9420 §5.3) and the Authentication Service hook (§5.3.1).

Two separate things live here:

* :func:`check_credential_key` — the one credential rule the protocol itself can check
  (§5.3): for an X.509 credential, "the public key encoded in the subjectPublicKeyInfo of
  the end-entity certificate MUST be identical to the signature_key in the LeafNode
  containing this credential". The certificate is parsed with ``cryptography.x509`` and its
  key re-encoded the way MLS encodes a signature key of the group's scheme (EdDSA and
  ML-DSA: raw public key; ECDSA: uncompressed SEC1 point). A malformed certificate, a key
  of another algorithm or another key is a :class:`~mls_pq.errors.ValidationError` naming
  §5.3. The chain (issuers, validity, revocation) is NOT checked here: that is the
  Authentication Service's business.

* The Authentication Service hook: :data:`CredentialValidator` is an application callable
  that receives a :class:`CredentialEvent` at every point where §5.3.1 says a new credential
  "MUST be validated with the AS" and returns ``False`` (or raises) to reject it; the group
  then raises :class:`CredentialRejected` (§5.3.1) and leaves its state unchanged. Without a
  validator every credential is accepted (:func:`accept_all`) — fine for tests, NOT for
  production: an application that authenticates its users must supply one.

Nothing here is cryptography: certificate parsing and key encodings are cryptography's.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm as _CryptoUnsupported
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .errors import MLSError, ValidationError
from .messages.credential import Credential, CredentialType

from cryptography.hazmat.primitives.asymmetric import mldsa as _mldsa  # cryptography >= 48 (pyproject)

if TYPE_CHECKING:
    from .suites import CipherSuite

__all__ = [
    "CredentialEvent",
    "CredentialEventType",
    "CredentialRejected",
    "CredentialValidator",
    "accept_all",
    "authenticate",
    "certificate_signature_key",
    "check_credential_key",
    "register_x509_key_type",
]


# ---- §5.3: the end-entity certificate's key is the leaf's signature_key ----------------------

#: key class -> (encoder to the MLS SignaturePublicKey encoding, TLS SignatureScheme ids it serves)
_KeyEncoder = Callable[[object], tuple[bytes, frozenset[int]]]
_ENCODERS: list[tuple[type, _KeyEncoder]] = []

#: ECDSA curves by name -> TLS SignatureScheme id (RFC 8446 §4.2.3)
_EC_SCHEMES = {"secp256r1": 0x0403, "secp384r1": 0x0503, "secp521r1": 0x0603}


def register_x509_key_type(key_class: type, encoder: _KeyEncoder) -> None:
    """Teach :func:`certificate_signature_key` a further public-key type (e.g. of a plugin
    signature scheme): ``encoder(key)`` returns the MLS encoding of the key and the TLS
    SignatureScheme ids it can be used with."""
    _ENCODERS.insert(0, (key_class, encoder))
    _cert_key.cache_clear()


def _raw(scheme_id: int) -> _KeyEncoder:
    def enc(key: object) -> tuple[bytes, frozenset[int]]:
        return key.public_bytes_raw(), frozenset({scheme_id})  # type: ignore[attr-defined]

    return enc


def _ec(key: object) -> tuple[bytes, frozenset[int]]:
    assert isinstance(key, ec.EllipticCurvePublicKey)
    scheme = _EC_SCHEMES.get(key.curve.name)
    point = key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return point, frozenset({scheme} if scheme is not None else ())


_ENCODERS.extend(
    [
        (ed25519.Ed25519PublicKey, _raw(0x0807)),
        (ed448.Ed448PublicKey, _raw(0x0808)),
        (ec.EllipticCurvePublicKey, _ec),
    ]
)
for _level, _id in ((44, 0x0904), (65, 0x0905), (87, 0x0906)):
    _ENCODERS.append((getattr(_mldsa, f"MLDSA{_level}PublicKey"), _raw(_id)))


@functools.lru_cache(maxsize=1024)
def _cert_key(der: bytes) -> tuple[bytes, frozenset[int]] | str:
    """(MLS encoding of the end-entity key, schemes it serves), or an error message."""
    try:
        cert = x509.load_der_x509_certificate(der)
    except (ValueError, TypeError):
        return "the end-entity certificate is not a valid DER X.509 certificate"
    try:
        key = cert.public_key()
    except (ValueError, TypeError, _CryptoUnsupported):
        return f"the certificate's public key (algorithm {cert.public_key_algorithm_oid.dotted_string}) cannot be read"
    for cls, encoder in _ENCODERS:
        if isinstance(key, cls):
            return encoder(key)
    return f"the certificate's public key type {type(key).__name__} has no MLS signature key encoding"


def certificate_signature_key(der: bytes, scheme_id: int) -> bytes:
    """The public key of the DER certificate ``der``, encoded as an MLS ``signature_key`` of
    the TLS SignatureScheme ``scheme_id``. ValidationError (§5.3) if the certificate is
    malformed or its key belongs to another algorithm."""
    got = _cert_key(bytes(der))
    if isinstance(got, str):
        raise ValidationError(got, "5.3")
    key, schemes = got
    if scheme_id not in schemes:
        raise ValidationError(
            f"the end-entity certificate's key is not a key of signature scheme 0x{scheme_id:04x}", "5.3"
        )
    return key


def check_credential_key(suite: CipherSuite, credential: Credential, signature_key: bytes) -> None:
    """§5.3: an X.509 credential's end-entity certificate carries exactly ``signature_key``.
    Basic credentials (and any other type) pass: there is nothing to compare. Then, for every
    credential: ``signature_key`` must be an acceptable key of the suite's scheme (one rule
    whatever backend, :meth:`SignatureScheme.validate_public_key`; raises InvalidKeyError)."""
    if credential.credential_type != CredentialType.X509:
        suite.signature.validate_public_key(signature_key)
        return
    if not credential.certificates:
        raise ValidationError("an x509 credential without certificates", "5.3")
    key = certificate_signature_key(credential.certificates[0].cert_data, suite.signature.id)
    if key != bytes(signature_key):  # public values: no constant-time comparison needed
        raise ValidationError("the end-entity certificate's public key is not the leaf's signature_key", "5.3")
    suite.signature.validate_public_key(signature_key)


# ---- §5.3.1: the Authentication Service hook ---------------------------------------------------


class CredentialEventType(StrEnum):
    """The §5.3.1 events at which a new credential is validated with the AS."""

    #: a KeyPackage we use in an Add proposal (we propose it, or commit it by value)
    KEY_PACKAGE = "key_package"
    #: an Add proposal we received (from a member, an external sender or the new member
    #: itself, or by value inside a received commit)
    ADD = "add"
    #: a received Update proposal whose LeafNode has a new credential or signature key
    UPDATE = "update"
    #: a received Commit whose UpdatePath LeafNode has a new credential or signature key
    #: (always for an external commit: the committer is new)
    COMMIT = "commit"
    #: a member (leaf) of the tree of a group we join from a GroupInfo (Welcome or external commit)
    GROUP_MEMBER = "group_member"
    #: the signer of the GroupInfo we use to join
    GROUP_INFO_SIGNER = "group_info_signer"
    #: an entry of an ``external_senders`` extension added to or changed in the group (also at
    #: group creation and when joining a group that has one)
    EXTERNAL_SENDER = "external_sender"


@dataclass(frozen=True)
class CredentialEvent:
    """What the AS is asked to validate: ``credential`` presented with ``signature_key``.

    ``previous``/``previous_signature_key`` are the credential and key being replaced (Update,
    Commit, or the member an external resync removes), so the AS can check that the new
    identifiers are a valid successor of the old ones (§5.3.1). ``leaf_index`` is the leaf
    the credential occupies (or will), when known; ``sender_index`` the index of an
    external sender."""

    type: CredentialEventType
    credential: Credential
    signature_key: bytes = field(repr=False)
    group_id: bytes
    leaf_index: int | None = None
    previous: Credential | None = None
    previous_signature_key: bytes | None = field(default=None, repr=False)
    sender_index: int | None = None


#: the application's Authentication Service: return False (or raise) to reject; True/None accept
CredentialValidator = Callable[[CredentialEvent], "bool | None"]


class CredentialRejected(ValidationError):
    """The Authentication Service rejected a credential (RFC 9420 §5.3.1)."""

    def __init__(self, message: str, event: CredentialEvent | None = None) -> None:
        super().__init__(message, "5.3.1")
        self.event = event


def accept_all(event: CredentialEvent) -> None:
    """The default validator: accepts every credential. Production applications MUST supply
    their own (RFC 9420 §5.3.1 makes validation with the AS mandatory)."""
    del event


def authenticate(validator: CredentialValidator | None, event: CredentialEvent) -> None:
    """Ask ``validator`` about ``event``; :class:`CredentialRejected` if it returns False or
    raises (the cause is chained)."""
    if validator is None:
        return
    what = f"{event.type.value} credential"
    try:
        verdict = validator(event)
    except CredentialRejected:
        raise
    except MLSError as e:
        raise CredentialRejected(f"the authentication service rejected the {what}: {e}", event) from e
    except Exception as e:  # the application's code: any failure is a rejection
        raise CredentialRejected(f"the authentication service rejected the {what}: {type(e).__name__}", event) from e
    if verdict is False:
        raise CredentialRejected(f"the authentication service rejected the {what}", event)
