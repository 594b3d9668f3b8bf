"""Restored state is never trusted blindly (issue 8 defect 4): every bit flip in a serialised
or stored state is reported as one typed CorruptStateError (a StateError), never another
exception and never a silent load of a different state; fields are validated on load even
when the digest matches (an "insider" re-sealing a modified state), so a malformed field is
a typed error, not StopIteration/MemoryError (RFC 9420 §9.2 keeps secrets in this state)."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from mls_pq.codec import Reader, Writer
from mls_pq.errors import CorruptStateError, MLSError, StateError, UnsupportedCipherSuite
from mls_pq.group import Group, GroupOptions
from mls_pq.group.state import STATE_MAGIC, GroupState, open_digest, seal_digest
from mls_pq.storage import SQLiteStorage

from ._helpers import Sim, apply

GID = b"test-group"


def _flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


@pytest.fixture(scope="module")
def member() -> Group:
    """A member mid-life: ratchets used, a cached proposal, a pending commit."""
    sim = Sim.start(1, 3)
    for m in sim.members[1:]:
        apply(m, sim.members[0].encrypt(b"hello"))
    g = sim.members[1]
    prop = sim.members[2].propose_remove(0)
    apply(g, prop)
    g.commit(path=True)
    return g


def test_group_from_bytes_detects_every_bit_flip(member: Group) -> None:
    blob = member.to_bytes()
    assert Group.from_bytes(blob).to_bytes() == blob
    for bit in range(len(blob) * 8):
        with pytest.raises(CorruptStateError):
            Group.from_bytes(_flip(blob, bit))


def test_group_state_from_bytes_detects_every_bit_flip(member: Group) -> None:
    blob = member.state.to_bytes()
    for bit in range(len(blob) * 8):
        with pytest.raises(CorruptStateError):
            GroupState.from_bytes(_flip(blob, bit))
    for cut in (0, 1, 31, 32, len(blob) - 1):
        with pytest.raises(StateError):
            GroupState.from_bytes(blob[:cut])


def test_resealed_mutations_are_typed_errors_or_valid_states(member: Group) -> None:
    """An insider who re-computes the digest: 300 random bit flips in the body are each
    either a typed error or a state that re-encodes to exactly what was decoded."""
    body = open_digest(member.state.to_bytes(), STATE_MAGIC, "state")
    rng = random.Random(8)
    outcomes = {"error": 0, "loaded": 0}
    for _ in range(300):
        mutated = seal_digest(_flip(body, rng.randrange(len(body) * 8)), STATE_MAGIC)
        try:
            st = GroupState.from_bytes(mutated)
        except (CorruptStateError, UnsupportedCipherSuite):
            outcomes["error"] += 1
        else:
            assert st.to_bytes() == mutated  # decoded faithfully, nothing silently repaired
            outcomes["loaded"] += 1
    assert outcomes["error"] > 0 and sum(outcomes.values()) == 300


def test_unbounded_padding_block_is_rejected_on_load(member: Group) -> None:
    """Was MemoryError: a padding_block of 2^32-1 restored and used to pad every message."""
    with pytest.raises(MLSError):
        GroupOptions(padding_block=1 << 20)
    st = member.state
    good = st.to_bytes()
    w = Writer()
    st.options.encode(w)
    opts = w.getvalue()
    body = open_digest(good, STATE_MAGIC, "state")
    assert body.count(opts) == 1
    huge = bytearray(opts)
    huge[2:6] = (0xFFFFFFFF).to_bytes(4, "big")  # padding_block follows the uint16 wire format
    forged = seal_digest(body.replace(opts, bytes(huge)), STATE_MAGIC)
    with pytest.raises(CorruptStateError, match="padding_block"):
        GroupState.from_bytes(forged)
    assert GroupOptions.decode(Reader(opts)) == st.options


def test_stored_state_bit_flips_in_sqlite(tmp_path: Path, member: Group) -> None:
    """200 random bit flips of the stored state, pending commit and digest columns: each
    load is a CorruptStateError (never another exception, never a silent load)."""
    db = tmp_path / "c.sqlite"
    with SQLiteStorage(db) as s:
        member.save(s)
        expected = Group.load(s, GID).to_bytes()
    assert expected == member.to_bytes()
    raw = sqlite3.connect(db, isolation_level=None)
    try:
        rng = random.Random(4)
        keys = [k for (k,) in raw.execute("SELECT key FROM group_rows").fetchall()]
        assert len(keys) >= 3  # secret-tree nodes and ratchets are rows (issue 9)
        cols = [("group_states", "state"), ("group_states", "digest"), ("pending_commits", "commit_blob")]
        cols += [("group_rows", "value"), ("group_rows", "key")]
        for i in range(200):
            table, col = cols[i % len(cols)]
            where, args = ("WHERE key = ?", (keys[i % len(keys)],)) if table == "group_rows" else ("", ())
            (orig,) = raw.execute(f"SELECT {col} FROM {table} {where}", args).fetchone()
            bad = _flip(orig, rng.randrange(len(orig) * 8))
            raw.execute(f"UPDATE {table} SET {col} = ? {where}", (bad, *args))
            with SQLiteStorage(db) as s, pytest.raises(CorruptStateError):
                Group.load(s, GID)
            where = "WHERE key = ?" if col == "key" else where
            raw.execute(f"UPDATE {table} SET {col} = ? {where}", (orig, *(((bad,) if col == "key" else args))))
    finally:
        raw.close()
    with SQLiteStorage(db) as s:
        assert Group.load(s, GID).to_bytes() == expected


def test_stored_row_moved_to_another_group_is_detected(tmp_path: Path, member: Group) -> None:
    """The digest binds the value to its row: a state copied under another group id or
    epoch is refused."""
    db = tmp_path / "m.sqlite"
    with SQLiteStorage(db) as s:
        member.save(s)
    raw = sqlite3.connect(db, isolation_level=None)
    try:
        raw.execute("UPDATE group_states SET epoch = ?", ((member.epoch + 1).to_bytes(8, "big"),))
    finally:
        raw.close()
    with SQLiteStorage(db) as s, pytest.raises(CorruptStateError):
        Group.load(s, GID)
