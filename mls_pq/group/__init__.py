"""The MLS group state machine (RFC 9420 §11, §12).

:class:`Group` is the public API, configured by one :class:`GroupConfig` (:mod:`.config`);
:class:`GroupState` the immutable per-epoch state;
:mod:`.validation` the §12.2 rules; :mod:`.commit` commit creation/processing;
:mod:`.welcome` GroupInfo/Welcome; :mod:`.results` what :meth:`Group.process` returns
(:class:`ApplicationMessage`, :class:`ProposalMessage`, :class:`StagedCommit`);
:mod:`.external` external commits and proposals;
:mod:`.persistence` the write-through to :mod:`mls_pq.storage` (``Group.save``/``Group.load``,
``storage=`` of create/join/join_external).
"""

from .commit import CommitEffects, MemberInfo
from .config import GroupConfig
from .member import CommitOutput, Group
from .results import ApplicationMessage, ProcessedMessage, ProposalMessage, StagedCommit
from .state import GroupOptions, GroupState
from .welcome import KeyPackageBundle

__all__ = [
    "ApplicationMessage",
    "CommitEffects",
    "CommitOutput",
    "Group",
    "GroupConfig",
    "GroupOptions",
    "GroupState",
    "KeyPackageBundle",
    "MemberInfo",
    "ProcessedMessage",
    "ProposalMessage",
    "StagedCommit",
]
