"""AEAD, HKDF and HMAC adapters against Wycheproof.

Files: ``aes_gcm_test.json``, ``chacha20_poly1305_test.json`` (AEAD adapters,
``mls_pq/crypto/aead.py``), ``hkdf_sha{256,384,512}_test.json`` (HKDF adapters,
``mls_pq/crypto/kdf.py``), ``hmac_sha{256,384,512}_test.json`` (the suite MAC,
``Hash.hmac`` in ``mls_pq/crypto/hash.py``, RFC 9420 §5.1). Each primitive has one backend
(pyca/cryptography for the AEADs, the standard library's OpenSSL-backed ``hmac`` for
HKDF/HMAC), and every case runs through the project's adapter, never the library directly.

Parameters the MLS adapters do not support are rejected with a typed error and counted
explicitly as "rejected: unsupported parameter", never skipped:

* AEAD: nonces other than 12 bytes (RFC 9180 §7.3 Nn = 12), AES-192 keys (no MLS/HPKE AEAD
  uses them) — ``seal`` and ``open`` must raise :class:`~mls_pq.errors.CryptoError` and
  *not* ``DecryptError`` (a parameter error, not an authentication failure).
* HMAC: truncated tags (MLS MACs are full-length: membership and confirmation tags are
  ``MAC(...)`` of Nh bytes, RFC 9420 §6.2, §8.1); the full-length comparison rejects them,
  and for ``valid`` ones the MAC's prefix is checked to equal the tag.
* HKDF: output longer than 255·Nh is ``invalid`` in Wycheproof and must raise
  ``CryptoError`` (RFC 5869 §2.3).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any

import pytest

from mls_pq.crypto.aead import AES128GCM, AES256GCM, CHACHA20POLY1305
from mls_pq.crypto.base import Aead
from mls_pq.crypto.hash import SHA256, SHA384, SHA512
from mls_pq.crypto.kdf import HKDF_SHA256, HKDF_SHA384, HKDF_SHA512
from mls_pq.errors import CryptoError, DecryptError
from tests._vectors import load, require

WY = "wycheproof"


def _h(x: str) -> bytes:
    return bytes.fromhex(x)


def _cases(file_name: str) -> tuple[list[tuple[dict[str, Any], dict[str, Any]]], int]:
    require(WY, file_name)
    data = load(WY, file_name)
    return [(g, t) for g in data["testGroups"] for t in g["tests"]], data["numberOfTests"]


def _record(tally: Any, t: dict[str, Any], accepted: bool, wrong: list[str], detail: str = "") -> None:
    if t["result"] == "valid" and accepted:
        tally.valid_ok += 1
    elif t["result"] == "invalid" and not accepted:
        tally.invalid_rejected += 1
    else:
        wrong.append(f"tcId {t['tcId']} ({t['result']}, {t['comment']}, {t['flags']}): accepted={accepted} {detail}")


# --------------------------------------------------------------------------------------
# AEAD
# --------------------------------------------------------------------------------------

AEAD_FILES = ("aes_gcm_test.json", "chacha20_poly1305_test.json")


def _aead_for(file_name: str, key: bytes) -> Aead:
    if file_name.startswith("chacha"):
        return CHACHA20POLY1305
    return {16: AES128GCM, 32: AES256GCM}.get(len(key), AES256GCM)


@pytest.mark.parametrize("file_name", AEAD_FILES)
def test_wycheproof_aead(file_name: str, wycheproof_tally: Any) -> None:
    cases, n = _cases(file_name)
    tally = wycheproof_tally(file_name, "cryptography")
    wrong: list[str] = []
    for _g, t in cases:
        key, iv, aad, msg, ct, tag = (_h(t[k]) for k in ("key", "iv", "aad", "msg", "ct", "tag"))
        aead = _aead_for(file_name, key)
        if len(key) != aead.n_k or len(iv) != aead.n_n or len(tag) != aead.n_t:
            calls: tuple[Callable[[], bytes], ...] = (
                lambda: aead.seal(key, iv, aad, msg),
                lambda: aead.open(key, iv, aad, ct + tag),
            )
            for call in calls:
                try:
                    call()
                except DecryptError:
                    wrong.append(f"tcId {t['tcId']}: unsupported parameter reported as DecryptError")
                except CryptoError:
                    continue
                else:
                    wrong.append(f"tcId {t['tcId']}: unsupported parameter accepted")
            tally.unsupported[t["result"]] = tally.unsupported.get(t["result"], 0) + 1
            continue
        try:
            pt = aead.open(key, iv, aad, ct + tag)
        except DecryptError:
            _record(tally, t, False, wrong)
            continue
        if pt != msg:
            wrong.append(f"tcId {t['tcId']}: wrong plaintext")
            continue
        sealed = aead.seal(key, iv, aad, msg)
        _record(tally, t, sealed == ct + tag, wrong, "(seal output differs)")
    assert not wrong, "\n".join(wrong)
    assert tally.total == n


# --------------------------------------------------------------------------------------
# HKDF
# --------------------------------------------------------------------------------------

HKDF = {"hkdf_sha256_test.json": HKDF_SHA256, "hkdf_sha384_test.json": HKDF_SHA384, "hkdf_sha512_test.json": HKDF_SHA512}


@pytest.mark.parametrize("file_name", sorted(HKDF))
def test_wycheproof_hkdf(file_name: str, wycheproof_tally: Any) -> None:
    cases, n = _cases(file_name)
    kdf = HKDF[file_name]
    tally = wycheproof_tally(file_name, kdf.backend)
    wrong: list[str] = []
    for _g, t in cases:
        try:
            okm = kdf.expand(kdf.extract(_h(t["salt"]), _h(t["ikm"])), _h(t["info"]), t["size"])
        except CryptoError:
            _record(tally, t, False, wrong)
            continue
        _record(tally, t, okm == _h(t["okm"]), wrong, "(wrong okm)")
    assert not wrong, "\n".join(wrong)
    assert tally.total == n


def test_hkdf_size_too_large_is_typed() -> None:
    """RFC 5869 §2.3: L <= 255*HashLen; one byte more raises CryptoError (not ValueError)."""
    for kdf in HKDF.values():
        kdf.expand(bytes(kdf.n_h), b"", 255 * kdf.n_h)
        with pytest.raises(CryptoError):
            kdf.expand(bytes(kdf.n_h), b"", 255 * kdf.n_h + 1)


# --------------------------------------------------------------------------------------
# HMAC (the suite MAC)
# --------------------------------------------------------------------------------------

HMAC = {"hmac_sha256_test.json": SHA256, "hmac_sha384_test.json": SHA384, "hmac_sha512_test.json": SHA512}


@pytest.mark.parametrize("file_name", sorted(HMAC))
def test_wycheproof_hmac(file_name: str, wycheproof_tally: Any) -> None:
    cases, n = _cases(file_name)
    h = HMAC[file_name]
    tally = wycheproof_tally(file_name, h.backend)
    wrong: list[str] = []
    for _g, t in cases:
        tag = _h(t["tag"])
        mac = h.hmac(_h(t["key"]), _h(t["msg"]))
        accepted = hmac.compare_digest(mac, tag)  # how MLS checks a MAC (full length)
        if len(tag) != h.size:
            if accepted:
                wrong.append(f"tcId {t['tcId']}: truncated tag accepted")
            if t["result"] == "valid" and mac[: len(tag)] != tag:
                wrong.append(f"tcId {t['tcId']}: MAC prefix differs from the valid truncated tag")
            tally.unsupported[t["result"]] = tally.unsupported.get(t["result"], 0) + 1
            continue
        _record(tally, t, accepted, wrong)
    assert not wrong, "\n".join(wrong)
    assert tally.total == n
