"""One object for an APQ-MLS combined group (draft-ietf-mls-combiner): :class:`APQGroup`, a
traditional session :attr:`APQGroup.t` and a PQ session :attr:`APQGroup.pq` (two
:class:`~mls_pq.group.Group` objects) with the feel of a single ``Group``.

Example::

    alice = APQClient.generate(0x0001, 0xF006, b"alice")
    bob = APQClient.generate(0x0001, 0xF006, b"bob")
    g = APQGroup.create(alice)                       # PQ session, then T seeded by apq_psk (§3)
    kp, bundle = bob.key_packages()
    out = g.commit(full=True, add=[kp])              # Adds need a FULL commit (§3.2)
    g.merge_pending_commit()
    b = APQGroup.join(out.welcome, bundle)           # the Welcome pair, checked (§3.2.1)
    g.process(b.commit(full=True).commit); b.merge_pending_commit()  # joiner's FULL commit first
    out = g.commit(full=False); g.merge_pending_commit(); b.process(out.commit)   # PARTIAL (§3.1)
    b.process(g.encrypt(b"hi")).data == b"hi"         # application data: T session only (§3.4)

What it does (each rejection a :class:`~mls_pq.errors.DraftValidationError` naming the
draft section, or a ``StateError`` naming it for a call the state does not allow):

* **create** (§3): the PQ session is created first; the first FULL commit puts the APQInfo
  (``full_update``, §5.1.1) into both GroupContexts and seeds the traditional session with
  the ``apq_psk`` exported from the PQ session's new epoch (§5.2). Both sessions carry
  ``required_wire_formats`` = [apq_message_pair] (§6) and require component 0x0006 in
  ``app_components`` (draft-ietf-mls-extensions §5).
* **commit(full=True)** (§3.1): PQ commit, ``apq_psk`` from its pending epoch
  (``SafeExportSecret(0x0006)``, consumed), traditional commit with the application PSK
  proposal, both updating APQInfo (``new_t_epoch`` + ``new_pq_epoch``); sent as one
  ``APQMessagePair`` (§6). Adds and removes happen in both sessions and only in FULL
  commits (§3, §3.2, §3.3); membership consistency is checked before sending.
  **commit(full=False)**: a traditional commit only; no Add/Remove, no APQInfo change, and
  not while we owe the group our first FULL commit after joining (§3.2).
* **process**: an ``APQMessagePair`` of two commits (a FULL or external-join commit: PQ first,
  then the traditional one with the derived PSK; the §5.2 PSK proposal, equal and correct
  APQInfos (§5.1.1, §5.1.2), the same committer and consistent membership (§3.2.1, §3.3)
  are verified before anything is kept), a pair of proposals (an Update with the FULL flag,
  Fig. 1b, or a Remove in both sessions), or a single traditional message (application,
  proposal, PARTIAL commit). A message for the PQ session alone is rejected (§3.4, §6).
  **A rejected message changes neither session**: both sessions' states are snapshotted and
  the storage writes of both run in one :meth:`~mls_pq.storage.base.Storage.atomic` block;
  on any failure both are restored and the block rolled back.
* **join** from the Welcome pair (§3.2.1): PQ session first, then the traditional one with
  the ``apq_psk``; APQInfo present, valid and equal in both, naming both sessions, with the
  current epochs and a valid suite pair (§7.1); required components and wire formats;
  consistent membership. The joiner must send a FULL commit first (§3.2):
  :attr:`APQGroup.must_send_full_commit`, enforced by :meth:`APQGroup.commit`.
* **persistence**: pass ``storage=``; every change of both sessions is written in ONE
  storage transaction (:meth:`~mls_pq.storage.base.Storage.atomic`), so a crash never leaves
  the two sessions at inconsistent epochs. :meth:`APQGroup.load` restores and checks both.
  Not in the storage (kept by :meth:`APQGroup.to_bytes` / :meth:`APQGroup.from_bytes`, the
  storage-less alternative): the joiner's duty to send a FULL commit first and which cached
  proposals came in pairs.
* **upgrade** (§3, the alternative start): :meth:`APQGroup.upgrade` turns a running
  traditional group into a combined one (PQ session with the same members, one FULL commit);
  the other members call :meth:`APQGroup.join_upgrade`.
* **external join** (§3.2.2): :meth:`APQGroup.group_info` (a GroupInfo pair) and
  :meth:`APQGroup.join_external` (both sessions, one APQMessagePair of external commits).

Written by hand: no library implements draft-ietf-mls-combiner. Membership is compared by
credential identity (``identity_of``, default: the basic credential's identity, or the
encoded credential otherwise), since the two sessions use different signature keys.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, replace
from typing import Any

import mls_pq.ext_codepoints as cp

from ..components import (
    ComponentRegistry,
    UpdateContext,
    check_required_components,
    validate_app_data,
)
from ..codec import Reader, Writer
from ..errors import CorruptStateError, DecodeError, MLSError, StateError
from ..extensions import Extension
from ..group import Group
from ..client import Client
from ..group.commit import CommitEffects, MemberInfo
from ..group.results import ApplicationMessage, ProcessedMessage, ProposalMessage, StagedCommit
from ..group.welcome import KeyPackageBundle
from ..group.config import GroupConfig
from ..group.state import open_digest, seal_digest
from ..messages.app_data import (
    AppDataDictionary,
    AppDataUpdate,
    ComponentsList,
    app_data_dictionary_of,
    components_list_of,
    wire_formats_of,
    with_app_data_dictionary,
)
from ..messages.credential import Credential, CredentialType
from ..messages.framing_structs import (
    ContentType,
    MLSMessage,
    PrivateMessage,
    PublicMessage,
    SenderType,
    WireFormat,
)
from ..messages.leaf_node import LeafNode
from ..messages.proposals import Add, Proposal, Remove
from ..messages.welcome import GroupInfo
from ..messages.app_data import WireFormats
from ..psk import PSK_APPLICATION
from ..storage.base import Storage
from ..suites import CipherSuite, get_suite
from ..tree.ratchet_tree import RatchetTree
from .client import (
    APQClient,
    APQKeyPackage,
    APQKeyPackageBundle,
    apq_registry,
    session_capabilities,
    session_leaf_extensions,
)
from .key_schedule import apq_psk_from_exporter, apq_psk_id
from .structs import (
    APQ_COMPONENT_ID,
    APQ_MESSAGE_PAIR,
    DRAFT,
    APQInfo,
    APQInfoUpdate,
    APQMessagePair,
    combiner_error,
    is_apq_message_pair,
)
from .suites import check_suite_pair, signature_class

IdentityOf = Callable[[Credential], bytes]


def default_identity(credential: Credential) -> bytes:
    """A member's identity across the two sessions: a basic credential's ``identity``,
    otherwise the encoded credential."""
    if credential.credential_type == CredentialType.BASIC:
        return credential.identity
    return credential.to_bytes()


def session_config(config: GroupConfig | None, registry: ComponentRegistry) -> GroupConfig:
    """``config`` (default: the default GroupConfig) with the combined group's components."""
    return replace(config if config is not None else GroupConfig(), components=registry)


def _with_session_extensions(extensions: Sequence[Extension]) -> tuple[Extension, ...]:
    """``extensions`` of a running traditional group plus what a combined session needs
    (§6 required_wire_formats with apq_message_pair; component 0x0006 in app_components)."""
    req = wire_formats_of(extensions, cp.REQUIRED_WIRE_FORMATS)
    formats = tuple(sorted({*(req.wire_formats if req is not None else ()), APQ_MESSAGE_PAIR}))
    out = [e for e in extensions if e.extension_type != cp.REQUIRED_WIRE_FORMATS]
    out.append(WireFormats(formats).required_extension())
    d = app_data_dictionary_of(out) or AppDataDictionary()
    have = components_list_of(d)
    ids = tuple(sorted({cp.COMPONENT_APP_COMPONENTS, APQ_COMPONENT_ID, *(have.component_ids if have else ())}))
    return with_app_data_dictionary(out, d.with_data(cp.COMPONENT_APP_COMPONENTS, ComponentsList(ids).to_bytes()))


_APQ_MAGIC = b"MLSPQ-APQ-GROUP"


def _check_wire_formats(extensions: Sequence[Extension]) -> None:
    """§6: "The GroupContext of both the PQ and the T group MUST include the
    required_wire_formats extension listing the apq_message_pair wire format"."""
    req = wire_formats_of(extensions, cp.REQUIRED_WIRE_FORMATS)
    if req is None or APQ_MESSAGE_PAIR not in req.wire_formats:
        raise combiner_error("required_wire_formats does not list apq_message_pair", "6")


def _state_error(message: str, section: str) -> StateError:
    return StateError(f"{message} ({DRAFT} §{section})")


def apq_info_of(group: Group) -> APQInfo | None:
    """The APQInfo in ``group``'s GroupContext (component 0x0006), or None."""
    return _info_in(group.group_context.extensions)


def _info_in(extensions: Sequence[Any]) -> APQInfo | None:
    d = app_data_dictionary_of(extensions)
    data = None if d is None else d.get(APQ_COMPONENT_ID)
    if data is None:
        return None
    try:
        return APQInfo.from_bytes(data)
    except DecodeError as e:
        raise combiner_error(f"malformed APQInfo: {e}", "5.1") from None


def session_extensions() -> tuple[Any, ...]:
    """GroupContext extensions of both sessions at creation: ``required_wire_formats`` with
    apq_message_pair (§6) and ``app_components`` requiring component 0x0006
    (draft-ietf-mls-extensions §5)."""
    d = AppDataDictionary().with_data(
        cp.COMPONENT_APP_COMPONENTS, ComponentsList((cp.COMPONENT_APP_COMPONENTS, APQ_COMPONENT_ID)).to_bytes()
    )
    return with_app_data_dictionary((WireFormats((APQ_MESSAGE_PAIR,)).required_extension(),), d)


# ---- results ----------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class APQCommitOutput:
    """What :meth:`APQGroup.commit` returns. ``commit``: the bytes to send — the
    APQMessagePair (as an MLSMessage of wire format apq_message_pair) for a FULL commit, the
    traditional session's commit for a PARTIAL one. ``welcome``: the Welcome pair (an
    APQMessagePair of wire format mls_welcome) if members were added."""

    full: bool
    commit: bytes
    welcome: bytes | None
    t_commit: bytes
    pq_commit: bytes | None
    t_effects: CommitEffects
    pq_effects: CommitEffects | None
    apq_info: APQInfo | None
    #: :meth:`APQGroup.upgrade` only: the PQ session's Welcome for the traditional members
    pq_welcome: bytes | None = None

    def __repr__(self) -> str:
        return f"<APQCommitOutput full={self.full} welcome={self.welcome is not None} {len(self.commit)} bytes>"


@dataclass(frozen=True, repr=False)
class APQProcessed:
    """What :meth:`APQGroup.process` found. ``kind``: "application", "proposal" or "commit";
    ``full``: a FULL commit (or an external join, or a FULL-flagged proposal pair);
    ``data``: the application data; ``sender``: the sender's identity (None for an external
    sender); ``t``/``pq``: the two sessions' results (``pq`` None for a single message)."""

    kind: str
    full: bool
    sender: bytes | None
    data: bytes | None = None
    t_effects: CommitEffects | None = None
    pq_effects: CommitEffects | None = None
    t: Any = None
    pq: Any = None

    def __repr__(self) -> str:
        return f"<APQProcessed {self.kind} full={self.full}>"


# ---- adapting to Group.process (applied now, or staged: issue 10's StagedCommit) ----------------


class _Received:
    """A commit of one session, verified and staged (:class:`~mls_pq.group.results.StagedCommit`):
    merged or discarded together with its twin of the other session."""

    def __init__(self, group: Group, result: ProcessedMessage) -> None:
        if not isinstance(result, StagedCommit):
            raise combiner_error(f"expected a commit, got {type(result).__name__}", "3.1")
        self.group = group
        self.result: StagedCommit = result

    @property
    def effects(self) -> CommitEffects:
        return self.result.effects

    def safe_export(self, component_id: int) -> bytes:
        return self.result.safe_export_secret(component_id)

    def extensions(self) -> Sequence[Extension]:
        return tuple(self.result.new_group_context.extensions)

    def epoch(self) -> int:
        return self.effects.epoch

    def members(self) -> list[MemberInfo]:
        return self.result.new_members()

    def merge(self) -> None:
        self.result.merge()

    def discard(self) -> None:
        try:
            self.result.discard()
        except MLSError:
            pass  # already merged (our own pending commit) or discarded: nothing to undo


def _result_kind(result: ProcessedMessage) -> str:
    """"application", "proposal" or "commit" (the kind of :class:`APQProcessed`)."""
    if isinstance(result, StagedCommit):
        return "commit"
    if isinstance(result, ProposalMessage):
        return "proposal"
    return "application"


def _application_data(result: ProcessedMessage) -> bytes | None:
    return result.data if isinstance(result, ApplicationMessage) else None


def _leaf_at(group: Group, index: int) -> LeafNode | None:
    """The leaf at ``index`` of ``group``'s tree (None: blank or beyond the tree), in O(1)."""
    tree = group.state.tree
    return tree.leaf(index) if 0 <= index < tree.n_leaves else None


def _inner_group_id(msg: MLSMessage) -> bytes | None:
    body = msg.body
    if isinstance(body, PublicMessage):
        return body.content.group_id
    if isinstance(body, PrivateMessage):
        return body.group_id
    return None


def _inner_content_type(msg: MLSMessage) -> int | None:
    body = msg.body
    if isinstance(body, PublicMessage):
        return int(body.content.content_type)
    if isinstance(body, PrivateMessage):
        return int(body.content_type)
    return None


# ---- the combined group ------------------------------------------------------------------------


class APQGroup:
    """One member's view of an APQ-MLS combined group: :attr:`t` (traditional session) and
    :attr:`pq` (PQ session). See the module documentation."""

    def __init__(
        self,
        t: Group,
        pq: Group,
        *,
        registry: ComponentRegistry | None = None,
        identity_of: IdentityOf = default_identity,
    ) -> None:
        if t.storage is not pq.storage:
            raise StateError("both sessions must write to the same storage (one transaction for both)")
        self.t = t
        self.pq = pq
        self.registry = apq_registry(registry)
        self.identity_of = identity_of
        t.config = replace(t.config, components=self.registry)
        pq.config = replace(pq.config, components=self.registry)
        #: §3.2: "The joiner MUST issue a FULL Commit as soon as possible after joining";
        #: True after a join until our first FULL commit is merged (PARTIAL commits refused)
        self.must_send_full_commit = False
        #: traditional-session refs of proposals that came in pairs (Updates with the FULL
        #: flag, Fig. 1b; Removes in both sessions, §3.3): a PARTIAL commit of ours leaves
        #: them for a FULL commit, which covers them in both sessions
        self._full_refs: set[bytes] = set()
        #: the apq_psk key we put into t.application_psks for our pending FULL commit
        self._pending_psk: tuple[int, bytes] | None = None
        #: our pending commit as sent (the pair or the T commit), to recognise it coming back
        self._pending_out: APQCommitOutput | None = None

    def __repr__(self) -> str:
        return f"<APQGroup t_epoch={self.t.epoch} pq_epoch={self.pq.epoch}>"

    # ---- properties ---------------------------------------------------------------------------
    @property
    def storage(self) -> Storage | None:
        """The storage both sessions write through to (one transaction for both), or None."""
        return self.t.storage

    @property
    def apq_info(self) -> APQInfo:
        """The APQInfo of the combined group (§5.1; the same in both sessions, §5.1.2)."""
        info = apq_info_of(self.t)
        if info is None:
            raise combiner_error("the traditional session has no APQInfo", "5.1")
        return info

    @property
    def mode(self) -> bool:
        """False: PQ/T confidentiality only (§4.1); True: + authenticity (§4.2)."""
        return self.apq_info.mode

    @property
    def epochs(self) -> tuple[int, int]:
        """(traditional epoch, PQ epoch)."""
        return self.t.epoch, self.pq.epoch

    @property
    def epoch_authenticator(self) -> bytes:
        """The traditional session's epoch authenticator (RFC 9420 §8.7)."""
        return self.t.epoch_authenticator

    @property
    def active(self) -> bool:
        """False once we were removed from (either) session."""
        return self.t.active and self.pq.active

    @property
    def has_pending_commit(self) -> bool:
        """Whether a commit of ours awaits :meth:`merge_pending_commit` (in either session)."""
        return self.t.has_pending_commit or self.pq.has_pending_commit

    @property
    def identity(self) -> bytes:
        """Our identity (``identity_of`` of our traditional leaf's credential)."""
        return self.identity_of(self.t.state.own_leaf.credential)

    def members(self) -> list[bytes]:
        """The members' identities (traditional session's leaf order)."""
        return [self.identity_of(m.credential) for m in self.t.members()]

    def export_secret(self, label: str | bytes, context: bytes, length: int) -> bytes:
        """MLS-Exporter of the traditional session, whose key schedule carries the PQ
        session's secrets (§5.2)."""
        return self.t.export_secret(label, context, length)

    def safe_export_secret(self, component_id: int) -> bytes:
        """SafeExportSecret of the traditional session (draft-ietf-mls-extensions §4.4).
        Component 0x0006 is the combiner's own (exported from the PQ session only)."""
        if component_id == APQ_COMPONENT_ID:
            raise combiner_error("component 0x0006 is the combiner's: the application may not export it", "5.2")
        return self.t.safe_export_secret(component_id)

    # ---- atomicity ----------------------------------------------------------------------------
    @contextmanager
    def _atomic(self) -> Iterator[None]:
        """Both sessions change together or not at all: their in-memory state is
        snapshotted and their storage writes run in one storage transaction; any exception
        restores both and rolls the transaction back."""
        snaps = (dict(vars(self.t)), dict(vars(self.pq)), dict(self.t.application_psks))
        flags = (self.must_send_full_commit, set(self._full_refs), self._pending_psk, self._pending_out)
        storage = self.storage
        try:
            with storage.atomic() if storage is not None else nullcontext():
                yield
        except BaseException:
            for g, snap in ((self.t, snaps[0]), (self.pq, snaps[1])):
                vars(g).clear()
                vars(g).update(snap)
            self.t.application_psks.clear()
            self.t.application_psks.update(snaps[2])
            self.must_send_full_commit, self._full_refs, self._pending_psk, self._pending_out = flags
            raise

    # ---- creation -----------------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        client: APQClient,
        *,
        t_group_id: bytes | None = None,
        pq_group_id: bytes | None = None,
        mode: bool | None = None,
        storage: Storage | None = None,
        registry: ComponentRegistry | None = None,
        identity_of: IdentityOf = default_identity,
        config: GroupConfig | None = None,
    ) -> APQGroup:
        """A combined group with one member (§3): the PQ session is created, then the
        traditional session, and the first FULL commit puts APQInfo (``full_update``) into
        both and seeds the traditional key schedule with the ``apq_psk``. ``mode`` defaults
        to 1 iff the PQ suite signs with a PQ signature (§4, §7.1)."""
        t_suite, pq_suite = client.t.suite, client.pq.suite
        if mode is None:
            mode = signature_class(pq_suite) == "pq"
        check_suite_pair(t_suite.id, pq_suite.id, mode)
        t_gid = t_group_id if t_group_id is not None else os.urandom(16)
        pq_gid = pq_group_id if pq_group_id is not None else os.urandom(16)
        if t_gid == pq_gid:
            raise combiner_error("the two sessions need different group ids", "5.1")
        reg = apq_registry(registry)
        cfg = session_config(config, reg)
        exts = session_extensions()
        leaf_exts = session_leaf_extensions(reg)
        def session(suite: CipherSuite, gid: bytes, member: Client) -> Group:
            return Group.create(
                suite,
                gid,
                member.credential,
                member.signature_priv,
                capabilities=session_capabilities(member),
                extensions=exts,
                leaf_extensions=leaf_exts,
                storage=storage,
                config=cfg,
            )

        with storage.atomic() if storage is not None else nullcontext():
            pq = session(pq_suite, pq_gid, client.pq)  # the PQ session first (§3)
            t = session(t_suite, t_gid, client.t)
            g = cls(t, pq, registry=reg, identity_of=identity_of)
            first = APQInfo(t_gid, pq_gid, bool(mode), t_suite.id, pq_suite.id, t.epoch + 1, pq.epoch + 1)
            g._full_commit((), (), [APQInfoUpdate.full(first)], path=True, authenticated_data=b"")
            g.merge_pending_commit()
        return g

    # ---- committing ---------------------------------------------------------------------------
    def _leaf_of(self, group: Group, identity: bytes) -> int:
        for m in group.members():
            if self.identity_of(m.credential) == identity:
                return m.leaf_index
        raise StateError(f"no member with this identity in the {'PQ' if group is self.pq else 'traditional'} session")

    def _epoch_updates(self) -> list[APQInfoUpdate]:
        """The APQInfo updates of a FULL commit (§5.1.1): full_update the first time,
        new_t_epoch + new_pq_epoch afterwards."""
        info = apq_info_of(self.t)
        if info is None:
            raise combiner_error("no APQInfo yet: the first FULL commit needs a full_update", "5.1.1")
        return [APQInfoUpdate.t_epoch(self.t.epoch + 1), APQInfoUpdate.pq_epoch(self.pq.epoch + 1)]

    def commit(
        self,
        full: bool,
        *,
        add: Iterable[APQKeyPackage | tuple[bytes, bytes]] = (),
        remove: Iterable[bytes] = (),
        path: bool = True,
        authenticated_data: bytes = b"",
    ) -> APQCommitOutput:
        """A FULL (``full=True``: both sessions, §3.1) or PARTIAL (traditional only) commit.
        ``add``: the joiners' KeyPackage pairs; ``remove``: members' identities (both
        sessions, §3.3). Adds and removes need a FULL commit. Pending until
        :meth:`merge_pending_commit` (or :meth:`discard_pending_commit`)."""
        if self.has_pending_commit:
            raise StateError("a commit is already pending: merge or discard it first")
        adds = [a if isinstance(a, APQKeyPackage) else APQKeyPackage(*a) for a in add]
        removes = list(remove)
        if not full:
            if adds or removes:
                raise combiner_error("Add and Remove are committed in FULL commits only (both sessions)", "3")
            if self.must_send_full_commit:
                raise _state_error("the joiner's first commit must be a FULL commit", "3.2")
            refs = [r for r in self._partial_refs() if r not in self._full_refs]
            # one session: Group.commit is all-or-nothing on its own
            out = self.t.commit(references=refs, path=path, authenticated_data=authenticated_data)
            self._pending_out = APQCommitOutput(False, out.commit, None, out.commit, None, out.effects, None, None)
            return self._pending_out
        return self._full_commit(adds, removes, self._epoch_updates(), path=path, authenticated_data=authenticated_data)

    def _partial_refs(self) -> list[bytes]:
        """Pending traditional proposals a PARTIAL commit may cover: no Add or Remove
        (membership changes are FULL, §3), none sent with the FULL flag."""
        ok = {c.ref for c in self.t.pending_proposals if not isinstance(c.proposal.body, (Add, Remove))}
        return [r for r in self.t._select_pending(()) if r in ok]

    def _full_t_refs(self, by_value: Sequence[Proposal]) -> list[bytes]:
        """Pending traditional proposals a FULL commit covers: all but an Add or Remove
        received without its PQ twin (it would make the memberships diverge, §3.2.1)."""
        ok = {
            c.ref
            for c in self.t.pending_proposals
            if not isinstance(c.proposal.body, (Add, Remove)) or c.ref in self._full_refs
        }
        return [r for r in self.t._select_pending(by_value) if r in ok]

    def _full_commit(
        self,
        adds: Sequence[APQKeyPackage],
        removes: Sequence[bytes],
        updates: Sequence[APQInfoUpdate],
        *,
        path: bool,
        authenticated_data: bytes,
        pq_only_adds: Sequence[bytes] = (),
        t_extensions: Sequence[Extension] | None = None,
    ) -> APQCommitOutput:
        """Both halves of a FULL commit (§3.1). ``pq_only_adds`` / ``t_extensions``: for
        :meth:`upgrade`, the traditional members added to the new PQ session and the
        traditional session's new GroupContext extensions (a GroupContextExtensions proposal)."""
        t_rm = [self._leaf_of(self.t, r) for r in removes]
        pq_rm = [self._leaf_of(self.pq, r) for r in removes]
        if self.identity in removes:
            raise StateError("a member cannot remove itself with a commit (RFC 9420 §12.2)")
        props = [Proposal(AppDataUpdate.make_update(APQ_COMPONENT_ID, u.to_bytes())) for u in updates]
        wf = self.t.state.options.handshake_wire_format
        with self._atomic():
            pq_out = self.pq.commit(
                add=[*(a.pq for a in adds), *pq_only_adds],
                remove=pq_rm,
                proposals=props,
                path=path,
                wire_format=wf,
                authenticated_data=authenticated_data,
            )
            t_suite = self.t.suite
            psk_id, psk = apq_psk_from_exporter(t_suite, self.pq.pending_safe_export_secret(APQ_COMPONENT_ID))
            key = (APQ_COMPONENT_ID, psk_id)
            self.t.application_psks[key] = psk
            self._pending_psk = key
            t_by_value = [Proposal(Remove(i)) for i in t_rm]
            t_out = self.t.commit(
                add=[a.t for a in adds],
                remove=t_rm,
                references=self._full_t_refs(t_by_value),
                psks=[apq_psk_id(psk_id, os.urandom(t_suite.n_h))],
                proposals=props,
                group_context_extensions=t_extensions,
                path=path,
                wire_format=wf,
                authenticated_data=authenticated_data,
            )
            self._check_membership_change(t_out.effects, pq_out.effects)
        pair = APQMessagePair.of(MLSMessage.from_bytes(t_out.commit), MLSMessage.from_bytes(pq_out.commit))
        welcome = None
        if pq_only_adds:
            self._pending_out = APQCommitOutput(
                True, pair.to_mls_message(), None, t_out.commit, pq_out.commit, t_out.effects, pq_out.effects, None,
                pq_out.welcome,
            )
            return self._pending_out
        if t_out.welcome is not None or pq_out.welcome is not None:
            if t_out.welcome is None or pq_out.welcome is None:  # cannot happen: same adds
                raise StateError("one session produced a Welcome, the other did not")
            welcome = APQMessagePair(
                int(WireFormat.WELCOME), MLSMessage.from_bytes(t_out.welcome), MLSMessage.from_bytes(pq_out.welcome)
            ).to_mls_message()
        self._pending_out = APQCommitOutput(
            True, pair.to_mls_message(), welcome, t_out.commit, pq_out.commit, t_out.effects, pq_out.effects, None
        )
        return self._pending_out

    def _check_membership_change(self, t_eff: CommitEffects, pq_eff: CommitEffects) -> None:
        """Sender side of §3.2.1/§3.3: the two commits add and remove the same identities."""
        ids = self.identity_of

        def change(eff: CommitEffects) -> dict[bytes, int]:
            # the sessions have the same members now (an invariant every commit keeps), so
            # the same adds and removes by identity keep them equal: O(changed leaves), not O(N)
            c: Counter[bytes] = Counter()
            for m in eff.removed:
                c[ids(m.credential)] -= 1
            for m in eff.added:
                c[ids(m.credential)] += 1
            return {k: v for k, v in c.items() if v}

        def after(group: Group, eff: CommitEffects) -> Counter[bytes]:
            c = Counter(ids(m.credential) for m in group.members())
            c.subtract(ids(m.credential) for m in eff.removed)
            c.update(ids(m.credential) for m in eff.added)
            return +c

        # different changes are still right when the sessions differed before (an upgrade's
        # first FULL commit adds the running group's members to the new PQ session): then O(N)
        if change(t_eff) != change(pq_eff) and after(self.t, t_eff) != after(self.pq, pq_eff):
            raise combiner_error("the two commits leave different memberships in the two sessions", "3.2.1")

    def merge_pending_commit(self) -> None:
        """Install the epochs our pending commit creates (both sessions for a FULL commit),
        in one storage transaction, and verify APQInfo and membership (§5.1.2, §3.2.1)."""
        if not self.has_pending_commit:
            raise StateError("no pending commit")
        full = self.pq.has_pending_commit
        with self._atomic():
            # the trees are immutable: the epochs before our commit, for the membership deltas
            old_t, old_pq = self.t.state.tree, self.pq.state.tree
            pq_delta: dict[bytes, int] = {}
            if full:
                pq_delta = self._merged_delta(self.pq, old_pq, self.pq.merge_pending_commit())
            t_delta = self._merged_delta(self.t, old_t, self.t.merge_pending_commit())
            # §3.2.1, §3.3 in O(changed leaves); unequal changes: compare all members
            self._verify_sessions(exact_epochs=full, section="5.1.2", membership=t_delta != pq_delta)
            if full:
                self.must_send_full_commit = False
            self._drop_pending_psk()
            self._pending_out = None

    def discard_pending_commit(self) -> None:
        """Discard our pending commit in both sessions."""
        if not self.has_pending_commit:
            raise StateError("no pending commit")
        with self._atomic():
            if self.pq.has_pending_commit:
                self.pq.discard_pending_commit()
            if self.t.has_pending_commit:
                self.t.discard_pending_commit()
            self._drop_pending_psk()
            self._pending_out = None

    def _drop_own_pending(self) -> None:
        """Another member's commit was merged: our pending commit, in either session, is
        superseded (RFC 9420 §12.4; both halves of a FULL commit go together)."""
        for g in (self.pq, self.t):
            if g.has_pending_commit:
                g.discard_pending_commit()
        self._drop_pending_psk()
        self._pending_out = None

    def _drop_pending_psk(self) -> None:
        if self._pending_psk is not None:
            self.t.application_psks.pop(self._pending_psk, None)
            self._pending_psk = None

    # ---- proposals ----------------------------------------------------------------------------
    def propose_update(self, *, authenticated_data: bytes = b"") -> bytes:
        """Update proposals in both sessions with the FULL flag (Fig. 1b): an
        APQMessagePair of the two Updates; whoever commits them should do so in a FULL
        commit (our own PARTIAL commits leave them)."""
        with self._atomic():
            pq_msg = self.pq.propose_update(authenticated_data=authenticated_data)
            t_msg = self.t.propose_update(authenticated_data=authenticated_data)
            self._full_refs.add(self.t.pending_proposals[-1].ref)
        return APQMessagePair.of(MLSMessage.from_bytes(t_msg), MLSMessage.from_bytes(pq_msg)).to_mls_message()

    def propose_remove(self, identity: bytes, *, authenticated_data: bytes = b"") -> bytes:
        """Remove proposals for ``identity`` in both sessions (§3.3), as one APQMessagePair;
        committed by the next FULL commit."""
        t_i, pq_i = self._leaf_of(self.t, identity), self._leaf_of(self.pq, identity)
        with self._atomic():
            pq_msg = self.pq.propose_remove(pq_i, authenticated_data=authenticated_data)
            t_msg = self.t.propose_remove(t_i, authenticated_data=authenticated_data)
            self._full_refs.add(self.t.pending_proposals[-1].ref)
        return APQMessagePair.of(MLSMessage.from_bytes(t_msg), MLSMessage.from_bytes(pq_msg)).to_mls_message()

    # ---- application data ---------------------------------------------------------------------
    def encrypt(self, data: bytes, *, authenticated_data: bytes = b"") -> bytes:
        """Application data, in the traditional session only (§3.4)."""
        return self.t.encrypt(data, authenticated_data=authenticated_data)

    # ---- receiving ----------------------------------------------------------------------------
    def process(self, data: bytes) -> APQProcessed:
        """Process an APQMessagePair (FULL commit, external join, proposal pair) or a single
        traditional message (application, proposal, PARTIAL commit). A rejected message
        raises an :class:`~mls_pq.errors.MLSError` and changes neither session. Our own
        pending commit coming back is merged (:meth:`merge_pending_commit`)."""
        own = self._pending_out
        if own is not None and self.has_pending_commit and data == own.commit:
            self.merge_pending_commit()
            return APQProcessed(
                "commit", own.full, self.identity, t_effects=own.t_effects, pq_effects=own.pq_effects
            )
        if is_apq_message_pair(data):
            pair = APQMessagePair.from_mls_message(data)
            return self._process_pair(pair)
        try:
            msg = MLSMessage.from_bytes(data)
        except MLSError:
            raise
        gid = _inner_group_id(msg)
        if gid is not None and gid == self.pq.group_id:
            raise combiner_error("a PQ-session message travels only in an APQMessagePair with its traditional half", "6")
        if isinstance(msg.body, PrivateMessage) and msg.body.content_type == ContentType.APPLICATION:
            # the hot path: one session, nothing to check across sessions (Group.process is
            # all-or-nothing on its own; no storage transaction around it)
            res = self.t.process(data)
            return APQProcessed("application", False, self._sender_identity(self.t, res), _application_data(res), t=res)
        rec: _Received | None = None
        try:
            with self._atomic():
                res = self.t.process(data)
                kind = _result_kind(res)
                if kind != "commit":
                    if kind == "proposal":
                        self._check_single_proposal(res)
                    sender = self._sender_identity(self.t, res)
                    return APQProcessed(kind, False, sender, _application_data(res), t=res)
                before = apq_info_of(self.t)
                rec = _Received(self.t, res)
                eff = rec.effects
                if eff.added or eff.removed or eff.external_join is not None:
                    raise combiner_error("a PARTIAL commit adds or removes members: only FULL commits may", "3")
                if _info_in(rec.extensions()) != before:
                    raise combiner_error("a PARTIAL commit changes APQInfo: it is updated by FULL commits only", "5.1.2")
                _check_wire_formats(rec.extensions())
                if any(p.psktype == PSK_APPLICATION and p.component_id == APQ_COMPONENT_ID for p in eff.psks):
                    raise combiner_error("an apq_psk in a traditional commit sent without its PQ commit", "3.1")
                sender = self._committer_identity(self.t, eff)
                # no adds or removes (checked above): the membership by identity can change
                # only at the leaves the commit touched (committer's path, Updates) — compare
                # those (O(changed leaves)); the O(N) comparison only if one changed identity
                if self._staged_delta(rec):  # the PQ session does not change: compare all
                    self._check_staged_membership(rec, None)
                rec.merge()
                self._drop_own_pending()
                self._verify_sessions(exact_epochs=False, section="3.2.1", membership=False)
                return APQProcessed("commit", False, sender, t_effects=eff, t=res)
        except BaseException:
            if rec is not None:
                rec.discard()
            raise

    @staticmethod
    def _check_single_proposal(res: ProcessedMessage) -> None:
        """A single traditional proposal may not update APQInfo (only FULL commits do,
        §5.1.1). Add/Remove proposals may be cached: a commit must pair them (checked then)."""
        body = res.proposal.body if isinstance(res, ProposalMessage) else None
        if isinstance(body, AppDataUpdate) and body.component_id == APQ_COMPONENT_ID:
            raise combiner_error("an APQInfo update proposed outside a FULL commit", "5.1.1")

    def _sender_identity(self, group: Group, res: ProcessedMessage) -> bytes | None:
        cred = None if isinstance(res, StagedCommit) else res.sender_credential
        return self.identity_of(cred) if cred is not None else None

    def _committer_identity(self, group: Group, eff: CommitEffects) -> bytes | None:
        """The committer's identity in ``group`` after the commit was applied or staged."""
        if eff.external_join is not None:
            return self.identity_of(eff.external_join.credential)
        s = eff.committer
        if s.sender_type != SenderType.MEMBER:
            return None
        leaf = _leaf_at(group, s.index)  # O(1), not members()
        return None if leaf is None else self.identity_of(leaf.credential)

    def _process_pair(self, pair: APQMessagePair) -> APQProcessed:
        wf = pair.wire_format
        if wf not in (WireFormat.PUBLIC_MESSAGE, WireFormat.PRIVATE_MESSAGE):
            raise combiner_error(f"an APQMessagePair of wire format 0x{wf:04x} is not a group message here", "6")
        if _inner_group_id(pair.t_message) != self.t.group_id or _inner_group_id(pair.pq_message) != self.pq.group_id:
            raise combiner_error("the pair's messages are not for this group's two sessions", "6")
        ct_t, ct_pq = _inner_content_type(pair.t_message), _inner_content_type(pair.pq_message)
        if ct_t != ct_pq:
            raise combiner_error("the two messages of a pair have different content types", "6")
        if ct_t == ContentType.PROPOSAL:
            return self._process_proposal_pair(pair)
        return self._process_full_commit(pair)

    def _process_proposal_pair(self, pair: APQMessagePair) -> APQProcessed:
        from ..messages.proposals import Update

        with self._atomic():
            pq_res = self.pq.process(pair.pq_message.to_bytes())
            t_res = self.t.process(pair.t_message.to_bytes())
            if not (isinstance(t_res, ProposalMessage) and isinstance(pq_res, ProposalMessage)):
                raise combiner_error("a proposal pair holds a proposal in both sessions", "6")
            bodies = [t_res.proposal.body, pq_res.proposal.body]
            if type(bodies[0]) is not type(bodies[1]) or not isinstance(bodies[0], (Update, Remove)):
                raise combiner_error("a proposal pair is an Update or a Remove in both sessions", "3.3")
            t_sender, pq_sender = self._sender_identity(self.t, t_res), self._sender_identity(self.pq, pq_res)
            if t_sender != pq_sender:
                raise combiner_error("the two proposals of a pair come from different members", "3.1")
            if isinstance(bodies[0], Remove):
                assert isinstance(bodies[1], Remove)
                gone = [_leaf_at(self.t, bodies[0].removed)]  # O(1) lookups, not members()
                gone_pq = [_leaf_at(self.pq, bodies[1].removed)]
                if [self.identity_of(m.credential) for m in gone if m is not None] != [
                    self.identity_of(m.credential) for m in gone_pq if m is not None
                ]:
                    raise combiner_error("the two Remove proposals name different members", "3.3")
            self._full_refs.add(t_res.proposal_ref)
            return APQProcessed("proposal", True, t_sender, t=t_res, pq=pq_res)

    def _process_full_commit(self, pair: APQMessagePair) -> APQProcessed:
        """Receive a FULL commit or an external join (§3.1, §3.2.2): PQ commit, apq_psk from
        its new epoch, traditional commit, then the checks, then both merged — all or nothing."""
        staged: list[_Received] = []
        try:
            with self._atomic():
                pq_rec = _Received(self.pq, self.pq.process(pair.pq_message.to_bytes()))
                staged.append(pq_rec)
                pq_eff = pq_rec.effects
                if pq_rec.result.own:  # our pending FULL commit came back
                    t_own = _Received(self.t, self.t.process(pair.t_message.to_bytes()))
                    staged.append(t_own)
                    if not t_own.result.own:
                        raise combiner_error("the pair joins our pending PQ commit to another traditional commit", "3.1")
                    self.merge_pending_commit()
                    return APQProcessed(
                        "commit", True, self.identity, t_effects=t_own.effects, pq_effects=pq_eff,
                        t=t_own.result, pq=pq_rec.result,
                    )
                if pq_eff.removed_self:
                    return self._process_own_removal(pair, pq_rec, staged)
                psk_id, psk = apq_psk_from_exporter(self.t.suite, pq_rec.safe_export(APQ_COMPONENT_ID))
                self.t.application_psks[(APQ_COMPONENT_ID, psk_id)] = psk
                t_rec = _Received(self.t, self.t.process(pair.t_message.to_bytes()))
                staged.append(t_rec)
                t_eff = t_rec.effects
                self.t.application_psks.pop((APQ_COMPONENT_ID, psk_id), None)
                # §5.2: the traditional commit of a FULL commit carries the apq_psk proposal
                if not any(
                    p.psktype == PSK_APPLICATION and p.component_id == APQ_COMPONENT_ID and p.psk_id == psk_id
                    for p in t_eff.psks
                ):
                    raise combiner_error("the traditional commit of a FULL commit lacks the apq_psk proposal", "5.2")
                # §5.1.1, §5.1.2: both APQInfos updated, equal, with the two new epochs and suites
                t_info, pq_info = _info_in(t_rec.extensions()), _info_in(pq_rec.extensions())
                if t_info is None or pq_info is None:
                    raise combiner_error("a FULL commit leaves a session without APQInfo", "5.1.2")
                if t_info != pq_info:
                    raise combiner_error("the APQInfos of the two sessions differ after a FULL commit", "5.1.2")
                if (t_info.t_epoch, t_info.pq_epoch) != (t_eff.epoch, pq_eff.epoch):
                    raise combiner_error("APQInfo epochs are not those of the two new epochs", "5.1.1")
                if (t_info.t_cipher_suite, t_info.pq_cipher_suite) != (self.t.suite.id, self.pq.suite.id):
                    raise combiner_error("APQInfo cipher suites are not those of the two sessions", "5.1.1")
                t_who = self._committer_identity(self.t, t_eff) if t_eff.external_join is None else None
                pq_who = self._committer_identity(self.pq, pq_eff) if pq_eff.external_join is None else None
                if (t_eff.external_join is None) != (pq_eff.external_join is None):
                    raise combiner_error("only one half of the pair is an external commit", "3.2.2")
                if t_eff.external_join is not None:
                    assert pq_eff.external_join is not None
                    t_who = self.identity_of(t_eff.external_join.credential)
                    pq_who = self.identity_of(pq_eff.external_join.credential)
                if t_who != pq_who:
                    raise combiner_error("the two commits of a FULL commit come from different members", "3.1")
                if self._staged_delta(t_rec) != self._staged_delta(pq_rec):  # O(changed leaves)
                    self._check_staged_membership(t_rec, pq_rec)  # unequal changes: compare all
                _check_wire_formats(t_rec.extensions())
                _check_wire_formats(pq_rec.extensions())
                pq_rec.merge()
                t_rec.merge()
                self._drop_own_pending()
                self._verify_sessions(exact_epochs=True, section="5.1.2", membership=False)
        except BaseException:
            for rec in staged:
                rec.discard()
            raise
        return APQProcessed("commit", True, t_who, t_effects=t_eff, pq_effects=pq_eff, t=t_rec.result, pq=pq_rec.result)

    def _process_own_removal(self, pair: APQMessagePair, pq_rec: _Received, staged: list[_Received]) -> APQProcessed:
        """A FULL commit removing us (§3.3): we cannot (and need not) derive the new epochs;
        the traditional commit must remove us too."""
        t_rec = _Received(self.t, self.t.process(pair.t_message.to_bytes()))
        staged.append(t_rec)
        if not t_rec.effects.removed_self:
            raise combiner_error("we are removed from the PQ session but not from the traditional one", "3.3")
        who = self._committer_identity(self.t, t_rec.effects)
        if who != self._committer_identity(self.pq, pq_rec.effects):
            raise combiner_error("the two commits of a FULL commit come from different members", "3.1")
        pq_rec.merge()
        t_rec.merge()
        self._drop_own_pending()
        return APQProcessed(
            "commit", True, who, t_effects=t_rec.effects, pq_effects=pq_rec.effects, t=t_rec.result, pq=pq_rec.result
        )

    def _check_staged_membership(self, t_rec: _Received, pq_rec: _Received | None) -> None:
        """§3.2.1, §3.3: the same members in both sessions after the commit(s) (``pq_rec``
        None: the PQ session stays as it is)."""
        ids = self.identity_of
        t_m = Counter(ids(m.credential) for m in t_rec.members())
        pq_members = pq_rec.members() if pq_rec is not None else self.pq.members()
        pq_m = Counter(ids(m.credential) for m in pq_members)
        if t_m != pq_m:
            raise combiner_error("the two sessions' memberships differ after the commit", "3.2.1")

    # ---- consistency --------------------------------------------------------------------------
    def _membership_delta(
        self, old_tree: RatchetTree, new_identity: Callable[[int], bytes | None], eff: CommitEffects
    ) -> dict[bytes, int]:
        """How a commit changed a session's membership by identity, in O(leaves it touched):
        +1 for each identity at a touched leaf after it, −1 before it (added, removed, updated
        leaves, the committer's, an external joiner's). The two sessions had the same members
        before (checked at join and load, kept by every commit), so they have the same after a
        commit pair iff both deltas are equal (§3.2.1, §3.3) — no O(N) comparison."""
        touched = {m.leaf_index for m in (*eff.added, *eff.removed, *eff.updated)}
        if eff.committer.sender_type == SenderType.MEMBER:
            touched.add(eff.committer.index)
        if eff.external_join is not None:
            touched.add(eff.external_join.leaf_index)
        delta: Counter[bytes] = Counter()
        for i in touched:
            old = old_tree.leaf(i) if 0 <= i < old_tree.n_leaves else None
            if old is not None:
                delta[self.identity_of(old.credential)] -= 1
            new = new_identity(i)
            if new is not None:
                delta[new] += 1
        return {k: v for k, v in delta.items() if v}

    def _staged_delta(self, rec: _Received) -> dict[bytes, int]:
        """:meth:`_membership_delta` of a staged commit."""

        def new_identity(i: int) -> bytes | None:
            m = rec.result.new_member(i)
            return None if m is None else self.identity_of(m.credential)

        return self._membership_delta(rec.group.state.tree, new_identity, rec.effects)

    def _merged_delta(self, group: Group, old_tree: RatchetTree, eff: CommitEffects) -> dict[bytes, int]:
        """:meth:`_membership_delta` of a commit just merged into ``group`` (``old_tree``: before)."""
        tree = group.state.tree

        def new_identity(i: int) -> bytes | None:
            leaf = tree.leaf(i) if 0 <= i < tree.n_leaves else None
            return None if leaf is None else self.identity_of(leaf.credential)

        return self._membership_delta(old_tree, new_identity, eff)

    def _verify_sessions(self, *, exact_epochs: bool, section: str, membership: bool = True) -> None:
        """Both sessions carry the same valid APQInfo naming them (§5.1, §5.1.2, §7.1), the
        PQ epoch is the one it records (and the traditional one too after a FULL commit,
        ``exact_epochs``), and they have the same members (§3.2.1, §3.3)."""
        t_info, pq_info = apq_info_of(self.t), apq_info_of(self.pq)
        if t_info is None or pq_info is None:
            raise combiner_error("APQInfo missing from a session's GroupContext", "3.2.1")
        if t_info != pq_info:
            raise combiner_error("the APQInfos of the two sessions differ", section)
        info = t_info
        if (info.t_session_group_id, info.pq_session_group_id) != (self.t.group_id, self.pq.group_id):
            raise combiner_error("APQInfo does not name these two sessions", "5.1")
        if (info.t_cipher_suite, info.pq_cipher_suite) != (self.t.suite.id, self.pq.suite.id):
            raise combiner_error("APQInfo cipher suites are not the sessions' suites", "7.1")
        check_suite_pair(info.t_cipher_suite, info.pq_cipher_suite, info.mode)
        if info.pq_epoch != self.pq.epoch or (info.t_epoch != self.t.epoch if exact_epochs else info.t_epoch > self.t.epoch):
            raise combiner_error(
                f"APQInfo epochs ({info.t_epoch}, {info.pq_epoch}) do not match the sessions"
                f" ({self.t.epoch}, {self.pq.epoch})",
                "5.1.2",
            )
        if not membership or (not self.t.active and not self.pq.active):
            return  # membership unchanged (checked by the caller) or removed from both
        ids = self.identity_of
        if Counter(ids(m.credential) for m in self.t.members()) != Counter(ids(m.credential) for m in self.pq.members()):
            raise combiner_error("the two sessions' memberships differ", "3.2.1")

    def _check_joined(self) -> None:
        """A joiner's checks of both sessions (§3.2.1, §5.1.2, §6, §7.1): APQInfo, required
        wire formats and components, membership."""
        for g in (self.pq, self.t):
            exts = g.group_context.extensions
            _check_wire_formats(exts)
            check_required_components(exts, self.registry)
            validate_app_data(
                app_data_dictionary_of(exts), self.registry, UpdateContext(g.group_id, g.epoch, g.suite.id)
            )
        self._verify_sessions(exact_epochs=True, section="3.2.1")

    # ---- joining ------------------------------------------------------------------------------
    @classmethod
    def join(
        cls,
        welcome: bytes,
        bundle: APQKeyPackageBundle | None = None,
        *,
        storage: Storage | None = None,
        registry: ComponentRegistry | None = None,
        identity_of: IdentityOf = default_identity,
        t_ratchet_tree: bytes | None = None,
        pq_ratchet_tree: bytes | None = None,
        config: GroupConfig | None = None,
    ) -> APQGroup:
        """Join from the Welcome pair (§3.2, §3.2.1): the PQ session first, then the
        traditional one with the ``apq_psk`` of the PQ epoch joined; then the joiner's
        checks. :attr:`must_send_full_commit` is set: our first commit must be FULL."""
        pair = APQMessagePair.from_mls_message(welcome)
        if pair.wire_format != WireFormat.WELCOME:
            raise combiner_error("the Welcome pair is not of wire format mls_welcome", "3.2.1")
        reg = apq_registry(registry)
        cfg = session_config(config, reg)
        with storage.atomic() if storage is not None else nullcontext():
            pq = Group.join(
                pair.pq_message.to_bytes(),
                bundle.pq if bundle is not None else None,
                storage=storage,
                ratchet_tree=pq_ratchet_tree,
                config=cfg,
            )
            info = apq_info_of(pq)
            if info is None:
                raise combiner_error("the PQ session's GroupContext has no APQInfo", "3.2.1")
            t_suite = get_suite(info.t_cipher_suite)
            psk_id, psk = apq_psk_from_exporter(t_suite, pq.safe_export_secret(APQ_COMPONENT_ID))
            t = Group.join(
                pair.t_message.to_bytes(),
                bundle.t if bundle is not None else None,
                storage=storage,
                ratchet_tree=t_ratchet_tree,
                application_psks={(APQ_COMPONENT_ID, psk_id): psk},
                config=cfg,
            )
            g = cls(t, pq, registry=reg, identity_of=identity_of)
            g._check_joined()
            g.must_send_full_commit = True
        return g

    # ---- upgrading a running traditional group (§3) ------------------------------------------------
    @classmethod
    def upgrade(
        cls,
        t: Group,
        pq_client: Client,
        pq_key_packages: Iterable[bytes],
        *,
        pq_group_id: bytes | None = None,
        mode: bool | None = None,
        registry: ComponentRegistry | None = None,
        identity_of: IdentityOf = default_identity,
        config: GroupConfig | None = None,
    ) -> tuple[APQGroup, APQCommitOutput]:
        """Turn a running traditional group ``t`` into a combined group (§3, the alternative
        to :meth:`create`): a PQ session is created with the same members (their PQ
        KeyPackages ``pq_key_packages``), and one FULL commit adds them to it, puts APQInfo
        (``full_update``) into both sessions, the combiner's required wire format and
        component into the traditional GroupContext (GroupContextExtensions) and the
        ``apq_psk`` into the traditional key schedule. Returns the group (commit pending:
        :meth:`merge_pending_commit`) and the output: ``commit`` (the pair) for the
        traditional members and ``pq_welcome`` for them to join the PQ session
        (:meth:`join_upgrade`). The traditional members' leaves must already support the
        combiner's extensions (:func:`~mls_pq.apq.client.session_capabilities`)."""
        pq_suite = pq_client.suite
        if mode is None:
            mode = signature_class(pq_suite) == "pq"
        check_suite_pair(t.suite.id, pq_suite.id, mode)
        if apq_info_of(t) is not None:
            raise _state_error("the traditional group is already part of a combined group", "3")
        if t.has_pending_commit:
            raise StateError("a commit is already pending: merge or discard it first")
        pq_gid = pq_group_id if pq_group_id is not None else os.urandom(16)
        if pq_gid == t.group_id:
            raise combiner_error("the two sessions need different group ids", "5.1")
        reg = apq_registry(registry)
        cfg = session_config(config, reg)
        storage = t.storage
        snap = dict(vars(t))
        try:
            with storage.atomic() if storage is not None else nullcontext():
                pq = Group.create(
                    pq_suite,
                    pq_gid,
                    pq_client.credential,
                    pq_client.signature_priv,
                    capabilities=session_capabilities(pq_client),
                    extensions=session_extensions(),
                    leaf_extensions=session_leaf_extensions(reg),
                    storage=storage,
                    config=cfg,
                )
                g = cls(t, pq, registry=reg, identity_of=identity_of)
                info = APQInfo(t.group_id, pq_gid, bool(mode), t.suite.id, pq_suite.id, t.epoch + 1, pq.epoch + 1)
                out = g._full_commit(
                    (),
                    (),
                    [APQInfoUpdate.full(info)],
                    path=True,
                    authenticated_data=b"",
                    pq_only_adds=list(pq_key_packages),
                    t_extensions=_with_session_extensions(t.group_context.extensions),
                )
        except BaseException:
            vars(t).clear()
            vars(t).update(snap)
            raise
        return g, out

    @classmethod
    def join_upgrade(
        cls,
        t: Group,
        commit: bytes,
        pq_welcome: bytes,
        pq_bundle: KeyPackageBundle | None = None,
        *,
        registry: ComponentRegistry | None = None,
        identity_of: IdentityOf = default_identity,
        config: GroupConfig | None = None,
    ) -> APQGroup:
        """A traditional member's side of :meth:`upgrade`: join the PQ session from
        ``pq_welcome``, derive the ``apq_psk`` of its epoch, process the traditional half of
        ``commit`` with it, and run the joiner's checks (§3.2.1). On failure ``t`` is
        unchanged."""
        pair = APQMessagePair.from_mls_message(commit)
        if pair.wire_format not in (WireFormat.PUBLIC_MESSAGE, WireFormat.PRIVATE_MESSAGE):
            raise combiner_error("the upgrade commit pair is not a pair of group messages", "6")
        if _inner_group_id(pair.t_message) != t.group_id:
            raise combiner_error("the upgrade commit is not for this traditional group", "6")
        reg = apq_registry(registry)
        cfg = session_config(config, reg)
        storage = t.storage
        snap = dict(vars(t))
        rec: _Received | None = None
        try:
            with storage.atomic() if storage is not None else nullcontext():
                pq = Group.join(pq_welcome, pq_bundle, storage=storage, config=cfg)
                if _inner_group_id(pair.pq_message) != pq.group_id:
                    raise combiner_error("the upgrade commit's PQ half is not for the PQ session joined", "6")
                info = apq_info_of(pq)
                if info is None:
                    raise combiner_error("the PQ session's GroupContext has no APQInfo", "3.2.1")
                psk_id, psk = apq_psk_from_exporter(t.suite, pq.safe_export_secret(APQ_COMPONENT_ID))
                t.config = replace(t.config, components=reg)
                t.application_psks[(APQ_COMPONENT_ID, psk_id)] = psk
                rec = _Received(t, t.process(pair.t_message.to_bytes()))
                t.application_psks.pop((APQ_COMPONENT_ID, psk_id), None)
                if not any(
                    p.psktype == PSK_APPLICATION and p.component_id == APQ_COMPONENT_ID and p.psk_id == psk_id
                    for p in rec.effects.psks
                ):
                    raise combiner_error("the traditional commit of a FULL commit lacks the apq_psk proposal", "5.2")
                rec.merge()
                g = cls(t, pq, registry=reg, identity_of=identity_of)
                g._check_joined()
        except BaseException:
            if rec is not None:
                rec.discard()
            vars(t).clear()
            vars(t).update(snap)
            raise
        return g

    # ---- external joins (§3.2.2) -----------------------------------------------------------------
    def group_info(self) -> bytes:
        """The two sessions' GroupInfos (with ``external_pub`` and the ratchet tree) as one
        APQMessagePair of wire format mls_group_info, for an external joiner (§3.2.2); both
        carry APQInfo in their GroupContext."""
        t_gi = self.t.group_info(ratchet_tree=True, external_pub=True)
        pq_gi = self.pq.group_info(ratchet_tree=True, external_pub=True)
        return APQMessagePair(
            int(WireFormat.GROUP_INFO), MLSMessage.from_bytes(t_gi), MLSMessage.from_bytes(pq_gi)
        ).to_mls_message()

    @classmethod
    def join_external(
        cls,
        group_info: bytes,
        client: APQClient,
        *,
        storage: Storage | None = None,
        registry: ComponentRegistry | None = None,
        identity_of: IdentityOf = default_identity,
        config: GroupConfig | None = None,
        authenticated_data: bytes = b"",
    ) -> tuple[APQGroup, bytes]:
        """Join both sessions by external commits (§3.2.2), from the GroupInfo pair of
        :meth:`group_info`: the PQ external commit first, the ``apq_psk`` of its new epoch,
        then the traditional external commit with the application PSK proposal; both update
        APQInfo's epochs. Returns the group and the APQMessagePair of the two commits to
        send (a FULL commit: processed by members with :meth:`process`)."""
        pair = APQMessagePair.from_mls_message(group_info)
        if pair.wire_format != WireFormat.GROUP_INFO:
            raise combiner_error("the GroupInfo pair is not of wire format mls_group_info", "3.2.2")
        t_gi, pq_gi = pair.t_message.body, pair.pq_message.body
        if not isinstance(t_gi, GroupInfo) or not isinstance(pq_gi, GroupInfo):  # §6 checked the formats
            raise combiner_error("the GroupInfo pair does not hold two GroupInfos", "3.2.2")
        t_info, pq_info = _info_in(t_gi.group_context.extensions), _info_in(pq_gi.group_context.extensions)
        if t_info is None or pq_info is None:
            raise combiner_error("the GroupInfo of each session MUST contain APQInfo", "3.2.2")
        if t_info != pq_info:
            raise combiner_error("the two GroupInfos carry different APQInfos", "5.1.2")
        t_gc, pq_gc = t_gi.group_context, pq_gi.group_context
        if (t_info.t_session_group_id, t_info.pq_session_group_id) != (t_gc.group_id, pq_gc.group_id):
            raise combiner_error("APQInfo does not name the two GroupInfos' groups", "5.1")
        # the PQ session advances only with FULL commits; PARTIAL ones move the T epoch on
        if t_info.pq_epoch != pq_gc.epoch or t_info.t_epoch > t_gc.epoch:
            raise combiner_error("APQInfo epochs do not match the two GroupInfos' epochs", "5.1.2")
        check_suite_pair(t_info.t_cipher_suite, t_info.pq_cipher_suite, t_info.mode)
        if (client.t.suite.id, client.pq.suite.id) != (t_info.t_cipher_suite, t_info.pq_cipher_suite):
            raise combiner_error("the client's suites are not the combined group's", "7.1")
        reg = apq_registry(registry)
        cfg = session_config(config, reg)
        updates = [
            AppDataUpdate.make_update(APQ_COMPONENT_ID, u.to_bytes())
            for u in (
                APQInfoUpdate.t_epoch(t_gc.epoch + 1),
                APQInfoUpdate.pq_epoch(pq_gc.epoch + 1),
            )
        ]
        leaf_exts = session_leaf_extensions(reg)
        with storage.atomic() if storage is not None else nullcontext():
            pq, pq_commit = Group.join_external(
                pair.pq_message.to_bytes(),
                client.pq.credential,
                client.pq.signature_priv,
                capabilities=session_capabilities(client.pq),
                leaf_extensions=leaf_exts,
                authenticated_data=authenticated_data,
                config=cfg,
                storage=storage,
                app_data_updates=updates,
            )
            t_suite = client.t.suite
            psk_id, psk = apq_psk_from_exporter(t_suite, pq.safe_export_secret(APQ_COMPONENT_ID))
            t, t_commit = Group.join_external(
                pair.t_message.to_bytes(),
                client.t.credential,
                client.t.signature_priv,
                capabilities=session_capabilities(client.t),
                leaf_extensions=leaf_exts,
                authenticated_data=authenticated_data,
                psks=[apq_psk_id(psk_id, os.urandom(t_suite.n_h))],
                config=cfg,
                storage=storage,
                app_data_updates=updates,
                application_psks={(APQ_COMPONENT_ID, psk_id): psk},
            )
            g = cls(t, pq, registry=reg, identity_of=identity_of)
            g._check_joined()
        out = APQMessagePair.of(MLSMessage.from_bytes(t_commit), MLSMessage.from_bytes(pq_commit))
        return g, out.to_mls_message()

    # ---- persistence --------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        """Both sessions (:meth:`Group.to_bytes`, pending commits included) and the combined
        group's own bookkeeping (the joiner's duty to send a FULL commit first, §3.2; which
        cached proposals came in pairs) as versioned bytes ending with a SHA-256 digest.
        Contains secrets. For applications without a :class:`~mls_pq.storage.base.Storage`."""
        w = Writer().opaque(_APQ_MAGIC).opaque(self.t.to_bytes()).opaque(self.pq.to_bytes())
        w.boolean(self.must_send_full_commit).vector(sorted(self._full_refs), lambda ww, r: ww.opaque(r))
        return seal_digest(w.getvalue(), _APQ_MAGIC)

    @classmethod
    def from_bytes(
        cls,
        data: bytes,
        *,
        registry: ComponentRegistry | None = None,
        identity_of: IdentityOf = default_identity,
        config: GroupConfig | None = None,
    ) -> APQGroup:
        """Inverse of :meth:`to_bytes`, with the consistency checks of :meth:`load`
        (:class:`~mls_pq.errors.CorruptStateError` for damaged bytes)."""
        r = Reader(open_digest(data, _APQ_MAGIC, "serialised combined group"))
        try:
            if r.opaque() != _APQ_MAGIC:
                raise CorruptStateError("not a serialised mls-pq combined group")
            t_raw, pq_raw = r.opaque(), r.opaque()
            must_full = r.boolean()
            refs = r.vector(lambda rr: rr.opaque())
            r.done()
        except DecodeError as e:
            if isinstance(e, CorruptStateError):
                raise
            raise CorruptStateError(f"malformed combined group: {e}") from None
        cfg = session_config(config, apq_registry(registry))
        g = cls(Group.from_bytes(t_raw, config=cfg), Group.from_bytes(pq_raw, config=cfg), registry=registry,
                identity_of=identity_of)
        g._verify_sessions(exact_epochs=False, section="5.1.2")
        g.must_send_full_commit = must_full
        g._full_refs = set(refs)
        return g

    @classmethod
    def load(
        cls,
        storage: Storage,
        t_group_id: bytes,
        pq_group_id: bytes,
        *,
        registry: ComponentRegistry | None = None,
        identity_of: IdentityOf = default_identity,
        config: GroupConfig | None = None,
    ) -> APQGroup:
        """Both sessions as last stored, checked for consistency (§5.1.2, §3.2.1). The
        application's hooks (``config``) are not stored: pass them again."""
        cfg = session_config(config, apq_registry(registry))
        t = Group.load(storage, t_group_id, config=cfg)
        pq = Group.load(storage, pq_group_id, config=cfg)
        g = cls(t, pq, registry=registry, identity_of=identity_of)
        g._verify_sessions(exact_epochs=False, section="5.1.2")
        return g


__all__ = [
    "APQClient",
    "APQCommitOutput",
    "APQGroup",
    "APQKeyPackage",
    "APQKeyPackageBundle",
    "APQProcessed",
    "apq_info_of",
    "default_identity",
    "session_extensions",
]
