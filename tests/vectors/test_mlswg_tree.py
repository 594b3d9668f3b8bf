"""Official mlswg interop vectors for the tree kinds: tree-validation (98 cases),
tree-operations (5) and treekem (77), every case through the ``mls-pq vectors`` verifier."""

from __future__ import annotations

from typing import Any

import pytest

from mls_pq.vectors import verify_case
from tests._vectors import check_case, flip_hex, mlswg_case, mlswg_cases


@pytest.mark.parametrize("case", mlswg_cases("tree-validation.json"))
def test_tree_validation(case: dict[str, Any]) -> None:
    check_case("tree-validation", case)


@pytest.mark.parametrize("case", mlswg_cases("tree-operations.json"))
def test_tree_operations(case: dict[str, Any]) -> None:
    check_case("tree-operations", case)


@pytest.mark.parametrize("case", mlswg_cases("treekem.json"))
def test_treekem(case: dict[str, Any]) -> None:
    check_case("treekem", case)






def test_tampered_tree_validation_fails() -> None:
    c = mlswg_case("tree-validation.json", 5)
    c["tree_hashes"][3] = flip_hex(c["tree_hashes"][3])
    res = verify_case("tree-validation", c)
    assert res.status == "failed" and "tree_hashes[3]" in res.reason
    c = mlswg_case("tree-validation.json", 5)
    c["resolutions"][1] = c["resolutions"][1][::-1] + [0]
    res = verify_case("tree-validation", c)
    assert res.status == "failed" and "resolutions[1]" in res.reason
    c = mlswg_case("tree-validation.json", 5)
    c["group_id"] = flip_hex(c["group_id"])  # update/commit leaf signatures cover the group id
    res = verify_case("tree-validation", c)
    assert res.status == "failed" and "7.3" in res.reason


def test_tampered_tree_operations_fails() -> None:
    c = mlswg_case("tree-operations.json", 0)
    c["tree_hash_after"] = flip_hex(c["tree_hash_after"])
    res = verify_case("tree-operations", c)
    assert res.status == "failed" and "tree_hash_after" in res.reason
    c = mlswg_case("tree-operations.json", 2)
    c["proposal_sender"] = 0 if c["proposal_sender"] != 0 else 1  # update applied to the wrong leaf
    res = verify_case("tree-operations", c)
    assert res.status == "failed"


def test_tampered_treekem_fails() -> None:
    c = mlswg_case("treekem.json", 3)
    up = c["update_paths"][0]
    up["commit_secret"] = flip_hex(up["commit_secret"])
    res = verify_case("treekem", c)
    assert res.status == "failed" and "commit_secret" in res.reason
    c = mlswg_case("treekem.json", 3)
    up = c["update_paths"][0]
    j = next(k for k, v in enumerate(up["path_secrets"]) if v is not None)
    up["path_secrets"][j] = flip_hex(up["path_secrets"][j])
    res = verify_case("treekem", c)
    assert res.status == "failed" and f"path_secrets[{j}]" in res.reason
    c = mlswg_case("treekem.json", 3)
    c["update_paths"][0]["tree_hash_after"] = flip_hex(c["update_paths"][0]["tree_hash_after"])
    res = verify_case("treekem", c)
    assert res.status == "failed" and "tree_hash_after" in res.reason
    c = mlswg_case("treekem.json", 3)
    c["confirmed_transcript_hash"] = flip_hex(c["confirmed_transcript_hash"])  # HPKE context differs
    res = verify_case("treekem", c)
    assert res.status == "failed" and "DecryptError" in res.reason
