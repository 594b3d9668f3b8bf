"""The storage interface: opaque blobs for group states, pending commits, resumption PSKs
and KeyPackage private keys.

The group engine serialises a member's whole state for one epoch to opaque ``bytes`` (its
own versioned format); storage never parses it. What storage does guarantee:

* **Atomic epoch transitions.** :meth:`Storage.save_epoch` is one transaction: it writes the
  new epoch's state, drops the pending commit, deletes past epoch states beyond the retention
  count, stores the new epoch's ``resumption_psk`` and deletes the KeyPackage private key
  that was consumed to join. A process killed at any point leaves either the old epoch or
  the new one, never a mix.
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
  (:class:`~mls_pq.errors.StateError` otherwise), which also catches two writers racing.

Every failure is an :class:`~mls_pq.errors.MLSError`: :class:`~mls_pq.errors.StateError`
for an operation the stored state does not allow (or a storage back end failure),
plain :class:`~mls_pq.errors.MLSError` for an argument of the wrong type or range.
No method puts secret material in a ``repr`` or an exception message.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import NamedTuple, Self

from ..errors import MLSError

MAX_UINT64 = (1 << 64) - 1

#: Default number of past full epoch states kept after an epoch transition.
DEFAULT_PAST_EPOCHS = 0
#: Default number of ``resumption_psk`` values kept per group (RFC 9420 §8.6 upper limit).
DEFAULT_MAX_RESUMPTION_PSKS = 8


class StoredEpoch(NamedTuple):
    """A group's state blob for one epoch. The repr shows only the blob's length."""

    epoch: int
    state: bytes

    def __repr__(self) -> str:
        return f"StoredEpoch(epoch={self.epoch}, state=<{len(self.state)} bytes>)"


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
        resumption_psk: bytes | None = None,
        consumed_key_package: bytes | None = None,
        delete_before_epoch: int | None = None,
    ) -> None:
        """Make ``epoch`` the group's current epoch, in ONE transaction:

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
           concurrent consumer cannot make two joins from one KeyPackage.

        On any error nothing is changed.
        """

    @abstractmethod
    def update_state(self, group_id: bytes, epoch: int, state: bytes) -> None:
        """Overwrite the stored state of ``epoch`` (the current one or a retained past one)
        within the epoch, e.g. after ratchet secrets were consumed (RFC 9420 §9.2). The
        pending commit is kept. StateError if that epoch's state is not stored."""

    @abstractmethod
    def load_group(self, group_id: bytes) -> StoredEpoch | None:
        """The group's current epoch and state, or None if the group is not stored."""

    @abstractmethod
    def load_epoch(self, group_id: bytes, epoch: int) -> bytes | None:
        """The state of ``epoch`` if stored (the current one or a retained past one)."""

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
    def delete_group(self, group_id: bytes, *, keep_resumption_psks: bool = False) -> bool:
        """Delete every state, the pending commit and (unless ``keep_resumption_psks``, e.g.
        for a pending ReInit, RFC 9420 §11.2) the resumption PSKs of the group.
        True if the group had a stored state."""

    # -- pending commit (RFC 9420 §12.4) -----------------------------------------------------

    @abstractmethod
    def save_pending_commit(self, group_id: bytes, epoch: int, commit: bytes, *, replace: bool = False) -> None:
        """Store the commit this member created in ``epoch``. StateError if the group is not
        stored, ``epoch`` is not its current epoch, or a commit is pending and not
        ``replace``. The group state itself is not modified (§14: creating a Commit MUST NOT
        change the client's state)."""

    @abstractmethod
    def load_pending_commit(self, group_id: bytes) -> PendingCommit | None:
        """The pending commit, or None."""

    @abstractmethod
    def discard_pending_commit(self, group_id: bytes) -> bool:
        """Delete the pending commit. True if there was one."""

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
