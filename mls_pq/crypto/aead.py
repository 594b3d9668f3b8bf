"""HPKE AEADs (RFC 9180 §7.3, draft-ietf-hpke-hpke §7.3) over pyca/cryptography.

* ``AES128GCM`` (0x0001): Nk 16, Nn 12, Nt 16
* ``AES256GCM`` (0x0002): Nk 32, Nn 12, Nt 16
* ``CHACHA20POLY1305`` (0x0003): Nk 32, Nn 12, Nt 16 (RFC 8439)
* ``EXPORT_ONLY`` (0xFFFF): no Seal/Open; HPKE contexts with it only support Export.

``open`` raises :class:`mls_pq.errors.DecryptError` when the tag does not verify (the tag
comparison is done in constant time by OpenSSL). Cipher objects are deliberately *not*
cached by key: constructing one costs under a microsecond, and a process-wide cache would
keep consumed secret-tree keys alive against RFC 9420 §9.2's deletion schedule.
"""

from __future__ import annotations

from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from ..errors import CryptoError, DecryptError, UnsupportedAlgorithm
from .base import Aead

__all__ = ["AES128GCM", "AES256GCM", "CHACHA20POLY1305", "EXPORT_ONLY", "CryptographyAead", "ExportOnlyAead"]


class CryptographyAead(Aead):
    """An AEAD served by a pyca/cryptography cipher class."""

    backend = "cryptography"

    def __init__(self, ident: int, name: str, cipher_cls: Any, n_k: int) -> None:
        self.id = ident
        self.name = name
        self.n_k = n_k
        self.n_n = 12
        self.n_t = 16
        self._cipher_cls = cipher_cls

    def _get(self, key: bytes, nonce: bytes) -> Any:
        if len(key) != self.n_k:
            raise CryptoError(f"{self.name}: key must be {self.n_k} bytes")
        if len(nonce) != self.n_n:
            raise CryptoError(f"{self.name}: nonce must be {self.n_n} bytes")
        return self._cipher_cls(bytes(key))

    def seal(self, key: bytes, nonce: bytes, aad: bytes, pt: bytes) -> bytes:
        """Seal(key, nonce, aad, pt) -> ct || tag (RFC 5116)."""
        return self._get(key, nonce).encrypt(nonce, pt, aad)  # type: ignore[no-any-return]

    def open(self, key: bytes, nonce: bytes, aad: bytes, ct: bytes) -> bytes:
        """Open(key, nonce, aad, ct) -> pt, or DecryptError if not authentic."""
        cipher = self._get(key, nonce)
        if len(ct) < self.n_t:
            raise DecryptError(f"{self.name}: ciphertext shorter than the tag")
        try:
            return cipher.decrypt(nonce, ct, aad)  # type: ignore[no-any-return]
        except InvalidTag:
            raise DecryptError(f"{self.name}: authentication failed") from None


class ExportOnlyAead(Aead):
    """The export-only AEAD id 0xFFFF (RFC 9180 §5.3): Seal/Open are not available."""

    backend = "mls-pq (pure Python)"

    def __init__(self) -> None:
        self.id = 0xFFFF
        self.name = "Export-only"
        self.n_k = 0
        self.n_n = 0
        self.n_t = 0

    def seal(self, key: bytes, nonce: bytes, aad: bytes, pt: bytes) -> bytes:
        raise UnsupportedAlgorithm("the export-only AEAD (0xFFFF) cannot seal")

    def open(self, key: bytes, nonce: bytes, aad: bytes, ct: bytes) -> bytes:
        raise UnsupportedAlgorithm("the export-only AEAD (0xFFFF) cannot open")


AES128GCM = CryptographyAead(0x0001, "AES-128-GCM", AESGCM, 16)
AES256GCM = CryptographyAead(0x0002, "AES-256-GCM", AESGCM, 32)
CHACHA20POLY1305 = CryptographyAead(0x0003, "ChaCha20Poly1305", ChaCha20Poly1305, 32)
EXPORT_ONLY = ExportOnlyAead()
