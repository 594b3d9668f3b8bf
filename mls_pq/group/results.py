"""What :meth:`Group.process <mls_pq.group.member.Group.process>` returns (RFC 9420 §6, §12).

A processed message is one of three small frozen classes, a tagged union usable with
``match``::

    match group.process(data):
        case ApplicationMessage(data=plaintext):
            ...
        case ProposalMessage(proposal=p):
            ...                              # cached until a commit covers it (§12.1)
        case StagedCommit() as staged:
            if acceptable(staged):           # the application's policy
                staged.merge()               # now the group is in the new epoch
            else:
                staged.discard()             # the group stays exactly as it was

An application message and a proposal take effect when processed (the ratchet advances, the
proposal is cached, §9.2, §12.1). A commit does NOT (§12.4.2): it is verified completely and
handed back as a :class:`StagedCommit` holding the next epoch's state, which the application
inspects (who was added or removed, the PSKs, the new GroupContext extensions, a ReInit, the
committer) before it calls :meth:`StagedCommit.merge` or :meth:`StagedCommit.discard` —
the staged-commit model of OpenMLS. Plain data classes, written by hand (no library
provides MLS results).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, TypeAlias

from ..errors import StateError
from .commit import CommitEffects, MemberInfo

if TYPE_CHECKING:
    from ..extensions import Extension
    from ..group_context import GroupContext
    from ..messages.credential import Credential
    from ..messages.framing_structs import Sender
    from ..messages.proposals import Proposal, ReInit
    from ..psk import PreSharedKeyID
    from .state import GroupState


@dataclass(frozen=True)
class ApplicationMessage:
    """An application message (RFC 9420 §6.3, §15): ``data`` is the plaintext.

    ``sender`` and ``sender_credential`` identify the member who sent it, ``epoch`` the epoch
    it was sent in (older than the group's for a late message of a kept past epoch, §12.4.2),
    ``authenticated_data`` the sender's cleartext ``authenticated_data`` (§6),
    ``wire_format`` the :class:`~mls_pq.messages.framing_structs.WireFormat` it came in.
    The plaintext is left out of ``repr``."""

    sender: Sender
    epoch: int
    authenticated_data: bytes
    sender_credential: Credential | None
    wire_format: int
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class ProposalMessage:
    """A proposal sent by reference (RFC 9420 §12.1), validated (§12.2 individual checks)
    and cached by the group under ``proposal_ref`` (§5.2) until a commit covers it or the
    epoch ends. Common fields as in :class:`ApplicationMessage`."""

    sender: Sender
    epoch: int
    authenticated_data: bytes
    sender_credential: Credential | None
    wire_format: int
    proposal: Proposal
    proposal_ref: bytes


class _Stager(Protocol):
    """The group side of a staged commit (implemented by :class:`~mls_pq.group.member.Group`)."""

    def _merge_staged(self, staged: StagedCommit) -> CommitEffects: ...

    def _discard_staged(self, staged: StagedCommit) -> None: ...

    def _staged_safe_export(self, staged: StagedCommit, component_id: int) -> bytes: ...


class StagedState:
    """Internal: the mutable side of a :class:`StagedCommit` (which stays frozen and
    comparable by its public fields). ``base`` is the group state the commit was verified
    against, ``next`` the state it creates, ``pending`` the MLSMessage bytes of our own
    pending commit (for an own commit processed back), ``seen`` those of our pending commit
    when a received commit was staged (a commit of ours created later makes it stale),
    ``status`` "staged", "merged" or "discarded"."""

    __slots__ = ("base", "next", "pending", "seen", "status")

    def __init__(
        self, base: GroupState, next_state: GroupState, pending: bytes | None = None, *, seen: bytes | None = None
    ) -> None:
        self.base = base
        self.next = next_state
        self.pending = pending
        self.seen = seen
        self.status = "staged"

    def __repr__(self) -> str:
        return f"<StagedState {self.status} epoch={self.next.epoch}>"

    def check_open(self) -> None:
        """StateError unless still staged (merge and discard are final)."""
        if self.status != "staged":
            raise StateError(f"this staged commit was already {self.status}")


@dataclass(frozen=True)
class StagedCommit:
    """A verified commit not yet applied (RFC 9420 §12.4.2).

    :meth:`Group.process <mls_pq.group.member.Group.process>` ran every check of §12.4.2
    (framing, signature, membership tag or decryption, the proposal list rules of §12.2, the
    UpdatePath, the confirmation tag) and computed the next epoch, but left the group (and
    its storage) unchanged. Inspect what the commit does — :attr:`added`, :attr:`removed`,
    :attr:`updated`, :attr:`psks`, :attr:`group_context_extensions`, :attr:`reinit`,
    :attr:`committer`, :meth:`new_members`, :attr:`new_group_context` — then either
    :meth:`merge` it (the group enters the new epoch) or :meth:`discard` it (nothing
    changed; the same message may be processed again later).

    ``own`` is True for our own pending commit received back from the delivery service:
    its :meth:`merge` is :meth:`Group.merge_pending_commit
    <mls_pq.group.member.Group.merge_pending_commit>`. A staged commit becomes stale when
    the group changes before it is merged (another message processed, a commit created or
    merged): :meth:`merge` then raises :class:`~mls_pq.errors.StateError`; so do a second
    :meth:`merge` and a merge after :meth:`discard`.

    Common fields as in :class:`ApplicationMessage`; ``effects`` is the full
    :class:`~mls_pq.group.commit.CommitEffects` (its ``epoch`` is the new epoch)."""

    sender: Sender
    epoch: int
    authenticated_data: bytes
    sender_credential: Credential | None
    wire_format: int
    effects: CommitEffects
    own: bool = False
    _group: _Stager = field(default=None, repr=False, compare=False)  # type: ignore[assignment]
    _staged: StagedState = field(default=None, repr=False, compare=False)  # type: ignore[assignment]

    # ---- what the commit does ----------------------------------------------------------------
    @property
    def added(self) -> tuple[MemberInfo, ...]:
        """Members added by Add proposals (§12.1.1), at their new leaf indexes."""
        return self.effects.added

    @property
    def removed(self) -> tuple[MemberInfo, ...]:
        """Members removed by Remove proposals (§12.1.3), as they were before the commit."""
        return self.effects.removed

    @property
    def updated(self) -> tuple[MemberInfo, ...]:
        """Members whose leaf an Update proposal (§12.1.2) replaced, with their new leaf."""
        return self.effects.updated

    @property
    def psks(self) -> tuple[PreSharedKeyID, ...]:
        """The PreSharedKeyIDs injected into the new epoch's key schedule (§8.4, §12.1.4)."""
        return self.effects.psks

    @property
    def group_context_extensions(self) -> tuple[Extension, ...] | None:
        """The new GroupContext extensions of a GroupContextExtensions proposal (§12.1.7);
        None if the commit has none."""
        return self.effects.group_context_extensions

    @property
    def reinit(self) -> ReInit | None:
        """The committed ReInit (§12.1.5, §11.2): after the merge the group is inactive."""
        return self.effects.reinit

    @property
    def committer(self) -> Sender:
        """Who committed: a member, or a new member for an external commit (§12.4.3.2)."""
        return self.effects.committer

    @property
    def removed_self(self) -> bool:
        """True if the commit removes us (§12.4.2): after the merge the group is inactive."""
        return self.effects.removed_self

    @property
    def new_epoch(self) -> int:
        """The epoch the merge enters (the current one if the commit removes us)."""
        return self.effects.epoch

    @property
    def new_group_context(self) -> GroupContext:
        """The GroupContext of the staged epoch (§8.1)."""
        return self._staged.next.context

    def new_members(self) -> list[MemberInfo]:
        """Every member of the staged epoch, by leaf index (§7.8). O(N): to look at the
        leaves a commit touched, use :meth:`new_member`."""
        return [MemberInfo.of(i, leaf) for i, leaf in self._staged.next.tree.leaves()]

    def new_member(self, leaf_index: int) -> MemberInfo | None:
        """The member at ``leaf_index`` in the staged epoch (None: a blank leaf or beyond the
        tree), in O(1)."""
        tree = self._staged.next.tree
        if isinstance(leaf_index, bool) or not isinstance(leaf_index, int) or not 0 <= leaf_index < tree.n_leaves:
            return None
        leaf = tree.leaf(leaf_index)
        return None if leaf is None else MemberInfo.of(leaf_index, leaf)

    @property
    def status(self) -> str:
        """"staged", "merged" or "discarded"."""
        return self._staged.status

    # ---- deciding ----------------------------------------------------------------------------
    def merge(self) -> CommitEffects:
        """Apply the commit: the group enters the new epoch (written through to its storage
        first, if any) and our own pending commit, if any, is dropped (§12.4.2, §14).
        StateError if already merged or discarded, or stale (the group changed since)."""
        return self._group._merge_staged(self)

    def discard(self) -> None:
        """Drop the commit: the group stays exactly as before :meth:`Group.process`. For an
        own commit the pending commit stays pending. StateError if already merged."""
        self._group._discard_staged(self)

    def safe_export_secret(self, component_id: int) -> bytes:
        """``SafeExportSecret(component_id)`` of the staged epoch (draft-ietf-mls-extensions
        §4.4), before the merge — e.g. the PQ half of an APQ FULL commit whose exporter the
        traditional half's PSK needs. Consumed on use, as with
        :meth:`Group.safe_export_secret <mls_pq.group.member.Group.safe_export_secret>`, and
        still consumed after :meth:`merge`. For an own commit it is
        :meth:`Group.pending_safe_export_secret
        <mls_pq.group.member.Group.pending_safe_export_secret>`."""
        return self._group._staged_safe_export(self, component_id)


#: What :meth:`Group.process <mls_pq.group.member.Group.process>` returns: one of the three
#: result classes (a tagged union, usable with ``match``/``isinstance``).
ProcessedMessage: TypeAlias = ApplicationMessage | ProposalMessage | StagedCommit

__all__ = ["ApplicationMessage", "ProcessedMessage", "ProposalMessage", "StagedCommit"]
