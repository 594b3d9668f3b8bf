"""Client-side helpers: signature keys and KeyPackages (RFC 9420 §10).

:func:`make_key_package` returns the KeyPackage as ``MLSMessage`` bytes (what is uploaded
to a delivery service) and a :class:`~mls_pq.group.welcome.KeyPackageBundle` holding the
three private keys (init, leaf encryption, signature) the joiner needs later.

GREASE (RFC 9420 §13.5): with ``grease=True`` a KeyPackage carries random GREASE values in
its leaf's capabilities (cipher suites, extensions, proposals, credentials), a GREASE leaf
extension and a GREASE KeyPackage extension (their types listed in the capabilities, §7.2,
§10); :func:`grease_capabilities`, :func:`grease_extension` and :func:`grease_leaf` do the
same for hand-made capabilities and GroupInfo extensions.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .credentials import check_credential_key
from .errors import DecodeError, MLSError
from .extensions import GREASE_VALUES, Extension
from .group.welcome import KeyPackageBundle
from .messages.credential import BASIC, X509, Credential
from .messages.framing_structs import MLSMessage, WireFormat
from .messages.key_package import PROTOCOL_VERSION_MLS10, KeyPackage
from .messages.leaf_node import Capabilities, LeafNode, LeafNodeSource, Lifetime
from .suites import CipherSuite, get_suite

if TYPE_CHECKING:
    from .storage.base import Storage

#: default KeyPackage lifetime: one hour in the past (clock skew) to 90 days ahead
DEFAULT_LIFETIME = (3600, 90 * 24 * 3600)


def as_suite(suite: CipherSuite | int) -> CipherSuite:
    return suite if isinstance(suite, CipherSuite) else get_suite(suite)


def default_capabilities(
    suite: CipherSuite,
    credential: Credential,
    *,
    extensions: Sequence[int] = (),
    proposals: Sequence[int] = (),
    cipher_suites: Sequence[int] = (),
) -> Capabilities:
    """mls10, the suite (plus ``cipher_suites``), basic and x509 credentials plus the own one."""
    suites = tuple(sorted({suite.id, *cipher_suites}))
    creds = tuple(sorted({int(BASIC), int(X509), credential.credential_type}))
    return Capabilities((PROTOCOL_VERSION_MLS10,), suites, tuple(extensions), tuple(proposals), creds)


_RNG = random.SystemRandom()
_GREASE = sorted(GREASE_VALUES)


def grease_capabilities(caps: Capabilities, *, extensions: Sequence[int] = ()) -> Capabilities:
    """``caps`` plus one or two random GREASE values in each of cipher_suites, extensions,
    proposals and credentials (§13.5), and the GREASE ``extensions`` types (those of GREASE
    extensions the leaf or KeyPackage will carry, which must be listed, §7.2, §10)."""

    def add(items: tuple[int, ...], extra: Sequence[int] = ()) -> tuple[int, ...]:
        picks = _RNG.sample(_GREASE, _RNG.randint(1, 2))
        return tuple(dict.fromkeys((*items, *extra, *picks)))

    return Capabilities(
        caps.versions,
        add(caps.cipher_suites),
        add(caps.extensions, extensions),
        add(caps.proposals),
        add(caps.credentials),
    )


def grease_extension(extension_type: int | None = None, *, besides: Sequence[Extension] = ()) -> Extension:
    """An extension of a (random) GREASE type with 0-15 random octets (§13.5 allows any data),
    of a type none of ``besides`` has (§13.5: no extension type twice in one list)."""
    if extension_type is None:
        taken = {e.extension_type for e in besides}
        extension_type = _RNG.choice([g for g in _GREASE if g not in taken])
    return Extension(extension_type, os.urandom(_RNG.randrange(16)))


def grease_leaf(caps: Capabilities, leaf_extensions: Sequence[Extension] = ()) -> tuple[Capabilities, tuple[Extension, ...]]:
    """GREASEd capabilities and leaf extensions for a LeafNode: a GREASE leaf extension is
    added and its type listed in the capabilities (§13.5 "need to be reflected")."""
    ext = grease_extension(besides=leaf_extensions)
    return grease_capabilities(caps, extensions=(ext.extension_type,)), (*leaf_extensions, ext)


def generate_signature_key(suite: CipherSuite | int) -> tuple[bytes, bytes]:
    """A fresh (private, public) signature key pair of the suite's scheme."""
    return as_suite(suite).signature.generate()


def make_leaf_template(
    suite: CipherSuite,
    credential: Credential,
    signature_pub: bytes,
    *,
    capabilities: Capabilities | None = None,
    extensions: Sequence[Extension] = (),
) -> LeafNode:
    """An unsigned LeafNode carrying credential, capabilities, extensions and signature key,
    used as the template for commit/update leaves (its encryption key is a placeholder)."""
    return LeafNode(
        encryption_key=b"",
        signature_key=signature_pub,
        credential=credential,
        capabilities=capabilities or default_capabilities(suite, credential),
        leaf_node_source=int(LeafNodeSource.UPDATE),
        extensions=tuple(extensions),
    )


def make_key_package(
    suite: CipherSuite | int,
    credential: Credential,
    signature_priv: bytes,
    *,
    capabilities: Capabilities | None = None,
    lifetime: Lifetime | None = None,
    extensions: Sequence[Extension] = (),
    leaf_extensions: Sequence[Extension] = (),
    now: int | None = None,
    storage: Storage | None = None,
    last_resort: bool = False,
    grease: bool = False,
) -> tuple[bytes, KeyPackageBundle]:
    """A signed KeyPackage (as MLSMessage bytes) and its private bundle (§10). With
    ``storage`` the bundle is also stored under the KeyPackageRef (``put_key_package``), for
    :meth:`~mls_pq.group.Group.join` to find and consume; a ``last_resort`` one is kept after
    use (§16.8). ``grease``: add random GREASE values (§13.5) to the capabilities, the leaf
    extensions and the KeyPackage extensions."""
    cs = as_suite(suite)
    sig_pub = cs.signature.public_key(signature_priv)
    check_credential_key(cs, credential, sig_pub)  # §5.3: never publish a KeyPackage others must reject
    caps = capabilities or default_capabilities(cs, credential)
    if grease:
        leaf_ext, kp_ext = grease_extension(besides=leaf_extensions), grease_extension(besides=extensions)
        caps = grease_capabilities(caps, extensions=(leaf_ext.extension_type, kp_ext.extension_type))
        leaf_extensions = (*leaf_extensions, leaf_ext)
        extensions = (*extensions, kp_ext)
    init_priv, init_pub = cs.generate_key_pair()
    enc_priv, enc_pub = cs.generate_key_pair()
    if lifetime is None:
        t = int(time.time()) if now is None else now
        lifetime = Lifetime(max(0, t - DEFAULT_LIFETIME[0]), t + DEFAULT_LIFETIME[1])
    leaf = LeafNode(
        encryption_key=enc_pub,
        signature_key=sig_pub,
        credential=credential,
        capabilities=caps,
        leaf_node_source=int(LeafNodeSource.KEY_PACKAGE),
        lifetime=lifetime,
        extensions=tuple(leaf_extensions),
    ).sign(cs, signature_priv)
    kp = KeyPackage(PROTOCOL_VERSION_MLS10, cs.id, init_pub, leaf, tuple(extensions)).sign(cs, signature_priv)
    bundle = KeyPackageBundle(kp, init_priv, enc_priv, signature_priv)
    if storage is not None:
        from .group.persistence import store_key_package

        store_key_package(storage, cs, bundle, last_resort=last_resort)
    return MLSMessage(kp).to_bytes(), bundle


_MLS10 = bytes.fromhex("0001")
_KEY_PACKAGE_WIRE_FORMAT = int(WireFormat.KEY_PACKAGE).to_bytes(2, "big")


def _framed_as_message(data: bytes) -> bool:
    """True if ``data`` reads as an MLSMessage KeyPackage rather than a raw KeyPackage:
    ``version = mls10`` then ``wire_format = mls_key_package``, or (a damaged wire format)
    a KeyPackage version ``mls10`` at offset 4, where a raw KeyPackage has its init_key's
    length (``00`` would be an empty HPKE key)."""
    return data[:2] == _MLS10 and (data[2:4] == _KEY_PACKAGE_WIRE_FORMAT or data[4:6] == _MLS10)


def parse_key_package(data: bytes | KeyPackage) -> KeyPackage:
    """A KeyPackage from MLSMessage bytes, raw KeyPackage bytes, or the object itself.

    Bytes framed like an MLSMessage KeyPackage (:func:`_framed_as_message`) that fail to
    decode as one are reported with the MLSMessage decoder's error — the real reason —
    unless they decode as a raw KeyPackage (a raw one of suite 0x0005 starts the same
    way). Reading a malformed MLSMessage again as a raw KeyPackage misaligns every field
    after the first four octets, and used to report most malformations as "unknown
    credential type" (issue 8, defect 8)."""
    if isinstance(data, KeyPackage):
        return data
    try:
        msg = MLSMessage.from_bytes(data)
    except DecodeError as as_message:
        try:
            return KeyPackage.from_bytes(data)
        except MLSError:
            if _framed_as_message(bytes(data[:6])):
                raise as_message from None
            raise
    if not isinstance(msg.body, KeyPackage):
        raise DecodeError("the MLSMessage is not a KeyPackage")
    return msg.body


@dataclass(frozen=True, repr=False)
class Client:
    """An identity with a signature key for one suite: a KeyPackage factory."""

    suite: CipherSuite
    credential: Credential
    signature_priv: bytes

    def __repr__(self) -> str:
        return f"<Client suite=0x{self.suite.id:04x} credential_type={self.credential.credential_type}>"

    @classmethod
    def generate(cls, suite: CipherSuite | int, identity: bytes) -> Client:
        """A client with a fresh signature key and a basic credential for ``identity``.
        Identities are opaque octets (RFC 9420 §5.3): a ``str`` is refused with a TypeError
        rather than encoded with a guessed encoding — pass ``"dave".encode()``."""
        if not isinstance(identity, (bytes, bytearray)):
            raise TypeError(f"identity must be bytes (RFC 9420 §5.3: opaque octets), got {type(identity).__name__}; "
                            f"pass e.g. {identity!r}.encode() or b'...'" if isinstance(identity, str) else
                            f"identity must be bytes (RFC 9420 §5.3: opaque octets), got {type(identity).__name__}")
        cs = as_suite(suite)
        sk, _ = cs.signature.generate()
        return cls(cs, Credential.basic(identity), sk)

    @property
    def signature_pub(self) -> bytes:
        return self.suite.signature.public_key(self.signature_priv)

    def key_package(self, **kwargs: object) -> tuple[bytes, KeyPackageBundle]:
        return make_key_package(self.suite, self.credential, self.signature_priv, **kwargs)  # type: ignore[arg-type]
