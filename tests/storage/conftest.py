"""The storage contract runs against every back end: one parametrized fixture."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mls_pq.storage import MemoryStorage, SQLiteStorage, Storage, StoredEpoch

Factory = Callable[..., Storage]

BACKENDS = ["memory", "sqlite-delete", "sqlite-wal"]


@pytest.fixture(params=BACKENDS)
def make_storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Factory]:
    """A factory ``make_storage(**options)``; every storage it made is closed afterwards."""
    made: list[Storage] = []

    def make(**options: object) -> Storage:
        if request.param == "memory":
            s: Storage = MemoryStorage(**options)  # type: ignore[arg-type]
        else:
            mode = "WAL" if request.param == "sqlite-wal" else "DELETE"
            s = SQLiteStorage(tmp_path / f"db{len(made)}.sqlite", journal_mode=mode, **options)  # type: ignore[arg-type]
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


@pytest.fixture
def storage(make_storage: Factory) -> Storage:
    return make_storage()


def ver(s: Storage, group_id: bytes) -> int | None:
    """The stored version of ``group_id`` (None if not stored): what a writer that just read
    the group passes as ``expected_version``."""
    stored = s.load_group(group_id)
    return None if stored is None else stored.version


def stored(s: Storage, group_id: bytes) -> StoredEpoch:
    """The stored current epoch of ``group_id``, which the test has stored."""
    got = s.load_group(group_id)
    assert got is not None, "the group is not stored"
    return got


def cur(s: Storage, group_id: bytes) -> int:
    """The stored version of ``group_id``, which the test has stored (:func:`ver` of a stored group)."""
    return stored(s, group_id).version
