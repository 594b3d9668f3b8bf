"""Protecting and unprotecting handshake and application messages (RFC 9420 §6).

* Signing: ``signature = SignWithLabel(sig_priv, "FramedContentTBS", FramedContentTBS)``;
  the TBS includes the GroupContext for ``member`` and ``new_member_commit`` senders (§6.1).
* PublicMessage (§6.2): ``membership_tag = MAC(membership_key, AuthenticatedContentTBM)``
  for member senders, compared in constant time.
* PrivateMessage (§6.3): content and auth encrypted under the secret-tree key of the
  sender's leaf (handshake or application ratchet), the nonce's first four octets XORed
  with a random ``reuse_guard``; SenderData encrypted under keys derived from
  ``sender_data_secret`` and a sample of the content ciphertext; all-zero padding.

Receiving never changes state unless the whole message is accepted: :func:`open_private`
and :func:`seal_private` are pure and return the secret tree's
:class:`~mls_pq.secret_tree.KeyUse`, whose change the caller applies only after
decryption, decoding and the signature check have all succeeded.

Commit confirmation tags need the *next* epoch's ``confirmation_key``, so they are carried
here but verified by the group state machine (see :mod:`mls_pq.transcript`).

Signer keys are supplied by the caller: ``member_key(leaf_index)`` returns the signature key
of a non-blank leaf or ``None`` (blank or out of range), and ``external_senders`` lists the
signature keys of the ``external_senders`` GroupContext extension (§12.1.8.1).
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Callable, Sequence

from .errors import SignatureError, ValidationError
from .group_context import GroupContext
from .messages.commit import Commit
from .messages.framing_structs import (
    AuthenticatedContent,
    ContentType,
    FramedContent,
    FramedContentAuthData,
    PrivateMessage,
    PrivateMessageContent,
    PublicMessage,
    Sender,
    SenderData,
    SenderType,
    WireFormat,
    framed_content_tbs,
)
from .messages.proposals import Add, Proposal, proposal_type_info
from .secret_tree import APPLICATION, HANDSHAKE, KeyUse, SecretTree, sender_data_key_nonce
from .suites import CipherSuite

FRAMED_CONTENT_TBS_LABEL = "FramedContentTBS"

#: leaf index -> signature public key of that leaf, or None if the leaf is blank / absent
MemberKey = Callable[[int], bytes | None]


# ---- signatures (§6.1) --------------------------------------------------------------------


def sign_content(
    suite: CipherSuite,
    wire_format: WireFormat,
    content: FramedContent,
    signature_priv: bytes,
    context: GroupContext | None,
) -> bytes:
    """SignWithLabel(signature_priv, "FramedContentTBS", FramedContentTBS)."""
    return suite.sign_with_label(
        signature_priv, FRAMED_CONTENT_TBS_LABEL, framed_content_tbs(wire_format, content, context)
    )


def authenticate(
    suite: CipherSuite,
    wire_format: WireFormat,
    content: FramedContent,
    signature_priv: bytes,
    context: GroupContext | None,
    confirmation_tag: bytes | None = None,
) -> AuthenticatedContent:
    """Sign ``content`` into an AuthenticatedContent. A commit needs its ``confirmation_tag``;
    to derive the tag from the signature first, use :func:`sign_content` and build the
    AuthenticatedContent once the tag is known."""
    sig = sign_content(suite, wire_format, content, signature_priv, context)
    return AuthenticatedContent(wire_format, content, FramedContentAuthData(sig, confirmation_tag))


def verify_signature(
    suite: CipherSuite, ac: AuthenticatedContent, signature_pub: bytes, context: GroupContext | None
) -> None:
    """Raise SignatureError unless the FramedContentTBS signature verifies (§6.1)."""
    if not suite.verify_with_label(signature_pub, FRAMED_CONTENT_TBS_LABEL, ac.tbs(context), ac.auth.signature):
        raise SignatureError("FramedContentTBS signature does not verify (RFC 9420 §6.1)")


def signature_key_for(content: FramedContent, member_key: MemberKey, external_senders: Sequence[bytes] = ()) -> bytes:
    """The key that must have signed ``content``, by sender type (§6.1), enforcing the
    content-type restrictions each sender type carries."""
    sender = content.sender
    st = sender.sender_type
    if st == SenderType.MEMBER:
        key = member_key(sender.index)
        if key is None:
            raise ValidationError(f"sender leaf {sender.index} is blank or not in the tree", "6.1")
        return key
    if st == SenderType.EXTERNAL:
        if not isinstance(content.body, Proposal):
            raise ValidationError("an external sender can only send proposals", "6.1")
        info = proposal_type_info(content.body.proposal_type)
        if info is None or not info.external:
            raise ValidationError(
                f"proposal type 0x{content.body.proposal_type:04x} is not allowed for external senders", "6.1"
            )
        if sender.index >= len(external_senders):
            raise ValidationError(f"sender_index {sender.index} is not in the external_senders extension", "12.1.8.1")
        return external_senders[sender.index]
    if st == SenderType.NEW_MEMBER_COMMIT:
        if not isinstance(content.body, Commit):
            raise ValidationError("a new_member_commit sender can only send a commit", "6.1")
        if content.body.path is None:
            raise ValidationError("an external commit must contain a path", "12.4.3.2")
        return content.body.path.leaf_node.signature_key
    # new_member_proposal
    if not isinstance(content.body, Proposal) or not isinstance(content.body.body, Add):
        raise ValidationError("a new_member_proposal sender can only send an Add proposal", "6.1")
    return content.body.body.key_package.leaf_node.signature_key


def _check_group(group_id: bytes, epoch: int, context: GroupContext) -> None:
    if group_id != context.group_id:
        raise ValidationError("message is for a different group", "6")
    if epoch != context.epoch:
        raise ValidationError(f"message epoch {epoch} is not the group's epoch {context.epoch}", "6")


# ---- PublicMessage (§6.2) -----------------------------------------------------------------


def membership_tag(suite: CipherSuite, membership_key: bytes, ac: AuthenticatedContent, context: GroupContext) -> bytes:
    """MAC(membership_key, AuthenticatedContentTBM)."""
    return suite.mac(membership_key, ac.tbm(context))


def public_message(
    suite: CipherSuite, ac: AuthenticatedContent, context: GroupContext, membership_key: bytes | None
) -> PublicMessage:
    """Encode a signed AuthenticatedContent as a PublicMessage, adding the membership tag
    for member senders. Application data is refused (§6: it MUST be a PrivateMessage)."""
    if ac.wire_format != WireFormat.PUBLIC_MESSAGE:
        raise ValidationError("AuthenticatedContent was signed for another wire format", "6.1")
    if ac.content.content_type == ContentType.APPLICATION:
        raise ValidationError("application data MUST be sent as a PrivateMessage", "6")
    tag: bytes | None = None
    if ac.content.sender.is_member:
        if membership_key is None:
            raise ValidationError("a member's PublicMessage needs the membership key", "6.2")
        tag = membership_tag(suite, membership_key, ac, context)
    return PublicMessage(ac.content, ac.auth, tag)


def protect_public(
    suite: CipherSuite,
    content: FramedContent,
    signature_priv: bytes,
    context: GroupContext,
    membership_key: bytes | None,
    confirmation_tag: bytes | None = None,
) -> PublicMessage:
    """Sign and frame ``content`` as a PublicMessage."""
    if content.content_type == ContentType.APPLICATION:
        raise ValidationError("application data MUST be sent as a PrivateMessage", "6")
    if content.sender.sender_type in (SenderType.MEMBER, SenderType.NEW_MEMBER_COMMIT):
        _check_group(content.group_id, content.epoch, context)
    ac = authenticate(suite, WireFormat.PUBLIC_MESSAGE, content, signature_priv, context, confirmation_tag)
    return public_message(suite, ac, context, membership_key)


def unprotect_public(
    suite: CipherSuite,
    msg: PublicMessage,
    context: GroupContext,
    membership_key: bytes | None,
    member_key: MemberKey,
    external_senders: Sequence[bytes] = (),
) -> AuthenticatedContent:
    """Check a PublicMessage and return its AuthenticatedContent (§6.2).

    Checks: group id and epoch, no application data, sender-type restrictions, the
    membership tag of member senders (constant time), and the signature.
    """
    content = msg.content
    _check_group(content.group_id, content.epoch, context)
    if content.content_type == ContentType.APPLICATION:
        raise ValidationError("application data MUST NOT be sent as a PublicMessage", "6")
    key = signature_key_for(content, member_key, external_senders)
    ac = msg.authenticated_content()
    if content.sender.is_member:
        if membership_key is None or msg.membership_tag is None:
            raise ValidationError("member PublicMessage without membership tag/key", "6.2")
        if not hmac.compare_digest(membership_tag(suite, membership_key, ac, context), msg.membership_tag):
            raise ValidationError("membership_tag does not verify", "6.2")
    verify_signature(suite, ac, key, context)
    return ac


# ---- PrivateMessage (§6.3) ----------------------------------------------------------------


def _ratchet_kind(content_type: ContentType) -> str:
    return APPLICATION if content_type == ContentType.APPLICATION else HANDSHAKE


def _guarded_nonce(nonce: bytes, reuse_guard: bytes) -> bytes:
    """XOR the reuse guard into the first four octets of the nonce (§6.3.1)."""
    return bytes(a ^ b for a, b in zip(nonce[:4], reuse_guard)) + nonce[4:]


def private_message(
    suite: CipherSuite,
    ac: AuthenticatedContent,
    secret_tree: SecretTree,
    sender_data_secret: bytes,
    padding: int = 0,
    reuse_guard: bytes | None = None,
) -> PrivateMessage:
    """Encrypt a signed AuthenticatedContent of a member sender as a PrivateMessage.

    Uses the next generation of the sender's ratchet and consumes it (in place; see
    :func:`seal_private` for the pure form). ``reuse_guard`` is random unless given (tests
    only); ``padding`` is the number of zero octets appended.
    """
    msg, use = seal_private(suite, ac, secret_tree, sender_data_secret, padding, reuse_guard)
    secret_tree.commit_use(use)
    return msg


def seal_private(
    suite: CipherSuite,
    ac: AuthenticatedContent,
    secret_tree: SecretTree,
    sender_data_secret: bytes,
    padding: int = 0,
    reuse_guard: bytes | None = None,
) -> tuple[PrivateMessage, KeyUse]:
    """:func:`private_message` without touching ``secret_tree``: the message and the
    :class:`~mls_pq.secret_tree.KeyUse` whose change the caller must apply (§9.2: before
    the ciphertext leaves, so the key is never used twice)."""
    content = ac.content
    if ac.wire_format != WireFormat.PRIVATE_MESSAGE:
        raise ValidationError("AuthenticatedContent was signed for another wire format", "6.1")
    if not content.sender.is_member:
        raise ValidationError("only member senders can send a PrivateMessage", "6.3.2")
    guard = os.urandom(4) if reuse_guard is None else reuse_guard
    if len(guard) != 4:
        raise ValidationError("reuse_guard is 4 octets", "6.3.1")
    ct_type = content.content_type
    leaf = content.sender.index
    use = secret_tree.next_key(leaf, _ratchet_kind(ct_type))
    shell = PrivateMessage(content.group_id, content.epoch, ct_type, content.authenticated_data, b"", b"")
    plaintext = PrivateMessageContent(content.body, ac.auth, padding).to_bytes()
    ciphertext = suite.aead.seal(use.key, _guarded_nonce(use.nonce, guard), shell.content_aad(), plaintext)
    sd_key, sd_nonce = sender_data_key_nonce(suite, sender_data_secret, ciphertext)
    sender_data = SenderData(leaf, use.generation, guard).to_bytes()
    encrypted_sender_data = suite.aead.seal(sd_key, sd_nonce, shell.sender_data_aad(), sender_data)
    msg = PrivateMessage(
        content.group_id, content.epoch, ct_type, content.authenticated_data, encrypted_sender_data, ciphertext
    )
    return msg, use


def protect_private(
    suite: CipherSuite,
    content: FramedContent,
    signature_priv: bytes,
    context: GroupContext,
    secret_tree: SecretTree,
    sender_data_secret: bytes,
    confirmation_tag: bytes | None = None,
    padding: int = 0,
    reuse_guard: bytes | None = None,
) -> PrivateMessage:
    """Sign and encrypt ``content`` (from a member) as a PrivateMessage."""
    if not content.sender.is_member:
        raise ValidationError("only member senders can send a PrivateMessage", "6.3.2")
    _check_group(content.group_id, content.epoch, context)
    ac = authenticate(suite, WireFormat.PRIVATE_MESSAGE, content, signature_priv, context, confirmation_tag)
    return private_message(suite, ac, secret_tree, sender_data_secret, padding, reuse_guard)


def decrypt_sender_data(suite: CipherSuite, msg: PrivateMessage, sender_data_secret: bytes) -> SenderData:
    """Open and decode ``encrypted_sender_data`` (§6.3.2); raises DecryptError/DecodeError."""
    sd_key, sd_nonce = sender_data_key_nonce(suite, sender_data_secret, msg.ciphertext)
    return SenderData.from_bytes(suite.aead.open(sd_key, sd_nonce, msg.sender_data_aad(), msg.encrypted_sender_data))


def unprotect_private(
    suite: CipherSuite,
    msg: PrivateMessage,
    context: GroupContext,
    secret_tree: SecretTree,
    sender_data_secret: bytes,
    member_key: MemberKey,
) -> AuthenticatedContent:
    """Decrypt and check a PrivateMessage (§6.3) and return its AuthenticatedContent.

    Checks: group id and epoch; sender data authentic; sender leaf in the tree and
    non-blank (§6.3.2); generation neither replayed nor too far ahead (§9.2); content
    authentic; padding all zero (§6.3.1); signature (§6.1). The ratchet advances (in
    place) only when all of them pass; :func:`open_private` is the pure form.
    """
    ac, use = open_private(suite, msg, context, secret_tree, sender_data_secret, member_key)
    secret_tree.commit_use(use)
    return ac


def open_private(
    suite: CipherSuite,
    msg: PrivateMessage,
    context: GroupContext,
    secret_tree: SecretTree,
    sender_data_secret: bytes,
    member_key: MemberKey,
) -> tuple[AuthenticatedContent, KeyUse]:
    """:func:`unprotect_private` without touching ``secret_tree``: the checked content and
    the :class:`~mls_pq.secret_tree.KeyUse` to apply once the caller accepts the message."""
    _check_group(msg.group_id, msg.epoch, context)
    sd = decrypt_sender_data(suite, msg, sender_data_secret)
    if sd.leaf_index >= secret_tree.n_leaves:
        raise ValidationError(f"sender leaf {sd.leaf_index} is outside the tree", "6.3.2")
    key = member_key(sd.leaf_index)
    if key is None:
        raise ValidationError(f"sender leaf {sd.leaf_index} is blank", "6.3.2")
    use = secret_tree.key_for(sd.leaf_index, _ratchet_kind(msg.content_type), sd.generation)
    plaintext = suite.aead.open(use.key, _guarded_nonce(use.nonce, sd.reuse_guard), msg.content_aad(), msg.ciphertext)
    pmc = PrivateMessageContent.from_bytes(plaintext, msg.content_type)
    content = FramedContent(msg.group_id, msg.epoch, Sender.member(sd.leaf_index), msg.authenticated_data, pmc.body)
    ac = AuthenticatedContent(WireFormat.PRIVATE_MESSAGE, content, pmc.auth)
    verify_signature(suite, ac, key, context)
    return ac, use
