"""Credentials (RFC 9420 §5.3).

``Credential`` binds an identity to a signature key. Only the two credential types defined
by RFC 9420 are decodable: a credential's body is not length-prefixed, so an unknown type
cannot be skipped and is rejected with :class:`~mls_pq.errors.DecodeError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Self

from ..codec import Reader, Struct, Writer
from ..errors import DecodeError


class CredentialType(IntEnum):
    """``enum { reserved(0), basic(1), x509(2), (65535) } CredentialType`` (RFC 9420 §5.3, §17.5)."""

    BASIC = 1
    X509 = 2


BASIC = CredentialType.BASIC
X509 = CredentialType.X509
#: the credential types this implementation can decode (RFC 9420 §5.3)
KNOWN_CREDENTIAL_TYPES = frozenset(int(t) for t in CredentialType)


@dataclass(frozen=True)
class Certificate(Struct):
    """``struct { opaque cert_data<V>; } Certificate`` (RFC 9420 §5.3)."""

    cert_data: bytes

    def encode(self, w: Writer) -> None:
        w.opaque(self.cert_data)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(r.opaque())


@dataclass(frozen=True)
class Credential(Struct):
    """``Credential`` (RFC 9420 §5.3): ``identity`` for basic, ``certificates`` for x509.

    For x509 the first certificate is the end-entity one, each later one certifies the
    previous (RFC 9420 §5.3.1); the chain is carried, not validated, here.
    """

    credential_type: int
    identity: bytes = b""
    certificates: tuple[Certificate, ...] = ()

    @classmethod
    def basic(cls, identity: bytes) -> Credential:
        """A basic credential (RFC 9420 §5.3) carrying ``identity`` (opaque octets)."""
        return cls(int(CredentialType.BASIC), identity=identity)

    @classmethod
    def x509(cls, chain: list[bytes] | tuple[bytes, ...]) -> Credential:
        """An x509 credential from DER certificates, end-entity first."""
        return cls(int(CredentialType.X509), certificates=tuple(Certificate(c) for c in chain))

    def encode(self, w: Writer) -> None:
        w.uint16(self.credential_type)
        if self.credential_type == CredentialType.BASIC:
            w.opaque(self.identity)
        elif self.credential_type == CredentialType.X509:
            w.structs(self.certificates)
        else:
            raise DecodeError(f"cannot encode unknown credential type {self.credential_type}")

    @classmethod
    def decode(cls, r: Reader) -> Self:
        t = r.uint16()
        if t == CredentialType.BASIC:
            return cls(t, identity=r.opaque())
        if t == CredentialType.X509:
            return cls(t, certificates=tuple(r.structs(Certificate)))
        raise DecodeError(f"unknown credential type {t} (RFC 9420 §5.3)")
