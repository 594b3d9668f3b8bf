"""``Storage.atomic()``: several writes commit together or not at all (contract in
mls_pq/storage/base.py, "Transactions spanning several writes"), on every back end; and a
process killed inside the block leaves the SQLite file as before the block."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mls_pq.errors import ConcurrentModificationError, StateError
from mls_pq.storage import SQLiteStorage, Storage

from .conftest import Factory, cur, stored

A, B = b"session-t", b"session-pq"


class Crash(Exception):
    """Stands for a crash between two writes of one block."""


def two_groups(s: Storage) -> tuple[int, int]:
    va = s.save_epoch(A, 1, b"a1", rows=[(b"r", b"a1-row")])
    vb = s.save_epoch(B, 1, b"b1", resumption_psk=b"psk-b1")
    return va, vb


def test_both_writes_commit_together(storage: Storage) -> None:
    va, vb = two_groups(storage)
    with storage.atomic():
        va2 = storage.save_epoch(A, 2, b"a2", expected_version=va)
        vb2 = storage.save_epoch(B, 2, b"b2", expected_version=vb)
        assert stored(storage, A).epoch == 2  # the block sees its own writes
    assert (stored(storage, A).epoch, stored(storage, A).state, stored(storage, A).version) == (2, b"a2", va2)
    assert (stored(storage, B).epoch, stored(storage, B).state, stored(storage, B).version) == (2, b"b2", vb2)


def test_crash_between_the_two_writes_leaves_both_old(storage: Storage) -> None:
    va, vb = two_groups(storage)
    before_a, before_b = stored(storage, A), stored(storage, B)
    with pytest.raises(Crash), storage.atomic():
        storage.save_epoch(A, 2, b"a2", expected_version=va, resumption_psk=b"psk-a2")
        storage.save_pending_commit(B, 1, b"pending", expected_version=vb)
        raise Crash
    assert stored(storage, A) == before_a and stored(storage, B) == before_b
    assert storage.load_pending_commit(B) is None
    assert storage.list_resumption_psk_epochs(A) == [] and storage.list_epochs(A) == [1]
    # the versions were not consumed: the old ones still work
    assert storage.save_epoch(A, 2, b"a2", expected_version=va) == va + 1


def test_failed_write_inside_rolls_back_the_whole_block_if_it_propagates(storage: Storage) -> None:
    va, vb = two_groups(storage)
    with pytest.raises(ConcurrentModificationError), storage.atomic():
        storage.save_epoch(A, 2, b"a2", expected_version=va)
        storage.save_epoch(B, 2, b"b2", expected_version=vb + 7)  # stale: CAS still applies
    assert stored(storage, A).epoch == 1 and stored(storage, B).epoch == 1


def test_a_caught_failure_inside_undoes_only_that_write(storage: Storage) -> None:
    va, vb = two_groups(storage)
    with storage.atomic():
        storage.save_epoch(A, 2, b"a2", expected_version=va)
        with pytest.raises(StateError):
            storage.save_epoch(B, 1, b"b1-again", expected_version=vb)  # not monotonic
        storage.update_state(B, 1, b"b1-updated", expected_version=vb)
    assert stored(storage, A).state == b"a2" and stored(storage, B).state == b"b1-updated"


def test_nested_block_failure_rolls_back_the_inner_block_only(storage: Storage) -> None:
    va, vb = two_groups(storage)
    with storage.atomic():
        storage.save_epoch(A, 2, b"a2", expected_version=va)
        with pytest.raises(Crash), storage.atomic():
            storage.save_epoch(B, 2, b"b2", expected_version=vb)
            raise Crash
        assert stored(storage, B).epoch == 1
    assert stored(storage, A).epoch == 2 and stored(storage, B).epoch == 1
    with pytest.raises(Crash), storage.atomic():
        with storage.atomic():
            storage.save_epoch(B, 2, b"b2", expected_version=vb)
        raise Crash  # the outer block fails: the committed inner block goes too
    assert stored(storage, B).epoch == 1


def test_rows_key_packages_and_deletes_roll_back(storage: Storage) -> None:
    va, _ = two_groups(storage)
    storage.put_key_package(b"kp", b"bundle")
    with pytest.raises(Crash), storage.atomic():
        storage.update_state(A, 1, None, expected_version=va, rows=[(b"r", b"a1-row", b"a1-row2")])
        assert storage.consume_key_package(b"kp") == b"bundle"
        storage.delete_group(B)
        raise Crash
    assert stored(storage, A).rows == ((b"r", b"a1-row"),)
    assert storage.get_key_package(b"kp") == b"bundle"
    assert stored(storage, B).epoch == 1 and storage.load_resumption_psk(B, 1) == b"psk-b1"
    assert cur(storage, A) == va


def test_atomic_on_a_closed_storage_is_a_state_error(make_storage: Factory) -> None:
    s = make_storage()
    s.close()
    with pytest.raises(StateError), s.atomic():
        pass


_CHILD = textwrap.dedent(
    """
    import os, sys
    from mls_pq.storage import SQLiteStorage
    s = SQLiteStorage(sys.argv[1], journal_mode=sys.argv[2])
    va, vb = s.load_group(b"session-t").version, s.load_group(b"session-pq").version
    with s.atomic():
        s.save_epoch(b"session-t", 2, b"a2", expected_version=va)
        os._exit(17)  # killed between the two writes: no rollback, no commit
        s.save_epoch(b"session-pq", 2, b"b2", expected_version=vb)
    """
)


@pytest.mark.parametrize("mode", ["DELETE", "WAL"])
def test_process_killed_inside_the_block_leaves_both_old(tmp_path: Path, mode: str) -> None:
    db = tmp_path / "db.sqlite"
    s = SQLiteStorage(db, journal_mode=mode)
    two_groups(s)
    s.close()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    rc = subprocess.run([sys.executable, "-c", _CHILD, str(db), mode], env=env, timeout=60).returncode
    assert rc == 17
    s = SQLiteStorage(db, journal_mode=mode)
    try:
        assert (stored(s, A).epoch, stored(s, A).state) == (1, b"a1")
        assert (stored(s, B).epoch, stored(s, B).state) == (1, b"b1")
    finally:
        s.close()
