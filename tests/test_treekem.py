"""TreeKEM (RFC 9420 §7.4–7.6): simulated groups agree on commit secrets and trees; every
check on a received UpdatePath rejects a crafted bad one; commits hash O(log N) nodes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mls_pq.errors import DecryptError, ValidationError
from mls_pq.messages.leaf_node import LeafNodeSource
from mls_pq.messages.update_path import HPKECiphertext, UpdatePath, UpdatePathNode
from mls_pq.tree import math as tm
from mls_pq.tree.leaf_validation import validate_ratchet_tree
from mls_pq.tree.nodes import ParentNode
from mls_pq.tree.ratchet_tree import RatchetTree
from mls_pq.treekem import (
    UPDATE_PATH_NODE_LABEL,
    PrivateTree,
    apply_update_path,
    create_update_path,
    next_path_secret,
    node_key_pair,
)
from tests.tree.helpers import GROUP_ID, CountingHash, Group, make_member, suite1


def test_group_commits_removes_and_adds_agree() -> None:
    s = suite1()
    g = Group(s, 7)
    seen = {g.commit(3)}
    seen.add(g.commit(6, removes=[2]))
    seen.add(g.commit(0, adds=[make_member(s, b"n1"), make_member(s, b"n2")]))  # fills leaf 2 then 7
    assert sorted(g.privs) == list(range(8))
    seen.add(g.commit(7, removes=[1, 4]))
    seen.add(g.commit(2))
    assert len(seen) == 5  # fresh secrets every epoch
    validate_ratchet_tree(g.tree, GROUP_ID)


def test_path_secret_chain_and_keys() -> None:
    """path_secret[n] = DeriveSecret(path_secret[n-1], "path"); node keys from "node";
    commit_secret = DeriveSecret(last, "path") (RFC 9420 §7.4)."""
    s = suite1()
    g = Group(s, 5)
    t = g.tree.copy()
    fdp = t.filtered_direct_path(1)
    ps0 = bytes(range(32))
    created = create_update_path(t, 1, g.context(), g.privs[1].signature_priv, path_secret=ps0)
    assert list(created.path_secrets) == fdp
    ps = ps0
    for x, upn in zip(fdp, created.update_path.nodes):
        assert created.path_secrets[x] == ps
        sk, pk = node_key_pair(s, ps)
        assert upn.encryption_key == pk == s.derive_key_pair(s.derive_secret(ps, "node"))[1]
        assert created.private.path_keys[x] == (sk, pk)
        ps = s.derive_secret(ps, "path")
    assert created.commit_secret == ps == next_path_secret(s, created.path_secrets[fdp[-1]])
    assert created.update_path.leaf_node.leaf_node_source == LeafNodeSource.COMMIT
    assert created.update_path.leaf_node.verify(s, GROUP_ID, 1)
    assert created.group_context.tree_hash == t.tree_hash()


def test_new_members_are_excluded_from_encryption() -> None:
    s = suite1()
    g = Group(s, 3)  # leaves 0..2, leaf 3 blank
    t = g.tree.copy()
    new = t.add_leaf(make_member(s, b"new").leaf)
    assert new == 3
    pairs = t.filtered_direct_path_pairs(0)
    created = create_update_path(t.copy(), 0, g.context(), g.privs[0].signature_priv, excluded_leaves={new})
    for (p, sib), upn in zip(pairs, created.update_path.nodes):
        res = [x for x in t.resolution(sib) if x != 2 * new]
        assert len(upn.encrypted_path_secret) == len(res)
    # copath of leaf 0 at the root is node 5 = {leaf 2, leaf 3}: leaf 3 gets nothing
    assert len(created.update_path.nodes[-1].encrypted_path_secret) == 1
    # the new member's path secret (for the Welcome) is the root's
    assert created.path_secret_for(new) == created.path_secrets[t.root]


def test_external_join_path_on_reserved_leaf() -> None:
    """An external joiner takes the leftmost blank leaf (reserve_leaf) and commits a path
    from it; members merge it and derive the same commit secret (RFC 9420 §12.4.3.2)."""
    s = suite1()
    g = Group(s, 5)
    g.commit(1, removes=[2])
    joiner = make_member(s, b"external")
    base = g.tree.copy()
    slot = base.reserve_leaf()
    assert slot == 2 and base.leaf(2) is None
    mine = base.copy()
    created = create_update_path(mine, slot, g.context(), joiner.sig_sk, leaf_template=joiner.leaf)
    assert mine.leaf(slot) == created.update_path.leaf_node
    for priv in g.privs.values():
        theirs = base.copy()
        res = apply_update_path(theirs, slot, created.update_path, g.context(), private=priv)
        assert res.commit_secret == created.commit_secret
        assert theirs.tree_hash() == mine.tree_hash()
    validate_ratchet_tree(mine, GROUP_ID)
    with pytest.raises(ValidationError):
        create_update_path(base.copy(), slot, g.context(), joiner.sig_sk)  # blank leaf, no template


def _received(g: Group, sender: int) -> tuple[RatchetTree, RatchetTree, object]:
    base = g.tree.copy()
    mine = base.copy()
    created = create_update_path(mine, sender, g.context(), g.privs[sender].signature_priv)
    return base, mine, created


def test_bad_leaf_parent_hash_rejected() -> None:
    s = suite1()
    g = Group(s, 4)
    base, _, created = _received(g, 0)
    path: UpdatePath = created.update_path  # type: ignore[attr-defined]
    leaf = replace(path.leaf_node, parent_hash=b"\x00" * 32).sign(s, g.privs[0].signature_priv, GROUP_ID, 0)
    with pytest.raises(ValidationError) as e:
        apply_update_path(base, 0, replace(path, leaf_node=leaf), g.context(), private=g.privs[1])
    assert e.value.section == "7.9.2"


def test_bad_committer_leaf_signature_rejected() -> None:
    s = suite1()
    g = Group(s, 4)
    base, _, created = _received(g, 0)
    path: UpdatePath = created.update_path  # type: ignore[attr-defined]
    leaf = replace(path.leaf_node, signature=bytes(64))
    with pytest.raises(ValidationError) as e:
        apply_update_path(base, 0, replace(path, leaf_node=leaf), g.context())
    assert e.value.section == "7.3"
    upd = replace(path.leaf_node, leaf_node_source=int(LeafNodeSource.UPDATE), parent_hash=None).sign(
        s, g.privs[0].signature_priv, GROUP_ID, 0
    )
    with pytest.raises(ValidationError, match="expected commit") as e:
        apply_update_path(g.tree.copy(), 0, replace(path, leaf_node=upd), g.context())
    assert e.value.section == "7.3"


def test_wrong_path_length_and_ciphertext_count_rejected() -> None:
    g = Group(suite1(), 4)
    base, _, created = _received(g, 0)
    path: UpdatePath = created.update_path  # type: ignore[attr-defined]
    with pytest.raises(ValidationError) as e:
        apply_update_path(base.copy(), 0, replace(path, nodes=path.nodes[:-1]), g.context())
    assert e.value.section == "7.6"
    n0 = path.nodes[0]
    extra = replace(n0, encrypted_path_secret=n0.encrypted_path_secret * 2)
    with pytest.raises(ValidationError) as e:
        apply_update_path(base.copy(), 0, replace(path, nodes=(extra, *path.nodes[1:])), g.context())
    assert e.value.section == "7.6"


def test_path_key_already_in_tree_rejected() -> None:
    g = Group(suite1(), 4)
    base, _, created = _received(g, 0)
    path: UpdatePath = created.update_path  # type: ignore[attr-defined]
    other = base.leaf(3)
    assert other is not None
    bad = replace(path.nodes[0], encryption_key=other.encryption_key)
    with pytest.raises(ValidationError) as e:
        apply_update_path(base, 0, replace(path, nodes=(bad, *path.nodes[1:])), g.context())
    assert e.value.section == "12.4.2"


def test_derived_key_mismatch_rejected() -> None:
    """A path whose public keys and parent hashes are consistent, but whose ciphertexts carry
    other path secrets: the derived keys differ from the UpdatePath's (RFC 9420 §7.5)."""
    s = suite1()
    g = Group(s, 4)
    ctx = g.context()
    base = g.tree.copy()
    a = create_update_path(base.copy(), 0, ctx, g.privs[0].signature_priv, path_secret=b"A" * 32)
    tb = base.copy()
    b = create_update_path(tb, 0, ctx, g.privs[0].signature_priv, path_secret=b"B" * 32)
    ctx_b = b.group_context.to_bytes()
    nodes = []
    for (p, sib), upn in zip(base.filtered_direct_path_pairs(0), b.update_path.nodes):
        cts = []
        for x in base.resolution(sib):
            n = base.node(x)
            assert n is not None
            cts.append(
                HPKECiphertext(
                    *s.encrypt_with_label(n.encryption_key, UPDATE_PATH_NODE_LABEL, ctx_b, a.path_secrets[p])
                )
            )
        nodes.append(UpdatePathNode(upn.encryption_key, tuple(cts)))
    forged = UpdatePath(b.update_path.leaf_node, tuple(nodes))
    with pytest.raises(ValidationError) as e:
        apply_update_path(base.copy(), 0, forged, ctx, private=g.privs[2])
    assert e.value.section == "7.5"
    # the genuine path from B is accepted by the same member
    res = apply_update_path(base.copy(), 0, b.update_path, ctx, private=g.privs[2])
    assert res.commit_secret == b.commit_secret


def test_tampered_ciphertext_or_context_fails_decryption() -> None:
    s = suite1()
    g = Group(s, 4)
    base, _, created = _received(g, 0)
    path: UpdatePath = created.update_path  # type: ignore[attr-defined]
    last = path.nodes[-1]
    ct = last.encrypted_path_secret[0]
    bad_ct = HPKECiphertext(ct.kem_output, ct.ciphertext[:-1] + bytes([ct.ciphertext[-1] ^ 1]))
    bad = replace(last, encrypted_path_secret=(bad_ct, *last.encrypted_path_secret[1:]))
    with pytest.raises(DecryptError):
        apply_update_path(base.copy(), 0, replace(path, nodes=(*path.nodes[:-1], bad)), g.context(), private=g.privs[2])
    with pytest.raises(DecryptError):  # a member with another epoch's context cannot decrypt
        apply_update_path(base.copy(), 0, path, replace(g.context(), epoch=99), private=g.privs[2])


def test_cannot_process_own_path_and_implant_checks_keys() -> None:
    s = suite1()
    g = Group(s, 4)
    base, mine, created = _received(g, 0)
    path: UpdatePath = created.update_path  # type: ignore[attr-defined]
    with pytest.raises(ValidationError):
        apply_update_path(base.copy(), 0, path, g.context(), private=g.privs[0])
    p = PrivateTree(3, b"", b"")
    with pytest.raises(ValidationError) as e:
        p.implant(mine, mine.root, b"wrong secret".ljust(32, b"\x00"))
    assert e.value.section == "12.4.3.1"
    p.implant(mine, mine.root, created.path_secrets[mine.root])  # type: ignore[attr-defined]
    assert set(p.path_keys) == {mine.root}


def test_private_tree_repr_has_no_secrets() -> None:
    p = PrivateTree(1, b"\x11" * 32, b"\x22" * 32, {3: (b"\x33" * 32, b"pub")})
    assert "1111" not in repr(p) and "\\x11" not in repr(p) and "\\x33" not in repr(p)


# ---- O(log N) re-hashing --------------------------------------------------------------------
def _big_tree(n_leaves: int) -> tuple[RatchetTree, list[bytes], CountingHash]:
    """A full tree with every parent populated (each resolution is a single node)."""
    base = suite1()
    counter = CountingHash(base.hash)
    s = base.with_primitives(hash=counter)
    nodes: list = [None] * (2 * n_leaves - 1)  # type: ignore[type-arg]
    sig_sks = []
    for i in range(n_leaves):
        m = make_member(base, b"m%d" % i)
        nodes[2 * i] = m.leaf
        sig_sks.append(m.sig_sk)
    for x in range(1, 2 * n_leaves - 1, 2):
        nodes[x] = ParentNode(base.generate_key_pair()[1])
    return RatchetTree(s, nodes), sig_sks, counter


@pytest.mark.parametrize("n_leaves", [64, 1024])
def test_commit_rehashes_log_n_nodes(n_leaves: int) -> None:
    t, sig_sks, counter = _big_tree(n_leaves)
    t.tree_hash()
    full = counter.calls
    assert full == 2 * n_leaves - 1  # one digest per node on a cold cache
    depth = tm.log2(n_leaves)
    budget = 3 * (depth + 1)

    from mls_pq.group_context import GroupContext
    from tests.tree.helpers import GROUP_ID

    ctx = GroupContext(t.suite.id, GROUP_ID, 1, b"", b"")
    counter.calls = 0
    committer_tree = t.copy()
    created = create_update_path(committer_tree, 5, ctx, sig_sks[5])
    commit_hashes = counter.calls
    assert commit_hashes <= budget, commit_hashes

    counter.calls = 0
    receiver_tree = t.copy()
    apply_update_path(receiver_tree, 5, created.update_path, ctx)
    assert counter.calls <= budget, counter.calls
    assert receiver_tree.tree_hash() == committer_tree.tree_hash()

    counter.calls = 0
    t2 = t.copy()
    t2.remove_leaf(n_leaves - 3)
    t2.add_leaf(make_member(suite1(), b"joiner").leaf)
    t2.tree_hash()
    assert counter.calls <= 2 * (depth + 1), counter.calls
    assert t.tree_hash() == RatchetTree(suite1(), t.nodes).tree_hash()  # original untouched
