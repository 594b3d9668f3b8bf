"""The APQ-MLS combiner (draft-ietf-mls-combiner): a component (id 0x0006) of the safe
extensions API of draft-ietf-mls-extensions, built on the suite- and component-agnostic engine.

:class:`APQGroup` (:mod:`mls_pq.apq.group`) is the combined group object; :class:`APQClient`
(:mod:`mls_pq.apq.client`) a member's two identities and KeyPackages."""

from .client import APQClient, APQKeyPackage, APQKeyPackageBundle, apq_registry
from .group import APQCommitOutput, APQGroup, APQProcessed, apq_info_of
from .structs import APQ_COMPONENT_ID, APQ_MESSAGE_PAIR, APQInfo, APQInfoUpdate, APQMessagePair

__all__ = [
    "APQ_COMPONENT_ID",
    "APQ_MESSAGE_PAIR",
    "APQClient",
    "APQCommitOutput",
    "APQGroup",
    "APQInfo",
    "APQInfoUpdate",
    "APQKeyPackage",
    "APQKeyPackageBundle",
    "APQMessagePair",
    "APQProcessed",
    "apq_info_of",
    "apq_registry",
]
