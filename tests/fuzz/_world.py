"""Real groups and "insider" re-framing for the bounded fuzz tests (issue 8).

A :class:`World` is a three-member group (alice 0, bob 1, carol 2) of one suite at epoch 2,
with PublicMessage handshakes, plus the real messages alice and carol send bob in that epoch.
Bob is kept as bytes (``Group.to_bytes()``) so every example starts from the same state.

*Insider* mutations change a message's FramedContent and then sign it again with the sender's
own signature key, recompute the membership tag with the epoch's membership key, or encrypt it
again under the sender's secret-tree ratchet (PrivateMessage), so the mutation passes the
cryptographic checks of RFC 9420 §6 and reaches the protocol logic (§12). A commit keeps its
original confirmation tag (re-deriving the next epoch's key schedule for a mutated commit is
the receiver's job): it is the last check, so everything before it is exercised.

Written by hand: test fixtures, nothing a library provides.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import cache

from hypothesis import HealthCheck, settings

from mls_pq.client import Client
from mls_pq.codec import Writer
from mls_pq.errors import MLSError
from mls_pq.framing import authenticate, membership_tag, private_message, unprotect_private
from mls_pq.group import Group, GroupConfig, GroupOptions, GroupState, KeyPackageBundle, StagedCommit
from mls_pq.group.external import new_member_add_proposal
from mls_pq.messages.framing_structs import (
    ContentType,
    FramedContent,
    MLSMessage,
    PrivateMessage,
    PublicMessage,
    WireFormat,
)
from mls_pq.messages.key_package import KeyPackage
from tests.group._helpers import apply

#: 2026-01-01: the clock of every fixture group (lifetimes never expire during a run)
NOW = 1_767_225_600
GROUP_ID = b"mls-pq hypothesis fuzz"

#: one fixed, derandomised profile: the default run is deterministic and bounded
FUZZ = settings(
    derandomize=True,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=list(HealthCheck),
)

#: suites of the default run: classical, hybrid X-Wing, pure ML-KEM with ML-DSA
SUITES = (0x0001, 0xF001, 0xF00A)


def clock() -> int:
    return NOW


@contextlib.contextmanager
def seeded_urandom(seed: int) -> Iterator[None]:
    """``os.urandom`` from a seeded PRNG while building fixtures (reproducible keys where the
    backends take their randomness from ``os.urandom``)."""
    rng = random.Random(seed)
    real = os.urandom
    os.urandom = rng.randbytes
    try:
        yield
    finally:
        os.urandom = real


@dataclass
class World:
    suite: int
    bob: bytes  # Group.to_bytes() of bob at epoch 2
    #: alice's and carol's states before they sent anything (immutable GroupState objects)
    alice_state: GroupState
    carol_state: GroupState
    #: name -> (MLSMessage bytes, sender state); each processes on its own from ``bob``
    messages: dict[str, bytes]
    sender: dict[str, GroupState]
    valid_next: bytes  # alice's commit (Add + path): proves bob still works
    alice_pending: bytes  # Group.to_bytes() of alice with that commit pending
    welcome: bytes
    joiner_bundle: KeyPackageBundle
    group_info: bytes  # alice's GroupInfo with the ratchet_tree extension
    key_package: bytes  # henry's KeyPackage (MLSMessage) bob may add
    henry: Client
    outsider: Client

    def fresh_bob(self) -> Group:
        return Group.from_bytes(self.bob, config=GroupConfig(clock=clock))


@cache
def world(suite: int) -> World:
    with seeded_urandom(suite):
        return _build(suite)


def _build(suite: int) -> World:
    pub = GroupOptions(handshake_wire_format=1)
    alice_c, bob_c, carol_c = (Client.generate(suite, n) for n in (b"alice", b"bob", b"carol"))
    config = GroupConfig(options=pub, clock=clock)
    alice = Group.create(suite, GROUP_ID, alice_c.credential, alice_c.signature_priv, config=config)
    kps = [c.key_package(now=NOW) for c in (bob_c, carol_c)]
    out = alice.commit(add=[kp for kp, _ in kps])
    alice.merge_pending_commit()
    assert out.welcome is not None
    bob = Group.join(out.welcome, kps[0][1], config=config)
    carol = Group.join(out.welcome, kps[1][1], config=config)
    up = carol.commit(path=True)
    carol.merge_pending_commit()
    apply(alice, up.commit)
    apply(bob, up.commit)
    assert alice.epoch == bob.epoch == carol.epoch == 2
    bob_bytes = bob.to_bytes()
    a0, c0 = alice.state, carol.state

    msgs: dict[str, bytes] = {}
    sender: dict[str, GroupState] = {}

    def put(name: str, who: GroupState, data: bytes) -> None:
        msgs[name], sender[name] = data, who

    put("app", a0, alice.encrypt(b"hello bob", authenticated_data=b"ad"))
    dave = Client.generate(suite, b"dave")
    dave_kp, _ = dave.key_package(now=NOW)
    put("update", c0, carol.propose_update())
    put("remove", c0, carol.propose_remove(0))
    put("add", c0, carol.propose_add(dave_kp))
    put("gce", c0, carol.propose_group_context_extensions(()))
    grace = Client.generate(suite, b"grace")
    grace_kp, grace_bundle = grace.key_package(now=NOW)
    gi = alice.group_info(ratchet_tree=True)
    c = alice.commit(add=[grace_kp], path=True, include_pending=False)
    put("commit", a0, c.commit)
    assert c.welcome is not None
    alice_pending = alice.to_bytes()
    put("commit_remove", c0, carol.commit(remove=[0], include_pending=False).commit)
    erin = Client.generate(suite, b"erin")
    erin_kp = MLSMessage.from_bytes(erin.key_package(now=NOW)[0]).body
    assert isinstance(erin_kp, KeyPackage)
    msgs["new_member"] = new_member_add_proposal(bob.suite, GROUP_ID, 2, erin_kp, erin.signature_priv)
    henry = Client.generate(suite, b"henry")
    return World(
        suite=suite,
        bob=bob_bytes,
        alice_state=a0,
        carol_state=c0,
        messages=msgs,
        sender=sender,
        valid_next=c.commit,
        alice_pending=alice_pending,
        welcome=c.welcome,
        joiner_bundle=grace_bundle,
        group_info=gi,
        key_package=henry.key_package(now=NOW)[0],
        henry=henry,
        outsider=Client.generate(suite, b"outsider"),
    )


# ---- framing with the sender's own keys ----------------------------------------------------------


def content_of(w: World, name: str) -> tuple[FramedContent, bytes | None, int]:
    """The FramedContent, confirmation tag and wire format of ``w.messages[name]``; a
    PrivateMessage is opened with a fresh copy of bob's state."""
    msg = MLSMessage.from_bytes(w.messages[name])
    body = msg.body
    if isinstance(body, PublicMessage):
        return body.content, body.auth.confirmation_tag, int(WireFormat.PUBLIC_MESSAGE)
    assert isinstance(body, PrivateMessage)
    st = w.fresh_bob().state
    ac = unprotect_private(
        st.suite, body, st.context, st.secret_tree.copy(), st.secrets.sender_data_secret, st.member_key()
    )
    return ac.content, ac.auth.confirmation_tag, int(WireFormat.PRIVATE_MESSAGE)


def reframe(st: GroupState, content: FramedContent, wire_format: int, confirmation_tag: bytes | None) -> bytes | None:
    """``content`` signed with ``st``'s signature key, with the membership tag of the epoch
    (PublicMessage) or encrypted under ``st``'s next handshake/application key
    (PrivateMessage). None when the mutation cannot be framed at all (e.g. a PrivateMessage
    from a non-member sender, or application data as a PublicMessage)."""
    suite = st.suite
    if content.content_type != ContentType.COMMIT:
        confirmation_tag = None
    elif confirmation_tag is None:
        confirmation_tag = bytes(suite.n_h)
    try:
        if wire_format == WireFormat.PRIVATE_MESSAGE and content.sender.is_member:
            wf = WireFormat.PRIVATE_MESSAGE
            ac = authenticate(suite, wf, content, st.private.signature_priv, st.context, confirmation_tag)
            return MLSMessage(private_message(suite, ac, st.secret_tree.copy(), st.secrets.sender_data_secret)).to_bytes()
        if content.content_type == ContentType.APPLICATION:
            return None
        wf = WireFormat.PUBLIC_MESSAGE
        ac = authenticate(suite, wf, content, st.private.signature_priv, st.context, confirmation_tag)
        tag = membership_tag(suite, st.secrets.membership_key, ac, st.context) if content.sender.is_member else None
        return MLSMessage(PublicMessage(content, ac.auth, tag)).to_bytes()
    except MLSError:
        return None


def with_content(content: FramedContent, **changes: object) -> FramedContent | None:
    try:
        return replace(content, **changes)  # type: ignore[arg-type]
    except MLSError:
        return None


# ---- outcome bookkeeping and the three assertions ---------------------------------------------------

#: entry point -> [inputs, rejected]; printed in the terminal summary (tests/fuzz/conftest.py)
COUNTS: dict[str, list[int]] = {}


def count(entry: str, rejected: bool) -> None:
    c = COUNTS.setdefault(entry, [0, 0])
    c[0] += 1
    c[1] += int(rejected)


def receive(w: World, message: bytes, entry: str = "Group.process") -> bool:
    """Bob processes ``message``: only mls_pq.errors may be raised, a rejection leaves him
    byte-identical, and afterwards he still processes the next valid commit. True if the
    message was accepted."""
    bob = w.fresh_bob()
    before = bob.to_bytes()
    try:
        apply(bob, message)
    except MLSError:
        count(entry, True)
        assert bob.to_bytes() == before, "a rejected message changed bob's state"
        accepted = False
    else:
        count(entry, False)
        accepted = True
    if bob.epoch == 2 and bob.active:
        res = apply(bob, w.valid_next)
        assert isinstance(res, StagedCommit) and bob.epoch == 3, "the next valid commit was not processed"
    return accepted


def receive_pending(w: World, message: bytes, entry: str) -> None:
    """Alice, with her commit pending, processes ``message``: only mls_pq.errors, a rejection
    leaves her (pending commit included) byte-identical, and she can still merge her commit
    when it comes back from the delivery service."""
    alice = Group.from_bytes(w.alice_pending, config=GroupConfig(clock=clock))
    before = alice.to_bytes()
    try:
        apply(alice, message)
    except MLSError:
        count(entry, True)
        assert alice.to_bytes() == before, "a rejected message changed alice's state or pending commit"
    else:
        count(entry, False)
    if alice.has_pending_commit:
        res = apply(alice, w.valid_next)
        assert isinstance(res, StagedCommit) and alice.epoch == 3, "alice could not merge her own commit"


def mutate_bytes(data: bytes, edits: list[tuple[int, int, int]]) -> bytes:
    """Apply ``(kind, position, value)`` edits: 0 xor a byte, 1 set, 2 insert, 3 delete,
    4 truncate, 5 duplicate a slice. Positions wrap around the current length."""
    b = bytearray(data)
    for kind, pos, val in edits:
        n = len(b)
        i = pos % (n + 1)
        if kind == 0 and n:
            b[i % n] ^= (val % 255) + 1
        elif kind == 1 and n:
            b[i % n] = val % 256
        elif kind == 2:
            b[i:i] = bytes([val % 256]) * (1 + val % 4)
        elif kind == 3 and n:
            del b[i % n : i % n + 1 + val % 8]
        elif kind == 4:
            del b[i:]
        elif kind == 5 and n:
            j = i % n
            b[j:j] = b[j : j + 1 + val % 64]
    return bytes(b)


# ---- the integrity digests of stored state (mls_pq.group.state: SHA-256(label || body)) ------------

STATE_LABEL = b"MLSPQ-GROUP-STATE"
GROUP_LABEL = b"MLSPQ-GROUP"


def seal(body: bytes, label: bytes) -> bytes:
    """``body`` with the trailing digest the library checks first, so a mutated state reaches
    the field-by-field validation behind it (as a forged or consistently corrupted file)."""
    return body + hashlib.sha256(label + body).digest()


def resealed_group(state_body: bytes) -> bytes:
    """``Group.to_bytes()`` (no pending commit) around a GroupState body, both sealed."""
    w = Writer().opaque(GROUP_LABEL).opaque(seal(state_body, STATE_LABEL)).uint8(0)
    return seal(w.getvalue(), GROUP_LABEL)
