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

from .version import __version__
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
