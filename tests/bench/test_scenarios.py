"""Benchmark scenarios run the real engine (mls_pq.bench.scenarios)."""

from __future__ import annotations

import pytest

from mls_pq.bench.scenarios import SIZE_METRICS, TIME_OPS, GroupScenario, build_both, joined_state, populating_leaves
from mls_pq.group import Group, StagedCommit
from mls_pq.suites import get_suite


def test_populating_leaves() -> None:
    assert populating_leaves(2) == [1]
    assert populating_leaves(8) == [4, 2, 1]
    assert populating_leaves(9) == [8, 4, 2, 1]


@pytest.mark.parametrize("sid", [0x0001, 0xF001])
def test_ops_run_and_agree(sid: int) -> None:
    sc = build_both(get_suite(sid), 6)
    assert sorted(sc.actors) == [0, 1, 2, 4, 5]  # near 1, far 5, populators 4, 2, 1
    assert sc.copath_resolution_sizes() == [1, 2, 2]  # sparse: every member below the copath
    for shape in ("sparse", "populated"):
        if shape == "populated":
            sc.populate()
            assert sc.copath_resolution_sizes() == [1, 1, 1] and sc.shape == "populated"
        ops = sc.ops()
        assert set(ops) == set(TIME_OPS)
        results = {}
        for name, op in ops.items():
            results[name] = op.run()
            op.check(results[name])
            # a second run starts from the same state and does the same thing
            op.check(op.run())
        # the receivers really end up in the committer's next epoch
        near, far = results["process_near"], results["process_far"]
        assert isinstance(near, StagedCommit) and isinstance(far, StagedCommit) and near.epoch == far.epoch == sc.committer.epoch
        joined = results["join"]
        assert isinstance(joined, Group) and len(joined.members()) == 7
        ext_group, _ = results["external_join"]
        assert len(ext_group.members()) == 7
        assert set(sc.sizes()) == set(SIZE_METRICS)


def test_states_are_not_consumed_by_ops() -> None:
    sc = GroupScenario.build(get_suite(0x0001), 4)
    before = sc.committer.state.to_bytes()
    ops = sc.ops()
    for op in ops.values():
        op.run()
    assert sc.committer.state.to_bytes() == before


def test_bad_parameters() -> None:
    with pytest.raises(ValueError):
        GroupScenario.build(get_suite(0x0001), 1)
    with pytest.raises(ValueError):
        GroupScenario.build(get_suite(0x0001), 4, shape="dense")
    sc = GroupScenario.build(get_suite(0x0001), 4)  # sparse: populators not joined
    with pytest.raises(RuntimeError):
        sc.populate()


@pytest.mark.parametrize("sid", [0x0001, 0xF001])
def test_derived_joiners_equal_real_joins(sid: int) -> None:
    """build() joins one acting member from the bulk Welcome and derives the others' states
    (joined_state): each must be byte-for-byte the state its own Group.join gives."""
    suite = get_suite(sid)
    sc = GroupScenario.build(suite, 9, shape="populated", populate_later=True)
    assert sorted(sc.actors) == [0, 1, 2, 4, 8]
    bundles = {i: b for i, (_, b) in enumerate(sc.key_packages, start=1)}
    welcome, tree = sc.artefacts["bulk_welcome"], sc.artefacts["bulk_tree"]
    for i in (1, 2, 4, 8):
        real = Group.join(welcome, bundles[i], ratchet_tree=tree, suite=suite)
        assert sc.actors[i].state.to_bytes() == real.state.to_bytes()
        assert joined_state(real.state, 1, bundles[1]).to_bytes() == sc.actors[1].state.to_bytes()
    with pytest.raises(ValueError):  # bundle 2's leaf is leaf 2, not 3
        joined_state(sc.actors[1].state, 3, bundles[2])
    sc.populate()
    with pytest.raises(ValueError):  # path secrets: not a plain joiner's state any more
        joined_state(sc.actors[1].state, 3, bundles[3])


def test_recast_keeps_states() -> None:
    from mls_pq.bench.measure import counted, instrumented_suite

    suite = get_suite(0x0001)
    sc = build_both(suite, 5)
    sc.populate()
    ccs, counter, tally = instrumented_suite(suite)
    rc = sc.recast(ccs)
    assert sorted(rc.actors) == sorted(sc.actors) and rc.suite is ccs
    for i, g in sc.actors.items():
        assert rc.actors[i].state.to_bytes() == g.state.to_bytes()
    ops = rc.ops()
    counts, _ = counted(ops["update_commit"].run, counter, tally)
    assert counts["kem.encap"] == len(sc.copath_resolution_sizes())  # one HPKE seal per copath node
    with pytest.raises(ValueError):
        sc.recast(get_suite(0xF001))
