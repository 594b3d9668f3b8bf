"""The example plugin: SLH-DSA-SHA2-128f through the mls-pq SignatureScheme interface."""

from __future__ import annotations

import importlib.metadata
import tomllib
from pathlib import Path

import pytest
from mls_pq_slhdsa import SIGNATURE_SCHEME_ID, SLHDSA_SHA2_128F, SUITE_ID, register
from pqcrypto.sign import slh_dsa_sha2_128f as ref

import mls_pq.crypto as C
from mls_pq.crypto.base import SignatureScheme
from mls_pq.errors import InvalidKeyError

S = SLHDSA_SHA2_128F
PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


@pytest.fixture(scope="module")
def keys() -> tuple[bytes, bytes]:
    return S.generate()


def test_parameters() -> None:
    assert isinstance(S, SignatureScheme)
    assert (S.id, S.backend) == (0xFE01, "pqcrypto")
    assert 0xFE00 <= S.id <= 0xFFFF  # TLS SignatureScheme private use (RFC 8446 §4.2.3)
    # FIPS 205 Table 2, SLH-DSA-SHA2-128f: n = 16, pk 2n, sk 4n, sig 17088.
    assert (S.pk_size, S.sk_size, S.sig_size) == (32, 64, 17088)


def test_sign_verify(keys: tuple[bytes, bytes]) -> None:
    sk, pk = keys
    assert (len(sk), len(pk)) == (64, 32)
    assert S.public_key(sk) == pk
    msg = b"MLS 1.0 plugin test"
    sig = S.sign(sk, msg)
    assert len(sig) == S.sig_size
    assert S.verify(pk, msg, sig) is True
    ref.verify(pk, msg, sig)  # pqcrypto directly (pure mode, empty context) accepts it
    assert S.verify(pk, b"", S.sign(sk, b""))


def test_tampering_is_detected(keys: tuple[bytes, bytes]) -> None:
    sk, pk = keys
    msg = b"commit"
    sig = S.sign(sk, msg)
    for pos in (0, 16, len(sig) // 2, len(sig) - 1):
        bad = bytearray(sig)
        bad[pos] ^= 0x01
        assert S.verify(pk, msg, bytes(bad)) is False
    assert S.verify(pk, msg + b"!", sig) is False
    _, other_pk = S.generate()
    assert S.verify(other_pk, msg, sig) is False
    # a signature under a non-empty context is not a pure/empty-context signature
    assert S.verify(pk, msg, ref.sign(sk, msg, b"ctx")) is False


def test_malformed_inputs(keys: tuple[bytes, bytes]) -> None:
    sk, pk = keys
    sig = S.sign(sk, b"m")
    assert S.verify(pk[:-1], b"m", sig) is False
    assert S.verify(pk + b"\x00", b"m", sig) is False
    assert S.verify(b"", b"m", sig) is False
    assert S.verify(pk, b"m", sig[:-1]) is False
    assert S.verify(pk, b"m", sig + b"\x00") is False
    assert S.verify(pk, b"m", b"") is False
    for bad in (b"", sk[:-1], sk + b"\x00"):
        with pytest.raises(InvalidKeyError):
            S.sign(bad, b"m")
        with pytest.raises(InvalidKeyError):
            S.public_key(bad)


def test_register_returns_suite_and_registers_scheme() -> None:
    suites = list(register())
    assert len(suites) == 1
    d = suites[0]
    assert d["id"] == SUITE_ID == 0xF0A1 and 0xF000 <= d["id"] <= 0xFFFF  # RFC 9420 §17.1
    assert d["name"] == "MLS_128_MLKEM768X25519_AES128GCM_SHA256_SLHDSA128F"
    assert (d["kem"], d["kdf"], d["aead"], d["hash"]) == (0x647A, 0x0001, 0x0001, "SHA256")
    assert d["signature"] is S and d["security_level"] == 128
    assert d["source"] == "mls-pq-slhdsa example plugin"
    assert SIGNATURE_SCHEME_ID in C.signature_ids()
    assert C.get_signature(SIGNATURE_SCHEME_ID) is S


def test_entry_point_declared() -> None:
    meta = tomllib.loads(PYPROJECT.read_text())
    assert meta["project"]["name"] == "mls-pq-slhdsa"
    assert {"mls-pq", "pqcrypto>=1.0"} <= {d.split("#")[0].strip() for d in meta["project"]["dependencies"]}
    target = meta["project"]["entry-points"]["mls_pq.suites"]["slhdsa"]
    assert target == "mls_pq_slhdsa:register"
    ep = importlib.metadata.EntryPoint(name="slhdsa", value=target, group="mls_pq.suites")
    assert ep.load() is register


def test_entry_point_installed() -> None:
    eps = [e for e in importlib.metadata.entry_points(group="mls_pq.suites") if e.name == "slhdsa"]
    if not eps:
        pytest.skip("mls-pq-slhdsa is not pip-installed; entry point not in the environment")
    assert eps[0].load() is register
