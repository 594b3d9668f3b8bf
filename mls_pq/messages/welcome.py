"""GroupInfo (RFC 9420 §12.4.3) and the Welcome message (§12.4.3.1): GroupSecrets,
EncryptedGroupSecrets, Welcome.

Encrypting their parts and processing a Welcome (tree checks, key schedule, PSKs) is the group
state machine's job (:mod:`mls_pq.group.welcome`); this module only defines the structs, their
encoding and the GroupInfo signature.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Self

from ..codec import Reader, Struct, Writer
from ..extensions import Extension
from ..group_context import GroupContext
from ..psk import PreSharedKeyID
from .update_path import HPKECiphertext

if TYPE_CHECKING:
    from ..suites import CipherSuite

GROUP_INFO_TBS_LABEL = "GroupInfoTBS"


@dataclass(frozen=True)
class GroupInfo(Struct):
    """``GroupInfo`` (§12.4.3). ``signature`` = SignWithLabel(., "GroupInfoTBS", GroupInfoTBS)
    over every other field, by the member at leaf ``signer``."""

    group_context: GroupContext
    extensions: tuple[Extension, ...]
    confirmation_tag: bytes
    signer: int
    signature: bytes = field(default=b"", repr=False)

    def tbs(self) -> bytes:
        """The encoded ``GroupInfoTBS``."""
        w = Writer()
        self.group_context.encode(w)
        w.structs(self.extensions).opaque(self.confirmation_tag).uint32(self.signer)
        return w.getvalue()

    def encode(self, w: Writer) -> None:
        w.raw(self.tbs()).opaque(self.signature)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        gc = GroupContext.decode(r)
        extensions = tuple(r.structs(Extension))
        tag = r.opaque()
        signer = r.uint32()
        return cls(gc, extensions, tag, signer, r.opaque())

    def sign(self, suite: CipherSuite, signature_priv: bytes) -> GroupInfo:
        return replace(self, signature=suite.sign_with_label(signature_priv, GROUP_INFO_TBS_LABEL, self.tbs()))

    def verify(self, suite: CipherSuite, signature_pub: bytes) -> bool:
        """True iff ``signature`` verifies under the signer's key (§12.4.3.1)."""
        return suite.verify_with_label(signature_pub, GROUP_INFO_TBS_LABEL, self.tbs(), self.signature)

    def extension(self, ext_type: int) -> Extension | None:
        for e in self.extensions:
            if e.extension_type == ext_type:
                return e
        return None


@dataclass(frozen=True, repr=False)
class PathSecret(Struct):
    """``struct { opaque path_secret<V>; } PathSecret``."""

    path_secret: bytes

    def __repr__(self) -> str:
        return "PathSecret(<secret>)"

    def encode(self, w: Writer) -> None:
        w.opaque(self.path_secret)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(r.opaque())


@dataclass(frozen=True, repr=False)
class GroupSecrets(Struct):
    """``GroupSecrets`` (§12.4.3.1): joiner_secret, optional path_secret, PSK ids. No secret in repr."""

    joiner_secret: bytes
    path_secret: bytes | None = None
    psks: tuple[PreSharedKeyID, ...] = ()

    def __repr__(self) -> str:
        return f"GroupSecrets(path_secret={'set' if self.path_secret is not None else 'none'}, psks={len(self.psks)})"

    def encode(self, w: Writer) -> None:
        w.opaque(self.joiner_secret)
        w.optional(self.path_secret, lambda ww, p: PathSecret(p).encode(ww))
        w.structs(self.psks)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        joiner = r.opaque()
        ps = r.optional(PathSecret.decode)
        return cls(joiner, ps.path_secret if ps is not None else None, tuple(r.structs(PreSharedKeyID)))


@dataclass(frozen=True)
class EncryptedGroupSecrets(Struct):
    """``struct { KeyPackageRef new_member; HPKECiphertext encrypted_group_secrets; }``."""

    new_member: bytes
    encrypted_group_secrets: HPKECiphertext

    def encode(self, w: Writer) -> None:
        w.opaque(self.new_member)
        self.encrypted_group_secrets.encode(w)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(r.opaque(), HPKECiphertext.decode(r))


@dataclass(frozen=True)
class Welcome(Struct):
    """``struct { CipherSuite cipher_suite; EncryptedGroupSecrets secrets<V>; opaque encrypted_group_info<V>; }``."""

    cipher_suite: int
    secrets: tuple[EncryptedGroupSecrets, ...]
    encrypted_group_info: bytes

    def encode(self, w: Writer) -> None:
        w.uint16(self.cipher_suite).structs(self.secrets).opaque(self.encrypted_group_info)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(r.uint16(), tuple(r.structs(EncryptedGroupSecrets)), r.opaque())

    def find(self, key_package_ref: bytes) -> EncryptedGroupSecrets | None:
        """The entry for the KeyPackage with this reference, if any."""
        for s in self.secrets:
            if s.new_member == key_package_ref:
                return s
        return None
