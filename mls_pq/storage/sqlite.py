"""SQLite :class:`~mls_pq.storage.base.Storage`: the embedded default, one database file.

Backend: the standard library ``sqlite3`` module (SQLite does the transactions, journaling
and crash recovery). Hand-written here (mls-pq): only the schema and the mapping of the
:class:`Storage` operations onto transactions.

Durability and atomicity
    Every write is one ``BEGIN IMMEDIATE ... COMMIT`` transaction with ``synchronous=FULL``,
    so a committed epoch survives a crash or power loss, and a process killed at any point
    of :meth:`SQLiteStorage.save_epoch` leaves the old epoch or the new one, never a mix:
    SQLite rolls back a hot journal (or ignores uncommitted WAL frames) on the next open.
    :meth:`SQLiteStorage.atomic` makes several writes one transaction: the block is one
    ``BEGIN IMMEDIATE ... COMMIT``, each write inside it (and each nested block) a
    ``SAVEPOINT`` released into it, so a process killed inside the block leaves every write
    of the block undone.

Deletion (RFC 9420 §9.2)
    ``secure_delete=ON`` makes SQLite overwrite deleted rows and freed pages with zeros, so a
    deleted epoch state or KeyPackage private key does not linger in the database file.
    The default ``journal_mode="DELETE"`` (rollback journal) keeps the old page contents only
    in the journal file, which is removed when the transaction commits. With
    ``journal_mode="WAL"`` old page versions stay in the main file and earlier WAL frames
    until a checkpoint, so this class runs ``wal_checkpoint(TRUNCATE)`` after every write
    that replaces or deletes a state blob, a pending commit, a KeyPackage or a PSK (epoch
    transitions, §9.2) — best effort: a concurrent reader can delay it. Per-message row
    writes (one consumed ratchet position each) do not checkpoint (issue 9: that rewrote the
    file per message); their old values stay in the WAL until SQLite's auto-checkpoint
    (1000 pages) or the next epoch transition. Neither mode can scrub what the file system
    or the storage device keeps of freed blocks.

Size of a write
    ``page_size`` (default 1024, for a new file) is small because a per-message write
    changes one B-tree page (the sender's ratchet row): 1 048 bytes appended to the WAL per
    application message, independent of the group size (``tests/storage/bytes_per_message.py``).
    ``synchronous=FULL`` stays on for a sending reservation: a reserved generation must be
    durable before its ciphertext leaves, or a power loss could hand the same key and nonce
    out again. A member reserves ``reserve_block`` generations per write (default
    :data:`~mls_pq.storage.base.DEFAULT_RESERVE_BLOCK` = 32), so R-1 of R own messages write
    nothing. In WAL mode the consumed key of a received application message
    (``update_state(durable=False)``) is committed with ``synchronous=NORMAL`` (set for that
    transaction only, FULL again right after): it survives a process crash; a power loss can
    lose the last ones, i.e. such a message may be accepted once more after a power loss
    (see :mod:`mls_pq.storage.base`, "Durability of received messages"). The rollback-journal
    mode keeps FULL for every write (NORMAL there risks more than losing the last write).

Concurrency (see :mod:`mls_pq.storage.base`)
    Each group has a row in ``group_versions``; every write to the group's state or pending
    commit reads it, compares it with the caller's ``expected_version`` and increments it
    inside the same ``BEGIN IMMEDIATE`` transaction (which takes SQLite's write lock before
    the read), so two processes sharing the file cannot both pass the check: the second one
    gets :class:`~mls_pq.errors.ConcurrentModificationError`. The row is kept when the group
    is deleted, so versions never repeat.

Integrity
    Every stored value has a ``digest`` column: SHA-256 over a domain label, the table, the
    row's key (group id, epoch, KeyPackageRef) and the value, checked on every read
    (:class:`~mls_pq.errors.CorruptStateError` on mismatch, compared with
    ``hmac.compare_digest``). It detects corruption and misplaced rows, not a deliberate
    forgery by someone who can write the file (no key: anyone can recompute it).

The database file is created with mode 0600 (SQLite gives its journal files the same mode).
Epochs are stored as 8-byte big-endian BLOBs (the TLS ``uint64`` encoding), because SQLite
integers are signed 64-bit; ``memcmp`` order of those blobs is numeric order. A schema
version 1 file (no digests, no versions) is upgraded in place when opened.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from ..errors import ConcurrentModificationError, CorruptStateError, MLSError, StateError
from .base import (
    DEFAULT_MAX_RESUMPTION_PSKS,
    DEFAULT_PAST_EPOCHS,
    DEFAULT_RESERVE_BLOCK,
    PendingCommit,
    RowChange,
    Storage,
    StoredEpoch,
    check_bytes,
    check_cas,
    check_count,
    check_epoch,
    check_rows,
    check_reserve_block,
    check_save_epoch_args,
    check_save_pending_commit_args,
    check_update_state_args,
    check_version,
)

#: ``PRAGMA application_id`` of an mls-pq storage file ("MLSQ").
APPLICATION_ID = 0x4D4C5351
#: ``PRAGMA user_version``: version of the schema below.
SCHEMA_VERSION = 3

_SCHEMA = (
    """CREATE TABLE key_packages (
        ref BLOB PRIMARY KEY NOT NULL,
        bundle BLOB NOT NULL,
        last_resort INTEGER NOT NULL,
        digest BLOB NOT NULL)""",
    """CREATE TABLE group_states (
        group_id BLOB NOT NULL,
        epoch BLOB NOT NULL,
        state BLOB NOT NULL,
        digest BLOB NOT NULL,
        PRIMARY KEY (group_id, epoch))""",
    """CREATE TABLE pending_commits (
        group_id BLOB PRIMARY KEY NOT NULL,
        epoch BLOB NOT NULL,
        commit_blob BLOB NOT NULL,
        digest BLOB NOT NULL)""",
    """CREATE TABLE resumption_psks (
        group_id BLOB NOT NULL,
        epoch BLOB NOT NULL,
        psk BLOB NOT NULL,
        digest BLOB NOT NULL,
        PRIMARY KEY (group_id, epoch))""",
    """CREATE TABLE group_versions (
        group_id BLOB PRIMARY KEY NOT NULL,
        version INTEGER NOT NULL) WITHOUT ROWID""",
    """CREATE TABLE group_rows (
        group_id BLOB NOT NULL,
        epoch BLOB NOT NULL,
        key BLOB NOT NULL,
        value BLOB NOT NULL,
        digest BLOB NOT NULL,
        PRIMARY KEY (group_id, epoch, key)) WITHOUT ROWID""",
)
_VERSIONS_TABLE = 4  # index in _SCHEMA (schema 2)
_ROWS_TABLE = 5  # index in _SCHEMA (schema 3)

#: (table, value column, key columns) of every digest-protected table
_PROTECTED = (
    ("key_packages", "bundle", ("ref",)),
    ("group_states", "state", ("group_id", "epoch")),
    ("pending_commits", "commit_blob", ("group_id", "epoch")),
    ("resumption_psks", "psk", ("group_id", "epoch")),
    ("group_rows", "value", ("group_id", "epoch", "key")),
)
_DIGEST_LABEL = b"mls-pq storage digest v2"

_JOURNAL_MODES = ("DELETE", "WAL")
_PAGE_SIZES = tuple(1 << i for i in range(9, 17))
#: page size of a new file: a per-message write touches two small B-tree pages (the sender's
#: ratchet row and the group's version), so small pages keep it small (issue 9)
DEFAULT_PAGE_SIZE = 1024


def _ep(epoch: int) -> bytes:
    return epoch.to_bytes(8, "big")


def _unep(raw: object) -> int:
    if not isinstance(raw, bytes) or len(raw) != 8:
        raise StateError("storage file holds a malformed epoch")
    return int.from_bytes(raw, "big")


def _blob(raw: object) -> bytes:
    if not isinstance(raw, bytes):
        raise CorruptStateError("storage file holds a malformed value")
    return raw


def _digest(table: str, *parts: bytes) -> bytes:
    """SHA-256 over the label, the table and the length-prefixed key columns and value."""
    h = hashlib.sha256(_DIGEST_LABEL)
    h.update(table.encode())
    for part in parts:
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.digest()


def _checked(table: str, value: object, digest: object, *key: bytes) -> bytes:
    """``value`` if its stored digest matches (CorruptStateError otherwise)."""
    v = _blob(value)
    if not isinstance(digest, bytes) or not hmac.compare_digest(digest, _digest(table, *key, v)):
        raise CorruptStateError(f"a stored value in {table} failed its integrity check (corrupted storage)")
    return v


class SQLiteStorage(Storage):
    """Storage in one SQLite database file at ``path``.

    ``journal_mode`` is ``"DELETE"`` (rollback journal, default) or ``"WAL"``; ``path`` may be
    ``":memory:"`` for a throw-away database (then there is no journal file);
    ``busy_timeout`` (seconds) is how long a write waits for another process's lock before
    failing with StateError; ``page_size`` applies to a new file. One connection per object,
    guarded by a lock, so an object may be shared between threads.
    """

    backend = "sqlite3"

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        past_epochs: int = DEFAULT_PAST_EPOCHS,
        max_resumption_psks: int = DEFAULT_MAX_RESUMPTION_PSKS,
        journal_mode: str = "DELETE",
        busy_timeout: float = 5.0,
        page_size: int = DEFAULT_PAGE_SIZE,
        reserve_block: int = DEFAULT_RESERVE_BLOCK,
    ) -> None:
        self.past_epochs = check_count(past_epochs, "past_epochs")
        self.max_resumption_psks = check_count(max_resumption_psks, "max_resumption_psks")
        self.reserve_block = check_reserve_block(reserve_block)
        mode = str(journal_mode).upper()
        if mode not in _JOURNAL_MODES:
            raise MLSError(f"journal_mode must be one of {_JOURNAL_MODES}")
        if isinstance(busy_timeout, bool) or not isinstance(busy_timeout, (int, float)) or busy_timeout < 0:
            raise MLSError("busy_timeout must be a non-negative number of seconds")
        if page_size not in _PAGE_SIZES:
            raise MLSError("page_size must be a power of two from 512 to 65536")
        self.path = os.fspath(path)
        self.journal_mode = mode
        self._lock = threading.RLock()
        #: Test-only: called with a point name at each step of a write transaction.
        self._hook: Callable[[str], None] | None = None
        #: nesting depth of :meth:`atomic` blocks (0: none; writes commit on their own)
        self._atomic_depth = 0
        if self.path != ":memory:":
            try:
                os.close(os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
            except FileExistsError:
                pass
            except OSError as exc:
                raise StateError(f"cannot create storage file: {exc.strerror}") from None
        conn: sqlite3.Connection | None = None
        try:
            conn = sqlite3.connect(
                self.path, timeout=float(busy_timeout), isolation_level=None, check_same_thread=False
            )
            conn.execute(f"PRAGMA page_size={int(page_size)}")  # takes effect for a new file only
            got = conn.execute(f"PRAGMA journal_mode={mode}").fetchone()
            if self.path == ":memory:":
                self.journal_mode = "MEMORY"  # an in-memory database has no journal file
            elif got is None or str(got[0]).upper() != mode:
                raise StateError(f"cannot set journal_mode={mode}")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA secure_delete=ON")
            self._conn: sqlite3.Connection | None = conn
            self._init_schema(conn)
        except sqlite3.Error as exc:
            if conn is not None:
                conn.close()
            raise StateError(f"cannot open storage file: {exc}") from None
        except BaseException:
            if conn is not None:
                conn.close()
            raise

    def __repr__(self) -> str:
        return (
            f"SQLiteStorage(path={self.path!r}, journal_mode={self.journal_mode!r}, "
            f"past_epochs={self.past_epochs}, max_resumption_psks={self.max_resumption_psks})"
        )

    @staticmethod
    def _init_schema(conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if app_id == 0 and version == 0 and tables == 0:
                for stmt in _SCHEMA:
                    conn.execute(stmt)
                conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
                conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            elif app_id != APPLICATION_ID:
                raise StateError("file is not an mls-pq storage database")
            elif version in (1, 2):
                if version == 1:
                    SQLiteStorage._upgrade_from_v1(conn)
                conn.execute(_SCHEMA[_ROWS_TABLE])  # schema 2 -> 3
                conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            elif version != SCHEMA_VERSION:
                raise StateError(f"storage schema version {version} is not supported (want {SCHEMA_VERSION})")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    @staticmethod
    def _upgrade_from_v1(conn: sqlite3.Connection) -> None:
        """Schema 1 -> 2: add and fill the digest columns and the version table."""
        for table, column, keys in _PROTECTED[:4]:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN digest BLOB NOT NULL DEFAULT x''")
            cols = ", ".join(keys)
            for row in conn.execute(f"SELECT {cols}, {column} FROM {table}").fetchall():
                *key, value = row
                where = " AND ".join(f"{k} = ?" for k in keys)
                conn.execute(
                    f"UPDATE {table} SET digest = ? WHERE {where}", (_digest(table, *key, value), *key)
                )
        conn.execute(_SCHEMA[_VERSIONS_TABLE])
        conn.execute("INSERT INTO group_versions (group_id, version) SELECT DISTINCT group_id, 1 FROM group_states")
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def close(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
            if conn is not None:
                try:
                    conn.close()
                except sqlite3.Error as exc:
                    raise StateError(f"storage error: {exc}") from None

    # -- transaction plumbing ----------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StateError("storage is closed")
        return self._conn

    def _point(self, name: str) -> None:
        if self._hook is not None:
            self._hook(name)

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._connection()
            try:
                yield conn
            except sqlite3.Error as exc:
                raise StateError(f"storage error: {exc}") from None

    @contextmanager
    def _write(self, *, checkpoint: bool = True, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """One write transaction; on any exception it is rolled back and nothing changes.
        ``checkpoint``: in WAL mode, checkpoint afterwards (writes that delete epoch-level
        secrets; per-message row writes leave it to SQLite's auto-checkpoint).
        ``durable=False``: in WAL mode, commit with ``synchronous=NORMAL`` (no fsync; the
        pragma is set outside the transaction and the connection is FULL again afterwards,
        whatever happens)."""
        with self._lock:
            conn = self._connection()
            if self._atomic_depth:  # inside atomic(): a savepoint, committed with the block
                try:
                    with self._savepoint(conn, "mlspq_write"):
                        self._point("begin")
                        yield conn
                        self._point("before_commit")
                except sqlite3.Error as exc:
                    raise StateError(f"storage error: {exc}") from None
                return
            relaxed = not durable and self.journal_mode == "WAL"
            try:
                if relaxed:
                    conn.execute("PRAGMA synchronous=NORMAL")
                try:
                    conn.execute("BEGIN IMMEDIATE")
                    try:
                        self._point("begin")
                        yield conn
                        self._point("before_commit")
                        conn.execute("COMMIT")
                    except BaseException:
                        if conn.in_transaction:
                            try:
                                conn.execute("ROLLBACK")
                            except sqlite3.Error:
                                pass
                        raise
                finally:
                    if relaxed:
                        conn.execute("PRAGMA synchronous=FULL")
            except sqlite3.Error as exc:
                raise StateError(f"storage error: {exc}") from None
            self._point("after_commit")
            if checkpoint and self.journal_mode == "WAL":
                # Drop old page versions (deleted secrets) from the WAL; best effort.
                try:
                    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
                except sqlite3.Error:
                    pass

    @contextmanager
    def _savepoint(self, conn: sqlite3.Connection, name: str) -> Iterator[None]:
        """A nested transaction inside :meth:`atomic`'s: on an exception only its own
        changes are rolled back (``ROLLBACK TO``) and the exception propagates."""
        sp = f"{name}_{self._atomic_depth}"
        try:
            conn.execute(f"SAVEPOINT {sp}")
        except sqlite3.Error as exc:
            raise StateError(f"storage error: {exc}") from None
        try:
            yield
        except BaseException:
            try:
                conn.execute(f"ROLLBACK TO {sp}")
                conn.execute(f"RELEASE {sp}")
            except sqlite3.Error:
                pass
            raise
        try:
            conn.execute(f"RELEASE {sp}")
        except sqlite3.Error as exc:
            raise StateError(f"storage error: {exc}") from None

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """All writes of the block in ONE SQLite transaction (``BEGIN IMMEDIATE`` ...
        ``COMMIT``, see :meth:`Storage.atomic`); each write inside is a SAVEPOINT, a nested
        block too. A process killed inside the block leaves an uncommitted transaction,
        which SQLite rolls back on the next open. The lock is held throughout."""
        with self._lock:
            conn = self._connection()
            if self._atomic_depth:
                self._atomic_depth += 1
                try:
                    with self._savepoint(conn, "mlspq_atomic"):
                        yield
                finally:
                    self._atomic_depth -= 1
                return
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StateError(f"storage error: {exc}") from None
            self._atomic_depth = 1
            try:
                yield
                self._point("atomic_before_commit")
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    try:
                        conn.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass
                if isinstance(exc, sqlite3.Error):
                    raise StateError(f"storage error: {exc}") from None
                raise
            finally:
                self._atomic_depth = 0
            self._point("after_commit")
            if self.journal_mode == "WAL":
                try:
                    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
                except sqlite3.Error:
                    pass

    @staticmethod
    def _current(conn: sqlite3.Connection, gid: bytes) -> int | None:
        row = conn.execute(
            "SELECT epoch FROM group_states WHERE group_id = ? ORDER BY epoch DESC LIMIT 1", (gid,)
        ).fetchone()
        return None if row is None else _unep(row[0])

    @staticmethod
    def _version(conn: sqlite3.Connection, gid: bytes) -> int | None:
        row = conn.execute("SELECT version FROM group_versions WHERE group_id = ?", (gid,)).fetchone()
        if row is None:
            return None
        if not isinstance(row[0], int) or row[0] < 0:
            raise CorruptStateError("storage file holds a malformed group version")
        return int(row[0])

    def _cas(self, conn: sqlite3.Connection, gid: bytes, expected: int | None) -> None:
        """The compare-and-swap check, inside the write transaction (see the module doc)."""
        exists = self._current(conn, gid) is not None
        check_cas(self._version(conn, gid), expected, exists=exists)

    def _bump(self, conn: sqlite3.Connection, gid: bytes) -> int:
        old = self._version(conn, gid)
        version = (old or 0) + 1
        if old is None:
            conn.execute("INSERT INTO group_versions (group_id, version) VALUES (?, ?)", (gid, version))
        else:
            conn.execute("UPDATE group_versions SET version = ? WHERE group_id = ?", (version, gid))
        return version

    # -- KeyPackages -----------------------------------------------------------------------

    def put_key_package(self, ref: bytes, private_bundle: bytes, *, last_resort: bool = False) -> None:
        ref = check_bytes(ref, "ref")
        bundle = check_bytes(private_bundle, "private_bundle")
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM key_packages WHERE ref = ?", (ref,)).fetchone():
                raise StateError("a KeyPackage with this ref is already stored")
            conn.execute(
                "INSERT INTO key_packages (ref, bundle, last_resort, digest) VALUES (?, ?, ?, ?)",
                (ref, bundle, 1 if last_resort else 0, _digest("key_packages", ref, bundle)),
            )

    def get_key_package(self, ref: bytes) -> bytes | None:
        ref = check_bytes(ref, "ref")
        with self._read() as conn:
            row = conn.execute("SELECT bundle, digest FROM key_packages WHERE ref = ?", (ref,)).fetchone()
        return None if row is None else _checked("key_packages", row[0], row[1], ref)

    def consume_key_package(self, ref: bytes) -> bytes | None:
        ref = check_bytes(ref, "ref")
        with self._write() as conn:
            row = conn.execute(
                "SELECT bundle, last_resort, digest FROM key_packages WHERE ref = ?", (ref,)
            ).fetchone()
            if row is None:
                return None
            bundle = _checked("key_packages", row[0], row[2], ref)
            if not row[1]:
                conn.execute("DELETE FROM key_packages WHERE ref = ?", (ref,))
        return bundle

    def delete_key_package(self, ref: bytes) -> bool:
        ref = check_bytes(ref, "ref")
        with self._write() as conn:
            n = conn.execute("DELETE FROM key_packages WHERE ref = ?", (ref,)).rowcount
        return n > 0

    def list_key_packages(self) -> list[bytes]:
        with self._read() as conn:
            rows = conn.execute("SELECT ref FROM key_packages ORDER BY ref").fetchall()
        return [_blob(r[0]) for r in rows]

    # -- group states ----------------------------------------------------------------------

    @staticmethod
    def _put_state(conn: sqlite3.Connection, gid: bytes, epoch: int, state: bytes, *, insert: bool) -> int:
        ep = _ep(epoch)
        digest = _digest("group_states", gid, ep, state)
        if insert:
            conn.execute(
                "INSERT INTO group_states (group_id, epoch, state, digest) VALUES (?, ?, ?, ?)", (gid, ep, state, digest)
            )
            return 1
        n: int = conn.execute(
            "UPDATE group_states SET state = ?, digest = ? WHERE group_id = ? AND epoch = ?", (state, digest, gid, ep)
        ).rowcount
        return n

    def save_epoch(
        self,
        group_id: bytes,
        epoch: int,
        state: bytes,
        *,
        expected_version: int | None = None,
        resumption_psk: bytes | None = None,
        consumed_key_package: bytes | None = None,
        delete_before_epoch: int | None = None,
        rows: Sequence[tuple[bytes, bytes]] = (),
        expected_rows: Sequence[tuple[bytes, bytes]] | None = None,
    ) -> int:
        gid, epoch, state, psk, kp, before = check_save_epoch_args(
            group_id, epoch, state, resumption_psk, consumed_key_package, delete_before_epoch
        )
        expected = check_version(expected_version)
        initial = check_rows(rows)
        seen_rows = None if expected_rows is None else check_rows(expected_rows)
        with self._write() as conn:
            self._cas(conn, gid, expected)
            cur = self._current(conn, gid)
            if seen_rows is not None and cur is not None and sorted(seen_rows) != self._rows(conn, gid, _ep(cur)):
                raise ConcurrentModificationError("the stored rows of the current epoch changed since they were read")
            if cur is not None and epoch <= cur:
                raise StateError(f"epoch {epoch} does not advance the stored epoch {cur}")
            kp_last_resort = False
            if kp is not None:
                row = conn.execute("SELECT last_resort FROM key_packages WHERE ref = ?", (kp,)).fetchone()
                if row is None:
                    raise StateError("the consumed KeyPackage is not stored (already consumed?)")
                kp_last_resort = bool(row[0])
            self._put_state(conn, gid, epoch, state, insert=True)
            self._point("state_written")
            conn.execute("DELETE FROM pending_commits WHERE group_id = ?", (gid,))
            self._point("pending_dropped")
            # Past states: keep the newest `past_epochs` below the new one, none older than `before`.
            conn.execute(
                """DELETE FROM group_states WHERE group_id = ?1 AND epoch < ?2 AND epoch NOT IN (
                       SELECT epoch FROM group_states WHERE group_id = ?1 AND epoch < ?2
                       ORDER BY epoch DESC LIMIT ?3)""",
                (gid, _ep(epoch), self.past_epochs),
            )
            if before is not None:
                conn.execute(
                    "DELETE FROM group_states WHERE group_id = ? AND epoch < ? AND epoch < ?",
                    (gid, _ep(epoch), _ep(before)),
                )
            self._point("epochs_pruned")
            if psk is not None:
                self._put_psk(conn, gid, epoch, psk)
                self._point("psk_written")
            if kp is not None and not kp_last_resort:
                conn.execute("DELETE FROM key_packages WHERE ref = ?", (kp,))
                self._point("key_package_deleted")
            ep = _ep(epoch)
            conn.executemany(
                "INSERT INTO group_rows (group_id, epoch, key, value, digest) VALUES (?, ?, ?, ?, ?)",
                [(gid, ep, k, v, _digest("group_rows", gid, ep, k, v)) for k, v in initial],
            )
            self._prune_rows(conn, gid)
            version = self._bump(conn, gid)
        return version

    @staticmethod
    def _prune_rows(conn: sqlite3.Connection, gid: bytes) -> None:
        """Rows go with their epoch's state (RFC 9420 §9.2)."""
        conn.execute(
            "DELETE FROM group_rows WHERE group_id = ?1 AND epoch NOT IN "
            "(SELECT epoch FROM group_states WHERE group_id = ?1)",
            (gid,),
        )

    @staticmethod
    def _apply_rows(
        conn: sqlite3.Connection, gid: bytes, epoch: int, changes: list[tuple[bytes, bytes | None, bytes | None]]
    ) -> None:
        """Compare-and-swap every row on its prior value, then write (inside the caller's
        transaction, so all or nothing)."""
        ep = _ep(epoch)
        for key, prior, new in changes:
            row = conn.execute(
                "SELECT value, digest FROM group_rows WHERE group_id = ? AND epoch = ? AND key = ?", (gid, ep, key)
            ).fetchone()
            have = None if row is None else _checked("group_rows", row[0], row[1], gid, ep, key)
            if (have is None) != (prior is None) or (
                have is not None and prior is not None and not hmac.compare_digest(have, prior)
            ):
                raise ConcurrentModificationError("a stored row changed since it was read: reload")
            if new is None:
                conn.execute("DELETE FROM group_rows WHERE group_id = ? AND epoch = ? AND key = ?", (gid, ep, key))
            elif have is None:
                conn.execute(
                    "INSERT INTO group_rows (group_id, epoch, key, value, digest) VALUES (?, ?, ?, ?, ?)",
                    (gid, ep, key, new, _digest("group_rows", gid, ep, key, new)),
                )
            else:
                conn.execute(
                    "UPDATE group_rows SET value = ?, digest = ? WHERE group_id = ? AND epoch = ? AND key = ?",
                    (new, _digest("group_rows", gid, ep, key, new), gid, ep, key),
                )

    def update_state(
        self,
        group_id: bytes,
        epoch: int,
        state: bytes | None,
        *,
        expected_version: int,
        rows: Sequence[RowChange] = (),
        durable: bool = True,
    ) -> int:
        gid, epoch, new_state, expected, changes = check_update_state_args(
            group_id, epoch, state, expected_version, rows
        )
        # a state blob replaced: the old one (consumed secrets) must leave the WAL (§9.2);
        # only a row-only write may be non-durable
        with self._write(checkpoint=new_state is not None, durable=bool(durable) or new_state is not None) as conn:
            self._cas(conn, gid, expected)
            if new_state is None:
                exists = conn.execute(
                    "SELECT 1 FROM group_states WHERE group_id = ? AND epoch = ?", (gid, _ep(epoch))
                ).fetchone()
                if exists is None:
                    raise StateError(f"no stored state for this group at epoch {epoch}")
            elif self._put_state(conn, gid, epoch, new_state, insert=False) != 1:
                raise StateError(f"no stored state for this group at epoch {epoch}")
            self._apply_rows(conn, gid, epoch, changes)
            # row-only writes are compare-and-swapped row by row and keep the version (one
            # small page per message); a state blob write bumps it
            assert expected is not None  # the group is stored: the CAS refused None
            version = expected if new_state is None else self._bump(conn, gid)
        return version

    def load_rows(self, group_id: bytes, epoch: int) -> list[tuple[bytes, bytes]]:
        gid = check_bytes(group_id, "group_id")
        epoch = check_epoch(epoch)
        with self._read() as conn:
            return self._rows(conn, gid, _ep(epoch))

    @staticmethod
    def _rows(conn: sqlite3.Connection, gid: bytes, ep: bytes) -> list[tuple[bytes, bytes]]:
        rows = conn.execute(
            "SELECT key, value, digest FROM group_rows WHERE group_id = ? AND epoch = ? ORDER BY key", (gid, ep)
        ).fetchall()
        return [(_blob(k), _checked("group_rows", v, d, gid, ep, _blob(k))) for k, v, d in rows]

    def load_group(self, group_id: bytes) -> StoredEpoch | None:
        gid = check_bytes(group_id, "group_id")
        with self._read() as conn:
            own = not conn.in_transaction  # inside atomic(): its transaction is the snapshot
            if own:
                conn.execute("BEGIN")  # one snapshot for the state and its version
            try:
                row = conn.execute(
                    "SELECT epoch, state, digest FROM group_states WHERE group_id = ? ORDER BY epoch DESC LIMIT 1",
                    (gid,),
                ).fetchone()
                version = self._version(conn, gid)
                rows = [] if row is None else self._rows(conn, gid, _blob(row[0]))
            finally:
                if own:
                    conn.execute("COMMIT")
        if row is None:
            return None
        if version is None:
            raise CorruptStateError("a stored group has no version")
        ep = _blob(row[0])
        return StoredEpoch(_unep(ep), _checked("group_states", row[1], row[2], gid, ep), version, tuple(rows))

    def load_epoch(self, group_id: bytes, epoch: int) -> bytes | None:
        gid = check_bytes(group_id, "group_id")
        epoch = check_epoch(epoch)
        with self._read() as conn:
            row = conn.execute(
                "SELECT state, digest FROM group_states WHERE group_id = ? AND epoch = ?", (gid, _ep(epoch))
            ).fetchone()
        return None if row is None else _checked("group_states", row[0], row[1], gid, _ep(epoch))

    def list_epochs(self, group_id: bytes) -> list[int]:
        gid = check_bytes(group_id, "group_id")
        with self._read() as conn:
            rows = conn.execute("SELECT epoch FROM group_states WHERE group_id = ? ORDER BY epoch", (gid,)).fetchall()
        return [_unep(r[0]) for r in rows]

    def delete_past_epochs(self, group_id: bytes, before_epoch: int | None = None) -> int:
        gid = check_bytes(group_id, "group_id")
        before = None if before_epoch is None else check_epoch(before_epoch, "before_epoch")
        with self._write() as conn:
            cur = self._current(conn, gid)
            if cur is None:
                return 0
            limit = cur if before is None else min(cur, before)
            n: int = conn.execute(
                "DELETE FROM group_states WHERE group_id = ? AND epoch < ?", (gid, _ep(limit))
            ).rowcount
            self._prune_rows(conn, gid)
        return n

    def list_groups(self) -> list[bytes]:
        with self._read() as conn:
            rows = conn.execute("SELECT DISTINCT group_id FROM group_states ORDER BY group_id").fetchall()
        return [_blob(r[0]) for r in rows]

    def delete_group(
        self, group_id: bytes, *, keep_resumption_psks: bool = False, expected_version: int | None = None
    ) -> bool:
        gid = check_bytes(group_id, "group_id")
        expected = check_version(expected_version)
        with self._write() as conn:
            if expected is not None:
                self._cas(conn, gid, expected)
            n = conn.execute("DELETE FROM group_states WHERE group_id = ?", (gid,)).rowcount
            conn.execute("DELETE FROM group_rows WHERE group_id = ?", (gid,))
            conn.execute("DELETE FROM pending_commits WHERE group_id = ?", (gid,))
            if not keep_resumption_psks:
                conn.execute("DELETE FROM resumption_psks WHERE group_id = ?", (gid,))
            if n > 0:
                self._bump(conn, gid)
        return n > 0

    # -- pending commit ----------------------------------------------------------------------

    def save_pending_commit(
        self,
        group_id: bytes,
        epoch: int,
        commit: bytes,
        *,
        expected_version: int,
        state: bytes | None = None,
        replace: bool = False,
        rows: Sequence[RowChange] = (),
    ) -> int:
        gid, epoch, commit, new_state, expected, changes = check_save_pending_commit_args(
            group_id, epoch, commit, state, expected_version, rows
        )
        with self._write() as conn:
            cur = self._current(conn, gid)
            if cur is None:
                raise StateError("no stored state for this group")
            self._cas(conn, gid, expected)
            if epoch != cur:
                raise StateError(f"pending commit epoch {epoch} is not the current epoch {cur}")
            exists = conn.execute("SELECT 1 FROM pending_commits WHERE group_id = ?", (gid,)).fetchone()
            if exists and not replace:
                raise StateError("a commit is already pending for this group")
            ep = _ep(epoch)
            conn.execute(
                "INSERT OR REPLACE INTO pending_commits (group_id, epoch, commit_blob, digest) VALUES (?, ?, ?, ?)",
                (gid, ep, commit, _digest("pending_commits", gid, ep, commit)),
            )
            if new_state is not None:
                self._put_state(conn, gid, epoch, new_state, insert=False)
            self._apply_rows(conn, gid, epoch, changes)
            version = self._bump(conn, gid)
        return version

    def load_pending_commit(self, group_id: bytes) -> PendingCommit | None:
        gid = check_bytes(group_id, "group_id")
        with self._read() as conn:
            row = conn.execute(
                "SELECT epoch, commit_blob, digest FROM pending_commits WHERE group_id = ?", (gid,)
            ).fetchone()
        if row is None:
            return None
        ep = _blob(row[0])
        return PendingCommit(_unep(ep), _checked("pending_commits", row[1], row[2], gid, ep))

    def discard_pending_commit(self, group_id: bytes, *, expected_version: int | None = None) -> bool:
        gid = check_bytes(group_id, "group_id")
        expected = check_version(expected_version)
        with self._write() as conn:
            if expected is not None:
                self._cas(conn, gid, expected)
            n = conn.execute("DELETE FROM pending_commits WHERE group_id = ?", (gid,)).rowcount
            if n > 0:
                self._bump(conn, gid)
        return n > 0

    # -- resumption PSKs ---------------------------------------------------------------------

    def _put_psk(self, conn: sqlite3.Connection, gid: bytes, epoch: int, psk: bytes) -> None:
        ep = _ep(epoch)
        conn.execute(
            "INSERT OR REPLACE INTO resumption_psks (group_id, epoch, psk, digest) VALUES (?, ?, ?, ?)",
            (gid, ep, psk, _digest("resumption_psks", gid, ep, psk)),
        )
        conn.execute(
            """DELETE FROM resumption_psks WHERE group_id = ?1 AND epoch NOT IN (
                   SELECT epoch FROM resumption_psks WHERE group_id = ?1 ORDER BY epoch DESC LIMIT ?2)""",
            (gid, self.max_resumption_psks),
        )

    def save_resumption_psk(self, group_id: bytes, epoch: int, psk: bytes) -> None:
        gid = check_bytes(group_id, "group_id")
        epoch = check_epoch(epoch)
        psk = check_bytes(psk, "psk")
        with self._write() as conn:
            self._put_psk(conn, gid, epoch, psk)

    def load_resumption_psk(self, group_id: bytes, epoch: int) -> bytes | None:
        gid = check_bytes(group_id, "group_id")
        epoch = check_epoch(epoch)
        with self._read() as conn:
            row = conn.execute(
                "SELECT psk, digest FROM resumption_psks WHERE group_id = ? AND epoch = ?", (gid, _ep(epoch))
            ).fetchone()
        return None if row is None else _checked("resumption_psks", row[0], row[1], gid, _ep(epoch))

    def list_resumption_psk_epochs(self, group_id: bytes) -> list[int]:
        gid = check_bytes(group_id, "group_id")
        with self._read() as conn:
            rows = conn.execute(
                "SELECT epoch FROM resumption_psks WHERE group_id = ? ORDER BY epoch", (gid,)
            ).fetchall()
        return [_unep(r[0]) for r in rows]
