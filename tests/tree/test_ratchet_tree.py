"""RatchetTree: shape operations, resolution/filtered direct path, hash caching, validation."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from mls_pq.codec import Writer
from mls_pq.errors import DecodeError, ValidationError
from mls_pq.extensions import REQUIRED_CAPABILITIES, Extension
from mls_pq.messages.credential import Credential
from mls_pq.messages.leaf_node import Capabilities, LeafNode, LeafNodeSource
from mls_pq.tree.leaf_validation import (
    CapSummary,
    LeafContext,
    check_new_leaf_in_tree,
    validate_leaf_node,
    validate_ratchet_tree,
)
from mls_pq.tree.nodes import ParentNode, decode_ratchet_tree, encode_ratchet_tree
from mls_pq.tree.ratchet_tree import RatchetTree
from tests._vectors import load, path
from tests.tree.helpers import CAPS, GROUP_ID, Group, make_member, required_ext, suite1

MLS = "mls-implementations/test-vectors"


def _vector_tree(index: int = 0) -> tuple[RatchetTree, dict]:  # type: ignore[type-arg]
    if not path(MLS, "tree-validation.json").exists():
        pytest.skip("vectors absent")
    c = load(MLS, "tree-validation.json")[index]
    from mls_pq.suites import get_suite

    return RatchetTree.from_bytes(get_suite(c["cipher_suite"]), bytes.fromhex(c["tree"])), c


def _pk(i: int) -> bytes:
    return bytes([i]) * 32


# ---- shape ----------------------------------------------------------------------------------
def test_add_fills_leftmost_blank_then_doubles() -> None:
    s = suite1()
    t = RatchetTree(s)
    ms = [make_member(s, b"%d" % i) for i in range(5)]
    assert [t.add_leaf(m.leaf) for m in ms[:3]] == [0, 1, 2]
    assert t.n_leaves == 4 and t.n_nodes == 7
    t.blank_leaf(1)
    assert t.add_leaf(ms[3].leaf) == 1  # leftmost blank, not the end
    assert t.add_leaf(ms[4].leaf) == 3
    m5 = make_member(s, b"5")
    assert t.add_leaf(m5.leaf) == 4 and t.n_leaves == 8 and t.n_nodes == 15  # doubled


def test_add_marks_unmerged_in_nonblank_parents_only() -> None:
    s = suite1()
    g = Group(s, 3)  # leaves 0,1,2; committer 0 populated nodes 1 and 3
    t = g.tree
    assert t.node(1) is not None and t.node(3) is not None and t.node(5) is None
    new = t.add_leaf(make_member(s, b"x").leaf)
    assert new == 3
    p3 = t.parent_node(3)
    assert p3 is not None and p3.unmerged_leaves == (3,)
    assert t.resolution(5) == (4, 6)
    assert t.resolution(3) == (3, 6)


def test_remove_truncates_by_halving() -> None:
    s = suite1()
    t = RatchetTree(s)
    for i in range(5):
        t.add_leaf(make_member(s, b"%d" % i).leaf)
    assert t.n_leaves == 8
    t.remove_leaf(4)
    assert t.n_leaves == 4
    t.remove_leaf(3)
    assert t.n_leaves == 4  # leaf 2 still in the right half
    t.remove_leaf(2)
    assert t.n_leaves == 2
    with pytest.raises(ValidationError) as e:
        t.remove_leaf(5)
    assert e.value.section == "4.1"


def test_remove_blank_leaf_rejected() -> None:
    s = suite1()
    t = RatchetTree(s)
    for i in range(3):
        t.add_leaf(make_member(s, b"%d" % i).leaf)
    t.blank_leaf(1)
    with pytest.raises(ValidationError) as e:
        t.remove_leaf(1)
    assert e.value.section == "12.1.3"


def test_rfc_figure_filtered_direct_paths() -> None:
    """RFC 9420 §4.1.2 table: members A, B, E, F, G; blank U, V, Z and leaves 2, 3, 7."""
    s = suite1()
    nodes: list = [None] * 15  # type: ignore[type-arg]
    for i in (0, 1, 4, 5, 6):
        nodes[2 * i] = make_member(s, b"%d" % i).leaf
    T, U, V, W, X, Y, Z = 1, 3, 5, 7, 9, 11, 13
    for x in (T, W, X, Y):
        nodes[x] = ParentNode(_pk(x))
    t = RatchetTree(s, nodes)
    table = {  # leaf: (direct path, copath, filtered direct path)
        0: ([T, U, W], [2, V, Y], [T, W]),
        1: ([T, U, W], [0, V, Y], [T, W]),
        4: ([X, Y, W], [10, Z, U], [X, Y, W]),
        5: ([X, Y, W], [8, Z, U], [X, Y, W]),
        6: ([Z, Y, W], [14, X, U], [Y, W]),
    }
    for leaf, (dp, cp, fdp) in table.items():
        assert t.direct_path(leaf) == dp
        assert t.copath(leaf) == cp
        assert t.filtered_direct_path(leaf) == fdp
    assert t.resolution(U) == (T,)
    assert t.resolution(V) == ()
    assert t.resolution(Z) == (12,)
    assert t.resolution(W) == (W,)


def test_resolution_lists_unmerged_leaves() -> None:
    """A non-blank parent's resolution is itself followed by its unmerged leaves (§4.1.1)."""
    s = suite1()
    nodes: list = [None] * 7  # type: ignore[type-arg]
    for i in range(4):
        nodes[2 * i] = make_member(s, b"%d" % i).leaf
    nodes[5] = ParentNode(_pk(5), b"", (2,))
    t = RatchetTree(s, nodes)
    assert t.resolution(5) == (5, 4)
    assert t.resolution(1) == (0, 2)
    assert t.resolution(3) == (0, 2, 5, 4)


# ---- encoding -------------------------------------------------------------------------------
def test_ratchet_tree_roundtrip_drops_trailing_blanks() -> None:
    s = suite1()
    g = Group(s, 3)
    raw = g.tree.to_bytes()
    nodes = decode_ratchet_tree(raw)
    assert len(nodes) == 7 and nodes[5] is None and nodes[6] is None
    assert RatchetTree.from_bytes(s, raw) == g.tree
    assert encode_ratchet_tree(nodes) == raw


def _leaf_entry(w: Writer, leaf: LeafNode) -> None:
    """A ``Node`` of type leaf (§7.8): node_type 1, then the LeafNode."""
    w.uint8(1)
    leaf.encode(w)


def test_decode_rejects_trailing_blank() -> None:
    w = Writer()
    leaf = make_member(suite1(), b"a").leaf
    w.vector([leaf, None], lambda ww, n: ww.optional(n, _leaf_entry))
    with pytest.raises(DecodeError, match="12.4.3.3"):
        decode_ratchet_tree(w.getvalue())


def test_decode_rejects_leaf_at_parent_position() -> None:
    leaf = make_member(suite1(), b"a").leaf
    w = Writer()
    w.vector([leaf, leaf, leaf], lambda ww, n: ww.optional(n, _leaf_entry))
    with pytest.raises(DecodeError, match="array index 1"):
        decode_ratchet_tree(w.getvalue())


def test_decode_rejects_unknown_node_type_and_empty() -> None:
    with pytest.raises(DecodeError):
        decode_ratchet_tree(bytes([3, 1, 3, 0]))
    with pytest.raises(DecodeError, match="empty"):
        decode_ratchet_tree(bytes([0]))


# ---- caching --------------------------------------------------------------------------------
def test_copy_is_independent_and_shares_cache() -> None:
    s = suite1()
    g = Group(s, 6)
    t = g.tree
    before = t.tree_hash()
    c = t.copy()
    c.remove_leaf(5)
    c.add_leaf(make_member(s, b"new").leaf)
    assert t.tree_hash() == before
    assert RatchetTree(s, t.nodes).tree_hash() == before
    assert c.tree_hash() != before
    assert RatchetTree(s, c.nodes).tree_hash() == c.tree_hash()


def test_incremental_hashes_match_from_scratch() -> None:
    """Random add/remove/update sequences: cached tree hashes and resolutions always equal
    a fresh computation over the same nodes."""
    s = suite1()
    rnd = random.Random(7)
    g = Group(s, 5)
    t = g.tree
    for step in range(60):
        members = [i for i, _ in t.leaves()]
        op = rnd.random()
        if op < 0.45 or len(members) < 2:
            t.add_leaf(make_member(s, b"s%d" % step).leaf)
        elif op < 0.8:
            t.remove_leaf(rnd.choice(members))
        else:
            i = rnd.choice(members)
            old = t.leaf(i)
            assert old is not None
            _, pk = s.generate_key_pair()
            t.update_leaf(
                i,
                replace(
                    old, encryption_key=pk, leaf_node_source=int(LeafNodeSource.UPDATE), lifetime=None, parent_hash=None
                ),
            )
        fresh = RatchetTree(s, t.nodes)
        assert t.tree_hashes() == fresh.tree_hashes()
        assert [t.resolution(x) for x in range(t.n_nodes)] == [fresh.resolution(x) for x in range(fresh.n_nodes)]


# ---- validation (negative tests name the RFC section) ---------------------------------------
def test_valid_group_tree_validates() -> None:
    g = Group(suite1(), 7)
    g.commit(3)
    g.commit(6, adds=[make_member(suite1(), b"late")])
    validate_ratchet_tree(g.tree, GROUP_ID)
    validate_ratchet_tree(RatchetTree.from_bytes(suite1(), g.tree.to_bytes()), GROUP_ID)


def test_bad_parent_hash_rejected() -> None:
    t, c = _vector_tree(0)
    validate_ratchet_tree(t, bytes.fromhex(c["group_id"]))
    p = next(x for x in range(1, t.n_nodes, 2) if t.node(x) is not None)
    node = t.parent_node(p)
    assert node is not None
    t.set_node(p, replace(node, parent_hash=b"\x00" * len(node.parent_hash) if node.parent_hash else b"\x01"))
    with pytest.raises(ValidationError) as e:
        validate_ratchet_tree(t, bytes.fromhex(c["group_id"]))
    assert e.value.section == "7.9.2"


def test_swapped_parent_key_breaks_parent_hash() -> None:
    s = suite1()
    g = Group(s, 4)
    t = g.tree.copy()
    node = t.parent_node(t.root)
    assert node is not None
    t.set_node(t.root, replace(node, encryption_key=_pk(99)))
    with pytest.raises(ValidationError) as e:
        t.verify_parent_hashes()
    assert e.value.section == "7.9.2"


def test_bad_leaf_signature_rejected() -> None:
    t, c = _vector_tree(3)
    i, leaf = next(iter(t.leaves()))
    sig = bytearray(leaf.signature)
    sig[5] ^= 1
    t.set_leaf(i, replace(leaf, signature=bytes(sig)))
    with pytest.raises(ValidationError) as e:
        validate_ratchet_tree(t, bytes.fromhex(c["group_id"]))
    assert e.value.section == "7.3"


def test_wrong_group_id_fails_update_commit_leaf_signatures() -> None:
    g = Group(suite1(), 3)
    with pytest.raises(ValidationError) as e:
        validate_ratchet_tree(g.tree, b"another group")
    assert e.value.section == "7.3"


def test_duplicate_encryption_key_rejected() -> None:
    s = suite1()
    g = Group(s, 3)
    t = g.tree.copy()
    a, b = t.leaf(1), t.leaf(2)
    assert a is not None and b is not None
    t.set_node(2 * 2, replace(b, encryption_key=a.encryption_key))
    with pytest.raises(ValidationError) as e:
        t.verify_key_uniqueness()
    assert e.value.section == "7.3"
    # and a leaf joining with a key already in the tree
    m = make_member(s, b"dup", encryption_key=a.encryption_key)
    with pytest.raises(ValidationError) as e:
        check_new_leaf_in_tree(g.tree, CapSummary.of(g.tree), m.leaf, None)
    assert e.value.section == "7.3" and "encryption key" in str(e.value)


def test_parent_key_equal_to_leaf_key_rejected() -> None:
    s = suite1()
    g = Group(s, 3)
    t = g.tree.copy()
    leaf = t.leaf(0)
    node = t.parent_node(1)
    assert leaf is not None and node is not None
    t.set_node(1, replace(node, encryption_key=leaf.encryption_key))
    with pytest.raises(ValidationError) as e:
        t.verify_key_uniqueness()
    assert e.value.section == "7.3"


def test_duplicate_signature_key_rejected() -> None:
    s = suite1()
    g = Group(s, 3)
    a = g.tree.leaf(1)
    assert a is not None
    m = make_member(s, b"dup", signature_key=a.signature_key)
    with pytest.raises(ValidationError) as e:
        validate_leaf_node(s, m.leaf, LeafContext.key_package())
    # re-signed by a different key: the signature fails first unless we sign with a's key
    assert e.value.section == "7.3"
    m2 = replace(m.leaf, signature_key=a.signature_key).sign(s, g.privs[1].signature_priv)
    with pytest.raises(ValidationError, match="signature key is already used"):
        check_new_leaf_in_tree(g.tree, CapSummary.of(g.tree), m2, None)
    # but the member being replaced may keep its signature key
    upd = replace(m2, leaf_node_source=int(LeafNodeSource.UPDATE), lifetime=None).sign(
        s, g.privs[1].signature_priv, GROUP_ID, 1
    )
    validate_leaf_node(s, upd, LeafContext.update(GROUP_ID, 1))
    check_new_leaf_in_tree(g.tree, CapSummary.of(g.tree), upd, 1)


def test_update_must_change_encryption_key() -> None:
    s = suite1()
    g = Group(s, 2)
    old = g.tree.leaf(1)
    assert old is not None
    upd = replace(old, leaf_node_source=int(LeafNodeSource.UPDATE), lifetime=None, parent_hash=None).sign(
        s, g.privs[1].signature_priv, GROUP_ID, 1
    )
    with pytest.raises(ValidationError, match="leaf it replaces") as e:
        check_new_leaf_in_tree(g.tree, CapSummary.of(g.tree), upd, 1)
    assert e.value.section == "7.3"


def test_unmerged_leaf_checks() -> None:
    s = suite1()
    nodes: list = [None] * 7  # type: ignore[type-arg]
    for i in (0, 1, 2):
        nodes[2 * i] = make_member(s, b"%d" % i).leaf
    nodes[5] = ParentNode(_pk(5), b"", (3,))  # leaf 3 is blank
    with pytest.raises(ValidationError) as e:
        RatchetTree(s, nodes).verify_unmerged_leaves()
    assert e.value.section == "12.4.3.1"
    nodes[5] = ParentNode(_pk(5), b"", (0,))  # not a descendant
    with pytest.raises(ValidationError) as e:
        RatchetTree(s, nodes).verify_unmerged_leaves()
    assert e.value.section == "12.4.3.1"
    nodes[6] = make_member(s, b"3").leaf
    nodes[5] = ParentNode(_pk(5), b"", (3, 2))  # unsorted
    with pytest.raises(ValidationError) as e:
        RatchetTree(s, nodes).verify_unmerged_leaves()
    assert e.value.section == "7.1"
    nodes[5] = ParentNode(_pk(5), b"", ())
    nodes[3] = ParentNode(_pk(3), b"", (2,))  # intermediate node 5 lacks leaf 2
    with pytest.raises(ValidationError) as e:
        RatchetTree(s, nodes).verify_unmerged_leaves()
    assert e.value.section == "12.4.3.1" and "lacks" in str(e.value)
    nodes[5] = ParentNode(_pk(5), b"", (2,))
    RatchetTree(s, nodes).verify_unmerged_leaves()


def test_lifetime_checked_with_injected_clock() -> None:
    s = suite1()
    m = make_member(s, b"a")  # lifetime [1000, 2000]
    validate_leaf_node(s, m.leaf, LeafContext.key_package(now=1500))
    for now in (999, 2001):
        with pytest.raises(ValidationError) as e:
            validate_leaf_node(s, m.leaf, LeafContext.key_package(now=now))
        assert e.value.section == "7.3"
    with pytest.raises(ValidationError) as e:
        validate_leaf_node(s, m.leaf, LeafContext.key_package(max_lifetime=500))
    assert e.value.section == "7.2"


def test_leaf_source_checked() -> None:
    s = suite1()
    m = make_member(s, b"a")
    with pytest.raises(ValidationError) as e:
        validate_leaf_node(s, m.leaf, LeafContext.commit(GROUP_ID, 0))
    assert e.value.section == "7.3"


def test_leaf_extension_must_be_in_capabilities() -> None:
    s = suite1()
    m = make_member(s, b"a", extensions=(Extension(0xFF01, b"x"),))
    with pytest.raises(ValidationError) as e:
        validate_leaf_node(s, m.leaf, LeafContext.key_package())
    assert e.value.section == "7.3"
    ok = make_member(s, b"b", caps=replace(CAPS, extensions=(0xFF01,)), extensions=(Extension(0xFF01, b"x"),))
    validate_leaf_node(s, ok.leaf, LeafContext.key_package())
    # default extension types need not be listed
    validate_leaf_node(s, make_member(s, b"c", extensions=(Extension(0x0001, b"app"),)).leaf, LeafContext.key_package())


def test_credential_type_must_be_in_own_capabilities() -> None:
    s = suite1()
    m = make_member(s, b"a", caps=replace(CAPS, credentials=(2,)))
    with pytest.raises(ValidationError) as e:
        validate_leaf_node(s, m.leaf, LeafContext.key_package())
    assert e.value.section == "7.2"


def test_credential_types_supported_by_all_members() -> None:
    s = suite1()
    g = Group(s, 2)  # basic-only members
    x509 = make_member(s, b"x", caps=replace(CAPS, credentials=(1, 2)), credential=Credential.x509([b"cert"]))
    with pytest.raises(ValidationError, match="not supported by all members") as e:
        CapSummary.of(g.tree).check(x509.leaf)
    assert e.value.section == "7.3"
    g2 = Group(s, 1)
    g2.tree.set_leaf(0, make_member(s, b"y", caps=replace(CAPS, credentials=(1, 2))).leaf)
    g2.tree.add_leaf(x509.leaf)
    basic_only = make_member(s, b"z")
    with pytest.raises(ValidationError, match="does not support credential type 2") as e:
        CapSummary.of(g2.tree).check(basic_only.leaf)
    assert e.value.section == "7.3"


def test_required_capabilities_enforced() -> None:
    s = suite1()
    m = make_member(s, b"a")
    validate_leaf_node(s, m.leaf, LeafContext.key_package([required_ext([0x0002], [0x0001], [1])]))  # defaults implicit
    for req in (required_ext([0xFF02], [], []), required_ext([], [0xFF03], []), required_ext([], [], [2])):
        with pytest.raises(ValidationError) as e:
            validate_leaf_node(s, m.leaf, LeafContext.key_package([req]))
        assert e.value.section == "7.3"
    with pytest.raises(ValidationError) as e:  # a non-default group extension must be supported
        validate_leaf_node(s, m.leaf, LeafContext.key_package([Extension(0xFF04, b"")]))
    assert e.value.section == "7.3"
    with pytest.raises(DecodeError):
        validate_leaf_node(s, m.leaf, LeafContext.key_package([Extension(REQUIRED_CAPABILITIES, b"\x05")]))


def test_optional_cipher_suite_listing() -> None:
    s = suite1()
    m = make_member(s, b"a", caps=Capabilities(cipher_suites=(2,), credentials=(1,)))
    validate_leaf_node(s, m.leaf, LeafContext.key_package())
    with pytest.raises(ValidationError) as e:
        validate_leaf_node(s, m.leaf, LeafContext.key_package(require_suite_listed=True))
    assert e.value.section == "7.2"
