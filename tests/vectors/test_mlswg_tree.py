"""Official mlswg interop vectors for the tree kinds: tree-validation (98 cases),
tree-operations (5) and treekem (77), every case through the ``mls-pq vectors`` verifier."""

from __future__ import annotations

import copy
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


@pytest.mark.parametrize("case", cases(MLS, "tree-validation.json", ident=_id("tree-validation")))
def test_tree_validation(case: dict[str, Any]) -> None:
    _check("tree-validation", case)


@pytest.mark.parametrize("case", cases(MLS, "tree-operations.json", ident=_id("tree-operations")))
def test_tree_operations(case: dict[str, Any]) -> None:
    _check("tree-operations", case)


@pytest.mark.parametrize("case", cases(MLS, "treekem.json", ident=_id("treekem")))
def test_treekem(case: dict[str, Any]) -> None:
    _check("treekem", case)


def _flip(hexstr: str, pos: int = 0) -> str:
    b = bytearray(bytes.fromhex(hexstr))
    b[pos] ^= 0x01
    return b.hex()


def _case(name: str, index: int) -> dict[str, Any]:
    if not path(MLS, name).exists():
        pytest.skip("vectors absent")
    return copy.deepcopy(load(MLS, name)[index])


def test_tampered_tree_validation_fails() -> None:
    c = _case("tree-validation.json", 5)
    c["tree_hashes"][3] = _flip(c["tree_hashes"][3])
    res = verify_case("tree-validation", c)
    assert res.status == "failed" and "tree_hashes[3]" in res.reason
    c = _case("tree-validation.json", 5)
    c["resolutions"][1] = c["resolutions"][1][::-1] + [0]
    res = verify_case("tree-validation", c)
    assert res.status == "failed" and "resolutions[1]" in res.reason
    c = _case("tree-validation.json", 5)
    c["group_id"] = _flip(c["group_id"])  # update/commit leaf signatures cover the group id
    res = verify_case("tree-validation", c)
    assert res.status == "failed" and "7.3" in res.reason


def test_tampered_tree_operations_fails() -> None:
    c = _case("tree-operations.json", 0)
    c["tree_hash_after"] = _flip(c["tree_hash_after"])
    res = verify_case("tree-operations", c)
    assert res.status == "failed" and "tree_hash_after" in res.reason
    c = _case("tree-operations.json", 2)
    c["proposal_sender"] = 0 if c["proposal_sender"] != 0 else 1  # update applied to the wrong leaf
    res = verify_case("tree-operations", c)
    assert res.status == "failed"


def test_tampered_treekem_fails() -> None:
    c = _case("treekem.json", 3)
    up = c["update_paths"][0]
    up["commit_secret"] = _flip(up["commit_secret"])
    res = verify_case("treekem", c)
    assert res.status == "failed" and "commit_secret" in res.reason
    c = _case("treekem.json", 3)
    up = c["update_paths"][0]
    j = next(k for k, v in enumerate(up["path_secrets"]) if v is not None)
    up["path_secrets"][j] = _flip(up["path_secrets"][j])
    res = verify_case("treekem", c)
    assert res.status == "failed" and f"path_secrets[{j}]" in res.reason
    c = _case("treekem.json", 3)
    c["update_paths"][0]["tree_hash_after"] = _flip(c["update_paths"][0]["tree_hash_after"])
    res = verify_case("treekem", c)
    assert res.status == "failed" and "tree_hash_after" in res.reason
    c = _case("treekem.json", 3)
    c["confirmed_transcript_hash"] = _flip(c["confirmed_transcript_hash"])  # HPKE context differs
    res = verify_case("treekem", c)
    assert res.status == "failed" and "DecryptError" in res.reason
