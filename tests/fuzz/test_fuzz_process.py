"""Bounded fuzz of ``Group.process`` (RFC 9420 §6, §12; issue 8) with real messages of three
suite families.

* insider, structural: the FramedContent of a real proposal, commit or application message is
  changed field by field (group_id, epoch, sender, authenticated_data, the proposal, the
  commit's proposal list and path, the path's leaf node re-signed) and framed again with the
  sender's own keys, so it reaches the protocol checks of §12.2/§12.4.2;
* insider, bytes: the encoded FramedContent is mutated byte-wise, decoded, and framed again;
* outsider: the MLSMessage bytes themselves are mutated.

Each example asserts: only ``mls_pq.errors`` exceptions, a rejected message leaves bob
byte-identical, and bob then still processes the next valid commit (``_world.receive``).
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mls_pq.errors import MLSError
from mls_pq.extensions import APPLICATION_ID, EXTERNAL_SENDERS, REQUIRED_CAPABILITIES, Extension
from mls_pq.messages.commit import Commit
from mls_pq.messages.framing_structs import FramedContent, Sender, SenderType
from mls_pq.messages.leaf_node import Capabilities, LeafNode
from mls_pq.messages.proposals import (
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
from mls_pq.psk import PreSharedKeyID
from mls_pq.suites import get_suite

from ._world import (
    FUZZ,
    GROUP_ID,
    SUITES,
    World,
    content_of,
    mutate_bytes,
    receive,
    receive_pending,
    reframe,
    with_content,
    world,
)

INSIDER = ("update", "remove", "add", "gce", "commit", "commit_remove", "app")
EDITS = st.lists(st.tuples(st.integers(0, 5), st.integers(0, 1 << 16), st.integers(0, 255)), min_size=1, max_size=4)
SMALL = st.binary(max_size=24)
#: value-only edits (xor/set) of the FramedContent encoding, so most still decode
VALUE_EDITS = st.lists(st.tuples(st.integers(0, 1), st.integers(0, 1 << 16), st.integers(0, 255)), min_size=1, max_size=2)


def _proposals(w: World) -> st.SearchStrategy[Proposal]:
    """Proposals an insider might slip in: real bodies of the fixture and crafted ones."""
    cs = get_suite(w.suite)
    add = content_of(w, "add")[0].body
    upd = content_of(w, "update")[0].body
    assert isinstance(add, Proposal) and isinstance(upd, Proposal)
    exts = st.lists(
        st.builds(
            Extension,
            st.sampled_from([APPLICATION_ID, REQUIRED_CAPABILITIES, EXTERNAL_SENDERS, 0x0A0A, 0xFF00, 2, 4]),
            SMALL,
        ),
        max_size=3,
    ).map(tuple)
    psk = st.one_of(
        st.builds(PreSharedKeyID.external, SMALL, st.binary(min_size=cs.n_h, max_size=cs.n_h)),
        st.builds(
            PreSharedKeyID.resumption,
            st.integers(0, 4),
            st.sampled_from([GROUP_ID, b"other"]),
            st.integers(0, 4),
            st.binary(min_size=cs.n_h - 1, max_size=cs.n_h),
        ),
    )
    return st.one_of(
        st.just(add),
        st.just(upd),
        st.builds(lambda i: Proposal(Remove(i)), st.integers(0, 6)),
        psk.map(lambda p: Proposal(PreSharedKey(p))),
        st.builds(
            lambda g, v, s, e: Proposal(ReInit(g, v, s, e)),
            st.sampled_from([GROUP_ID, b"new group"]),
            st.integers(0, 2),
            st.sampled_from([w.suite, 0x0001, 0xF001, 0x9999]),
            exts,
        ),
        SMALL.map(lambda b: Proposal(ExternalInit(b))),
        exts.map(lambda e: Proposal(GroupContextExtensions(e))),
    )


def _leaf(w: World, leaf: LeafNode, data: st.DataObject) -> LeafNode | None:
    """The commit's leaf node with changed capabilities/extensions, re-signed by alice."""
    ints = st.lists(st.sampled_from([1, 2, 3, 4, 5, 0x0A0A, 0xFF00, w.suite, 0x9999]), max_size=4).map(tuple)
    caps = data.draw(st.builds(Capabilities, ints, ints, ints, ints, ints), label="capabilities")
    exts = data.draw(st.lists(st.builds(Extension, st.sampled_from([1, 2, 3, 0xFF00]), SMALL), max_size=2))
    choice = data.draw(st.integers(0, 2), label="leaf change")
    try:
        new = replace(leaf, capabilities=caps) if choice == 0 else replace(leaf, extensions=tuple(exts))
        if choice == 2:
            new = replace(leaf, signature_key=w.carol_state.own_leaf.signature_key)
        return new.sign(get_suite(w.suite), w.alice_state.private.signature_priv, GROUP_ID, 0)
    except MLSError:
        return None


def _mutate_commit(w: World, c: Commit, data: st.DataObject) -> Commit | None:
    props = list(c.proposals)
    op = data.draw(st.sampled_from(["append", "ref", "drop", "dup", "reverse", "no_path", "leaf", "nodes"]), label="op")
    if op == "append":
        props.append(ProposalOrRef(proposal=data.draw(_proposals(w))))
    elif op == "ref":
        props.append(ProposalOrRef(reference=data.draw(st.binary(min_size=0, max_size=64))))
    elif op == "drop" and props:
        del props[data.draw(st.integers(0, len(props) - 1))]
    elif op == "dup" and props:
        props.append(props[data.draw(st.integers(0, len(props) - 1))])
    elif op == "reverse":
        props.reverse()
    elif op == "no_path":
        return Commit(tuple(props), None)
    elif c.path is not None and op == "leaf":
        leaf = _leaf(w, c.path.leaf_node, data)
        return None if leaf is None else Commit(tuple(props), replace(c.path, leaf_node=leaf))
    elif c.path is not None and op == "nodes":
        nodes = list(c.path.nodes)
        k = data.draw(st.integers(0, 2))
        nodes = nodes[:-1] if k == 0 else (nodes + nodes[:1] if k == 1 else nodes[::-1])
        return Commit(tuple(props), replace(c.path, nodes=tuple(nodes)))
    return Commit(tuple(props), c.path)


def _mutate(w: World, content: FramedContent, data: st.DataObject) -> FramedContent | None:
    field = data.draw(st.sampled_from(["group_id", "epoch", "sender", "aad", "body", "body", "body"]), label="field")
    if field == "group_id":
        return with_content(content, group_id=data.draw(SMALL))
    if field == "epoch":
        return with_content(content, epoch=data.draw(st.sampled_from([0, 1, 3, 2**64 - 1])))
    if field == "sender":
        sender = data.draw(
            st.one_of(
                st.integers(0, 5).map(Sender.member),
                st.integers(0, 2).map(Sender.external),
                st.just(Sender(SenderType.NEW_MEMBER_PROPOSAL)),
                st.just(Sender(SenderType.NEW_MEMBER_COMMIT)),
            )
        )
        return with_content(content, sender=sender)
    if field == "aad":
        return with_content(content, authenticated_data=data.draw(SMALL))
    body = content.body
    if isinstance(body, Commit):
        new = _mutate_commit(w, body, data)
        return None if new is None else with_content(content, body=new)
    if isinstance(body, Proposal) or data.draw(st.booleans()):
        return with_content(content, body=data.draw(_proposals(w)))
    return with_content(content, body=data.draw(st.binary(max_size=32)))


@pytest.mark.parametrize("suite", SUITES, ids=lambda s: f"0x{s:04x}")
@settings(FUZZ, max_examples=300)
@given(data=st.data())
def test_insider_structural(suite: int, data: st.DataObject) -> None:
    w = world(suite)
    name = data.draw(st.sampled_from(INSIDER), label="message")
    content, tag, wf = content_of(w, name)
    new = _mutate(w, content, data)
    wf = data.draw(st.sampled_from([wf, 1, 2]), label="wire format")
    framed = None if new is None else reframe(w.sender[name], new, wf, tag)
    if framed is not None:
        receive(w, framed, "Group.process (insider, structural)")



@pytest.mark.parametrize("suite", SUITES, ids=lambda s: f"0x{s:04x}")
@settings(FUZZ, max_examples=120)
@given(name=st.sampled_from(INSIDER), edits=VALUE_EDITS, wf=st.sampled_from([1, 2]))
def test_insider_bytes(suite: int, name: str, edits: list[tuple[int, int, int]], wf: int) -> None:
    w = world(suite)
    content, tag, _ = content_of(w, name)
    try:
        new = FramedContent.from_bytes(mutate_bytes(content.to_bytes(), edits))
    except MLSError:
        return
    framed = reframe(w.sender[name], new, wf, tag)
    if framed is not None:
        receive(w, framed, "Group.process (insider, bytes)")



@pytest.mark.parametrize("suite", SUITES, ids=lambda s: f"0x{s:04x}")
@settings(FUZZ, max_examples=100)
@given(name=st.sampled_from([*INSIDER, "new_member"]), edits=EDITS)
def test_outsider_bytes(suite: int, name: str, edits: list[tuple[int, int, int]]) -> None:
    w = world(suite)
    receive(w, mutate_bytes(w.messages[name], edits), "Group.process (outsider, bytes)")



@pytest.mark.parametrize("suite", SUITES, ids=lambda s: f"0x{s:04x}")
@settings(FUZZ, max_examples=80)
@given(data=st.data())
def test_insider_to_a_member_with_a_pending_commit(suite: int, data: st.DataObject) -> None:
    """Carol's mutated, re-signed proposals and commits reach alice while her own commit is
    pending (RFC 9420 §12.4): a rejection keeps the pending commit, which still merges."""
    w = world(suite)
    name = data.draw(st.sampled_from(["update", "remove", "add", "gce", "commit_remove"]), label="message")
    content, tag, wf = content_of(w, name)
    new = _mutate(w, content, data)
    framed = None if new is None else reframe(w.sender[name], new, data.draw(st.sampled_from([wf, 2])), tag)
    if framed is not None:
        receive_pending(w, framed, "Group.process (insider, pending commit)")
