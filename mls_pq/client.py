"""Client-side helpers: signature keys and KeyPackages (RFC 9420 §10).

:func:`make_key_package` returns the KeyPackage as ``MLSMessage`` bytes (what is uploaded
to a delivery service) and a :class:`~mls_pq.key_package_bundle.KeyPackageBundle` holding the
three private keys (init, leaf encryption, signature) the joiner needs later.

GREASE (RFC 9420 §13.5): with ``grease=True`` a KeyPackage carries random GREASE values in
its leaf's capabilities (cipher suites, extensions, proposals, credentials), a GREASE leaf
extension and a GREASE KeyPackage extension (their types listed in the capabilities, §7.2,
§10); :func:`grease_capabilities`, :func:`grease_extension` and :func:`grease_leaf` do the
same for hand-made capabilities and GroupInfo extensions.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .credentials import check_credential_key
from .extensions import Extension
from .grease import grease_capabilities, grease_extension, grease_leaf
from .group.persistence import store_key_package
from .key_package_bundle import KeyPackageBundle, parse_key_package
from .leaf_template import DEFAULT_LIFETIME, as_suite, default_capabilities, default_lifetime, make_leaf_template
from .messages.credential import Credential
from .messages.framing_structs import MLSMessage
from .messages.key_package import KeyPackage
from .messages.leaf_node import Capabilities, LeafNode, LeafNodeSource, Lifetime
from .messages.version import PROTOCOL_VERSION_MLS10
from .suites import CipherSuite

if TYPE_CHECKING:
    from .storage.base import Storage


def generate_signature_key(suite: CipherSuite | int) -> tuple[bytes, bytes]:
    """A fresh (private, public) signature key pair of the suite's scheme."""
    return as_suite(suite).signature.generate()


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
        lifetime = default_lifetime(int(time.time()) if now is None else now)
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
        store_key_package(storage, cs, bundle, last_resort=last_resort)
    return MLSMessage(kp).to_bytes(), bundle


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
        """The signature public key of :attr:`signature_priv` (the leaves' ``signature_key``)."""
        return self.suite.signature.public_key(self.signature_priv)

    def key_package(
        self,
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
        """A KeyPackage of this client and its private bundle: :func:`make_key_package` with
        this client's suite, credential and signature key (RFC 9420 §10)."""
        return make_key_package(
            self.suite,
            self.credential,
            self.signature_priv,
            capabilities=capabilities,
            lifetime=lifetime,
            extensions=extensions,
            leaf_extensions=leaf_extensions,
            now=now,
            storage=storage,
            last_resort=last_resort,
            grease=grease,
        )


__all__ = [
    "DEFAULT_LIFETIME",
    "Client",
    "KeyPackageBundle",
    "as_suite",
    "default_capabilities",
    "generate_signature_key",
    "grease_capabilities",
    "grease_extension",
    "grease_leaf",
    "make_key_package",
    "make_leaf_template",
    "parse_key_package",
]
