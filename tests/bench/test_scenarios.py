"""Benchmark scenarios run the real engine (mls_pq.bench.scenarios)."""

from __future__ import annotations

import pytest

from mls_pq.bench.scenarios import SIZE_METRICS, TIME_OPS, GroupScenario, build_both, populating_leaves
from mls_pq.group import Group
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
        assert near.kind == far.kind == "commit" and near.epoch == far.epoch == sc.committer.epoch
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
