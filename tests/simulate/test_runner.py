"""Serial and Dask runs give identical results; exact and calibrated modes agree."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from mls_pq.simulate.api import calibrations, simulate
from mls_pq.simulate.dask_runner import exact_costs, run
from mls_pq.simulate.events import generate, shards
from mls_pq.simulate.model import Calibrated, member_costs
from mls_pq.simulate.selfcheck import self_check
from mls_pq.simulate.workload import Policy, Workload


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


def test_exact_and_calibrated_bytes_agree_on_a_small_fleet(small: Workload, cals: dict[str, Calibrated]) -> None:
    """Bytes equal octet for octet, group by group and member by member, for every policy."""
    spec = shards(small)[0]
    spec = replace(spec, count=6)
    ev = generate(small, spec, 2)
    payload = small.populations[0].activity.message_bytes
    for pol in small.policies:
        exact = exact_costs(small, spec, 2, pol)
        model = member_costs(ev, pol, cals[pol.key], payload)
        for j, e in enumerate(exact):
            m = model.group(j)
            assert np.array_equal(m.sent, e.sent) and np.array_equal(m.recv, e.recv), (pol.name, j)
            assert m.ds == e.ds and np.array_equal(m.welcome, e.welcome) and np.array_equal(m.group_info, e.group_info)
            assert len(m.join_time) == len(e.join_time)
            assert float(e.cpu.sum()) > 0


def test_combined_group_bytes_agree_full_every_k(small: Workload) -> None:
    """A combiner policy (FULL every 2nd self-update; adds, removes, external joins FULL):
    exact mode on APQGroup and the model agree octet for octet, member by member, and the
    FULL/PARTIAL split is what the policy says."""
    from mls_pq.simulate.exact import OPS
    from mls_pq.simulate.model import Curve, combined_event_sizes

    pol = Policy("combiner", 0x0001, pq_suite=0xF006, full_every=2)
    w = replace(small, policies=(pol,))
    spec = replace(shards(w)[0], count=4)
    ev = generate(w, spec, 3)
    payload = w.populations[0].activity.message_bytes
    zero = Calibrated(pol.key, {op: Curve(0.0, 0.0, 0.0) for op in OPS}, Curve(0.0, 0.0, 0.0))
    model = member_costs(ev, pol, zero, payload)
    exact = exact_costs(w, spec, 3, pol)
    fulls = 0
    for j, e in enumerate(exact):
        m = model.group(j)
        assert np.array_equal(m.sent, e.sent) and np.array_equal(m.recv, e.recv), j
        assert m.ds == e.ds and np.array_equal(m.welcome, e.welcome) and np.array_equal(m.group_info, e.group_info)
        g = ev.group(j)
        sz = combined_event_sizes(0x0001, 0xF006, g.members, payload)
        # what every member sent, rebuilt from the FULL/PARTIAL rule (every 2nd self-update FULL)
        c = 0
        for i in range(g.members):
            f = sum(1 for x in range(c, c + int(g.updates[i])) if x % 2 == 1)
            c += int(g.updates[i])
            fulls += f
            want = int(g.msgs[i]) * sz["app"] + (int(g.updates[i]) - f) * sz["update"] + f * sz["full"]
            if i == 0:
                want += g.adds * (sz["add"] + sz["welcome"]) + g.removes * sz["remove"]
            assert int(e.sent[i]) == want, (j, i)
    assert fulls > 0


#: the CPU tolerance the self-check states (workload ``self_check.cpu_tolerance``), asserted here
CPU_TOLERANCE = 0.2


def test_exact_and_calibrated_cpu_within_tolerance(small: Workload, cache_dir: Path) -> None:
    """Calibrated CPU within the stated tolerance (±20 %) of exact mode on a small fleet, for
    suite 1 and X-Wing: a fresh calibration, then every sampled group replayed 3 times under
    both policies (interleaved) and the replay of median CPU kept, so that a loaded 2-core CI
    machine does not decide the outcome (see mls_pq.simulate.selfcheck)."""
    pols = (Policy("suite 1", 0x0001), Policy("X-Wing", 0xF001))
    w = replace(small, policies=pols, self_check=replace(small.self_check, groups=2, cpu_tolerance=CPU_TOLERANCE))
    cals = calibrations(w, cache_dir=cache_dir / "fresh", refresh=True)
    checks = self_check(w, 5, cals, repeats=3)
    for c in checks:
        assert c.groups == 4 and c.repeats == 3
        assert c.bytes_exact, c.policy
        cpu = next(m for m in c.metrics if m.metric == "cpu")
        assert cpu.tolerance == CPU_TOLERANCE
        detail = (c.policy, f"cpu error {c.cpu_rel_err:+.3f}", f"raw {c.cpu_rel_err_raw:+.3f}",
                  f"speed x{c.speed:.2f} (se {c.speed_se:.3f}, significant {c.speed_significant})")
        assert c.cpu_ok, detail
        # the deciding comparison: the model at the machine's present speed (the probe ran)
        want = c.cpu_rel_err_speed if math.isfinite(c.speed_se) else c.cpu_rel_err_raw
        assert c.cpu_rel_err == want and abs(want) <= CPU_TOLERANCE, detail


def test_self_check_reported(small: Workload, cals: dict[str, Calibrated]) -> None:
    doc = simulate(small, seed=1, cals=cals)
    checks = doc["self_check"]
    assert [c["policy"] for c in checks] == [p.name for p in small.policies]
    for c in checks:
        assert c["groups"] == 6 and c["bytes_exact"] and c["bytes_ok"]
        assert math.isfinite(c["cpu_rel_err"]) and math.isfinite(c["speed"]) and c["speed"] > 0
        assert [m["metric"] for m in c["metrics"]] == ["sent", "recv", "ds", "welcome", "group_info", "cpu",
                                                       "join_time", "state"]
        for m in c["metrics"][:5]:
            assert m["tolerance"] == 0 and m["model"] == m["exact"] and m["ok"]
        cpu = c["metrics"][5]
        assert cpu["tolerance"] == 0.2 and cpu["rel_err"] == c["cpu_rel_err"]
        # the flag follows the stated rule: the model scaled by the probe's speed (7 probes ran)
        assert math.isfinite(c["speed_se"]) and c["cpu_rel_err"] == c["cpu_rel_err_speed"]
        assert cpu["ok"] == (abs(c["cpu_rel_err"]) <= 0.2)
        # 7 probes: Student's t with 6 degrees of freedom
        assert c["speed_significant"] == (abs(math.log(c["speed"])) > 2.45 * c["speed_se"])
        assert c["ok"] == all(m["ok"] for m in c["metrics"])
        assert len(c["details"]["probes"]) == 7  # one before each replay, one after the last


def test_self_check_flags_a_metric_outside_tolerance(small: Workload, cals: dict[str, Calibrated]) -> None:
    """A model made 10x too slow is reported outside the tolerance, per metric, in the table."""
    from mls_pq.simulate.model import Curve
    from mls_pq.simulate.report import self_check_lines

    pol = small.policies[0]
    c0 = cals[pol.key]
    slow = replace(c0, times={k: Curve(10 * v.a, 10 * v.b, 10 * v.c) for k, v in c0.times.items()})
    w = replace(small, policies=(pol,), self_check=replace(small.self_check, groups=1))
    (chk,) = self_check(w, 1, {pol.key: slow})
    cpu = next(m for m in chk.metrics if m.metric == "cpu")
    assert cpu.rel_err > 0.2 and cpu.raw_rel_err is not None and cpu.raw_rel_err > 0.2
    assert not cpu.ok and not chk.cpu_ok and not chk.ok
    assert chk.bytes_exact
    text = "\n".join(self_check_lines([chk.as_dict()]))
    assert "NOT WITHIN TOLERANCE" in text
    assert any(line.strip().startswith("cpu") and "OUTSIDE TOLERANCE" in line and "±20%" in line
               for line in text.splitlines())


def test_significant_change_is_a_t_test() -> None:
    from mls_pq.simulate.selfcheck import significant_change

    assert not significant_change(1.5, 0.1, 2)  # too few probes to tell
    assert not significant_change(1.5, 0.1, 3)  # ln 1.5 = 0.41 < 4.30 x 0.1
    assert significant_change(1.5, 0.1, 7)  # 0.41 > 2.45 x 0.1
    assert not significant_change(1.05, 0.1, 50) and significant_change(0.7, 0.1, 50)
    assert not significant_change(2.0, math.inf, 9)
