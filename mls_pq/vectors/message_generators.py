"""Generators for the message vector kinds ``message-protection`` and ``transcript-hashes``
(mlswg test-vectors.md), for any registered suite.

Every payload is built with the suite's own keys through the real framing code
(:mod:`mls_pq.framing`, :mod:`mls_pq.transcript`, :mod:`mls_pq.treekem`) and is valid in
the RFC 9420 sense, not only well-formed:

* message-protection, two cases per suite, both over a real two-member ratchet tree whose
  hash is the GroupContext ``tree_hash`` and whose leaf 1 holds ``signature_pub``:

  0. an Add proposal (a KeyPackage signed by the suite) and a Commit that references it
     (ProposalRef of the proposal's PublicMessage AuthenticatedContent, RFC 9420 §5.2) and
     carries an external PreSharedKey proposal by value; neither needs a path (§12.4);
  1. a Remove proposal (of leaf 0) and a path-only Commit whose UpdatePath is created by
     TreeKEM from leaf 1 (one node, one HPKE ciphertext to leaf 0, §7.6).

  ``application`` is random data. Messages are sent from leaf 1 of a two-leaf secret tree.

* transcript-hashes, two cases per suite (AuthenticatedContent wire format PublicMessage
  and PrivateMessage): a commit signed over its FramedContentTBS, with the confirmation tag
  ``MAC(confirmation_key, confirmed_transcript_hash_after)`` (§6.1, §8.2). The commit
  carries an external PreSharedKey proposal by value and a TreeKEM UpdatePath from leaf 1.

Random inputs come from the generator's seeded DRBG; signatures, KEM key generation and
encapsulations, and the PrivateMessage ``reuse_guard`` are randomised by their algorithms,
so those outputs are checked by verification rather than by value.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..framing import protect_private, protect_public, sign_content
from ..group_context import GroupContext
from ..messages.commit import Commit
from ..messages.credential import Credential, CredentialType
from ..messages.framing_structs import (
    AuthenticatedContent,
    FramedContent,
    FramedContentAuthData,
    MLSMessage,
    PublicMessage,
    Sender,
    WireFormat,
)
from ..messages.key_package import KeyPackage
from ..messages.leaf_node import Capabilities, LeafNode, LeafNodeSource, Lifetime
from ..messages.proposals import Add, PreSharedKey, Proposal, ProposalOrRef, Remove
from ..messages.version import PROTOCOL_VERSION_MLS10
from ..psk import PreSharedKeyID
from ..secret_tree import SecretTree
from ..suites import CipherSuite
from ..transcript import confirmation_tag, confirmed_transcript_hash, interim_transcript_hash
from ..tree.ratchet_tree import RatchetTree
from ..treekem import create_update_path

Case = dict[str, Any]
Generator = Callable[[CipherSuite, random.Random], list[Case]]
Register = Callable[[str], Callable[[Generator], Generator]]

#: the sender of every message-protection message (test-vectors.md)
SENDER_LEAF = 1
#: not_before .. not_after of generated key packages: always valid
FOREVER = Lifetime(0, (1 << 64) - 1)


def _rand(rng: random.Random, n: int) -> bytes:
    return rng.randbytes(n)


# ---- members built with the suite's keys (shared with tree_generators) ---------------------


def capabilities(s: CipherSuite) -> Capabilities:
    """Capabilities of a generated member: mls10, the suite, a basic credential."""
    return Capabilities(
        versions=(PROTOCOL_VERSION_MLS10,), cipher_suites=(s.id,), credentials=(int(CredentialType.BASIC),)
    )


def key_package_leaf(
    s: CipherSuite, rng: random.Random, identity: bytes, signature: tuple[bytes, bytes] | None = None
) -> tuple[LeafNode, bytes, bytes]:
    """A signed key_package LeafNode with a deterministic encryption key pair.

    Returns (leaf, encryption_priv, signature_priv)."""
    sig_priv, sig_pub = signature or s.signature.generate()
    enc_priv, enc_pub = s.derive_key_pair(_rand(rng, s.n_h))
    leaf = LeafNode(
        encryption_key=enc_pub,
        signature_key=sig_pub,
        credential=Credential.basic(identity),
        capabilities=capabilities(s),
        leaf_node_source=int(LeafNodeSource.KEY_PACKAGE),
        lifetime=FOREVER,
    ).sign(s, sig_priv)
    return leaf, enc_priv, sig_priv


def key_package(s: CipherSuite, rng: random.Random, identity: bytes) -> tuple[KeyPackage, bytes, bytes, bytes]:
    """A signed KeyPackage (RFC 9420 §10) of the suite.

    Returns (key_package, init_priv, encryption_priv, signature_priv)."""
    leaf, enc_priv, sig_priv = key_package_leaf(s, rng, identity)
    init_priv, init_pub = s.derive_key_pair(_rand(rng, s.n_h))
    kp = KeyPackage(PROTOCOL_VERSION_MLS10, s.id, init_pub, leaf).sign(s, sig_priv)
    return kp, init_priv, enc_priv, sig_priv


def two_member_tree(s: CipherSuite, rng: random.Random) -> tuple[RatchetTree, bytes, bytes]:
    """A ratchet tree of two members; leaf 1's key pair is returned as (tree, sig_priv, sig_pub)."""
    tree = RatchetTree(s)
    leaf0, _, _ = key_package_leaf(s, rng, b"member-0")
    leaf1, _, sig_priv = key_package_leaf(s, rng, b"member-1")
    tree.add_leaf(leaf0)
    tree.add_leaf(leaf1)
    return tree, sig_priv, leaf1.signature_key


# ---- message-protection ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Protector:
    """Frames bodies from leaf 1 as the vector's messages."""

    s: CipherSuite
    ctx: GroupContext
    signature_priv: bytes = field(repr=False)
    membership_key: bytes = field(repr=False)
    encryption_secret: bytes = field(repr=False)
    sender_data_secret: bytes = field(repr=False)

    def content(self, body: bytes | Proposal | Commit) -> FramedContent:
        return FramedContent(self.ctx.group_id, self.ctx.epoch, Sender.member(SENDER_LEAF), b"", body)

    def public(self, body: Proposal | Commit, tag: bytes | None = None) -> bytes:
        """MLSMessage(PublicMessage)."""
        msg = protect_public(self.s, self.content(body), self.signature_priv, self.ctx, self.membership_key, tag)
        return MLSMessage(msg).to_bytes()

    def private(self, body: bytes | Proposal | Commit, padding: int, tag: bytes | None = None) -> bytes:
        """MLSMessage(PrivateMessage); each message is read with a fresh two-member secret
        tree (test-vectors.md), so each is sent at generation 0."""
        tree = SecretTree(self.s, self.encryption_secret, 2)
        msg = protect_private(
            self.s,
            self.content(body),
            self.signature_priv,
            self.ctx,
            tree,
            self.sender_data_secret,
            tag,
            padding=padding,
        )
        return MLSMessage(msg).to_bytes()


def _message_protection_case(s: CipherSuite, rng: random.Random, variant: int) -> Case:
    tree, sig_priv, sig_pub = two_member_tree(s, rng)
    ctx = GroupContext(
        cipher_suite=s.id,
        group_id=_rand(rng, 16),
        epoch=rng.randrange(1, 1 << 32),
        tree_hash=tree.tree_hash(),
        confirmed_transcript_hash=_rand(rng, s.n_h),
    )
    p = _Protector(s, ctx, sig_priv, _rand(rng, s.n_h), _rand(rng, s.n_h), _rand(rng, s.n_h))
    # the next epoch's confirmation_key is not part of the vector: any suite-sized MAC
    tag = s.mac(_rand(rng, s.n_h), _rand(rng, s.n_h))
    application = _rand(rng, rng.randrange(1, 64))

    proposal: Proposal
    if variant == 0:
        kp, _, _, _ = key_package(s, rng, b"joiner")
        proposal = Proposal(Add(kp))
        proposal_pub = p.public(proposal)
        pub_msg = MLSMessage.from_bytes(proposal_pub).body
        assert isinstance(pub_msg, PublicMessage)
        ref = s.make_proposal_ref(pub_msg.authenticated_content().to_bytes())
        psk = Proposal(PreSharedKey(PreSharedKeyID.external(_rand(rng, 16), _rand(rng, s.n_h))))
        commit = Commit(proposals=(ProposalOrRef(reference=ref), ProposalOrRef(proposal=psk)))
    else:
        proposal = Proposal(Remove(0))
        proposal_pub = p.public(proposal)
        # a path-only commit from leaf 1: the HPKE context is the provisional GroupContext
        created = create_update_path(tree.copy(), SENDER_LEAF, ctx.evolve(epoch=ctx.epoch + 1), sig_priv)
        commit = Commit(path=created.update_path)
    return {
        "cipher_suite": s.id,
        "group_id": ctx.group_id.hex(),
        "epoch": ctx.epoch,
        "tree_hash": ctx.tree_hash.hex(),
        "confirmed_transcript_hash": ctx.confirmed_transcript_hash.hex(),
        "signature_priv": sig_priv.hex(),
        "signature_pub": sig_pub.hex(),
        "encryption_secret": p.encryption_secret.hex(),
        "sender_data_secret": p.sender_data_secret.hex(),
        "membership_key": p.membership_key.hex(),
        "proposal": proposal.to_bytes().hex(),
        "proposal_pub": proposal_pub.hex(),
        "proposal_priv": p.private(proposal, rng.randrange(17)).hex(),
        "commit": commit.to_bytes().hex(),
        "commit_pub": p.public(commit, tag).hex(),
        "commit_priv": p.private(commit, rng.randrange(17), tag).hex(),
        "application": application.hex(),
        "application_priv": p.private(application, rng.randrange(17)).hex(),
    }


def gen_message_protection(s: CipherSuite, rng: random.Random) -> list[Case]:
    return [_message_protection_case(s, rng, variant) for variant in range(2)]


# ---- transcript-hashes -------------------------------------------------------------------------


def gen_transcript_hashes(s: CipherSuite, rng: random.Random) -> list[Case]:
    out: list[Case] = []
    for wire_format in (WireFormat.PUBLIC_MESSAGE, WireFormat.PRIVATE_MESSAGE):
        tree, sig_priv, _ = two_member_tree(s, rng)
        ctx = GroupContext(
            cipher_suite=s.id,
            group_id=_rand(rng, 16),
            epoch=rng.randrange(1, 1 << 32),
            tree_hash=tree.tree_hash(),
            confirmed_transcript_hash=_rand(rng, s.n_h),
        )
        interim_before = _rand(rng, s.n_h)
        confirmation_key = _rand(rng, s.n_h)
        psk = Proposal(PreSharedKey(PreSharedKeyID.external(_rand(rng, 16), _rand(rng, s.n_h))))
        commit = Commit(
            proposals=(ProposalOrRef(proposal=psk),),
            path=create_update_path(tree.copy(), SENDER_LEAF, ctx.evolve(epoch=ctx.epoch + 1), sig_priv).update_path,
        )
        content = FramedContent(ctx.group_id, ctx.epoch, Sender.member(SENDER_LEAF), _rand(rng, 8), commit)
        signature = sign_content(s, wire_format, content, sig_priv, ctx)
        confirmed = confirmed_transcript_hash(s, interim_before, wire_format, content, signature)
        tag = confirmation_tag(s, confirmation_key, confirmed)
        ac = AuthenticatedContent(wire_format, content, FramedContentAuthData(signature, tag))
        out.append(
            {
                "cipher_suite": s.id,
                "confirmation_key": confirmation_key.hex(),
                "authenticated_content": ac.to_bytes().hex(),
                "interim_transcript_hash_before": interim_before.hex(),
                "confirmed_transcript_hash_after": confirmed.hex(),
                "interim_transcript_hash_after": interim_transcript_hash(s, confirmed, tag).hex(),
            }
        )
    return out


def register_generators(generator: Register) -> None:
    """Hook for :func:`mls_pq.vectors.generate._load_generators`."""
    generator("message-protection")(gen_message_protection)
    generator("transcript-hashes")(gen_transcript_hashes)
