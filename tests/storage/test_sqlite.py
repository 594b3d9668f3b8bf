"""SQLiteStorage specifics: persistence across reopen, pragmas, file mode, deletion from the
file (RFC 9420 §9.2), foreign/corrupt files, lock contention, in-process rollback at every
step of an epoch transition."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from mls_pq.errors import MLSError, StateError
from mls_pq.storage import MemoryStorage, SQLiteStorage, Storage
from mls_pq.storage.sqlite import APPLICATION_ID, SCHEMA_VERSION

from .conftest import cur, stored, ver
from .test_contract import snapshot

G = b"group-1"
MODES = ["DELETE", "WAL"]
SAVE_EPOCH_POINTS = [
    "begin",
    "state_written",
    "pending_dropped",
    "epochs_pruned",
    "psk_written",
    "key_package_deleted",
    "before_commit",
]


def populate(s: Storage) -> None:
    s.put_key_package(b"kp-used", b"priv-used")
    s.put_key_package(b"kp-spare", b"priv-spare")
    s.put_key_package(b"kp-lr", b"priv-lr", last_resort=True)
    s.save_epoch(G, 0, b"s0", resumption_psk=b"p0", expected_version=ver(s, G))
    s.save_epoch(G, 1, b"s1", resumption_psk=b"p1", consumed_key_package=b"kp-used", expected_version=ver(s, G))
    s.save_pending_commit(G, 1, b"c1", expected_version=cur(s, G))
    s.save_epoch(b"group-2", 9, b"t9", expected_version=ver(s, b"group-2"))


@pytest.mark.parametrize("mode", MODES)
def test_persistence_across_reopen(tmp_path: Path, mode: str) -> None:
    path = tmp_path / "state.db"
    with SQLiteStorage(path, journal_mode=mode, past_epochs=1) as s:
        populate(s)
        expected = snapshot(s, (G, b"group-2"))
    with SQLiteStorage(path, journal_mode=mode, past_epochs=1) as s:
        assert snapshot(s, (G, b"group-2")) == expected
        assert s.list_key_packages() == [b"kp-lr", b"kp-spare"]
        assert stored(s, G)[:2] == (1, b"s1")
        assert s.load_epoch(G, 0) == b"s0"
        assert s.load_pending_commit(G) == (1, b"c1")
        s.save_epoch(G, 2, b"s2", expected_version=ver(s, G))
    with SQLiteStorage(path, journal_mode=mode) as s:
        assert stored(s, G)[:2] == (2, b"s2")
        assert s.load_pending_commit(G) is None


def test_same_data_as_memory_backend(tmp_path: Path) -> None:
    mem = MemoryStorage(past_epochs=1)
    with SQLiteStorage(tmp_path / "x.db", past_epochs=1) as s:
        populate(mem)
        populate(s)
        assert snapshot(s, (G, b"group-2")) == snapshot(mem, (G, b"group-2"))


@pytest.mark.parametrize("mode", MODES)
def test_pragmas_and_file_mode(tmp_path: Path, mode: str) -> None:
    path = tmp_path / "state.db"
    with SQLiteStorage(path, journal_mode=mode.lower()) as s:
        assert s.journal_mode == mode
        conn = s._conn
        assert conn is not None
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert conn.execute("PRAGMA secure_delete").fetchone()[0] == 1
        assert conn.execute("PRAGMA journal_mode").fetchone()[0].upper() == mode
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        s.save_epoch(G, 1, b"s", expected_version=ver(s, G))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


@pytest.mark.parametrize("mode", MODES)
def test_deleted_secrets_leave_the_files(tmp_path: Path, mode: str) -> None:
    """RFC 9420 §9.2: a consumed KeyPackage private key and a superseded epoch state must not
    stay readable in the database file (or its journal) after the transition commits."""
    old_state = os.urandom(48) * 300  # spans overflow pages
    kp_priv = os.urandom(64)
    ratchet_before = os.urandom(40) * 10
    path = tmp_path / "state.db"
    with SQLiteStorage(path, journal_mode=mode) as s:
        s.put_key_package(b"kp", kp_priv)
        s.save_epoch(G, 0, old_state, consumed_key_package=b"kp", expected_version=ver(s, G))
        s.save_epoch(b"other", 0, ratchet_before, expected_version=ver(s, b"other"))

        def on_disk() -> bytes:
            return b"".join(p.read_bytes() for p in tmp_path.iterdir())

        s.save_epoch(G, 1, b"new state", expected_version=ver(s, G))
        s.update_state(b"other", 0, b"ratchet advanced", expected_version=cur(s, b"other"))
        s.put_key_package(b"kp2", b"x" * 10)  # more writes after the deletions
        data = on_disk()
        assert kp_priv not in data
        assert old_state[:48] not in data
        assert ratchet_before[:40] not in data
        assert b"new state" in data and b"ratchet advanced" in data  # the check can see data


def test_secure_delete_is_what_scrubs(tmp_path: Path) -> None:
    """Control for the test above: without secure_delete the old bytes do stay in the file."""
    marker = os.urandom(48) * 300
    path = tmp_path / "plain.db"
    with SQLiteStorage(path) as s:
        s.save_epoch(G, 0, marker, expected_version=ver(s, G))
        assert s._conn is not None
        s._conn.execute("PRAGMA secure_delete=OFF")
        s.save_epoch(G, 1, b"new", expected_version=ver(s, G))
    assert marker[:48] in path.read_bytes()


def test_not_an_mls_pq_file(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    with pytest.raises(StateError, match="not an mls-pq"):
        SQLiteStorage(other)
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database at all" * 200)
    with pytest.raises(StateError):
        SQLiteStorage(garbage)


def test_future_schema_version_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    SQLiteStorage(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(StateError, match="schema version"):
        SQLiteStorage(path)


def test_bad_constructor_arguments(tmp_path: Path) -> None:
    with pytest.raises(MLSError):
        SQLiteStorage(tmp_path / "a.db", journal_mode="MEMORY")
    with pytest.raises(MLSError):
        SQLiteStorage(tmp_path / "b.db", busy_timeout=-1)
    with pytest.raises(StateError):
        SQLiteStorage(tmp_path / "missing-dir" / "c.db")


def test_two_handles_see_each_other_and_epochs_stay_monotonic(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    with SQLiteStorage(path) as a, SQLiteStorage(path) as b:
        a.save_epoch(G, 1, b"a1", expected_version=ver(a, G))
        assert stored(b, G)[:2] == (1, b"a1")
        b.save_epoch(G, 2, b"b2", expected_version=ver(b, G))
        with pytest.raises(StateError):  # a lost the race for epoch 2
            a.save_epoch(G, 2, b"a2", expected_version=ver(a, G))
        assert stored(a, G)[:2] == (2, b"b2")


def test_locked_database_is_a_state_error(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    with SQLiteStorage(path, busy_timeout=0) as s:
        s.save_epoch(G, 1, b"s1", expected_version=ver(s, G))
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(StateError, match="locked"):
                s.save_epoch(G, 2, b"s2", expected_version=ver(s, G))
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert stored(s, G)[:2] == (1, b"s1")
        s.save_epoch(G, 2, b"s2", expected_version=ver(s, G))  # the handle is still usable
        assert stored(s, G)[:2] == (2, b"s2")


class Boom(Exception):
    pass


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("point", SAVE_EPOCH_POINTS)
def test_exception_inside_transition_rolls_back(tmp_path: Path, mode: str, point: str) -> None:
    path = tmp_path / "state.db"
    with SQLiteStorage(path, journal_mode=mode, past_epochs=0, max_resumption_psks=1) as s:
        populate(s)
        before = snapshot(s, (G, b"group-2"))
        seen: list[str] = []

        def hook(name: str) -> None:
            seen.append(name)
            if name == point:
                raise Boom

        s._hook = hook
        with pytest.raises(Boom):
            s.save_epoch(G, 2, b"s2", resumption_psk=b"p2", consumed_key_package=b"kp-spare", expected_version=ver(s, G))
        assert point in seen
        s._hook = None
        assert snapshot(s, (G, b"group-2")) == before
        s.save_epoch(G, 2, b"s2", resumption_psk=b"p2", consumed_key_package=b"kp-spare", expected_version=ver(s, G))
        assert stored(s, G)[:2] == (2, b"s2")
    with SQLiteStorage(path, journal_mode=mode) as s:
        assert stored(s, G)[:2] == (2, b"s2")
        assert s.list_epochs(G) == [2]
        assert s.get_key_package(b"kp-spare") is None
        assert s.list_resumption_psk_epochs(G) == [2]
