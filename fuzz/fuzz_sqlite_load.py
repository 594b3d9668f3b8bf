#!/usr/bin/env python3
"""Fuzz loading a member from a SQLite storage file (``Group.load`` over
:class:`~mls_pq.storage.SQLiteStorage`): the stored state and pending-commit blobs are
overwritten with the input, as a corrupted or tampered file would hold them.

Input: two octets choosing the suite's world, one octet choosing what is overwritten
(0: bob's state; 1: alice's pending commit; 2: alice's state; 3: bob's state written through
``Storage.update_state``, i.e. with whatever integrity protection the storage adds; plus 4:
a state blob is first sealed with the digest the library checks, so it reaches the validation
behind it), then the blob. Asserts: only ``mls_pq.errors`` exceptions while loading and while the loaded member
processes a real application message and encrypts."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from pathlib import Path

from _harness import COUNTER, instrumented, main

instrumented()

from mls_pq.errors import MLSError  # noqa: E402
from mls_pq.group import Group, GroupConfig  # noqa: E402
from mls_pq.storage import SQLiteStorage  # noqa: E402
from worlds import (  # noqa: E402
    GROUP_ID,
    PENDING_SQL,
    STATE_LABEL,
    STATE_SQL,
    World,
    clock,
    load_worlds,
    pick,
    seal,
    sqlite_files,
)

WORLDS = load_worlds()
_TMP = Path(tempfile.mkdtemp(prefix="mls-pq-fuzz-", dir="/dev/shm" if Path("/dev/shm").is_dir() else None))
#: suite -> (pristine bob, pristine alice, working copy)
FILES: dict[int, tuple[Path, Path, Path]] = {}
for _w in WORLDS:
    _bob, _alice = sqlite_files(_w, _TMP)
    FILES[_w.suite] = (_bob, _alice, _TMP / f"work-{_w.suite:04x}.db")


def _overwrite(path: Path, sql: str, blob: bytes) -> None:
    conn = sqlite3.connect(path)
    try:
        conn.execute(sql, (blob,))
        conn.commit()
    finally:
        conn.close()


def _use(w: World, g: Group) -> None:
    for use in (lambda: g.process(w.messages["app_alice"]), lambda: g.encrypt(b"x")):
        try:
            use()
        except MLSError:
            pass


def one_input(data: bytes) -> None:
    w, payload = pick(WORLDS, data)
    mode, blob = (payload[0] % 4, payload[1:]) if payload else (0, b"")
    if payload and payload[0] & 4 and mode != 1:
        blob = seal(blob, STATE_LABEL)
    bob, alice, work = FILES[w.suite]
    shutil.copyfile(alice if mode in (1, 2) else bob, work)
    if mode == 3:
        s = SQLiteStorage(work)
        try:
            stored = s.load_group(GROUP_ID)
            assert stored is not None
            # compare-and-swap storage (issue 8): name the version we read, when there is one
            cas = {"expected_version": stored.version} if hasattr(stored, "version") else {}
            s.update_state(GROUP_ID, stored.epoch, blob, **cas)
        finally:
            s.close()
    else:
        _overwrite(work, PENDING_SQL if mode == 1 else STATE_SQL, blob)
    storage = SQLiteStorage(work)
    try:
        g = Group.load(storage, GROUP_ID, config=GroupConfig(clock=clock))
    except MLSError:
        COUNTER.rejected += 1
    else:
        COUNTER.accepted += 1
        _use(w, g)
    finally:
        storage.close()
    COUNTER.tick()


if __name__ == "__main__":
    main(one_input, "sqlite_load")
