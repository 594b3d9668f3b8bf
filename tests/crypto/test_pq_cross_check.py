"""Cross-library check of ML-KEM: pqcrypto (PQClean) against our adapters.

* pqcrypto encapsulates to our public key; our adapter (through ``mls_pq.crypto.kem``)
  decapsulates with the seed private key.
* Reverse: pqcrypto's key generation returns expanded private keys (no seed), so only the
  direction "we encapsulate to pqcrypto's public key, pqcrypto decapsulates" is possible.
"""

from __future__ import annotations

import hashlib
import importlib
from typing import Any

import pytest

from mls_pq.crypto import kem

PARAMS = [(0x0040, "ml_kem_512"), (0x0041, "ml_kem_768"), (0x0042, "ml_kem_1024")]
ROUNDS = 4


def _pqcrypto(module: str) -> Any:
    return importlib.import_module(f"pqcrypto.kem.{module}")


@pytest.mark.parametrize("kem_id, module", PARAMS, ids=[m for _, m in PARAMS])
def test_pqcrypto_encaps_our_decap(kem_id: int, module: str) -> None:
    ours, theirs = kem(kem_id), _pqcrypto(module)
    assert (theirs.PUBLIC_KEY_SIZE, theirs.CIPHERTEXT_SIZE) == (ours.n_pk, ours.n_enc)
    for i in range(ROUNDS):
        sk, pk = ours.derive_key_pair(hashlib.sha256(b"cross %d" % i).digest())
        ct, ss = theirs.encaps(pk)
        assert ours.decap(ct, sk) == ss
        # a ciphertext for another key is implicitly rejected by ours
        other_sk, _ = ours.generate_key_pair()
        assert ours.decap(ct, other_sk) != ss


@pytest.mark.parametrize("kem_id, module", PARAMS, ids=[m for _, m in PARAMS])
def test_our_encap_pqcrypto_decaps(kem_id: int, module: str) -> None:
    ours, theirs = kem(kem_id), _pqcrypto(module)
    for i in range(ROUNDS):
        pk, expanded_sk = theirs.keygen()
        ours.validate_public_key(pk)
        ss, ct = ours.encap(pk)
        assert theirs.decaps(expanded_sk, ct) == ss
        # deterministic encapsulation (kyber-py) interoperates too
        ss2, ct2 = ours.encap_derand(pk, hashlib.sha256(b"m %d" % i).digest())
        assert theirs.decaps(expanded_sk, ct2) == ss2
