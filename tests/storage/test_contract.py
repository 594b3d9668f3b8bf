"""The Storage contract (mls_pq.storage.base), run against every back end."""

from __future__ import annotations

import threading

import pytest

from mls_pq.errors import ConcurrentModificationError, MLSError, StateError
from mls_pq.storage import PendingCommit, Storage, StoredEpoch

from .conftest import Factory, cur, stored, ver

G = b"group-1"
H = b"group-2"
SECRET = bytes.fromhex("5ec7e75ec7e75ec7e75ec7e75ec7e75e")


def snapshot(s: Storage, groups: tuple[bytes, ...] = (G, H)) -> dict[str, object]:
    """Everything observable through the interface, to check a failed call changed nothing."""
    out: dict[str, object] = {
        "groups": s.list_groups(),
        "kps": {r: s.get_key_package(r) for r in s.list_key_packages()},
    }
    for g in groups:
        out[g.hex()] = (
            s.load_group(g),
            {e: s.load_epoch(g, e) for e in s.list_epochs(g)},
            s.load_pending_commit(g),
            {e: s.load_resumption_psk(g, e) for e in s.list_resumption_psk_epochs(g)},
        )
    return out


# -- KeyPackage private keys ------------------------------------------------------------------


def test_key_package_put_get_consume(storage: Storage) -> None:
    storage.put_key_package(b"ref-a", b"priv-a")
    storage.put_key_package(b"ref-b", bytearray(b"priv-b"))  # type: ignore[arg-type]  # bytes-like accepted
    assert storage.list_key_packages() == [b"ref-a", b"ref-b"]
    assert storage.get_key_package(b"ref-a") == b"priv-a"
    assert storage.get_key_package(b"ref-a") == b"priv-a"  # get does not consume
    assert storage.consume_key_package(b"ref-a") == b"priv-a"
    assert storage.get_key_package(b"ref-a") is None
    assert storage.consume_key_package(b"ref-a") is None  # used once only (RFC 9420 §16.8)
    assert storage.list_key_packages() == [b"ref-b"]
    assert storage.get_key_package(b"missing") is None


def test_key_package_duplicate_ref_rejected(storage: Storage) -> None:
    storage.put_key_package(b"ref", b"one")
    with pytest.raises(StateError):
        storage.put_key_package(b"ref", b"two")
    assert storage.get_key_package(b"ref") == b"one"


def test_key_package_delete(storage: Storage) -> None:
    storage.put_key_package(b"ref", b"priv")
    assert storage.delete_key_package(b"ref") is True
    assert storage.delete_key_package(b"ref") is False
    assert storage.list_key_packages() == []


def test_last_resort_key_package_survives_consumption(storage: Storage) -> None:
    storage.put_key_package(b"lr", b"priv", last_resort=True)
    assert storage.consume_key_package(b"lr") == b"priv"
    assert storage.consume_key_package(b"lr") == b"priv"
    storage.save_epoch(G, 3, b"state", consumed_key_package=b"lr", expected_version=ver(storage, G))
    assert storage.get_key_package(b"lr") == b"priv"
    assert storage.delete_key_package(b"lr") is True
    assert storage.get_key_package(b"lr") is None


# -- epoch transitions -----------------------------------------------------------------------


def test_save_and_load_group(storage: Storage) -> None:
    assert storage.load_group(G) is None
    assert storage.list_groups() == []
    storage.save_epoch(G, 0, b"s0", expected_version=ver(storage, G))
    assert stored(storage, G)[:2] == (0, b"s0")
    storage.save_epoch(G, 1, b"s1", expected_version=ver(storage, G))
    loaded = storage.load_group(G)
    assert loaded == StoredEpoch(1, b"s1", 2)  # two writes: version 2
    assert loaded is not None and loaded.epoch == 1 and loaded.state == b"s1"
    assert storage.list_epochs(G) == [1]  # default keeps no past state
    assert storage.load_epoch(G, 0) is None
    assert storage.list_groups() == [G]


def test_join_deletes_consumed_key_package(storage: Storage) -> None:
    storage.put_key_package(b"kp1", b"init-priv")
    storage.put_key_package(b"kp2", b"other")
    storage.save_epoch(G, 7, b"joined", consumed_key_package=b"kp1", expected_version=ver(storage, G))
    assert stored(storage, G)[:2] == (7, b"joined")
    assert storage.get_key_package(b"kp1") is None
    assert storage.list_key_packages() == [b"kp2"]


def test_join_with_missing_key_package_changes_nothing(storage: Storage) -> None:
    storage.put_key_package(b"kp2", b"other")
    before = snapshot(storage)
    with pytest.raises(StateError):
        storage.save_epoch(G, 7, b"joined", consumed_key_package=b"kp1", expected_version=ver(storage, G))
    assert snapshot(storage) == before
    assert storage.load_group(G) is None


@pytest.mark.parametrize("bad_epoch", [4, 5])
def test_epoch_must_advance(storage: Storage, bad_epoch: int) -> None:
    storage.put_key_package(b"kp", b"priv")
    storage.save_epoch(G, 5, b"s5", resumption_psk=b"p5", expected_version=ver(storage, G))
    storage.save_pending_commit(G, 5, b"c5", expected_version=cur(storage, G))
    before = snapshot(storage)
    with pytest.raises(StateError):
        storage.save_epoch(G, bad_epoch, b"other", resumption_psk=b"px", consumed_key_package=b"kp", expected_version=ver(storage, G))
    assert snapshot(storage) == before


def test_save_epoch_drops_pending_commit(storage: Storage) -> None:
    storage.save_epoch(G, 1, b"s1", expected_version=ver(storage, G))
    storage.save_epoch(H, 1, b"h1", expected_version=ver(storage, H))
    storage.save_pending_commit(G, 1, b"commit", expected_version=cur(storage, G))
    storage.save_pending_commit(H, 1, b"hcommit", expected_version=cur(storage, H))
    storage.save_epoch(G, 2, b"s2", expected_version=ver(storage, G))
    assert storage.load_pending_commit(G) is None
    assert storage.load_pending_commit(H) == PendingCommit(1, b"hcommit")  # other group untouched


def test_past_epoch_retention(make_storage: Factory) -> None:
    s = make_storage(past_epochs=2)
    for e in range(6):
        s.save_epoch(G, e, b"s%d" % e, expected_version=ver(s, G))
    assert s.list_epochs(G) == [3, 4, 5]
    assert stored(s, G)[:2] == (5, b"s5")
    assert s.load_epoch(G, 3) == b"s3"
    assert s.load_epoch(G, 2) is None


def test_retention_counts_stored_epochs_not_numbers(make_storage: Factory) -> None:
    s = make_storage(past_epochs=1)
    s.save_epoch(G, 10, b"a", expected_version=ver(s, G))
    s.save_epoch(G, 20, b"b", expected_version=ver(s, G))  # epochs may jump (rejoin); keep the newest stored one
    s.save_epoch(G, 30, b"c", expected_version=ver(s, G))
    assert s.list_epochs(G) == [20, 30]


def test_delete_before_epoch(make_storage: Factory) -> None:
    s = make_storage(past_epochs=5)
    for e in range(4):
        s.save_epoch(G, e, b"s%d" % e, expected_version=ver(s, G))
    s.save_epoch(G, 4, b"s4", delete_before_epoch=3, expected_version=ver(s, G))
    assert s.list_epochs(G) == [3, 4]
    s.save_epoch(G, 5, b"s5", delete_before_epoch=100, expected_version=ver(s, G))  # never deletes the new epoch
    assert s.list_epochs(G) == [5]


def test_delete_past_epochs(make_storage: Factory) -> None:
    s = make_storage(past_epochs=5)
    for e in range(5):
        s.save_epoch(G, e, b"s%d" % e, expected_version=ver(s, G))
    assert s.delete_past_epochs(G, before_epoch=2) == 2
    assert s.list_epochs(G) == [2, 3, 4]
    assert s.delete_past_epochs(G) == 2
    assert s.list_epochs(G) == [4]
    assert s.delete_past_epochs(G) == 0
    assert stored(s, G)[:2] == (4, b"s4")
    assert s.delete_past_epochs(b"unknown") == 0


def test_update_state_within_epoch(make_storage: Factory) -> None:
    s = make_storage(past_epochs=1)
    s.save_epoch(G, 1, b"s1", expected_version=ver(s, G))
    s.save_epoch(G, 2, b"s2", expected_version=ver(s, G))
    s.save_pending_commit(G, 2, b"c", expected_version=cur(s, G))
    s.update_state(G, 2, b"s2-ratcheted", expected_version=cur(s, G))
    s.update_state(G, 1, b"s1-late-message", expected_version=cur(s, G))  # retained past epoch
    assert stored(s, G)[:2] == (2, b"s2-ratcheted")
    assert s.load_epoch(G, 1) == b"s1-late-message"
    assert s.load_pending_commit(G) == (2, b"c")  # kept within the epoch
    before = snapshot(s)
    with pytest.raises(StateError):
        s.update_state(G, 3, b"x", expected_version=cur(s, G))
    with pytest.raises(StateError):
        s.update_state(G, 0, b"x", expected_version=cur(s, G))
    with pytest.raises(StateError):
        s.update_state(H, 2, b"x", expected_version=ver(s, H))  # type: ignore[arg-type]  # H: not stored
    assert snapshot(s) == before


def test_delete_group(storage: Storage) -> None:
    storage.save_epoch(G, 1, b"s1", resumption_psk=b"p1", expected_version=ver(storage, G))
    storage.save_pending_commit(G, 1, b"c", expected_version=cur(storage, G))
    storage.save_epoch(H, 1, b"h1", resumption_psk=b"q1", expected_version=ver(storage, H))
    assert storage.list_groups() == [G, H]
    assert storage.delete_group(G) is True
    assert storage.delete_group(G) is False
    assert storage.load_group(G) is None
    assert storage.load_pending_commit(G) is None
    assert storage.list_resumption_psk_epochs(G) == []
    assert storage.list_groups() == [H]
    assert stored(storage, H)[:2] == (1, b"h1")
    assert storage.load_resumption_psk(H, 1) == b"q1"
    # The group id can be used again from any epoch.
    storage.save_epoch(G, 0, b"again", expected_version=ver(storage, G))
    assert stored(storage, G)[:2] == (0, b"again")


def test_delete_group_keeping_resumption_psks(storage: Storage) -> None:
    storage.save_epoch(G, 4, b"s4", resumption_psk=b"p4", expected_version=ver(storage, G))
    assert storage.delete_group(G, keep_resumption_psks=True) is True
    assert storage.load_group(G) is None
    assert storage.load_resumption_psk(G, 4) == b"p4"  # e.g. for a ReInit Welcome (§11.2)


# -- pending commit --------------------------------------------------------------------------


def test_pending_commit_lifecycle(storage: Storage) -> None:
    storage.save_epoch(G, 3, b"s3", expected_version=ver(storage, G))
    assert storage.load_pending_commit(G) is None
    storage.save_pending_commit(G, 3, b"commit-a", expected_version=cur(storage, G))
    assert storage.load_pending_commit(G) == PendingCommit(3, b"commit-a")
    with pytest.raises(StateError):
        storage.save_pending_commit(G, 3, b"commit-b", expected_version=cur(storage, G))
    assert storage.load_pending_commit(G) == (3, b"commit-a")
    storage.save_pending_commit(G, 3, b"commit-b", replace=True, expected_version=cur(storage, G))
    assert storage.load_pending_commit(G) == (3, b"commit-b")
    assert stored(storage, G)[:2] == (3, b"s3")  # creating a commit does not change the state (§14)
    assert storage.discard_pending_commit(G) is True
    assert storage.discard_pending_commit(G) is False
    assert storage.load_pending_commit(G) is None


def test_pending_commit_needs_current_epoch(storage: Storage) -> None:
    with pytest.raises(StateError):
        storage.save_pending_commit(G, 0, b"c", expected_version=ver(storage, G))  # type: ignore[arg-type]  # no group
    storage.save_epoch(G, 3, b"s3", expected_version=ver(storage, G))
    for wrong in (2, 4):
        with pytest.raises(StateError):
            storage.save_pending_commit(G, wrong, b"c", expected_version=cur(storage, G))
    assert storage.load_pending_commit(G) is None
    assert storage.discard_pending_commit(H) is False


# -- resumption PSKs -------------------------------------------------------------------------


def test_resumption_psks_bounded(make_storage: Factory) -> None:
    s = make_storage(max_resumption_psks=3)
    for e in range(6):
        s.save_epoch(G, e, b"s%d" % e, resumption_psk=b"psk%d" % e, expected_version=ver(s, G))
    assert s.list_resumption_psk_epochs(G) == [3, 4, 5]
    assert s.load_resumption_psk(G, 5) == b"psk5"
    assert s.load_resumption_psk(G, 2) is None
    s.save_resumption_psk(G, 4, b"psk4-replaced")
    assert s.load_resumption_psk(G, 4) == b"psk4-replaced"
    s.save_resumption_psk(G, 1, b"old")  # older than the kept window: pruned at once
    assert s.list_resumption_psk_epochs(G) == [3, 4, 5]
    s.save_resumption_psk(H, 9, b"h9")
    assert s.list_resumption_psk_epochs(H) == [9]
    assert s.list_resumption_psk_epochs(G) == [3, 4, 5]


def test_resumption_psks_disabled(make_storage: Factory) -> None:
    s = make_storage(max_resumption_psks=0)
    s.save_epoch(G, 1, b"s1", resumption_psk=b"p1", expected_version=ver(s, G))
    s.save_resumption_psk(G, 1, b"p1")
    assert s.list_resumption_psk_epochs(G) == []
    assert s.load_resumption_psk(G, 1) is None


# -- argument checks, repr, lifecycle --------------------------------------------------------


def test_uint64_epoch_range(storage: Storage) -> None:
    top = (1 << 64) - 1
    storage.save_epoch(G, top - 1, b"a", resumption_psk=b"p", expected_version=ver(storage, G))
    storage.save_epoch(G, top, b"b", resumption_psk=b"q", expected_version=ver(storage, G))
    assert stored(storage, G)[:2] == (top, b"b")
    assert storage.list_resumption_psk_epochs(G) == [top - 1, top]
    for bad in (-1, 1 << 64):
        with pytest.raises(MLSError):
            storage.save_epoch(H, bad, b"x", expected_version=ver(storage, H))
        with pytest.raises(MLSError):
            storage.load_epoch(H, bad)
    assert storage.list_groups() == [G]


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.save_epoch("group", 1, b"x"),
        lambda s: s.save_epoch(G, True, b"x"),
        lambda s: s.save_epoch(G, 1.0, b"x"),
        lambda s: s.save_epoch(G, 1, "state"),
        lambda s: s.save_epoch(G, 1, b"x", resumption_psk=5),
        lambda s: s.save_epoch(G, 1, b"x", delete_before_epoch=-2),
        lambda s: s.put_key_package(None, b"x"),
        lambda s: s.get_key_package("ref"),
        lambda s: s.save_pending_commit(G, 1, None, expected_version=0),
        lambda s: s.save_resumption_psk(G, 1, [1, 2]),
    ],
)
def test_bad_arguments_raise_mls_error(storage: Storage, call: object) -> None:
    before = snapshot(storage)
    with pytest.raises(MLSError):
        call(storage)  # type: ignore[operator]
    assert snapshot(storage) == before


@pytest.mark.parametrize("option", [{"past_epochs": -1}, {"max_resumption_psks": "3"}, {"past_epochs": True}])
def test_bad_options(make_storage: Factory, option: dict[str, object]) -> None:
    with pytest.raises(MLSError):
        make_storage(**option)


def test_no_secrets_in_repr(storage: Storage) -> None:
    storage.put_key_package(b"ref", SECRET)
    storage.save_epoch(G, 1, SECRET, resumption_psk=SECRET, expected_version=ver(storage, G))
    storage.save_pending_commit(G, 1, SECRET, expected_version=cur(storage, G))
    texts = [repr(storage), repr(storage.load_group(G)), repr(storage.load_pending_commit(G)), str(storage)]
    for text in texts:
        assert SECRET.hex() not in text and repr(SECRET) not in text and "5ec7e" not in text, text
    assert repr(storage.load_group(G)) == f"StoredEpoch(epoch=1, state=<{len(SECRET)} bytes>, version=2)"


def test_closed_storage_refuses(storage: Storage) -> None:
    storage.save_epoch(G, 1, b"s1", expected_version=ver(storage, G))
    storage.close()
    storage.close()  # idempotent
    with pytest.raises(StateError):
        storage.load_group(G)
    with pytest.raises(StateError):
        storage.save_epoch(G, 2, b"s2", expected_version=ver(storage, G))


def test_context_manager_closes(make_storage: Factory) -> None:
    with make_storage() as s:
        s.save_epoch(G, 1, b"s1", expected_version=ver(s, G))
    with pytest.raises(StateError):
        s.list_groups()


def test_threads_consume_a_key_package_once(storage: Storage) -> None:
    storage.put_key_package(b"kp", b"priv")
    got: list[bytes | None] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def worker(i: int) -> None:
        try:
            barrier.wait()
            got.append(storage.consume_key_package(b"kp"))
            version = None
            for e in range(5):
                version = storage.save_epoch(b"t%d" % i, e, b"%d-%d" % (i, e), expected_version=version)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(got, key=lambda v: v or b"") == [None] * 7 + [b"priv"]
    assert storage.list_groups() == sorted(b"t%d" % i for i in range(8))
    assert all(stored(storage, b"t%d" % i)[:2] == (4, b"%d-4" % i) for i in range(8))


def test_threads_racing_to_join_with_one_key_package(storage: Storage) -> None:
    storage.put_key_package(b"kp", b"priv")
    ok: list[int] = []
    refused: list[int] = []
    barrier = threading.Barrier(6)

    def worker(i: int) -> None:
        barrier.wait()
        try:
            storage.save_epoch(b"j%d" % i, 1, b"state", consumed_key_package=b"kp", expected_version=ver(storage, b"j%d" % i))
            ok.append(i)
        except StateError:
            refused.append(i)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ok) == 1 and len(refused) == 5
    assert storage.list_groups() == [b"j%d" % ok[0]]


@pytest.mark.parametrize("keep", [0, 1, 2, 4])
def test_retention_after_every_transition(make_storage: Factory, keep: int) -> None:
    s = make_storage(past_epochs=keep, max_resumption_psks=keep + 1)
    for e in range(8):
        s.save_epoch(G, e, b"s%d" % e, resumption_psk=b"p%d" % e, expected_version=ver(s, G))
        window = list(range(max(0, e - keep), e + 1))
        assert s.list_epochs(G) == window
        assert s.list_resumption_psk_epochs(G) == window
        assert all(s.load_epoch(G, x) == b"s%d" % x for x in window)


# -- rows (per-message writes, compare-and-swap per row) ---------------------------------------


def test_rows_compare_and_swap(storage: Storage) -> None:
    v = storage.save_epoch(G, 1, b"s1", rows=[(b"a", b"1"), (b"b", b"2")])
    assert storage.load_group(G) == StoredEpoch(1, b"s1", v, ((b"a", b"1"), (b"b", b"2")))
    # a row-only write: each row's prior value is checked, the version is kept
    assert storage.update_state(G, 1, None, expected_version=v, rows=[(b"a", b"1", b"1'"), (b"c", None, b"3")]) == v
    assert storage.load_rows(G, 1) == [(b"a", b"1'"), (b"b", b"2"), (b"c", b"3")]
    before = snapshot(storage)
    for stale in ([(b"a", b"1", b"x")], [(b"c", None, b"x")], [(b"b", b"2", None), (b"zz", b"?", None)]):
        with pytest.raises(ConcurrentModificationError):
            storage.update_state(G, 1, None, expected_version=v, rows=stale)
        assert snapshot(storage) == before  # load_group (in the snapshot) includes the rows
    with pytest.raises(ConcurrentModificationError):  # the version is still checked
        storage.update_state(G, 1, None, expected_version=v + 1, rows=[(b"b", b"2", None)])
    with pytest.raises(MLSError):
        storage.update_state(G, 1, None, expected_version=v, rows=[(b"a", None, b"x"), (b"a", None, b"y")])
    # a state write with rows bumps the version; deleting a row
    v2 = storage.update_state(G, 1, b"s1'", expected_version=v, rows=[(b"b", b"2", None)])
    assert v2 == v + 1 and storage.load_rows(G, 1) == [(b"a", b"1'"), (b"c", b"3")]


def test_epoch_change_checks_the_rows_seen_and_drops_old_rows(storage: Storage) -> None:
    v = storage.save_epoch(G, 1, b"s1", rows=[(b"a", b"1")])
    storage.update_state(G, 1, None, expected_version=v, rows=[(b"a", b"1", b"2")])
    before = snapshot(storage)
    with pytest.raises(ConcurrentModificationError):  # a writer that saw a = 1 is stale
        storage.save_epoch(G, 2, b"s2", expected_version=v, expected_rows=[(b"a", b"1")], rows=[(b"n", b"0")])
    assert snapshot(storage) == before
    v3 = storage.save_epoch(G, 2, b"s2", expected_version=v, expected_rows=[(b"a", b"2")], rows=[(b"n", b"0")])
    assert storage.load_group(G) == StoredEpoch(2, b"s2", v3, ((b"n", b"0"),))
    assert storage.load_rows(G, 1) == []  # gone with the epoch-1 state (§9.2)
    assert storage.delete_group(G) and storage.load_rows(G, 2) == []
