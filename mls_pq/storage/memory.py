"""In-memory :class:`~mls_pq.storage.base.Storage` (tests, ephemeral clients).

Hand-written (mls-pq, pure Python): plain dicts behind one lock. Each method validates
everything first and then applies its changes, so a failed call changes nothing.
Deleted values are dropped from the dicts; Python gives no guarantee that the underlying
memory is overwritten, so this back end offers no more than that.

Concurrency: the same compare-and-swap contract as every back end (a ``version`` per group,
checked and incremented under the lock; the counter survives :meth:`delete_group`), so two
:class:`~mls_pq.group.member.Group` objects sharing one MemoryStorage cannot lose each
other's updates. Integrity: values are immutable ``bytes`` objects that are never
serialised, so there is nothing to checksum; a stored value is returned as it was given.
"""

from __future__ import annotations

import copy
import hmac
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from ..errors import ConcurrentModificationError, StateError
from .base import (
    DEFAULT_MAX_RESUMPTION_PSKS,
    DEFAULT_PAST_EPOCHS,
    PendingCommit,
    RowChange,
    Storage,
    StoredEpoch,
    check_bytes,
    check_cas,
    check_count,
    check_epoch,
    check_reserve_block,
    check_rows,
    check_save_epoch_args,
    check_save_pending_commit_args,
    check_update_state_args,
    check_version,
)


@dataclass
class _Group:
    states: dict[int, bytes] = field(default_factory=dict)  # epoch -> state; max is current
    pending: PendingCommit | None = None
    rows: dict[int, dict[bytes, bytes]] = field(default_factory=dict)  # epoch -> key -> value

    @property
    def current(self) -> int:
        return max(self.states)


class MemoryStorage(Storage):
    """Storage held in process memory; lost when the object is dropped."""

    backend = "mls-pq (pure Python)"

    def __init__(
        self,
        *,
        past_epochs: int = DEFAULT_PAST_EPOCHS,
        max_resumption_psks: int = DEFAULT_MAX_RESUMPTION_PSKS,
        reserve_block: int = 1,
    ) -> None:
        self.past_epochs = check_count(past_epochs, "past_epochs")
        self.max_resumption_psks = check_count(max_resumption_psks, "max_resumption_psks")
        self.reserve_block = check_reserve_block(reserve_block)
        self._lock = threading.RLock()
        self._closed = False
        self._kps: dict[bytes, tuple[bytes, bool]] = {}  # ref -> (bundle, last_resort)
        self._groups: dict[bytes, _Group] = {}
        self._psks: dict[bytes, dict[int, bytes]] = {}
        self._versions: dict[bytes, int] = {}  # group id -> version; survives delete_group

    def __repr__(self) -> str:
        return (
            f"MemoryStorage(groups={len(self._groups)}, key_packages={len(self._kps)}, "
            f"past_epochs={self.past_epochs}, max_resumption_psks={self.max_resumption_psks})"
        )

    def _open(self) -> None:
        if self._closed:
            raise StateError("storage is closed")

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._kps.clear()
            self._groups.clear()
            self._psks.clear()
        self._versions.clear()

    # -- transactions ------------------------------------------------------------------------

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """All writes of the block or none (see :meth:`Storage.atomic`): the dicts are
        copied on entry (O(size of the storage): values are immutable bytes, only the
        containers are copied) and put back if the block raises. The lock is held
        throughout."""
        with self._lock:
            self._open()
            saved = (dict(self._kps), copy.deepcopy(self._groups), copy.deepcopy(self._psks), dict(self._versions))
            try:
                yield
            except BaseException:
                if not self._closed:
                    self._kps, self._groups, self._psks, self._versions = saved
                raise

    # -- KeyPackages -----------------------------------------------------------------------

    def put_key_package(self, ref: bytes, private_bundle: bytes, *, last_resort: bool = False) -> None:
        ref = check_bytes(ref, "ref")
        bundle = check_bytes(private_bundle, "private_bundle")
        with self._lock:
            self._open()
            if ref in self._kps:
                raise StateError("a KeyPackage with this ref is already stored")
            self._kps[ref] = (bundle, bool(last_resort))

    def get_key_package(self, ref: bytes) -> bytes | None:
        ref = check_bytes(ref, "ref")
        with self._lock:
            self._open()
            entry = self._kps.get(ref)
            return None if entry is None else entry[0]

    def consume_key_package(self, ref: bytes) -> bytes | None:
        ref = check_bytes(ref, "ref")
        with self._lock:
            self._open()
            entry = self._kps.get(ref)
            if entry is None:
                return None
            if not entry[1]:
                del self._kps[ref]
            return entry[0]

    def delete_key_package(self, ref: bytes) -> bool:
        ref = check_bytes(ref, "ref")
        with self._lock:
            self._open()
            return self._kps.pop(ref, None) is not None

    def list_key_packages(self) -> list[bytes]:
        with self._lock:
            self._open()
            return sorted(self._kps)

    # -- group states ----------------------------------------------------------------------

    def save_epoch(
        self,
        group_id: bytes,
        epoch: int,
        state: bytes,
        *,
        expected_version: int | None = None,
        resumption_psk: bytes | None = None,
        consumed_key_package: bytes | None = None,
        delete_before_epoch: int | None = None,
        rows: Sequence[tuple[bytes, bytes]] = (),
        expected_rows: Sequence[tuple[bytes, bytes]] | None = None,
    ) -> int:
        gid, epoch, state, psk, kp, before = check_save_epoch_args(
            group_id, epoch, state, resumption_psk, consumed_key_package, delete_before_epoch
        )
        expected = check_version(expected_version)
        initial = dict(check_rows(rows))
        seen_rows = None if expected_rows is None else dict(check_rows(expected_rows))
        with self._lock:
            self._open()
            group = self._groups.get(gid)
            check_cas(self._versions.get(gid), expected, exists=group is not None)
            if seen_rows is not None and group is not None and seen_rows != group.rows.get(group.current, {}):
                raise ConcurrentModificationError("the stored rows of the current epoch changed since they were read")
            if group is not None and epoch <= group.current:
                raise StateError(f"epoch {epoch} does not advance the stored epoch {group.current}")
            if kp is not None and kp not in self._kps:
                raise StateError("the consumed KeyPackage is not stored (already consumed?)")
            # All checks passed: apply.
            if group is None:
                group = self._groups[gid] = _Group()
            group.states[epoch] = state
            group.rows[epoch] = initial
            group.pending = None
            past = sorted(e for e in group.states if e != epoch)
            keep = set(past[max(0, len(past) - self.past_epochs) :])
            for e in past:
                if e not in keep or (before is not None and e < before):
                    del group.states[e]
                    group.rows.pop(e, None)
            if psk is not None:
                self._put_psk(gid, epoch, psk)
            if kp is not None and not self._kps[kp][1]:
                del self._kps[kp]
            return self._bump(gid)

    def _bump(self, gid: bytes) -> int:
        version = self._versions.get(gid, 0) + 1
        self._versions[gid] = version
        return version

    def update_state(
        self,
        group_id: bytes,
        epoch: int,
        state: bytes | None,
        *,
        expected_version: int,
        rows: Sequence[RowChange] = (),
        durable: bool = True,  # memory: nothing to sync
    ) -> int:
        gid, epoch, new_state, expected, changes = check_update_state_args(
            group_id, epoch, state, expected_version, rows
        )
        with self._lock:
            self._open()
            group = self._groups.get(gid)
            check_cas(self._versions.get(gid), expected, exists=group is not None)
            if group is None or epoch not in group.states:
                raise StateError(f"no stored state for this group at epoch {epoch}")
            self._apply_rows(group, epoch, changes)
            assert expected is not None  # the group is stored: the CAS refused None
            if new_state is None:
                return expected  # row-only: compare-and-swapped row by row, version kept
            group.states[epoch] = new_state
            return self._bump(gid)

    @staticmethod
    def _apply_rows(group: _Group, epoch: int, changes: list[tuple[bytes, bytes | None, bytes | None]]) -> None:
        """Check every row's prior value, then apply (all or nothing)."""
        table = group.rows.setdefault(epoch, {})
        for key, prior, _ in changes:
            have = table.get(key)
            if (have is None) != (prior is None) or (
                have is not None and prior is not None and not hmac.compare_digest(have, prior)
            ):
                raise ConcurrentModificationError("a stored row changed since it was read: reload")
        for key, _, new in changes:
            if new is None:
                table.pop(key, None)
            else:
                table[key] = new

    def load_rows(self, group_id: bytes, epoch: int) -> list[tuple[bytes, bytes]]:
        gid = check_bytes(group_id, "group_id")
        epoch = check_epoch(epoch)
        with self._lock:
            self._open()
            group = self._groups.get(gid)
            return [] if group is None else sorted(group.rows.get(epoch, {}).items())

    def load_group(self, group_id: bytes) -> StoredEpoch | None:
        gid = check_bytes(group_id, "group_id")
        with self._lock:
            self._open()
            group = self._groups.get(gid)
            if group is None:
                return None
            cur = group.current
            return StoredEpoch(cur, group.states[cur], self._versions[gid], tuple(sorted(group.rows.get(cur, {}).items())))

    def load_epoch(self, group_id: bytes, epoch: int) -> bytes | None:
        gid = check_bytes(group_id, "group_id")
        epoch = check_epoch(epoch)
        with self._lock:
            self._open()
            group = self._groups.get(gid)
            return None if group is None else group.states.get(epoch)

    def list_epochs(self, group_id: bytes) -> list[int]:
        gid = check_bytes(group_id, "group_id")
        with self._lock:
            self._open()
            group = self._groups.get(gid)
            return [] if group is None else sorted(group.states)

    def delete_past_epochs(self, group_id: bytes, before_epoch: int | None = None) -> int:
        gid = check_bytes(group_id, "group_id")
        before = None if before_epoch is None else check_epoch(before_epoch, "before_epoch")
        with self._lock:
            self._open()
            group = self._groups.get(gid)
            if group is None:
                return 0
            cur = group.current
            doomed = [e for e in group.states if e != cur and (before is None or e < before)]
            for e in doomed:
                del group.states[e]
                group.rows.pop(e, None)
            return len(doomed)

    def list_groups(self) -> list[bytes]:
        with self._lock:
            self._open()
            return sorted(self._groups)

    def delete_group(
        self, group_id: bytes, *, keep_resumption_psks: bool = False, expected_version: int | None = None
    ) -> bool:
        gid = check_bytes(group_id, "group_id")
        expected = check_version(expected_version)
        with self._lock:
            self._open()
            if expected is not None:
                check_cas(self._versions.get(gid), expected, exists=gid in self._groups)
            if not keep_resumption_psks:
                self._psks.pop(gid, None)
            existed = self._groups.pop(gid, None) is not None
            if existed:
                self._bump(gid)
            return existed

    # -- pending commit ----------------------------------------------------------------------

    def save_pending_commit(
        self,
        group_id: bytes,
        epoch: int,
        commit: bytes,
        *,
        expected_version: int,
        state: bytes | None = None,
        replace: bool = False,
        rows: Sequence[RowChange] = (),
    ) -> int:
        gid, epoch, commit, new_state, expected, changes = check_save_pending_commit_args(
            group_id, epoch, commit, state, expected_version, rows
        )
        with self._lock:
            self._open()
            group = self._groups.get(gid)
            if group is None:
                raise StateError("no stored state for this group")
            check_cas(self._versions.get(gid), expected, exists=True)
            if epoch != group.current:
                raise StateError(f"pending commit epoch {epoch} is not the current epoch {group.current}")
            if group.pending is not None and not replace:
                raise StateError("a commit is already pending for this group")
            self._apply_rows(group, epoch, changes)
            group.pending = PendingCommit(epoch, commit)
            if new_state is not None:
                group.states[epoch] = new_state
            return self._bump(gid)

    def load_pending_commit(self, group_id: bytes) -> PendingCommit | None:
        gid = check_bytes(group_id, "group_id")
        with self._lock:
            self._open()
            group = self._groups.get(gid)
            return None if group is None else group.pending

    def discard_pending_commit(self, group_id: bytes, *, expected_version: int | None = None) -> bool:
        gid = check_bytes(group_id, "group_id")
        expected = check_version(expected_version)
        with self._lock:
            self._open()
            group = self._groups.get(gid)
            if expected is not None:
                check_cas(self._versions.get(gid), expected, exists=group is not None)
            if group is None or group.pending is None:
                return False
            group.pending = None
            self._bump(gid)
            return True

    # -- resumption PSKs ---------------------------------------------------------------------

    def _put_psk(self, gid: bytes, epoch: int, psk: bytes) -> None:
        table = self._psks.setdefault(gid, {})
        table[epoch] = psk
        for e in sorted(table)[: max(0, len(table) - self.max_resumption_psks)]:
            del table[e]
        if not table:
            del self._psks[gid]

    def save_resumption_psk(self, group_id: bytes, epoch: int, psk: bytes) -> None:
        gid = check_bytes(group_id, "group_id")
        epoch = check_epoch(epoch)
        psk = check_bytes(psk, "psk")
        with self._lock:
            self._open()
            self._put_psk(gid, epoch, psk)

    def load_resumption_psk(self, group_id: bytes, epoch: int) -> bytes | None:
        gid = check_bytes(group_id, "group_id")
        epoch = check_epoch(epoch)
        with self._lock:
            self._open()
            return self._psks.get(gid, {}).get(epoch)

    def list_resumption_psk_epochs(self, group_id: bytes) -> list[int]:
        gid = check_bytes(group_id, "group_id")
        with self._lock:
            self._open()
            return sorted(self._psks.get(gid, {}))
