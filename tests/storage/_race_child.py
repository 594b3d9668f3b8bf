"""Child-process workers of test_concurrency.py: each loads the stored member from one SQLite
file, waits at a barrier shared with the other process(es), then races for a write.

Each worker reports ``(name, outcome, payload)`` on the queue:
``outcome`` is ``"ok"`` (first attempt succeeded), ``"conflict"`` (first attempt raised
ConcurrentModificationError; payload then holds what the retry after ``reload()`` gave) or
``"error"`` (payload: the exception's type name and message).
"""

from __future__ import annotations

from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier, Event
from typing import Any

from mls_pq.errors import ConcurrentModificationError, MLSError
from mls_pq.group import ApplicationMessage, Group, ProcessedMessage
from mls_pq.storage import SQLiteStorage

TIMEOUT = 60.0


def _load(db: str, gid: bytes, mode: str, block: int = 1) -> tuple[SQLiteStorage, Group]:
    storage = SQLiteStorage(db, journal_mode=mode, busy_timeout=TIMEOUT, reserve_block=block)
    return storage, Group.load(storage, gid)


def encrypt(db: str, mode: str, gid: bytes, name: str, block: int, barrier: Barrier, out: Queue[Any]) -> None:
    """Scenario 1: encrypt in the same epoch as the other process (reserving ``block``
    generations per write)."""
    storage, g = _load(db, gid, mode, block)
    barrier.wait(TIMEOUT)
    try:
        try:
            out.put((name, "ok", g.encrypt(name.encode())))
        except ConcurrentModificationError:
            g.reload()
            out.put((name, "conflict", g.encrypt(name.encode())))
    except MLSError as exc:
        out.put((name, "error", f"{type(exc).__name__}: {exc}"))
    finally:
        storage.close()


def encrypt_many(
    db: str, mode: str, gid: bytes, name: str, block: int, count: int, barrier: Barrier, out: Queue[Any]
) -> None:
    """Scenario 1b: ``count`` messages in a row while the other process does the same,
    reserving ``block`` generations per write; on a conflict reload (giving up the rest
    of our block) and retry the message. Payload: (ciphertexts, number of conflicts)."""
    storage, g = _load(db, gid, mode, block)
    barrier.wait(TIMEOUT)
    cts: list[bytes] = []
    conflicts = 0
    try:
        for i in range(count):
            while True:
                try:
                    cts.append(g.encrypt(f"{name}-{i}".encode()))
                    break
                except ConcurrentModificationError:
                    conflicts += 1
                    g.reload()
        out.put((name, "ok", (cts, conflicts)))
    except MLSError as exc:
        out.put((name, "error", f"{type(exc).__name__}: {exc}"))
    finally:
        storage.close()


def _data(got: ProcessedMessage) -> bytes | None:
    return got.data if isinstance(got, ApplicationMessage) else None


def receive_first(
    db: str, mode: str, gid: bytes, message: bytes, barrier: Barrier, done: Event, out: Queue[Any]
) -> None:
    """Scenario 2, process A: receive ``message`` and signal when it is stored."""
    storage, g = _load(db, gid, mode)
    barrier.wait(TIMEOUT)
    try:
        out.put(("A", "ok", _data(g.process(message))))
    except MLSError as exc:
        out.put(("A", "error", f"{type(exc).__name__}: {exc}"))
    finally:
        done.set()
        storage.close()


def receive_stale(
    db: str, mode: str, gid: bytes, message: bytes, barrier: Barrier, done: Event, out: Queue[Any]
) -> None:
    """Scenario 2, process B: loaded before A received, writes after A did."""
    storage, g = _load(db, gid, mode)
    barrier.wait(TIMEOUT)
    done.wait(TIMEOUT)
    try:
        try:
            out.put(("B", "ok", _data(g.process(message))))
        except ConcurrentModificationError:
            g.reload()
            out.put(("B", "conflict", _data(g.process(message))))
    except MLSError as exc:
        out.put(("B", "error", f"{type(exc).__name__}: {exc}"))
    finally:
        storage.close()


def commit(db: str, mode: str, gid: bytes, name: str, barrier: Barrier, out: Queue[Any]) -> None:
    """Scenario 3: create a commit (with a path, so each one is different) in the same epoch
    as the other process; on a conflict, reload and report what the stored member has."""
    storage, g = _load(db, gid, mode)
    barrier.wait(TIMEOUT)
    try:
        try:
            out.put((name, "ok", g.commit(path=True).commit))
        except ConcurrentModificationError:
            g.reload()
            try:
                g.commit(path=True)
                out.put((name, "conflict", b"committed again"))
            except MLSError as exc:  # the other process's commit is pending: no second one
                out.put((name, "conflict", f"{type(exc).__name__}: {exc}".encode()))
    except MLSError as exc:
        out.put((name, "error", f"{type(exc).__name__}: {exc}"))
    finally:
        storage.close()
