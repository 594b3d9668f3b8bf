"""Reproducible vector generation: ``mls-pq vectors generate --seed S`` gives the same bytes
every time, for suites whose signatures are deterministic.

Inside :func:`seeded_randomness` every source of randomness the generators reach draws from
one DRBG seeded with ``S`` (``random.Random``; **for test vectors only, never for real keys**):

* ``os.urandom`` (path secrets, init secrets, reuse guards, GREASE values of the engine);
* the GREASE choices of :mod:`mls_pq.grease`;
* KEM key generation (``DeriveKeyPair`` from DRBG bytes) and encapsulation (``EncapDerand``
  with DRBG randomness) of the suites' KEMs;
* signature key generation (a private key of DRBG bytes, checked by deriving its public key);
* the clock: ``time.time()`` returns :data:`FIXED_TIME` (KeyPackage lifetimes are stamped
  from it; the verifier notes an expired lifetime instead of failing the case).

Signing: Ed25519 and Ed448 sign deterministically, and ECDSA (P-256/384/521) is switched to
RFC 6979 deterministic nonces inside the block (the scheme's ``sign_deterministic``), so every
suite with those signatures reproduces byte for byte; ML-DSA and SLH-DSA sign with fresh
randomness inside their libraries (cryptography's ML-DSA is hedged only), so files of those
suites differ in their signatures (and in what is derived from them) — they still verify. The primitives are patched on their instances for the duration of the
``with`` block and restored afterwards.

Hand-written: no library derandomises another library's primitives; the patching is a few
lines around the project's own primitive interfaces (:mod:`mls_pq.crypto.base`).
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from ..suites import CipherSuite

#: the encapsulation randomness lengths to probe (ML-KEM 32, X-Wing 64, MLKEM1024-P384 80,
#: MLKEM768-P256 128; DHKEM takes any ikmE length)
_ENCAP_LENGTHS = (32, 64, 80, 128)
#: the frozen clock of a seeded run: 2026-01-01T00:00:00Z
FIXED_TIME = 1_767_225_600
#: suites that reproduce byte for byte: their signature schemes are deterministic
DETERMINISTIC_SIGNATURES = ("ed25519", "ed448")


def _encap_length(kem: Any) -> int | None:
    _sk, pk = kem.generate_key_pair()
    for n in _ENCAP_LENGTHS:
        try:
            kem.encap_derand(pk, bytes(n))
            return n
        except Exception:  # noqa: BLE001 - probing: the wrong length is refused in a scheme-specific way
            continue
    return None


def _private_key(sig: Any, drbg: random.Random) -> tuple[bytes, bytes] | None:
    """A (private, public) key pair from DRBG bytes if the scheme's private key is plain
    random bytes (EdDSA seeds, ML-DSA seeds, ECDSA scalars); None otherwise."""
    n = int(getattr(sig, "sk_size", 0) or 0)
    if n <= 0:
        return None
    state = drbg.getstate()
    for _ in range(8):  # an ECDSA scalar >= the group order is refused: draw again
        sk = bytearray(drbg.randbytes(n))
        if n == 66:  # P-521: 521-bit scalars in 66 octets
            sk[0] &= 0x01
        try:
            return bytes(sk), sig.public_key(bytes(sk))
        except Exception:  # noqa: BLE001 - not a valid private key of this scheme
            continue
    drbg.setstate(state)
    return None


@contextmanager
def seeded_randomness(seed: int, suites: Iterable[CipherSuite]) -> Iterator[random.Random]:
    """Within the block, the randomness of the generators and of ``suites``' KEMs and
    signature key generation comes from a DRBG seeded with ``seed`` (see the module doc)."""
    from .. import grease

    drbg = random.Random(f"mls-pq vectors --seed {seed}")
    patched: list[tuple[Any, str]] = []
    saved_urandom, saved_rng, saved_time = os.urandom, getattr(grease, "_RNG", None), time.time

    def patch(obj: Any, name: str, fn: Any) -> None:
        if name in vars(obj):  # already patched (a primitive shared by two suites)
            return
        setattr(obj, name, fn)
        patched.append((obj, name))

    try:
        for cs in suites:
            kem, sig = cs.kem, cs.signature
            n_ikm = int(getattr(kem, "n_sk", 32) or 32)
            length = _encap_length(kem)
            patch(kem, "generate_key_pair", lambda k=kem, n=n_ikm: k.derive_key_pair(drbg.randbytes(max(n, 32))))
            if length is not None:
                patch(kem, "encap", lambda pk, k=kem, n=length: k.encap_derand(pk, drbg.randbytes(n)))
            if _private_key(sig, random.Random(0)) is not None:
                patch(sig, "generate", lambda s=sig: _private_key(s, drbg) or type(s).generate(s))
            if hasattr(sig, "sign_deterministic"):  # ECDSA: RFC 6979 nonces
                patch(sig, "sign", sig.sign_deterministic)
        os.urandom = drbg.randbytes
        time.time = lambda: float(FIXED_TIME)
        if saved_rng is not None:
            grease._RNG = random.Random(drbg.randbytes(16))  # type: ignore[assignment]
        yield drbg
    finally:
        os.urandom = saved_urandom
        time.time = saved_time
        if saved_rng is not None:
            grease._RNG = saved_rng
        for obj, name in reversed(patched):
            delattr(obj, name)


def reproducible(cs: CipherSuite) -> bool:
    """Whether ``--seed`` makes this suite's files byte-for-byte reproducible."""
    return cs.signature.name.lower() in DETERMINISTIC_SIGNATURES or hasattr(cs.signature, "sign_deterministic")


__all__ = ["DETERMINISTIC_SIGNATURES", "FIXED_TIME", "reproducible", "seeded_randomness"]
