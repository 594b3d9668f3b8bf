"""Classical signature schemes against Wycheproof, on EVERY backend mls-pq can use.

Files (``wycheproof/`` in the vectors folder): ``ed25519_test.json``, ``ed448_test.json``,
``ecdsa_secp{256r1_sha256,384r1_sha384,521r1_sha512}_test.json`` (DER signatures).

Backends (read from ``mls_pq/crypto/signature.py`` and the ``ts-mls-1.6`` profile of
``mls_pq/suites/registry.py``):

* Ed25519: pynacl (libsodium, ``ED25519_PYNACL``) and pyca/cryptography (OpenSSL,
  ``ED25519_CRYPTOGRAPHY``); which one serves suites depends on what is installed.
* Ed448: pyca/cryptography.
* ECDSA: pyca/cryptography (:class:`Ecdsa`) and the ts-mls profile's compressed-key-tolerant
  verifier (same library, another key parser).

One test per file and backend loops over the cases: every ``valid`` case verifies, every
``invalid`` one does not, and the group's public key passes ``validate_public_key``. A
second test per file runs every backend on every case and asserts they all decide alike
(that is what the one-verification-rule decision of issue 8 guarantees; these files have no
``acceptable`` cases, so agreement on all cases is the strongest form).
"""

from __future__ import annotations

from typing import Any

import pytest

from mls_pq.crypto.base import SignatureScheme
from mls_pq.crypto.signature import (
    ECDSA_P256_SHA256,
    ECDSA_P384_SHA384,
    ECDSA_P521_SHA512,
    ED448,
    ED25519_CRYPTOGRAPHY,
    ED25519_PYNACL,
)
from mls_pq.suites.registry import _tsmls_ecdsa_variants
from tests._vectors import load, require

WY = "wycheproof"

_TSMLS = _tsmls_ecdsa_variants()


def _backends(file_name: str) -> list[tuple[str, SignatureScheme | None]]:
    if file_name == "ed25519_test.json":
        return [("pynacl", ED25519_PYNACL), ("cryptography", ED25519_CRYPTOGRAPHY)]
    if file_name == "ed448_test.json":
        return [("cryptography", ED448)]
    std = {"256": ECDSA_P256_SHA256, "384": ECDSA_P384_SHA384, "521": ECDSA_P521_SHA512}
    for bits, scheme in std.items():
        if f"secp{bits}r1" in file_name:
            return [("cryptography", scheme), ("cryptography ts-mls variant", _TSMLS[scheme.id])]
    raise AssertionError(file_name)


FILES = (
    "ed25519_test.json",
    "ed448_test.json",
    "ecdsa_secp256r1_sha256_test.json",
    "ecdsa_secp384r1_sha384_test.json",
    "ecdsa_secp521r1_sha512_test.json",
)
PARAMS = [pytest.param(f, b, id=f"{f.removesuffix('_test.json')}-{b.replace(' ', '-')}") for f in FILES for b, _ in _backends(f)]


def _key(group: dict[str, Any]) -> bytes:
    pk = group["publicKey"]
    return bytes.fromhex(pk["pk"] if "pk" in pk else pk["uncompressed"])


def _scheme(file_name: str, backend: str) -> SignatureScheme:
    scheme = dict(_backends(file_name))[backend]
    if scheme is None:
        pytest.skip(f"{backend} is not installed")
    return scheme


@pytest.mark.parametrize(("file_name", "backend"), PARAMS)
def test_wycheproof_signature(file_name: str, backend: str, wycheproof_tally: Any) -> None:
    require(WY, file_name)
    scheme = _scheme(file_name, backend)
    tally = wycheproof_tally(file_name, backend)
    wrong: list[str] = []
    for group in load(WY, file_name)["testGroups"]:
        pk = _key(group)
        scheme.validate_public_key(pk)  # every Wycheproof verify group has a valid key
        for t in group["tests"]:
            ok = scheme.verify(pk, bytes.fromhex(t["msg"]), bytes.fromhex(t["sig"]))
            if t["result"] == "valid" and ok:
                tally.valid_ok += 1
            elif t["result"] == "invalid" and not ok:
                tally.invalid_rejected += 1
            elif t["result"] == "acceptable":  # pragma: no cover - none in these files
                if ok:
                    tally.acceptable_accepted += 1
                else:
                    tally.acceptable_rejected += 1
            else:
                wrong.append(f"tcId {t['tcId']} ({t['result']}, {t['comment']}): verify -> {ok}")
    assert not wrong, "\n".join(wrong)
    assert tally.total == load(WY, file_name)["numberOfTests"]


@pytest.mark.parametrize("file_name", [f for f in FILES if len(_backends(f)) > 1])
def test_wycheproof_signature_backends_agree(file_name: str) -> None:
    """Every backend reaches the same verdict on every case (issue 8: one rule)."""
    require(WY, file_name)
    schemes = [(b, s) for b, s in _backends(file_name) if s is not None]
    if len(schemes) < 2:
        pytest.skip("only one backend installed")
    disagreements = []
    for group in load(WY, file_name)["testGroups"]:
        pk = _key(group)
        for t in group["tests"]:
            msg, sig = bytes.fromhex(t["msg"]), bytes.fromhex(t["sig"])
            verdicts = {b: s.verify(pk, msg, sig) for b, s in schemes}
            if len(set(verdicts.values())) != 1:
                disagreements.append(f"tcId {t['tcId']}: {verdicts}")
    assert not disagreements, "\n".join(disagreements)
