"""The ``external_senders`` GroupContext extension (RFC 9420 §12.1.8.1): the
``ExternalSender`` struct and the extension's encoding and decoding.

Which external senders may propose what, and the credential checks of a changed list, are
the group's rules (:mod:`mls_pq.group.validation`, :mod:`mls_pq.group.external`); this
module only reads and writes the wire form.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Self

from ..codec import Reader, Struct, Writer
from ..errors import DecodeError
from ..extensions import EXTERNAL_SENDERS, Extension
from .credential import Credential


@dataclass(frozen=True)
class ExternalSender(Struct):
    """``struct { SignaturePublicKey signature_key; Credential credential; } ExternalSender``."""

    signature_key: bytes
    credential: Credential

    def encode(self, w: Writer) -> None:
        w.opaque(self.signature_key)
        self.credential.encode(w)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(r.opaque(), Credential.decode(r))


def external_senders_extension(senders: Sequence[ExternalSender]) -> Extension:
    """``ExternalSender external_senders<V>`` as a GroupContext extension (§12.1.8.1)."""
    return Extension(EXTERNAL_SENDERS, Writer().structs(senders).getvalue())


def parse_external_senders(ext: Extension | None) -> list[ExternalSender]:
    """The senders of an ``external_senders`` extension (none for ``None``); DecodeError if malformed."""
    if ext is None:
        return []
    r = Reader(ext.extension_data)
    try:
        out = r.structs(ExternalSender)
        r.done()
    except (IndexError, ValueError) as e:
        raise DecodeError(f"malformed external_senders: {e}") from None
    return out


__all__ = ["ExternalSender", "external_senders_extension", "parse_external_senders"]
