"""Serial and Dask runs give identical results; exact and calibrated modes agree."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from mls_pq.simulate.api import simulate
from mls_pq.simulate.dask_runner import exact_costs, run
from mls_pq.simulate.events import generate, shards
from mls_pq.simulate.model import Calibrated, member_costs
from mls_pq.simulate.workload import Workload


def test_same_seed_same_results_other_seed_differs(small: Workload, cals: dict[str, Calibrated]) -> None:
    w = replace(small, self_check=replace(small.self_check, groups=0))
    a = simulate(w, seed=4, cals=cals)["results"]
    b = simulate(w, seed=4, cals=cals)["results"]
    c = simulate(w, seed=5, cals=cals)["results"]
    assert a == b
    assert a != c


def test_serial_and_local_dask_cluster_identical(small: Workload, cals: dict[str, Calibrated]) -> None:
    pytest.importorskip("dask.distributed")
    serial = run(small, mode="calibrated", seed=9, cals=cals)
    dask2 = run(small, mode="calibrated", seed=9, cals=cals, workers=2)
    for s, d in zip(serial, dask2):
        assert s.summary(small.days) == d.summary(small.days)
        for k in s.hist:
            assert np.array_equal(s.hist[k], d.hist[k]), k
        assert (s.sum_sent, s.sum_recv, s.sum_ds) == (d.sum_sent, d.sum_recv, d.sum_ds)


def test_exact_and_calibrated_agree_on_a_small_fleet(small: Workload, cals: dict[str, Calibrated]) -> None:
    """Bytes equal octet for octet, group by group and member by member; CPU error finite and
    within a generous bound (the machine is shared: the run's own verdict uses the workload's
    tolerance and is reported, this test only guards against a broken model)."""
    spec = shards(small)[0]
    spec = replace(spec, count=6)
    ev = generate(small, spec, 2)
    payload = small.populations[0].activity.message_bytes
    for pol in small.policies:
        exact = exact_costs(small, spec, 2, pol)
        model = member_costs(ev, pol, cals[pol.key], payload)
        cpu_e = cpu_m = 0.0
        for j, e in enumerate(exact):
            m = model.group(j)
            assert np.array_equal(m.sent, e.sent) and np.array_equal(m.recv, e.recv), (pol.name, j)
            assert m.ds == e.ds and np.array_equal(m.welcome, e.welcome) and np.array_equal(m.group_info, e.group_info)
            assert len(m.join_time) == len(e.join_time)
            cpu_e += float(e.cpu.sum())
            cpu_m += float(m.cpu.sum())
        err = (cpu_m - cpu_e) / cpu_e
        assert math.isfinite(err) and abs(err) < 1.0, (pol.name, err)


def test_self_check_reported(small: Workload, cals: dict[str, Calibrated]) -> None:
    doc = simulate(small, seed=1, cals=cals)
    checks = doc["self_check"]
    assert [c["policy"] for c in checks] == [p.name for p in small.policies]
    for c in checks:
        assert c["groups"] == 6 and c["bytes_exact"] and c["bytes_ok"]
        assert math.isfinite(c["cpu_rel_err"]) and abs(c["cpu_rel_err"]) < 1.0
        assert c["cpu_ok"] == (abs(c["cpu_rel_err"]) <= 0.2)
