"""The project's own PQ-suite vectors (``vectors/pq``): every case verifies, and tampering is caught."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mls_pq.vectors import infer_kind, verify_case

PQ_DIR = Path(__file__).resolve().parents[2] / "vectors" / "pq"
FILES = sorted(PQ_DIR.glob("*.json"))


def _cases() -> list[Any]:
    out = []
    for f in FILES:
        kind = infer_kind(f)
        for i, case in enumerate(json.loads(f.read_text())):
            out.append(pytest.param(kind, case, id=f"{f.stem}-{i}-suite0x{case.get('cipher_suite', 0):04x}"))
    return out


def test_pq_vector_set_is_present() -> None:
    kinds = {infer_kind(f) for f in FILES}
    assert {
        "crypto-basics",
        "secret-tree",
        "key-schedule",
        "psk-secret",
        "message-protection",
        "transcript-hashes",
        "welcome",
        "tree-validation",
        "treekem",
        "tree-operations",
        "passive-client-welcome",
        "passive-client-handling-commit",
        "passive-client-random",
    } <= kinds
    suites = {c["cipher_suite"] for f in FILES for c in json.loads(f.read_text()) if "cipher_suite" in c}
    assert suites == set(range(0xF001, 0xF00C))  # all 11 draft-06 suites, default profile


@pytest.mark.parametrize("kind, case", _cases())
def test_pq_vector_case(kind: str, case: dict[str, Any]) -> None:
    res = verify_case(kind, case)
    assert res.status == "passed", res.reason


def test_tampered_pq_vector_fails() -> None:
    case = json.loads((PQ_DIR / "key-schedule.json").read_text())[0]
    e = case["epochs"][2]
    e["external_pub"] = ("ff" if e["external_pub"][:2] != "ff" else "00") + e["external_pub"][2:]
    res = verify_case("key-schedule", case)
    assert res.status == "failed" and "epochs[2].external_pub" in res.reason


def _flip_byte(hex_str: str, at: int) -> str:
    b = bytearray(bytes.fromhex(hex_str))
    b[at] ^= 0x01
    return b.hex()


@pytest.mark.parametrize("index", [0, 1])
def test_tampered_pq_message_protection_fails(index: int) -> None:
    """A flipped ciphertext byte of commit_priv (the last octet, inside the AEAD
    ciphertext of the PrivateMessage) makes the verifier fail: the untampered case passes,
    the tampered one fails authentication (the verifier reports the DecryptError itself,
    without naming the field)."""
    case = json.loads((PQ_DIR / "message-protection.json").read_text())[index]
    assert verify_case("message-protection", case).status == "passed"
    n = len(case["commit_priv"]) // 2
    case["commit_priv"] = _flip_byte(case["commit_priv"], n - 1)
    res = verify_case("message-protection", case)
    assert res.status == "failed" and "DecryptError" in res.reason, res.reason


def test_tampered_pq_transcript_hash_fails() -> None:
    case = json.loads((PQ_DIR / "transcript-hashes.json").read_text())[0]
    case["interim_transcript_hash_before"] = _flip_byte(case["interim_transcript_hash_before"], 0)
    res = verify_case("transcript-hashes", case)
    assert res.status == "failed" and "confirmed_transcript_hash_after" in res.reason, res.reason


def test_tampered_pq_treekem_fails() -> None:
    """A wrong path secret of one receiver is caught."""
    case = json.loads((PQ_DIR / "treekem.json").read_text())[0]
    up = case["update_paths"][0]
    j = next(k for k, ps in enumerate(up["path_secrets"]) if ps is not None)
    up["path_secrets"][j] = _flip_byte(up["path_secrets"][j], 0)
    res = verify_case("treekem", case)
    assert res.status == "failed" and f"update_paths[0].path_secrets[{j}]" in res.reason, res.reason


def test_tampered_pq_tree_validation_fails() -> None:
    """A flipped octet in the last leaf's signature, with the tree hashes recomputed to
    match, is still caught: the leaf signature check (RFC 9420 §7.3) fails."""
    from mls_pq.suites import get_suite
    from mls_pq.tree.ratchet_tree import RatchetTree

    case = json.loads((PQ_DIR / "tree-validation.json").read_text())[0]
    case["tree"] = _flip_byte(case["tree"], len(case["tree"]) // 2 - 1)
    tree = RatchetTree.from_bytes(get_suite(case["cipher_suite"]), bytes.fromhex(case["tree"]))
    case["tree_hashes"] = [tree.tree_hash(x).hex() for x in range(tree.n_nodes)]
    res = verify_case("tree-validation", case)
    assert res.status == "failed" and "signature" in res.reason, res.reason
