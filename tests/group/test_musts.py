"""RFC 9420 MUSTs that the engine did not enforce before (each test names the section; the
receiver's state must stay byte-for-byte unchanged when it rejects):

* §7.3 / §12.1.2: a LeafNode received in an Update or Add proposal is validated on receipt
  against the group (encryption key unique in the tree — for an Update in particular
  different from the replaced leaf's), so an invalid proposal is never cached and cannot
  make the receiver's own next commit fail.
* §12.2 (criteria of §12.1.2): the leaf of an external resync must replace the removed
  leaf's encryption_key.
* §12.4.2 / §11.2: after a ReInit the old group sends nothing more — no GroupInfo either.
* §12.4.3.1 / §12.4.3: group_id unique among the groups the client participates in — see
  tests/group/test_persistence.py::test_group_id_unique_among_stored_groups.
* §12.2: the committer's default selection of cached proposals never builds an invalid
  list from duplicate Adds/PSKs (it keeps one of each).
"""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from mls_pq.errors import StateError, ValidationError
from mls_pq.group import Group, GroupConfig
from mls_pq.group import external as ext_module
from mls_pq.group import validation as v
from mls_pq.messages.framing_structs import MLSMessage
from mls_pq.messages.key_package import KeyPackage
from mls_pq.messages.leaf_node import LeafNodeSource
from mls_pq.messages.proposals import Add, Proposal, Update
from mls_pq.treekem import create_update_path

from ._helpers import Sim, apply


def _rejects(g: Group, message: bytes, section: str) -> ValidationError:
    before = g.to_bytes()
    with pytest.raises(ValidationError) as ei:
        apply(g, message)
    assert g.to_bytes() == before
    assert ei.value.section == section, str(ei.value)
    return ei.value


def test_update_reusing_the_replaced_leaf_key_is_rejected_on_receipt(monkeypatch: pytest.MonkeyPatch) -> None:
    """§7.3, §12.1.2: "verify that ... encryption_key represents a different public key than
    the encryption_key in the leaf node being replaced by the Update proposal"."""
    sim = Sim.start(1, 3)
    b = sim.members[1]
    st = b.state
    leaf = replace(st.own_leaf, leaf_node_source=int(LeafNodeSource.UPDATE), lifetime=None, parent_hash=None)
    leaf = leaf.sign(st.suite, st.private.signature_priv, st.group_id, st.leaf_index)
    with pytest.raises(ValidationError) as ei:  # the sender's own check
        b.propose(Proposal(Update(leaf)))
    assert ei.value.section == "7.3"
    with monkeypatch.context() as m:  # forged by a sender that skips it
        m.setattr(v, "check_received_leaf", lambda *a, **k: None)
        forged = b.propose(Proposal(Update(leaf)))
    for r in (sim.members[0], sim.members[2]):
        assert "encryption key" in str(_rejects(r, forged, "7.3"))
    # nothing invalid was cached: the receivers' default commits still work
    assert sim.members[2].pending_proposals == ()
    sim.commit(2, path=True)
    sim.agree()


def test_add_with_an_encryption_key_already_in_the_tree_is_rejected_on_receipt(monkeypatch: pytest.MonkeyPatch) -> None:
    """§7.3: the LeafNode of an Add "received by a group member" must have an encryption_key
    unique among the members."""
    sim = Sim.start(1, 3)
    c = sim.client(b"copycat")
    kp_bytes, bundle = c.key_package()
    kp = MLSMessage.from_bytes(kp_bytes).body
    assert isinstance(kp, KeyPackage)
    stolen = sim.members[2].state.own_leaf.encryption_key
    leaf = replace(kp.leaf_node, encryption_key=stolen).sign(sim.suite, c.signature_priv)
    bad = replace(kp, leaf_node=leaf).sign(sim.suite, c.signature_priv)
    a = sim.members[0]
    with pytest.raises(ValidationError) as ei:
        a.propose(Proposal(Add(bad)))
    assert ei.value.section == "7.3"
    with monkeypatch.context() as m:
        m.setattr(v, "check_received_leaf", lambda *a, **k: None)
        forged = a.propose(Proposal(Add(bad)))
    for r in sim.members[1:]:
        _rejects(r, forged, "7.3")
    del bundle


def test_duplicate_cached_adds_and_psks_do_not_make_the_commit_invalid() -> None:
    """§12.2: a list with two Adds of the same client or two PreSharedKeys with one
    PreSharedKeyID is invalid; the committer covers one of each and the commit is valid."""
    sim = Sim.start(1, 3)
    for m in sim.members:
        m.psk_store[b"k"] = b"secret"
    kp, bundle = sim.key_package(b"invited twice")
    p1 = sim.members[0].propose_add(kp)
    sim.deliver(sim.members[0], p1)
    p2 = sim.members[1].propose_add(kp)  # the same KeyPackage proposed again
    sim.deliver(sim.members[1], p2)
    pid = sim.members[0].external_psk_id(b"k")
    for i in (0, 1):
        sim.deliver(sim.members[i], sim.members[i].propose_psk(pid))
    out = sim.commit(2)
    assert len(out.effects.added) == 1 and out.effects.psks == (pid,)
    assert out.welcome is not None
    sim.members.append(Group.join(out.welcome, bundle, psk_store={b"k": b"secret"}))
    sim.agree()


def test_external_resync_must_replace_the_encryption_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """§12.2: with a Remove, the LeafNode in the external commit's path "MUST meet the same
    criteria as would the LeafNode in an Update for the removed leaf" (§12.1.2: a different
    encryption_key)."""
    sim = Sim.start(1, 3)
    lost = sim.members[1]
    client = sim.clients[b"member-1"]
    old_pair = (lost.state.private.encryption_priv, lost.state.own_leaf.encryption_key)

    def reusing(*args: object, **kw: object) -> object:
        kw["leaf_key_pair"] = old_pair
        return create_update_path(*args, **kw)  # type: ignore[arg-type]

    gi = sim.members[0].group_info()
    with monkeypatch.context() as m:
        m.setattr(ext_module, "create_update_path", reusing)
        _, forged = Group.join_external(gi, client.credential, client.signature_priv, remove_leaf=1)
    for r in (sim.members[0], sim.members[2]):
        assert "encryption_key" in str(_rejects(r, forged, "12.2"))
    # a proper resync (fresh key) is accepted
    g, commit = Group.join_external(gi, client.credential, client.signature_priv, remove_leaf=1)
    sim.members[1] = g
    sim.deliver(g, commit)
    sim.agree()


def test_no_group_info_from_an_inactive_group() -> None:
    """§12.4.2: after a ReInit "the client MUST NOT use the group to send messages anymore"
    (a GroupInfo is an MLSMessage that would invite external joins into the dead group);
    a removed member's view is stale."""
    sim = Sim.start(1, 3)
    sim.commit(0, remove=[2])
    with pytest.raises(StateError):
        sim.members[2].group_info()
    p = sim.members[1].propose_reinit(b"new", 1)
    sim.deliver(sim.members[1], p)
    sim.commit(0)
    for g in sim.members[:2]:
        assert not g.active
        with pytest.raises(StateError):
            g.group_info()


def test_maximum_total_lifetime_is_enforced() -> None:
    """§7.2: "Applications MUST define a maximum total lifetime that is acceptable for a
    LeafNode, and reject any LeafNode where the total lifetime is longer than this
    duration" — ``GroupConfig.max_lifetime`` of the Group API, applied to Adds (sent and received) and
    to the tree a joiner receives."""
    from mls_pq.messages.leaf_node import Lifetime

    day = 86_400
    sim = Sim.start(1, 2)
    a, b = sim.members
    for m in (a, b):
        m.config = replace(m.config, max_lifetime=30 * day)
    now = int(time.time())
    long_kp, _ = sim.key_package(b"long-lived")  # the client default: 90 days + 1 hour
    with pytest.raises(ValidationError) as ei:
        a.commit(add=[long_kp])
    assert ei.value.section == "7.2" and "maximum" in str(ei.value)
    with pytest.raises(ValidationError) as ei:
        a.propose_add(long_kp)
    assert ei.value.section == "7.2"
    # a receiver with the maximum rejects a commit adding it (sent by a member without one)
    a.config = replace(a.config, max_lifetime=None)
    out = a.commit(add=[long_kp])
    a.discard_pending_commit()
    _rejects(b, out.commit, "7.2")
    # within the maximum: fine
    short_kp, bundle = sim.client(b"short-lived").key_package(lifetime=Lifetime(now - day, now + 10 * day))
    out = sim.commit(0, add=[short_kp])
    assert out.welcome is not None
    # the joiner's maximum covers every leaf of the received tree (the creator's leaf is long-lived)
    with pytest.raises(ValidationError) as ei:
        Group.join(out.welcome, bundle, config=GroupConfig(max_lifetime=30 * day))
    assert ei.value.section == "7.2"
    sim.members.append(Group.join(out.welcome, bundle, config=GroupConfig(max_lifetime=100 * day)))
    sim.agree()


def test_referenced_add_must_still_be_within_its_lifetime_when_committed() -> None:
    """§7.3: "If the LeafNode appears in a message being sent by the client, e.g., a
    Proposal or a Commit, then the client MUST verify that the current time is within the
    range of the lifetime field" — checked again when a cached Add is committed."""
    from mls_pq.messages.leaf_node import Lifetime

    t, day = 1_000_000_000, 86_400
    sim = Sim.start(1, 3)
    for m in sim.members:
        m.config = replace(m.config, clock=lambda: t)
    kp, _ = sim.client(b"short").key_package(lifetime=Lifetime(t - day, t + day))
    p = sim.members[0].propose_add(kp)
    sim.deliver(sim.members[0], p)
    ref = sim.members[1].pending_proposals[0].ref
    # the KeyPackage expired in the meantime
    sim.members[1].config = replace(sim.members[1].config, clock=lambda: t + 2 * day)
    with pytest.raises(ValidationError) as ei:
        sim.members[1].commit(references=[ref])
    assert ei.value.section == "7.3" and not sim.members[1].has_pending_commit
    out = sim.commit(1)  # the default selection leaves the expired Add out
    assert out.effects.added == () and out.welcome is None
    sim.agree()
