"""HPKE (mls_pq.crypto.hpke) against the RFC 9180 vectors (all 128 cases) and the text vectors
of draft-ietf-hpke-hpke's appendix (including its edge cases), plus negative tests."""

from __future__ import annotations

import re
from typing import Any

import pytest

from mls_pq.crypto import get_aead, get_kem
from mls_pq.crypto.dhkem import DHKEM, DHKEM_X25519
from mls_pq.crypto.hpke import ContextR, ContextS, Hpke, Mode, hpke
from mls_pq.crypto.kdf import labeled_extract
from mls_pq.errors import (
    CryptoError,
    DecryptError,
    InvalidKeyError,
    MessageLimitError,
    UnsupportedAlgorithm,
)
from tests import _vectors

H = bytes.fromhex


def _ident(_: int, c: dict[str, Any]) -> str:
    return f"mode{c['mode']}-kem{c['kem_id']:04x}-kdf{c['kdf_id']:04x}-aead{c['aead_id']:04x}"


RFC9180 = _vectors.cases("rfc9180-hpke", "test-vectors.json", ident=_ident)


# -- the draft-ietf-hpke-hpke appendix (markdown) --------------------------------------------
APPENDIX = ("hpke-hpke-draft", "draft-ietf-hpke-hpke-appendix-test-vectors.md")
_KEY = re.compile(r"^([A-Za-z_][A-Za-z_ ()=0-9]*):\s*(.*)$")


def _records(block: list[str]) -> list[dict[str, str]]:
    """Parse one ~~~ block: blank-line separated records of `key: hex` with hex continuation lines."""
    out: list[dict[str, str]] = []
    cur: dict[str, str] = {}
    last = ""
    for line in block + [""]:
        line = line.strip()
        if not line:
            if cur:
                out.append(cur)
            cur, last = {}, ""
            continue
        m = _KEY.match(line)
        if m:
            last = m.group(1)
            cur[last] = m.group(2).strip()
        else:
            cur[last] += line
    return out


def parse_appendix(text: str) -> list[dict[str, Any]]:
    """Every '### ... Setup Information' of the appendix as a dict shaped like the JSON vectors."""
    cases: list[dict[str, Any]] = []
    suite = ""
    current: dict[str, Any] | None = None
    section = ""
    block: list[str] | None = None
    for line in text.splitlines():
        if block is not None:
            if line.startswith("~~~"):
                recs = _records(block)
                block = None
                assert current is not None
                if section == "setup":
                    current.update(recs[0])
                elif section == "enc":
                    current["encryptions"] = recs
                elif section == "exp":
                    current["exports"] = recs
            else:
                block.append(line)
            continue
        if line.startswith("~~~"):
            block = []
        elif line.startswith("#### Encryptions"):
            section = "enc"
        elif line.startswith("#### Exported"):
            section = "exp"
        elif line.startswith("### "):
            current = {"title": f"{suite} / {line[4:].strip()}", "encryptions": [], "exports": []}
            cases.append(current)
            section = "setup"
        elif line.startswith("## "):
            suite = line[3:].strip()
    for c in cases:
        for k in ("mode", "kem_id", "kdf_id", "aead_id"):
            c[k] = int(c[k])
    return cases


def appendix_cases() -> list[Any]:
    p = _vectors.path(*APPENDIX)
    if not p.exists():
        return [_vectors._missing(p)]
    cases = parse_appendix(p.read_text())
    return [pytest.param(c, id=re.sub(r"[^A-Za-z0-9]+", "-", c["title"]).strip("-")) for c in cases]


# -- vector checks -----------------------------------------------------------------------------
def _check_case(c: dict[str, Any]) -> None:
    mode = c["mode"]
    suite = hpke(c["kem_id"], c["kdf_id"], c["aead_id"])
    kem = suite.kem
    info = H(c["info"])
    psk, psk_id = H(c.get("psk", "")), H(c.get("psk_id", ""))

    # DeriveKeyPair (RFC 9180 §7.1.3) for every key pair listed
    assert kem.derive_key_pair(H(c["ikmR"])) == (H(c["skRm"]), H(c["pkRm"]))
    if "skEm" in c:
        assert kem.derive_key_pair(H(c["ikmE"])) == (H(c["skEm"]), H(c["pkEm"]))
    sk_s = pk_s = None
    if mode in (Mode.AUTH, Mode.AUTH_PSK):
        sk_s, pk_s = H(c["skSm"]), H(c["pkSm"])
        assert kem.derive_key_pair(H(c["ikmS"])) == (sk_s, pk_s)
        assert kem.public_key(sk_s) == pk_s

    # deterministic encapsulation + key schedule (sender)
    enc, ctx_s = suite.setup_s(mode, H(c["pkRm"]), info, psk, psk_id, sk_s, ikm_e=H(c["ikmE"]))
    assert enc == H(c["enc"])
    key, base_nonce, exporter_secret = suite.combine_secrets(mode, H(c["shared_secret"]), info, psk, psk_id)
    assert (key, base_nonce, exporter_secret) == (H(c["key"]), H(c["base_nonce"]), H(c["exporter_secret"]))
    if "key_schedule_context" in c:  # the two-stage intermediate values
        sid = suite.suite_id
        ksc = bytes([mode]) + labeled_extract(suite.kdf, sid, b"", b"psk_id_hash", psk_id) + labeled_extract(
            suite.kdf, sid, b"", b"info_hash", info)
        assert ksc == H(c["key_schedule_context"])
        assert labeled_extract(suite.kdf, sid, H(c["shared_secret"]), b"secret", psk) == H(c["secret"])

    # recipient side: Decap / AuthDecap
    ctx_r = suite.setup_r(mode, enc, H(c["skRm"]), info, psk, psk_id, pk_s)
    if mode in (Mode.AUTH, Mode.AUTH_PSK):
        assert pk_s is not None
        assert kem.auth_decap(enc, H(c["skRm"]), pk_s) == H(c["shared_secret"])
    else:
        assert kem.decap(enc, H(c["skRm"])) == H(c["shared_secret"])

    # encryptions: sequential in the JSON; the appendix lists chosen sequence numbers
    for i, e in enumerate(c["encryptions"]):
        seq = int(e.get("sequence number", i))
        aad, pt, ct = H(e["aad"]), H(e["pt"]), H(e["ct"])
        if seq == ctx_s.seq:
            s, r = ctx_s, ctx_r
        else:
            s = ContextS(suite, key, base_nonce, seq, exporter_secret)
            r = ContextR(suite, key, base_nonce, seq, exporter_secret)
        nonce = bytes(a ^ b for a, b in zip(base_nonce, seq.to_bytes(len(base_nonce), "big"), strict=True))
        assert nonce == H(e["nonce"])
        assert s.seal(aad, pt) == ct
        assert r.open(aad, ct) == pt
        assert s.seq == r.seq == seq + 1

    # exports from both contexts
    for e in c["exports"]:
        ec, n = H(e["exporter_context"]), int(e["L"])
        assert ctx_s.export(ec, n) == H(e["exported_value"])
        assert ctx_r.export(ec, n) == H(e["exported_value"])

    if suite.aead.id == 0xFFFF:
        with pytest.raises(UnsupportedAlgorithm):
            ctx_s.seal(b"", b"x")
        with pytest.raises(UnsupportedAlgorithm):
            ctx_r.open(b"", b"x" * 16)


@pytest.mark.parametrize("case", RFC9180)
def test_rfc9180_vector(case: dict[str, Any]) -> None:
    _check_case(case)


@pytest.mark.parametrize("case", appendix_cases())
def test_hpke_draft_appendix_vector(case: dict[str, Any]) -> None:
    _check_case(case)


def test_appendix_parser_found_every_section() -> None:
    p = _vectors.path(*APPENDIX)
    if not p.exists():
        pytest.skip("appendix vectors missing")
    cases = parse_appendix(p.read_text())
    assert len(cases) == 14 + 5
    assert sum(len(c["encryptions"]) for c in cases) > 60
    assert all(c["exports"] for c in cases)


# -- negative and API tests ----------------------------------------------------------------------
SUITE = hpke(0x0020, 0x0001, 0x0001)


def _pair(suite: Hpke = SUITE) -> tuple[bytes, bytes]:
    return suite.kem.generate_key_pair()


def test_single_shot_roundtrip_all_modes() -> None:
    sk_r, pk_r = _pair()
    sk_s, pk_s = _pair()
    psk, psk_id = b"p" * 32, b"id"
    for kw_s, kw_r in [
        ({}, {}),
        ({"psk": psk, "psk_id": psk_id}, {"psk": psk, "psk_id": psk_id}),
        ({"sk_s": sk_s}, {"pk_s": pk_s}),
        ({"psk": psk, "psk_id": psk_id, "sk_s": sk_s}, {"psk": psk, "psk_id": psk_id, "pk_s": pk_s}),
    ]:
        enc, ct = SUITE.seal(pk_r, b"info", b"aad", b"hello", **kw_s)
        assert SUITE.open(enc, sk_r, b"info", b"aad", ct, **kw_r) == b"hello"
        enc, exported = SUITE.send_export(pk_r, b"info", b"ctx", 42, **kw_s)
        assert SUITE.receive_export(enc, sk_r, b"info", b"ctx", 42, **kw_r) == exported
        assert len(exported) == 42


def test_named_setups_agree() -> None:
    sk_r, pk_r = _pair()
    sk_s, pk_s = _pair()
    enc, s = SUITE.setup_auth_psk_s(pk_r, b"i", b"k" * 32, b"id", sk_s)
    r = SUITE.setup_auth_psk_r(enc, sk_r, b"i", b"k" * 32, b"id", pk_s)
    assert r.open(b"", s.seal(b"", b"m")) == b"m"
    enc, s = SUITE.setup_auth_s(pk_r, b"i", sk_s)
    # wrong sender key -> different shared secret -> authentication failure
    other_pk = _pair()[1]
    r = SUITE.setup_auth_r(enc, sk_r, b"i", other_pk)
    with pytest.raises(DecryptError):
        r.open(b"", s.seal(b"", b"m"))


def test_tampered_ciphertext_raises_decrypt_error_and_keeps_seq() -> None:
    sk_r, pk_r = _pair()
    enc, s = SUITE.setup_base_s(pk_r, b"info")
    r = SUITE.setup_base_r(enc, sk_r, b"info")
    ct = s.seal(b"aad", b"secret message")
    for bad_ct, aad in [
        (bytes([ct[0] ^ 1]) + ct[1:], b"aad"),
        (ct[:-1] + bytes([ct[-1] ^ 0x80]), b"aad"),
        (ct, b"aad2"),
        (ct[:10], b"aad"),
        (b"", b"aad"),
    ]:
        with pytest.raises(DecryptError):
            r.open(aad, bad_ct)
        assert r.seq == 0
    assert r.open(b"aad", ct) == b"secret message"
    # replaying the same ciphertext at seq 1 fails: the nonce moved on
    with pytest.raises(DecryptError):
        r.open(b"aad", ct)


def test_wrong_info_or_psk_fails_to_open() -> None:
    sk_r, pk_r = _pair()
    enc, ct = SUITE.seal(pk_r, b"info", b"", b"m", psk=b"k" * 32, psk_id=b"a")
    with pytest.raises(DecryptError):
        SUITE.open(enc, sk_r, b"other", b"", ct, psk=b"k" * 32, psk_id=b"a")
    with pytest.raises(DecryptError):
        SUITE.open(enc, sk_r, b"info", b"", ct, psk=b"j" * 32, psk_id=b"a")
    with pytest.raises(DecryptError):
        SUITE.open(enc, sk_r, b"info", b"", ct, psk=b"k" * 32, psk_id=b"b")


@pytest.mark.parametrize("kem_id", [0x10, 0x11, 0x12, 0x20, 0x21])
def test_invalid_public_keys_are_rejected(kem_id: int) -> None:
    suite = hpke(kem_id, 0x0001, 0x0001)
    sk_r, pk_r = _pair(suite)
    for bad in (pk_r[:-1], pk_r + b"\x00", b""):
        with pytest.raises(InvalidKeyError):
            suite.setup_base_s(bad, b"")
        with pytest.raises(InvalidKeyError):
            suite.setup_base_r(bad, sk_r, b"")


def test_sequence_number_overflow() -> None:
    """RFC 9180 §5.2: Seal/Open must fail once seq would overflow (Nn = 12 bytes)."""
    key, nonce, exp = b"k" * 16, b"n" * 12, b"e" * 32
    last = (1 << 96) - 2
    s = ContextS(SUITE, key, nonce, last, exp)
    r = ContextR(SUITE, key, nonce, last, exp)
    ct = s.seal(b"", b"last message")
    expected_nonce = bytes(a ^ b for a, b in zip(nonce, last.to_bytes(12, "big"), strict=True))
    assert ct == get_aead(1).seal(key, expected_nonce, b"", b"last message")
    assert r.open(b"", ct) == b"last message"
    assert s.seq == r.seq == (1 << 96) - 1
    with pytest.raises(MessageLimitError):
        s.seal(b"", b"one too many")
    with pytest.raises(MessageLimitError):
        r.open(b"", ct)
    assert s.seq == (1 << 96) - 1


@pytest.mark.parametrize(
    "mode,psk,psk_id",
    [(Mode.BASE, b"k" * 32, b"id"), (Mode.PSK, b"", b""), (Mode.PSK, b"k" * 32, b""), (Mode.PSK, b"", b"id"),
     (Mode.BASE, b"", b"id")],
)
def test_verify_psk_inputs(mode: Mode, psk: bytes, psk_id: bytes) -> None:
    with pytest.raises(CryptoError):
        SUITE.combine_secrets(mode, b"s" * 32, b"", psk, psk_id)
    _, pk_r = _pair()
    with pytest.raises(CryptoError):
        SUITE.setup_s(mode, pk_r, b"", psk, psk_id)


def test_auth_key_arguments_must_match_mode() -> None:
    sk_r, pk_r = _pair()
    sk_s, pk_s = _pair()
    with pytest.raises(CryptoError):
        SUITE.setup_s(Mode.AUTH, pk_r, b"")
    with pytest.raises(CryptoError):
        SUITE.setup_s(Mode.BASE, pk_r, b"", sk_s=sk_s)
    enc, _ = SUITE.setup_base_s(pk_r)
    with pytest.raises(CryptoError):
        SUITE.setup_r(Mode.AUTH, enc, sk_r, b"")
    with pytest.raises(CryptoError):
        SUITE.setup_r(Mode.BASE, enc, sk_r, b"", pk_s=pk_s)


class _NoAuthKem(DHKEM):
    supports_auth = False


def test_auth_modes_need_an_auth_kem() -> None:
    k = DHKEM_X25519
    no_auth = _NoAuthKem(k.id, k.name, k.group, k.kdf, k.n_secret, 0xFF)
    suite = Hpke(no_auth, SUITE.kdf, SUITE.aead)
    sk_r, pk_r = _pair()
    sk_s, _ = _pair()
    with pytest.raises(UnsupportedAlgorithm):
        suite.setup_auth_s(pk_r, b"", sk_s)
    # base mode still works and interoperates with the ordinary suite
    enc, ct = suite.seal(pk_r, b"", b"", b"x")
    assert SUITE.open(enc, sk_r, b"", b"", ct) == b"x"


def test_context_repr_hides_secrets() -> None:
    key, nonce, exp = H("4531685d41d65f03dc48f6b8302c05b0"), H("56d890e5accaaf011cff4b7d"), b"\xab" * 32
    for ctx in (ContextS(SUITE, key, nonce, 0, exp), ContextR(SUITE, key, nonce, 0, exp)):
        text = repr(ctx) + str(ctx)
        for secret in (key, nonce, exp):
            assert secret.hex() not in text.lower()
            assert repr(secret) not in text
        assert "seq=0" in text
        assert not hasattr(ctx, "__dict__")


def test_export_length_limits() -> None:
    _, pk_r = _pair()
    _, s = SUITE.setup_base_s(pk_r)
    assert len(s.export(b"", 255 * 32)) == 255 * 32
    with pytest.raises(CryptoError):
        s.export(b"", 255 * 32 + 1)
    one_stage = hpke(0x0020, 0x0011, 0x0001)
    _, s1 = one_stage.setup_base_s(pk_r)
    assert len(s1.export(b"", 1000)) == 1000
    with pytest.raises(CryptoError):
        s1.export(b"", 0x10000)


def test_one_stage_psk_and_info_length_limit() -> None:
    one_stage = hpke(0x0020, 0x0010, 0x0001)
    with pytest.raises(CryptoError):
        one_stage.combine_secrets(Mode.BASE, b"s" * 32, b"i" * 0x10000)
    assert one_stage.combine_secrets(Mode.BASE, b"s" * 32, b"i" * 0xFFFF)[0]


def test_suite_metadata() -> None:
    s = hpke(0x0010, 0x0001, 0x0003)
    assert s.suite_id == b"HPKE\x00\x10\x00\x01\x00\x03"
    assert s is Hpke.from_ids(0x0010, 0x0001, 0x0003)
    assert s.kem is get_kem(0x0010)
    assert "P-256" in repr(s)
