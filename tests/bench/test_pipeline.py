"""Groups built ahead in a worker process (mls_pq.bench.pipeline) measure like groups built here."""

from __future__ import annotations

import os

from mls_pq.bench.pipeline import Builder, suite_fingerprint
from mls_pq.bench.scenarios import GroupScenario
from mls_pq.suites import get_suite


def test_builder_hands_over_scenarios_in_plan_order() -> None:
    plan = [(0x0001, 2), (0xF001, 5), (0x0001, 9)]
    b = Builder(plan, None, ["sparse", "populated"], 100)
    folder = b.folder
    try:
        for sid, n in plan:
            cs = get_suite(sid)
            got = b.take(cs, n)
            assert got is not None
            scenarios, build_s = got
            assert [shape for shape, _ in scenarios] == ["sparse", "populated"] and build_s > 0
            local = GroupScenario.build(cs, n, shape="populated", populate_later=True)
            for shape, sc in scenarios:
                if shape == "populated":
                    local.populate()
                assert sc.n == n and sc.shape == shape and sc.suite is cs
                assert sorted(sc.actors) == sorted({0, 1, n - 1})
                assert sc.copath_resolution_sizes() == local.copath_resolution_sizes()
                assert sc.sizes() == local.sizes()  # fixed-length signatures: same octets
                for op in sc.ops().values():
                    op.check(op.run())
    finally:
        b.close()
    assert not os.path.exists(folder) and not b.proc.is_alive()


def test_builder_failure_means_build_here() -> None:
    b = Builder([(0x0001, 2)], "no-such-profile", ["populated"], 100)  # the worker cannot build it
    try:
        assert b.take(get_suite(0x0001), 2) is None
    finally:
        b.close()


def test_fingerprint_tells_constructions_apart() -> None:
    assert suite_fingerprint(get_suite(0xF001)) != suite_fingerprint(get_suite(0xF002))
    assert suite_fingerprint(get_suite(0xF001)) == suite_fingerprint(get_suite(0xF001))
