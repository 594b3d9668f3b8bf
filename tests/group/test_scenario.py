"""End-to-end group scenarios (RFC 9420 §11, §12): create, add via Welcome, update-path
commits, removes, application messages both ways, epoch-authenticator agreement — over an
RFC 9420 suite and the PQ suites 0xF001 (X-Wing) and 0xF00B (ML-KEM-1024 + ML-DSA-87)."""

from __future__ import annotations

import pytest

from mls_pq.errors import StateError, ValidationError
from mls_pq.group import ApplicationMessage, Group, GroupOptions, StagedCommit
from mls_pq.messages.framing_structs import MLSMessage, PrivateMessage, PublicMessage, WireFormat
from mls_pq.messages.welcome import GroupInfo

from ._helpers import Sim, apply, received

SUITES = [0x0001, 0xF001, 0xF00B]


@pytest.mark.parametrize("suite", SUITES, ids=lambda s: f"0x{s:04x}")
@pytest.mark.parametrize("wf", [WireFormat.PUBLIC_MESSAGE, WireFormat.PRIVATE_MESSAGE], ids=["public", "private"])
def test_lifecycle(suite: int, wf: WireFormat) -> None:
    sim = Sim.start(suite, 1, GroupOptions(handshake_wire_format=int(wf)))
    a = sim.members[0]
    assert a.epoch == 0 and len(a.members()) == 1
    # Add 3 members in one commit (Welcome with the ratchet_tree extension)
    sim.add_new(0, 3)
    assert [m.leaf_index for m in sim.members] == [0, 1, 2, 3]
    sim.agree()
    # every member commits an update path in turn
    for i in range(4):
        out = sim.commit(i, path=True)
        assert out.effects.path and out.welcome is None
        msg = MLSMessage.from_bytes(out.commit).body
        assert isinstance(msg, PublicMessage if wf == WireFormat.PUBLIC_MESSAGE else PrivateMessage)
        sim.agree()
    # a new member added by someone else, then application data both ways
    sim.add_new(2, 1)
    sim.agree()
    assert len(sim.members[0].members()) == 5
    for s in sim.members:
        ct = s.encrypt(b"from %d" % s.leaf_index, authenticated_data=b"ad")
        for r in sim.members:
            if r is not s:
                res = apply(r, ct)
                assert isinstance(res, ApplicationMessage) and res.data == b"from %d" % s.leaf_index
                assert res.sender.index == s.leaf_index and res.authenticated_data == b"ad"
                assert res.sender_credential == s.state.own_leaf.credential
    # remove by value and by reference
    out = sim.commit(3, remove=[1])
    assert [m.leaf_index for m in out.effects.removed] == [1]
    assert not sim.members[1].active
    with pytest.raises(StateError):
        sim.members[1].encrypt(b"x")
    p = sim.members[4].propose_remove(2)
    sim.deliver(sim.members[4], p)
    out = sim.commit(0)
    assert [m.leaf_index for m in out.effects.removed] == [2]
    sim.agree()
    assert {m.leaf_index for m in sim.members[0].members()} == {0, 3, 4}
    # the removed leaf is reused by the next add (leftmost blank)
    new = sim.add_new(3, 1)
    assert new[0].leaf_index == 1
    sim.agree()


def test_tree_out_of_band_and_many_members() -> None:
    sim = Sim.start(1, 1, GroupOptions(ratchet_tree_extension=False))
    kps = [sim.key_package(b"m%d" % i) for i in range(9)]
    out = sim.members[0].commit(add=[k for k, _ in kps])
    sim.members[0].merge_pending_commit()
    assert out.welcome is not None
    with pytest.raises(Exception) as ei:
        Group.join(out.welcome, kps[0][1])
    assert "12.4.3.3" in str(ei.value)
    tree = sim.members[0].ratchet_tree()
    sim.members.extend(Group.join(out.welcome, b, ratchet_tree=tree) for _, b in kps)
    sim.agree()
    # a partial commit (adds only) has no path; removes force one
    o = sim.commit(5, add=[sim.key_package(b"late")[0]])
    assert not o.effects.path
    o = sim.commit(7, remove=[2, 4])
    assert o.effects.path
    sim.agree()


def test_own_commit_echo_merges_and_discard() -> None:
    sim = Sim.start(1, 3)
    a = sim.members[0]
    out = a.commit(path=True)
    assert a.has_pending_commit
    with pytest.raises(StateError):
        a.commit()
    a.discard_pending_commit()
    assert a.epoch == 1
    out = a.commit(path=True)
    res = apply(a, out.commit)  # the DS echoes our own commit: merged
    assert isinstance(res, StagedCommit) and a.epoch == 2
    sim.deliver(a, out.commit)
    sim.agree()


def test_pending_proposals_block_application_data() -> None:
    sim = Sim.start(1, 3)
    p = sim.members[1].propose_update()
    sim.deliver(sim.members[1], p)
    with pytest.raises(StateError):
        sim.members[0].encrypt(b"x")
    out = sim.commit(2)  # covers the update by reference
    assert [m.leaf_index for m in out.effects.updated] == [1, 2]
    sim.agree()
    sim.members[1].encrypt(b"now fine")


def test_update_proposal_with_new_signature_key() -> None:
    sim = Sim.start(1, 3)
    b = sim.members[1]
    sk, pk = sim.suite.signature.generate()
    p = b.propose_update(signature_priv=sk)
    sim.deliver(b, p)
    sim.commit(0)
    assert b.state.own_leaf.signature_key == pk
    sim.agree()
    ct = b.encrypt(b"signed with the new key")
    assert received(sim.members[2], ct) == b"signed with the new key"


def test_exporter_and_group_info() -> None:
    sim = Sim.start(1, 2)
    a, b = sim.members
    assert a.export_secret("label", b"c", 42) == b.export_secret("label", b"c", 42)
    assert len(a.export_secret("label", b"c", 42)) == 42
    gi = MLSMessage.from_bytes(a.group_info()).body
    assert isinstance(gi, GroupInfo)
    assert gi.group_context == a.group_context


def test_padding() -> None:
    sim = Sim.start(1, 2, GroupOptions(padding_block=64))
    ct = sim.members[0].encrypt(b"x")
    body = MLSMessage.from_bytes(ct).body
    assert isinstance(body, PrivateMessage)
    assert (len(body.ciphertext) - sim.suite.aead.n_t) % 64 == 0
    assert received(sim.members[1], ct) == b"x"


def test_out_of_order_application_messages() -> None:
    sim = Sim.start(1, 2, GroupOptions(window=4, max_skip=10))
    a, b = sim.members
    cts = [a.encrypt(b"%d" % i) for i in range(6)]
    for i in (5, 1, 3, 4):
        assert received(b, cts[i]) == b"%d" % i
    with pytest.raises(ValidationError):
        apply(b, cts[0])  # fell out of the window of 4 skipped keys (§9.2)
    with pytest.raises(ValidationError):
        apply(b, cts[5])  # replay
    many = [a.encrypt(b"y") for _ in range(12)]
    with pytest.raises(ValidationError):
        apply(b, many[-1])  # beyond max_skip


def test_commit_group_info_is_signed_and_current() -> None:
    from mls_pq.extensions import RATCHET_TREE

    sim = Sim.start(1, 3)
    a = sim.members[0]
    out = a.commit(path=True)  # no Welcome: GroupInfo built on demand, without the tree
    a.merge_pending_commit()
    gi = MLSMessage.from_bytes(out.group_info).body
    assert isinstance(gi, GroupInfo)
    assert gi.group_context == a.group_context and gi.extension(RATCHET_TREE) is None
    assert gi.verify(a.suite, a.state.own_leaf.signature_key)
    out = a.commit(add=[sim.key_package(b"n")[0]])  # with a Welcome: the same GroupInfo, with the tree
    a.merge_pending_commit()
    gi = MLSMessage.from_bytes(out.group_info).body
    assert isinstance(gi, GroupInfo) and gi.extension(RATCHET_TREE) is not None
    assert gi.group_context.epoch == a.epoch
