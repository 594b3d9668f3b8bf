"""Key packages (RFC 9420 §10): KeyPackage, its signed KeyPackageTBS, and KeyPackageRef."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Self

from ..codec import CachedStruct, Reader, Writer, encode_opaque
from ..errors import DecodeError, ValidationError
from ..extensions import Extension, check_unique_types
from .leaf_node import LeafNode, LeafNodeSource, decode_extension_list
from .version import PROTOCOL_VERSION_MLS10

if TYPE_CHECKING:
    from ..suites import CipherSuite

KEY_PACKAGE_TBS_LABEL = "KeyPackageTBS"


@dataclass(frozen=True)
class KeyPackage(CachedStruct):
    """``KeyPackage`` (RFC 9420 §10). ``signature`` covers ``KeyPackageTBS`` (all other fields)."""

    version: int
    cipher_suite: int
    init_key: bytes
    leaf_node: LeafNode
    extensions: tuple[Extension, ...] = ()
    signature: bytes = field(default=b"", repr=False)

    def _encode_tbs(self, w: Writer) -> None:
        w.uint16(self.version).uint16(self.cipher_suite).opaque(self.init_key)
        self.leaf_node.encode(w)
        w.structs(self.extensions)

    def tbs(self) -> bytes:
        """The encoded ``KeyPackageTBS``: the cached encoding without its trailing
        ``opaque signature<V>`` (no re-encoding of long extension lists)."""
        return self.encoded[: len(self.encoded) - len(encode_opaque(self.signature))]

    @cached_property
    def encoded(self) -> bytes:
        w = Writer()
        self._encode_tbs(w)
        w.opaque(self.signature)
        return w.getvalue()

    @classmethod
    def decode(cls, r: Reader) -> Self:
        start = r.pos
        version = r.uint16()
        if version != PROTOCOL_VERSION_MLS10:
            raise DecodeError(f"unsupported protocol version {version} (RFC 9420 §6)")
        cipher_suite = r.uint16()
        init_key = r.opaque()
        leaf_node = LeafNode.decode(r)
        extensions = decode_extension_list(r)
        kp = cls(version, cipher_suite, init_key, leaf_node, extensions, r.opaque())
        kp.__dict__["encoded"] = bytes(r.data[start : r.pos])  # canonical: see LeafNode.decode
        return kp

    def sign(self, suite: CipherSuite, signature_priv: bytes) -> KeyPackage:
        """A copy signed with ``signature_priv`` (the leaf node's signature key)."""
        return replace(self, signature=suite.sign_with_label(signature_priv, KEY_PACKAGE_TBS_LABEL, self.tbs()))

    def verify(self, suite: CipherSuite) -> bool:
        """True iff ``signature`` verifies under ``leaf_node.signature_key``."""
        return suite.verify_with_label(self.leaf_node.signature_key, KEY_PACKAGE_TBS_LABEL, self.tbs(), self.signature)

    def ref(self, suite: CipherSuite) -> bytes:
        """``KeyPackageRef`` = RefHash("MLS 1.0 KeyPackage Reference", KeyPackage) (RFC 9420 §5.2)."""
        return suite.make_key_package_ref(self.encoded)
