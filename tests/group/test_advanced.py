"""PSKs (§8.4, §8.6), ReInit (§11.2), branching (§11.3), GroupContextExtensions (§12.1.7),
external commits (§12.4.3.2) and external proposals (§12.1.8)."""

from __future__ import annotations

import pytest

from mls_pq.client import Client
from mls_pq.errors import SignatureError, StateError, ValidationError
from mls_pq.extensions import EXTERNAL_PUB, REQUIRED_CAPABILITIES, Extension
from mls_pq.group import Group, GroupOptions, ProposalMessage, StagedCommit
from mls_pq.group.external import external_proposal, new_member_add_proposal
from mls_pq.messages.external_senders import ExternalSender, external_senders_extension
from mls_pq.messages.framing_structs import MLSMessage
from mls_pq.messages.key_package import KeyPackage
from mls_pq.messages.proposals import Add, Proposal, Remove
from mls_pq.messages.welcome import GroupInfo
from mls_pq.psk import PSK_RESUMPTION, USAGE_APPLICATION

from ._helpers import Sim, apply, received


def test_external_psk_by_value_and_reference() -> None:
    sim = Sim.start(1, 3)
    for m in sim.members:
        m.psk_store[b"team-psk"] = b"shared out of band"
    before = sim.members[0].epoch_authenticator
    out = sim.commit(1, psks=[b"team-psk"])
    assert len(out.effects.psks) == 1 and not out.effects.path
    sim.agree()
    p = sim.members[2].propose_psk(b"team-psk")
    sim.deliver(sim.members[2], p)
    out = sim.commit(0)
    assert len(out.effects.psks) == 1
    sim.agree()
    assert sim.members[0].epoch_authenticator != before


def test_resumption_psk_of_earlier_epoch() -> None:
    sim = Sim.start(1, 3)
    sim.commit(0, path=True)
    sim.commit(1, path=True)
    g = sim.members[2]
    pid = g.resumption_psk_id(epoch=g.epoch - 1)
    assert pid.psktype == PSK_RESUMPTION and pid.usage == USAGE_APPLICATION
    out = sim.commit(2, psks=[pid])
    assert out.effects.psks == (pid,)
    sim.agree()
    # a PSK of an epoch nobody kept any more is unavailable
    old = g.resumption_psk_id(epoch=0)
    for _ in range(GroupOptions().resumption_epochs + 1):
        sim.commit(0, path=True)
    with pytest.raises(ValidationError) as ei:
        sim.members[1].commit(psks=[old])
    assert ei.value.section == "12.4.2"


def test_group_context_extensions() -> None:
    sim = Sim.start(1, 3)
    ext = Extension(0x0001, b"application id")  # application_id: a default extension
    out = sim.commit(0, group_context_extensions=[ext])
    assert out.effects.group_context_extensions == (ext,)
    assert all(m.group_context.extensions == (ext,) for m in sim.members)
    sim.agree()
    # required_capabilities that every member meets (credential type basic)
    req = Extension(REQUIRED_CAPABILITIES, bytes([0, 0, 2, 0, 1]))
    p = sim.members[1].propose_group_context_extensions([req])
    sim.deliver(sim.members[1], p)
    sim.commit(2)
    assert all(m.group_context.extension(REQUIRED_CAPABILITIES) == req for m in sim.members)
    sim.agree()
    # a newcomer must now list the required capabilities; everyone does by default
    sim.add_new(0, 1)
    sim.agree()


@pytest.mark.parametrize("new_suite", [0x0001, 0xF001])
def test_reinit(new_suite: int) -> None:
    sim = Sim.start(1, 3)
    p = sim.members[1].propose_reinit(b"reinit-group", new_suite)
    sim.deliver(sim.members[1], p)
    out = sim.commit(0)
    assert out.effects.reinit is not None and out.effects.reinit.cipher_suite == new_suite
    assert all(not m.active and m.state.reinit is not None for m in sim.members)
    with pytest.raises(StateError):
        sim.members[2].encrypt(b"no more")
    # member 2 recreates the group; the others bring KeyPackages for the new suite
    new_sim = Sim.start(new_suite, 1)
    kps = {}
    for i in (0, 1):
        name = b"member-%d" % i
        old = sim.clients[name]
        c = Client.generate(new_sim.suite, name) if new_suite != 1 else old
        kps[i] = c.key_package()
    creator = sim.members[2]
    sig = None if new_suite == 1 else new_sim.suite.signature.generate()[0]
    new_group, out = creator.reinit([kps[0][0], kps[1][0]], signature_priv=sig)
    assert new_group.epoch == 1 and new_group.group_id == b"reinit-group"
    assert new_group.suite.id == new_suite
    assert out.welcome is not None
    joined = [Group.join(out.welcome, kps[i][1], old_group=sim.members[i]) for i in (0, 1)]
    assert {g.epoch_authenticator for g in joined} == {new_group.epoch_authenticator}
    # without the old group (and its resumption PSK) the Welcome cannot be processed
    with pytest.raises((ValidationError, StateError)):
        Group.join(out.welcome, kps[0][1])


def test_branch() -> None:
    sim = Sim.start(1, 4)
    kps = {i: sim.clients[b"member-%d" % i].key_package() for i in (1, 3)}
    sub, out = sim.members[0].branch(b"subgroup", [kps[1][0], kps[3][0]])
    assert sub.epoch == 1
    assert out.welcome is not None
    joined = [Group.join(out.welcome, kps[i][1], old_group=sim.members[i]) for i in (1, 3)]
    assert {g.epoch_authenticator for g in joined} == {sub.epoch_authenticator}
    # a stranger cannot be in a branch (§11.3)
    stranger = Client.generate(sim.suite, b"stranger")
    kp_s = stranger.key_package()
    kp1 = sim.clients[b"member-1"].key_package()
    sub2, out2 = sim.members[0].branch(b"subgroup-2", [kp_s[0], kp1[0]])
    assert out2.welcome is not None
    with pytest.raises(ValidationError) as ei:
        Group.join(out2.welcome, kp1[1], old_group=sim.members[1])
    assert ei.value.section == "11.3"
    del sub2


@pytest.mark.parametrize("suite", [0x0001, 0xF001])
def test_external_commit_join_and_resync(suite: int) -> None:
    sim = Sim.start(suite, 3)
    gi = sim.members[1].group_info()
    gi_body = MLSMessage.from_bytes(gi).body
    assert isinstance(gi_body, GroupInfo)
    assert gi_body.extension(EXTERNAL_PUB) is not None
    newcomer = Client.generate(sim.suite, b"external joiner")
    g, commit = Group.join_external(gi, newcomer.credential, newcomer.signature_priv)
    results = sim.deliver(None, commit)
    assert all(r.effects.external_join is not None for r in results)  # type: ignore[attr-defined]
    assert results[0].effects.external_join.leaf_index == 3  # type: ignore[attr-defined]
    sim.members.append(g)
    sim.agree()
    assert received(g, sim.members[0].encrypt(b"welcome aboard")) == b"welcome aboard"
    # resync: member 1 lost its state and rejoins, removing its old leaf
    lost = sim.clients[b"member-1"]
    gi = sim.members[0].group_info()
    g1, commit = Group.join_external(gi, lost.credential, lost.signature_priv, remove_leaf=1)
    old = sim.members[1]
    sim.members[1] = g1
    res = sim.deliver(g1, commit)
    assert res[0].effects.removed[0].leaf_index == 1  # type: ignore[attr-defined]
    assert g1.leaf_index == 1
    sim.agree()
    # the stale state learns it was removed
    staged = old.process(commit)
    assert isinstance(staged, StagedCommit) and staged.removed_self and old.active  # not before the merge
    stale = staged.merge()
    assert stale.removed_self and not old.active


def test_external_commit_rules() -> None:
    sim = Sim.start(1, 2)
    gi = sim.members[0].group_info(external_pub=False)
    c = Client.generate(sim.suite, b"x")
    with pytest.raises(ValidationError) as ei:
        Group.join_external(gi, c.credential, c.signature_priv)
    assert ei.value.section == "12.4.3.2"
    gi = sim.members[0].group_info(ratchet_tree=False)
    with pytest.raises(ValidationError) as ei:
        Group.join_external(gi, c.credential, c.signature_priv)
    assert ei.value.section == "12.4.3.3"
    _, commit = Group.join_external(gi, c.credential, c.signature_priv, ratchet_tree=sim.members[0].ratchet_tree())
    # resync must present the removed member's credential
    gi = sim.members[0].group_info()
    with pytest.raises(ValidationError) as ei:
        Group.join_external(gi, c.credential, c.signature_priv, remove_leaf=1)
    assert ei.value.section == "12.2"
    # a stale GroupInfo: the commit is for an old epoch
    sim.commit(0, path=True)
    before = sim.members[1].to_bytes()
    with pytest.raises(ValidationError):
        apply(sim.members[1], commit)
    assert sim.members[1].to_bytes() == before


def test_external_proposals() -> None:
    suite_sim = Sim.start(1, 1)
    ds_sk, ds_pk = suite_sim.suite.signature.generate()
    from mls_pq.messages.credential import Credential

    ext = external_senders_extension([ExternalSender(ds_pk, Credential.basic(b"delivery service"))])
    sim = Sim.start(1, 1)
    sim.commit(0, group_context_extensions=[ext])
    sim.add_new(0, 2)
    g = sim.members[0]
    # the external sender proposes to add someone and to remove member 2
    kp_bytes, bundle = sim.key_package(b"invited")
    kp = MLSMessage.from_bytes(kp_bytes).body
    assert isinstance(kp, KeyPackage)
    p_add = external_proposal(sim.suite, g.group_id, g.epoch, Proposal(Add(kp)), ds_sk, 0)
    p_rem = external_proposal(sim.suite, g.group_id, g.epoch, Proposal(Remove(2)), ds_sk, 0)
    for p in (p_add, p_rem):
        res = sim.deliver(None, p)
        assert isinstance(res[0], ProposalMessage) and res[0].sender.sender_type == 2
        assert res[0].sender_credential == Credential.basic(b"delivery service")
    out = sim.commit(1)
    assert [m.leaf_index for m in out.effects.removed] == [2]
    assert out.welcome is not None
    sim.members.append(Group.join(out.welcome, bundle))
    sim.agree()
    # an unknown sender index or a wrong key is rejected
    g = sim.members[0]
    bad = external_proposal(sim.suite, g.group_id, g.epoch, Proposal(Remove(1)), ds_sk, 1)
    with pytest.raises(ValidationError):
        apply(g, bad)
    other_sk, _ = sim.suite.signature.generate()
    bad = external_proposal(sim.suite, g.group_id, g.epoch, Proposal(Remove(1)), other_sk, 0)
    with pytest.raises(SignatureError):
        apply(g, bad)
    # a would-be member proposes its own Add
    kp2_bytes, bundle2 = sim.key_package(b"self-invited")
    kp2 = MLSMessage.from_bytes(kp2_bytes).body
    assert isinstance(kp2, KeyPackage)
    p = new_member_add_proposal(sim.suite, g.group_id, g.epoch, kp2, bundle2.signature_priv)
    sim.deliver(None, p)
    out = sim.commit(0)
    assert len(out.effects.added) == 1


def test_group_info_round_trip() -> None:
    sim = Sim.start(0xF00B, 2)
    gi = MLSMessage.from_bytes(sim.members[0].group_info()).body
    assert isinstance(gi, GroupInfo)
    signer = sim.members[0].state.own_leaf.signature_key
    assert gi.verify(sim.suite, signer)
