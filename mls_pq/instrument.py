"""Counting adapters: how many primitive operations a protocol operation performs.

:func:`counting_suite` wraps every primitive of a :class:`~mls_pq.suites.CipherSuite` (KEM,
KDF, AEAD, hash/HMAC, signature, and the HPKE layer on top) in adapters that add one to an
:class:`OpCounter` per call and then delegate. Uninstrumented suites pay nothing: counting
exists only on the wrapped copy. The benchmark multiplies these counts by measured unit
times to get the crypto floor of an operation.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .crypto.base import Aead, Hash, Kdf, Kem, SignatureScheme
from .suites import CipherSuite


class OpCounter:
    """Counts of primitive operations by name, e.g. ``{"kem.encap": 3, "sign": 1}``."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.enabled = True

    def add(self, name: str) -> None:
        if self.enabled:
            self.counts[name] += 1

    def reset(self) -> None:
        self.counts.clear()

    @contextmanager
    def paused(self) -> Iterator[None]:
        prev, self.enabled = self.enabled, False
        try:
            yield
        finally:
            self.enabled = prev

    def snapshot(self) -> dict[str, int]:
        return dict(self.counts)


def _copy_fields(dst: Any, src: Any, names: tuple[str, ...]) -> None:
    for n in names:
        if hasattr(src, n):
            setattr(dst, n, getattr(src, n))


class CountingKem(Kem):
    def __init__(self, inner: Kem, counter: OpCounter) -> None:
        self.inner, self.counter = inner, counter
        _copy_fields(self, inner, ("id", "name", "backend", "n_secret", "n_enc", "n_pk", "n_sk", "supports_auth"))

    def derive_key_pair(self, ikm: bytes) -> tuple[bytes, bytes]:
        self.counter.add("kem.derive_key_pair")
        return self.inner.derive_key_pair(ikm)

    def generate_key_pair(self) -> tuple[bytes, bytes]:
        self.counter.add("kem.generate_key_pair")
        return self.inner.generate_key_pair()

    def public_key(self, sk: bytes) -> bytes:
        self.counter.add("kem.public_key")
        return self.inner.public_key(sk)

    def encap(self, pk: bytes) -> tuple[bytes, bytes]:
        self.counter.add("kem.encap")
        return self.inner.encap(pk)

    def encap_derand(self, pk: bytes, randomness: bytes) -> tuple[bytes, bytes]:
        self.counter.add("kem.encap")
        return self.inner.encap_derand(pk, randomness)

    def decap(self, enc: bytes, sk: bytes) -> bytes:
        self.counter.add("kem.decap")
        return self.inner.decap(enc, sk)

    def auth_encap(self, pk: bytes, sk_s: bytes) -> tuple[bytes, bytes]:
        self.counter.add("kem.auth_encap")
        return self.inner.auth_encap(pk, sk_s)

    def auth_decap(self, enc: bytes, sk: bytes, pk_s: bytes) -> bytes:
        self.counter.add("kem.auth_decap")
        return self.inner.auth_decap(enc, sk, pk_s)

    def validate_public_key(self, pk: bytes) -> None:
        self.inner.validate_public_key(pk)


class CountingKdf(Kdf):
    def __init__(self, inner: Kdf, counter: OpCounter) -> None:
        self.inner, self.counter = inner, counter
        _copy_fields(self, inner, ("id", "name", "backend", "n_h", "two_stage"))

    def extract(self, salt: bytes, ikm: bytes) -> bytes:
        self.counter.add("kdf.extract")
        return self.inner.extract(salt, ikm)

    def expand(self, prk: bytes, info: bytes, length: int) -> bytes:
        self.counter.add("kdf.expand")
        return self.inner.expand(prk, info, length)

    def derive(self, ikm: bytes, length: int) -> bytes:
        self.counter.add("kdf.derive")
        return self.inner.derive(ikm, length)


class CountingAead(Aead):
    def __init__(self, inner: Aead, counter: OpCounter) -> None:
        self.inner, self.counter = inner, counter
        _copy_fields(self, inner, ("id", "name", "backend", "n_k", "n_n", "n_t"))

    def seal(self, key: bytes, nonce: bytes, aad: bytes, pt: bytes) -> bytes:
        self.counter.add("aead.seal")
        return self.inner.seal(key, nonce, aad, pt)

    def open(self, key: bytes, nonce: bytes, aad: bytes, ct: bytes) -> bytes:
        self.counter.add("aead.open")
        return self.inner.open(key, nonce, aad, ct)


class CountingHash(Hash):
    def __init__(self, inner: Hash, counter: OpCounter) -> None:
        self.inner, self.counter = inner, counter
        self.name, self.size, self.backend = inner.name, inner.size, inner.backend

    def digest(self, data: bytes) -> bytes:
        self.counter.add("hash")
        return self.inner.digest(data)

    def hmac(self, key: bytes, data: bytes) -> bytes:
        self.counter.add("mac")
        return self.inner.hmac(key, data)


class CountingSignature(SignatureScheme):
    def __init__(self, inner: SignatureScheme, counter: OpCounter) -> None:
        self.inner, self.counter = inner, counter
        _copy_fields(self, inner, ("id", "name", "backend", "pk_size", "sig_size", "sk_size"))

    def generate(self) -> tuple[bytes, bytes]:
        self.counter.add("sig.generate")
        return self.inner.generate()

    def public_key(self, sk: bytes) -> bytes:
        self.counter.add("sig.public_key")
        return self.inner.public_key(sk)

    def sign(self, sk: bytes, message: bytes) -> bytes:
        self.counter.add("sign")
        return self.inner.sign(sk, message)

    def verify(self, pk: bytes, message: bytes, signature: bytes) -> bool:
        self.counter.add("verify")
        return self.inner.verify(pk, message, signature)


class _CountingHpke:
    """Counts HPKE single-shot seal/open (the KEM and AEAD calls inside are counted too)."""

    def __init__(self, inner: Any, counter: OpCounter) -> None:
        self._inner, self._counter = inner, counter

    def seal_base(self, pk_r: bytes, info: bytes, aad: bytes, pt: bytes) -> tuple[bytes, bytes]:
        self._counter.add("hpke.seal")
        return self._inner.seal_base(pk_r, info, aad, pt)  # type: ignore[no-any-return]

    def open_base(self, enc: bytes, sk_r: bytes, info: bytes, aad: bytes, ct: bytes) -> bytes:
        self._counter.add("hpke.open")
        return self._inner.open_base(enc, sk_r, info, aad, ct)  # type: ignore[no-any-return]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def counting_suite(suite: CipherSuite, counter: OpCounter | None = None) -> tuple[CipherSuite, OpCounter]:
    """A copy of ``suite`` whose every primitive call is counted in ``counter``."""
    c = counter or OpCounter()
    wrapped = suite.with_primitives(
        kem=CountingKem(suite.kem, c),
        kdf=CountingKdf(suite.kdf, c),
        aead=CountingAead(suite.aead, c),
        hash=CountingHash(suite.hash, c),
        signature=CountingSignature(suite.signature, c),
        hpke_kdf=CountingKdf(suite.hpke_kdf, c) if suite.hpke_kdf is not None else None,
    )
    from .crypto.hpke import Hpke

    inner_hpke = Hpke(wrapped.kem, wrapped.hpke_kdf or wrapped.kdf, wrapped.aead)
    # CipherSuite.hpke is a cached_property: seed the cache of the copy with the counting HPKE
    wrapped.__dict__["hpke"] = _CountingHpke(inner_hpke, c)
    return wrapped, c
