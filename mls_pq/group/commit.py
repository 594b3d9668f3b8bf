"""Creating and processing Commits (RFC 9420 §12.3, §12.4.1, §12.4.2): apply a validated
proposal list to a copy of the tree, run TreeKEM, the transcript hashes and the key
schedule, and return the next epoch's :class:`~mls_pq.group.state.GroupState`.

Nothing here mutates the input state; the caller swaps the result in.

Cost: the tree is copied (flat list copies) and only the changed paths are re-hashed; the
member-wide credential checks use the state's capability summary, so a commit is
O(log N) plus the resolution sizes, except with a GroupContextExtensions proposal, which
must be checked against every member (§12.1.7).
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

import mls_pq.group.validation as v

from ..components import (
    EMPTY_REGISTRY,
    ComponentRegistry,
    UpdateContext,
    apply_app_data_updates,
    check_gce_keeps_app_data,
    check_leaf_supports,
    required_components,
)
from ..credentials import CredentialEvent, CredentialEventType, CredentialValidator, authenticate, check_credential_key
from ..errors import MLSError, StateError, ValidationError
from ..ext_codepoints import REQUIRED_WIRE_FORMATS
from ..extensions import Extension
from ..framing import public_message, seal_private, sign_content
from ..group_context import GroupContext, next_epoch
from ..key_schedule import EpochSecrets, advance
from ..messages.app_data import AppDataUpdate, find_extension, wire_formats_of
from ..messages.commit import Commit
from ..messages.credential import Credential
from ..messages.framing_structs import (
    AuthenticatedContent,
    FramedContent,
    FramedContentAuthData,
    MLSMessage,
    PrivateMessageContent,
    Sender,
    SenderType,
    WireFormat,
)
from ..messages.key_package import KeyPackage
from ..messages.leaf_node import LeafNode
from ..messages.proposals import (
    Add,
    ExternalInit,
    GroupContextExtensions,
    PreSharedKey,
    Proposal,
    ProposalOrRef,
    ReInit,
    Remove,
    Update,
)
from ..psk import USAGE_APPLICATION, PreSharedKeyID, psk_secret
from ..suites import CipherSuite
from ..transcript import confirmation_tag, confirmed_transcript_hash, interim_transcript_hash
from ..tree import math as tm
from ..tree.leaf_validation import LeafContext, find_required_capabilities, validate_leaf_node
from ..tree.ratchet_tree import RatchetTree
from ..treekem import CreatedPath, PrivateTree, apply_update_path, create_update_path
from .past_epochs import PastEpoch, leaf_diff, push_past_epoch
from .state import (
    GroupState,
    OwnUpdate,
    attach_summary,
    forget_used_secrets,
    new_secret_tree,
    push_resumption_psk,
    summary_of,
)

#: PreSharedKeyID -> the PSK, or None if we do not have it
PskLookup = Callable[[PreSharedKeyID], "bytes | None"]

EXTERNAL_INIT_LABEL = b"MLS 1.0 external init secret"


# ---- results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberInfo:
    """A member as seen by the application: leaf index, credential and signature key."""

    leaf_index: int
    credential: Credential
    signature_key: bytes = field(repr=False)

    @classmethod
    def of(cls, index: int, leaf: LeafNode) -> MemberInfo:
        """The member at leaf ``index`` with ``leaf``'s credential and signature key."""
        return cls(index, leaf.credential, leaf.signature_key)


@dataclass(frozen=True)
class CommitEffects:
    """What a commit changed (RFC 9420 §12.3). ``epoch`` is the new epoch."""

    epoch: int
    committer: Sender
    added: tuple[MemberInfo, ...] = ()
    removed: tuple[MemberInfo, ...] = ()
    updated: tuple[MemberInfo, ...] = ()
    psks: tuple[PreSharedKeyID, ...] = ()
    group_context_extensions: tuple[Extension, ...] | None = None
    reinit: ReInit | None = None
    external_join: MemberInfo | None = None
    path: bool = False
    #: True if this commit removed us: the group is no longer usable (§12.4.2)
    removed_self: bool = False


# ---- applying a proposal list (§12.3) ----------------------------------------------------------


@dataclass
class Applied:
    tree: RatchetTree
    extensions: tuple[Extension, ...]
    summary: v.CapSummary
    added: list[tuple[int, KeyPackage]] = field(default_factory=list)
    removed: list[tuple[int, LeafNode]] = field(default_factory=list)
    updated: list[tuple[int, LeafNode]] = field(default_factory=list)
    psks: list[PreSharedKeyID] = field(default_factory=list)
    external_init: ExternalInit | None = None
    reinit: ReInit | None = None
    gce: bool = False
    own_update: OwnUpdate | None = None
    #: AppDataUpdate proposals changed ``extensions`` (draft-ietf-mls-extensions §4.7)
    app_data: bool = False


def provisional_context(context: GroupContext, extensions: tuple[Extension, ...]) -> GroupContext:
    """The GroupContext of the epoch after ``context``'s, with the commit's ``extensions``,
    before its tree hash and confirmed transcript hash are known (§12.4.1 step "construct
    a provisional GroupContext", §12.4.2; the same for an external commit, §12.4.3.2): what
    an UpdatePath's leaf signs and its path secrets are encrypted to."""
    return replace(context, epoch=next_epoch(context.epoch), tree_hash=b"", extensions=extensions)


def apply_proposals(
    suite: CipherSuite,
    context: GroupContext,
    tree: RatchetTree,
    summary: v.CapSummary,
    items: Sequence[v.Committed],
    committer: Sender,
    *,
    own_leaf: int | None = None,
    own_updates: dict[bytes, OwnUpdate] | None = None,
    now: int | None = None,
    identity_of: v.IdentityOf = v.default_identity,
    psk_usage: int = USAGE_APPLICATION,
    max_lifetime: int | None = None,
    validator: CredentialValidator | None = None,
    creating: bool = False,
    me: int | None = None,
    components: ComponentRegistry | None = None,
) -> Applied:
    """Validate the list (§12.2) and apply it to a copy of ``tree`` in the order of §12.3.
    Proposals included by value are fully checked here, and their credentials validated
    with the AS ``validator`` (§5.3.1: ``key_package`` events if we are ``creating`` the
    commit, ``add`` events if we received it); proposals by reference were checked when
    received and are re-checked against any new extensions. ``me``: our leaf, checked with
    its real (GREASE-free, §13.5) capabilities against new GroupContext extensions."""
    v.check_list(items, committer, tree, identity_of=identity_of)
    extensions = context.extensions
    gce = False
    for c in items:
        if isinstance(c.proposal.body, GroupContextExtensions):
            extensions = c.proposal.body.extensions
            gce = True
    new_context = context.evolve(extensions=extensions) if gce else context
    for c in items:
        if c.ref is None:
            v.check_individual(
                suite, new_context, tree, c.proposal, c.sender, now=now, psk_usage=psk_usage, max_lifetime=max_lifetime
            )
            v.authenticate_proposal(suite, validator, context, tree, c.proposal, c.sender, ours=creating)
        if isinstance(c.proposal.body, PreSharedKey):
            v.check_psk(suite, c.proposal.body.psk, allow_usage=psk_usage)

    out = Applied(tree.copy(), tuple(extensions), summary.copy(), gce=gce)
    t, s = out.tree, out.summary
    # Updates (§12.1.2)
    for c in items:
        body = c.proposal.body
        if isinstance(body, Update):
            i = c.sender.index
            old = t.leaf(i)
            if old is None:
                raise ValidationError(f"Update for blank leaf {i}", "12.1.2")
            if gce and c.ref is not None:
                v.check_leaf_supports_group(body.leaf_node, extensions, f"updated leaf {i}")
            v.check_new_leaf_in_tree(t, s, body.leaf_node, i)
            s.remove(old)
            s.add(body.leaf_node)
            t.update_leaf(i, body.leaf_node)
            out.updated.append((i, body.leaf_node))
            if own_leaf is not None and i == own_leaf:
                own = (own_updates or {}).get(c.ref or b"")
                if own is None:
                    raise StateError("a committed Update for our leaf has no private key here")
                out.own_update = own
    # Removes (§12.1.3)
    for c in items:
        body = c.proposal.body
        if isinstance(body, Remove):
            v.check_remove(t, body.removed)
            old = t.leaf(body.removed)
            assert old is not None
            s.remove(old)
            t.remove_leaf(body.removed)
            out.removed.append((body.removed, old))
    # Adds (§12.1.1), in list order
    for c in items:
        body = c.proposal.body
        if isinstance(body, Add):
            leaf = body.key_package.leaf_node
            if gce and c.ref is not None:
                v.check_leaf_supports_group(leaf, extensions, "added leaf")
            v.check_new_leaf_in_tree(t, s, leaf, None, "12.2")
            i = t.add_leaf(leaf)
            s.add(leaf)
            out.added.append((i, body.key_package))
        elif isinstance(body, PreSharedKey):
            out.psks.append(body.psk)
        elif isinstance(body, ExternalInit):
            out.external_init = body
        elif isinstance(body, ReInit):
            out.reinit = body
    if gce:
        v.check_gce_members(t, extensions, me=me)
    _apply_app_data_updates(out, context, items, committer, components, me)
    _check_component_support(out, context.extensions)
    return out


def _component_requirements(extensions: Sequence[Extension]) -> tuple[frozenset[int], frozenset[int]]:
    """(required wire formats, required components) of a GroupContext (draft-ietf-mls-extensions §5)."""
    wf = wire_formats_of(extensions, REQUIRED_WIRE_FORMATS)
    return frozenset(wf.wire_formats if wf is not None else ()), frozenset(required_components(extensions))


def _check_component_support(out: Applied, before: Sequence[Extension]) -> None:
    """draft-ietf-mls-extensions §5: the leaves a Commit adds or updates (and, when the
    GroupContext's requirements grow, every leaf) support the group's ``required_wire_formats``
    and the components of its ``app_components`` list. Free when the group requires neither.

    Every member was checked against the requirements in force when its leaf entered or last
    changed, so a commit that keeps them (e.g. an AppDataUpdate changing only a component's
    data, as every FULL commit of the combiner does) checks only the leaves it adds or updates:
    O(changed leaves), not O(N). A GroupContextExtensions proposal re-checks every leaf."""
    if find_extension(out.extensions, REQUIRED_WIRE_FORMATS) is None and not required_components(out.extensions):
        return
    new_wf, new_components = _component_requirements(out.extensions)
    old_wf, old_components = _component_requirements(before)
    if out.gce or not (new_wf <= old_wf and new_components <= old_components):
        leaves = [leaf for _, leaf in out.tree.leaves()]
    else:
        leaves = [kp.leaf_node for _, kp in out.added] + [leaf for _, leaf in out.updated]
    for leaf in leaves:
        check_leaf_supports(out.extensions, leaf.extensions)


def _apply_app_data_updates(
    out: Applied,
    context: GroupContext,
    items: Sequence[v.Committed],
    committer: Sender,
    components: ComponentRegistry | None,
    me: int | None,
) -> None:
    """AppDataUpdate proposals (draft-ietf-mls-extensions §4.7), after the default proposals:
    the ``app_data_dictionary`` is updated through the application's component registry
    (``components``; none: every AppDataUpdate is invalid). A GroupContextExtensions
    proposal must leave the dictionary alone when AppDataUpdate is a required proposal type."""
    if out.gce:
        rc = find_required_capabilities(context.extensions)
        required = rc.proposal_types if rc is not None else frozenset()
        check_gce_keeps_app_data(context.extensions, out.extensions, required)
    updates = [c.proposal.body for c in items if isinstance(c.proposal.body, AppDataUpdate)]
    if not updates:
        return
    external = committer.sender_type == SenderType.NEW_MEMBER_COMMIT or any(
        c.sender.sender_type == SenderType.EXTERNAL for c in items if isinstance(c.proposal.body, AppDataUpdate)
    )
    ctx = UpdateContext(context.group_id, context.epoch, context.cipher_suite, external=external, psks=tuple(out.psks))
    extensions = apply_app_data_updates(out.extensions, updates, components or EMPTY_REGISTRY, ctx)
    if {e.extension_type for e in extensions} - {e.extension_type for e in out.extensions}:
        # a new extension type (app_data_dictionary added): every member must support it
        # (§12.1.7); a change of its content only (every FULL commit of the combiner) keeps the
        # types every member was already checked against: no O(N) walk
        v.check_gce_members(out.tree, extensions, me=me)
    out.extensions = extensions
    out.app_data = True


def resolve(state: GroupState, commit: Commit, committer: Sender) -> list[v.Committed]:
    """ProposalOrRef -> proposal and proposer; an unknown reference is an error (§12.4)."""
    out: list[v.Committed] = []
    for por in commit.proposals:
        if por.proposal is not None:
            out.append(v.Committed(por.proposal, committer, None))
        else:
            assert por.reference is not None
            cached = state.proposal(por.reference)
            if cached is None:
                raise ValidationError("the commit references a proposal we did not receive", "12.4")
            out.append(v.Committed(cached.proposal, cached.sender, por.reference))
    return out


def lookup_psks(suite: CipherSuite, psks: Sequence[PreSharedKeyID], lookup: PskLookup) -> bytes | None:
    """psk_secret (§8.4) for the committed PSKs; every one must be available (§12.4.2)."""
    if not psks:
        return None
    pairs = []
    for pid in psks:
        psk = lookup(pid)
        if psk is None:
            raise ValidationError("a PreSharedKey of the commit is not available", "12.4.2")
        pairs.append((pid, psk))
    return psk_secret(suite, pairs)


def _effects(
    applied: Applied, new_epoch: int, committer: Sender, path_leaf: tuple[int, LeafNode] | None, removed_self: bool
) -> CommitEffects:
    updated = [MemberInfo.of(i, leaf) for i, leaf in applied.updated]
    ext_join: MemberInfo | None = None
    if path_leaf is not None:
        info = MemberInfo.of(*path_leaf)
        if committer.sender_type == SenderType.NEW_MEMBER_COMMIT:
            ext_join = info
        else:
            updated.append(info)
    return CommitEffects(
        epoch=new_epoch,
        committer=committer,
        added=tuple(MemberInfo.of(i, kp.leaf_node) for i, kp in applied.added),
        removed=tuple(MemberInfo.of(i, leaf) for i, leaf in applied.removed),
        updated=tuple(updated),
        psks=tuple(applied.psks),
        group_context_extensions=applied.extensions if applied.gce or applied.app_data else None,
        reinit=applied.reinit,
        external_join=ext_join,
        path=path_leaf is not None,
        removed_self=removed_self,
    )


def _next_state(
    state: GroupState,
    applied: Applied,
    context: GroupContext,
    secrets: EpochSecrets,
    tag: bytes,
    private: PrivateTree,
    *,
    left: GroupState | None = None,
    changed: Iterable[int] = (),
) -> GroupState:
    """The next epoch's state. ``left``: the state of the epoch being left (with its
    ratchets as they are now), kept as a past epoch together with the older ones, the
    leaves ``changed`` by the commit recorded (§9.2, :mod:`.past_epochs`); None keeps none
    (a join)."""
    suite = state.suite
    keep = state.options.max_past_epochs
    past: tuple[PastEpoch, ...] = ()
    if left is not None and keep > 0:
        diff = leaf_diff(left.tree, applied.tree, changed)
        past = push_past_epoch(
            left.past_epochs, left.context, left.secrets.sender_data_secret, left.secret_tree, diff, keep
        )
    nxt = GroupState(
        suite=suite,
        context=context,
        tree=applied.tree,
        secrets=forget_used_secrets(secrets),
        secret_tree=new_secret_tree(suite, secrets, applied.tree.n_leaves, state.options),
        interim_transcript_hash=interim_transcript_hash(suite, context.confirmed_transcript_hash, tag),
        confirmation_tag=tag,
        private=private,
        proposals=(),
        resumption_psks=push_resumption_psk(
            state.resumption_psks, context.epoch, secrets.resumption_psk, state.options.resumption_epochs
        ),
        options=state.options,
        active=applied.reinit is None,
        reinit=applied.reinit,
        past_epochs=past,
    )
    return attach_summary(nxt, applied.summary)


def _changed_leaves(applied: Applied, path_leaf: tuple[int, LeafNode] | None) -> set[int]:
    """Leaf indices a commit may change: added, removed, updated, and the committer's."""
    out = {i for i, _ in applied.added} | {i for i, _ in applied.removed} | {i for i, _ in applied.updated}
    if path_leaf is not None:
        out.add(path_leaf[0])
    return out


# ---- receiving (§12.4.2) -----------------------------------------------------------------------


def process_commit(
    state: GroupState,
    ac: AuthenticatedContent,
    *,
    psk_lookup: PskLookup,
    now: int | None = None,
    identity_of: v.IdentityOf = v.default_identity,
    same_client: Callable[[LeafNode, LeafNode], bool] | None = None,
    max_lifetime: int | None = None,
    validator: CredentialValidator | None = None,
    components: ComponentRegistry | None = None,
) -> tuple[GroupState, CommitEffects]:
    """Validate and apply a Commit whose framing and signature were already checked.
    ``validator``: the AS hook, asked about by-value Adds/GroupContextExtensions and a path
    leaf with a new credential (§5.3.1)."""
    suite = state.suite
    content = ac.content
    commit = content.body
    if not isinstance(commit, Commit):
        raise ValidationError("not a commit", "6")
    sender = content.sender
    me = state.leaf_index
    external = sender.sender_type == SenderType.NEW_MEMBER_COMMIT
    if not external and sender.sender_type != SenderType.MEMBER:
        raise ValidationError("a commit comes from a member or a new member", "6.1")
    if not external and sender.index == me:
        raise StateError("this is our own commit: use merge_pending_commit()")
    if ac.auth.confirmation_tag is None:
        raise ValidationError("a commit carries a confirmation_tag", "6.1")
    items = resolve(state, commit, sender)
    own_updates = {c.ref: c.own for c in state.proposals if c.own is not None}
    applied = apply_proposals(
        suite,
        state.context,
        state.tree,
        summary_of(state),
        items,
        sender,
        own_leaf=me,
        own_updates=own_updates,
        now=now,
        identity_of=identity_of,
        max_lifetime=max_lifetime,
        validator=validator,
        me=me,
        components=components,
    )
    if commit.path is None and (external or v.path_required(c.proposal for c in items)):
        raise ValidationError("this commit requires a path", "12.4")
    tree = applied.tree
    removed_self = any(i == me for i, _ in applied.removed)
    if external and applied.external_init is None:  # pragma: no cover - check_list guarantees it
        raise ValidationError("external commit without ExternalInit", "12.2")

    private = state.private.copy()
    if applied.own_update is not None:
        private.encryption_priv = applied.own_update.encryption_priv
        private.signature_priv = applied.own_update.signature_priv
    epoch = next_epoch(state.epoch)
    provisional = provisional_context(state.context, applied.extensions)
    commit_secret: bytes | None = None
    path_leaf: tuple[int, LeafNode] | None = None
    if commit.path is not None:
        leaf = commit.path.leaf_node
        committer = tree.reserve_leaf() if external else sender.index  # §12.4.3.2: leftmost free leaf
        # §7.3 checks of the new leaf (source commit, signature, capabilities, §5.3 key binding)
        validate_leaf_node(suite, leaf, LeafContext.commit(state.group_id, committer, applied.extensions))
        old = tree.leaf(committer)
        v.check_new_leaf_in_tree(tree, applied.summary, leaf, committer if old is not None else None, "12.4.2")
        if external and applied.removed:
            # §12.2: the joiner's leaf must meet the criteria of an Update for the removed
            # leaf (§12.1.2): the same client, and a different encryption_key
            old_leaf = applied.removed[0][1]
            ok = same_client(old_leaf, leaf) if same_client else old_leaf.credential == leaf.credential
            if not ok:
                raise ValidationError("an external resync must come from the client it removes", "12.2")
            if hmac.compare_digest(old_leaf.encryption_key, leaf.encryption_key):
                raise ValidationError("an external resync must replace the removed leaf's encryption_key", "12.2")
        # §5.3.1: the committer's new credential (an external joiner's is always new); the
        # replaced one (or the one an external resync removes) is passed as its predecessor
        previous = applied.removed[0][1] if external and applied.removed else old
        if validator is not None and (external or v.new_binding(old, leaf)):
            authenticate(
                validator,
                CredentialEvent(
                    CredentialEventType.COMMIT,
                    leaf.credential,
                    leaf.signature_key,
                    state.group_id,
                    leaf_index=committer,
                    previous=previous.credential if previous is not None else None,
                    previous_signature_key=previous.signature_key if previous is not None else None,
                ),
            )
        ap = apply_update_path(
            tree,
            committer,
            commit.path,
            provisional,
            private=None if removed_self else private,
            excluded_leaves=[i for i, _ in applied.added],
            validate_leaf=False,
        )
        if old is not None:
            applied.summary.remove(old)
        applied.summary.add(leaf)
        path_leaf = (committer, leaf)
        commit_secret = ap.commit_secret
        if ap.private is not None:
            private = ap.private
    elif not removed_self:
        private.prune(tree)

    effects = _effects(applied, epoch, sender, path_leaf, removed_self)
    confirmed = confirmed_transcript_hash(
        suite, state.interim_transcript_hash, ac.wire_format, content, ac.auth.signature
    )
    new_context = provisional.evolve(tree_hash=tree.tree_hash(), confirmed_transcript_hash=confirmed)
    if removed_self:
        # we cannot derive the new epoch (the path excludes us): the group is over for us
        return state.evolve(active=False, proposals=()), effects

    if external:
        assert applied.external_init is not None
        ext_priv, _ = state.secrets.external_key_pair()
        try:
            init_secret = suite.hpke.receive_export(
                applied.external_init.kem_output, ext_priv, b"", EXTERNAL_INIT_LABEL, suite.n_h
            )
        except MLSError as e:
            raise ValidationError(f"ExternalInit kem_output is invalid: {e}", "8.3") from None
    else:
        init_secret = state.secrets.init_secret
    psk = lookup_psks(suite, applied.psks, psk_lookup)
    secrets = advance(suite, init_secret, commit_secret, psk, new_context.to_bytes())
    tag = confirmation_tag(suite, secrets.confirmation_key, confirmed)
    if not hmac.compare_digest(tag, ac.auth.confirmation_tag):
        raise ValidationError("confirmation_tag does not match", "12.4.2")
    nxt = _next_state(
        state, applied, new_context, secrets, tag, private, left=state, changed=_changed_leaves(applied, path_leaf)
    )
    return nxt, effects


# ---- creating (§12.4.1) ------------------------------------------------------------------------


@dataclass
class CommitBuild:
    """Everything :func:`create_commit` produces."""

    #: the current state to keep (its handshake ratchet advanced if the commit is a PrivateMessage)
    current: GroupState
    #: the next epoch's state, installed by merge_pending_commit()
    next: GroupState
    message: MLSMessage
    effects: CommitEffects
    secrets: EpochSecrets = field(repr=False)
    created_path: CreatedPath | None = field(default=None, repr=False)
    applied: Applied | None = field(default=None, repr=False)


def create_commit(
    state: GroupState,
    by_value: Sequence[Proposal],
    refs: Sequence[bytes],
    *,
    psk_lookup: PskLookup,
    force_path: bool = False,
    now: int | None = None,
    authenticated_data: bytes = b"",
    wire_format: int | None = None,
    leaf_template: LeafNode | None = None,
    signature_priv: bytes | None = None,
    identity_of: v.IdentityOf = v.default_identity,
    psk_usage: int = USAGE_APPLICATION,
    path_secret: bytes | None = None,
    max_lifetime: int | None = None,
    validator: CredentialValidator | None = None,
    components: ComponentRegistry | None = None,
) -> CommitBuild:
    """Build a Commit over ``refs`` (cached proposals) and ``by_value`` proposals.
    ``leaf_template``/``signature_priv``: our new leaf's credential etc. and signature key
    (the commit itself is signed with the current one, §6.1).
    ``validator``: the AS hook, asked about the KeyPackages we add by value (§5.3.1)."""
    if not state.active:
        raise StateError("the group is inactive (we were removed or it was reinitialised)")
    suite = state.suite
    me = state.leaf_index
    sender = Sender.member(me)
    items: list[v.Committed] = []
    ors: list[ProposalOrRef] = []
    for ref in refs:
        cached = state.proposal(ref)
        if cached is None:
            raise ValidationError("unknown proposal reference", "12.4")
        body = cached.proposal.body
        if now is not None and isinstance(body, Add):
            # §7.3: a LeafNode in a message we send (the commit adds it; the Welcome and the
            # tree carry it) MUST be within its lifetime now, not only when it was proposed
            lt = body.key_package.leaf_node.lifetime
            if lt is not None and not lt.contains(now):
                raise ValidationError("a referenced Add's KeyPackage is outside its lifetime now", "7.3")
        items.append(v.Committed(cached.proposal, cached.sender, ref))
        ors.append(ProposalOrRef(reference=ref))
    for p in by_value:
        items.append(v.Committed(p, sender, None))
        ors.append(ProposalOrRef(proposal=p))
    applied = apply_proposals(
        suite,
        state.context,
        state.tree,
        summary_of(state),
        items,
        sender,
        own_leaf=None,
        now=now,
        identity_of=identity_of,
        psk_usage=psk_usage,
        max_lifetime=max_lifetime,
        validator=validator,
        creating=True,
        me=me,
        components=components,
    )
    # the PSKs must be available before anything is signed
    psk = lookup_psks(suite, applied.psks, psk_lookup)
    tree = applied.tree
    epoch = next_epoch(state.epoch)
    provisional = provisional_context(state.context, applied.extensions)
    use_path = force_path or v.path_required(c.proposal for c in items)
    sig_priv = signature_priv or state.private.signature_priv
    created: CreatedPath | None = None
    commit_secret: bytes | None = None
    path_leaf: tuple[int, LeafNode] | None = None
    if use_path:
        old = tree.leaf(me)
        if old is None and leaf_template is None:
            raise StateError("our leaf is blank after the proposals: cannot build a path")
        if leaf_template is not None:  # before anything is signed
            check_credential_key(suite, leaf_template.credential, leaf_template.signature_key)
        created = create_update_path(
            tree,
            me,
            provisional,
            sig_priv,
            leaf_template=leaf_template,
            excluded_leaves=[i for i, _ in applied.added],
            path_secret=path_secret,
        )
        new_leaf = created.update_path.leaf_node
        if leaf_template is not None:
            v.check_leaf_supports_group(new_leaf, applied.extensions, "our new leaf", own=True)
            validate_leaf_node(suite, new_leaf, LeafContext.commit(state.group_id, me, applied.extensions))
        if old is not None:
            applied.summary.remove(old)
        applied.summary.check(new_leaf)
        applied.summary.add(new_leaf)
        commit_secret = created.commit_secret
        private = created.private
        path_leaf = (me, new_leaf)
    else:
        private = state.private.copy()
        private.prune(tree)
    commit = Commit(tuple(ors), created.update_path if created else None)
    wf = WireFormat(wire_format if wire_format is not None else state.options.handshake_wire_format)
    content = FramedContent(state.group_id, state.epoch, sender, authenticated_data, commit)
    # §6.1: a member signs with the key of its LeafNode in the current tree; a new
    # ``signature_priv`` only signs the new leaf (its key takes over in the next epoch)
    signature = sign_content(suite, wf, content, state.private.signature_priv, state.context)
    confirmed = confirmed_transcript_hash(suite, state.interim_transcript_hash, wf, content, signature)
    new_context = provisional.evolve(tree_hash=tree.tree_hash(), confirmed_transcript_hash=confirmed)
    secrets = advance(suite, state.secrets.init_secret, commit_secret, psk, new_context.to_bytes())
    tag = confirmation_tag(suite, secrets.confirmation_key, confirmed)
    ac = AuthenticatedContent(wf, content, FramedContentAuthData(signature, tag))
    current = state
    if wf == WireFormat.PUBLIC_MESSAGE:
        message = MLSMessage(public_message(suite, ac, state.context, state.secrets.membership_key))
    else:
        sealed, use = seal_private(suite, ac, state.secret_tree, state.secrets.sender_data_secret, padding(state, ac))
        message = MLSMessage(sealed)
        current = state.with_secret_tree(state.secret_tree.applied(use))  # O(log N), no copy
    nxt = _next_state(
        state, applied, new_context, secrets, tag, private, left=current, changed=_changed_leaves(applied, path_leaf)
    )
    effects = _effects(applied, epoch, sender, path_leaf, False)
    return CommitBuild(current, nxt, message, effects, secrets, created, applied)


def padding(state: GroupState, ac: AuthenticatedContent) -> int:
    """Zero octets to append so the PrivateMessageContent is a multiple of the block (§6.3.1)."""
    block = state.options.padding_block
    if block <= 1:
        return 0
    size = len(PrivateMessageContent(ac.content.body, ac.auth, 0).to_bytes())
    return (-size) % block


def random_psk_nonce(suite: CipherSuite) -> bytes:
    """A fresh ``psk_nonce`` of length KDF.Nh (§8.4, §12.1.4)."""
    return os.urandom(suite.n_h)


def common_ancestor_leaf(a: int, b: int) -> int:
    return tm.common_ancestor(2 * a, 2 * b)
