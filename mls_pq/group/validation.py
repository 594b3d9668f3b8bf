"""Proposal and proposal-list validation (RFC 9420 §12.1, §12.2, §12.4) and the
authentication events of §5.3.1. The leaf-node rules of §7.3 (one validator with a
context, the member-wide checks done in O(changes) with a capability summary) live in
:mod:`mls_pq.tree.leaf_validation`; this module applies them to proposals.

Every failed MUST raises :class:`~mls_pq.errors.ValidationError` naming the section.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from ..credentials import (
    CredentialEvent,
    CredentialEventType,
    CredentialValidator,
    authenticate,
    check_credential_key,
)
from ..errors import MLSError, ValidationError
from ..ext_codepoints import APP_DATA_UPDATE
from ..extensions import (
    EXTERNAL_SENDERS,
    REQUIRED_CAPABILITIES,
    Extension,
    check_unique_types,
    is_grease,
)
from ..group_context import GroupContext
from ..messages.external_senders import parse_external_senders
from ..messages.framing_structs import Sender, SenderType
from ..messages.key_package import KeyPackage
from ..messages.leaf_node import Capabilities, LeafNode, LeafNodeSource
from ..messages.proposals import (
    DEFAULT_PROPOSAL_TYPES,
    Add,
    ExternalInit,
    GroupContextExtensions,
    PreSharedKey,
    Proposal,
    ProposalType,
    ReInit,
    Remove,
    Update,
    proposal_type_info,
)
from ..messages.version import PROTOCOL_VERSION_MLS10
from ..psk import PSK_APPLICATION, PSK_EXTERNAL, PSK_RESUMPTION, USAGE_APPLICATION, PreSharedKeyID
from ..suites import CipherSuite, get_suite
from ..tree.leaf_validation import (
    CapSummary,
    LeafContext,
    check_capabilities_support,
    check_new_leaf_in_tree,
    required_capabilities,
    validate_leaf_node,
)
from ..tree.ratchet_tree import RatchetTree

__all__ = [
    "CapSummary",  # re-exported from tree.leaf_validation
    "Committed",
    "IdentityOf",
    "authenticate_joined_tree",
    "authenticate_proposal",
    "check_external_senders",
    "check_gce_members",
    "check_individual",
    "check_key_package",
    "check_leaf_supports_group",
    "check_list",
    "check_new_leaf_in_tree",  # re-exported; called as v.check_new_leaf_in_tree (tests patch it here)
    "check_psk",
    "check_received_leaf",
    "check_reinit",
    "check_remove",
    "check_update",
    "default_identity",
    "new_binding",
    "path_required",
    "real_capabilities",
    "wrap",
]

#: an application hook: the identity a credential presents (§5.3.1); default: its encoding
IdentityOf = Callable[[LeafNode], bytes]


def default_identity(leaf: LeafNode) -> bytes:
    """Two leaves "represent the same client" here iff they have the same signature key
    (RFC 9420 §12.2 gives "identical signature keys" as the example)."""
    return leaf.signature_key


# ---- capabilities (§7.2, §11.1, §13.5) ---------------------------------------------------


def real_capabilities(caps: Capabilities) -> Capabilities:
    """Our own capabilities as we actually support them: without GREASE values (RFC 9420
    §13.5: "representations of a client's own capabilities MUST NOT contain GREASE values").
    Only ever applied to our own leaf; other members' lists are taken as sent."""
    return Capabilities(
        caps.versions,
        tuple(x for x in caps.cipher_suites if not is_grease(x)),
        tuple(x for x in caps.extensions if not is_grease(x)),
        tuple(x for x in caps.proposals if not is_grease(x)),
        tuple(x for x in caps.credentials if not is_grease(x)),
    )


def check_leaf_supports_group(
    leaf: LeafNode, extensions: Sequence[Extension], who: str, *, own: bool = False
) -> None:
    """Capability part of §7.3/§11.1/§12.1.7 without the signature: ``leaf`` supports every
    non-default GroupContext extension and every required capability. ``own``: the leaf is
    ours, so GREASE values in its capabilities do not count as support (§13.5)."""
    caps = real_capabilities(leaf.capabilities) if own else leaf.capabilities
    check_capabilities_support(caps, extensions, who)


# ---- individual proposals (§12.1) ----------------------------------------------------------


def check_key_package(
    suite: CipherSuite,
    kp: KeyPackage,
    extensions: Sequence[Extension],
    now: int | None,
    max_lifetime: int | None = None,
) -> None:
    """KeyPackage validation (§10.1) and its leaf node's own checks (§7.3) against the
    group's parameters; one signature check each. ``max_lifetime``: the application's
    maximum total lifetime of a LeafNode (§7.2: "Applications MUST define a maximum total
    lifetime ... and reject any LeafNode where the total lifetime is longer")."""
    if kp.version != PROTOCOL_VERSION_MLS10:
        raise ValidationError(f"key package version {kp.version} is not mls10", "10.1")
    if kp.cipher_suite != suite.id:
        raise ValidationError(
            f"key package cipher suite 0x{kp.cipher_suite:04x} is not the group's 0x{suite.id:04x}", "10.1"
        )
    if kp.leaf_node.leaf_node_source != LeafNodeSource.KEY_PACKAGE:
        raise ValidationError("key package leaf node source is not key_package", "10.1")
    check_unique_types(kp.extensions, "the KeyPackage extensions")  # §13.5 (the leaf's: validate_leaf_node)
    if kp.init_key == kp.leaf_node.encryption_key:
        raise ValidationError("init_key equals the leaf node's encryption_key", "10.1")
    if not kp.verify(suite):
        raise ValidationError("key package signature does not verify", "10.1")
    validate_leaf_node(suite, kp.leaf_node, LeafContext.key_package(extensions, now=now, max_lifetime=max_lifetime))


def check_received_leaf(tree: RatchetTree, summary: CapSummary, proposal: Proposal, sender: Sender) -> None:
    """§7.3 for a LeafNode received in an Update or Add proposal, against the current tree
    ("the validity of a LeafNode needs to be verified ... when a LeafNode is received by a
    group member in an Add, Update, or Commit message"): an Update's leaf must keep the
    credential rules and use an encryption key found nowhere in the tree — in particular
    not the replaced leaf's (§12.1.2) — and a signature key no other member holds; an Add's
    KeyPackage leaf must use an encryption key found nowhere in the tree. (Whether an Add's
    client is already a member depends on the Removes committed with it: §12.2, checked
    when the list is applied.) Checked on receipt, so an invalid proposal is never cached
    and cannot make our own next commit invalid."""
    body = proposal.body
    if isinstance(body, Update) and sender.sender_type == SenderType.MEMBER:
        check_new_leaf_in_tree(tree, summary, body.leaf_node, sender.index)
    elif isinstance(body, Add) and tree.node_with_encryption_key(body.key_package.leaf_node.encryption_key) is not None:
        raise ValidationError("the added leaf's encryption key is already used in the tree", "7.3")


def check_update(
    suite: CipherSuite, context: GroupContext, tree: RatchetTree, sender: int, leaf: LeafNode
) -> None:
    """Update proposal (§12.1.2, §7.3): source ``update``, signed for (group_id, sender),
    encryption key different from the replaced leaf's."""
    if tree.leaf(sender) is None:
        raise ValidationError(f"update from blank leaf {sender}", "12.1.2")
    validate_leaf_node(suite, leaf, LeafContext.update(context.group_id, sender, context.extensions))


def check_remove(tree: RatchetTree, removed: int) -> None:
    """Remove (§12.1.3): ``removed`` identifies a non-blank leaf."""
    if not 0 <= removed < tree.n_leaves or tree.leaf(removed) is None:
        raise ValidationError(f"remove of leaf {removed}, which is not a member", "12.1.3")


def check_psk(suite: CipherSuite, psk: PreSharedKeyID, *, allow_usage: int = USAGE_APPLICATION) -> None:
    """PreSharedKey (§12.1.4): nonce of length Nh; resumption usage ``reinit``/``branch``
    only inside a reinitialisation/branch (§11.2, §11.3)."""
    if len(psk.psk_nonce) != suite.n_h:
        raise ValidationError(f"psk_nonce must be {suite.n_h} octets, got {len(psk.psk_nonce)}", "12.1.4")
    if psk.psktype == PSK_RESUMPTION and psk.usage != USAGE_APPLICATION and psk.usage != allow_usage:
        raise ValidationError("a resumption PSK with usage reinit/branch is only valid in that protocol", "12.1.4")
    if psk.psktype not in (PSK_EXTERNAL, PSK_RESUMPTION, PSK_APPLICATION):  # application: draft-ietf-mls-extensions §4.5
        raise ValidationError(f"unknown PSK type {psk.psktype}", "8.4")


def check_reinit(context: GroupContext, reinit: ReInit, profile: str | None = None) -> None:
    """ReInit (§12.1.5): the version is not lower than the group's, and the cipher suite is
    one we implement under the group's code-point ``profile``: §11.2 step 3 must create a
    group with exactly this ``cipher_suite``, so a ReInit to an unknown suite can never be
    completed and would leave the group dead (an application rule §12.2 allows: "an
    application may extend the above procedure by additional rules"). Raises
    :class:`~mls_pq.errors.UnsupportedCipherSuite` when the proposal is created, received
    or committed."""
    if reinit.version < context.version:
        raise ValidationError("ReInit to a lower protocol version", "12.1.5")
    check_unique_types(reinit.extensions, "the ReInit proposal's extensions")  # §13.5
    get_suite(reinit.cipher_suite, profile)  # UnsupportedCipherSuite if unknown or unbuildable


def check_gce_members(
    tree: RatchetTree, extensions: Sequence[Extension], skip: Iterable[int] = (), *, me: int | None = None
) -> None:
    """GroupContextExtensions (§12.1.7, §11.1): every member (but those in ``skip``, the
    leaves removed by the same commit) supports the new extensions; our own leaf ``me``
    with its real capabilities, GREASE values left out (§13.5)."""
    skipped = set(skip)
    for i, leaf in tree.leaves():
        if i not in skipped:
            check_leaf_supports_group(leaf, extensions, f"member {i}", own=i == me)


def check_individual(
    suite: CipherSuite,
    context: GroupContext,
    tree: RatchetTree,
    proposal: Proposal,
    sender: Sender,
    *,
    now: int | None = None,
    psk_usage: int = USAGE_APPLICATION,
    max_lifetime: int | None = None,
) -> None:
    """Checks of one proposal that need no other proposal (§12.1, §12.1.8 for senders); run
    when a proposal is received and again when it is committed."""
    body = proposal.body
    st = sender.sender_type
    info = proposal_type_info(proposal.proposal_type)
    if info is None:
        raise ValidationError(f"unknown proposal type 0x{proposal.proposal_type:04x}", "12.1")
    if st == SenderType.EXTERNAL and not info.external:
        raise ValidationError(f"proposal type {proposal.proposal_type} cannot be sent by an external sender", "12.1.8")
    if st == SenderType.NEW_MEMBER_PROPOSAL and not isinstance(body, Add):
        raise ValidationError("a new_member_proposal sender can only propose Add", "12.1.8")
    if isinstance(body, Add):
        check_key_package(suite, body.key_package, context.extensions, now, max_lifetime)
    elif isinstance(body, Update):
        if st != SenderType.MEMBER:
            raise ValidationError("an Update proposal must come from a member", "12.1.2")
        check_update(suite, context, tree, sender.index, body.leaf_node)
    elif isinstance(body, Remove):
        check_remove(tree, body.removed)
    elif isinstance(body, PreSharedKey):
        check_psk(suite, body.psk, allow_usage=psk_usage)
    elif isinstance(body, ReInit):
        check_reinit(context, body, suite.profile)
    elif isinstance(body, ExternalInit):
        if st != SenderType.NEW_MEMBER_COMMIT:
            raise ValidationError("an ExternalInit proposal is only valid in an external commit", "12.1.6")
    elif isinstance(body, GroupContextExtensions):
        check_unique_types(body.extensions, "the GroupContextExtensions proposal's extensions")  # §13.5
        for ext in body.extensions:
            if ext.extension_type == REQUIRED_CAPABILITIES:
                required_capabilities(ext.extension_data)  # well-formed
    # a registered non-default type: whether the members support it depends on the commit
    # that covers it (members it removes are exempt, §12.2), so it is checked by check_list


# ---- the list (§12.2) ------------------------------------------------------------------------


@dataclass(frozen=True)
class Committed:
    """One proposal covered by a commit, with who proposed it."""

    proposal: Proposal
    sender: Sender
    ref: bytes | None = None  # None when included by value


def check_list(
    items: Sequence[Committed],
    committer: Sender,
    tree: RatchetTree,
    *,
    identity_of: IdentityOf = default_identity,
) -> None:
    """The list rules of §12.2 that look at the proposals together (the tree-dependent
    rules — keys and credentials of the resulting tree — are checked while applying)."""
    external = committer.sender_type == SenderType.NEW_MEMBER_COMMIT
    types = [c.proposal.proposal_type for c in items]
    if external:
        n_ei = types.count(ProposalType.EXTERNAL_INIT)
        if n_ei != 1:
            raise ValidationError(f"an external commit needs exactly one ExternalInit, has {n_ei}", "12.2")
        if types.count(ProposalType.REMOVE) > 1:
            raise ValidationError("an external commit has at most one Remove", "12.2")
        for t in types:
            # AppDataUpdate: allowed in external commits (draft-ietf-mls-extensions §4.7)
            if t not in (ProposalType.EXTERNAL_INIT, ProposalType.REMOVE, ProposalType.PSK, APP_DATA_UPDATE):
                raise ValidationError(f"proposal type {t} is not allowed in an external commit", "12.2")
        if any(c.ref is not None for c in items):
            raise ValidationError("an external commit cannot include proposals by reference", "12.4.3.2")
    else:
        if ProposalType.EXTERNAL_INIT in types:
            raise ValidationError("a regular commit cannot contain an ExternalInit proposal", "12.2")
    if ProposalType.REINIT in types and len(items) > 1:
        raise ValidationError("a ReInit proposal must be the only proposal of its commit", "12.2")
    if types.count(ProposalType.GROUP_CONTEXT_EXTENSIONS) > 1:
        raise ValidationError("multiple GroupContextExtensions proposals", "12.2")

    touched: set[int] = set()
    removed: set[int] = set()
    psk_ids: set[bytes] = set()
    added_ids: set[bytes] = set()
    adds: list[LeafNode] = []
    for c in items:
        body = c.proposal.body
        if isinstance(body, Update):
            if c.sender.sender_type != SenderType.MEMBER:
                raise ValidationError("an Update proposal must come from a member", "12.1.2")
            leaf = c.sender.index
            if not external and committer.sender_type == SenderType.MEMBER and leaf == committer.index:
                raise ValidationError("the commit contains an Update proposal generated by the committer", "12.2")
            if leaf in touched:
                raise ValidationError(f"multiple Update/Remove proposals for leaf {leaf}", "12.2")
            touched.add(leaf)
        elif isinstance(body, Remove):
            leaf = body.removed
            if committer.sender_type == SenderType.MEMBER and leaf == committer.index:
                raise ValidationError("the commit contains a Remove proposal that removes the committer", "12.2")
            if leaf in touched:
                raise ValidationError(f"multiple Update/Remove proposals for leaf {leaf}", "12.2")
            touched.add(leaf)
            removed.add(leaf)
        elif isinstance(body, PreSharedKey):
            pid = body.psk.to_bytes()
            if pid in psk_ids:
                raise ValidationError("multiple PreSharedKey proposals for the same PreSharedKeyID", "12.2")
            psk_ids.add(pid)
        elif isinstance(body, Add):
            ident = identity_of(body.key_package.leaf_node)
            if ident in added_ids:
                raise ValidationError("multiple Add proposals for the same client", "12.2")
            added_ids.add(ident)
            adds.append(body.key_package.leaf_node)
    nondefault = {t for t in types if t not in DEFAULT_PROPOSAL_TYPES}
    if nondefault:
        # "a non-default proposal type that is not supported by some members of the group
        # that will process the Commit (i.e., members being added or removed by the Commit
        # do not need to support the proposal type)": every current leaf not removed here
        for i, member in tree.leaves():
            if i in removed:
                continue
            missing = nondefault - member.capabilities.proposal_set
            if missing:
                raise ValidationError(f"member {i} does not support proposal type 0x{min(missing):04x}", "12.2")
    if adds:
        # an Add of a client already in the group, unless that member is removed here
        members: dict[bytes, int] = {}
        by_key = tree.leaf_with_signature_key
        for leaf_node in adds:
            j = by_key(leaf_node.signature_key)
            if j is not None and j not in removed:
                raise ValidationError(f"Add of a client already in the group (leaf {j})", "12.2")
        if identity_of is not default_identity:
            for i, leaf_node in tree.leaves():
                members[identity_of(leaf_node)] = i
            for leaf_node in adds:
                j = members.get(identity_of(leaf_node))
                if j is not None and j not in removed:
                    raise ValidationError(f"Add of a client already in the group (leaf {j})", "12.2")


def path_required(proposals: Iterable[Proposal]) -> bool:
    """§12.4: a path is required for an empty commit or any "path required" proposal type."""
    items = list(proposals)
    if not items:
        return True
    for p in items:
        info = proposal_type_info(p.proposal_type)
        if info is None or info.path_required:
            return True
    return False


# ---- credentials (§5.3) and the Authentication Service (§5.3.1) -------------------------------


def new_binding(old: LeafNode | None, new: LeafNode) -> bool:
    """True if ``new`` presents a credential or signature key that ``old`` (the leaf it
    replaces, if any) did not: a binding the AS has not validated yet (§5.3.1 "a new
    credential"; a new signature key under the same basic credential is new to the AS too)."""
    return old is None or old.credential != new.credential or old.signature_key != new.signature_key


def check_external_senders(
    suite: CipherSuite,
    validator: CredentialValidator | None,
    group_id: bytes,
    old: Sequence[Extension],
    new: Sequence[Extension],
) -> None:
    """An ``external_senders`` extension added or changed (§5.3.1; ``old`` and ``new`` are
    GroupContext extension lists): every entry's X.509 certificate must carry its
    signature_key (§5.3, as for leaves) and every entry is validated with the AS."""
    new_ext = next((e for e in new if e.extension_type == EXTERNAL_SENDERS), None)
    if new_ext is None:
        return
    old_ext = next((e for e in old if e.extension_type == EXTERNAL_SENDERS), None)
    if old_ext is not None and old_ext.extension_data == new_ext.extension_data:
        return
    senders = parse_external_senders(new_ext)
    for s in senders:
        check_credential_key(suite, s.credential, s.signature_key)
    for i, s in enumerate(senders):
        authenticate(
            validator,
            CredentialEvent(
                CredentialEventType.EXTERNAL_SENDER, s.credential, s.signature_key, group_id, sender_index=i
            ),
        )


def authenticate_proposal(
    suite: CipherSuite,
    validator: CredentialValidator | None,
    context: GroupContext,
    tree: RatchetTree,
    proposal: Proposal,
    sender: Sender,
    *,
    ours: bool,
) -> None:
    """The §5.3.1 events of one (already validated) proposal: an Add's KeyPackage (event
    ``key_package`` if we send it, ``add`` if we received it), a received Update with a new
    credential or key (with the credential it replaces), and a GroupContextExtensions that
    adds or changes ``external_senders``."""
    body = proposal.body
    gid = context.group_id
    if isinstance(body, Add):
        leaf = body.key_package.leaf_node
        kind = CredentialEventType.KEY_PACKAGE if ours else CredentialEventType.ADD
        authenticate(validator, CredentialEvent(kind, leaf.credential, leaf.signature_key, gid))
    elif isinstance(body, Update):
        old = tree.leaf(sender.index) if sender.sender_type == SenderType.MEMBER else None
        if not ours and new_binding(old, body.leaf_node):
            authenticate(
                validator,
                CredentialEvent(
                    CredentialEventType.UPDATE,
                    body.leaf_node.credential,
                    body.leaf_node.signature_key,
                    gid,
                    leaf_index=sender.index,
                    previous=old.credential if old is not None else None,
                    previous_signature_key=old.signature_key if old is not None else None,
                ),
            )
    elif isinstance(body, GroupContextExtensions):
        check_external_senders(suite, validator, gid, context.extensions, body.extensions)


def authenticate_joined_tree(
    suite: CipherSuite,
    validator: CredentialValidator | None,
    group_id: bytes,
    tree: RatchetTree,
    signer: int,
    extensions: Sequence[Extension],
    me: int | None,
) -> None:
    """Joining from a GroupInfo (§5.3.1): the credential of every member (but ours) and of
    the GroupInfo signer, and the group's external senders."""
    if validator is None:
        check_external_senders(suite, None, group_id, (), extensions)  # the §5.3 key checks
        return
    for i, leaf in tree.leaves():
        if i != me:
            authenticate(
                validator,
                CredentialEvent(
                    CredentialEventType.GROUP_MEMBER, leaf.credential, leaf.signature_key, group_id, leaf_index=i
                ),
            )
    s = tree.leaf(signer)
    if s is not None:
        authenticate(
            validator,
            CredentialEvent(
                CredentialEventType.GROUP_INFO_SIGNER, s.credential, s.signature_key, group_id, leaf_index=signer
            ),
        )
    check_external_senders(suite, validator, group_id, (), extensions)


def wrap(e: MLSError, section: str) -> ValidationError:
    """A ValidationError for an error raised by a lower layer (keeps its message)."""
    if isinstance(e, ValidationError):
        return e
    return ValidationError(str(e), section)
