"""Cipher suites: the :class:`CipherSuite` data type with the MLS helpers, and the registry."""

from .cipher_suite import CipherSuite
from .registry import (
    DEFAULT_PROFILE,
    ENTRY_POINT_GROUP,
    REGISTRY,
    Registry,
    SuiteDef,
    all_suites,
    get_suite,
    register_suite,
    suite_ids,
)

__all__ = [
    "DEFAULT_PROFILE",
    "ENTRY_POINT_GROUP",
    "REGISTRY",
    "CipherSuite",
    "Registry",
    "SuiteDef",
    "all_suites",
    "get_suite",
    "register_suite",
    "suite_ids",
]
