"""Wiring the group engine to :mod:`mls_pq.storage` (RFC 9420 §9.2 deletion, §8.6, §10, §12.4).

A :class:`~mls_pq.group.member.Group` with a ``storage`` writes every state change through
before it takes effect in memory (write-ahead), so a process that dies at any moment
restarts from a state the group really was in:

* an epoch change (merging our pending commit, merging a received commit's
  ``StagedCommit`` — staging it writes nothing —, joining by Welcome or
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

Cost: writes are proportional to what changed (issue 9). The member state is stored in two
parts: the *epoch blob* (:func:`epoch_blob`: the GroupState with its secret tree emptied,
O(N), written when the epoch or anything besides the secret tree changes: epoch
transitions, cached proposals, a removal) and *rows* (:func:`tree_rows`: one per live
secret-tree node ``b"n" || uint32 node`` and one per sender ratchet
``b"r" || uint32 leaf || uint8 kind`` (1 handshake, 2 application), whose value is
:meth:`~mls_pq.secret_tree.RatchetPosition.to_bytes`). An application message sent or
received changes one ratchet row (plus O(log N) node rows the first time a sender is seen
in the epoch, §9.2 node deletion), computed by :func:`tree_changes` in O(changes) and
written with ``update_state(state=None, rows=...)``: each row a compare-and-swap on its
previous value, in the same transaction as the version bump. :func:`with_rows` rebuilds the
secret tree on load. A Group without storage writes nothing.

Sending in blocks (``Storage.reserve_block`` = R, see :mod:`mls_pq.storage.base`): when a
member's reserved generations are used up, ``encrypt`` writes its own application ratchet
row advanced by R generations (:func:`reservation_changes`: the row after this message,
then R-1 chain steps, :func:`advanced`) and remembers (epoch, first generation not
reserved, stored row value); the next R-1 messages of the epoch write nothing, and every
later write that names the rows (``save_epoch(expected_rows=...)``) names the stored value
(:func:`with_reserved_row`). The reserved generations' chain secrets are in memory only; a
restart continues at the stored row, after the block. A received application message's
row write is non-durable (``update_state(durable=False)``: survives a crash, not
necessarily a power loss).

Formats (hand-written for this package; storage treats them as opaque blobs): the group
state blob is :meth:`GroupState.to_bytes`; the pending-commit blob is
``opaque magic, opaque next_state, opaque commit_message``; KeyPackage private bundles are
:meth:`KeyPackageBundle.to_bytes` stored under their KeyPackageRef (§5.2).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from typing import Any

from ..codec import Reader, Writer
from ..errors import CorruptStateError, DecodeError, MLSError, ValidationError
from ..key_package_bundle import KeyPackageBundle
from ..messages.welcome import Welcome
from ..persistent import IntMap
from ..secret_tree import APPLICATION, HANDSHAKE, RatchetPosition, SecretTree
from ..storage.base import RowChange, Storage
from ..suites import CipherSuite
from .state import GroupState

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


# ---- the member state in two parts: epoch blob + rows --------------------------------------

_NODE = b"n"
_RATCHET = b"r"
_KIND_CODE = {HANDSHAKE: 1, APPLICATION: 2}
_KIND_OF = {1: HANDSHAKE, 2: APPLICATION}
#: GroupState fields that are caches (not part of the state)
_TREE_FIELD = "secret_tree"


def epoch_blob(st: GroupState) -> bytes:
    """The state blob stored once per epoch (and when something besides the secret tree
    changes): ``st`` with an empty secret tree of the same shape; the tree is in the rows."""
    t = st.secret_tree
    empty = SecretTree.from_parts(st.suite, t.n_leaves, [], [], max_skip=t.max_skip, window=t.window)
    return st.with_secret_tree(empty).to_bytes()


def only_tree_changed(old: GroupState, new: GroupState) -> bool:
    """True if ``new`` differs from ``old`` at most in its secret tree (then only rows change)."""
    return all(
        getattr(old, f.name) is getattr(new, f.name)
        for f in dataclasses.fields(GroupState)
        if f.name != _TREE_FIELD and f.compare
    )


def _node_key(node: int) -> bytes:
    return _NODE + node.to_bytes(4, "big")


def _ratchet_key(rkey: int) -> bytes:
    # SecretTree keys its ratchets by 2 * leaf + (kind code - 1) (see SecretTree.positions)
    return _RATCHET + (rkey >> 1).to_bytes(4, "big") + bytes([(rkey & 1) + 1])


def tree_rows(tree: SecretTree) -> list[tuple[bytes, bytes]]:
    """Every row of ``tree``: live node secrets and ratchet positions."""
    rows = [(_node_key(x), secret) for x, secret in tree.node_secrets()]
    rows += [
        (_RATCHET + leaf.to_bytes(4, "big") + bytes([_KIND_CODE[kind]]), pos.to_bytes())
        for leaf, kind, pos in tree.positions()
    ]
    return rows


def tree_changes(old: SecretTree, new: SecretTree) -> list[RowChange]:
    """The row changes from ``old`` to ``new`` (prior value, new value; None: absent), in
    O(changes): the persistent maps share every unchanged subtree, which is skipped by
    identity. (Reads the maps' structure: :mod:`mls_pq.persistent` is this package's.)"""
    out: list[RowChange] = []
    for x, a, b in _diff(old._nodes, new._nodes):
        out.append((_node_key(x), a, b))
    for k, p, q in _diff(old._ratchets, new._ratchets):
        out.append((_ratchet_key(k), None if p is None else p.to_bytes(), None if q is None else q.to_bytes()))
    return out


def _diff(a: IntMap[Any], b: IntMap[Any]) -> Iterator[tuple[int, Any, Any]]:
    if a is b:
        return
    if a._shift != b._shift:  # different shapes (cannot happen within an epoch): compare all
        da, db = dict(a.items()), dict(b.items())
        for k in sorted(da.keys() | db.keys()):
            if da.get(k) != db.get(k):
                yield k, da.get(k), db.get(k)
        return
    yield from _diff_node(a._root, b._root, a._shift, 0)


def _diff_node(x: Any, y: Any, shift: int, base: int) -> Iterator[tuple[int, Any, Any]]:
    if x is y:
        return
    for i in range(32):
        cx = None if x is None else x[i]
        cy = None if y is None else y[i]
        if cx is cy:
            continue
        if shift == 0:
            if cx != cy:
                yield base | i, cx, cy
        else:
            yield from _diff_node(cx, cy, shift - 5, (base | i) << 5)


def own_row_key(leaf: int) -> bytes:
    """The row key of ``leaf``'s application ratchet (the one a sender reserves)."""
    return _RATCHET + leaf.to_bytes(4, "big") + bytes([_KIND_CODE[APPLICATION]])


def advanced(suite: CipherSuite, pos: RatchetPosition, steps: int) -> RatchetPosition:
    """``pos`` moved ``steps`` generations ahead along its chain (DeriveTreeSecret with the
    label "secret", RFC 9420 §9.1), deriving no key or nonce; the kept skipped keys stay."""
    secret, gen = pos.secret, pos.generation
    for _ in range(steps):
        secret = suite.derive_tree_secret(secret, "secret", gen, suite.n_h)
        gen += 1
    return RatchetPosition(secret, gen, pos.skipped)


def block_size(tree: SecretTree, reserve_block: int) -> int:
    """The generations reserved per write: ``reserve_block`` capped at the tree's
    ``max_skip`` (a receiver must accept the gap a crash leaves) and ``window``; at least 1."""
    return max(1, min(reserve_block, tree.max_skip, tree.window))


def reservation_changes(
    old: SecretTree, new: SecretTree, leaf: int, block: int, stored: bytes | None, *, have_stored: bool
) -> tuple[list[RowChange], int, bytes]:
    """The row changes of a sending reservation: ``old`` -> ``new`` is the tree before and
    after this message (``new`` at generation g+1), with ``leaf``'s application row written
    as the position ``block`` - 1 generations further (g + ``block``) and, if
    ``have_stored``, compare-and-swapped against ``stored`` (the value written by the last
    reservation) instead of ``old``'s value. Returns (changes, first generation not
    reserved, the row value written)."""
    key = own_row_key(leaf)
    pos = new.position(leaf, APPLICATION)
    if pos is None:  # cannot happen: the message just created it
        raise MLSError("no application ratchet to reserve")
    top = advanced(new.suite, pos, block - 1)
    value = top.to_bytes()
    out: list[RowChange] = []
    for k, prior, nv in tree_changes(old, new):
        if k == key:
            prior, nv = (stored if have_stored else prior), value
        out.append((k, prior, nv))
    if key not in {k for k, _, _ in out}:  # cannot happen: sending always moves the row
        raise MLSError("the reservation did not change the sender's row")
    return out, top.generation, value


def with_reserved_row(rows: Sequence[tuple[bytes, bytes]], leaf: int, value: bytes) -> list[tuple[bytes, bytes]]:
    """``rows`` (from the in-memory tree) as stored: ``leaf``'s application row is the
    reserved ``value``."""
    key = own_row_key(leaf)
    return [(k, value if k == key else v) for k, v in rows]


def row_changes_between(stored: Sequence[tuple[bytes, bytes]], ours: Sequence[tuple[bytes, bytes]]) -> list[RowChange]:
    """The changes that turn the ``stored`` rows into ``ours`` (an explicit save)."""
    have, want = dict(stored), dict(ours)
    return [(k, have.get(k), want.get(k)) for k in sorted(have.keys() | want.keys()) if have.get(k) != want.get(k)]


def with_rows(st: GroupState, rows: Sequence[tuple[bytes, bytes]]) -> GroupState:
    """``st`` (decoded from an epoch blob) with its secret tree rebuilt from ``rows``;
    no rows: a blob written before rows existed, whose tree is inside it.
    CorruptStateError for a malformed row."""
    if not rows:
        return st
    nodes: list[tuple[int, bytes]] = []
    positions: list[tuple[int, str, RatchetPosition]] = []
    try:
        for key, value in rows:
            if len(key) == 5 and key[:1] == _NODE:
                nodes.append((int.from_bytes(key[1:], "big"), value))
            elif len(key) == 6 and key[:1] == _RATCHET and key[5] in _KIND_OF:
                leaf = int.from_bytes(key[1:5], "big")
                positions.append((leaf, _KIND_OF[key[5]], RatchetPosition.from_bytes(st.suite, value)))
            else:
                raise CorruptStateError("a stored row has an unknown key")
        t = st.secret_tree
        tree = SecretTree.from_parts(st.suite, t.n_leaves, nodes, positions, max_skip=t.max_skip, window=t.window)
    except CorruptStateError:
        raise
    except (MLSError, ValueError, IndexError) as e:
        raise CorruptStateError(f"malformed secret tree rows: {e}") from None
    return st.with_secret_tree(tree)


__all__ = [
    "PENDING_MAGIC",
    "advanced",
    "block_size",
    "claim_group_id",
    "decode_pending",
    "encode_pending",
    "epoch_blob",
    "only_tree_changed",
    "own_row_key",
    "reservation_changes",
    "row_changes_between",
    "store_key_package",
    "stored_bundles",
    "tree_changes",
    "tree_rows",
    "with_reserved_row",
    "with_rows",
]
