"""Hash inputs of the ratchet tree (RFC 9420 §7.8 tree hash, §7.9 parent hash).

These build the exact TLS-encoded inputs; caching per node lives in
:class:`mls_pq.tree.ratchet_tree.RatchetTree`.
"""

from __future__ import annotations

from ..codec import Writer
from ..messages.leaf_node import LeafNode
from .nodes import NodeType, ParentNode


def leaf_hash_input(leaf_index: int, leaf: LeafNode | None) -> bytes:
    """``TreeHashInput`` for a leaf: node_type=leaf, ``LeafNodeHashInput`` (RFC 9420 §7.8)."""
    w = Writer().uint8(NodeType.LEAF).uint32(leaf_index)
    w.optional(leaf, lambda ww, n: n.encode(ww))
    return w.getvalue()


def parent_hash_input_for_tree(parent: ParentNode | None, left_hash: bytes, right_hash: bytes) -> bytes:
    """``TreeHashInput`` for a parent: node_type=parent, ``ParentNodeHashInput`` (RFC 9420 §7.8)."""
    w = Writer().uint8(NodeType.PARENT)
    w.optional(parent, lambda ww, n: n.encode(ww))
    return w.opaque(left_hash).opaque(right_hash).getvalue()


def parent_hash_input(encryption_key: bytes, parent_hash: bytes, original_sibling_tree_hash: bytes) -> bytes:
    """``ParentHashInput`` (RFC 9420 §7.9)."""
    return Writer().opaque(encryption_key).opaque(parent_hash).opaque(original_sibling_tree_hash).getvalue()
