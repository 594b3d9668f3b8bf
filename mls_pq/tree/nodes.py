"""Ratchet tree node contents (RFC 9420 §7.1) and the ``ratchet_tree`` extension encoding
(§12.4.3.3).

A node is a :class:`~mls_pq.messages.leaf_node.LeafNode` (even array index), a
:class:`ParentNode` (odd array index) or ``None`` for a blank node. Node objects are
immutable, so trees can share them freely between epochs.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from functools import cached_property
from typing import Self, TypeAlias

from ..codec import CachedStruct, Reader, Writer, encode_opaque
from ..errors import DecodeError, ValidationError
from ..messages.leaf_node import LeafNode


class NodeType(IntEnum):
    """``enum { reserved(0), leaf(1), parent(2), (255) } NodeType`` (RFC 9420 §7.8)."""

    LEAF = 1
    PARENT = 2


@dataclass(frozen=True)
class ParentNode(CachedStruct):
    """``struct { HPKEPublicKey encryption_key; opaque parent_hash<V>; uint32 unmerged_leaves<V>; }``
    (RFC 9420 §7.1). ``unmerged_leaves`` are leaf indices, sorted increasingly."""

    encryption_key: bytes
    parent_hash: bytes = b""
    unmerged_leaves: tuple[int, ...] = field(default=())

    @cached_property
    def encoded(self) -> bytes:
        unmerged = self.unmerged_leaves
        body = encode_opaque(self.encryption_key) + encode_opaque(self.parent_hash)
        if not unmerged:  # a fresh path node: the common case, one octet
            return body + b"\x00"
        return body + encode_opaque(struct.pack(f">{len(unmerged)}I", *unmerged))

    @classmethod
    def decode(cls, r: Reader) -> Self:
        start = r.pos
        key = r.opaque()
        ph = r.opaque()
        body = r.opaque()  # uint32 unmerged_leaves<V>: one unpack, not a call per entry
        if len(body) % 4:
            raise DecodeError(f"short input: a uint32 vector of {len(body)} bytes")
        node = cls(key, ph, struct.unpack(f">{len(body) // 4}I", body))
        node.__dict__["encoded"] = bytes(r.data[start : r.pos])  # the canonical encoding
        return node


Node: TypeAlias = LeafNode | ParentNode


def encode_node(w: Writer, node: Node) -> None:
    """``Node`` (RFC 9420 §12.4.3.3): node_type then the leaf or parent node."""
    if isinstance(node, LeafNode):
        w.uint8(NodeType.LEAF)
    else:
        w.uint8(NodeType.PARENT)
    node.encode(w)


def decode_node(r: Reader) -> Node:
    t = r.uint8()
    if t == NodeType.LEAF:
        return LeafNode.decode(r)
    if t == NodeType.PARENT:
        return ParentNode.decode(r)
    raise DecodeError(f"unknown node type {t} (RFC 9420 §7.8)")


def encode_ratchet_tree(nodes: Sequence[Node | None]) -> bytes:
    """``optional<Node> ratchet_tree<V>`` with trailing blank nodes omitted (RFC 9420 §12.4.3.3)."""
    end = len(nodes)
    while end > 0 and nodes[end - 1] is None:
        end -= 1
    w = Writer()
    w.vector(nodes[:end], _encode_optional_node)
    return w.getvalue()


def _encode_optional_node(w: Writer, node: Node | None) -> None:
    if node is None:
        w.uint8(0)
    else:
        w.uint8(1)
        encode_node(w, node)


def decode_ratchet_tree(data: bytes, max_nodes: int | None = None) -> list[Node | None]:
    """Decode a ``ratchet_tree`` value and extend it with blanks to ``2^(d+1) - 1`` nodes.

    Rejects (DecodeError) an empty or blank-terminated vector, a leaf node at an odd
    position, a parent node at an even position, and trailing bytes (RFC 9420 §12.4.3.3);
    and (ValidationError) a tree that is not truncated — its rightmost non-blank leaf is not
    in the root's right subtree, i.e. it has trailing blank leaves (§7.7) — and, with
    ``max_nodes``, a vector of more nodes, refused as soon as the count passes it so that
    memory stays bounded whatever the input length (one blank node is one octet on the wire).
    """
    r = Reader(data)
    nodes: list[Node | None] = []
    try:
        body = r.sub()
        r.done()
        buf, end = body.data, body.end
        limit = max_nodes if max_nodes is not None else -1
        append = nodes.append
        # the presence and node-type octets read in place (what Reader.optional and
        # decode_node do, same errors): 2N-1 nodes for a joiner (issue 9 item 7)
        while body.pos < end:
            if len(nodes) == limit:
                raise ValidationError(
                    f"the ratchet_tree has more than {limit} nodes ({(limit + 1) // 2} leaves): "
                    "more than Limits.max_group_size"
                )
            pos = body.pos
            flag = buf[pos]
            if flag == 0:
                body.pos = pos + 1
                append(None)
                continue
            if flag != 1:
                raise DecodeError(f"invalid optional presence octet {flag}")
            if pos + 1 >= end:
                raise DecodeError("short input: need 1 bytes, have 0")
            t = buf[pos + 1]
            body.pos = pos + 2
            if t == NodeType.LEAF:
                append(LeafNode.decode(body))
            elif t == NodeType.PARENT:
                append(ParentNode.decode(body))
            else:
                raise DecodeError(f"unknown node type {t} (RFC 9420 §7.8)")
    except (IndexError, ValueError) as e:  # defensive: never leak raw errors
        raise DecodeError(f"malformed ratchet_tree: {e}") from None
    if not nodes:
        raise DecodeError("empty ratchet_tree (RFC 9420 §12.4.3.3)")
    if nodes[-1] is None:
        raise DecodeError("the last node of a ratchet_tree must be non-blank (RFC 9420 §12.4.3.3)")
    for i, n in enumerate(nodes):
        if n is None:
            continue
        if (i % 2 == 0) != isinstance(n, LeafNode):
            what = "leaf" if isinstance(n, LeafNode) else "parent"
            raise DecodeError(f"{what} node at array index {i} (RFC 9420 §12.4.3.3)")
    width = 1
    while width < len(nodes):
        width = 2 * width + 1
    last_leaf = next((x for x in range(len(nodes) - 1 - (len(nodes) - 1) % 2, -1, -2) if nodes[x] is not None), None)
    root = (width - 1) // 2
    if width > 1 and (last_leaf is None or last_leaf < root):
        raise ValidationError(
            "the ratchet_tree is not truncated: the root's right subtree has no non-blank leaf (trailing blank leaves)",
            "7.7",
        )
    nodes.extend([None] * (width - len(nodes)))
    return nodes
