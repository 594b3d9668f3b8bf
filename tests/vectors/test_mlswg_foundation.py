"""Official mlswg interop vectors for the foundation kinds: every case of every file.

Each case runs through the same verifier ``mls-pq vectors verify`` uses; a case the
verifier skips is skipped here with its reason (and counted by pytest).
"""

from __future__ import annotations

from typing import Any

import pytest

from mls_pq.vectors import verify_case
from tests._vectors import cases

MLS = "mls-implementations/test-vectors"


def _id(kind: str) -> Any:
    return lambda i, c: f"{kind}-{i}" + (f"-suite{c['cipher_suite']}" if isinstance(c, dict) and "cipher_suite" in c else "")


def _check(kind: str, case: dict[str, Any]) -> None:
    res = verify_case(kind, case)
    if res.status == "skipped":
        pytest.skip(res.reason)
    assert res.status == "passed", res.reason


@pytest.mark.parametrize("case", cases(MLS, "tree-math.json", ident=_id("tree-math")))
def test_tree_math(case: dict[str, Any]) -> None:
    _check("tree-math", case)


@pytest.mark.parametrize("case", cases(MLS, "crypto-basics.json", ident=_id("crypto-basics")))
def test_crypto_basics(case: dict[str, Any]) -> None:
    _check("crypto-basics", case)


@pytest.mark.parametrize("case", cases(MLS, "secret-tree.json", ident=_id("secret-tree")))
def test_secret_tree(case: dict[str, Any]) -> None:
    _check("secret-tree", case)


@pytest.mark.parametrize("case", cases(MLS, "key-schedule.json", ident=_id("key-schedule")))
def test_key_schedule(case: dict[str, Any]) -> None:
    _check("key-schedule", case)


@pytest.mark.parametrize("case", cases(MLS, "psk_secret.json", ident=_id("psk_secret")))
def test_psk_secret(case: dict[str, Any]) -> None:
    _check("psk-secret", case)


@pytest.mark.parametrize("case", cases(MLS, "deserialization.json", ident=_id("deserialization")))
def test_deserialization(case: dict[str, Any]) -> None:
    _check("deserialization", case)


def test_tampered_vector_fails() -> None:
    """A verifier that cannot fail proves nothing: flip one byte and expect the named field."""
    from tests._vectors import load, require

    require(MLS, "key-schedule.json")
    case = load(MLS, "key-schedule.json")[0]
    e = case["epochs"][1]
    e["exporter_secret"] = ("00" if e["exporter_secret"][:2] != "00" else "11") + e["exporter_secret"][2:]
    res = verify_case("key-schedule", case)
    assert res.status == "failed" and "epochs[1].exporter_secret" in res.reason
