"""One full group life over EVERY registered cipher suite of the default profile (the seven
RFC 9420 suites and the eleven PQ/hybrid suites), plus the plugin suite 0xF0A1 (SLH-DSA)
when it is installed: create (§11), add several members by Welcome (§12.4.3.1), commits
with update paths and Update proposals from several members (§12.1.2, §12.4), removes by
value and by reference (§12.1.3), an external join (§12.4.3.2), an external PSK (§8.4),
application messages in and out of order (§6.3, §9.2), a subgroup branch (§11.3) and a
ReInit into a different suite (§11.2). After every commit every member must agree on the
epoch, the epoch authenticator (§8.7), an exporter value (§8.5) and the tree hash.

The engine never branches on a suite id: the same scenario runs unchanged for each.
"""

from __future__ import annotations

import os
from importlib import metadata

import pytest

from mls_pq.client import Client
from mls_pq.group import ApplicationMessage, Group, GroupOptions
from mls_pq.messages.framing_structs import WireFormat
from mls_pq.suites import ENTRY_POINT_GROUP, REGISTRY, CipherSuite

from ._helpers import Sim, apply, received

PLUGIN_SUITE = 0xF0A1
CORE = [i for i in REGISTRY.ids() if i != PLUGIN_SUITE]


def _plugin_installed() -> bool:
    return any(ep.name == "slhdsa" for ep in metadata.entry_points(group=ENTRY_POINT_GROUP))


def _params() -> list[object]:
    return [pytest.param(i, id=f"0x{i:04x}") for i in [*CORE, PLUGIN_SUITE]]


def _reinit_target(suite_id: int) -> int:
    """A different suite to reinitialise into: the next core suite (cyclically)."""
    if suite_id not in CORE:
        return CORE[0]
    return CORE[(CORE.index(suite_id) + 1) % len(CORE)]


def _check_app_messages(sim: Sim, senders: list[Group], shuffled: bool) -> None:
    """Each sender sends three messages; each receiver reads them (out of order if asked)."""
    order = [2, 0, 1] if shuffled else [0, 1, 2]
    for s in senders:
        cts = [s.encrypt(b"%d says %d" % (s.leaf_index, i), authenticated_data=b"ad%d" % i) for i in range(3)]
        for r in sim.active:
            if r is s:
                continue
            for i in order:
                res = apply(r, cts[i])
                assert isinstance(res, ApplicationMessage) and res.data == b"%d says %d" % (s.leaf_index, i)
                assert res.sender.index == s.leaf_index and res.authenticated_data == b"ad%d" % i


@pytest.mark.parametrize("suite_id", _params())
def test_group_life_over_every_suite(suite_id: int) -> None:
    if suite_id == PLUGIN_SUITE and not _plugin_installed():
        # as tests/suites/test_plugins.py: a counted skip locally, a failure under CI=true
        msg = "plugin mls-pq-slhdsa (suite 0xF0A1) is not installed (pip install ./suites/mls-pq-slhdsa)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    suite: CipherSuite = REGISTRY.get(suite_id)
    # (SLH-DSA signatures of the plugin suite are 17 KB, but the whole life still takes well
    # under a second there, so every suite runs the same scenario with the same members)
    # handshake messages as PublicMessage for half of the suites, PrivateMessage for the others
    wf = WireFormat.PRIVATE_MESSAGE if suite_id in CORE and CORE.index(suite_id) % 2 else WireFormat.PUBLIC_MESSAGE
    sim = Sim.start(suite, 1, GroupOptions(handshake_wire_format=int(wf)))
    for m in sim.members:
        m.psk_store[b"team"] = b"pre-shared out of band"

    def add(committer: int, k: int) -> None:
        new = sim.add_new(committer, k)
        for g in new:
            g.psk_store[b"team"] = b"pre-shared out of band"
        sim.agree()

    # create + add several members (two commits by two different members)
    add(0, 3)
    add(1, 1)
    assert len(sim.active) == 5
    # updates: a full commit, and an Update proposal covered by another member's commit
    sim.commit(1, path=True)
    sim.agree()
    p = sim.members[2].propose_update()
    sim.deliver(sim.members[2], p)
    out = sim.commit(3)
    assert {m.leaf_index for m in out.effects.updated} == {2, 3}
    sim.agree()
    # application messages both ways, in order and out of order
    _check_app_messages(sim, [sim.members[0], sim.members[3]], shuffled=False)
    _check_app_messages(sim, [sim.members[1]], shuffled=True)
    # removes: by value, and by reference (proposal from one member, commit by another)
    out = sim.commit(0, remove=[3])
    assert [m.leaf_index for m in out.effects.removed] == [3] and not sim.members[3].active
    sim.agree()
    p = sim.members[4].propose_remove(1)
    sim.deliver(sim.members[4], p)
    out = sim.commit(2)
    assert [m.leaf_index for m in out.effects.removed] == [1]
    sim.agree()
    # external join from a GroupInfo (takes the leftmost blank leaf)
    joiner = sim.client(b"external")
    g, commit = Group.join_external(
        sim.active[0].group_info(), joiner.credential, joiner.signature_priv, psk_store={b"team": b"pre-shared out of band"}
    )
    res = sim.deliver(None, commit)
    assert all(r.effects.external_join is not None for r in res)  # type: ignore[attr-defined]
    assert g.leaf_index == 1  # leftmost blank leaf (§12.4.3.2)
    sim.members.append(g)
    sim.agree()
    # an external PSK, proposed by the newcomer and committed by another member
    p = g.propose_psk(b"team")
    sim.deliver(g, p)
    before = g.epoch_authenticator
    out = sim.commit(sim.members.index(sim.active[0]))
    assert len(out.effects.psks) == 1
    sim.agree()
    assert g.epoch_authenticator != before
    _check_app_messages(sim, [g], shuffled=True)

    # branch: a subgroup of two members (§11.3)
    a, b = sim.active[0], sim.active[1]
    b_client = next(c for c in sim.clients.values() if c.credential == b.state.own_leaf.credential)
    kp_b, bundle_b = b_client.key_package()
    sub, out = a.branch(b"branch of " + suite.name.encode(), [kp_b])
    assert out.welcome is not None
    b_sub = Group.join(out.welcome, bundle_b, old_group=b)
    assert b_sub.epoch == 1 and b_sub.epoch_authenticator == sub.epoch_authenticator
    assert b_sub.export_secret("branch", b"", 32) == sub.export_secret("branch", b"", 32)
    assert received(b_sub, sub.encrypt(b"sub")) == b"sub"

    # ReInit into a different suite (§11.2): proposed by one member, committed by another
    target = REGISTRY.get(_reinit_target(suite_id))
    members = sim.active
    p = members[-1].propose_reinit(b"reinit of " + suite.name.encode(), target.id)
    sim.deliver(members[-1], p)
    out = sim.commit(sim.members.index(members[0]))
    assert out.effects.reinit is not None and out.effects.reinit.cipher_suite == target.id
    assert all(not m.active and m.state.reinit is not None for m in members)
    # the ReInit commit still starts a (final) epoch of the old group that all agree on
    assert len({(m.epoch, m.epoch_authenticator, m.export_secret("x", b"", 16)) for m in members}) == 1
    creator, others = members[0], members[1:]
    new_clients = {id(m): Client.generate(target, m.state.own_leaf.credential.identity) for m in others}
    kps = {id(m): new_clients[id(m)].key_package() for m in others}
    new_group, out = creator.reinit([kps[id(m)][0] for m in others], signature_priv=target.signature.generate()[0])
    assert new_group.suite.id == target.id and new_group.epoch == 1 and out.welcome is not None
    new_sim = Sim(target, [new_group])
    new_sim.members += [Group.join(out.welcome, kps[id(m)][1], old_group=m) for m in others]
    new_sim.agree()
    _check_app_messages(new_sim, [new_sim.members[1]], shuffled=True)
    new_sim.commit(1, path=True)
    new_sim.agree()
