"""Randomised group histories: adds, removes, updates (by proposal and by path), PSKs,
external joins and application messages in random order; after every epoch all members
agree on the epoch authenticator, the exporter and the tree hash."""

from __future__ import annotations

import random

import pytest

from mls_pq.client import Client
from mls_pq.group import Group, GroupOptions

from ._helpers import Sim, received


def _step(sim: Sim, rng: random.Random) -> None:
    act = sim.active
    committer = rng.choice(act)
    i = sim.members.index(committer)
    op = rng.choice(["add", "remove", "update", "path", "proposals", "psk", "external", "app"])
    if op == "add" or len(act) < 3:
        sim.add_new(i, rng.randint(1, 3))
    elif op == "remove":
        victims = rng.sample([m.leaf_index for m in act if m is not committer], k=min(2, len(act) - 2))
        sim.commit(i, remove=victims)
    elif op == "update":
        sim.commit(i, path=True)
    elif op == "path":
        out = sim.commit(i, path=rng.random() < 0.5, add=[sim.key_package(b"k%d" % rng.randrange(1 << 30))[0]])
        sim.members.extend([])  # the added KeyPackage's owner never joins: a pending leaf
        del out
    elif op == "proposals":
        for proposer in rng.sample(act, k=min(3, len(act))):
            if rng.random() < 0.5:
                msg = proposer.propose_update()
            else:
                others = [m.leaf_index for m in sim.active if m is not proposer and m is not committer]
                if not others:
                    continue
                msg = proposer.propose_remove(rng.choice(others))
            sim.deliver(proposer, msg)
        if committer.active:
            sim.commit(sim.members.index(committer))
        else:
            sim.commit(sim.members.index(sim.active[0]))
    elif op == "psk":
        pid = committer.resumption_psk_id(epoch=committer.epoch)
        sim.commit(i, psks=[pid])
    elif op == "external":
        c = Client.generate(sim.suite, b"ext%d" % rng.randrange(1 << 30))
        g, commit = Group.join_external(committer.group_info(ratchet_tree=True), c.credential, c.signature_priv)
        sim.deliver(None, commit)
        sim.members.append(g)
    else:
        s = rng.choice(act)
        ct = s.encrypt(b"msg")
        for r in act:
            if r is not s:
                assert received(r, ct) == b"msg"
        return
    sim.agree()


@pytest.mark.parametrize(
    ("suite", "seed"), [(1, s) for s in range(6)] + [(0xF001, 6), (0xF00B, 7)], ids=lambda x: f"{x}"
)
def test_random_history(suite: int, seed: int) -> None:
    rng = random.Random(seed)
    wf = 2 if seed % 2 else 1
    sim = Sim.start(suite, 3, GroupOptions(handshake_wire_format=wf))
    for _ in range(25):
        _step(sim, rng)
    # every member that is still in can still talk to everybody
    for s in sim.active:
        ct = s.encrypt(b"bye")
        for r in sim.active:
            if r is not s:
                assert received(r, ct) == b"bye"
