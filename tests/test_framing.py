"""Protect/unprotect of PublicMessage and PrivateMessage (RFC 9420 §6) with every MUST
check exercised by a negative test naming its section."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mls_pq.errors import DecodeError, DecryptError, SignatureError, ValidationError
from mls_pq.framing import (
    authenticate,
    protect_private,
    protect_public,
    public_message,
    unprotect_private,
    unprotect_public,
)
from mls_pq.group_context import GroupContext
from mls_pq.messages.commit import Commit
from mls_pq.messages.credential import Credential
from mls_pq.messages.framing_structs import (
    AuthenticatedContent,
    ContentType,
    FramedContent,
    FramedContentAuthData,
    PrivateMessage,
    PrivateMessageContent,
    PublicMessage,
    Sender,
    SenderData,
    WireFormat,
)
from mls_pq.messages.key_package import KeyPackage
from mls_pq.messages.leaf_node import Capabilities, LeafNode, LeafNodeSource, Lifetime
from mls_pq.messages.proposals import Add, Proposal, Remove, Update
from mls_pq.secret_tree import HANDSHAKE, SecretTree, sender_data_key_nonce
from mls_pq.suites import get_suite

S = get_suite(1)
SK, PK = S.signature.generate()
OTHER_SK, OTHER_PK = S.signature.generate()
CTX = GroupContext(1, b"group-id", 5, b"\x01" * 32, b"\x02" * 32)
MEMBERSHIP_KEY = b"\x03" * 32
ENCRYPTION_SECRET = b"\x04" * 32
SENDER_DATA_SECRET = b"\x05" * 32
N_LEAVES = 4
LEAF = 1


def member_key(i: int) -> bytes | None:
    return PK if i == LEAF else (OTHER_PK if i == 0 else None)  # leaves 2, 3 are blank


def tree() -> SecretTree:
    return SecretTree(S, ENCRYPTION_SECRET, N_LEAVES)


MEMBER = Sender.member(LEAF)


def content(body: bytes | Proposal | Commit, sender: Sender = MEMBER, **kw: object) -> FramedContent:
    fc = FramedContent(CTX.group_id, CTX.epoch, sender, b"aad", body)
    return replace(fc, **kw)  # type: ignore[arg-type]


REMOVE = Proposal(Remove(0))


def section(e: pytest.ExceptionInfo[ValidationError]) -> str | None:
    return e.value.section


# ---- PublicMessage --------------------------------------------------------------------


def test_public_roundtrip_proposal_and_commit() -> None:
    for body, tag in (
        (REMOVE, None),
        (
            Commit(
                (),
            ),
            b"\x07" * 32,
        ),
    ):
        pm = protect_public(S, content(body), SK, CTX, MEMBERSHIP_KEY, tag)
        assert pm.membership_tag is not None
        pm = PublicMessage.from_bytes(pm.to_bytes())
        ac = unprotect_public(S, pm, CTX, MEMBERSHIP_KEY, member_key)
        assert ac.content.body == body and ac.auth.confirmation_tag == tag
        assert ac.wire_format == WireFormat.PUBLIC_MESSAGE


def test_bad_membership_tag() -> None:
    """§6.2: the membership tag MUST be checked."""
    pm = protect_public(S, content(REMOVE), SK, CTX, MEMBERSHIP_KEY)
    assert pm.membership_tag is not None
    bad = replace(pm, membership_tag=bytes([pm.membership_tag[0] ^ 1]) + pm.membership_tag[1:])
    with pytest.raises(ValidationError) as e:
        unprotect_public(S, bad, CTX, MEMBERSHIP_KEY, member_key)
    assert section(e) == "6.2"
    with pytest.raises(ValidationError) as e:
        unprotect_public(S, pm, CTX, b"\x09" * 32, member_key)
    assert section(e) == "6.2"
    with pytest.raises(ValidationError):  # a truncated tag is not a prefix match
        unprotect_public(S, replace(pm, membership_tag=pm.membership_tag[:16]), CTX, MEMBERSHIP_KEY, member_key)


def test_membership_tag_covers_group_context() -> None:
    pm = protect_public(S, content(REMOVE), SK, CTX, MEMBERSHIP_KEY)
    other = CTX.evolve(tree_hash=b"\x99" * 32)
    with pytest.raises(ValidationError) as e:
        unprotect_public(S, pm, other, MEMBERSHIP_KEY, member_key)
    assert section(e) == "6.2"


def test_bad_signature() -> None:
    """§6.1: recipients MUST verify the signature (membership tag recomputed so only the signature is wrong)."""
    pm = protect_public(S, content(REMOVE), OTHER_SK, CTX, MEMBERSHIP_KEY)
    with pytest.raises(SignatureError, match="6.1"):
        unprotect_public(S, pm, CTX, MEMBERSHIP_KEY, member_key)
    # the signature covers the wire format: a PrivateMessage signature does not verify as public
    ac = authenticate(S, WireFormat.PRIVATE_MESSAGE, content(REMOVE), SK, CTX)
    forged = public_message(
        S, AuthenticatedContent(WireFormat.PUBLIC_MESSAGE, ac.content, ac.auth), CTX, MEMBERSHIP_KEY
    )
    with pytest.raises(SignatureError):
        unprotect_public(S, forged, CTX, MEMBERSHIP_KEY, member_key)


def test_application_data_never_public() -> None:
    """§6: application messages MUST use PrivateMessage."""
    with pytest.raises(ValidationError) as e:
        protect_public(S, content(b"hello"), SK, CTX, MEMBERSHIP_KEY)
    assert section(e) == "6"
    # a PublicMessage carrying application data (decodable) is rejected on receipt
    ac = authenticate(S, WireFormat.PUBLIC_MESSAGE, content(b"hello"), SK, CTX)
    pm = PublicMessage(ac.content, ac.auth, S.mac(MEMBERSHIP_KEY, ac.tbm(CTX)))
    pm = PublicMessage.from_bytes(pm.to_bytes())
    with pytest.raises(ValidationError) as e:
        unprotect_public(S, pm, CTX, MEMBERSHIP_KEY, member_key)
    assert section(e) == "6"


@pytest.mark.parametrize("change", [{"epoch": 4}, {"epoch": 6}, {"group_id": b"other"}])
def test_public_wrong_epoch_or_group(change: dict[str, object]) -> None:
    """§6 / §12.1: the message's group_id and epoch MUST match the group's."""
    pm = protect_public(S, content(REMOVE), SK, CTX, MEMBERSHIP_KEY)
    ctx2 = CTX.evolve(**change)
    with pytest.raises(ValidationError) as e:
        unprotect_public(S, pm, ctx2, MEMBERSHIP_KEY, member_key)
    assert section(e) == "6"
    with pytest.raises(ValidationError):
        protect_public(S, content(REMOVE, **change), SK, CTX, MEMBERSHIP_KEY)  # type: ignore[arg-type]


def test_public_blank_sender_leaf() -> None:
    pm = protect_public(S, content(REMOVE, Sender.member(2)), SK, CTX, MEMBERSHIP_KEY)
    with pytest.raises(ValidationError) as e:
        unprotect_public(S, pm, CTX, MEMBERSHIP_KEY, member_key)
    assert section(e) == "6.1"


# ---- sender types (§6.1) -----------------------------------------------------------------


def _leaf(source: LeafNodeSource = LeafNodeSource.KEY_PACKAGE) -> LeafNode:
    return LeafNode(
        b"\x21" * 32,
        PK,
        Credential.basic(b"alice"),
        Capabilities(cipher_suites=(1,)),
        source,
        lifetime=Lifetime(0, 2**64 - 1) if source == LeafNodeSource.KEY_PACKAGE else None,
    )


def test_external_sender() -> None:
    ext = Sender.external(1)
    pm = protect_public(S, content(REMOVE, ext), SK, CTX, None)
    assert pm.membership_tag is None
    pm = PublicMessage.from_bytes(pm.to_bytes())
    ac = unprotect_public(S, pm, CTX, None, member_key, external_senders=[OTHER_PK, PK])
    assert ac.content.sender == ext
    # the external sender's TBS has no GroupContext: it verifies against any context of the group
    unprotect_public(S, pm, CTX.evolve(tree_hash=b"\x00" * 32), None, member_key, [OTHER_PK, PK])
    with pytest.raises(ValidationError) as e:
        unprotect_public(S, pm, CTX, None, member_key, external_senders=[PK])
    assert section(e) == "12.1.8.1"
    with pytest.raises(SignatureError):
        unprotect_public(S, pm, CTX, None, member_key, external_senders=[PK, OTHER_PK])


def test_external_sender_restrictions() -> None:
    """§6.1: external senders send proposals of an 'External: Y' type only."""
    upd = Proposal(Update(_leaf(LeafNodeSource.UPDATE)))
    pm = protect_public(S, content(upd, Sender.external(0)), SK, CTX, None)
    with pytest.raises(ValidationError, match="not allowed for external") as e:
        unprotect_public(S, pm, CTX, None, member_key, [PK])
    assert section(e) == "6.1"
    pm = protect_public(S, content(Commit(), Sender.external(0)), SK, CTX, None, b"\x00" * 32)
    with pytest.raises(ValidationError) as e:
        unprotect_public(S, pm, CTX, None, member_key, [PK])
    assert section(e) == "6.1"


def test_new_member_proposal() -> None:
    """§6.1: new_member_proposal carries an Add, signed by the KeyPackage's leaf key."""
    kp = KeyPackage(1, 1, b"\x31" * 32, _leaf()).sign(S, SK)
    add = Proposal(Add(kp))
    pm = protect_public(S, content(add, Sender.new_member_proposal()), SK, CTX, None)
    ac = unprotect_public(S, PublicMessage.from_bytes(pm.to_bytes()), CTX, None, member_key)
    assert ac.content.body == add
    bad = protect_public(S, content(REMOVE, Sender.new_member_proposal()), SK, CTX, None)
    with pytest.raises(ValidationError) as e:
        unprotect_public(S, bad, CTX, None, member_key)
    assert section(e) == "6.1"
    forged = protect_public(S, content(add, Sender.new_member_proposal()), OTHER_SK, CTX, None)
    with pytest.raises(SignatureError):
        unprotect_public(S, forged, CTX, None, member_key)


def test_new_member_commit_rules() -> None:
    """§6.1: new_member_commit sends a commit; §12.4.3.2: an external commit has a path."""
    pm = protect_public(S, content(Commit(), Sender.new_member_commit()), SK, CTX, None, b"\x00" * 32)
    assert pm.membership_tag is None
    with pytest.raises(ValidationError) as e:
        unprotect_public(S, pm, CTX, None, member_key)
    assert section(e) == "12.4.3.2"
    pm = protect_public(S, content(REMOVE, Sender.new_member_commit()), SK, CTX, None)
    with pytest.raises(ValidationError) as e:
        unprotect_public(S, pm, CTX, None, member_key)
    assert section(e) == "6.1"


# ---- PrivateMessage ------------------------------------------------------------------------


@pytest.mark.parametrize("body", [b"application data", REMOVE, Commit()])
def test_private_roundtrip(body: bytes | Proposal | Commit) -> None:
    tag = b"\x07" * 32 if isinstance(body, Commit) else None
    send, recv = tree(), tree()
    for gen in range(3):
        pm = protect_private(S, content(body), SK, CTX, send, SENDER_DATA_SECRET, tag, padding=gen * 10)
        pm = PrivateMessage.from_bytes(pm.to_bytes())
        assert pm.content_type == (ContentType.APPLICATION if isinstance(body, bytes) else pm.content_type)
        ac = unprotect_private(S, pm, CTX, recv, SENDER_DATA_SECRET, member_key)
        assert ac.content == content(body) and ac.auth.confirmation_tag == tag
        assert ac.wire_format == WireFormat.PRIVATE_MESSAGE


def test_reuse_guard_changes_ciphertext_not_meaning() -> None:
    a = protect_private(S, content(b"m"), SK, CTX, tree(), SENDER_DATA_SECRET, reuse_guard=b"\x00" * 4)
    b = protect_private(S, content(b"m"), SK, CTX, tree(), SENDER_DATA_SECRET, reuse_guard=b"\xff" * 4)
    assert a.ciphertext != b.ciphertext  # same key and generation, different nonce
    for pm in (a, b):
        assert unprotect_private(S, pm, CTX, tree(), SENDER_DATA_SECRET, member_key).content.body == b"m"


def test_replayed_generation() -> None:
    """§9.2: a key is deleted once used, so a replayed message is rejected."""
    recv = tree()
    pm = protect_private(S, content(b"once"), SK, CTX, tree(), SENDER_DATA_SECRET)
    unprotect_private(S, pm, CTX, recv, SENDER_DATA_SECRET, member_key)
    with pytest.raises(ValidationError) as e:
        unprotect_private(S, pm, CTX, recv, SENDER_DATA_SECRET, member_key)
    assert section(e) == "9.2"


def test_out_of_order_within_window() -> None:
    send, recv = tree(), tree()
    msgs = [protect_private(S, content(bytes([i])), SK, CTX, send, SENDER_DATA_SECRET) for i in range(4)]
    for i in (3, 0, 2, 1):
        assert unprotect_private(S, msgs[i], CTX, recv, SENDER_DATA_SECRET, member_key).content.body == bytes([i])


def test_failed_decryption_changes_no_state() -> None:
    recv = tree()
    pm = protect_private(S, content(b"x"), SK, CTX, tree(), SENDER_DATA_SECRET)
    bad_ct = replace(pm, ciphertext=pm.ciphertext[:-1] + bytes([pm.ciphertext[-1] ^ 1]))
    with pytest.raises(DecryptError):  # content tag fails (sender data key is derived from the sample)
        unprotect_private(S, bad_ct, CTX, recv, SENDER_DATA_SECRET, member_key)
    bad_sd = replace(pm, encrypted_sender_data=bytes([pm.encrypted_sender_data[0] ^ 1]) + pm.encrypted_sender_data[1:])
    with pytest.raises(DecryptError):
        unprotect_private(S, bad_sd, CTX, recv, SENDER_DATA_SECRET, member_key)
    with pytest.raises(DecryptError):  # authenticated_data is in the AAD
        unprotect_private(S, replace(pm, authenticated_data=b"other"), CTX, recv, SENDER_DATA_SECRET, member_key)
    with pytest.raises(DecryptError):  # content_type is in the sender-data AAD
        unprotect_private(S, replace(pm, content_type=ContentType.PROPOSAL), CTX, recv, SENDER_DATA_SECRET, member_key)
    # a bad signature is detected after decryption: the key must not be consumed either
    with pytest.raises(SignatureError):
        unprotect_private(S, pm, CTX, recv, SENDER_DATA_SECRET, lambda i: OTHER_PK)
    assert unprotect_private(S, pm, CTX, recv, SENDER_DATA_SECRET, member_key).content.body == b"x"


@pytest.mark.parametrize("change", [{"epoch": 4}, {"group_id": b"other"}])
def test_private_wrong_epoch_or_group(change: dict[str, object]) -> None:
    pm = protect_private(S, content(b"x"), SK, CTX, tree(), SENDER_DATA_SECRET)
    with pytest.raises(ValidationError) as e:
        unprotect_private(S, pm, CTX.evolve(**change), tree(), SENDER_DATA_SECRET, member_key)
    assert section(e) == "6"
    with pytest.raises(DecryptError):  # and the fields are bound by the AAD
        moved = replace(pm, **change)  # type: ignore[arg-type]
        unprotect_private(S, moved, CTX.evolve(**change), tree(), SENDER_DATA_SECRET, member_key)


def test_only_members_send_private() -> None:
    with pytest.raises(ValidationError) as e:
        protect_private(S, content(REMOVE, Sender.external(0)), SK, CTX, tree(), SENDER_DATA_SECRET)
    assert section(e) == "6.3.2"


# -- hand-built PrivateMessages for the checks an honest sender never triggers --------------


def _raw_private(
    leaf: int, generation: int, plaintext: bytes, ct: ContentType = ContentType.PROPOSAL
) -> PrivateMessage:
    """Encrypt ``plaintext`` exactly as §6.3 does, but with sender data chosen by the test."""
    t = SecretTree(S, ENCRYPTION_SECRET, N_LEAVES, max_skip=1 << 20)  # the sender is not bound by our window
    use = t.key_for(min(leaf, N_LEAVES - 1), HANDSHAKE, generation)
    shell = PrivateMessage(CTX.group_id, CTX.epoch, ct, b"aad", b"", b"")
    ciphertext = S.aead.seal(use.key, use.nonce, shell.content_aad(), plaintext)  # reuse_guard 0000
    k, n = sender_data_key_nonce(S, SENDER_DATA_SECRET, ciphertext)
    esd = S.aead.seal(k, n, shell.sender_data_aad(), SenderData(leaf, generation, b"\x00" * 4).to_bytes())
    return replace(shell, encrypted_sender_data=esd, ciphertext=ciphertext)


def _signed_plaintext(padding: bytes) -> bytes:
    ac = authenticate(S, WireFormat.PRIVATE_MESSAGE, content(REMOVE), SK, CTX)
    return PrivateMessageContent(REMOVE, ac.auth).to_bytes() + padding


def test_raw_helper_matches_framing() -> None:
    pm = _raw_private(LEAF, 0, _signed_plaintext(bytes(3)))
    assert unprotect_private(S, pm, CTX, tree(), SENDER_DATA_SECRET, member_key).content == content(REMOVE)


@pytest.mark.parametrize("padding", [b"\x01", bytes(10) + b"\x80", b"\x00\x00\xff\x00"])
def test_nonzero_padding_rejected(padding: bytes) -> None:
    """§6.3.1: a receiver MUST verify that the padding has no non-zero octets."""
    recv = tree()
    with pytest.raises(ValidationError) as e:
        unprotect_private(
            S, _raw_private(LEAF, 0, _signed_plaintext(padding)), CTX, recv, SENDER_DATA_SECRET, member_key
        )
    assert section(e) == "6.3.1"
    # state untouched: generation 0 still usable
    pm = _raw_private(LEAF, 0, _signed_plaintext(b""))
    unprotect_private(S, pm, CTX, recv, SENDER_DATA_SECRET, member_key)


def test_sender_leaf_blank_or_out_of_range() -> None:
    """§6.3.2: the SenderData leaf index MUST identify a non-blank leaf."""
    with pytest.raises(ValidationError) as e:
        unprotect_private(S, _raw_private(2, 0, _signed_plaintext(b"")), CTX, tree(), SENDER_DATA_SECRET, member_key)
    assert section(e) == "6.3.2"
    with pytest.raises(ValidationError) as e:
        unprotect_private(S, _raw_private(9, 0, _signed_plaintext(b"")), CTX, tree(), SENDER_DATA_SECRET, member_key)
    assert section(e) == "6.3.2"


def test_generation_too_far_ahead() -> None:
    """§9.2: generations beyond the skip window are refused before deriving keys."""
    pm = _raw_private(LEAF, 5000, b"")
    with pytest.raises(ValidationError) as e:
        unprotect_private(S, pm, CTX, tree(), SENDER_DATA_SECRET, member_key)
    assert section(e) == "9.2"


def test_garbled_plaintext_is_decode_error() -> None:
    with pytest.raises(DecodeError):
        unprotect_private(S, _raw_private(LEAF, 0, b"\x00\x03\x00"), CTX, tree(), SENDER_DATA_SECRET, member_key)


def test_commit_without_tag_cannot_be_framed() -> None:
    with pytest.raises(ValidationError):
        protect_public(S, content(Commit()), SK, CTX, MEMBERSHIP_KEY)
    with pytest.raises(ValidationError):
        AuthenticatedContent(WireFormat.PRIVATE_MESSAGE, content(Commit()), FramedContentAuthData(b"s"))
