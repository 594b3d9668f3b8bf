"""External joins and external proposals (RFC 9420 §12.4.3.2, §12.1.8, §8.3).

* :func:`create_external_commit`: a non-member with a GroupInfo carrying ``external_pub``
  joins by an external Commit (ExternalInit + optional Remove of its old leaf + PSKs).
* :func:`external_proposal`: a pre-provisioned ``external_senders`` signer proposes
  (Add, Remove, PSK, ReInit, GroupContextExtensions) as a PublicMessage.
* :func:`new_member_add_proposal`: a would-be member proposes its own Add.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import mls_pq.group.validation as v

from ..components import ComponentRegistry
from ..credentials import CredentialValidator, check_credential_key
from ..errors import ValidationError
from ..extensions import EXTERNAL_PUB, EXTERNAL_SENDERS
from ..framing import public_message, sign_content
from ..group_context import GroupContext
from ..key_schedule import EpochSecrets, advance
from ..limits import DEFAULT_LIMITS, Limits
from ..messages.app_data import AppDataUpdate
from ..messages.commit import Commit
from ..messages.external_senders import parse_external_senders
from ..messages.framing_structs import (
    AuthenticatedContent,
    FramedContent,
    FramedContentAuthData,
    MLSMessage,
    Sender,
    WireFormat,
)
from ..messages.key_package import KeyPackage
from ..messages.leaf_node import LeafNode
from ..messages.proposals import Add, ExternalInit, PreSharedKey, Proposal, ProposalOrRef, Remove
from ..messages.welcome import GroupInfo
from ..psk import PreSharedKeyID
from ..suites import CipherSuite
from ..transcript import confirmation_tag, confirmed_transcript_hash, interim_transcript_hash
from ..tree.ratchet_tree import RatchetTree
from ..treekem import create_update_path
from .commit import (
    EXTERNAL_INIT_LABEL,
    Applied,
    CommitEffects,
    PskLookup,
    _effects,
    _next_state,
    apply_proposals,
    lookup_psks,
    provisional_context,
)
from .state import GroupOptions, GroupState, new_secret_tree
from .welcome import parse_external_pub, tree_for_group_info, verify_group_info

# ---- the external_senders extension (§12.1.8.1) --------------------------------------------


def external_sender_keys(context: GroupContext) -> list[bytes]:
    return [s.signature_key for s in parse_external_senders(context.extension(EXTERNAL_SENDERS))]


# ---- external proposals (§12.1.8) ----------------------------------------------------------


def external_proposal(
    suite: CipherSuite,
    group_id: bytes,
    epoch: int,
    proposal: Proposal,
    signature_priv: bytes,
    sender_index: int,
    authenticated_data: bytes = b"",
) -> bytes:
    """A proposal from the ``external_senders`` entry ``sender_index``, as MLSMessage bytes
    (always a PublicMessage, §12.1.8)."""
    from ..messages.proposals import proposal_type_info

    info = proposal_type_info(proposal.proposal_type)
    if info is None or not info.external:
        raise ValidationError(f"proposal type {proposal.proposal_type} cannot be sent by an external sender", "12.1.8")
    content = FramedContent(group_id, epoch, Sender.external(sender_index), authenticated_data, proposal)
    sig = sign_content(suite, WireFormat.PUBLIC_MESSAGE, content, signature_priv, None)
    ac = AuthenticatedContent(WireFormat.PUBLIC_MESSAGE, content, FramedContentAuthData(sig))
    return MLSMessage(public_message(suite, ac, _dummy_context(group_id, epoch, suite), None)).to_bytes()


def new_member_add_proposal(
    suite: CipherSuite,
    group_id: bytes,
    epoch: int,
    key_package: KeyPackage,
    signature_priv: bytes,
    authenticated_data: bytes = b"",
) -> bytes:
    """An Add of ourselves, sender ``new_member_proposal`` (§12.1.8), as MLSMessage bytes."""
    content = FramedContent(
        group_id, epoch, Sender.new_member_proposal(), authenticated_data, Proposal(Add(key_package))
    )
    sig = sign_content(suite, WireFormat.PUBLIC_MESSAGE, content, signature_priv, None)
    ac = AuthenticatedContent(WireFormat.PUBLIC_MESSAGE, content, FramedContentAuthData(sig))
    return MLSMessage(public_message(suite, ac, _dummy_context(group_id, epoch, suite), None)).to_bytes()


def _dummy_context(group_id: bytes, epoch: int, suite: CipherSuite) -> GroupContext:
    # public_message only reads the context for member senders (membership tag)
    return GroupContext(suite.id, group_id, epoch, b"", b"")


# ---- external commit (§12.4.3.2) ------------------------------------------------------------


@dataclass
class ExternalJoin:
    """Result of :func:`create_external_commit`."""

    state: GroupState
    message: MLSMessage
    effects: CommitEffects
    secrets: EpochSecrets = field(repr=False)
    applied: Applied | None = field(default=None, repr=False)


def create_external_commit(
    suite: CipherSuite,
    group_info: GroupInfo,
    leaf_template: LeafNode,
    signature_priv: bytes,
    *,
    ratchet_tree: bytes | RatchetTree | None = None,
    remove_leaf: int | None = None,
    psks: Sequence[PreSharedKeyID] = (),
    psk_lookup: PskLookup = lambda _pid: None,
    authenticated_data: bytes = b"",
    options: GroupOptions | None = None,
    now: int | None = None,
    validate_tree: bool = True,
    max_lifetime: int | None = None,
    validator: CredentialValidator | None = None,
    limits: Limits = DEFAULT_LIMITS,
    app_data_updates: Sequence[AppDataUpdate] = (),
    components: ComponentRegistry | None = None,
) -> ExternalJoin:
    """Join via an external Commit: verify the GroupInfo and tree, validate their credentials
    with the AS ``validator`` (§5.3.1), derive the init secret from ``external_pub`` (§8.3),
    and commit ExternalInit (+ Remove of ``remove_leaf`` for a resync, + PSKs) with a path
    from the leftmost free leaf. The tree is bounded by ``limits.max_group_size`` while it
    is decoded (before any hashing), and so is the tree after our join.
    ``app_data_updates``: AppDataUpdate proposals to include, applied with ``components``
    (draft-ietf-mls-extensions §4.7 allows them in external commits)."""
    gc = group_info.group_context
    check_credential_key(suite, leaf_template.credential, leaf_template.signature_key)
    tree = tree_for_group_info(suite, group_info, ratchet_tree, limits=limits)
    verify_group_info(suite, group_info, tree, now=now, validate_tree=validate_tree, max_lifetime=max_lifetime)
    v.authenticate_joined_tree(suite, validator, gc.group_id, tree, group_info.signer, gc.extensions, None)
    ext = group_info.extension(EXTERNAL_PUB)
    if ext is None:
        raise ValidationError("the GroupInfo has no external_pub extension", "12.4.3.2")
    external_pub = parse_external_pub(ext, suite)
    kem_output, init_secret = suite.hpke.send_export(external_pub, b"", EXTERNAL_INIT_LABEL, suite.n_h)

    sender = Sender.new_member_commit()
    proposals: list[Proposal] = [Proposal(ExternalInit(kem_output))]
    if remove_leaf is not None:
        proposals.append(Proposal(Remove(remove_leaf)))
    proposals.extend(Proposal(PreSharedKey(p)) for p in psks)
    proposals.extend(Proposal(u) for u in app_data_updates)
    items = [v.Committed(p, sender, None) for p in proposals]
    applied = apply_proposals(
        suite, gc, tree, v.CapSummary.of(tree), items, sender, now=now, creating=True, components=components
    )
    if remove_leaf is not None:
        old = applied.removed[0][1]
        if old.credential != leaf_template.credential:
            raise ValidationError("an external resync must present the removed member's credential", "12.2")
    psk = lookup_psks(suite, applied.psks, psk_lookup)
    t = applied.tree
    leaf_index = t.reserve_leaf()  # the leftmost free leaf, extending the tree if none (§12.4.3.2)
    limits.check_group_size(max(t.leaf_span(), leaf_index + 1), "the tree after our join")
    provisional = provisional_context(gc, applied.extensions)
    v.check_leaf_supports_group(leaf_template, applied.extensions, "our leaf", own=True)
    applied.summary.check(leaf_template)
    created = create_update_path(t, leaf_index, provisional, signature_priv, leaf_template=leaf_template)
    new_leaf = created.update_path.leaf_node
    applied.summary.add(new_leaf)
    commit = Commit(tuple(ProposalOrRef(proposal=p) for p in proposals), created.update_path)
    content = FramedContent(gc.group_id, gc.epoch, sender, authenticated_data, commit)
    wf = WireFormat.PUBLIC_MESSAGE
    signature = sign_content(suite, wf, content, signature_priv, gc)
    interim_before = interim_transcript_hash(suite, gc.confirmed_transcript_hash, group_info.confirmation_tag)
    confirmed = confirmed_transcript_hash(suite, interim_before, wf, content, signature)
    new_context = provisional.evolve(tree_hash=t.tree_hash(), confirmed_transcript_hash=confirmed)
    secrets = advance(suite, init_secret, created.commit_secret, psk, new_context.to_bytes())
    tag = confirmation_tag(suite, secrets.confirmation_key, confirmed)
    ac = AuthenticatedContent(wf, content, FramedContentAuthData(signature, tag))
    message = MLSMessage(public_message(suite, ac, gc, None))
    opts = options or GroupOptions()
    # a GroupState "before" the commit, only to carry suite/options/psk history into _next_state
    before = GroupState(
        suite=suite,
        context=gc,
        tree=tree,
        secrets=secrets,
        secret_tree=new_secret_tree(suite, secrets, 1, opts),
        interim_transcript_hash=interim_before,
        confirmation_tag=group_info.confirmation_tag,
        private=created.private,
        options=opts,
    )
    state = _next_state(before, applied, new_context, secrets, tag, created.private)
    effects = _effects(applied, new_context.epoch, sender, (leaf_index, new_leaf), False)
    return ExternalJoin(state, message, effects, secrets, applied)
