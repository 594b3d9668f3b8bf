"""Generators for the tree vector kinds ``tree-validation``, ``treekem`` and
``tree-operations`` (mlswg test-vectors.md), for any registered suite.

Trees are grown through real operations by a small group simulation (:class:`_Group`):
members join with KeyPackage leaf nodes signed by the suite, and commits merge real
TreeKEM UpdatePaths (:func:`~mls_pq.treekem.create_update_path`) that every other member
processes with :func:`~mls_pq.treekem.apply_update_path`; joiners get the path secret of
the lowest common ancestor with the committer as in a Welcome (RFC 9420 §12.4.3.1). Each
member's path secrets are tracked, since the treekem vectors carry them.

The tree shapes follow test-vectors.md "Origins of Test Trees": ``get_tree(n)`` (leaf
``i`` commits adding leaf ``i + 1``, for ``i < n - 1``), a tree with internal blanks
(``get_tree(8)``, leaf 0 removes 2 and 3 and adds a member), one with blanks skipped in the
parent-hash links (``get_tree(8)``, leaf 0 removes 1, 2 and 3) and one with unmerged leaves
(``get_tree(7)``, leaf 0 adds a member by a commit without path).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import ValidationError
from ..group_context import GroupContext
from ..messages.leaf_node import LeafNode, LeafNodeSource
from ..messages.proposals import Add, Proposal, Remove, Update
from ..suites import CipherSuite
from ..tree import math as tm
from ..tree.ratchet_tree import RatchetTree
from ..treekem import PrivateTree, apply_update_path, create_update_path, next_path_secret
from .message_generators import key_package, key_package_leaf

Case = dict[str, Any]
Generator = Callable[[CipherSuite, random.Random], list[Case]]
Register = Callable[[str], Callable[[Generator], Generator]]


def _rand(rng: random.Random, n: int) -> bytes:
    return rng.randbytes(n)


@dataclass
class _Member:
    leaf_index: int
    encryption_priv: bytes = field(repr=False)
    signature_priv: bytes = field(repr=False)
    #: node index -> path secret of every parent node whose private key we hold
    path_secrets: dict[int, bytes] = field(default_factory=dict, repr=False)

    def private(self, s: CipherSuite) -> PrivateTree:
        p = PrivateTree(self.leaf_index, self.encryption_priv, self.signature_priv)
        for x, ps in self.path_secrets.items():
            p.set_path_secret(s, x, ps)
        return p

    def copy(self) -> _Member:
        return _Member(self.leaf_index, self.encryption_priv, self.signature_priv, dict(self.path_secrets))


def _secrets_from(s: CipherSuite, path: Sequence[int], start: int, path_secret: bytes) -> dict[int, bytes]:
    """Path secrets of ``start`` and the nodes above it on the filtered direct path ``path``."""
    out: dict[int, bytes] = {}
    ps = path_secret
    for x in path[path.index(start) :]:
        out[x] = ps
        ps = next_path_secret(s, ps)
    return out


class _Group:
    """Just enough of a group to grow ratchet trees by commits (public and private state)."""

    def __init__(self, s: CipherSuite, rng: random.Random) -> None:
        self.s, self.rng = s, rng
        self.group_id = _rand(rng, 16)
        self.epoch = 0
        self.tree = RatchetTree(s)
        self.members: dict[int, _Member] = {}
        #: leaf index -> epoch in which that member joined
        self.joined: dict[int, int] = {0: 0}
        leaf, enc_priv, sig_priv = key_package_leaf(s, rng, b"member-0")
        i = self.tree.add_leaf(leaf)
        self.members[i] = _Member(i, enc_priv, sig_priv)

    def copy(self) -> _Group:
        g = _Group.__new__(_Group)
        g.s, g.rng, g.group_id, g.epoch = self.s, self.rng, self.group_id, self.epoch
        g.tree = self.tree.copy()
        g.members = {i: m.copy() for i, m in self.members.items()}
        g.joined = dict(self.joined)
        return g

    def context(self) -> GroupContext:
        return GroupContext(self.s.id, self.group_id, self.epoch, self.tree.tree_hash(), _rand(self.rng, self.s.n_h))

    def commit(self, committer: int, adds: int = 0, removes: Sequence[int] = (), path: bool = True) -> None:
        """``committer`` commits ``removes`` and ``adds`` new members, with or without path."""
        s = self.s
        tree = self.tree.copy()
        for r in removes:
            tree.remove_leaf(r)
            del self.members[r], self.joined[r]
        joiners: list[_Member] = []
        for _ in range(adds):
            leaf, enc_priv, sig_priv = key_package_leaf(s, self.rng, b"member-%d-%d" % (self.epoch + 1, len(joiners)))
            i = tree.add_leaf(leaf)
            joiners.append(_Member(i, enc_priv, sig_priv))
        new = [m.leaf_index for m in joiners]
        if path:
            ctx = GroupContext(s.id, self.group_id, self.epoch + 1, tree.tree_hash(), _rand(self.rng, s.n_h))
            before = tree.copy()
            me = self.members[committer]
            created = create_update_path(tree, committer, ctx, me.signature_priv, excluded_leaves=new)
            fdp = [p for p, _ in before.filtered_direct_path_pairs(committer)]
            me.encryption_priv = created.private.encryption_priv
            me.path_secrets = dict(created.path_secrets)
            dp = set(tm.direct_path(2 * committer, tree.n_leaves))
            for j, m in self.members.items():
                if j == committer:
                    continue
                merged = before.copy()
                res = apply_update_path(
                    merged, committer, created.update_path, ctx, private=m.private(s), excluded_leaves=new
                )
                if merged != tree or res.commit_secret != created.commit_secret or res.node is None:
                    raise ValidationError("generated UpdatePath does not process", "7.5")
                assert res.path_secret is not None
                m.path_secrets = {x: ps for x, ps in m.path_secrets.items() if x not in dp}
                m.path_secrets.update(_secrets_from(s, fdp, res.node, res.path_secret))
            for m in joiners:
                x = tm.common_ancestor(2 * committer, 2 * m.leaf_index)
                ps = created.path_secret_for(m.leaf_index)
                assert ps is not None
                m.path_secrets = _secrets_from(s, fdp, x, ps)
        for m in joiners:
            self.members[m.leaf_index] = m
            self.joined[m.leaf_index] = self.epoch + 1
        self.tree = tree
        self.epoch += 1
        for m in self.members.values():
            m.path_secrets = {
                x: ps for x, ps in m.path_secrets.items() if x < tree.n_nodes and tree.node(x) is not None
            }
            m.private(s).check_consistent(tree)


def _grow(s: CipherSuite, rng: random.Random, n: int, snapshots: Sequence[int] = ()) -> dict[int, _Group]:
    """``get_tree(k)`` for every ``k`` in ``snapshots`` and ``n``."""
    g = _Group(s, rng)
    out: dict[int, _Group] = {}
    for i in range(n - 1):
        g.commit(i, adds=1)
        if i + 2 in snapshots:
            out[i + 2] = g.copy()
    out[n] = g
    return out


def _shapes(s: CipherSuite, rng: random.Random) -> dict[str, _Group]:
    grown = _grow(s, rng, 8, snapshots=(2, 3, 4, 5, 7))
    shapes = {f"get_tree({k})": g for k, g in sorted(grown.items())}
    g = grown[8].copy()
    g.commit(0, adds=1, removes=(2, 3))
    shapes["internal blanks"] = g
    g = grown[8].copy()
    g.commit(0, removes=(1, 2, 3))
    shapes["skipping blanks"] = g
    g = grown[7].copy()
    g.commit(0, adds=1, path=False)
    shapes["unmerged leaves"] = g
    return shapes


# ---- tree-validation ---------------------------------------------------------------------------


def gen_tree_validation(s: CipherSuite, rng: random.Random) -> list[Case]:
    out: list[Case] = []
    for name, g in _shapes(s, rng).items():
        if name == "get_tree(7)":  # only the base of "unmerged leaves"
            continue
        t = g.tree
        out.append(
            {
                "cipher_suite": s.id,
                "tree": t.to_bytes().hex(),
                "group_id": g.group_id.hex(),
                "resolutions": [list(t.resolution(x)) for x in range(t.n_nodes)],
                "tree_hashes": [t.tree_hash(x).hex() for x in range(t.n_nodes)],
            }
        )
    return out


# ---- treekem -----------------------------------------------------------------------------------


def _senders(g: _Group) -> list[int]:
    """Committers of the UpdatePaths of a treekem case: every member of a tree of up to four
    members; otherwise the first, a middle, the last and the most recently joined member
    (all of them would make the PQ files several times larger for little extra coverage)."""
    members = sorted(g.members)
    if len(members) <= 4:
        return members
    newest = max(members, key=lambda i: (g.joined[i], i))
    return sorted({members[0], members[len(members) // 2], members[-1], newest})


def gen_treekem(s: CipherSuite, rng: random.Random) -> list[Case]:
    out: list[Case] = []
    shapes = _shapes(s, rng)
    for name in ("get_tree(4)", "internal blanks", "unmerged leaves"):
        g = shapes[name]
        t = g.tree
        ctx = g.context()
        update_paths = []
        for i in _senders(g):
            m = g.members[i]
            merged = t.copy()
            created = create_update_path(merged, i, ctx, m.signature_priv)
            update_paths.append(
                {
                    "sender": i,
                    "update_path": created.update_path.to_bytes().hex(),
                    "path_secrets": [
                        None if j == i or j not in g.members else created.path_secret_for(j).hex()  # type: ignore[union-attr]
                        for j in range(t.n_leaves)
                    ],
                    "commit_secret": created.commit_secret.hex(),
                    "tree_hash_after": merged.tree_hash().hex(),
                }
            )
        out.append(
            {
                "cipher_suite": s.id,
                "group_id": g.group_id.hex(),
                "epoch": ctx.epoch,
                "confirmed_transcript_hash": ctx.confirmed_transcript_hash.hex(),
                "ratchet_tree": t.to_bytes().hex(),
                "leaves_private": [
                    {
                        "index": i,
                        "encryption_priv": m.encryption_priv.hex(),
                        "signature_priv": m.signature_priv.hex(),
                        "path_secrets": [
                            {"node": x, "path_secret": ps.hex()} for x, ps in sorted(m.path_secrets.items())
                        ],
                    }
                    for i, m in sorted(g.members.items())
                ],
                "update_paths": update_paths,
            }
        )
    return out


# ---- tree-operations ---------------------------------------------------------------------------


def _operation(s: CipherSuite, tree: RatchetTree, proposal: Proposal, sender: int) -> Case:
    after = tree.copy()
    body = proposal.body
    if isinstance(body, Add):
        after.add_leaf(body.key_package.leaf_node)
    elif isinstance(body, Update):
        after.update_leaf(sender, body.leaf_node)
    else:
        assert isinstance(body, Remove)
        after.remove_leaf(body.removed)
    return {
        "cipher_suite": s.id,
        "tree_before": tree.to_bytes().hex(),
        "proposal": proposal.to_bytes().hex(),
        "proposal_sender": sender,
        "tree_hash_before": tree.tree_hash().hex(),
        "tree_after": after.to_bytes().hex(),
        "tree_hash_after": after.tree_hash().hex(),
    }


def gen_tree_operations(s: CipherSuite, rng: random.Random) -> list[Case]:
    """Add, Update, and two Removes, on trees of four or five leaves (PQ keys make larger
    trees expensive to store)."""
    grown = _grow(s, rng, 5, snapshots=(4,))
    four, five = grown[4], grown[5]
    holed = four.copy()
    holed.commit(0, removes=(1,))  # leaf 1 blank; an Add fills it and is unmerged at node 3
    out: list[Case] = []
    kp, _, _, _ = key_package(s, rng, b"joiner")
    out.append(_operation(s, holed.tree, Proposal(Add(kp)), 0))
    # an Update from leaf 2: a fresh update-source leaf node signed for the group and leaf
    sender = 2
    old = four.tree.leaf(sender)
    assert old is not None
    _, enc_pub = s.derive_key_pair(_rand(rng, s.n_h))
    leaf = LeafNode(
        encryption_key=enc_pub,
        signature_key=old.signature_key,
        credential=old.credential,
        capabilities=old.capabilities,
        leaf_node_source=int(LeafNodeSource.UPDATE),
        extensions=old.extensions,
    ).sign(s, four.members[sender].signature_priv, four.group_id, sender)
    out.append(_operation(s, four.tree, Proposal(Update(leaf)), sender))
    # Removes: an inner leaf, and the last leaf of get_tree(5) (truncated to four leaves)
    out.append(_operation(s, four.tree, Proposal(Remove(1)), 3))
    out.append(_operation(s, five.tree, Proposal(Remove(4)), 0))
    return out


def register_generators(generator: Register) -> None:
    """Hook for :func:`mls_pq.vectors.generate._load_generators`."""
    generator("tree-validation")(gen_tree_validation)
    generator("treekem")(gen_treekem)
    generator("tree-operations")(gen_tree_operations)
