"""Persistent client state for mls-pq: the :class:`Storage` interface, an in-memory back end
and the embedded default, :class:`SQLiteStorage` (one SQLite file, stdlib ``sqlite3``).

Group states, pending commits, resumption PSKs and KeyPackage private keys are opaque blobs;
the group engine owns their format. See :mod:`mls_pq.storage.base` for the guarantees
(atomic epoch transitions, RFC 9420 §9.2 deletion schedule).
"""

from __future__ import annotations

from .base import (
    DEFAULT_MAX_RESUMPTION_PSKS,
    DEFAULT_PAST_EPOCHS,
    DEFAULT_RESERVE_BLOCK,
    PendingCommit,
    Storage,
    StoredEpoch,
)
from .memory import MemoryStorage
from .sqlite import SQLiteStorage

__all__ = [
    "DEFAULT_MAX_RESUMPTION_PSKS",
    "DEFAULT_PAST_EPOCHS",
    "DEFAULT_RESERVE_BLOCK",
    "MemoryStorage",
    "PendingCommit",
    "SQLiteStorage",
    "Storage",
    "StoredEpoch",
]
