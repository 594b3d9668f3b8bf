"""Storage writes proportional to the change (issue 9 item 2; RFC 9420 §9.2): the epoch blob
is written once per epoch, and an application message changes only the sender's ratchet row
(plus, the first time a sender is seen in the epoch, the O(log N) secret-tree node rows it
consumes and derives), in one compare-and-swap transaction."""

from __future__ import annotations

from pathlib import Path

import pytest

from mls_pq.errors import ConcurrentModificationError, ValidationError
from mls_pq.group import Group, StagedCommit
from mls_pq.group.persistence import tree_rows
from mls_pq.storage import MemoryStorage, SQLiteStorage, Storage

from ._helpers import Sim, apply, received

GID = b"test-group"


def _snapshot(s: Storage) -> tuple[int, bytes, dict[bytes, bytes]]:
    stored = s.load_group(GID)
    assert stored is not None
    return stored.version, stored.state, dict(stored.rows)


@pytest.fixture(params=["memory", "sqlite"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    return MemoryStorage() if request.param == "memory" else SQLiteStorage(tmp_path / "rows.sqlite")


def test_a_message_changes_only_the_senders_ratchet_row(storage: Storage) -> None:
    sim = Sim.start(1, 8)
    me = sim.members[7]
    me.save(storage)
    sender = sim.members[3]
    apply(me, sender.encrypt(b"first"))  # the sender is now seen in this epoch
    v0, blob0, rows0 = _snapshot(storage)
    apply(me, sender.encrypt(b"second"))
    v1, blob1, rows1 = _snapshot(storage)
    assert v1 == v0 and blob1 == blob0  # the epoch blob is not rewritten; the row CAS keeps the version
    changed = {k for k in rows0.keys() | rows1.keys() if rows0.get(k) != rows1.get(k)}
    key = b"r" + (3).to_bytes(4, "big") + b"\x02"  # leaf 3, application ratchet
    assert changed == {key}
    assert len(rows1[key]) < 200  # generation, chain secret, no skipped keys
    # what is stored is exactly the live member
    assert Group.load(storage, GID).to_bytes() == me.to_bytes()
    assert dict(tree_rows(me.state.secret_tree)) == rows1


def test_a_new_sender_changes_log_n_node_rows(storage: Storage) -> None:
    sim = Sim.start(1, 16)
    me = sim.members[0]
    me.save(storage)
    _, blob0, rows0 = _snapshot(storage)
    assert set(rows0) == {b"n" + (15).to_bytes(4, "big")}  # the epoch starts with the root only (§9.2)
    apply(me, sim.members[9].encrypt(b"hello"))
    _, blob1, rows1 = _snapshot(storage)
    assert blob1 == blob0
    changed = {k for k in rows0.keys() | rows1.keys() if rows0.get(k) != rows1.get(k)}
    ratchets = {k for k in changed if k[:1] == b"r"}
    nodes = {k for k in changed if k[:1] == b"n"}
    assert ratchets == {b"r" + (9).to_bytes(4, "big") + bytes([c]) for c in (1, 2)}
    assert len(nodes) <= 2 * 4 + 1  # root consumed, siblings on the path derived (log2 16 = 4)
    assert b"n" + (15).to_bytes(4, "big") not in rows1  # the root secret is deleted (§9.2)
    assert Group.load(storage, GID).to_bytes() == me.to_bytes()


def test_the_epoch_blob_is_written_once_per_epoch(storage: Storage) -> None:
    sim = Sim.start(1, 4)
    me = sim.members[2]
    me.save(storage)
    blobs = set()
    for i in range(6):
        apply(me, sim.members[i % 2].encrypt(b"m%d" % i))
        apply(sim.members[0], me.encrypt(b"own"))  # sending reserves a generation: a row too
        blobs.add(_snapshot(storage)[1])
    assert len(blobs) == 1
    sim.commit(0, path=True)
    assert _snapshot(storage)[1] not in blobs  # the commit wrote the next epoch's blob


def test_a_stale_row_write_is_refused(storage: Storage) -> None:
    sim = Sim.start(1, 3)
    sim.members[1].save(storage)
    a, b = Group.load(storage, GID), Group.load(storage, GID)
    m = sim.members[0].encrypt(b"x")
    apply(a, m)
    before = b.to_bytes()
    with pytest.raises(ConcurrentModificationError):
        apply(b, m)
    assert b.to_bytes() == before


def test_a_stale_epoch_change_is_refused(storage: Storage) -> None:
    """A process whose view of the rows is stale cannot move to the next epoch: it would
    carry its stale secret tree into the past epochs kept in the new state (a consumed key
    would come back, §9.2)."""
    sim = Sim.start(1, 3)
    sim.members[1].save(storage)
    a, b = Group.load(storage, GID), Group.load(storage, GID)
    late = sim.members[0].encrypt(b"late")
    apply(a, late)  # a row write: the version is unchanged
    out = sim.members[2].commit(path=True)
    apply(sim.members[0], out.commit)
    sim.members[2].merge_pending_commit()
    with pytest.raises(ConcurrentModificationError):
        apply(b, out.commit)
    b.reload()
    assert isinstance(apply(b, out.commit), StagedCommit)
    with pytest.raises(ValidationError, match="already used"):
        apply(Group.load(storage, GID), late)  # not readable again as a past-epoch message


def test_a_state_stored_before_rows_existed_is_moved_to_rows(storage: Storage) -> None:
    sim = Sim.start(1, 4)
    me = sim.members[1]
    apply(me, sim.members[0].encrypt(b"before"))
    storage.save_epoch(GID, me.epoch, me.state.to_bytes())  # the old layout: the tree in the blob
    loaded = Group.load(storage, GID)
    assert loaded.to_bytes() == me.to_bytes()
    _, blob, rows = _snapshot(storage)
    assert rows == dict(tree_rows(me.state.secret_tree)) and len(blob) < len(me.state.to_bytes())
    assert received(loaded, sim.members[2].encrypt(b"after")) == b"after"
    assert Group.load(storage, GID).to_bytes() == loaded.to_bytes()
