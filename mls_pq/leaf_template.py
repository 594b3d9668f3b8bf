"""A client's own leaf before it is signed (RFC 9420 §7.2, §10): default capabilities,
the default KeyPackage lifetime, and the LeafNode template of commit/update leaves.

Used by :mod:`mls_pq.client` (KeyPackages) and by :class:`~mls_pq.group.Group` (the leaf a
creator, an external joiner or a committer signs). It imports only wire structs and the
suite registry, so the group state machine and the client layer both import it downward.
"""

from __future__ import annotations

from collections.abc import Sequence

from .extensions import Extension
from .messages.credential import BASIC, X509, Credential
from .messages.leaf_node import Capabilities, LeafNode, LeafNodeSource, Lifetime
from .messages.version import PROTOCOL_VERSION_MLS10
from .suites import CipherSuite, get_suite

#: default KeyPackage lifetime: one hour in the past (clock skew) to 90 days ahead
DEFAULT_LIFETIME = (3600, 90 * 24 * 3600)


def as_suite(suite: CipherSuite | int) -> CipherSuite:
    """``suite`` itself, or the registered suite of that id (active profile); a TypeError for
    anything else (e.g. a suite name as a string)."""
    if isinstance(suite, CipherSuite):
        return suite
    if isinstance(suite, bool) or not isinstance(suite, int):
        raise TypeError(f"suite must be a CipherSuite or a cipher suite id (int), not {type(suite).__name__}")
    return get_suite(suite)


def default_lifetime(now: int) -> Lifetime:
    """The §7.2 lifetime of a leaf made at ``now`` under :data:`DEFAULT_LIFETIME`."""
    return Lifetime(max(0, now - DEFAULT_LIFETIME[0]), now + DEFAULT_LIFETIME[1])


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


__all__ = ["DEFAULT_LIFETIME", "as_suite", "default_capabilities", "default_lifetime", "make_leaf_template"]
