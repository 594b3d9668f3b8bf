"""Counting adapters: counts match the operations the RFC defines for each helper."""

from __future__ import annotations

import pytest

from mls_pq.instrument import counting_suite
from mls_pq.suites import get_suite


@pytest.mark.parametrize("sid", [0x0001, 0xF001, 0xF00B])
def test_counts_of_mls_helpers(sid: int) -> None:
    suite, c = counting_suite(get_suite(sid))
    sk, pk = suite.derive_key_pair(bytes(suite.n_h))
    assert c.snapshot() == {"kem.derive_key_pair": 1}
    c.reset()
    kem_out, ct = suite.encrypt_with_label(pk, "UpdatePathNode", b"ctx", b"path secret")
    snap = c.snapshot()
    # EncryptWithLabel = one HPKE SealBase = one Encap + key schedule + one AEAD seal (RFC 9420 §5.1.3)
    assert snap["hpke.seal"] == 1 and snap["kem.encap"] == 1 and snap["aead.seal"] == 1
    c.reset()
    assert suite.decrypt_with_label(sk, "UpdatePathNode", b"ctx", kem_out, ct) == b"path secret"
    snap = c.snapshot()
    assert snap["hpke.open"] == 1 and snap["kem.decap"] == 1 and snap["aead.open"] == 1
    c.reset()
    ssk, spk = get_suite(sid).signature.generate()
    sig = suite.sign_with_label(ssk, "L", b"x")
    assert suite.verify_with_label(spk, "L", b"x", sig)
    assert c.snapshot() == {"sign": 1, "verify": 1}
    c.reset()
    suite.derive_secret(bytes(suite.n_h), "epoch")
    assert c.snapshot() == {"kdf.expand": 1}  # DeriveSecret is one Expand (RFC 9420 §8)


def test_uninstrumented_suite_is_untouched() -> None:
    plain = get_suite(1)
    wrapped, c = counting_suite(plain)
    plain.derive_secret(bytes(32), "x")
    assert c.snapshot() == {}
    assert type(plain.kdf).__name__ != "CountingKdf"
    assert wrapped.derive_secret(bytes(32), "x") == plain.derive_secret(bytes(32), "x")
