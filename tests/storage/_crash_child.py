"""Child process of test_crash.py, and the helpers both sides share.

The child opens an SQLiteStorage and runs epoch transitions; the parent SIGKILLs it while
a transaction is open and then checks what a fresh process finds in the file.

Usage: python _crash_child.py DB JOURNAL_MODE ACTION [ARG]
  hook POINT   run one transition, stop at SQLiteStorage._hook point POINT, print, sleep
  progress K   run one transition, stop at the K-th SQLite progress callback, print, sleep
  count        run one transition, print how many progress callbacks it made
  loop SIZE    resume from the stored epoch and keep advancing with SIZE-byte states
"""

from __future__ import annotations

import hashlib
import sys
import time

from mls_pq.storage import SQLiteStorage, Storage

G = b"crash-group"
PAST_EPOCHS = 1
MAX_PSKS = 3
STATE_SIZE = 256 * 1024


def state(epoch: int, size: int = STATE_SIZE) -> bytes:
    unit = hashlib.sha256(b"state %d" % epoch).digest()
    return (unit * (size // 32 + 1))[:size]


def psk(epoch: int) -> bytes:
    return hashlib.sha256(b"psk %d" % epoch).digest()


def pending(epoch: int) -> bytes:
    return b"pending commit of epoch %d" % epoch


def kp_ref(epoch: int) -> bytes:
    return b"kp-for-%d" % epoch


def kp_priv(epoch: int) -> bytes:
    return hashlib.sha256(b"init key %d" % epoch).digest()


def open_storage(path: str, mode: str) -> SQLiteStorage:
    return SQLiteStorage(path, journal_mode=mode, past_epochs=PAST_EPOCHS, max_resumption_psks=MAX_PSKS)


def transition(s: Storage, epoch: int, size: int = STATE_SIZE) -> None:
    """Join/advance to ``epoch`` consuming its KeyPackage: the transaction under test."""
    loaded = s.load_group(G)
    s.save_epoch(
        G,
        epoch,
        state(epoch, size),
        expected_version=None if loaded is None else loaded.version,
        resumption_psk=psk(epoch),
        consumed_key_package=kp_ref(epoch),
    )


def step(s: Storage, epoch: int, size: int = STATE_SIZE) -> None:
    """One full cycle: publish the KeyPackage, transition, then create a pending commit."""
    if s.get_key_package(kp_ref(epoch)) is None:
        s.put_key_package(kp_ref(epoch), kp_priv(epoch))
    transition(s, epoch, size)
    loaded = s.load_group(G)
    assert loaded is not None
    s.save_pending_commit(G, epoch, pending(epoch), expected_version=loaded.version)


def setup_old(s: Storage) -> None:
    """The "old" state: epoch 1 (epoch 0 retained), a pending commit, the KeyPackage for 2."""
    step(s, 0)
    step(s, 1)
    s.put_key_package(kp_ref(2), kp_priv(2))


def snapshot(s: Storage) -> dict[str, object]:
    loaded = s.load_group(G)
    return {
        "groups": s.list_groups(),
        "current": None if loaded is None else (loaded.epoch, hashlib.sha256(loaded.state).hexdigest()),
        "epochs": {e: hashlib.sha256(s.load_epoch(G, e) or b"").hexdigest() for e in s.list_epochs(G)},
        "pending": s.load_pending_commit(G),
        "psks": {e: s.load_resumption_psk(G, e) for e in s.list_resumption_psk_epochs(G)},
        "kps": {r: s.get_key_package(r) for r in s.list_key_packages()},
    }


def expected(epoch: int, *, has_pending: bool, next_kp: bool, size: int = STATE_SIZE) -> dict[str, object]:
    """The only consistent snapshot with current ``epoch`` (the loop's two free choices:
    whether the pending commit and the next epoch's KeyPackage were written yet)."""
    window = range(max(0, epoch - PAST_EPOCHS), epoch + 1)
    return {
        "groups": [G],
        "current": (epoch, hashlib.sha256(state(epoch, size)).hexdigest()),
        "epochs": {e: hashlib.sha256(state(e, size)).hexdigest() for e in window},
        "pending": (epoch, pending(epoch)) if has_pending else None,
        "psks": {e: psk(e) for e in range(max(0, epoch - MAX_PSKS + 1), epoch + 1)},
        "kps": {kp_ref(epoch + 1): kp_priv(epoch + 1)} if next_kp else {},
    }


def _stop(tag: str) -> None:
    print(tag, flush=True)
    time.sleep(60)  # the parent kills us here
    sys.exit(3)


def main(argv: list[str]) -> int:
    path, mode, action = argv[0], argv[1], argv[2]
    s = open_storage(path, mode)
    if action == "hook":
        point = argv[3]
        s._hook = lambda name: _stop("AT " + name) if name == point else None
        transition(s, 2)
        print("FINISHED", flush=True)
        return 1
    if action in ("progress", "count"):
        target = int(argv[3]) if action == "progress" else -1
        calls = 0

        def on_progress() -> int:
            nonlocal calls
            calls += 1
            if calls == target:
                _stop(f"AT {calls}")
            return 0

        assert s._conn is not None
        s._conn.set_progress_handler(on_progress, 1)
        transition(s, 2)
        s._conn.set_progress_handler(None, 1)
        print(f"COUNT {calls}", flush=True)
        return 0
    if action == "loop":
        size = int(argv[3])
        loaded = s.load_group(G)
        epoch = 0 if loaded is None else loaded.epoch + 1
        print(f"READY {epoch}", flush=True)
        while True:
            step(s, epoch, size)
            epoch += 1
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
