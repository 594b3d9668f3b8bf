"""Child process of test_persistence_crash.py: one group epoch transition against an
SQLiteStorage file, stopped (and then SIGKILLed by the parent) at a named step of the
storage transaction (``SQLiteStorage._hook``).

Usage: python _persist_child.py DB GROUP_ID_HEX ACTION POINT [MESSAGE_FILE]
  process POINT FILE  load the member, process the commit in FILE
  merge   POINT       load the member, merge its stored pending commit
  join    POINT FILE  join from the Welcome in FILE with the KeyPackage stored in DB
Prints "AT <point>" and sleeps when the hook reaches POINT; "FINISHED" if it never does.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from mls_pq.group import Group, StagedCommit
from mls_pq.storage import SQLiteStorage


def _stop(point: str) -> None:
    print("AT " + point, flush=True)
    time.sleep(60)  # the parent kills us here
    sys.exit(3)


def main(argv: list[str]) -> int:
    db, gid, action, point = argv[0], bytes.fromhex(argv[1]), argv[2], argv[3]
    storage = SQLiteStorage(db, past_epochs=1)
    if action == "join":
        welcome = Path(argv[4]).read_bytes()
        storage._hook = lambda name: _stop(name) if name == point else None
        Group.join(welcome, storage=storage)
    else:
        g = Group.load(storage, gid)
        storage._hook = lambda name: _stop(name) if name == point else None
        if action == "process":
            staged = g.process(Path(argv[4]).read_bytes())
            if isinstance(staged, StagedCommit):
                staged.merge()  # the storage write happens here (RFC 9420 §12.4.2)
        elif action == "merge":
            g.merge_pending_commit()
        else:
            return 2
    print("FINISHED", flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
