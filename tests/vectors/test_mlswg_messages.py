"""Official mlswg interop vectors for the message kinds: messages (300 cases),
message-protection (7) and transcript-hashes (7), every case through the same verifier
``mls-pq vectors verify`` uses."""

from __future__ import annotations

from typing import Any

import pytest

from mls_pq.vectors import verify_case
from tests._vectors import cases, load, path

MLS = "mls-implementations/test-vectors"


def _id(kind: str) -> Any:
    return lambda i, c: (
        f"{kind}-{i}" + (f"-suite{c['cipher_suite']}" if isinstance(c, dict) and "cipher_suite" in c else "")
    )


def _check(kind: str, case: dict[str, Any]) -> None:
    res = verify_case(kind, case)
    if res.status == "skipped":
        pytest.skip(res.reason)
    assert res.status == "passed", res.reason


@pytest.mark.parametrize("case", cases(MLS, "messages.json", ident=_id("messages")))
def test_messages(case: dict[str, Any]) -> None:
    _check("messages", case)


@pytest.mark.parametrize("case", cases(MLS, "message-protection.json", ident=_id("message-protection")))
def test_message_protection(case: dict[str, Any]) -> None:
    _check("message-protection", case)


@pytest.mark.parametrize("case", cases(MLS, "transcript-hashes.json", ident=_id("transcript-hashes")))
def test_transcript_hashes(case: dict[str, Any]) -> None:
    _check("transcript-hashes", case)


# ---- the verifiers can fail: tampered cases name the field --------------------------------


def _first(name: str) -> dict[str, Any]:
    if not path(MLS, name).exists():
        pytest.skip("vectors absent")
    return dict(load(MLS, name)[0])


def _flip(hexstr: str, at: int = -1) -> str:
    b = bytearray(bytes.fromhex(hexstr))
    b[at] ^= 0x01
    return b.hex()


@pytest.mark.parametrize(
    "field, expect",
    [
        ("confirmed_transcript_hash_after", "confirmation_tag"),
        ("interim_transcript_hash_after", "interim_transcript_hash_after"),
        ("interim_transcript_hash_before", "confirmed_transcript_hash_after"),
        ("confirmation_key", "confirmation_tag"),
    ],
)
def test_tampered_transcript_vector(field: str, expect: str) -> None:
    case = _first("transcript-hashes.json")
    case[field] = _flip(case[field])
    res = verify_case("transcript-hashes", case)
    assert res.status == "failed" and expect in res.reason


@pytest.mark.parametrize(
    "field, expect",
    [
        ("membership_key", "membership_tag"),
        ("signature_pub", "6.1"),
        ("sender_data_secret", "DecryptError"),
        ("proposal", "proposal_pub content"),
        ("application", "application_priv content"),
        ("commit_pub", ""),
    ],
)
def test_tampered_protection_vector(field: str, expect: str) -> None:
    case = _first("message-protection.json")
    case[field] = _flip(case[field], 10 if field == "commit_pub" else -1)
    res = verify_case("message-protection", case)
    assert res.status == "failed" and expect in res.reason


def test_tampered_messages_vector() -> None:
    case = _first("messages.json")
    # a non-minimal varint cannot re-encode identically and is refused when decoding (§2.1.2)
    case["remove_proposal"] = "00"
    res = verify_case("messages", case)
    assert res.status == "failed" and "remove_proposal" in res.reason
    case = _first("messages.json")
    case["commit"] = case["commit"] + "00"
    res = verify_case("messages", case)
    assert res.status == "failed" and "commit" in res.reason and "trailing" in res.reason
