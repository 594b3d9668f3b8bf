"""Verifiers for the tree vector kinds: tree-validation, tree-operations and treekem
(mlswg test-vectors.md)."""

from __future__ import annotations

from typing import Any

from ..codec import Struct
from ..errors import ValidationError
from ..group_context import GroupContext
from ..messages.update_path import UpdatePath
from ..tree.leaf_validation import validate_ratchet_tree
from ..tree.ratchet_tree import RatchetTree
from ..treekem import PrivateTree, apply_update_path, create_update_path
from .basics import expect, h, suite_of
from .kinds import Mismatch, kind


@kind("tree-validation")
def verify_tree_validation(c: dict[str, Any]) -> None:
    s = suite_of(c)
    raw = h(c["tree"])
    tree = RatchetTree.from_bytes(s, raw)
    expect("tree (re-encoded)", tree.to_bytes(), raw)
    if len(c["tree_hashes"]) != tree.n_nodes:
        raise Mismatch("tree_hashes", f"{len(c['tree_hashes'])} entries for a tree of {tree.n_nodes} nodes")
    for x in range(tree.n_nodes):
        expect(f"resolutions[{x}]", list(tree.resolution(x)), c["resolutions"][x])
        expect(f"tree_hashes[{x}]", tree.tree_hash(x), h(c["tree_hashes"][x]))
    # parent-hash validity (§7.9.2), leaf signatures with group_id (§7.3), unmerged leaves, key uniqueness
    validate_ratchet_tree(tree, h(c["group_id"]))


def _apply_proposal(tree: RatchetTree, proposal_bytes: bytes, sender: int) -> None:
    from ..messages.proposals import Add, Proposal, Remove, Update

    body: Struct = Proposal.from_bytes(proposal_bytes).body
    if isinstance(body, Add):
        tree.add_leaf(body.key_package.leaf_node)
    elif isinstance(body, Update):
        tree.update_leaf(sender, body.leaf_node)
    elif isinstance(body, Remove):
        tree.remove_leaf(body.removed)
    else:
        raise Mismatch("proposal", f"unexpected proposal body {type(body).__name__}")


@kind("tree-operations")
def verify_tree_operations(c: dict[str, Any]) -> None:
    s = suite_of(c)
    tree = RatchetTree.from_bytes(s, h(c["tree_before"]))
    expect("tree_hash_before", tree.tree_hash(), h(c["tree_hash_before"]))
    _apply_proposal(tree, h(c["proposal"]), int(c["proposal_sender"]))
    expect("tree_after", tree.to_bytes(), h(c["tree_after"]))
    expect("tree_hash_after", tree.tree_hash(), h(c["tree_hash_after"]))
    # the incrementally maintained caches must agree with a from-scratch computation
    fresh = RatchetTree.from_bytes(s, h(c["tree_after"]))
    expect("tree_hash_after (fresh)", fresh.tree_hash(), h(c["tree_hash_after"]))


@kind("treekem")
def verify_treekem(c: dict[str, Any]) -> None:
    s = suite_of(c)
    tree = RatchetTree.from_bytes(s, h(c["ratchet_tree"]))
    ctx = GroupContext(
        cipher_suite=s.id,
        group_id=h(c["group_id"]),
        epoch=int(c["epoch"]),
        tree_hash=tree.tree_hash(),
        confirmed_transcript_hash=h(c["confirmed_transcript_hash"]),
    )
    privs: dict[int, PrivateTree] = {}
    for lp in c["leaves_private"]:
        p = PrivateTree(int(lp["index"]), h(lp["encryption_priv"]), h(lp["signature_priv"]))
        for e in lp["path_secrets"]:
            p.set_path_secret(s, int(e["node"]), h(e["path_secret"]))
        try:
            p.check_consistent(tree)
        except ValidationError as err:
            raise Mismatch(f"leaves_private[{p.leaf_index}]", str(err)) from None
        privs[p.leaf_index] = p
    members = [j for j, _ in tree.leaves()]

    for u, up in enumerate(c["update_paths"]):
        i = int(up["sender"])
        raw = h(up["update_path"])
        path = UpdatePath.from_bytes(raw)
        expect(f"update_paths[{u}].update_path (re-encoded)", path.to_bytes(), raw)
        # merging checks parent-hash validity of the path (§7.9.2)
        merged = tree.copy()
        apply_update_path(merged, i, path, ctx)
        expect(f"update_paths[{u}].tree_hash_after", merged.tree_hash(), h(up["tree_hash_after"]))
        for j in members:
            if j == i:
                continue
            if j not in privs:
                raise Mismatch(f"leaves_private[{j}]", "missing private state for a non-blank leaf")
            res = apply_update_path(tree.copy(), i, path, ctx, private=privs[j])
            expect(f"update_paths[{u}].path_secrets[{j}]", res.path_secret, h(up["path_secrets"][j]))
            expect(f"update_paths[{u}].commit_secret (leaf {j})", res.commit_secret, h(up["commit_secret"]))

        # our own UpdatePath from leaf i must be processed by every other member
        if i not in privs:
            raise Mismatch(f"leaves_private[{i}]", "missing private state for the sender")
        mine = tree.copy()
        created = create_update_path(mine, i, ctx, privs[i].signature_priv)
        created_bytes = created.update_path.to_bytes()
        expect(f"update_paths[{u}] new path (round trip)", UpdatePath.from_bytes(created_bytes), created.update_path)
        for j in members:
            if j == i:
                continue
            theirs = tree.copy()
            res = apply_update_path(theirs, i, UpdatePath.from_bytes(created_bytes), ctx, private=privs[j])
            expect(f"update_paths[{u}] new commit_secret (leaf {j})", res.commit_secret, created.commit_secret)
            expect(f"update_paths[{u}] new tree hash (leaf {j})", theirs.tree_hash(), mine.tree_hash())
            assert res.private is not None
            res.private.check_consistent(theirs)
