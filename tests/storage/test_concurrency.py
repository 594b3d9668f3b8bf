"""No lost update between processes sharing one SQLite file (mls_pq.storage.base,
"Optimistic concurrency"): REAL processes (multiprocessing, spawn) load the same stored
member, meet at a barrier and race for a write. One test per lost-update scenario:

1. both encrypt in the same epoch -> never the same generation, i.e. never the same AEAD
   key and nonce for two plaintexts (RFC 9420 §9.2, §15);
2. a stale process writes after another received a message -> the message is never
   accepted a second time after a reload (no replay, §9.2);
3. both commit before either merges -> the stored pending commit is never replaced
   silently, so only one commit can ever be merged (no fork, §12.4, §14).

Plus the same guarantees between two Group objects on one MemoryStorage (same contract).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mls_pq.errors import ConcurrentModificationError, StateError, ValidationError
from mls_pq.framing import decrypt_sender_data
from mls_pq.group import Group, StagedCommit
from mls_pq.messages.framing_structs import MLSMessage, PrivateMessage
from mls_pq.storage import MemoryStorage, SQLiteStorage

from ..group._helpers import Sim
from . import _race_child as child
from tests.group._helpers import apply, received

GID = b"test-group"
MODES = ["DELETE", "WAL"]
CTX = multiprocessing.get_context("spawn")


def _stored_member(tmp_path: Path, mode: str) -> tuple[Sim, str]:
    """A two-member group; member 1 is saved to a fresh SQLite file (and then only used
    through that file)."""
    sim = Sim.start(1, 2)
    db = str(tmp_path / f"shared-{mode}.sqlite")
    storage = SQLiteStorage(db, journal_mode=mode)
    sim.members[1].save(storage)
    storage.close()
    return sim, db


def _race(targets: list[tuple[Callable[..., None], tuple[Any, ...]]], *extra: Any) -> dict[str, tuple[str, Any]]:
    """Run each target in its own process with a shared barrier (and ``extra`` sync
    objects); returns name -> (outcome, payload)."""
    barrier = CTX.Barrier(len(targets))
    out = CTX.Queue()
    procs = [CTX.Process(target=fn, args=(*args, barrier, *extra, out)) for fn, args in targets]
    for p in procs:
        p.start()
    results = {}
    for _ in procs:
        name, outcome, payload = out.get(timeout=child.TIMEOUT * 2)
        results[name] = (outcome, payload)
    for p in procs:
        p.join(child.TIMEOUT)
        assert p.exitcode == 0
    return results


def _generation(receiver: Group, message: bytes) -> int:
    body = MLSMessage.from_bytes(message).body
    assert isinstance(body, PrivateMessage)
    return decrypt_sender_data(receiver.suite, body, receiver.state.secrets.sender_data_secret).generation


@pytest.mark.parametrize("block", [1, 32])
@pytest.mark.parametrize("mode", MODES)
def test_two_processes_encrypting_never_share_a_generation(tmp_path: Path, mode: str, block: int) -> None:
    """§9.2/§15: two processes that encrypt in the same epoch never use the same generation
    (the same key and nonce); the second writer's reservation fails and it retries after
    the first one's block (``reserve_block`` 1: the next generation, as before blocks)."""
    sim, db = _stored_member(tmp_path, mode)
    alice = sim.members[0]
    res = _race([(child.encrypt, (db, mode, GID, "p1", block)), (child.encrypt, (db, mode, GID, "p2", block))])
    assert sorted(outcome for outcome, _ in res.values()) == ["conflict", "ok"], res
    gens = {name: _generation(alice, ct) for name, (_, ct) in res.items()}
    assert sorted(gens.values()) == [0, block], gens  # two distinct generations, in order
    for name in sorted(res, key=gens.__getitem__):
        assert received(alice, res[name][1]) == name.encode()
    # the stored ratchet is past both blocks: a restarted process starts after them
    with SQLiteStorage(db, journal_mode=mode, reserve_block=block) as s:
        again = Group.load(s, GID)
        assert _generation(alice, again.encrypt(b"third")) == 2 * block


@pytest.mark.parametrize("mode", MODES)
def test_two_processes_sending_runs_reserve_disjoint_blocks(tmp_path: Path, mode: str) -> None:
    """§9.2/§15 with sending blocks (``reserve_block`` 4): two processes each send 24
    messages at the same time, reloading after each refused reservation. No generation is
    used twice, every message decrypts, and the gaps (abandoned reserved generations) are
    read over as forward jumps."""
    sim, db = _stored_member(tmp_path, mode)
    alice = sim.members[0]
    count, block = 24, 4
    res = _race(
        [(child.encrypt_many, (db, mode, GID, n, block, count)) for n in ("p1", "p2")]
    )
    assert all(outcome == "ok" for outcome, _ in res.values()), res
    sent = [(_generation(alice, ct), name, i, ct) for name, (_, (cts, _)) in res.items() for i, ct in enumerate(cts)]
    gens = [g for g, *_ in sent]
    assert len(set(gens)) == len(gens) == 2 * count  # never the same key and nonce
    for name in res:  # each process's own generations ascend
        mine = [g for g, n, *_ in sent if n == name]
        assert mine == sorted(mine)
    conflicts = sum(c for _, (_, c) in res.values())
    assert max(gens) < 2 * count + block * (conflicts + 2)  # a refused block costs at most one block
    for g, name, i, ct in sorted(sent):
        assert received(alice, ct) == f"{name}-{i}".encode()


@pytest.mark.parametrize("mode", MODES)
def test_stale_process_cannot_resurrect_a_consumed_key(tmp_path: Path, mode: str) -> None:
    """§9.2: process A receives m and stores the consumed key; process B, loaded before,
    then receives m2: its write is refused (ConcurrentModificationError), so A's deletion of
    m's key is not overwritten and m is rejected as a replay after a reload."""
    sim, db = _stored_member(tmp_path, mode)
    alice = sim.members[0]
    m, m2 = alice.encrypt(b"m"), alice.encrypt(b"m2")
    done = CTX.Event()
    barrier = CTX.Barrier(2)
    out = CTX.Queue()
    procs = [
        CTX.Process(target=child.receive_first, args=(db, mode, GID, m, barrier, done, out)),
        CTX.Process(target=child.receive_stale, args=(db, mode, GID, m2, barrier, done, out)),
    ]
    for p in procs:
        p.start()
    res = {}
    for _ in procs:
        name, outcome, payload = out.get(timeout=child.TIMEOUT * 2)
        res[name] = (outcome, payload)
    for p in procs:
        p.join(child.TIMEOUT)
        assert p.exitcode == 0
    assert res == {"A": ("ok", b"m"), "B": ("conflict", b"m2")}
    with SQLiteStorage(db, journal_mode=mode) as s:
        restored = Group.load(s, GID)
        before = restored.to_bytes()
        for replay in (m, m2):
            with pytest.raises(ValidationError, match="already used"):
                apply(restored, replay)
            assert restored.to_bytes() == before


@pytest.mark.parametrize("mode", MODES)
def test_two_processes_committing_cannot_fork_the_group(tmp_path: Path, mode: str) -> None:
    """§12.4/§14: two processes both commit before either merges. Only one commit is stored
    (and may be sent); the other process is refused and, after a reload, sees the pending
    commit instead of replacing it. Every member ends in the same epoch."""
    sim, db = _stored_member(tmp_path, mode)
    res = _race([(child.commit, (db, mode, GID, "p1")), (child.commit, (db, mode, GID, "p2"))])
    winners = [name for name, (outcome, _) in res.items() if outcome == "ok"]
    assert len(winners) == 1, res
    loser = "p2" if winners == ["p1"] else "p1"
    outcome, payload = res[loser]
    assert outcome == "conflict" and payload.startswith(b"StateError: a commit is already pending"), res
    sent = res[winners[0]][1]
    with SQLiteStorage(db, journal_mode=mode) as s:
        pc = s.load_pending_commit(GID)
        assert pc is not None
        member = Group.load(s, GID)
        assert member.has_pending_commit
        assert isinstance(apply(member, sent), StagedCommit)  # the echo of the one stored commit merges
        apply(sim.members[0], sent)
        sim.members[1] = member
        sim.agree()


# -- the same contract on MemoryStorage, two Group objects in one process ---------------------


def test_memory_storage_two_objects_encrypt() -> None:
    sim = Sim.start(1, 2)
    storage = MemoryStorage()
    sim.members[1].save(storage)
    a, b = Group.load(storage, GID), Group.load(storage, GID)
    ct = a.encrypt(b"a")
    before = b.to_bytes()
    with pytest.raises(ConcurrentModificationError):
        b.encrypt(b"b")
    assert b.to_bytes() == before  # refused before anything was encrypted
    b.reload()
    ct2 = b.encrypt(b"b")
    alice = sim.members[0]
    assert [_generation(alice, c) for c in (ct, ct2)] == [0, 1]


def test_memory_storage_stale_commit_and_receive() -> None:
    sim = Sim.start(1, 2)
    storage = MemoryStorage()
    sim.members[1].save(storage)
    a, b = Group.load(storage, GID), Group.load(storage, GID)
    out = a.commit(path=True)
    with pytest.raises(ConcurrentModificationError):
        b.commit(path=True)
    with pytest.raises(ConcurrentModificationError):
        apply(b, sim.members[0].encrypt(b"x"))
    b.reload()
    assert b.has_pending_commit
    with pytest.raises(StateError, match="already pending"):
        b.commit(path=True)
    stored = storage.load_pending_commit(GID)
    assert stored is not None and isinstance(apply(b, out.commit), StagedCommit)
