"""KeyPackages as a client holds and receives them (RFC 9420 §10): the private
:class:`KeyPackageBundle` kept until a Welcome arrives, and :func:`parse_key_package`,
which reads a KeyPackage however it is framed.

Both sit below the group state machine (which joins with a bundle and adds members from
parsed KeyPackages) and below :mod:`mls_pq.client` (which makes them); this module imports
only the codec and wire structs.
"""

from __future__ import annotations

from dataclasses import dataclass

from .codec import Reader, Writer
from .errors import DecodeError, MLSError
from .messages.framing_structs import MLSMessage, WireFormat
from .messages.key_package import KeyPackage
from .messages.version import PROTOCOL_VERSION_MLS10

_BUNDLE_MAGIC = b"MLSPQ-KP-BUNDLE"


@dataclass(frozen=True, repr=False)
class KeyPackageBundle:
    """A KeyPackage and its private keys (init, leaf encryption, signature). No secret in repr."""

    key_package: KeyPackage
    init_priv: bytes
    encryption_priv: bytes
    signature_priv: bytes

    def __repr__(self) -> str:
        return f"<KeyPackageBundle suite=0x{self.key_package.cipher_suite:04x}>"

    def to_bytes(self) -> bytes:
        """The bundle's private serialisation (KeyPackage and its private keys): secret, store it
        only encrypted at rest (:mod:`mls_pq.storage` does so via ``put_key_package``)."""
        w = Writer().opaque(_BUNDLE_MAGIC)
        self.key_package.encode(w)
        return w.opaque(self.init_priv).opaque(self.encryption_priv).opaque(self.signature_priv).getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> KeyPackageBundle:
        """Inverse of :meth:`to_bytes`; :class:`~mls_pq.errors.DecodeError` if malformed."""
        r = Reader(data)
        try:
            if r.opaque() != _BUNDLE_MAGIC:
                raise DecodeError("not a key package bundle")
            kp = KeyPackage.decode(r)
            out = cls(kp, r.opaque(), r.opaque(), r.opaque())
            r.done()
        except (IndexError, ValueError) as e:
            raise DecodeError(f"malformed key package bundle: {e}") from None
        return out


_MLS10 = PROTOCOL_VERSION_MLS10.to_bytes(2, "big")
_KEY_PACKAGE_WIRE_FORMAT = int(WireFormat.KEY_PACKAGE).to_bytes(2, "big")


def _framed_as_message(data: bytes) -> bool:
    """True if ``data`` reads as an MLSMessage KeyPackage rather than a raw KeyPackage:
    ``version = mls10`` then ``wire_format = mls_key_package``, or (a damaged wire format)
    a KeyPackage version ``mls10`` at offset 4, where a raw KeyPackage has its init_key's
    length (``00`` would be an empty HPKE key)."""
    return data[:2] == _MLS10 and (data[2:4] == _KEY_PACKAGE_WIRE_FORMAT or data[4:6] == _MLS10)


def parse_key_package(data: bytes | KeyPackage) -> KeyPackage:
    """A KeyPackage from MLSMessage bytes, raw KeyPackage bytes, or the object itself.

    Bytes framed like an MLSMessage KeyPackage (:func:`_framed_as_message`) that fail to
    decode as one are reported with the MLSMessage decoder's error — the real reason —
    unless they decode as a raw KeyPackage (a raw one of suite 0x0005 starts the same
    way). Reading a malformed MLSMessage again as a raw KeyPackage misaligns every field
    after the first four octets, and used to report most malformations as "unknown
    credential type" (issue 8, defect 8)."""
    if isinstance(data, KeyPackage):
        return data
    try:
        msg = MLSMessage.from_bytes(data)
    except DecodeError as as_message:
        try:
            return KeyPackage.from_bytes(data)
        except MLSError:
            if _framed_as_message(bytes(data[:6])):
                raise as_message from None
            raise
    if not isinstance(msg.body, KeyPackage):
        raise DecodeError("the MLSMessage is not a KeyPackage")
    return msg.body


__all__ = ["KeyPackageBundle", "parse_key_package"]
