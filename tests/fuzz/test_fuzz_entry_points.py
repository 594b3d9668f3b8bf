"""Bounded fuzz of the other public entry points (issue 8): ``Group.join`` (Welcome),
``Group.join_external`` (GroupInfo and its ratchet tree, re-signed by the real signer),
``commit(add=…)`` (KeyPackages re-signed by their owner), ``Group.from_bytes`` and loading
from a SQLite file.

Each example asserts: only ``mls_pq.errors`` exceptions; a rejected input leaves the group
byte-identical where there is a group; the next valid input still works.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mls_pq.errors import MLSError
from mls_pq.extensions import EXTERNAL_PUB, RATCHET_TREE, REQUIRED_CAPABILITIES, Extension
from mls_pq.group import Group, GroupConfig, StagedCommit
from mls_pq.messages.credential import Credential
from mls_pq.messages.framing_structs import MLSMessage
from mls_pq.messages.key_package import KeyPackage
from mls_pq.messages.leaf_node import Capabilities, LeafNode, Lifetime
from mls_pq.messages.welcome import GroupInfo
from mls_pq.storage import SQLiteStorage
from mls_pq.suites import get_suite
from mls_pq.tree.ratchet_tree import RatchetTree

from ._world import (
    FUZZ,
    GROUP_ID,
    NOW,
    STATE_LABEL,
    SUITES,
    World,
    clock,
    count,
    mutate_bytes,
    resealed_group,
    seal,
    world,
)
from tests.group._helpers import apply

EDITS = st.lists(st.tuples(st.integers(0, 5), st.integers(0, 1 << 16), st.integers(0, 255)), min_size=1, max_size=4)
SMALL = st.binary(max_size=24)


def suite_id(suite: int) -> str:
    """The test id of a cipher suite: its code point in hex."""
    return f"0x{suite:04x}"


# ---- Group.join -------------------------------------------------------------------------------------


@pytest.mark.parametrize("suite", SUITES, ids=suite_id)
@settings(FUZZ, max_examples=60)
@given(edits=EDITS)
def test_join(suite: int, edits: list[tuple[int, int, int]]) -> None:
    w = world(suite)
    bundle_before = w.joiner_bundle.to_bytes()
    try:
        Group.join(mutate_bytes(w.welcome, edits), [w.joiner_bundle], config=GroupConfig(clock=clock))
    except MLSError:
        count("Group.join", True)
    else:
        count("Group.join", False)
    assert w.joiner_bundle.to_bytes() == bundle_before, "join changed the KeyPackage bundle"
    assert Group.join(w.welcome, [w.joiner_bundle], config=GroupConfig(clock=clock)).epoch == 3


# ---- Group.join_external ----------------------------------------------------------------------------


def _resign_gi(w: World, gi: GroupInfo) -> bytes:
    return MLSMessage(gi.sign(get_suite(w.suite), w.alice_state.private.signature_priv)).to_bytes()


def _group_info_input(w: World, data: st.DataObject) -> bytes | None:
    """An insider GroupInfo: alice (the real signer) signs a mutated one; a mutated
    ratchet tree gets a matching tree_hash whenever it decodes."""
    msg = MLSMessage.from_bytes(w.group_info)
    gi = msg.body
    assert isinstance(gi, GroupInfo)
    cs = get_suite(w.suite)
    kind = data.draw(st.sampled_from(["tree", "tree", "extensions", "context", "signer", "outsider"]), label="kind")
    if kind == "outsider":
        return mutate_bytes(w.group_info, data.draw(EDITS))
    if kind == "tree":
        ext = gi.extension(RATCHET_TREE)
        assert ext is not None
        raw = mutate_bytes(ext.extension_data, data.draw(EDITS))
        exts = tuple(Extension(RATCHET_TREE, raw) if e.extension_type == RATCHET_TREE else e for e in gi.extensions)
        gc = gi.group_context
        try:
            gc = replace(gc, tree_hash=RatchetTree.from_bytes(cs, raw).tree_hash())
        except MLSError:
            pass
        return _resign_gi(w, replace(gi, extensions=exts, group_context=gc))
    if kind == "extensions":
        new = data.draw(
            st.lists(
                st.one_of(
                    st.sampled_from(gi.extensions),
                    st.builds(Extension, st.sampled_from([EXTERNAL_PUB, RATCHET_TREE, 0xFF00]), SMALL),
                ),
                max_size=4,
            )
        )
        return _resign_gi(w, replace(gi, extensions=tuple(new)))
    if kind == "context":
        gc = gi.group_context
        which = data.draw(st.integers(0, 3))
        try:
            if which == 0:
                # 2**64 - 1: finding F1 (fixed; test_join_external_at_the_last_epoch)
                gc = replace(gc, epoch=data.draw(st.sampled_from([0, 1, 3, 2**63, 2**64 - 1])))
            elif which == 1:
                gc = replace(gc, cipher_suite=data.draw(st.sampled_from([0x0001, 0xF001, 0x9999])))
            elif which == 2:
                ext = Extension(REQUIRED_CAPABILITIES, data.draw(SMALL))
                gc = replace(gc, extensions=(*gc.extensions, ext))
            else:
                gc = replace(gc, group_id=data.draw(SMALL))
        except MLSError:
            return None
        return _resign_gi(w, replace(gi, group_context=gc))
    return _resign_gi(w, replace(gi, signer=data.draw(st.integers(0, 5))))


@pytest.mark.parametrize("suite", SUITES, ids=suite_id)
@settings(FUZZ, max_examples=70)
@given(data=st.data())
def test_join_external(suite: int, data: st.DataObject) -> None:
    w = world(suite)
    gi = _group_info_input(w, data)
    if gi is None:
        return
    o = w.outsider
    try:
        Group.join_external(gi, o.credential, o.signature_priv, config=GroupConfig(clock=clock))
    except MLSError:
        count("Group.join_external", True)
    else:
        count("Group.join_external", False)
    g, _ = Group.join_external(w.group_info, o.credential, o.signature_priv, config=GroupConfig(clock=clock))
    assert g.epoch == 3


def test_join_external_at_the_last_epoch() -> None:
    """RFC 9420 §8: ``epoch`` is a uint64; a GroupInfo at the last epoch cannot be joined by an
    external commit (there is no next epoch) and must be rejected with a typed error."""
    w = world(0x0001)
    gi = MLSMessage.from_bytes(w.group_info).body
    assert isinstance(gi, GroupInfo)
    gi = replace(gi, group_context=replace(gi.group_context, epoch=2**64 - 1))
    o = w.outsider
    with pytest.raises(MLSError):
        Group.join_external(_resign_gi(w, gi), o.credential, o.signature_priv, config=GroupConfig(clock=clock))


# ---- commit(add=…) ----------------------------------------------------------------------------------


def _key_package_input(w: World, data: st.DataObject) -> bytes:
    """An insider KeyPackage: henry (its owner) signs a mutated one (leaf and package)."""
    kp = MLSMessage.from_bytes(w.key_package).body
    assert isinstance(kp, KeyPackage)
    cs = get_suite(w.suite)
    priv = w.henry.signature_priv
    if data.draw(st.booleans(), label="outsider"):
        return mutate_bytes(w.key_package, data.draw(EDITS))
    leaf = kp.leaf_node
    ints = st.lists(st.sampled_from([0, 1, 2, 3, 4, 5, 7, 0x0A0A, 0xFF00, w.suite, 0x9999]), max_size=5).map(tuple)
    change = data.draw(
        st.sampled_from(["caps", "leaf_ext", "kp_ext", "lifetime", "enc=init", "suite", "version", "credential", "source"]),
        label="change",
    )
    try:
        if change == "caps":
            leaf = replace(leaf, capabilities=data.draw(st.builds(Capabilities, ints, ints, ints, ints, ints)))
        elif change == "leaf_ext":
            exts = data.draw(st.lists(st.builds(Extension, st.sampled_from([1, 2, 3, 4, 5, 0xFF00]), SMALL), max_size=3))
            leaf = replace(leaf, extensions=tuple(exts))
        elif change == "lifetime":
            a, b = data.draw(st.tuples(st.sampled_from([0, NOW, 2**64 - 1]), st.sampled_from([0, NOW, 2**64 - 1])))
            leaf = replace(leaf, lifetime=Lifetime(a, b))
        elif change == "enc=init":
            leaf = replace(leaf, encryption_key=kp.init_key)
        elif change == "credential":
            leaf = replace(leaf, credential=Credential(data.draw(st.integers(0, 3)), data.draw(SMALL)))
        elif change == "source":
            leaf = replace(leaf, leaf_node_source=2, lifetime=None)
        leaf = leaf.sign(cs, priv)
        kp = replace(kp, leaf_node=leaf)
        if change == "kp_ext":
            exts = data.draw(st.lists(st.builds(Extension, st.sampled_from([1, 2, 3, 0xFF00]), SMALL), max_size=3))
            kp = replace(kp, extensions=tuple(exts))
        elif change == "suite":
            kp = replace(kp, cipher_suite=data.draw(st.sampled_from([0x0001, 0xF001, 0x9999])))
        elif change == "version":
            kp = replace(kp, version=data.draw(st.integers(0, 3)))
        return MLSMessage(kp.sign(cs, priv)).to_bytes()
    except MLSError:
        return mutate_bytes(w.key_package, [(0, 0, 0)])


@pytest.mark.parametrize("suite", SUITES, ids=suite_id)
@settings(FUZZ, max_examples=80)
@given(data=st.data())
def test_commit_add(suite: int, data: st.DataObject) -> None:
    w = world(suite)
    kp = _key_package_input(w, data)
    bob = w.fresh_bob()
    before = bob.to_bytes()
    try:
        bob.commit(add=[kp])
    except MLSError:
        count("Group.commit(add=...)", True)
        assert bob.to_bytes() == before, "a rejected KeyPackage changed bob's state"
    else:
        count("Group.commit(add=...)", False)
        bob.discard_pending_commit()
    bob = w.fresh_bob()
    out = bob.commit(add=[w.key_package])
    bob.merge_pending_commit()
    assert out.welcome is not None and len(bob.members()) == 4


# ---- Group.from_bytes and SQLite load ---------------------------------------------------------------


def _use(w: World, g: Group) -> None:
    """A loaded (possibly corrupted but accepted) member may still only fail with typed errors."""
    for use in (lambda: apply(g, w.messages["app"]), lambda: g.encrypt(b"x")):
        try:
            use()
        except MLSError:
            pass


@pytest.mark.parametrize("suite", SUITES, ids=suite_id)
@settings(FUZZ, max_examples=80)
@given(edits=EDITS, resealed=st.booleans())
def test_from_bytes(suite: int, edits: list[tuple[int, int, int]], resealed: bool) -> None:
    """``resealed``: the GroupState body is mutated and sealed again with the digests, so the
    mutation reaches the field validation behind them (a forged or consistently corrupted
    state); otherwise the serialised group is mutated as it is."""
    w = world(suite)
    if resealed:
        body = w.fresh_bob().state.to_bytes()[:-32]
        assert seal(body, STATE_LABEL) == w.fresh_bob().state.to_bytes(), "state digest layout changed"
        blob = resealed_group(mutate_bytes(body, edits))
    else:
        blob = mutate_bytes(w.bob, edits)
    entry = "Group.from_bytes" + (" (resealed)" if resealed else "")
    try:
        g = Group.from_bytes(blob, config=GroupConfig(clock=clock))
    except MLSError:
        count(entry, True)
    else:
        count(entry, False)
        assert g.to_bytes() == blob, "from_bytes/to_bytes does not round-trip"
        _use(w, g)
    assert isinstance(apply(w.fresh_bob(), w.valid_next), StagedCommit)


@pytest.fixture(scope="module")
def stored_bob(tmp_path_factory: pytest.TempPathFactory) -> dict[int, bytes]:
    """Per suite: a SQLite storage file holding bob, written by the library (as bytes)."""
    out = {}
    for suite in SUITES:
        path = tmp_path_factory.mktemp("fuzz") / "bob.db"
        s = SQLiteStorage(path)
        try:
            world(suite).fresh_bob().save(s)
        finally:
            s.close()
        out[suite] = path.read_bytes()
    return out


@pytest.mark.parametrize("suite", SUITES, ids=suite_id)
@settings(FUZZ, max_examples=40)
@given(edits=EDITS, resealed=st.booleans())
def test_sqlite_load(
    suite: int, edits: list[tuple[int, int, int]], resealed: bool, stored_bob: dict[int, bytes], tmp_path: Path
) -> None:
    """The stored state blob is corrupted in the file (outside the library); ``resealed``: with
    its digest recomputed, so the corruption reaches the field validation."""
    w = world(suite)
    path = tmp_path / "bob.db"
    path.write_bytes(stored_bob[suite])
    conn = sqlite3.connect(path)
    try:
        (blob,) = conn.execute("SELECT state FROM group_states").fetchone()
        blob = bytes(blob)
        new = seal(mutate_bytes(blob[:-32], edits), STATE_LABEL) if resealed else mutate_bytes(blob, edits)
        conn.execute("UPDATE group_states SET state = ?", (new,))
        conn.commit()
    finally:
        conn.close()
    s = SQLiteStorage(path)
    try:
        g = Group.load(s, GROUP_ID, config=GroupConfig(clock=clock))
    except MLSError:
        count("Group.load (SQLite)", True)
    else:
        count("Group.load (SQLite)", False)
        _use(w, g)
    finally:
        s.close()
