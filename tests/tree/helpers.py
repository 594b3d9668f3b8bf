"""Builders for tree/TreeKEM tests: signed members and a small simulated group."""

from __future__ import annotations

from dataclasses import dataclass, field

from mls_pq.codec import Writer
from mls_pq.crypto.base import Hash
from mls_pq.extensions import REQUIRED_CAPABILITIES, Extension
from mls_pq.group_context import GroupContext
from mls_pq.messages.credential import Credential
from mls_pq.messages.leaf_node import Capabilities, LeafNode, LeafNodeSource, Lifetime
from mls_pq.suites import CipherSuite, get_suite
from mls_pq.tree import math as tm
from mls_pq.tree.ratchet_tree import RatchetTree
from mls_pq.treekem import PrivateTree, apply_update_path, create_update_path

GROUP_ID = b"tree-test-group"
CAPS = Capabilities(versions=(1,), cipher_suites=(1,), credentials=(1,))


def suite1() -> CipherSuite:
    return get_suite(1)


@dataclass
class Member:
    leaf: LeafNode
    sig_sk: bytes = field(repr=False)
    enc_sk: bytes = field(repr=False)


def make_member(suite: CipherSuite, ident: bytes, caps: Capabilities = CAPS, **leaf_kw: object) -> Member:
    sig_sk, sig_pk = suite.signature.generate()
    enc_sk, enc_pk = suite.generate_key_pair()
    fields: dict[str, object] = {
        "encryption_key": enc_pk,
        "signature_key": sig_pk,
        "credential": Credential.basic(ident),
        "capabilities": caps,
        "leaf_node_source": int(LeafNodeSource.KEY_PACKAGE),
        "lifetime": Lifetime(1000, 2000),
    }
    fields.update(leaf_kw)
    leaf = LeafNode(**fields).sign(suite, sig_sk)  # type: ignore[arg-type]
    return Member(leaf, sig_sk, enc_sk)


def required_ext(exts: list[int], props: list[int], creds: list[int]) -> Extension:
    """A ``required_capabilities`` GroupContext extension (RFC 9420 §11.1)."""
    w = Writer()
    for items in (exts, props, creds):
        w.vector(items, lambda ww, x: ww.uint16(x))
    return Extension(REQUIRED_CAPABILITIES, w.getvalue())


class CountingHash(Hash):
    """Wraps a Hash and counts ``digest`` calls (tree and parent hashes use digest)."""

    def __init__(self, inner: Hash) -> None:
        self.inner = inner
        self.name = inner.name
        self.size = inner.size
        self.backend = inner.backend
        self.calls = 0

    def digest(self, data: bytes) -> bytes:
        self.calls += 1
        return self.inner.digest(data)

    def hmac(self, key: bytes, data: bytes) -> bytes:
        return self.inner.hmac(key, data)


class Group:
    """A simulated group: one shared public tree, a PrivateTree per member, real UpdatePaths."""

    def __init__(self, suite: CipherSuite, n: int) -> None:
        self.suite = suite
        self.tree = RatchetTree(suite)
        first = make_member(suite, b"m0")
        self.tree.add_leaf(first.leaf)
        self.privs: dict[int, PrivateTree] = {0: PrivateTree(0, first.enc_sk, first.sig_sk)}
        self.epoch = 0
        if n > 1:
            self.commit(0, adds=[make_member(suite, b"m%d" % i) for i in range(1, n)])

    def context(self) -> GroupContext:
        return GroupContext(self.suite.id, GROUP_ID, self.epoch + 1, b"", b"cth")

    def commit(self, committer: int, adds: list[Member] = (), removes: list[int] = ()) -> bytes:  # type: ignore[assignment]
        """Apply removes then adds, then a full commit from ``committer``; every member
        processes it. Returns the commit secret (asserted equal for all)."""
        new_tree = self.tree.copy()
        for r in removes:
            new_tree.remove_leaf(r)
            self.privs.pop(r, None)
        added: dict[int, Member] = {}
        for m in adds:
            added[new_tree.add_leaf(m.leaf)] = m
        ctx = self.context()
        base = new_tree.copy()
        created = create_update_path(
            new_tree, committer, ctx, self.privs[committer].signature_priv, excluded_leaves=set(added)
        )
        secrets = {committer: created.commit_secret}
        new_privs = {committer: created.private}
        for j, priv in self.privs.items():
            if j == committer:
                continue
            theirs = base.copy()
            res = apply_update_path(
                theirs, committer, created.update_path, ctx, private=priv, excluded_leaves=set(added)
            )
            assert theirs == new_tree and theirs.tree_hash() == new_tree.tree_hash()
            assert res.commit_secret is not None and res.private is not None
            secrets[j] = res.commit_secret
            new_privs[j] = res.private
        for j, m in added.items():
            p = PrivateTree(j, m.enc_sk, m.sig_sk)
            ps = created.path_secret_for(j)
            assert ps is not None
            p.implant(new_tree, tm.common_ancestor(2 * j, 2 * committer), ps)
            new_privs[j] = p
        assert len(set(secrets.values())) == 1
        for j, p in new_privs.items():
            p.check_consistent(new_tree)
        self.tree, self.privs, self.epoch = new_tree, new_privs, self.epoch + 1
        return created.commit_secret
