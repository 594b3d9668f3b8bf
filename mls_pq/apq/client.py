"""A member's identity in an APQ-MLS combined group (draft-ietf-mls-combiner §3.2): one
:class:`~mls_pq.client.Client` per session (a classical signature key for the traditional
session, the PQ suite's for the PQ session) with the same credential identity, and the
leaf capabilities / extensions both sessions need (draft-ietf-mls-extensions §4.6, §5:
``app_data_dictionary`` advertising component 0x0006, ``supported_wire_formats`` listing
``apq_message_pair``, the AppDataUpdate proposal type).

Written by hand: no library implements the combiner.
"""

from __future__ import annotations

from dataclasses import dataclass

import mls_pq.ext_codepoints as cp
from ..client import Client, default_capabilities
from ..components import ComponentRegistry, leaf_app_data_extension
from ..extensions import Extension
from ..group.welcome import KeyPackageBundle
from ..messages.app_data import WireFormats
from ..messages.leaf_node import Capabilities
from ..storage.base import Storage
from ..suites import CipherSuite
from .component import APQInfoHandler
from .structs import APQ_COMPONENT_ID, APQ_MESSAGE_PAIR
from .suites import suite_policy

#: GroupContext / leaf extension types a session member must support
CAPABILITY_EXTENSIONS = (cp.APP_DATA_DICTIONARY, cp.SUPPORTED_WIRE_FORMATS, cp.REQUIRED_WIRE_FORMATS)


def apq_registry(base: ComponentRegistry | None = None) -> ComponentRegistry:
    """``base`` (the application's other components) plus the APQInfo handler (0x0006) with
    the §7.1 suite policy, unless ``base`` registers 0x0006 itself."""
    reg = base if base is not None else ComponentRegistry()
    if APQ_COMPONENT_ID in reg:
        return reg
    return reg.with_handler(APQ_COMPONENT_ID, APQInfoHandler(suite_policy))


def session_capabilities(client: Client) -> Capabilities:
    """Capabilities of a leaf of either session: the extension types of the safe-extensions
    API and the AppDataUpdate proposal (draft-ietf-mls-extensions §4.6, §4.7)."""
    return default_capabilities(
        client.suite, client.credential, extensions=CAPABILITY_EXTENSIONS, proposals=[cp.APP_DATA_UPDATE]
    )


def session_leaf_extensions(registry: ComponentRegistry) -> tuple[Extension, ...]:
    """Leaf extensions of either session: ``supported_wire_formats`` with apq_message_pair
    (§6) and ``app_data_dictionary`` advertising the registry's components (§5)."""
    return (WireFormats((APQ_MESSAGE_PAIR,)).supported_extension(), leaf_app_data_extension(registry))


@dataclass(frozen=True)
class APQKeyPackage:
    """The two KeyPackages (MLSMessage bytes) a joiner publishes (§3.2): ``t`` for the
    traditional session, ``pq`` for the PQ session."""

    t: bytes
    pq: bytes


@dataclass(frozen=True, repr=False)
class APQKeyPackageBundle:
    """The private halves of an :class:`APQKeyPackage` (keep them to join)."""

    t: KeyPackageBundle
    pq: KeyPackageBundle

    def __repr__(self) -> str:
        return "<APQKeyPackageBundle>"


@dataclass(frozen=True, repr=False)
class APQClient:
    """A member of a combined group: ``t`` (traditional suite) and ``pq`` (PQ suite) clients
    with the same identity."""

    t: Client
    pq: Client

    def __repr__(self) -> str:
        return f"<APQClient t=0x{self.t.suite.id:04x} pq=0x{self.pq.suite.id:04x}>"

    @classmethod
    def generate(cls, t_suite: CipherSuite | int, pq_suite: CipherSuite | int, identity: bytes) -> APQClient:
        """Fresh signature keys for both suites, basic credentials for ``identity``."""
        return cls(Client.generate(t_suite, identity), Client.generate(pq_suite, identity))

    @property
    def identity(self) -> bytes:
        """The identity of both credentials (basic credentials)."""
        return self.t.credential.identity

    def key_packages(
        self, registry: ComponentRegistry | None = None, *, storage: Storage | None = None
    ) -> tuple[APQKeyPackage, APQKeyPackageBundle]:
        """A KeyPackage per session (§3.2), advertising what the combined group requires."""
        exts = session_leaf_extensions(apq_registry(registry))
        t_kp, t_b = self.t.key_package(capabilities=session_capabilities(self.t), leaf_extensions=exts, storage=storage)
        pq_kp, pq_b = self.pq.key_package(
            capabilities=session_capabilities(self.pq), leaf_extensions=exts, storage=storage
        )
        return APQKeyPackage(t_kp, pq_kp), APQKeyPackageBundle(t_b, pq_b)
