"""Hash inputs of the ratchet tree (RFC 9420 §7.8 tree hash, §7.9 parent hash).

These build the exact TLS-encoded inputs; caching per node lives in
:class:`mls_pq.tree.ratchet_tree.RatchetTree`. The inputs are concatenated from the
nodes' cached encodings (:class:`mls_pq.codec.CachedStruct`) rather than written field by
field: a tree hash of N leaves builds 2N-1 of them.
"""

from __future__ import annotations

from ..codec import encode_varint
from ..messages.leaf_node import LeafNode
from .nodes import ParentNode

_LEAF = b"\x01"  # NodeType.leaf
_PARENT = b"\x02"  # NodeType.parent
_PRESENT = b"\x01"
_ABSENT = b"\x00"


def _opaque(data: bytes) -> bytes:
    n = len(data)
    return (bytes((n,)) if n < 0x40 else encode_varint(n)) + data


def leaf_hash_input(leaf_index: int, leaf: LeafNode | None) -> bytes:
    """``TreeHashInput`` for a leaf: node_type=leaf, ``LeafNodeHashInput`` (RFC 9420 §7.8)."""
    head = _LEAF + leaf_index.to_bytes(4, "big")
    if leaf is None:
        return head + _ABSENT
    return head + _PRESENT + leaf.encoded


def parent_hash_input_for_tree(parent: ParentNode | None, left_hash: bytes, right_hash: bytes) -> bytes:
    """``TreeHashInput`` for a parent: node_type=parent, ``ParentNodeHashInput`` (RFC 9420 §7.8)."""
    body = _PARENT + _ABSENT if parent is None else _PARENT + _PRESENT + parent.encoded
    return body + _opaque(left_hash) + _opaque(right_hash)


def parent_hash_input(encryption_key: bytes, parent_hash: bytes, original_sibling_tree_hash: bytes) -> bytes:
    """``ParentHashInput`` (RFC 9420 §7.9)."""
    return _opaque(encryption_key) + _opaque(parent_hash) + _opaque(original_sibling_tree_hash)
