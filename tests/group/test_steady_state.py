"""Steady state (issue 9): late messages of past epochs at and beyond
``GroupOptions.max_past_epochs`` (RFC 9420 §9.2, §12.4.2), the maximum forward distance
``GroupOptions.max_skip`` at and beyond its bound (§9.2), ratchet changes as small
encodable rows, the capability-summary cache surviving in-epoch changes, and the Welcome
context hashed once (HPKE PreparedInfo gives the same ciphertext). Nothing here is timed:
the figures are in ``python -m mls_pq.bench.steady``."""

from __future__ import annotations

from typing import TypedDict, Unpack

import pytest

from mls_pq.errors import ForwardDistanceError, PastEpochError, StateError, ValidationError
from mls_pq.group import ApplicationMessage, Group, GroupOptions
from mls_pq.group.state import GroupState, summary_of
from mls_pq.secret_tree import APPLICATION, HANDSHAKE, RatchetChange, RatchetPosition, SecretTree
from mls_pq.suites import get_suite

from ._helpers import Sim, apply, received


class _Options(TypedDict, total=False):
    """The :class:`GroupOptions` fields these tests vary."""

    max_past_epochs: int
    handshake_wire_format: int
    max_skip: int


def _sim(n: int, **opts: Unpack[_Options]) -> Sim:
    return Sim.start(1, n, options=GroupOptions(**opts))


# ---- past epochs (§9.2, §12.4.2) ---------------------------------------------------------------


@pytest.mark.parametrize("keep", [1, 2])
def test_late_message_at_the_past_epoch_bound_is_read(keep: int) -> None:
    """A message sent ``keep`` epochs ago (the bound) is still decrypted, once."""
    sim = _sim(3, max_past_epochs=keep)
    a, b = sim.members[0], sim.members[1]
    late = a.encrypt(b"sent before the commits")
    sent_epoch = a.epoch
    for _ in range(keep):
        sim.commit(2, path=True)
    assert b.epoch == sent_epoch + keep
    assert len(b.state.past_epochs) == keep
    res = apply(b, late)
    assert isinstance(res, ApplicationMessage)
    assert (res.data, res.epoch) == (b"sent before the commits", sent_epoch)
    assert res.sender.index == a.state.leaf_index
    with pytest.raises(ValidationError) as ei:  # the key was consumed: replay rejected (§9.2)
        apply(b, late)
    assert ei.value.section == "9.2"


@pytest.mark.parametrize("keep", [0, 1, 2])
def test_late_message_beyond_the_past_epoch_bound_is_rejected(keep: int) -> None:
    sim = _sim(3, max_past_epochs=keep)
    a, b = sim.members[0], sim.members[1]
    late = a.encrypt(b"too late")
    for _ in range(keep + 1):
        sim.commit(2, path=True)
    assert len(b.state.past_epochs) == keep
    before = b.to_bytes()
    with pytest.raises(PastEpochError) as ei:
        apply(b, late)
    assert ei.value.section == "9.2"
    assert b.to_bytes() == before


def test_past_epoch_uses_that_epochs_leaves_and_rejects_handshake() -> None:
    """The sender was removed in the next epoch: its late message still verifies against
    its leaf of that epoch; a proposal of a past epoch is rejected (§12.4)."""
    sim = _sim(4, max_past_epochs=2, handshake_wire_format=2)
    a, b = sim.members[1], sim.members[2]
    late = a.encrypt(b"from a member removed since")
    prop = Group.from_bytes(a.to_bytes()).propose_remove(3)
    sim.commit(0, remove=[a.state.leaf_index])
    assert b.state.tree.leaf(a.state.leaf_index) is None
    with pytest.raises(ValidationError) as ei:
        apply(b, prop)
    assert ei.value.section == "12.4"
    res = apply(b, late)
    assert isinstance(res, ApplicationMessage) and res.data == b"from a member removed since"
    assert res.sender_credential == a.state.own_leaf.credential


def test_past_epochs_survive_serialisation_and_are_pruned() -> None:
    sim = _sim(3, max_past_epochs=2)
    a, b = sim.members[0], sim.members[1]
    late = a.encrypt(b"x")
    sim.commit(2, path=True)
    restored = Group.from_bytes(b.to_bytes())
    assert restored.to_bytes() == b.to_bytes()
    assert [p.epoch for p in restored.state.past_epochs] == [b.epoch - 1]  # b joined one epoch ago
    assert received(restored, late) == b"x"
    sim.commit(2, path=True)
    sim.commit(2, path=True)
    assert [p.epoch for p in b.state.past_epochs] == [b.epoch - 2, b.epoch - 1]


def test_own_commit_records_ratchets_used_after_it_was_created() -> None:
    """Keys consumed between creating and merging our commit stay consumed in the past tree."""
    sim = _sim(3)
    a, c = sim.members[0], sim.members[2]
    msg = c.encrypt(b"in flight")
    out = a.commit(path=True)
    apply(a, msg)
    sim.deliver(a, out.commit)
    a.merge_pending_commit()
    with pytest.raises(ValidationError) as ei:
        apply(a, msg)
    assert ei.value.section == "9.2"


# ---- forward distance (§9.2) -------------------------------------------------------------------


def _tree(max_skip: int = 50, window: int = 8) -> SecretTree:
    return SecretTree(get_suite(1), bytes(range(32)), 7, max_skip=max_skip, window=window)


def test_forward_distance_at_and_beyond_the_bound() -> None:
    t = _tree(max_skip=50, window=8)
    reference = _tree(max_skip=1 << 20)
    at = t.key_for(3, APPLICATION, 50)  # exactly max_skip ahead: accepted
    assert at.key == reference.key_for(3, APPLICATION, 50).key
    with pytest.raises(ForwardDistanceError) as ei:
        t.key_for(3, APPLICATION, 51)
    assert ei.value.section == "9.2"
    t2 = t.applied(at)
    assert t2.key_for(3, APPLICATION, 101).generation == 101  # 50 ahead of the new position
    with pytest.raises(ForwardDistanceError):
        t2.key_for(3, APPLICATION, 102)


def test_jump_keeps_only_the_window_and_matches_step_by_step() -> None:
    t = _tree(max_skip=1000, window=8)
    t = t.applied(t.key_for(2, APPLICATION, 3))  # 0, 1, 2 skipped
    t = t.applied(t.key_for(2, APPLICATION, 1000))
    pos = t.position(2, APPLICATION)
    assert pos is not None and pos.generation == 1001
    assert [g for g, _, _ in pos.skipped] == list(range(992, 1000))
    step = _tree(max_skip=1 << 20)
    for g in (995, 999):
        u = t.key_for(2, APPLICATION, g)
        assert u.key == step.key_for(2, APPLICATION, g).key
    with pytest.raises(ValidationError):
        t.key_for(2, APPLICATION, 991)  # dropped by the window


def test_forward_distance_through_the_group() -> None:
    """A receiver with ``max_skip`` 5 accepts a generation 5 ahead, not 6; nothing changes."""
    sim = _sim(2, max_skip=5)
    a, b = sim.members
    msgs = [a.encrypt(b"%d" % i) for i in range(7)]
    before = b.to_bytes()
    with pytest.raises(ForwardDistanceError):
        apply(b, msgs[6])
    assert b.to_bytes() == before
    assert received(b, msgs[5]) == b"5"
    assert received(b, msgs[6]) == b"6"


# ---- ratchet changes: pure, small, compare-and-swap ---------------------------------------------


def test_lookups_are_pure_and_changes_encode() -> None:
    s = get_suite(1)
    t = _tree()
    before = t.to_bytes()
    use = t.key_for(5, HANDSHAKE, 2)
    assert t.to_bytes() == before  # nothing changed by the lookup
    ch = use.change
    assert ch.prior is None and ch.sibling is not None and ch.nodes  # first use: creates the leaf's ratchets
    assert RatchetChange.from_bytes(s, ch.to_bytes()) == ch
    t2 = t.applied(RatchetChange.from_bytes(s, ch.to_bytes()))
    assert t.to_bytes() == before and t2.to_bytes() != before
    pos = t2.position(5, HANDSHAKE)
    assert pos is not None and RatchetPosition.from_bytes(s, pos.to_bytes()) == pos
    assert pos.generation == 3 and [g for g, _, _ in pos.skipped] == [0, 1]
    nxt = t2.key_for(5, HANDSHAKE, 0).change
    assert nxt.prior == pos and nxt.nodes == () and nxt.sibling is None
    assert len(nxt.to_bytes()) < 200  # one small row
    with pytest.raises(StateError):  # stale: computed on the tree before the first change
        t2.applied(ch)
    t3 = t2.applied(nxt)
    with pytest.raises(StateError):
        t3.applied(nxt)  # already applied: compare-and-swap fails


def test_tree_rebuilt_from_rows() -> None:
    """A store keeping node secrets and ratchet positions as rows rebuilds the same tree."""
    s = get_suite(1)
    t = _tree()
    for leaf, gen in ((1, 4), (6, 0), (1, 9)):
        t = t.applied(t.key_for(leaf, APPLICATION, gen))
    rows = list(t.positions())
    assert {(leaf, kind) for leaf, kind, _ in rows} == {(1, HANDSHAKE), (1, APPLICATION), (6, HANDSHAKE), (6, APPLICATION)}
    again = SecretTree.from_parts(s, t.n_leaves, t.node_secrets(), rows, max_skip=t.max_skip, window=t.window)
    assert again.to_bytes() == t.to_bytes()


def test_apply_is_logarithmic_sharing() -> None:
    """Applying a change does not copy the other senders' ratchets (structure shared)."""
    t = SecretTree(get_suite(1), bytes(32), 1000)
    for leaf in range(0, 1000, 7):
        t = t.applied(t.next_key(leaf, APPLICATION))
    t2 = t.applied(t.next_key(500, APPLICATION))
    assert t2.position(7, APPLICATION) is t.position(7, APPLICATION)
    assert len(list(t2.positions())) == len(list(t.positions())) + 2


# ---- capability summary cache (issue 9 item 3) ---------------------------------------------------


def test_capability_summary_survives_in_epoch_changes() -> None:
    sim = _sim(3)
    a = sim.members[0]
    s1 = summary_of(a.state)
    a.encrypt(b"m")
    assert summary_of(a.state) is s1  # the tree did not change: same cached summary
    st: GroupState = a.state.evolve(tree=a.state.tree.copy())
    assert summary_of(st) is not s1  # another tree: recomputed
    assert (summary_of(st).members, dict(summary_of(st).in_use)) == (s1.members, dict(s1.in_use))
    sim.commit(1, path=True)
    assert summary_of(a.state).members == 3


# ---- Welcome context hashed once (issue 9 item 4) ------------------------------------------------


@pytest.mark.parametrize("suite_id", [1, 0xF001])
def test_prepared_info_gives_the_same_key_schedule(suite_id: int) -> None:
    s = get_suite(suite_id)
    hp = s.hpke
    info = b"EncryptContext" * 100
    shared = bytes(range(32))
    assert hp.combine_secrets(0, shared, hp.prepare_info(info)) == hp.combine_secrets(0, shared, info)
    sk, pk = s.generate_key_pair()
    enc, ct = hp.seal(pk, hp.prepare_info(info), b"", b"pt")
    assert hp.open(enc, sk, info, b"", ct) == b"pt"
    other = get_suite(2 if suite_id == 1 else 1).hpke.prepare_info(info)  # prepared for another KDF: ignored
    assert hp.combine_secrets(0, shared, other) == hp.combine_secrets(0, shared, info)


def test_steady_benchmark_smoke() -> None:
    """The benchmark module runs end to end on a tiny grid and yields JSON-ready rows."""
    import json

    from mls_pq.bench.steady import run_steady

    res = run_steady((1,), (3,), senders=2, bulk=(2, 4), reps=1, bulk_reps=1, remove=True)
    ops = {(r["op"], r.get("n", r.get("k"))) for r in res["rows"]}
    assert {("app_decrypt", 3), ("app_encrypt", 3), ("jump_1000", 3), ("past_epoch", 3), ("remove_commit", 3)} <= ops
    assert {("bulk_add", 2), ("bulk_add", 4), ("kdf_expand", 0)} <= ops
    assert all(r["median_s"] > 0 for r in res["rows"])
    assert "0x0001 bulk_add t(4)/t(2)" in res["ratios"]
    json.dumps(res)


def test_adds_fill_the_leftmost_blank_leaves_after_removes() -> None:
    """§12.1.1 "the leftmost blank leaf" with the tree's blank-leaf hint (bulk adds are linear)."""
    sim = _sim(7)
    sim.commit(0, remove=[4, 2])
    tree = sim.members[0].state.tree
    assert tree.leftmost_blank_leaf() == 2
    kps = [sim.key_package(b"late-%d" % i)[0] for i in range(3)]
    sim.commit(0, add=kps)
    st = sim.members[0].state
    assert [i for i, _ in st.tree.leaves()] == list(range(8))
    got = {i: st.tree.leaf(i).credential.identity for i in (2, 4, 7)}  # type: ignore[union-attr]
    assert got == {2: b"late-0", 4: b"late-1", 7: b"late-2"}
    assert st.tree.leftmost_blank_leaf() is None


@pytest.mark.parametrize("keep", [0, 1])
def test_removed_member_reads_late_messages_of_its_last_epoch(keep: int) -> None:
    """§12.4.2: a removed member "might keep the secret tree for a short time to decrypt late
    messages in the previous epoch" — with ``max_past_epochs`` 0 it does not."""
    sim = _sim(3, max_past_epochs=keep)
    a, gone = sim.members[0], sim.members[2]
    late = a.encrypt(b"before the removal")
    sim.commit(1, remove=[gone.state.leaf_index])
    assert not gone.active
    if keep:
        assert received(gone, late) == b"before the removal"
        with pytest.raises(ValidationError):
            apply(gone, late)  # consumed (§9.2)
    else:
        with pytest.raises(StateError):
            apply(gone, late)
    with pytest.raises(StateError):  # never anything else
        apply(gone, Group.from_bytes(sim.members[1].to_bytes()).encrypt(b"new epoch"))
