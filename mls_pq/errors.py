"""One exception hierarchy for the whole project.

Every error the library raises on bad input, bad state or failed cryptography is an
:class:`MLSError`. Messages never contain secret material.
"""

from __future__ import annotations


class MLSError(Exception):
    """Base class of every error raised by mls_pq."""


class DecodeError(MLSError):
    """Bytes do not follow the TLS presentation language encoding (RFC 9420 §2.1)."""


class ValidationError(MLSError):
    """A protocol-level check failed. ``section`` names the RFC 9420 section that requires it."""

    def __init__(self, message: str, section: str | None = None) -> None:
        self.section = section
        super().__init__(f"{message} (RFC 9420 §{section})" if section else message)


class CryptoError(MLSError):
    """A cryptographic operation failed (bad key, failed decryption, bad signature...)."""


class InvalidKeyError(CryptoError):
    """A public or private key is malformed or outside the valid range."""


class DecryptError(CryptoError):
    """AEAD decryption or HPKE open failed: the ciphertext or tag is not authentic."""


class SignatureError(CryptoError):
    """A signature did not verify."""


class UnsupportedAlgorithm(MLSError):
    """An algorithm identifier (KEM, KDF, AEAD, signature scheme...) has no implementation."""


class UnsupportedCipherSuite(MLSError):
    """A cipher suite id is not registered under the active code-point profile."""

    def __init__(self, suite_id: int, available: list[int] | None = None, profile: str | None = None) -> None:
        self.suite_id = suite_id
        self.available = sorted(available or [])
        where = f" in profile {profile!r}" if profile else ""
        avail = ", ".join(f"0x{s:04x}" for s in self.available)
        super().__init__(f"cipher suite 0x{suite_id:04x} is not registered{where}; available: {avail}")


class StateError(MLSError):
    """An operation is not allowed in the current state (e.g. a commit is already pending)."""


class ConcurrentModificationError(StateError):
    """A storage write lost a compare-and-swap: the stored group changed (another process or
    object wrote it) since this writer read it. Nothing was written; reload the group from
    storage (:meth:`~mls_pq.group.member.Group.load`) and retry. See :mod:`mls_pq.storage.base`."""


class CorruptStateError(StateError, DecodeError):
    """A stored or serialised state failed its integrity check or holds an inconsistent
    field. It is a :class:`StateError` (the state cannot be used) and a :class:`DecodeError`
    (the bytes are malformed)."""


class MessageLimitError(MLSError):
    """A size or count limit was exceeded."""


class ForwardDistanceError(ValidationError):
    """A PrivateMessage's generation is further ahead of its sender's ratchet than the
    configured maximum forward distance (``GroupOptions.max_skip``, RFC 9420 §9.2)."""


class PastEpochError(ValidationError):
    """A message is for an epoch older than the past epochs this member keeps
    (``GroupOptions.max_past_epochs``, RFC 9420 §9.2, §15.2), or from the future."""


class DraftValidationError(ValidationError):
    """A check required by an Internet-Draft failed (draft-ietf-mls-extensions, draft-ietf-mls-combiner).
    ``draft`` and ``section`` name the requirement; the message never holds secrets."""

    def __init__(self, message: str, section: str, draft: str = "draft-ietf-mls-extensions") -> None:
        self.draft = draft
        MLSError.__init__(self, f"{message} ({draft} §{section})")
        self.section = section


class SecretConsumedError(StateError):
    """A forward-secure secret was already consumed and deleted (draft-ietf-mls-extensions §4.4
    SafeExportSecret; RFC 9420 §9.2 deletion schedule)."""
