"""Official mlswg interop vectors for the foundation kinds: every case of every file.

Each case runs through the same verifier ``mls-pq vectors verify`` uses; a case the
verifier skips is skipped here with its reason (and counted by pytest).
"""

from __future__ import annotations

from typing import Any

import pytest

from mls_pq.vectors import verify_case
from tests._vectors import check_case, mlswg_case, mlswg_cases


@pytest.mark.parametrize("case", mlswg_cases("tree-math.json"))
def test_tree_math(case: dict[str, Any]) -> None:
    check_case("tree-math", case)


@pytest.mark.parametrize("case", mlswg_cases("crypto-basics.json"))
def test_crypto_basics(case: dict[str, Any]) -> None:
    check_case("crypto-basics", case)


@pytest.mark.parametrize("case", mlswg_cases("secret-tree.json"))
def test_secret_tree(case: dict[str, Any]) -> None:
    check_case("secret-tree", case)


@pytest.mark.parametrize("case", mlswg_cases("key-schedule.json"))
def test_key_schedule(case: dict[str, Any]) -> None:
    check_case("key-schedule", case)


@pytest.mark.parametrize("case", mlswg_cases("psk_secret.json"))
def test_psk_secret(case: dict[str, Any]) -> None:
    check_case("psk-secret", case)


@pytest.mark.parametrize("case", mlswg_cases("deserialization.json"))
def test_deserialization(case: dict[str, Any]) -> None:
    check_case("deserialization", case)


def test_tampered_vector_fails() -> None:
    """A verifier that cannot fail proves nothing: flip one byte and expect the named field."""
    case = mlswg_case("key-schedule.json")
    e = case["epochs"][1]
    e["exporter_secret"] = ("00" if e["exporter_secret"][:2] != "00" else "11") + e["exporter_secret"][2:]
    res = verify_case("key-schedule", case)
    assert res.status == "failed" and "epochs[1].exporter_secret" in res.reason
