"""Builders of hostile-but-well-formed inputs (issue 8): oversized KeyPackages, LeafNodes and
ratchet trees. Shared by tests/group/test_hostile_input.py, tests/tree/test_tree_bounds.py and
scripts/resource_limits.py (which measures size -> time and peak memory with them).

Every builder produces input a *valid* implementation must still handle: the KeyPackage
carries ``n`` leaf extensions of distinct non-default types (RFC 9420 §13.5: no type twice)
listed among ``n`` capability extension types, so every extension is checked against a long
capability list; the signatures are real.
"""

from __future__ import annotations

from collections.abc import Callable

from mls_pq.client import Client, make_key_package
from mls_pq.codec import Writer
from mls_pq.extensions import Extension
from mls_pq.group.welcome import KeyPackageBundle
from mls_pq.messages.leaf_node import Capabilities, LeafNode, LeafNodeSource
from mls_pq.tree.nodes import encode_node

#: the non-default extension type every hostile leaf extension uses
HOSTILE_EXT = 0xF00D


def filler_types(n: int, make: Callable[[int], int] = int) -> tuple[int, ...]:
    """``n`` non-default, non-GREASE extension types (repeating after 0x7000 values)."""
    return tuple(make(0x1000 + (i % 0x7000)) for i in range(n))


def distinct_leaf_extensions(count: int, make: Callable[[int], int] = int) -> tuple[Extension, ...]:
    """About ``3 * count`` octets of leaf extensions, no type twice (§13.5): ``count`` empty
    extensions of the filler types; beyond the 0x7000 distinct filler types, fewer
    extensions whose data fills the same octets."""
    k = min(count, 0x7000)
    pad = max(0, (3 * count) // k - 3) if k else 0
    return tuple(Extension(t, b"\x00" * pad) for t in filler_types(k, make))


def hostile_capabilities(n_types: int, make: Callable[[int], int] = int) -> Capabilities:
    """Capabilities listing ``n_types`` filler extension types, then :data:`HOSTILE_EXT`."""
    return Capabilities((1,), (1,), (*filler_types(n_types, make), make(HOSTILE_EXT)), (), (1, 2))


def hostile_key_package(client: Client, size: int) -> tuple[bytes, KeyPackageBundle]:
    """A valid, signed KeyPackage (MLSMessage bytes) of about ``size`` bytes: half of it a
    capability list of ``size/4`` extension types, half ``size/6`` leaf extensions of
    distinct listed types (:func:`distinct_leaf_extensions`)."""
    caps = hostile_capabilities(size // 4)
    exts = distinct_leaf_extensions(size // 6)
    return make_key_package(
        client.suite, client.credential, client.signature_priv, capabilities=caps, leaf_extensions=exts
    )


def hostile_update_leaf(client: Client, size: int, encryption_key: bytes, group_id: bytes, leaf_index: int) -> LeafNode:
    """A signed ``update`` LeafNode of about ``size`` bytes (same layout as the KeyPackage)."""
    return LeafNode(
        encryption_key=encryption_key,
        signature_key=client.signature_pub,
        credential=client.credential,
        capabilities=hostile_capabilities(size // 4),
        leaf_node_source=int(LeafNodeSource.UPDATE),
        extensions=distinct_leaf_extensions(size // 6),
    ).sign(client.suite, client.signature_priv, group_id, leaf_index)


def blank_padded_tree(leaf: LeafNode, n_leaves: int) -> bytes:
    """``ratchet_tree`` value: ``n_leaves - 1`` blank leaves (and blank parents), then
    ``leaf`` as the last leaf: 2 * n_leaves - 1 nodes, ~1 byte per blank node."""
    w = Writer()
    inner = Writer()
    inner.buf += b"\x00" * (2 * (n_leaves - 1))
    inner.uint8(1)
    encode_node(inner, leaf)
    w.opaque(inner.getvalue())
    return w.getvalue()


def blank_tree_group_info(n_leaves: int, *, owner: Client | None = None) -> bytes:
    """A GroupInfo (MLSMessage bytes) that ``join_external`` can accept: an attacker's own
    group whose tree has ``n_leaves - 1`` blank leaves and its one member last; the tree
    hash is right and the attacker (the last leaf) signs. ~2 octets per leaf on the wire."""
    from mls_pq.extensions import RATCHET_TREE
    from mls_pq.group import Group
    from mls_pq.group.welcome import external_pub_extension
    from mls_pq.messages.framing_structs import MLSMessage
    from mls_pq.messages.welcome import GroupInfo
    from mls_pq.tree.ratchet_tree import RatchetTree

    c = owner or Client.generate(1, b"attacker")
    g = Group.create(c.suite, b"blank-tree", c.credential, c.signature_priv)
    leaf = g.state.tree.leaf(0)
    assert leaf is not None
    width = 1
    while width < 2 * n_leaves - 1:
        width = 2 * width + 1
    nodes: list[LeafNode | None] = [None] * width
    nodes[2 * (n_leaves - 1)] = leaf
    tree = RatchetTree(c.suite, nodes)
    ctx = g.group_context.evolve(tree_hash=tree.tree_hash())
    exts = (
        Extension(RATCHET_TREE, tree.to_bytes()),
        external_pub_extension(g.state.secrets.external_key_pair()[1]),
    )
    gi = GroupInfo(ctx, exts, g.state.confirmation_tag, n_leaves - 1).sign(c.suite, c.signature_priv)
    return MLSMessage(gi).to_bytes()
