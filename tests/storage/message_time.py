"""Time per application message with a storage attached, over a RUN of messages (issue 9
item 2, "time per message with SQLite <= 3x in memory"): a member of a group of N decrypts
``--count`` consecutive messages of one sender it has already seen, and encrypts
``--count`` messages of its own, each with no storage, MemoryStorage and SQLite (WAL, a
file in the temporary directory). Unlike :mod:`mls_pq.bench.steady` (one message per fresh
storage), a run shows the amortised cost of the sending reservation block
(``SQLiteStorage(reserve_block=R)``, see :mod:`mls_pq.storage.base`): ``--block 1`` is the
behaviour without blocks. Wall clock (it includes the fsync waits), mean per message.

Opt-in (not part of the test run)::

    python -m tests.storage.message_time --n 1024 --count 64 --block 32
"""

from __future__ import annotations

import argparse
import gc
import inspect
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from mls_pq.bench.scenarios import GroupScenario
from mls_pq.group import Group, GroupOptions, GroupState
from mls_pq.storage import MemoryStorage, SQLiteStorage, Storage
from mls_pq.suites import get_suite

PAYLOAD = bytes(100)


def _sqlite(d: Path, block: int) -> Storage:
    kw = {"reserve_block": block} if "reserve_block" in inspect.signature(SQLiteStorage).parameters else {}
    return SQLiteStorage(d / "m.sqlite", journal_mode="WAL", **kw)


def _memory(_: Path, block: int) -> Storage:
    return MemoryStorage()


MAKERS: dict[str, Callable[[Path, int], Storage] | None] = {"none": None, "memory": _memory, "sqlite": _sqlite}


def per_message(state: GroupState, run: Callable[[Group, int], object], count: int, storage: str, block: int, rounds: int) -> float:
    """Median over ``rounds`` of the mean wall time per message of ``count`` messages."""
    means = []
    with tempfile.TemporaryDirectory(prefix="mls-pq-msgtime-") as tmp:
        for r in range(rounds):
            d = Path(tmp) / str(r)
            d.mkdir()
            make = MAKERS[storage]
            store = None if make is None else make(d, block)
            g = Group(state)
            if store is not None:
                g.save(store)
            gc.collect()
            gc.disable()
            try:
                t0 = time.perf_counter()
                for i in range(count):
                    run(g, i)
                means.append((time.perf_counter() - t0) / count)
            finally:
                gc.enable()
                if store is not None:
                    store.close()
    return statistics.median(means)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--suite", type=lambda x: int(x, 0), default=1)
    ap.add_argument("--n", type=int, default=1024)
    ap.add_argument("--count", type=int, default=64, help="messages per run")
    ap.add_argument("--rounds", type=int, default=3, help="runs per figure (median)")
    ap.add_argument("--block", type=int, default=32, help="SQLite reserve_block (ignored where unsupported)")
    a = ap.parse_args()
    suite = get_suite(a.suite)
    sc = GroupScenario.build(suite, a.n, options=GroupOptions())
    rcv = Group(sc.far.state)
    sender = Group(sc.near.state)
    rcv.process(sender.encrypt(PAYLOAD))  # the sender is seen in the epoch
    msgs = [sender.encrypt(PAYLOAD) for _ in range(a.count)]
    rcv.encrypt(PAYLOAD)  # own ratchet exists: the steady state
    base = rcv.state
    out: dict[str, float] = {}
    for storage in MAKERS:
        out[f"decrypt_{storage}"] = per_message(
            base, lambda g, i: g.process(msgs[i]), a.count, storage, a.block, a.rounds
        )
        out[f"encrypt_{storage}"] = per_message(base, lambda g, i: g.encrypt(PAYLOAD), a.count, storage, a.block, a.rounds)
    for op in ("decrypt", "encrypt"):
        out[f"{op}_sqlite_over_memory"] = out[f"{op}_sqlite"] / out[f"{op}_memory"]
    print(json.dumps({"suite": a.suite, "n": a.n, "count": a.count, "block": a.block, **{k: round(v, 6) for k, v in out.items()}}))


if __name__ == "__main__":
    main()
