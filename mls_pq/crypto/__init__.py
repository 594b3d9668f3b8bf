"""Cryptographic primitives by IANA identifier.

``get_kem(id)``, ``get_kdf(id)``, ``get_aead(id)`` and ``get_signature(id)`` return the
adapter serving a code point (``kem`` is an alias of ``get_kem``; the other short names are
taken by the submodules ``kdf``, ``aead`` and ``signature``). The tables map ids to ``module:attribute`` and import lazily so that an
unused backend (e.g. the slow pure-Python ML-KEM-512) costs nothing until used.
Providers add primitives with :func:`register_kem` and friends.
"""

from __future__ import annotations

import importlib
from typing import TypeVar

from ..errors import UnsupportedAlgorithm
from .base import Aead, Hash, Kdf, Kem, Primitive, SignatureScheme

__all__ = [
    "Aead",
    "Hash",
    "Kdf",
    "Kem",
    "SignatureScheme",
    "get_aead",
    "get_kdf",
    "get_kem",
    "get_signature",
    "kem",
    "register_aead",
    "register_kdf",
    "register_kem",
    "register_signature",
]

P = TypeVar("P", bound=Primitive)

_KEMS: dict[int, str | Kem] = {
    0x0010: "dhkem:DHKEM_P256",
    0x0011: "dhkem:DHKEM_P384",
    0x0012: "dhkem:DHKEM_P521",
    0x0020: "dhkem:DHKEM_X25519",
    0x0021: "dhkem:DHKEM_X448",
    0x0040: "mlkem:MLKEM512",
    0x0041: "mlkem:MLKEM768",
    0x0042: "mlkem:MLKEM1024",
    0x0050: "hybrid:MLKEM768_P256",
    0x0051: "hybrid:MLKEM1024_P384",
    0x647A: "hybrid:XWING",
}
_KDFS: dict[int, str | Kdf] = {
    0x0001: "kdf:HKDF_SHA256",
    0x0002: "kdf:HKDF_SHA384",
    0x0003: "kdf:HKDF_SHA512",
    0x0010: "kdf:SHAKE128",
    0x0011: "kdf:SHAKE256",
    0x0012: "kdf:TURBOSHAKE128",
    0x0013: "kdf:TURBOSHAKE256",
}
_AEADS: dict[int, str | Aead] = {
    0x0001: "aead:AES128GCM",
    0x0002: "aead:AES256GCM",
    0x0003: "aead:CHACHA20POLY1305",
    0xFFFF: "aead:EXPORT_ONLY",
}
_SIGS: dict[int, str | SignatureScheme] = {
    0x0403: "signature:ECDSA_P256_SHA256",
    0x0503: "signature:ECDSA_P384_SHA384",
    0x0603: "signature:ECDSA_P521_SHA512",
    0x0807: "signature:ED25519",
    0x0808: "signature:ED448",
    0x0904: "signature:MLDSA44",
    0x0905: "signature:MLDSA65",
    0x0906: "signature:MLDSA87",
}


def _resolve(table: dict[int, str | P], ident: int, kind: str) -> P:
    try:
        entry = table[ident]
    except KeyError:
        known = ", ".join(f"0x{k:04x}" for k in sorted(table))
        raise UnsupportedAlgorithm(f"no {kind} with id 0x{ident:04x}; known: {known}") from None
    if isinstance(entry, str):
        mod, attr = entry.split(":")
        obj = getattr(importlib.import_module(f"{__name__}.{mod}"), attr)
        table[ident] = obj
        return obj  # type: ignore[no-any-return]
    return entry


def get_kem(ident: int) -> Kem:
    return _resolve(_KEMS, ident, "KEM")


def get_kdf(ident: int) -> Kdf:
    return _resolve(_KDFS, ident, "KDF")


def get_aead(ident: int) -> Aead:
    return _resolve(_AEADS, ident, "AEAD")


def get_signature(ident: int) -> SignatureScheme:
    return _resolve(_SIGS, ident, "signature scheme")


kem = get_kem


def register_kem(obj: Kem) -> None:
    _KEMS[obj.id] = obj


def register_kdf(obj: Kdf) -> None:
    _KDFS[obj.id] = obj


def register_aead(obj: Aead) -> None:
    _AEADS[obj.id] = obj


def register_signature(obj: SignatureScheme) -> None:
    _SIGS[obj.id] = obj


def kem_ids() -> list[int]:
    return sorted(_KEMS)


def signature_ids() -> list[int]:
    return sorted(_SIGS)
