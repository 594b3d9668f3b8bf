"""The storage interface: opaque blobs for group states, pending commits, resumption PSKs
and KeyPackage private keys.

The group engine serialises a member's whole state for one epoch to opaque ``bytes`` (its
own versioned format); storage never parses it. What storage does guarantee:

* **Optimistic concurrency: no lost update.** Every stored group has a ``version``, an
  integer returned by :meth:`Storage.load_group` (:attr:`StoredEpoch.version`). Every write
  that changes the group's current state or its pending commit
  (:meth:`~Storage.save_epoch`, :meth:`~Storage.update_state`,
  :meth:`~Storage.save_pending_commit`, and :meth:`~Storage.discard_pending_commit` /
  :meth:`~Storage.delete_group` when given ``expected_version``) is a compare-and-swap: it
  names the version its writer read (``expected_version``; ``None`` for "the group is not
  stored") and, in ONE transaction, checks it, applies the change and increments the
  version by exactly one (row-only writes excepted, see "Rows" below). A writer whose
  version is stale gets :class:`~mls_pq.errors.ConcurrentModificationError` (a
  ``StateError``), nothing is written, and it must reload. This holds between objects of one process and between
  processes sharing one SQLite file (the check and the write are one ``BEGIN IMMEDIATE``
  transaction). Versions never go back, even across :meth:`~Storage.delete_group` (the
  counter survives the group), so a version seen once is never valid again (no ABA).
  Consequences for the group engine (:mod:`mls_pq.group.persistence`): a ratchet
  generation is written (reserved) before its key encrypts anything, so two processes can
  never send with the same key and nonce; a received message's consumed key is written
  before the message is reported, and a stale process cannot write the key back; a pending
  commit is never replaced by a concurrent one (only with an explicit ``replace=True`` *and*
  a current version).
* **Rows: writes proportional to the change.** Besides its state blob, each stored epoch
  has small opaque *rows* (key -> value; the group engine keeps one per sender ratchet and
  per live secret-tree node, RFC 9420 §9). A message changes one or a few rows: pass them
  as ``rows=[(key, prior, new), ...]`` to :meth:`~Storage.update_state` with ``state=None``
  and only those rows are written, in one transaction that also checks the version. Each row change is itself a compare-and-swap: the stored value must be
  ``prior`` (None: absent) or the whole write fails with ConcurrentModificationError.
  ``new`` None deletes the row. A row-only write checks ``expected_version`` but does not
  increment it (so it writes one small page, not two): rows are protected by their own
  compare-and-swap, and a writer leaving the epoch names the rows it saw
  (``save_epoch(expected_rows=...)``), so a stale view of the rows can never be carried
  into the next epoch either. :meth:`~Storage.save_epoch` writes the new epoch's initial
  rows; rows are deleted together with their epoch's state (§9.2).
* **Sending reservations in blocks.** ``reserve_block`` (R, a setting of the storage
  object: :class:`~mls_pq.storage.SQLiteStorage` defaults to
  :data:`DEFAULT_RESERVE_BLOCK` = 32, :class:`~mls_pq.storage.MemoryStorage` to 1) is how
  many generations of its own application ratchet a member reserves per write: when its
  reservation is used up, ``encrypt`` writes (one durable compare-and-swap row write) the
  ratchet row advanced by R generations, keeps the chain secret of the reserved generations
  in memory only, and the next R-1 messages write nothing. Two processes therefore reserve
  disjoint blocks (the row compare-and-swap), and a restarted process continues after the
  stored block. A crash (or :meth:`~mls_pq.group.member.Group.reload`) loses at most the
  unused R-1 reserved generations: receivers see a gap of at most R-1 generations, which
  they accept as a forward jump (R is capped at the group's ``max_skip`` and ``window``,
  :class:`~mls_pq.group.state.GroupOptions`). R = 1 writes before every message (no gap
  ever). Handshake messages (commits, proposals) are not reserved in blocks.
* **Durability of received messages.** A row-only write with ``durable=False`` (the group
  engine passes it for the consumed key of a received *application* message, and nothing
  else) may be committed without waiting for the disk: SQLite in WAL mode commits it with
  ``synchronous=NORMAL``. It is atomic and survives a crash of the process (it is in the
  WAL); only a power loss or OS crash can lose the last such writes (those after the last
  durable write), so after a power loss a received application message may be accepted
  once more. It never causes a nonce reuse: sending reservations, epoch changes, pending
  commits and every state blob write stay durable (``synchronous=FULL``), and a durable
  write also makes the earlier non-durable ones durable. (In the rollback-journal mode and
  in memory ``durable`` changes nothing.)
* **Atomic epoch transitions.** :meth:`Storage.save_epoch` is one transaction: it writes the
  new epoch's state, drops the pending commit, deletes past epoch states beyond the retention
  count, stores the new epoch's ``resumption_psk`` and deletes the KeyPackage private key
  that was consumed to join. A process killed at any point leaves either the old epoch or
  the new one, never a mix.
* **Transactions spanning several writes: ``with storage.atomic():``.** Every write made
  inside the block (by any Group object using this storage, in this thread) becomes durable
  together when the outermost block exits normally, or not at all: an exception leaving a
  block rolls back every write made inside it (and re-raises), and a process that dies
  inside the block leaves the storage as it was before the block. Blocks nest (an inner
  block that fails rolls back only its own writes, SAVEPOINT-style). Each write inside
  still performs its own checks (compare-and-swap on ``expected_version``, row priors,
  monotonic epochs) and its failure rolls back just that write, as outside a block; the
  versions returned inside are the ones the group will have if the block commits. Used by
  the APQ combiner (:mod:`mls_pq.apq.group`) to write the epochs of its two sessions at once,
  so that a crash never leaves them at inconsistent epochs. The object's lock is held for
  the whole block (other threads' writes wait); inside a block ``durable=False`` is ignored
  (the block commits durably) and WAL checkpoints happen once, at the outermost commit.
* **Deletion schedule (RFC 9420 §9.2).** Consumed secrets are deleted as part of the same
  transaction that makes them obsolete: the previous epoch's state (which holds its
  ``init_secret`` and secret tree) once the new epoch is saved, unless the application keeps
  a bounded number of past epochs to decrypt late messages (§12.4.2 "might keep the secret
  tree for a short time"); overwritten same-epoch states (consumed ratchet secrets); and a
  KeyPackage private key once it has been used to join (§10, §16.8: KeyPackages are used
  once, except "last resort" ones).
* **Bounded resumption PSKs (RFC 9420 §8.6).** "The application SHOULD specify an upper
  limit on the number of past epochs for which the resumption_psk may be stored":
  ``max_resumption_psks`` per group, the newest epochs are kept.
* **Monotonic epochs.** A saved epoch must be greater than the stored one
  (:class:`~mls_pq.errors.StateError` otherwise).
* **Integrity of what is read back** (back ends that serialise, i.e. SQLite): every stored
  value carries a SHA-256 digest over the value and the row it belongs to (table, group,
  epoch, ref); a value whose digest does not match is reported as
  :class:`~mls_pq.errors.CorruptStateError`, never returned. This detects accidental
  corruption (bit flips, torn or misplaced writes, a row copied to another key); it is NOT
  an authenticity check: anyone who can write the file can recompute the digest. Protect
  the file (permissions, disk encryption) against a deliberate attacker.

What is NOT guaranteed: fairness (a writer that keeps losing the race keeps getting
``ConcurrentModificationError``); writes that do not touch a group's state are not
versioned (KeyPackages: put and consume are atomic on their own; resumption PSKs: an
epoch's value never changes; :meth:`~Storage.delete_past_epochs` only drops retained past
states and leaves the version alone).

Every failure is an :class:`~mls_pq.errors.MLSError`: :class:`~mls_pq.errors.StateError`
for an operation the stored state does not allow (or a storage back end failure),
plain :class:`~mls_pq.errors.MLSError` for an argument of the wrong type or range.
No method puts secret material in a ``repr`` or an exception message.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from types import TracebackType
from collections.abc import Iterable, Sequence
from typing import NamedTuple, Self

from ..errors import ConcurrentModificationError, MLSError

MAX_UINT64 = (1 << 64) - 1

#: Default number of past full epoch states kept after an epoch transition.
DEFAULT_PAST_EPOCHS = 0
#: Default number of ``resumption_psk`` values kept per group (RFC 9420 §8.6 upper limit).
DEFAULT_MAX_RESUMPTION_PSKS = 8
#: Default generations a member reserves per sending write with :class:`SQLiteStorage`
#: (see "Sending reservations in blocks" above); 1 reserves one generation per message.
DEFAULT_RESERVE_BLOCK = 32
#: Largest accepted ``reserve_block`` (the group's ``max_skip``/``window`` cap it further).
MAX_RESERVE_BLOCK = 1024


#: one row change: (key, prior value or None if absent, new value or None to delete)
RowChange = tuple[bytes, bytes | None, bytes | None]


class StoredEpoch(NamedTuple):
    """A group's current epoch, its state blob, the group's storage ``version`` (the value
    to pass as ``expected_version`` to the next write) and the epoch's rows, by key. The
    repr shows only sizes."""

    epoch: int
    state: bytes
    version: int = 0
    rows: tuple[tuple[bytes, bytes], ...] = ()

    def __repr__(self) -> str:
        return (
            f"StoredEpoch(epoch={self.epoch}, state=<{len(self.state)} bytes>, version={self.version}"
            + (f", rows={len(self.rows)}" if self.rows else "")
            + ")"
        )


class PendingCommit(NamedTuple):
    """A commit this member created in ``epoch`` and has not merged yet (RFC 9420 §12.4)."""

    epoch: int
    commit: bytes

    def __repr__(self) -> str:
        return f"PendingCommit(epoch={self.epoch}, commit=<{len(self.commit)} bytes>)"


def check_bytes(value: object, what: str) -> bytes:
    """Return ``value`` as ``bytes``; accepts bytes, bytearray and memoryview."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    raise MLSError(f"{what} must be bytes, not {type(value).__name__}")


def check_epoch(value: object, what: str = "epoch") -> int:
    """Return ``value`` if it is a uint64 (RFC 9420 §8: ``uint64 epoch``)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise MLSError(f"{what} must be an int, not {type(value).__name__}")
    if not 0 <= value <= MAX_UINT64:
        raise MLSError(f"{what} {value} is outside uint64")
    return value


def check_save_epoch_args(
    group_id: object,
    epoch: object,
    state: object,
    resumption_psk: object,
    consumed_key_package: object,
    delete_before_epoch: object,
) -> tuple[bytes, int, bytes, bytes | None, bytes | None, int | None]:
    """The checked arguments of :meth:`Storage.save_epoch`, shared by every back end."""
    return (
        check_bytes(group_id, "group_id"),
        check_epoch(epoch),
        check_bytes(state, "state"),
        None if resumption_psk is None else check_bytes(resumption_psk, "resumption_psk"),
        None if consumed_key_package is None else check_bytes(consumed_key_package, "consumed_key_package"),
        None if delete_before_epoch is None else check_epoch(delete_before_epoch, "delete_before_epoch"),
    )


def check_update_state_args(
    group_id: object, epoch: object, state: object, expected_version: object, rows: object
) -> tuple[bytes, int, bytes | None, int | None, list[tuple[bytes, bytes | None, bytes | None]]]:
    """The checked arguments of :meth:`Storage.update_state`, shared by every back end."""
    return (
        check_bytes(group_id, "group_id"),
        check_epoch(epoch),
        None if state is None else check_bytes(state, "state"),
        check_version(expected_version),
        check_row_changes(rows),
    )


def check_save_pending_commit_args(
    group_id: object, epoch: object, commit: object, state: object, expected_version: object, rows: object
) -> tuple[bytes, int, bytes, bytes | None, int | None, list[tuple[bytes, bytes | None, bytes | None]]]:
    """The checked arguments of :meth:`Storage.save_pending_commit`, shared by every back end."""
    return (
        check_bytes(group_id, "group_id"),
        check_epoch(epoch),
        check_bytes(commit, "commit"),
        None if state is None else check_bytes(state, "state"),
        check_version(expected_version),
        check_row_changes(rows),
    )


def check_version(value: object, what: str = "expected_version") -> int | None:
    """Return ``value`` if it is None or a non-negative int (a group version)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MLSError(f"{what} must be None or a non-negative int")
    return value


def check_cas(stored: int | None, expected: int | None, *, exists: bool) -> None:
    """The compare-and-swap check shared by every back end. ``stored`` is the group's
    version counter (None if it never existed), ``exists`` whether a state is stored;
    ``expected`` None means "the group is not stored"."""
    if expected is None:
        if exists:
            raise ConcurrentModificationError(
                f"the group is already stored (version {stored}); load it and pass its version"
            )
        return
    if not exists or stored != expected:
        now = f"version {stored}" if exists else "no stored state"
        raise ConcurrentModificationError(
            f"the stored group changed since it was read (expected version {expected}, found {now}): reload it"
        )


def check_rows(rows: object) -> list[tuple[bytes, bytes]]:
    """Initial rows ``[(key, value), ...]``, keys unique."""
    out = [(check_bytes(k, "row key"), check_bytes(v, "row value")) for k, v in _pairs(rows, 2)]
    if len({k for k, _ in out}) != len(out):
        raise MLSError("row keys must be unique")
    return out


def check_row_changes(changes: object) -> list[tuple[bytes, bytes | None, bytes | None]]:
    """Row changes ``[(key, prior, new), ...]``, keys unique."""
    out = [
        (
            check_bytes(k, "row key"),
            None if p is None else check_bytes(p, "row prior"),
            None if n is None else check_bytes(n, "row value"),
        )
        for k, p, n in _pairs(changes, 3)
    ]
    if len({k for k, _, _ in out}) != len(out):
        raise MLSError("row keys must be unique")
    return out


def _pairs(items: object, width: int) -> list[tuple[object, ...]]:
    if isinstance(items, (bytes, str)) or not isinstance(items, Iterable):
        raise MLSError("rows must be a sequence of tuples")
    out = [tuple(x) if isinstance(x, (tuple, list)) else () for x in items]
    if any(len(x) != width for x in out):
        raise MLSError(f"each row must be a tuple of {width}")
    return out


def check_reserve_block(value: object) -> int:
    """Return ``value`` if it is an int from 1 to :data:`MAX_RESERVE_BLOCK`."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_RESERVE_BLOCK:
        raise MLSError(f"reserve_block must be an int from 1 to {MAX_RESERVE_BLOCK}")
    return value


def check_count(value: object, what: str) -> int:
    """Return ``value`` if it is a non-negative int (a retention count)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MLSError(f"{what} must be a non-negative int")
    return value


class Storage(ABC):
    """Persistent state of one MLS client: groups, pending commits, resumption PSKs and
    KeyPackage private keys, all as opaque blobs.

    Implementations are thread-safe (one lock per object) and every method is atomic.
    ``past_epochs`` is how many full past epoch states :meth:`save_epoch` keeps (default 0:
    the old state is deleted in the transition's transaction); ``max_resumption_psks`` caps
    the stored ``resumption_psk`` values per group.
    """

    past_epochs: int
    max_resumption_psks: int
    #: generations of its own application ratchet a member reserves per write (see the
    #: module documentation, "Sending reservations in blocks")
    reserve_block: int = 1

    # -- KeyPackage private keys (RFC 9420 §10, §16.8) -------------------------------------

    @abstractmethod
    def put_key_package(self, ref: bytes, private_bundle: bytes, *, last_resort: bool = False) -> None:
        """Store the private material of a published KeyPackage under its KeyPackageRef
        (RFC 9420 §5.2). A ``last_resort`` KeyPackage survives being consumed (§16.8).
        Raises StateError if ``ref`` is already stored."""

    @abstractmethod
    def get_key_package(self, ref: bytes) -> bytes | None:
        """The private bundle stored under ``ref``, without consuming it, or None."""

    @abstractmethod
    def consume_key_package(self, ref: bytes) -> bytes | None:
        """Return the private bundle under ``ref`` and delete it in the same transaction
        (kept if it is a last-resort KeyPackage); None if absent."""

    @abstractmethod
    def delete_key_package(self, ref: bytes) -> bool:
        """Delete the bundle under ``ref`` (also a last-resort one). True if it existed."""

    @abstractmethod
    def list_key_packages(self) -> list[bytes]:
        """The stored KeyPackageRefs, sorted."""

    # -- group states ----------------------------------------------------------------------

    @abstractmethod
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
        """Make ``epoch`` the group's current epoch, in ONE transaction, and return the
        group's new version (``rows``: the new epoch's initial rows; rows of deleted epoch
        states are deleted with them; ``expected_rows``: if given, the current epoch's rows
        must be exactly these, ConcurrentModificationError otherwise):

        0. compare-and-swap: ``expected_version`` must be the stored version (None: no state
           of the group is stored); ConcurrentModificationError otherwise;
        1. check ``epoch`` is greater than the stored current epoch (StateError otherwise);
           a group not stored yet (joined by Welcome, created, external commit) is created;
        2. write ``state`` as the new current epoch state;
        3. drop the group's pending commit (merged, or superseded by another commit);
        4. delete past epoch states older than ``delete_before_epoch`` and all but the
           newest ``past_epochs`` of them (RFC 9420 §9.2 deletion schedule);
        5. store ``resumption_psk`` for ``epoch`` if given and prune to
           ``max_resumption_psks`` (§8.6);
        6. delete the KeyPackage private key ``consumed_key_package`` (the one used to join
           by Welcome, §12.4.3.1) unless it is last resort; StateError if it is absent, so a
           concurrent consumer cannot make two joins from one KeyPackage;
        7. increment the version.

        On any error nothing is changed.
        """

    @abstractmethod
    def update_state(
        self,
        group_id: bytes,
        epoch: int,
        state: bytes | None,
        *,
        expected_version: int,
        rows: Sequence[RowChange] = (),
        durable: bool = True,
    ) -> int:
        """Overwrite the stored state of ``epoch`` (the current one or a retained past one;
        ``None``: keep it) and apply the row changes (each a compare-and-swap on its prior
        value), within the epoch, e.g. after ratchet secrets were consumed (RFC 9420 §9.2),
        if the group's version is still ``expected_version`` (ConcurrentModificationError
        otherwise, or if a row's prior value differs); returns the new version (unchanged
        for a row-only write, ``state=None``). The pending commit is kept. StateError if that
        epoch's state is not stored. ``durable=False`` (row-only writes only; ignored when
        ``state`` is given): the write may be committed without waiting for the disk (see
        "Durability of received messages" in the module documentation)."""

    @abstractmethod
    def load_rows(self, group_id: bytes, epoch: int) -> list[tuple[bytes, bytes]]:
        """The rows of a stored epoch, by key ([] if none)."""

    @abstractmethod
    def load_group(self, group_id: bytes) -> StoredEpoch | None:
        """The group's current epoch and state, or None if the group is not stored."""

    @abstractmethod
    def load_epoch(self, group_id: bytes, epoch: int) -> bytes | None:
        """The state blob of ``epoch`` if stored (the current one or a retained past one);
        its rows: :meth:`load_rows`."""

    @abstractmethod
    def list_epochs(self, group_id: bytes) -> list[int]:
        """Epochs whose full state is stored for the group, ascending (current is last)."""

    @abstractmethod
    def delete_past_epochs(self, group_id: bytes, before_epoch: int | None = None) -> int:
        """Delete retained past epoch states (those older than ``before_epoch`` if given);
        the current epoch is never deleted here. Returns how many were deleted."""

    @abstractmethod
    def list_groups(self) -> list[bytes]:
        """The stored group ids, sorted."""

    @abstractmethod
    def delete_group(
        self, group_id: bytes, *, keep_resumption_psks: bool = False, expected_version: int | None = None
    ) -> bool:
        """Delete every state, the pending commit and (unless ``keep_resumption_psks``, e.g.
        for a pending ReInit, RFC 9420 §11.2) the resumption PSKs of the group.
        True if the group had a stored state. With ``expected_version`` this is a
        compare-and-swap (ConcurrentModificationError if the group changed); without, an
        unconditional administrative delete. The version counter survives (incremented)."""

    # -- pending commit (RFC 9420 §12.4) -----------------------------------------------------

    @abstractmethod
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
        """Store the commit this member created in ``epoch`` and, if given, the current
        epoch's ``state`` and row changes (the handshake ratchet the commit may have
        advanced) in ONE compare-and-swap transaction; returns the new version. ConcurrentModificationError
        if the version is not ``expected_version``; StateError if the group is not stored,
        ``epoch`` is not its current epoch, or a commit is pending and not ``replace`` (a
        pending commit is never replaced implicitly). The epoch itself does not change
        (§14: creating a Commit MUST NOT change the client's state)."""

    @abstractmethod
    def load_pending_commit(self, group_id: bytes) -> PendingCommit | None:
        """The pending commit, or None."""

    @abstractmethod
    def discard_pending_commit(self, group_id: bytes, *, expected_version: int | None = None) -> bool:
        """Delete the pending commit. True if there was one (then the version is
        incremented by one; with no pending commit nothing changes). With
        ``expected_version``: ConcurrentModificationError if the group's version differs."""

    # -- resumption PSKs (RFC 9420 §8.6) -----------------------------------------------------

    @abstractmethod
    def save_resumption_psk(self, group_id: bytes, epoch: int, psk: bytes) -> None:
        """Store the ``resumption_psk`` of ``epoch`` (replacing one stored for that epoch)
        and keep only the newest ``max_resumption_psks`` epochs of the group."""

    @abstractmethod
    def load_resumption_psk(self, group_id: bytes, epoch: int) -> bytes | None:
        """The ``resumption_psk`` of ``epoch``, or None if not (or no longer) stored."""

    @abstractmethod
    def list_resumption_psk_epochs(self, group_id: bytes) -> list[int]:
        """Epochs whose ``resumption_psk`` is stored, ascending."""

    # -- transactions ------------------------------------------------------------------------

    @abstractmethod
    def atomic(self) -> AbstractContextManager[None]:
        """A context manager: every write inside the block commits together when the
        outermost block exits normally, or not at all (see "Transactions spanning several
        writes" in the module documentation). Nestable."""

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        """Release resources. Further calls raise StateError."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
