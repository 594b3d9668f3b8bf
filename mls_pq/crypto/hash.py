"""Hash functions used by MLS (RFC 9420 §5.1): SHA-256/384/512 from hashlib."""

from __future__ import annotations

import hashlib
import hmac as _hmac

from .base import Hash


class _HashlibHash(Hash):
    def __init__(self, name: str, algo: str, size: int) -> None:
        self.name = name
        self._algo = algo
        self.size = size
        self._ctor = getattr(hashlib, algo)

    def digest(self, data: bytes) -> bytes:
        return self._ctor(data).digest()  # type: ignore[no-any-return]

    def hmac(self, key: bytes, data: bytes) -> bytes:
        return _hmac.digest(key, data, self._algo)

    def __repr__(self) -> str:
        return f"<Hash {self.name}>"


SHA256 = _HashlibHash("SHA256", "sha256", 32)
SHA384 = _HashlibHash("SHA384", "sha384", 48)
SHA512 = _HashlibHash("SHA512", "sha512", 64)

BY_NAME: dict[str, Hash] = {h.name: h for h in (SHA256, SHA384, SHA512)}
