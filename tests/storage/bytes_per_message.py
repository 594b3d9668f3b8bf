"""Bytes written to storage per application message (issue 9 item 2): a thin command over
:func:`mls_pq.bench.steady.storage_rows`, which measures it (growth of ``wchar`` in
/proc/self/io across one message, SQLite in WAL mode and MemoryStorage; for a sender already
seen in the epoch, a new sender and the member's own message). The whole grid with every
other steady-state figure: ``python -m mls_pq.bench.steady --storage memory,sqlite``.

Opt-in (not part of the test run)::

    python -m tests.storage.bytes_per_message --n 10000 --senders 1000
"""

from __future__ import annotations

import argparse
import json

from mls_pq.bench.steady import STORAGES, storage_rows
from mls_pq.suites import get_suite


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--suite", type=lambda x: int(x, 0), default=1)
    ap.add_argument("--n", type=int, default=1024)
    ap.add_argument("--senders", type=int, default=100)
    ap.add_argument("--reps", type=int, default=9, help="messages per figure")
    ap.add_argument("--storage", default=",".join(STORAGES))
    a = ap.parse_args()
    rows = storage_rows(
        get_suite(a.suite), a.n, senders=a.senders, reps=a.reps, storages=[x for x in a.storage.split(",") if x]
    )
    for r in rows:
        print(json.dumps(r))


if __name__ == "__main__":
    main()
