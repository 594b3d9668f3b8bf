"""Bytes written to an SQLite storage per application message (issue 9 item 2), measured on
the real engine: a member of a group of N (built like :mod:`mls_pq.bench.scenarios`, one
bulk add), with S senders already read in the epoch, stored in a fresh SQLite file; then
it receives messages from senders already seen, from new senders, and sends its own.

"Bytes written" is the growth of the process's ``wchar`` (/proc/self/io: every byte passed
to write()/pwrite(), i.e. WAL frames, journal and database pages, before the OS cache), per
message, median over the messages; also the logical payload (row bytes) and time.

Opt-in (not part of the test run)::

    python -m tests.storage.bytes_per_message --n 10000 --senders 1000 --mode WAL
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from mls_pq.bench.scenarios import GroupScenario, joined_state
from mls_pq.group import Group, GroupOptions
from mls_pq.storage import MemoryStorage, SQLiteStorage
from mls_pq.suites import get_suite

PAYLOAD = b"x" * 64


def _wchar() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("wchar:"):
            return int(line.split()[1])
    raise RuntimeError("no wchar in /proc/self/io")


def measure(n: int, senders: int, mode: str, page_size: int, messages: int) -> dict[str, object]:
    suite = get_suite(1)
    sc = GroupScenario.build(suite, n, shape="sparse", options=GroupOptions())
    recv = Group(sc.far.state)
    base = sc.near.state
    bundles = {i: b for i, (_, b) in enumerate(sc.key_packages, start=1)}
    leaves = [i for i in range(n - 1)]
    groups: dict[int, Group] = {}

    def sender(leaf: int) -> Group:
        if leaf not in groups:
            st = sc.committer.state if leaf == 0 else base if leaf == 1 else joined_state(base, leaf, bundles[leaf])
            groups[leaf] = Group(st)
        return groups[leaf]

    seen = leaves[:senders]
    for leaf in seen:
        recv.process(sender(leaf).encrypt(PAYLOAD))
    state = recv.state
    out: dict[str, object] = {"n": n, "senders": senders, "mode": mode, "page_size": page_size}
    with tempfile.TemporaryDirectory() as tmp:
        storage = SQLiteStorage(Path(tmp) / "m.sqlite", journal_mode=mode, page_size=page_size)
        t0 = time.perf_counter()
        recv.save(storage)
        out["save_s"] = round(time.perf_counter() - t0, 3)
        out["epoch_blob_bytes"] = len(storage.load_group(recv.group_id).state)  # type: ignore[union-attr]

        def run(label: str, msgs: list[bytes] | None, own: bool = False) -> None:
            written, times = [], []
            for i in range(messages):
                w0, t = _wchar(), time.perf_counter()
                if own:
                    recv.encrypt(PAYLOAD)
                else:
                    assert msgs is not None
                    recv.process(msgs[i])
                times.append(time.perf_counter() - t)
                written.append(_wchar() - w0)
            out[f"{label}_bytes_median"] = statistics.median(written)
            out[f"{label}_bytes_max"] = max(written)
            out[f"{label}_ms_median"] = round(statistics.median(times) * 1000, 3)

        run("seen_sender", [sender(seen[i % len(seen)]).encrypt(PAYLOAD) for i in range(messages)])
        fresh = leaves[senders : senders + messages]
        if len(fresh) == messages:
            run("new_sender", [sender(leaf).encrypt(PAYLOAD) for leaf in fresh])
        run("own_encrypt", None, own=True)
        storage.close()
    # time per seen-sender message without storage and with MemoryStorage (no O(N) work)
    for label, store in (("no_storage", None), ("memory_storage", MemoryStorage())):
        g = Group(state)
        if store is not None:
            g.save(store)
        msgs = [sender(seen[i % len(seen)]).encrypt(PAYLOAD) for i in range(messages)]
        times = []
        for m in msgs:
            t = time.perf_counter()
            g.process(m)
            times.append(time.perf_counter() - t)
        out[f"{label}_ms_median"] = round(statistics.median(times) * 1000, 3)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1024)
    ap.add_argument("--senders", type=int, default=100)
    ap.add_argument("--mode", default="WAL", choices=["WAL", "DELETE"])
    ap.add_argument("--page-size", type=int, default=1024)
    ap.add_argument("--messages", type=int, default=20)
    a = ap.parse_args()
    print(json.dumps(measure(a.n, min(a.senders, a.n - 2), a.mode, a.page_size, a.messages)))


if __name__ == "__main__":
    main()
