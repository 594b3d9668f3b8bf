"""mls-pq-slhdsa: an example third-party cipher-suite plugin for mls-pq.

It adds one signature scheme and one cipher suite that uses it:

* ``SLHDSA_SHA2_128F`` — SLH-DSA-SHA2-128f (FIPS 205, "pure" SLH-DSA with the empty
  context string), served by ``pqcrypto.sign.slh_dsa_sha2_128f``. TLS SignatureScheme code
  point **0xFE01**, from the private-use range 0xFE00-0xFFFF (RFC 8446 §4.2.3). (A TLS draft,
  draft-reddy-tls-slhdsa, proposes 0x0912 for slhdsa_sha2_128f; until IANA registers a value
  this plugin stays in private use.)
* Cipher suite **0xF0A1** ``MLS_128_MLKEM768X25519_AES128GCM_SHA256_SLHDSA128F`` from the MLS
  private-use range 0xF000-0xFFFF (RFC 9420 §17.1): X-Wing KEM (0x647A), HKDF-SHA256 (0x0001),
  AES-128-GCM (0x0001), SHA-256, SLH-DSA-SHA2-128f.

mls-pq finds the plugin through the ``mls_pq.suites`` entry-point group
(``slhdsa = "mls_pq_slhdsa:register"``): :func:`register` registers the signature scheme
with :func:`mls_pq.crypto.register_signature` and returns the suite definitions.

Key encodings (FIPS 205 §9.1, Algorithm 21): the private key is the 64-byte
``SK.seed || SK.prf || PK.seed || PK.root``; the public key is the 32-byte
``PK.seed || PK.root`` (so ``public_key(sk)`` is the last 32 bytes of ``sk``; it does not
recompute ``PK.root``). Signatures are 17 088 bytes. pqcrypto signs hedged (randomised),
so signatures are not reproducible byte for byte.
"""

from __future__ import annotations

from typing import Any

from pqcrypto import InvalidSignatureError
from pqcrypto.sign import slh_dsa_sha2_128f as _slh

from mls_pq.crypto.base import SignatureScheme
from mls_pq.errors import InvalidKeyError

__all__ = ["SIGNATURE_SCHEME_ID", "SLHDSA_SHA2_128F", "SUITE_ID", "SUITE_NAME", "SlhDsa", "register"]

SIGNATURE_SCHEME_ID = 0xFE01  # TLS SignatureScheme private use (RFC 8446 §4.2.3)
SUITE_ID = 0xF0A1  # MLS cipher suite private use (RFC 9420 §17.1)
SUITE_NAME = "MLS_128_MLKEM768X25519_AES128GCM_SHA256_SLHDSA128F"


class SlhDsa(SignatureScheme):
    """Pure SLH-DSA (FIPS 205 Algorithms 22/24, empty context) over a pqcrypto module."""

    backend = "pqcrypto"

    def __init__(self, ident: int, name: str, module: Any) -> None:
        self.id = ident
        self.name = name
        self._m = module
        self.pk_size = int(module.PUBLIC_KEY_SIZE)
        self.sk_size = int(module.SECRET_KEY_SIZE)
        self.sig_size = int(module.SIGNATURE_SIZE)

    def _check_sk(self, sk: bytes) -> bytes:
        if not isinstance(sk, (bytes, bytearray)) or len(sk) != self.sk_size:
            n = len(sk) if isinstance(sk, (bytes, bytearray)) else "non-bytes"
            raise InvalidKeyError(f"{self.name}: private key must be {self.sk_size} bytes, got {n}")
        return bytes(sk)

    def generate(self) -> tuple[bytes, bytes]:
        pk, sk = self._m.keygen()  # pqcrypto returns (pk, sk)
        return bytes(sk), bytes(pk)

    def public_key(self, sk: bytes) -> bytes:
        # FIPS 205 §9.1: SK = SK.seed || SK.prf || PK.seed || PK.root, PK = PK.seed || PK.root.
        return self._check_sk(sk)[self.sk_size - self.pk_size:]

    def sign(self, sk: bytes, message: bytes) -> bytes:
        try:
            return bytes(self._m.sign(self._check_sk(sk), bytes(message)))
        except ValueError:
            raise InvalidKeyError(f"{self.name}: invalid private key") from None

    def verify(self, pk: bytes, message: bytes, signature: bytes) -> bool:
        """True iff valid; False (never an exception) for malformed keys or signatures."""
        try:
            if len(pk) != self.pk_size or len(signature) != self.sig_size:
                return False
            self._m.verify(bytes(pk), bytes(message), bytes(signature))
        except (InvalidSignatureError, ValueError, TypeError):
            return False
        return True


SLHDSA_SHA2_128F = SlhDsa(SIGNATURE_SCHEME_ID, "slhdsa_sha2_128f", _slh)


def register() -> list[dict[str, Any]]:
    """Entry point of group ``mls_pq.suites``: register the signature scheme, return the suites.

    Each definition carries the suite id and name, the HPKE KEM/KDF/AEAD ids, the MLS hash
    name, the :class:`~mls_pq.crypto.base.SignatureScheme` instance, the claimed security
    level and where it came from.
    """
    from mls_pq.crypto import register_signature

    register_signature(SLHDSA_SHA2_128F)
    return [
        {
            "id": SUITE_ID,
            "name": SUITE_NAME,
            "kem": 0x647A,  # X-Wing / MLKEM768-X25519 (draft-ietf-hpke-pq)
            "kdf": 0x0001,  # HKDF-SHA256
            "aead": 0x0001,  # AES-128-GCM
            "hash": "SHA256",
            "signature": SLHDSA_SHA2_128F,
            "security_level": 128,
            "source": "mls-pq-slhdsa example plugin",
        }
    ]
