"""The UpdatePath wire structs (RFC 9420 §7.6): ``HPKECiphertext``, ``UpdatePathNode``,
``UpdatePath``. Creating and applying an UpdatePath is TreeKEM's job (:mod:`mls_pq.treekem`);
this module only encodes and decodes.

CachedStructs: a commit's UpdatePath is encoded for the signature, the membership tag, the
transcript hash and the wire (four times per commit), so its encoding is computed once;
decoded ones keep the octets they were read from (the canonical encoding).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Self

from ..codec import CachedStruct, Reader, Writer, encode_opaque
from .leaf_node import LeafNode


def _keep_octets(obj: CachedStruct, r: Reader, start: int) -> None:
    obj.__dict__["encoded"] = bytes(r.data[start : r.pos])


@dataclass(frozen=True)
class HPKECiphertext(CachedStruct):
    """``struct { opaque kem_output<V>; opaque ciphertext<V>; } HPKECiphertext``."""

    kem_output: bytes
    ciphertext: bytes

    @cached_property
    def encoded(self) -> bytes:
        return encode_opaque(self.kem_output) + encode_opaque(self.ciphertext)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(r.opaque(), r.opaque())


@dataclass(frozen=True)
class UpdatePathNode(CachedStruct):
    """``struct { HPKEPublicKey encryption_key; HPKECiphertext encrypted_path_secret<V>; }``."""

    encryption_key: bytes
    encrypted_path_secret: tuple[HPKECiphertext, ...]

    @cached_property
    def encoded(self) -> bytes:
        return Writer().opaque(self.encryption_key).structs(self.encrypted_path_secret).getvalue()

    @classmethod
    def decode(cls, r: Reader) -> Self:
        start = r.pos
        node = cls(r.opaque(), tuple(r.structs(HPKECiphertext)))
        _keep_octets(node, r, start)
        return node


@dataclass(frozen=True)
class UpdatePath(CachedStruct):
    """``struct { LeafNode leaf_node; UpdatePathNode nodes<V>; } UpdatePath``."""

    leaf_node: LeafNode
    nodes: tuple[UpdatePathNode, ...]

    @cached_property
    def encoded(self) -> bytes:
        w = Writer()
        self.leaf_node.encode(w)
        return w.structs(self.nodes).getvalue()

    @classmethod
    def decode(cls, r: Reader) -> Self:
        start = r.pos
        path = cls(LeafNode.decode(r), tuple(r.structs(UpdatePathNode)))
        _keep_octets(path, r, start)
        return path


__all__ = ["HPKECiphertext", "UpdatePath", "UpdatePathNode"]
