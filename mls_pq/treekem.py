"""TreeKEM (RFC 9420 §7.4–7.6): path-secret derivation, creating an UpdatePath (its structs
are in :mod:`mls_pq.messages.update_path`) as committer and merging/decrypting a received one, and the per-member private
tree state.

Both :func:`create_update_path` and :func:`apply_update_path` mutate the tree they are
given (the group engine passes the next epoch's tree, a :meth:`RatchetTree.copy`); they
never mutate a :class:`PrivateTree` but return a new one.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .errors import DecryptError, ValidationError
from .group_context import GroupContext
from .messages.leaf_node import LeafNode, LeafNodeSource
from .messages.update_path import HPKECiphertext, UpdatePath, UpdatePathNode
from .tree import math as tm
from .tree.leaf_validation import CapSummary, LeafContext, check_new_leaf_in_tree, validate_leaf_node
from .tree.ratchet_tree import RatchetTree

if TYPE_CHECKING:
    from .suites import CipherSuite

UPDATE_PATH_NODE_LABEL = "UpdatePathNode"


# ---- path secrets (RFC 9420 §7.4) --------------------------------------------------------------
def next_path_secret(suite: CipherSuite, path_secret: bytes) -> bytes:
    """``path_secret[n] = DeriveSecret(path_secret[n-1], "path")``; also gives commit_secret."""
    return suite.derive_secret(path_secret, "path")


def node_key_pair(suite: CipherSuite, path_secret: bytes) -> tuple[bytes, bytes]:
    """``node_priv, node_pub = KEM.DeriveKeyPair(DeriveSecret(path_secret, "node"))``."""
    return suite.derive_key_pair(suite.derive_secret(path_secret, "node"))


# ---- per-member private state ------------------------------------------------------------------
@dataclass
class PrivateTree:
    """The private keys a member holds (RFC 9420 §4.2 tree invariant): its leaf's HPKE and
    signature private keys, and ``path_keys`` node index -> (HPKE private key, public key)."""

    leaf_index: int
    encryption_priv: bytes = field(repr=False)
    signature_priv: bytes = field(repr=False)
    path_keys: dict[int, tuple[bytes, bytes]] = field(default_factory=dict, repr=False)

    def copy(self) -> PrivateTree:
        return PrivateTree(self.leaf_index, self.encryption_priv, self.signature_priv, dict(self.path_keys))

    def private_key_for(self, tree: RatchetTree, x: int) -> bytes | None:
        """Our private key for node ``x`` if we hold one matching the tree's public key."""
        if x == 2 * self.leaf_index:
            return self.encryption_priv
        kp = self.path_keys.get(x)
        if kp is None:
            return None
        n = tree.node(x)
        if n is None or not hmac.compare_digest(n.encryption_key, kp[1]):
            return None
        return kp[0]

    def set_path_secret(self, suite: CipherSuite, x: int, path_secret: bytes) -> bytes:
        """Store the key pair derived from ``path_secret`` at node ``x``; returns its public key."""
        sk, pk = node_key_pair(suite, path_secret)
        self.path_keys[x] = (sk, pk)
        return pk

    def implant(self, tree: RatchetTree, start: int, path_secret: bytes) -> None:
        """Welcome (RFC 9420 §12.4.3.1): set the key of ``start`` (the lowest common ancestor
        with the committer) from ``path_secret`` and derive the keys of its non-blank
        ancestors, checking each against the tree's public key."""
        suite = tree.suite
        ps = path_secret
        for i, x in enumerate([start, *tm.direct_path(start, tree.n_leaves)]):
            n = tree.node(x)
            if n is None:
                if i == 0:
                    raise ValidationError(f"path secret for blank node {x}", "12.4.3.1")
                continue
            if i > 0:
                ps = next_path_secret(suite, ps)
            pk = self.set_path_secret(suite, x, ps)
            if not hmac.compare_digest(pk, n.encryption_key):
                raise ValidationError(f"path secret does not match the public key of node {x}", "12.4.3.1")

    def prune(self, tree: RatchetTree) -> None:
        """Forget keys of nodes that are now blank, gone or hold another public key."""
        for x in list(self.path_keys):
            if x >= tree.n_nodes or self.private_key_for(tree, x) is None:
                del self.path_keys[x]

    def check_consistent(self, tree: RatchetTree) -> None:
        """Every key we hold belongs to a non-blank node with the matching public key."""
        leaf = tree.leaf(self.leaf_index)
        if leaf is None:
            raise ValidationError(f"our leaf {self.leaf_index} is blank", "4.2")
        if not hmac.compare_digest(tree.suite.kem.public_key(self.encryption_priv), leaf.encryption_key):
            raise ValidationError("our leaf encryption key does not match the tree", "4.2")
        for x, (_, pk) in self.path_keys.items():
            n = tree.node(x) if x < tree.n_nodes else None
            if n is None or not hmac.compare_digest(n.encryption_key, pk):
                raise ValidationError(f"private key for node {x} does not match the tree", "4.2")


# ---- committer side (RFC 9420 §7.4, §7.5, §7.6) -------------------------------------------------
@dataclass
class CreatedPath:
    """Result of :func:`create_update_path`."""

    update_path: UpdatePath
    commit_secret: bytes = field(repr=False)
    #: node index -> path secret, for every node of the filtered direct path (Welcome)
    path_secrets: dict[int, bytes] = field(repr=False)
    private: PrivateTree
    #: the provisional GroupContext (tree_hash of the tree with the path merged)
    group_context: GroupContext

    def path_secret_for(self, new_leaf: int) -> bytes | None:
        """The path secret of the lowest common ancestor of our leaf and ``new_leaf``."""
        x = tm.common_ancestor(2 * self.private.leaf_index, 2 * new_leaf)
        return self.path_secrets.get(x)


def _excluded_nodes(excluded_leaves: Iterable[int]) -> frozenset[int]:
    return frozenset(2 * i for i in excluded_leaves)


def create_update_path(
    tree: RatchetTree,
    leaf_index: int,
    group_context: GroupContext,
    signature_priv: bytes,
    *,
    leaf_template: LeafNode | None = None,
    excluded_leaves: Collection[int] = (),
    leaf_key_pair: tuple[bytes, bytes] | None = None,
    path_secret: bytes | None = None,
) -> CreatedPath:
    """Refresh leaf ``leaf_index``'s path in ``tree`` (mutated) and build the UpdatePath.

    ``group_context`` is the provisional GroupContext; its ``tree_hash`` is replaced by the
    hash of the updated tree and the result is the HPKE context (RFC 9420 §7.6).
    ``leaf_template`` supplies credential, capabilities, extensions and signature key of the
    new leaf (default: the current leaf). ``excluded_leaves`` are the leaves added in this
    commit, left out of every encryption. ``leaf_key_pair``/``path_secret`` (path_secret[0])
    default to fresh randomness.
    """
    suite = tree.suite
    template = leaf_template or tree.leaf(leaf_index)
    if template is None:
        raise ValidationError(f"leaf {leaf_index} is blank and no leaf template was given", "7.5")
    excluded = _excluded_nodes(excluded_leaves)
    pairs = tree.filtered_direct_path_pairs(leaf_index)
    leaf_sk, leaf_pk = leaf_key_pair or suite.generate_key_pair()
    private = PrivateTree(leaf_index, leaf_sk, signature_priv)
    ps = path_secret if path_secret is not None else os.urandom(suite.n_h)
    secrets: dict[int, bytes] = {}
    keys: list[tuple[int, int, bytes]] = []
    for p, s in pairs:
        secrets[p] = ps
        keys.append((p, s, private.set_path_secret(suite, p, ps)))
        ps = next_path_secret(suite, ps)
    commit_secret = ps
    # blank the direct path, set the new nodes and their parent hashes (§7.5, §7.9)
    parent_hash = tree.set_path(leaf_index, keys)
    leaf = LeafNode(
        encryption_key=leaf_pk,
        signature_key=template.signature_key,
        credential=template.credential,
        capabilities=template.capabilities,
        leaf_node_source=int(LeafNodeSource.COMMIT),
        parent_hash=parent_hash,
        extensions=template.extensions,
    ).sign(suite, signature_priv, group_context.group_id, leaf_index)
    tree.set_leaf(leaf_index, leaf)
    ctx = group_context.evolve(tree_hash=tree.tree_hash())
    ctx_bytes = ctx.to_bytes()
    nodes = []
    for p, s in pairs:
        cts = []
        for x in tree.resolution(s):
            if x in excluded:
                continue
            n = tree.node(x)
            assert n is not None
            kem_output, ct = suite.encrypt_with_label(n.encryption_key, UPDATE_PATH_NODE_LABEL, ctx_bytes, secrets[p])
            cts.append(HPKECiphertext(kem_output, ct))
        pn = tree.node(p)
        assert pn is not None
        nodes.append(UpdatePathNode(pn.encryption_key, tuple(cts)))
    return CreatedPath(UpdatePath(leaf, tuple(nodes)), commit_secret, secrets, private, ctx)


# ---- receiver side (RFC 9420 §7.5, §12.4.2) -----------------------------------------------------
@dataclass
class AppliedPath:
    """Result of :func:`apply_update_path`. The secrets are None when no private state was
    given or we are a leaf added by this very commit (we learn it from the Welcome)."""

    group_context: GroupContext
    commit_secret: bytes | None = field(default=None, repr=False)
    #: the path secret we decrypted and the node it belongs to
    path_secret: bytes | None = field(default=None, repr=False)
    node: int | None = None
    private: PrivateTree | None = None


def apply_update_path(
    tree: RatchetTree,
    sender: int,
    path: UpdatePath,
    group_context: GroupContext,
    *,
    private: PrivateTree | None = None,
    excluded_leaves: Collection[int] = (),
    validate_leaf: bool = True,
) -> AppliedPath:
    """Merge a received UpdatePath from leaf ``sender`` into ``tree`` (mutated) and, given our
    ``private`` state, decrypt the path secret and derive the commit secret.

    ``tree`` is the tree after the commit's proposals; ``group_context`` the provisional
    GroupContext (its ``tree_hash`` is replaced). Checks: the leaf node (RFC 9420 §7.3 at the
    ``commit`` stage and against the tree's members, unless ``validate_leaf`` is False: the
    group layer checks it with its capability summary), that no UpdatePath key appears in
    the tree (§12.4.2), the path length and ciphertext counts (§7.6), the leaf's parent hash
    (§7.9.2) and that derived public keys match the UpdatePath (§7.5).
    """
    suite = tree.suite
    excluded = _excluded_nodes(excluded_leaves)
    pairs = tree.filtered_direct_path_pairs(sender)
    leaf = path.leaf_node
    if validate_leaf:
        validate_leaf_node(suite, leaf, LeafContext.commit(group_context.group_id, sender, group_context.extensions))
        check_new_leaf_in_tree(tree, CapSummary.of(tree), leaf, sender)
    elif leaf.leaf_node_source != LeafNodeSource.COMMIT:
        raise ValidationError("UpdatePath leaf_node_source must be commit", "12.4.2")
    if len(path.nodes) != len(pairs):
        raise ValidationError(
            f"UpdatePath has {len(path.nodes)} nodes, the filtered direct path has {len(pairs)}", "7.6"
        )
    seen: set[bytes] = {leaf.encryption_key}
    for (p, s), upn in zip(pairs, path.nodes):
        want = sum(1 for x in tree.resolution(s) if x not in excluded)
        if len(upn.encrypted_path_secret) != want:
            raise ValidationError(
                f"UpdatePath node for {p} has {len(upn.encrypted_path_secret)} ciphertexts, resolution has {want}",
                "7.6",
            )
        if upn.encryption_key in seen:
            raise ValidationError("UpdatePath repeats a public key", "12.4.2")
        seen.add(upn.encryption_key)
    for key in seen:
        if tree.node_with_encryption_key(key) is not None:
            raise ValidationError("an UpdatePath public key already appears in the tree", "12.4.2")

    # merge (RFC 9420 §7.5)
    parent_hash = tree.set_path(sender, [(p, s, upn.encryption_key) for (p, s), upn in zip(pairs, path.nodes)])
    if leaf.parent_hash is None or not hmac.compare_digest(leaf.parent_hash, parent_hash):
        raise ValidationError("the committer's leaf parent_hash does not match its path", "7.9.2")
    tree.set_leaf(sender, leaf)
    ctx = group_context.evolve(tree_hash=tree.tree_hash())
    if private is None:
        return AppliedPath(ctx)

    me = private.leaf_index
    if me == sender:
        raise ValidationError("cannot process our own UpdatePath; use the result of create_update_path", "7.5")
    new_private = private.copy()
    for x in tm.direct_path(2 * sender, tree.n_leaves):
        new_private.path_keys.pop(x, None)
    if me in excluded_leaves:
        new_private.prune(tree)
        return AppliedPath(ctx, private=new_private)
    my_node = 2 * me
    for k, (p, s) in enumerate(pairs):
        if tm.is_in_subtree(my_node, s):
            break
    else:
        raise ValidationError(f"leaf {me} is not below the sender's filtered direct path", "7.5")
    cts = path.nodes[k].encrypted_path_secret
    targets = [x for x in tree.resolution(s) if x not in excluded]
    for x, ct in zip(targets, cts):
        sk = private.private_key_for(tree, x)
        if sk is not None:
            break
    else:
        raise DecryptError("we hold no private key for the resolution of the copath node")
    ps = suite.decrypt_with_label(sk, UPDATE_PATH_NODE_LABEL, ctx.to_bytes(), ct.kem_output, ct.ciphertext)
    decrypted, node = ps, p
    for (q, _), upn in zip(pairs[k:], path.nodes[k:]):
        pk = new_private.set_path_secret(suite, q, ps)
        if not hmac.compare_digest(pk, upn.encryption_key):
            raise ValidationError(f"derived public key for node {q} does not match the UpdatePath", "7.5")
        ps = next_path_secret(suite, ps)
    new_private.prune(tree)
    return AppliedPath(ctx, ps, decrypted, node, new_private)
