"""Official mlswg interop vectors for the group kinds (welcome, passive-client-*): every case.

The passive-client verifier joins from the recorded Welcome (tree in the Welcome or out of
band, external PSKs), processes every proposal and commit, and compares the epoch
authenticator of every epoch. Leaf lifetimes are not checked for these recorded vectors.
"""

from __future__ import annotations

from typing import Any

import pytest

from mls_pq.vectors import verify_case
from tests._vectors import cases, load, require

MLS = "mls-implementations/test-vectors"


def _id(kind: str) -> Any:
    return lambda i, c: f"{kind}-{i}-suite{c['cipher_suite']}"


def _check(kind: str, case: dict[str, Any]) -> None:
    res = verify_case(kind, case)
    if res.status == "skipped":
        pytest.skip(res.reason)
    assert res.status == "passed", res.reason


@pytest.mark.parametrize("case", cases(MLS, "welcome.json", ident=_id("welcome")))
def test_welcome(case: dict[str, Any]) -> None:
    _check("welcome", case)


@pytest.mark.parametrize("case", cases(MLS, "passive-client-welcome.json", ident=_id("pc-welcome")))
def test_passive_client_welcome(case: dict[str, Any]) -> None:
    _check("passive-client-welcome", case)


@pytest.mark.parametrize("case", cases(MLS, "passive-client-handling-commit.json", ident=_id("pc-commit")))
def test_passive_client_handling_commit(case: dict[str, Any]) -> None:
    _check("passive-client-handling-commit", case)


@pytest.mark.parametrize("case", cases(MLS, "passive-client-random.json", ident=_id("pc-random")))
def test_passive_client_random(case: dict[str, Any]) -> None:
    _check("passive-client-random", case)


def _flip(hexstr: str, at: int = 0) -> str:
    b = bytearray(bytes.fromhex(hexstr))
    b[at] ^= 0x01
    return b.hex()


def test_tampered_epoch_authenticator_fails() -> None:
    require(MLS, "passive-client-handling-commit.json")
    case = load(MLS, "passive-client-handling-commit.json")[0]
    case["epochs"][-1]["epoch_authenticator"] = _flip(case["epochs"][-1]["epoch_authenticator"])
    res = verify_case("passive-client-handling-commit", case)
    assert res.status == "failed" and f"epochs[{len(case['epochs']) - 1}].epoch_authenticator" in res.reason


def test_tampered_commit_fails() -> None:
    """A commit with one flipped byte near its end (signature/confirmation tag) is rejected."""
    require(MLS, "passive-client-random.json")
    case = load(MLS, "passive-client-random.json")[0]
    case["epochs"] = case["epochs"][:3]
    commit = case["epochs"][2]["commit"]
    case["epochs"][2]["commit"] = _flip(commit, len(commit) // 2 - 5)
    res = verify_case("passive-client-random", case)
    assert res.status == "failed" and "epochs[2]" in res.reason


def test_tampered_welcome_signer_fails() -> None:
    require(MLS, "welcome.json")
    case = load(MLS, "welcome.json")[0]
    case["signer_pub"] = _flip(case["signer_pub"], 5)
    res = verify_case("welcome", case)
    assert res.status == "failed"


def test_wrong_initial_epoch_authenticator_fails() -> None:
    require(MLS, "passive-client-welcome.json")
    case = load(MLS, "passive-client-welcome.json")[0]
    case["initial_epoch_authenticator"] = _flip(case["initial_epoch_authenticator"])
    res = verify_case("passive-client-welcome", case)
    assert res.status == "failed" and "initial_epoch_authenticator" in res.reason
