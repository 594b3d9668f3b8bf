"""Wiring the group engine to :mod:`mls_pq.storage` (RFC 9420 §9.2 deletion, §8.6, §10, §12.4).

A :class:`~mls_pq.group.member.Group` with a ``storage`` writes every state change through
before it takes effect in memory (write-ahead), so a process that dies at any moment
restarts from a state the group really was in:

* an epoch change (merging our pending commit, processing a commit, joining by Welcome or
  external commit, creating a group) is ONE :meth:`~mls_pq.storage.Storage.save_epoch`
  transaction: the new state, the new epoch's ``resumption_psk`` (§8.6), dropping the
  pending commit, deleting past epoch states (§9.2) and — on a join by Welcome — deleting
  the consumed KeyPackage private key (§10, §16.8);
* a change inside an epoch (a ratchet key consumed by sending or receiving a
  PrivateMessage, a proposal cached) is an :meth:`~mls_pq.storage.Storage.update_state`
  written *before* the ciphertext is returned or the message is reported, so a restored
  member never reuses a key/nonce (§9.2) and never forgets a proposal it acknowledged;
* a commit we create is kept with :meth:`~mls_pq.storage.Storage.save_pending_commit`
  (after the current state, whose handshake ratchet it may have advanced, §14: the group
  state itself is unchanged until the commit is merged).

Concurrency (several processes or Group objects on one storage): every write above is a
compare-and-swap on the storage ``version`` the Group last read or wrote (see
:mod:`mls_pq.storage.base`). A Group whose view is stale gets
:class:`~mls_pq.errors.ConcurrentModificationError`, nothing is written and the Group is
unchanged; :meth:`~mls_pq.group.member.Group.reload` re-reads it. Hence: ``encrypt``
reserves its generation in storage *before* encrypting (two senders never share a key and
nonce), a received message's consumed key cannot be written back by a stale process (no
replay after reload), and ``commit`` stores its pending commit together with the state in
one CAS without ``replace`` (a concurrent commit is refused, never silently replaced: no
fork). :meth:`~mls_pq.group.member.Group.save` is the one explicit overwrite.

Integrity: the state blobs end with a SHA-256 digest and are validated field by field on
load (:class:`~mls_pq.errors.CorruptStateError`); SQLite additionally checks a per-row
digest. Both detect corruption, not forgery by someone who can write the storage.

Cost: each write serialises the member's whole state (O(N) in the group size, plus one
storage transaction); a Group without storage writes nothing.

Formats (hand-written for this package; storage treats them as opaque blobs): the group
state blob is :meth:`GroupState.to_bytes`; the pending-commit blob is
``opaque magic, opaque next_state, opaque commit_message``; KeyPackage private bundles are
:meth:`KeyPackageBundle.to_bytes` stored under their KeyPackageRef (§5.2).
"""

from __future__ import annotations

from ..codec import Reader, Writer
from ..errors import CorruptStateError, DecodeError, MLSError, ValidationError
from ..messages.welcome import Welcome
from ..storage.base import Storage
from ..suites import CipherSuite
from .state import GroupState
from .welcome import KeyPackageBundle

PENDING_MAGIC = b"MLSPQ-PENDING-COMMIT"


def encode_pending(next_state: GroupState, message: bytes) -> bytes:
    """The pending-commit blob: the epoch the commit creates and the commit's MLSMessage."""
    return Writer().opaque(PENDING_MAGIC).opaque(next_state.to_bytes()).opaque(message).getvalue()


def decode_pending(data: bytes, suite: CipherSuite) -> tuple[GroupState, bytes]:
    """Inverse of :func:`encode_pending`; CorruptStateError if malformed (the next state
    carries its own digest, see :mod:`.state`)."""
    try:
        r = Reader(data)
        if r.opaque() != PENDING_MAGIC:
            raise CorruptStateError("not an mls-pq pending commit")
        nxt = GroupState.from_bytes(r.opaque(), suite)
        message = r.opaque()
        r.done()
    except CorruptStateError:
        raise
    except DecodeError as e:
        raise CorruptStateError(f"malformed pending commit: {e}") from None
    return nxt, message


def store_key_package(storage: Storage, suite: CipherSuite, bundle: KeyPackageBundle, *, last_resort: bool = False) -> bytes:
    """Store a KeyPackage's private bundle under its KeyPackageRef (RFC 9420 §5.2, §10);
    returns the ref. A ``last_resort`` one survives being used (§16.8)."""
    ref = bundle.key_package.ref(suite)
    storage.put_key_package(ref, bundle.to_bytes(), last_resort=last_resort)
    return ref


def stored_bundles(storage: Storage, welcome: Welcome) -> list[KeyPackageBundle]:
    """The stored private bundles of the KeyPackages a Welcome is addressed to (§12.4.3.1:
    "identify an entry in the secrets array where new_member corresponds to one of this
    client's KeyPackages"). Nothing is consumed here."""
    out: list[KeyPackageBundle] = []
    for entry in welcome.secrets:
        raw = storage.get_key_package(entry.new_member)
        if raw is not None:
            out.append(KeyPackageBundle.from_bytes(raw))
    return out


def claim_group_id(
    storage: Storage, group_id: bytes, suite: CipherSuite | None, *, replace_active: bool, section: str
) -> None:
    """RFC 9420 §12.4.3 / §12.4.3.1: "new members MUST verify that group_id is unique among
    the groups they are currently participating in". The groups a client participates in are
    the active groups in its storage: joining one of them again is rejected; a stored group we
    no longer participate in (removed, or reinitialised, §11.2) is deleted so the new group can
    take its id (its resumption PSKs are kept for a reinit). ``replace_active`` allows an
    external rejoin (resync, §12.4.3.2) to replace a stale state of the same group."""
    stored = storage.load_group(group_id)
    if stored is None:
        return
    try:
        active = GroupState.from_bytes(stored.state, suite if _same_suite(stored.state, suite) else None).active
    except MLSError:
        active = True  # unreadable: never overwrite silently
    if active and not replace_active:
        raise ValidationError("we already participate in a group with this group_id", section)
    # a compare-and-swap on the version we judged: a group revived meanwhile is not deleted
    storage.delete_group(group_id, keep_resumption_psks=True, expected_version=stored.version)


def _same_suite(state_blob: bytes, suite: CipherSuite | None) -> bool:
    if suite is None:
        return False
    try:
        r = Reader(state_blob)
        r.opaque()
        r.uint16()
        return r.uint16() == suite.id
    except MLSError:
        return False


__all__ = [
    "PENDING_MAGIC",
    "claim_group_id",
    "decode_pending",
    "encode_pending",
    "store_key_package",
    "stored_bundles",
]
