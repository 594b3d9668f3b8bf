"""MemoryStorage and SQLiteStorage agree on random operation sequences: same results, same
error types, same final contents (hypothesis)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mls_pq.errors import MLSError
from mls_pq.storage import MemoryStorage, SQLiteStorage, Storage

from .test_contract import snapshot

GIDS = st.sampled_from([b"ga", b"gb"])
REFS = st.sampled_from([b"r1", b"r2", b"r3"])
EPOCHS = st.integers(min_value=0, max_value=6)
BLOBS = st.binary(min_size=0, max_size=8)
#: an expected_version: none, a number, or "current" (the stored one, read just before)
ROW_KEYS = st.sampled_from([b"k1", b"k2", b"k3"])
VERSIONS = st.none() | st.integers(min_value=0, max_value=6) | st.just("current")

Op = tuple[str, tuple[Any, ...], dict[str, Any]]


def op(name: str, *args: st.SearchStrategy[Any], **kwargs: st.SearchStrategy[Any]) -> st.SearchStrategy[Op]:
    return st.tuples(st.just(name), st.tuples(*args), st.fixed_dictionaries(kwargs))


OPS = st.one_of(
    op("put_key_package", REFS, BLOBS, last_resort=st.booleans()),
    op("get_key_package", REFS),
    op("consume_key_package", REFS),
    op("delete_key_package", REFS),
    op("list_key_packages"),
    op(
        "save_epoch",
        GIDS,
        EPOCHS,
        BLOBS,
        resumption_psk=st.none() | BLOBS,
        consumed_key_package=st.none() | REFS,
        delete_before_epoch=st.none() | EPOCHS,
        expected_version=VERSIONS,
        rows=st.lists(st.tuples(ROW_KEYS, BLOBS), max_size=3),
    ),
    op("save_epoch", GIDS, EPOCHS, BLOBS, expected_version=VERSIONS),
    op("update_state", GIDS, EPOCHS, BLOBS, expected_version=VERSIONS),
    op(
        "update_state",
        GIDS,
        EPOCHS,
        st.none(),
        expected_version=VERSIONS,
        rows=st.lists(st.tuples(ROW_KEYS, st.none() | BLOBS, st.none() | BLOBS), max_size=3),
    ),
    op("load_rows", GIDS, EPOCHS),
    op("load_group", GIDS),
    op("load_epoch", GIDS, EPOCHS),
    op("list_epochs", GIDS),
    op("delete_past_epochs", GIDS, st.none() | EPOCHS),
    op("list_groups"),
    op("delete_group", GIDS, keep_resumption_psks=st.booleans(), expected_version=VERSIONS),
    op(
        "save_pending_commit",
        GIDS,
        EPOCHS,
        BLOBS,
        replace=st.booleans(),
        expected_version=VERSIONS,
        state=st.none() | BLOBS,
    ),
    op("load_pending_commit", GIDS),
    op("discard_pending_commit", GIDS, expected_version=VERSIONS),
    op("save_resumption_psk", GIDS, EPOCHS, BLOBS),
    op("load_resumption_psk", GIDS, EPOCHS),
    op("list_resumption_psk_epochs", GIDS),
)


def run(s: Storage, o: Op) -> object:
    name, args, kwargs = o
    if kwargs.get("expected_version") == "current":
        stored = s.load_group(args[0])
        kwargs = {**kwargs, "expected_version": None if stored is None else stored.version}
    try:
        return ("ok", getattr(s, name)(*args, **kwargs))
    except MLSError as exc:
        return ("error", type(exc).__name__)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    past=st.integers(min_value=0, max_value=3),
    max_psks=st.integers(min_value=0, max_value=3),
    ops=st.lists(OPS, max_size=40),
)
def test_memory_and_sqlite_agree(past: int, max_psks: int, ops: list[Op]) -> None:
    mem = MemoryStorage(past_epochs=past, max_resumption_psks=max_psks)
    with SQLiteStorage(":memory:", past_epochs=past, max_resumption_psks=max_psks) as sql:
        for i, o in enumerate(ops):
            assert run(mem, o) == run(sql, o), f"operation {i}: {o[0]}"
        assert snapshot(mem, (b"ga", b"gb")) == snapshot(sql, (b"ga", b"gb"))
