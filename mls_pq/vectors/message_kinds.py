"""Verifiers for the message vector kinds of mlswg test-vectors.md: messages,
message-protection and transcript-hashes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..codec import Struct
from ..errors import MLSError, ValidationError
from ..framing import (
    protect_private,
    protect_public,
    unprotect_private,
    unprotect_public,
)
from ..group_context import GroupContext
from ..messages.commit import Commit
from ..messages.framing_structs import (
    AuthenticatedContent,
    ContentType,
    FramedContent,
    MLSMessage,
    PrivateMessage,
    PublicMessage,
    Sender,
    WireFormat,
)
from ..messages.proposals import (
    Add,
    ExternalInit,
    GroupContextExtensions,
    PreSharedKey,
    Proposal,
    ReInit,
    Remove,
    Update,
)
from ..messages.welcome import GroupSecrets
from ..secret_tree import SecretTree
from ..transcript import confirmation_tag, confirmed_transcript_hash, interim_transcript_hash
from ..tree.nodes import decode_ratchet_tree, encode_ratchet_tree
from .basics import expect, h, suite_of
from .kinds import Mismatch, kind

# ---- messages ---------------------------------------------------------------------------

_STRUCT_FIELDS: dict[str, type[Struct]] = {
    "group_secrets": GroupSecrets,
    "add_proposal": Add,
    "update_proposal": Update,
    "remove_proposal": Remove,
    "pre_shared_key_proposal": PreSharedKey,
    "re_init_proposal": ReInit,
    "external_init_proposal": ExternalInit,
    "group_context_extensions_proposal": GroupContextExtensions,
    "commit": Commit,
}

#: MLSMessage fields -> (wire format, content type of a PublicMessage or None)
_MESSAGE_FIELDS: dict[str, tuple[WireFormat, ContentType | None]] = {
    "mls_welcome": (WireFormat.WELCOME, None),
    "mls_group_info": (WireFormat.GROUP_INFO, None),
    "mls_key_package": (WireFormat.KEY_PACKAGE, None),
    "public_message_application": (WireFormat.PUBLIC_MESSAGE, ContentType.APPLICATION),
    "public_message_proposal": (WireFormat.PUBLIC_MESSAGE, ContentType.PROPOSAL),
    "public_message_commit": (WireFormat.PUBLIC_MESSAGE, ContentType.COMMIT),
    "private_message": (WireFormat.PRIVATE_MESSAGE, None),
}


def _roundtrip(name: str, data: bytes, decode: Callable[[bytes], Any], encode: Callable[[Any], bytes]) -> Any:
    try:
        obj = decode(data)
    except MLSError as e:
        raise Mismatch(name, f"does not decode: {type(e).__name__}: {e}") from None
    expect(f"{name} (re-encoded)", encode(obj), data)
    return obj


@kind("messages")
def verify_messages(c: dict[str, Any]) -> None:
    """Every field decodes with its struct and re-encodes to the same bytes."""
    for name, (wf, ct) in _MESSAGE_FIELDS.items():
        msg: MLSMessage = _roundtrip(name, h(c[name]), MLSMessage.from_bytes, lambda m: m.to_bytes())
        expect(f"{name}.wire_format", msg.wire_format, wf)
        if ct is not None:
            assert isinstance(msg.body, PublicMessage)
            expect(f"{name}.content_type", msg.body.content.content_type, ct)
    for name, cls in _STRUCT_FIELDS.items():
        _roundtrip(name, h(c[name]), cls.from_bytes, lambda o: o.to_bytes())
    _roundtrip("ratchet_tree", h(c["ratchet_tree"]), decode_ratchet_tree, encode_ratchet_tree)


# ---- message-protection -----------------------------------------------------------------

SENDER_LEAF = 1


def _public(name: str, data: bytes) -> PublicMessage:
    msg = MLSMessage.from_bytes(data)
    if not isinstance(msg.body, PublicMessage):
        raise Mismatch(name, f"wire format {msg.wire_format.name}, want mls_public_message")
    return msg.body


def _private(name: str, data: bytes) -> PrivateMessage:
    msg = MLSMessage.from_bytes(data)
    if not isinstance(msg.body, PrivateMessage):
        raise Mismatch(name, f"wire format {msg.wire_format.name}, want mls_private_message")
    return msg.body


def _body_bytes(body: bytes | Proposal | Commit) -> bytes:
    return body if isinstance(body, bytes) else body.to_bytes()


@kind("message-protection")
def verify_message_protection(c: dict[str, Any]) -> None:
    s = suite_of(c)
    ctx = GroupContext(
        cipher_suite=c["cipher_suite"],
        group_id=h(c["group_id"]),
        epoch=c["epoch"],
        tree_hash=h(c["tree_hash"]),
        confirmed_transcript_hash=h(c["confirmed_transcript_hash"]),
    )
    sig_priv, sig_pub = h(c["signature_priv"]), h(c["signature_pub"])
    membership_key, sender_data_secret = h(c["membership_key"]), h(c["sender_data_secret"])

    def member_key(i: int) -> bytes | None:
        return sig_pub if i == SENDER_LEAF else None

    def tree() -> SecretTree:
        return SecretTree(s, h(c["encryption_secret"]), 2)

    for what in ("proposal", "commit", "application"):
        raw = h(c[what])
        body: bytes | Proposal | Commit
        body = (
            raw if what == "application" else Proposal.from_bytes(raw) if what == "proposal" else Commit.from_bytes(raw)
        )
        tag: bytes | None = None

        # the vector's PublicMessage (not for application data)
        if what != "application":
            pub = _public(f"{what}_pub", h(c[f"{what}_pub"]))
            ac = unprotect_public(s, pub, ctx, membership_key, member_key)
            expect(f"{what}_pub content", _body_bytes(ac.content.body), raw)
            tag = ac.auth.confirmation_tag

        content = FramedContent(ctx.group_id, ctx.epoch, Sender.member(SENDER_LEAF), b"", body)
        # our PublicMessage verifies; application data is refused
        if what == "application":
            try:
                protect_public(s, content, sig_priv, ctx, membership_key)
            except ValidationError:
                pass
            else:
                raise Mismatch("application as PublicMessage", "protecting application data as PublicMessage succeeded")
        else:
            own = protect_public(s, content, sig_priv, ctx, membership_key, tag)
            own = _public(f"{what} own public", MLSMessage(own).to_bytes())
            ac = unprotect_public(s, own, ctx, membership_key, member_key)
            expect(f"{what} own public content", _body_bytes(ac.content.body), raw)

        # the vector's PrivateMessage
        priv = _private(f"{what}_priv", h(c[f"{what}_priv"]))
        ac = unprotect_private(s, priv, ctx, tree(), sender_data_secret, member_key)
        expect(f"{what}_priv content", _body_bytes(ac.content.body), raw)
        expect(f"{what}_priv sender", ac.content.sender, Sender.member(SENDER_LEAF))
        if what == "commit":
            tag = ac.auth.confirmation_tag

        # our PrivateMessage round-trips through a fresh receiver tree
        own_priv = protect_private(s, content, sig_priv, ctx, tree(), sender_data_secret, tag, padding=7)
        own_priv = _private(f"{what} own private", MLSMessage(own_priv).to_bytes())
        ac = unprotect_private(s, own_priv, ctx, tree(), sender_data_secret, member_key)
        expect(f"{what} own private content", _body_bytes(ac.content.body), raw)


# ---- transcript-hashes ------------------------------------------------------------------


@kind("transcript-hashes")
def verify_transcript_hashes(c: dict[str, Any]) -> None:
    s = suite_of(c)
    data = h(c["authenticated_content"])
    ac: AuthenticatedContent = _roundtrip(
        "authenticated_content", data, AuthenticatedContent.from_bytes, lambda a: a.to_bytes()
    )
    if not isinstance(ac.content.body, Commit) or ac.auth.confirmation_tag is None:
        raise Mismatch("authenticated_content", "does not contain a Commit")
    confirmed_after = h(c["confirmed_transcript_hash_after"])
    expect(
        "authenticated_content.auth.confirmation_tag",
        confirmation_tag(s, h(c["confirmation_key"]), confirmed_after),
        ac.auth.confirmation_tag,
    )
    confirmed = confirmed_transcript_hash(
        s, h(c["interim_transcript_hash_before"]), ac.wire_format, ac.content, ac.auth.signature
    )
    expect("confirmed_transcript_hash_after", confirmed, confirmed_after)
    expect(
        "interim_transcript_hash_after",
        interim_transcript_hash(s, confirmed, ac.auth.confirmation_tag),
        h(c["interim_transcript_hash_after"]),
    )
