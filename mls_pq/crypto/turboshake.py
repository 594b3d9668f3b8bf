"""TurboSHAKE128 and TurboSHAKE256 (RFC 9861 §2), backed by pycryptodome.

Used by the one-stage HPKE KDFs TurboSHAKE128 (0x0012) and TurboSHAKE256 (0x0013) with the
domain separation byte ``D = 0x1F`` (draft-ietf-hpke-pq §5). Neither ``hashlib`` nor
pyca/cryptography provides TurboSHAKE; pycryptodome (``Crypto.Hash.TurboSHAKE128/256``,
since 3.21) does, in C. An earlier hand-written pure-Python sponge was replaced by it: the
library is maintained, passes RFC 9861 §5's vectors (``tests/crypto/test_turboshake.py``)
and is about 40 times faster.
"""

from __future__ import annotations

from Crypto.Hash import TurboSHAKE128 as _T128
from Crypto.Hash import TurboSHAKE256 as _T256

from ..errors import CryptoError

__all__ = ["BACKEND", "turboshake128", "turboshake256"]

#: the library computing TurboSHAKE (shown by ``mls-pq suites`` through the KDF adapters)
BACKEND = "pycryptodome"


def _check(length: int, domain: int) -> None:
    if length < 0:
        raise CryptoError("TurboSHAKE: negative output length")
    if not 0x01 <= domain <= 0x7F:  # RFC 9861 §2.2: D in 0x01..0x7F
        raise CryptoError("TurboSHAKE: the domain separation byte must be in 0x01..0x7F")


def turboshake128(message: bytes, length: int, domain: int = 0x1F) -> bytes:
    """TurboSHAKE128(M, D, L) (RFC 9861 §2.2): rate 168 bytes, 12 rounds."""
    _check(length, domain)
    return bytes(_T128.new(domain=domain, data=message).read(length))


def turboshake256(message: bytes, length: int, domain: int = 0x1F) -> bytes:
    """TurboSHAKE256(M, D, L) (RFC 9861 §2.2): rate 136 bytes, 12 rounds."""
    _check(length, domain)
    return bytes(_T256.new(domain=domain, data=message).read(length))
