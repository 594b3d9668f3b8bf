"""Scenario (issue 12): a combined APQ-MLS group (draft-ietf-mls-combiner) through more than 30
epochs with FULL and PARTIAL commits from several members, adds (Welcome pairs, §3.2), removes
(§3.3), an external join of both sessions (§3.2.2), FULL-flagged Updates (Fig. 1b),
application messages (§3.4) and a reload of a member from SQLite; at every epoch every member
agrees on both sessions' epochs, epoch authenticators and exporter values, APQInfo (§5.1.2)
and membership (§3.2.1)."""

from __future__ import annotations

import random
from pathlib import Path

from mls_pq.apq.client import APQClient
from mls_pq.apq.group import APQCommitOutput, APQGroup, apq_info_of
from mls_pq.storage import SQLiteStorage

T, PQ = 0x0001, 0xF006


def check_agreement(members: dict[bytes, APQGroup]) -> None:
    """Real values compared across members: both sessions' epochs, authenticators and
    exported secrets, the APQInfo of both sessions and the membership of both sessions."""
    groups = list(members.values())
    ref = groups[0]
    names = sorted(members)
    t_exp = ref.export_secret("scenario", ref.t.epoch.to_bytes(8, "big"), 32)
    pq_exp = ref.pq.export_secret("scenario", ref.pq.epoch.to_bytes(8, "big"), 32)
    for g in groups:
        assert g.epochs == ref.epochs
        assert g.t.epoch_authenticator == ref.t.epoch_authenticator
        assert g.pq.epoch_authenticator == ref.pq.epoch_authenticator
        assert g.export_secret("scenario", g.t.epoch.to_bytes(8, "big"), 32) == t_exp
        assert g.pq.export_secret("scenario", g.pq.epoch.to_bytes(8, "big"), 32) == pq_exp
        info = apq_info_of(g.t)
        assert info is not None and info == apq_info_of(g.pq)
        assert info.pq_epoch == g.pq.epoch and info.t_epoch <= g.t.epoch
        assert sorted(g.members()) == names
        assert sorted(g.identity_of(m.credential) for m in g.pq.members()) == names
    assert len({t_exp, pq_exp}) == 2


def deliver(members: dict[bytes, APQGroup], committer: bytes, out: APQCommitOutput) -> None:
    members[committer].merge_pending_commit()
    for name, g in members.items():
        if name != committer:
            r = g.process(out.commit)
            assert r.kind == "commit" and r.full == out.full and r.sender == committer


def test_combined_group_through_30_epochs(tmp_path: Path) -> None:
    rng = random.Random(12)
    db = tmp_path / "alice.sqlite"
    storage = SQLiteStorage(db)
    alice = APQClient.generate(T, PQ, b"alice")
    members = {b"alice": APQGroup.create(alice, storage=storage)}
    full_commits = partial_commits = 0

    def step(committer: bytes, full: bool, check: bool = True, **kw: object) -> APQCommitOutput:
        nonlocal full_commits, partial_commits
        t0, pq0 = members[committer].epochs
        out = members[committer].commit(full=full, **kw)  # type: ignore[arg-type]
        deliver(members, committer, out)
        full_commits += full
        partial_commits += not full
        if check:
            check_agreement(members)
        # a FULL commit advances both sessions, a PARTIAL one only the traditional one (§3.1)
        assert members[committer].epochs == (t0 + 1, pq0 + 1 if full else pq0)
        return out

    def add(committer: bytes, name: bytes) -> None:
        kp, bundle = APQClient.generate(T, PQ, name).key_packages()
        out = step(committer, True, check=False, add=[kp])
        assert out.welcome is not None
        new = APQGroup.join(out.welcome, bundle)
        assert new.must_send_full_commit
        members[name] = new
        check_agreement(members)
        step(name, True)  # §3.2: the joiner's first commit is FULL

    add(b"alice", b"bob")
    add(b"bob", b"carol")
    for i in range(40):
        names = sorted(members)
        committer = rng.choice(names)
        if i == 5:
            add(b"carol", b"erin")
        elif i == 9:
            # FULL-flagged Update from bob, committed in a FULL commit by alice (Fig. 1b)
            prop = members[b"bob"].propose_update()
            for n, g in members.items():
                if n != b"bob":
                    g.process(prop)
            out = step(b"alice", True)
            assert b"bob" in [m.credential.identity for m in out.t_effects.updated]
        elif i == 13:
            # removal in both sessions with a FULL commit (§3.3)
            out = members[b"carol"].commit(full=True, remove=[b"bob"])
            bob = members.pop(b"bob")
            bob.process(out.commit)
            assert not bob.active
            deliver(members, b"carol", out)
            full_commits += 1
            check_agreement(members)
        elif i == 17:
            # external join of both sessions in one APQMessagePair (§3.2.2)
            dave, commit = APQGroup.join_external(members[b"erin"].group_info(), APQClient.generate(T, PQ, b"dave"))
            for g in members.values():
                r = g.process(commit)
                assert (r.full, r.sender) == (True, b"dave")
            members[b"dave"] = dave
            full_commits += 1
            check_agreement(members)
        elif i == 22:
            # reload alice from SQLite (both sessions, one storage) and go on with the new object
            before = members[b"alice"]
            reloaded = APQGroup.load(storage, before.t.group_id, before.pq.group_id)
            assert reloaded.epochs == before.epochs
            members[b"alice"] = reloaded
            check_agreement(members)
            step(b"alice", True)
        elif i == 27:
            add(b"dave", b"frank")
        elif i % 4 == 0:
            step(committer, True)
        else:
            step(committer, False)
        if i % 6 == 1:
            sender = rng.choice(sorted(members))
            text = b"message %d" % i
            ct = members[sender].encrypt(text)
            for n, g in members.items():
                if n != sender:
                    r = g.process(ct)
                    assert (r.kind, r.data, r.sender) == ("application", text, sender)
    t_epoch, pq_epoch = members[b"alice"].epochs
    assert t_epoch >= 30 and pq_epoch >= 10
    assert full_commits >= 10 and partial_commits >= 10
    assert sorted(members) == [b"alice", b"carol", b"dave", b"erin", b"frank"]
    # alice's storage holds both sessions at the epochs she is at
    stored_t, stored_pq = storage.load_group(members[b"alice"].t.group_id), storage.load_group(members[b"alice"].pq.group_id)
    assert stored_t is not None and stored_pq is not None
    assert (stored_t.epoch, stored_pq.epoch) == (t_epoch, pq_epoch)
    storage.close()
