"""mls-pq: MLS (RFC 9420) with pluggable classical, post-quantum and hybrid cipher suites.

The public API is what ``__all__`` lists; import it from here::

    from mls_pq import Client, Group, GroupConfig, StagedCommit, get_suite

    suite = get_suite(0x0001)
    alice, bob = Client.generate(suite, b"alice"), Client.generate(suite, b"bob")
    group = Group.create(suite, b"group", alice.credential, alice.signature_priv)
    kp, bob_bundle = bob.key_package()
    out = group.commit(add=[kp])
    group.merge_pending_commit()
    bob_group = Group.join(out.welcome, [bob_bundle])

Everything else (submodules such as :mod:`mls_pq.group.commit`, names starting with ``_``) is
private by convention and may change between releases. The layers, bottom to top:

* wire structs (:mod:`mls_pq.messages`, :mod:`mls_pq.codec`) — encode/decode only;
* cryptography and suites (:mod:`mls_pq.crypto`, :mod:`mls_pq.suites`) — the engine never
  names an algorithm;
* the protocol (:mod:`mls_pq.tree`, :mod:`mls_pq.treekem`, :mod:`mls_pq.key_schedule`,
  :mod:`mls_pq.secret_tree`, :mod:`mls_pq.framing`) and the group state machine
  (:mod:`mls_pq.group`), persisted through :mod:`mls_pq.storage`;
* layers on top of the group: :mod:`mls_pq.apq` (the APQ-MLS combiner) and the tools
  (:mod:`mls_pq.bench`, :mod:`mls_pq.vectors`, :mod:`mls_pq.interop`, :mod:`mls_pq.simulate`,
  the ``mls-pq`` CLI), which only use the public API and are never imported by the engine.
"""

from typing import TYPE_CHECKING

from .version import __version__

if TYPE_CHECKING:  # the same names, imported eagerly for type checkers and IDEs
    from .client import Client, generate_signature_key, make_key_package
    from .credentials import CredentialEvent, CredentialEventType, CredentialRejected, CredentialValidator
    from .errors import (
        ConcurrentModificationError,
        CorruptStateError,
        CryptoError,
        DecodeError,
        ForwardDistanceError,
        MLSError,
        PastEpochError,
        StateError,
        UnsupportedCipherSuite,
        ValidationError,
    )
    from .group import (
        ApplicationMessage,
        CommitEffects,
        CommitOutput,
        Group,
        GroupConfig,
        GroupOptions,
        KeyPackageBundle,
        MemberInfo,
        ProcessedMessage,
        ProposalMessage,
        StagedCommit,
    )
    from .limits import DEFAULT_LIMITS, Limits
    from .messages.credential import Credential
    from .psk import PreSharedKeyID
    from .storage import MemoryStorage, SQLiteStorage, Storage
    from .suites import CipherSuite, all_suites, get_suite, register_suite, suite_ids

_EXPORTS: dict[str, str] = {
    "ApplicationMessage": "mls_pq.group",
    "CipherSuite": "mls_pq.suites",
    "Client": "mls_pq.client",
    "CommitEffects": "mls_pq.group",
    "CommitOutput": "mls_pq.group",
    "ConcurrentModificationError": "mls_pq.errors",
    "CorruptStateError": "mls_pq.errors",
    "Credential": "mls_pq.messages.credential",
    "CredentialEvent": "mls_pq.credentials",
    "CredentialEventType": "mls_pq.credentials",
    "CredentialRejected": "mls_pq.credentials",
    "CredentialValidator": "mls_pq.credentials",
    "CryptoError": "mls_pq.errors",
    "DEFAULT_LIMITS": "mls_pq.limits",
    "DecodeError": "mls_pq.errors",
    "ForwardDistanceError": "mls_pq.errors",
    "Group": "mls_pq.group",
    "GroupConfig": "mls_pq.group",
    "GroupOptions": "mls_pq.group",
    "KeyPackageBundle": "mls_pq.group",
    "Limits": "mls_pq.limits",
    "MLSError": "mls_pq.errors",
    "MemberInfo": "mls_pq.group",
    "MemoryStorage": "mls_pq.storage",
    "PastEpochError": "mls_pq.errors",
    "PreSharedKeyID": "mls_pq.psk",
    "ProcessedMessage": "mls_pq.group",
    "ProposalMessage": "mls_pq.group",
    "SQLiteStorage": "mls_pq.storage",
    "StagedCommit": "mls_pq.group",
    "StateError": "mls_pq.errors",
    "Storage": "mls_pq.storage",
    "UnsupportedCipherSuite": "mls_pq.errors",
    "ValidationError": "mls_pq.errors",
    "all_suites": "mls_pq.suites",
    "generate_signature_key": "mls_pq.client",
    "get_suite": "mls_pq.suites",
    "make_key_package": "mls_pq.client",
    "register_suite": "mls_pq.suites",
    "suite_ids": "mls_pq.suites",
}


def __getattr__(name: str) -> object:
    """The public names are imported on first use (PEP 562): ``import mls_pq`` stays light (the
    CLI's argument parsing must not pay for the engine), ``from mls_pq import Group`` works."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'mls_pq' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # next time a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


__all__ = [
    "DEFAULT_LIMITS",
    "ApplicationMessage",
    "CipherSuite",
    "Client",
    "CommitEffects",
    "CommitOutput",
    "ConcurrentModificationError",
    "CorruptStateError",
    "Credential",
    "CredentialEvent",
    "CredentialEventType",
    "CredentialRejected",
    "CredentialValidator",
    "CryptoError",
    "DecodeError",
    "ForwardDistanceError",
    "Group",
    "GroupConfig",
    "GroupOptions",
    "KeyPackageBundle",
    "Limits",
    "MLSError",
    "MemberInfo",
    "MemoryStorage",
    "PastEpochError",
    "PreSharedKeyID",
    "ProcessedMessage",
    "ProposalMessage",
    "SQLiteStorage",
    "StagedCommit",
    "StateError",
    "Storage",
    "UnsupportedCipherSuite",
    "ValidationError",
    "__version__",
    "all_suites",
    "generate_signature_key",
    "get_suite",
    "make_key_package",
    "register_suite",
    "suite_ids",
]
