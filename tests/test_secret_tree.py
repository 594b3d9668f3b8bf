"""SecretTree serialisation (mls_pq.secret_tree.SecretTree.to_bytes/from_bytes): a tree saved
and restored at any point yields exactly the keys of the official secret-tree vectors
(RFC 9420 §9), keeps skipped keys and the replay protection of §9.2, and rejects garbage."""

from __future__ import annotations

from typing import Any

import pytest

from mls_pq.errors import DecodeError, ValidationError
from mls_pq.secret_tree import APPLICATION, HANDSHAKE, SecretTree
from mls_pq.suites import get_suite
from mls_pq.vectors.basics import suite_of
from tests._vectors import mlswg_cases


def _h(x: str) -> bytes:
    return bytes.fromhex(x)


@pytest.mark.parametrize("case", mlswg_cases("secret-tree.json"))
def test_restored_tree_yields_vector_keys(case: dict[str, Any]) -> None:
    """Save/restore before every generation of every leaf (in reverse leaf order, so that
    the restored trees hold partially descended node secrets): the keys still match."""
    s = suite_of(case)
    leaves = case["leaves"]
    tree = SecretTree(s, _h(case["encryption_secret"]), len(leaves), max_skip=1 << 20)
    for i in reversed(range(len(leaves))):
        for g in leaves[i]:
            data = tree.to_bytes()
            tree = SecretTree.from_bytes(s, data)
            assert tree.to_bytes() == data
            for k in (HANDSHAKE, APPLICATION):
                use = tree.key_for(i, k, g["generation"])
                assert use.key == _h(g[f"{k}_key"]) and use.nonce == _h(g[f"{k}_nonce"])
                tree.commit_use(use)


def test_skipped_keys_and_replay_survive_restore() -> None:
    s = get_suite(1)
    tree = SecretTree(s, bytes(range(32)), 5, max_skip=50, window=3)
    reference = SecretTree(s, bytes(range(32)), 5, max_skip=50, window=3)
    expected = {g: reference.key_for(2, APPLICATION, g) for g in range(6)}
    use = tree.key_for(2, APPLICATION, 5)  # generations 2, 3, 4 kept as skipped (window 3)
    tree.commit_use(use)
    restored = SecretTree.from_bytes(s, tree.to_bytes())
    assert (restored.n_leaves, restored.max_skip, restored.window) == (5, 50, 3)
    for g in (4, 2):
        u = restored.key_for(2, APPLICATION, g)
        assert (u.key, u.nonce) == (expected[g].key, expected[g].nonce)
        restored.commit_use(u)
    for g in (0, 1, 2, 5):  # dropped by the window, used, or used
        with pytest.raises(ValidationError) as ei:
            restored.key_for(2, APPLICATION, g)
        assert ei.value.section == "9.2"
    again = SecretTree.from_bytes(s, restored.to_bytes())
    assert again.to_bytes() == restored.to_bytes()
    assert again.key_for(2, APPLICATION, 3).key == expected[3].key


def test_malformed_input_is_a_decode_error() -> None:
    s = get_suite(1)
    tree = SecretTree(s, bytes(32), 4)
    tree.commit_use(tree.next_key(1, HANDSHAKE))
    data = tree.to_bytes()
    for bad in (b"", data[:-1], data + b"\x00", data[:12]):
        with pytest.raises(DecodeError):
            SecretTree.from_bytes(s, bad)
    # the same bytes under a suite with another hash length are inconsistent
    with pytest.raises(DecodeError):
        SecretTree.from_bytes(get_suite(5), data)
    # zero leaves
    with pytest.raises(DecodeError):
        SecretTree.from_bytes(s, bytes(12) + b"\x00\x00")
