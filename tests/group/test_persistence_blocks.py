"""Sending reservations in blocks and non-durable receive writes (mls_pq.storage.base,
"Sending reservations in blocks", "Durability of received messages"; RFC 9420 §9.2, §15:
a generation's key and nonce are never used twice, also across a restart)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mls_pq.errors import ConcurrentModificationError, MLSError, ValidationError
from mls_pq.framing import decrypt_sender_data
from mls_pq.group import Group, GroupOptions
from mls_pq.group.persistence import advanced, block_size, own_row_key
from mls_pq.messages.framing_structs import MLSMessage, PrivateMessage
from mls_pq.secret_tree import APPLICATION, RatchetPosition
from mls_pq.storage import DEFAULT_RESERVE_BLOCK, MemoryStorage, SQLiteStorage, Storage

from ._helpers import Sim, apply, received

GID = b"test-group"


def _generation(receiver: Group, message: bytes) -> int:
    body = MLSMessage.from_bytes(message).body
    assert isinstance(body, PrivateMessage)
    return decrypt_sender_data(receiver.suite, body, receiver.state.secrets.sender_data_secret).generation


def _stored_own(storage: Storage, g: Group) -> RatchetPosition:
    rows = dict(storage.load_rows(GID, g.epoch))
    return RatchetPosition.from_bytes(g.suite, rows[own_row_key(g.leaf_index)])


@pytest.fixture(params=["memory", "sqlite-wal", "sqlite-delete"])
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., Storage]]:
    made: list[Storage] = []

    def mk(**kw: Any) -> Storage:
        if request.param == "memory":
            s: Storage = MemoryStorage(**kw)
        else:
            mode = "WAL" if request.param == "sqlite-wal" else "DELETE"
            s = SQLiteStorage(tmp_path / f"m{len(made)}.sqlite", journal_mode=mode, **kw)
        made.append(s)
        return s

    yield mk
    for s in made:
        s.close()


def test_defaults_and_bounds() -> None:
    assert DEFAULT_RESERVE_BLOCK == 32
    assert MemoryStorage().reserve_block == 1
    for bad in (0, -1, 1025, True, 2.0):
        with pytest.raises(MLSError, match="reserve_block"):
            MemoryStorage(reserve_block=bad)  # type: ignore[arg-type]


def test_a_block_is_written_once_and_a_restart_continues_after_it(make: Callable[..., Storage]) -> None:
    sim = Sim.start(1, 2)
    alice = sim.members[0]
    storage = make(reserve_block=4)
    me = sim.members[1]
    me.save(storage)
    cts = [me.encrypt(b"m%d" % i) for i in range(3)]
    assert [_generation(alice, c) for c in cts] == [0, 1, 2]
    snapshot = storage.load_group(GID)
    assert _stored_own(storage, me).generation == 4  # generations 0..3 reserved by one write
    pos = me.state.secret_tree.position(me.leaf_index, APPLICATION)
    assert pos is not None and pos.generation == 3  # the in-memory ratchet is behind the stored one
    assert advanced(me.suite, pos, 1) == _stored_own(storage, me)  # the same chain
    cts.append(me.encrypt(b"m3"))  # the last reserved generation: no write
    assert storage.load_group(GID) == snapshot
    cts.append(me.encrypt(b"m4"))  # the next block: 4..7
    assert _generation(alice, cts[-1]) == 4 and _stored_own(storage, me).generation == 8
    cts.append(me.encrypt(b"m5"))
    for i, c in enumerate(cts):
        assert received(alice, c) == b"m%d" % i
    # a crash: the restarted member continues after the stored block (6, 7 are never used)
    restarted = Group.load(storage, GID)
    again = restarted.encrypt(b"after restart")
    assert _generation(alice, again) == 8
    assert received(alice, again) == b"after restart"  # a gap of 2: a forward jump


def test_block_of_one_writes_every_message_and_restores_identically(make: Callable[..., Storage]) -> None:
    sim = Sim.start(1, 2)
    storage = make(reserve_block=1)
    me = sim.members[1]
    me.save(storage)
    for i in range(3):
        before = storage.load_rows(GID, me.epoch)
        apply(sim.members[0], me.encrypt(b"x"))
        assert storage.load_rows(GID, me.epoch) != before
        assert _stored_own(storage, me).generation == i + 1
        assert Group.load(storage, GID).to_bytes() == me.to_bytes()


def test_block_is_capped_by_the_forward_distance() -> None:
    sim = Sim.start(1, 2, GroupOptions(max_skip=5))
    tree = sim.members[1].state.secret_tree
    assert block_size(tree, 32) == 5 and block_size(tree, 3) == 3 and block_size(tree, 1) == 1
    storage = MemoryStorage(reserve_block=32)
    me = sim.members[1]
    me.save(storage)
    me.encrypt(b"x")
    assert _stored_own(storage, me).generation == 5
    restarted = Group.load(storage, GID)
    assert received(sim.members[0], restarted.encrypt(b"y")) == b"y"  # 5 ahead: accepted


def test_epoch_changes_and_receiving_during_a_block(make: Callable[..., Storage]) -> None:
    """The stored own row is ahead of the in-memory one while a block lasts: receiving
    (rows of other senders) and leaving the epoch (``expected_rows``) still work."""
    sim = Sim.start(1, 3)
    storage = make(reserve_block=8)
    me = sim.members[1]
    me.save(storage)
    for other in (0, 2):
        apply(sim.members[other], me.encrypt(b"own"))
        assert received(me, sim.members[other].encrypt(b"in")) == b"in"
    sim.commit(0, path=True)  # `me` processes a commit: one save_epoch naming the reserved row
    assert storage.load_group(GID).epoch == me.epoch  # type: ignore[union-attr]
    ct = me.encrypt(b"new epoch")
    assert _generation(sim.members[0], ct) == 0 and _stored_own(storage, me).generation == 8
    sim.deliver(me, ct)
    sim.commit(1, path=True)  # `me` commits and merges during its block
    assert Group.load(storage, GID).to_bytes() == me.to_bytes()
    sim.agree()


def test_reload_gives_up_the_rest_of_the_block(make: Callable[..., Storage]) -> None:
    sim = Sim.start(1, 2)
    storage = make(reserve_block=4)
    me = sim.members[1]
    me.save(storage)
    first = me.encrypt(b"a")
    me.reload()
    second = me.encrypt(b"b")
    alice = sim.members[0]
    assert [_generation(alice, c) for c in (first, second)] == [0, 4]


def test_two_objects_reserve_disjoint_blocks() -> None:
    """Two Group objects on one storage (as two processes on one file): the second one's
    reservation is refused while the first one's block is in use, and after a reload it
    sends after that block; the first one's next block is refused in turn."""
    sim = Sim.start(1, 2)
    storage = MemoryStorage(reserve_block=4)
    sim.members[1].save(storage)
    a, b = Group.load(storage, GID), Group.load(storage, GID)
    alice = sim.members[0]
    cts = [a.encrypt(b"a0")]
    before = b.to_bytes()
    with pytest.raises(ConcurrentModificationError):
        b.encrypt(b"b0")
    assert b.to_bytes() == before
    b.reload()
    cts += [b.encrypt(b"b0"), a.encrypt(b"a1"), a.encrypt(b"a2"), a.encrypt(b"a3")]
    with pytest.raises(ConcurrentModificationError):
        a.encrypt(b"a4")  # a's next block would overlap b's
    a.reload()
    cts.append(a.encrypt(b"a4"))
    assert [_generation(alice, c) for c in cts] == [0, 4, 1, 2, 3, 8]


def test_received_application_rows_are_not_durable_everything_else_is(tmp_path: Path) -> None:
    """SQLite WAL: a received application message's row write is committed with
    synchronous=NORMAL; a sending reservation, a proposal and an epoch change with FULL;
    the connection is FULL again after each write."""
    sim = Sim.start(1, 3)
    storage = SQLiteStorage(tmp_path / "w.sqlite", journal_mode="WAL", reserve_block=2)
    seen: list[int] = []
    conn = storage._conn
    assert conn is not None
    storage._hook = lambda point: seen.append(conn.execute("PRAGMA synchronous").fetchone()[0]) if point == "begin" else None
    me = sim.members[1]
    me.save(storage)
    seen.clear()
    apply(me, sim.members[0].encrypt(b"in"))  # application: NORMAL (1)
    apply(sim.members[0], me.encrypt(b"out"))  # reservation: FULL (2)
    sim.deliver(sim.members[2], sim.members[2].propose_update())  # proposal: FULL
    sim.commit(0)  # epoch change: FULL
    assert seen == [1, 2, 2, 2]
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2
    storage._hook = None
    storage.close()
    # the non-durable write is there after a restart (a process crash keeps the WAL)
    with SQLiteStorage(tmp_path / "w.sqlite", journal_mode="WAL") as s:
        assert Group.load(s, GID).epoch == me.epoch


def test_rollback_journal_mode_stays_full(tmp_path: Path) -> None:
    sim = Sim.start(1, 2)
    storage = SQLiteStorage(tmp_path / "d.sqlite", journal_mode="DELETE")
    seen: list[int] = []
    conn = storage._conn
    assert conn is not None
    storage._hook = lambda point: seen.append(conn.execute("PRAGMA synchronous").fetchone()[0]) if point == "begin" else None
    me = sim.members[1]
    me.save(storage)
    seen.clear()
    apply(me, sim.members[0].encrypt(b"in"))
    assert seen == [2]
    storage._hook = None
    storage.close()


_CRASHING_CHILD = """
import os, signal, sys
from mls_pq.group import Group
from mls_pq.storage import SQLiteStorage
db, msg_in, ct_out = sys.argv[1:4]
s = SQLiteStorage(db, journal_mode="WAL", reserve_block=4)
g = Group.load(s, b"test-group")
assert g.process(open(msg_in, "rb").read()).data == b"received"
open(ct_out, "wb").write(g.encrypt(b"sent"))
os.kill(os.getpid(), signal.SIGKILL)  # a crash: nothing closed, nothing flushed by us
"""


def test_a_process_crash_keeps_the_non_durable_receive_and_the_reservation(tmp_path: Path) -> None:
    """A received application message's row (written with synchronous=NORMAL) and a sending
    reservation survive a process killed right after them: the message is not accepted a
    second time, and the restarted member sends after the reserved block (RFC 9420 §9.2)."""
    import signal
    import subprocess
    import sys

    sim = Sim.start(1, 2)
    db = tmp_path / "crash.sqlite"
    with SQLiteStorage(db, journal_mode="WAL", reserve_block=4) as s:
        sim.members[1].save(s)
    m = sim.members[0].encrypt(b"received")
    (tmp_path / "m.bin").write_bytes(m)
    proc = subprocess.run(
        [sys.executable, "-c", _CRASHING_CHILD, str(db), str(tmp_path / "m.bin"), str(tmp_path / "ct.bin")],
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    alice = sim.members[0]
    sent = (tmp_path / "ct.bin").read_bytes()
    assert _generation(alice, sent) == 0 and received(alice, sent) == b"sent"
    with SQLiteStorage(db, journal_mode="WAL", reserve_block=4) as s:
        restarted = Group.load(s, GID)
        with pytest.raises(ValidationError, match="already used"):
            apply(restarted, m)
        again = restarted.encrypt(b"again")
    assert _generation(alice, again) == 4 and received(alice, again) == b"again"
