"""Official mlswg interop vectors for the message kinds: messages (300 cases),
message-protection (7) and transcript-hashes (7), every case through the same verifier
``mls-pq vectors verify`` uses."""

from __future__ import annotations

from typing import Any

import pytest

from mls_pq.vectors import verify_case
from tests._vectors import check_case, flip_hex, mlswg_case, mlswg_cases


@pytest.mark.parametrize("case", mlswg_cases("messages.json"))
def test_messages(case: dict[str, Any]) -> None:
    check_case("messages", case)


@pytest.mark.parametrize("case", mlswg_cases("message-protection.json"))
def test_message_protection(case: dict[str, Any]) -> None:
    check_case("message-protection", case)


@pytest.mark.parametrize("case", mlswg_cases("transcript-hashes.json"))
def test_transcript_hashes(case: dict[str, Any]) -> None:
    check_case("transcript-hashes", case)


# ---- the verifiers can fail: tampered cases name the field --------------------------------






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
    case = mlswg_case("transcript-hashes.json")
    case[field] = flip_hex(case[field], -1)
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
    case = mlswg_case("message-protection.json")
    case[field] = flip_hex(case[field], 10 if field == "commit_pub" else -1)
    res = verify_case("message-protection", case)
    assert res.status == "failed" and expect in res.reason


def test_tampered_messages_vector() -> None:
    case = mlswg_case("messages.json")
    # a non-minimal varint cannot re-encode identically and is refused when decoding (§2.1.2)
    case["remove_proposal"] = "00"
    res = verify_case("messages", case)
    assert res.status == "failed" and "remove_proposal" in res.reason
    case = mlswg_case("messages.json")
    case["commit"] = case["commit"] + "00"
    res = verify_case("messages", case)
    assert res.status == "failed" and "commit" in res.reason and "trailing" in res.reason
