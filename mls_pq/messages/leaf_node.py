"""Leaf nodes (RFC 9420 §7.2): Capabilities, Lifetime, LeafNode and its signed LeafNodeTBS.

A :class:`LeafNode` is immutable. ``sign`` returns a signed copy; ``verify`` checks the
signature over ``LeafNodeTBS`` with ``SignWithLabel(., "LeafNodeTBS", .)`` (RFC 9420
§5.1.2). For ``update`` and ``commit`` sources the TBS also covers the group id and the
leaf index, so those must be supplied.
"""

from __future__ import annotations

import sys
from array import array
from dataclasses import dataclass, field, replace
from enum import IntEnum
from functools import cached_property
from typing import TYPE_CHECKING, Self

from ..codec import CachedStruct, Reader, Struct, Writer, encode_opaque
from ..errors import DecodeError, ValidationError
from ..extensions import Extension
from .credential import Credential

if TYPE_CHECKING:
    from ..suites import CipherSuite

LEAF_NODE_TBS_LABEL = "LeafNodeTBS"


class LeafNodeSource(IntEnum):
    """``enum { reserved(0), key_package(1), update(2), commit(3), (255) } LeafNodeSource``."""

    KEY_PACKAGE = 1
    UPDATE = 2
    COMMIT = 3


KEY_PACKAGE = LeafNodeSource.KEY_PACKAGE
UPDATE = LeafNodeSource.UPDATE
COMMIT = LeafNodeSource.COMMIT


#: every uint16 as one shared int object: a decoded capability value or extension type
#: is a pointer to one of these, not a new 32-octet int per 2 input octets (a hostile
#: KeyPackage is mostly such lists: issue 8, memory per input octet). ~2.6 MB, once.
_U16: tuple[int, ...] = tuple(range(1 << 16))
_LITTLE_ENDIAN = sys.byteorder == "little"


def _u16_list(r: Reader) -> tuple[int, ...]:
    """``uint16 items<V>`` in one pass (linear, no per-item Reader call), each value the
    shared int of :data:`_U16`."""
    body = r.opaque()
    if len(body) % 2:
        raise DecodeError(f"short input: a uint16 vector of {len(body)} bytes")
    values = array("H", body)  # 2 octets per value while converting, not a tuple of new ints
    if _LITTLE_ENDIAN:
        values.byteswap()
    return tuple(map(_U16.__getitem__, values))


def decode_extension_list(r: Reader) -> tuple[Extension, ...]:
    """``Extension extensions<V>`` (RFC 9420 §13) in one pass over the vector's octets.

    Same result and the same DecodeErrors as ``tuple(r.structs(Extension))`` (varints of
    §2.1.2: minimal, no 8-byte form), without a Reader call per field: a 1 MiB list of
    empty extensions is ~350 000 of them (issue 8, hostile inputs)."""
    body = r.opaque()
    n = len(body)
    out: list[Extension] = []
    pos = 0
    while pos < n:
        if pos + 3 > n:
            raise DecodeError(f"short input: an extension needs 3 bytes, have {n - pos}")
        ext_type = _U16[body[pos] << 8 | body[pos + 1]]
        first = body[pos + 2]
        prefix = first >> 6
        if prefix == 0:
            length, pos = first, pos + 3
        elif prefix == 1:
            if pos + 4 > n:
                raise DecodeError("short input: truncated varint")
            length, pos = (first & 0x3F) << 8 | body[pos + 3], pos + 4
            if length < 1 << 6:
                raise DecodeError("invalid varint: not minimally encoded (RFC 9420 §2.1.2)")
        elif prefix == 2:
            if pos + 6 > n:
                raise DecodeError("short input: truncated varint")
            length, pos = int.from_bytes(body[pos + 2 : pos + 6], "big") & 0x3FFF_FFFF, pos + 6
            if length < 1 << 14:
                raise DecodeError("invalid varint: not minimally encoded (RFC 9420 §2.1.2)")
        else:
            raise DecodeError("invalid varint: 8-byte form is not allowed (RFC 9420 §2.1.2)")
        if pos + length > n:
            raise DecodeError(f"short input: need {length} bytes, have {n - pos}")
        out.append(Extension(ext_type, body[pos : pos + length]))
        pos += length
    return tuple(out)


def _w16_list(w: Writer, items: tuple[int, ...]) -> None:
    w.vector(items, lambda ww, v: ww.uint16(v))


@dataclass(frozen=True)
class Capabilities(Struct):
    """``Capabilities`` (RFC 9420 §7.2): what a client supports. Lists may hold GREASE
    and unknown values; they are kept as sent (decoding never rejects them)."""

    versions: tuple[int, ...] = (1,)
    cipher_suites: tuple[int, ...] = ()
    extensions: tuple[int, ...] = ()
    proposals: tuple[int, ...] = ()
    credentials: tuple[int, ...] = ()

    def encode(self, w: Writer) -> None:
        for items in (self.versions, self.cipher_suites, self.extensions, self.proposals, self.credentials):
            _w16_list(w, items)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        # Members of a group mostly send identical capabilities: decoded ones are shared
        # by their octets (immutable, so are their cached sets), which makes decoding a
        # ratchet tree of N leaves ~40% cheaper (issue 9 item 7). Bounded cache.
        start = r.pos
        for _ in range(5):
            r.sub()
        key = bytes(r.data[start : r.pos])
        got = _CAPS_CACHE.get(key)
        if got is not None and type(got) is cls:
            return got
        rr = Reader(key)
        caps = cls(_u16_list(rr), _u16_list(rr), _u16_list(rr), _u16_list(rr), _u16_list(rr))
        if len(key) <= _CAPS_CACHE_OCTETS:  # a hostile 1 MiB list is not kept around
            if len(_CAPS_CACHE) >= _CAPS_CACHE_MAX:
                _CAPS_CACHE.clear()
            _CAPS_CACHE[key] = caps
        return caps

    # Membership sets, built once per (immutable) Capabilities: every "is X supported"
    # check is O(1), so validating a leaf is linear in its size (a 1 MiB hostile leaf
    # with tuple scans cost O(n^2): issue 8, defect 1).
    @cached_property
    def version_set(self) -> frozenset[int]:
        return frozenset(self.versions)

    @cached_property
    def cipher_suite_set(self) -> frozenset[int]:
        return frozenset(self.cipher_suites)

    @cached_property
    def extension_set(self) -> frozenset[int]:
        return frozenset(self.extensions)

    @cached_property
    def proposal_set(self) -> frozenset[int]:
        return frozenset(self.proposals)

    @cached_property
    def credential_set(self) -> frozenset[int]:
        return frozenset(self.credentials)


#: decoded Capabilities by their octets (see :meth:`Capabilities.decode`)
_CAPS_CACHE: dict[bytes, Capabilities] = {}
_CAPS_CACHE_MAX = 64
_CAPS_CACHE_OCTETS = 512


@dataclass(frozen=True)
class Lifetime(Struct):
    """``struct { uint64 not_before; uint64 not_after; } Lifetime`` (seconds since the epoch)."""

    not_before: int
    not_after: int

    def contains(self, now: int) -> bool:
        """True if ``not_before <= now <= not_after`` (RFC 9420 §7.3)."""
        return self.not_before <= now <= self.not_after

    def encode(self, w: Writer) -> None:
        w.uint64(self.not_before).uint64(self.not_after)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(r.uint64(), r.uint64())


@dataclass(frozen=True)
class LeafNode(CachedStruct):
    """``LeafNode`` (RFC 9420 §7.2).

    ``lifetime`` is present iff the source is ``key_package``; ``parent_hash`` iff it is
    ``commit``. ``signature`` is empty until :meth:`sign` is called.
    """

    encryption_key: bytes
    signature_key: bytes
    credential: Credential
    capabilities: Capabilities
    leaf_node_source: int
    lifetime: Lifetime | None = None
    parent_hash: bytes | None = None
    extensions: tuple[Extension, ...] = ()
    signature: bytes = field(default=b"", repr=False)

    def __post_init__(self) -> None:
        src = self.leaf_node_source
        if src == LeafNodeSource.KEY_PACKAGE and self.lifetime is None:
            raise ValidationError("a key_package leaf node needs a lifetime", "7.2")
        if src == LeafNodeSource.COMMIT and self.parent_hash is None:
            raise ValidationError("a commit leaf node needs a parent_hash", "7.2")
        if src != LeafNodeSource.KEY_PACKAGE and self.lifetime is not None:
            raise ValidationError("only a key_package leaf node carries a lifetime", "7.2")
        if src != LeafNodeSource.COMMIT and self.parent_hash is not None:
            raise ValidationError("only a commit leaf node carries a parent_hash", "7.2")

    # ---- encoding ----------------------------------------------------------------------
    def _encode_body(self, w: Writer) -> None:
        w.opaque(self.encryption_key).opaque(self.signature_key)
        self.credential.encode(w)
        self.capabilities.encode(w)
        w.uint8(self.leaf_node_source)
        if self.leaf_node_source == LeafNodeSource.KEY_PACKAGE:
            assert self.lifetime is not None
            self.lifetime.encode(w)
        elif self.leaf_node_source == LeafNodeSource.COMMIT:
            assert self.parent_hash is not None
            w.opaque(self.parent_hash)
        elif self.leaf_node_source != LeafNodeSource.UPDATE:
            raise DecodeError(f"cannot encode unknown leaf_node_source {self.leaf_node_source}")
        w.structs(self.extensions)

    @cached_property
    def encoded(self) -> bytes:
        """The TLS encoding, computed once (leaf nodes are hashed often in tree hashing)."""
        w = Writer()
        self._encode_body(w)
        w.opaque(self.signature)
        return w.getvalue()

    def to_bytes(self) -> bytes:
        return self.encoded

    @classmethod
    def decode(cls, r: Reader) -> Self:
        start = r.pos
        encryption_key = r.opaque()
        signature_key = r.opaque()
        credential = Credential.decode(r)
        capabilities = Capabilities.decode(r)
        src = r.uint8()
        lifetime: Lifetime | None = None
        parent_hash: bytes | None = None
        if src == LeafNodeSource.KEY_PACKAGE:
            lifetime = Lifetime.decode(r)
        elif src == LeafNodeSource.COMMIT:
            parent_hash = r.opaque()
        elif src != LeafNodeSource.UPDATE:
            raise DecodeError(f"unknown leaf_node_source {src} (RFC 9420 §7.2)")
        extensions = decode_extension_list(r)
        signature = r.opaque()
        leaf = cls(
            encryption_key, signature_key, credential, capabilities, src, lifetime, parent_hash, extensions, signature
        )
        # the octets just read are the canonical encoding (every field re-encodes to them):
        # cache them, so signature checks and tree hashes do not re-encode long lists
        leaf.__dict__["encoded"] = bytes(r.data[start : r.pos])
        return leaf

    # ---- signing (RFC 9420 §7.2) ----------------------------------------------------------
    def tbs(self, group_id: bytes | None = None, leaf_index: int | None = None) -> bytes:
        """The encoded ``LeafNodeTBS``; ``group_id``/``leaf_index`` are required (and only
        used) for the ``update`` and ``commit`` sources."""
        w = Writer()
        # the body is the cached encoding without its trailing ``opaque signature<V>``: no
        # re-encoding of the (possibly long) capability and extension lists
        w.raw(self.encoded[: len(self.encoded) - len(encode_opaque(self.signature))])
        if self.leaf_node_source in (LeafNodeSource.UPDATE, LeafNodeSource.COMMIT):
            if group_id is None or leaf_index is None:
                raise ValidationError("LeafNodeTBS of an update/commit leaf needs group_id and leaf_index", "7.2")
            w.opaque(group_id).uint32(leaf_index)
        return w.getvalue()

    def sign(
        self, suite: CipherSuite, signature_priv: bytes, group_id: bytes | None = None, leaf_index: int | None = None
    ) -> LeafNode:
        """A copy of this leaf node signed with ``signature_priv``."""
        sig = suite.sign_with_label(signature_priv, LEAF_NODE_TBS_LABEL, self.tbs(group_id, leaf_index))
        return replace(self, signature=sig)

    def verify(self, suite: CipherSuite, group_id: bytes | None = None, leaf_index: int | None = None) -> bool:
        """True iff ``signature`` is valid under ``signature_key`` (RFC 9420 §7.3)."""
        return suite.verify_with_label(
            self.signature_key, LEAF_NODE_TBS_LABEL, self.tbs(group_id, leaf_index), self.signature
        )

    # ---- convenience -------------------------------------------------------------------
    def evolve(self, **changes: object) -> LeafNode:
        """A copy with fields replaced; the signature is kept unless given (re-sign after)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    def extension(self, ext_type: int) -> Extension | None:
        for e in self.extensions:
            if e.extension_type == ext_type:
                return e
        return None
