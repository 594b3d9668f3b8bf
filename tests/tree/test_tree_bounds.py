"""Ratchet-tree decoding bounds (issue 8, defect 2): shape (RFC 9420 §7.7, §12.4.3.3) and
size (``Limits.max_group_size``), with memory measured by tracemalloc rather than time."""

from __future__ import annotations

import tracemalloc
from collections.abc import Sequence

import pytest

from mls_pq.codec import Writer
from mls_pq.errors import DecodeError, ValidationError
from mls_pq.limits import DEFAULT_LIMITS, Limits
from mls_pq.tree.nodes import Node, ParentNode, encode_node
from mls_pq.tree.ratchet_tree import RatchetTree

from .helpers import Group, make_member, suite1


def _encode(nodes: Sequence[Node | None]) -> bytes:
    """``optional<Node> ratchet_tree<V>`` of exactly these nodes (None: blank), unlike
    encode_ratchet_tree which drops trailing blanks."""
    inner = Writer()
    for n in nodes:
        if n is None:
            inner.uint8(0)
        else:
            inner.uint8(1)
            encode_node(inner, n)
    return Writer().opaque(inner.getvalue()).getvalue()


def _blank_padded(n_leaves: int) -> bytes:
    """``n_leaves - 1`` blank leaves (with blank parents), then one real leaf last."""
    leaf = make_member(suite1(), b"last").leaf
    inner = Writer()
    inner.buf += b"\x00" * (2 * (n_leaves - 1))
    inner.uint8(1)
    encode_node(inner, leaf)
    return Writer().opaque(inner.getvalue()).getvalue()


def test_defect2_blank_tree_memory_is_bounded_by_max_group_size() -> None:
    """The audit's 4 MB tree of blank nodes (2M leaves) cost 526 MB and 20 s and was
    accepted. Decoding now stops once the node count passes ``2 * max_group_size - 1``:
    rejected with ValidationError, and the peak memory is a small multiple of the limit,
    independent of the input length."""
    data = _blank_padded(2_000_000)
    assert len(data) > 4_000_000
    tracemalloc.start()
    try:
        with pytest.raises(ValidationError, match="max_group_size"):
            RatchetTree.from_bytes(suite1(), data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # one 8-octet list slot per decoded node (plus list growth slack): ~1 MiB for 131071 nodes
    assert peak < 16 * DEFAULT_LIMITS.max_tree_nodes, peak


def test_defect2_blank_tree_rejected_by_join_external() -> None:
    """End to end: a GroupInfo (signed by a member) carrying the 4 MB blank tree is refused
    by ``Group.join_external`` while the tree is decoded, with the limit named."""
    from mls_pq.client import Client
    from mls_pq.extensions import RATCHET_TREE, Extension
    from mls_pq.group import Group as MLSGroup
    from mls_pq.messages.framing_structs import MLSMessage
    from mls_pq.messages.welcome import GroupInfo

    c = Client.generate(1, b"owner")
    g = MLSGroup.create(1, b"g", c.credential, c.signature_priv)
    gi = MLSMessage.from_bytes(g.group_info(ratchet_tree=True, external_pub=True)).body
    assert isinstance(gi, GroupInfo)
    exts = tuple(
        e if e.extension_type != RATCHET_TREE else Extension(RATCHET_TREE, _blank_padded(2_000_000))
        for e in gi.extensions
    )
    bad = GroupInfo(gi.group_context, exts, gi.confirmation_tag, gi.signer).sign(g.suite, c.signature_priv)
    joiner = Client.generate(1, b"joiner")
    with pytest.raises(ValidationError, match="max_group_size"):
        MLSGroup.join_external(MLSMessage(bad).to_bytes(), joiner.credential, joiner.signature_priv)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 8])
def test_defect2_group_size_limit_at_and_beyond(n: int) -> None:
    """A real n-member tree decodes with ``max_group_size = n`` and is refused with n - 1."""
    data = Group(suite1(), n).tree.to_bytes()
    tree = RatchetTree.from_bytes(suite1(), data, limits=Limits(max_group_size=n))
    assert tree.leaf_span() == n and tree.member_count() == n
    if n > 1:
        with pytest.raises(ValidationError, match="max_group_size"):
            RatchetTree.from_bytes(suite1(), data, limits=Limits(max_group_size=n - 1))


def test_defect2_trailing_blank_leaves_rejected() -> None:
    """§7.7 (truncation) with §12.4.3.3: the root's right subtree must hold a non-blank leaf.
    A vector ending in a parent node after the last leaf decodes to a tree whose rightmost
    leaves are all blank: refused, though its last node is non-blank."""
    m0, m1 = make_member(suite1(), b"a"), make_member(suite1(), b"b")
    p = ParentNode(make_member(suite1(), b"p").leaf.encryption_key)
    # [leaf0, parent1]: root 1 non-blank, leaf 1 blank
    bad: list[list[Node | None]] = [[m0.leaf, p], [m0.leaf, None, None, p], [m0.leaf, None, m1.leaf, None, None, p]]
    for nodes in bad:
        with pytest.raises(ValidationError) as ei:
            RatchetTree.from_bytes(suite1(), _encode(nodes))
        assert ei.value.section == "7.7"
    # the truncated shapes are accepted: 1, 2 (full), 3 leaves
    good: list[list[Node | None]] = [[m0.leaf], [m0.leaf, None, m1.leaf], [m0.leaf, None, None, None, m1.leaf]]
    for nodes in good:
        t = RatchetTree.from_bytes(suite1(), _encode(nodes))
        assert t.to_bytes() == _encode(nodes)


def test_blank_terminated_tree_still_a_decode_error() -> None:
    m0 = make_member(suite1(), b"a")
    with pytest.raises(DecodeError):
        RatchetTree.from_bytes(suite1(), _encode([m0.leaf, None, None]))


def test_leaf_span() -> None:
    g = Group(suite1(), 5)
    assert g.tree.n_leaves == 8 and g.tree.leaf_span() == 5
    g.tree.blank_leaf(4)
    assert g.tree.leaf_span() == 4
    assert RatchetTree(suite1()).leaf_span() == 0


# ---- unmerged leaves: verification linear in their number (issue 8, defect 1) --------------


class _Counted(int):
    """A leaf index whose comparisons are counted."""

    calls = 0

    def _count(self) -> None:
        _Counted.calls += 1

    def __eq__(self, other: object) -> bool:
        self._count()
        return int(self) == other

    def __lt__(self, other: int) -> bool:
        self._count()
        return int(self) < other

    def __le__(self, other: int) -> bool:
        self._count()
        return int(self) <= other

    def __gt__(self, other: int) -> bool:
        self._count()
        return int(self) > other

    def __ge__(self, other: int) -> bool:
        self._count()
        return int(self) >= other

    __hash__ = int.__hash__


def test_defect1_unmerged_leaves_checks_are_not_quadratic() -> None:
    """§12.4.3.1/§7.9: a tree whose every parent lists all its descendant leaves as unmerged
    (consistent, so every check runs to the end). Checking the unmerged lists and the
    parent hashes' "original" sibling trees used to scan the lists per node: ~N^2
    comparisons (2M for N = 1024); now O(N log^2 N)."""
    import os

    from mls_pq.tree import math as tm

    suite = suite1()
    n = 1024
    width = 2 * n - 1
    nodes: list[Node | None] = [None] * width
    for i in range(n):
        nodes[2 * i] = make_member(suite, b"m%d" % i).leaf
    for p in range(1, width, 2):
        k = tm.level(p)
        lo = (p - ((1 << k) - 1)) // 2
        nodes[p] = ParentNode(os.urandom(32), b"", tuple(_Counted(u) for u in range(lo, lo + (1 << k))))
    tree = RatchetTree(suite, nodes)
    _Counted.calls = 0
    tree.verify_unmerged_leaves()
    for p in range(1, width, 2):
        tree.original_sibling_tree_hash(p, tm.right(p))
    budget = 4 * n * 10 * 10  # N log^2 N with room
    assert _Counted.calls < budget, _Counted.calls
