"""Self-check: sampled groups in exact mode against the model, metric by metric.

From the first shard of every population, ``self_check.groups`` groups of at most
``self_check.max_members`` members are picked with a generator seeded from the run's seed;
each is costed by :func:`mls_pq.simulate.exact.run_group` (real engine) and by
:func:`mls_pq.simulate.model.member_costs` (same events), under every policy. Bytes must
agree exactly (for DER ECDSA suites the model is an upper bound, see :mod:`.model`); CPU
and join time within ``cpu_tolerance`` over the sample, or the run says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .dask_runner import fixture
from .events import ShardSpec, generate
from .exact import run_group
from .model import Calibrated, member_costs, suite_sizes
from .workload import Workload


@dataclass
class PolicyCheck:
    policy: str
    groups: int
    members: int
    bytes_exact: bool
    bytes_rel_err: float  # max over byte metrics of |model - exact| / exact (totals over the sample)
    bytes_upper_bound: bool  # for variable-length signatures: model >= exact everywhere
    fixed_sig: bool
    cpu_rel_err: float  # (model - exact) / exact of the sample's total CPU seconds
    cpu_group_max_err: float  # worst per-group relative CPU error
    join_rel_err: float
    state_rel_err: float
    tolerance: float
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def bytes_ok(self) -> bool:
        return self.bytes_exact or (not self.fixed_sig and self.bytes_upper_bound and self.bytes_rel_err < 0.01)

    @property
    def cpu_ok(self) -> bool:
        return math.isfinite(self.cpu_rel_err) and abs(self.cpu_rel_err) <= self.tolerance

    def as_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["bytes_ok"], d["cpu_ok"] = self.bytes_ok, self.cpu_ok
        return d


def sample(w: Workload, seed: int) -> list[tuple[int, list[int]]]:
    """(population, group indices within its first shard) of the sampled groups."""
    out = []
    for p, pop in enumerate(w.populations):
        if w.self_check.groups <= 0:
            continue
        spec = ShardSpec(p, 0, 0, min(w.shard_groups, pop.groups))
        ev = generate(w, spec, seed)
        ok = np.flatnonzero(ev.members <= w.self_check.max_members)
        if ok.size == 0:
            continue
        rng = np.random.default_rng([seed, 0x5E1F, p])
        k = min(w.self_check.groups, ok.size)
        out.append((p, sorted(int(i) for i in rng.choice(ok, size=k, replace=False))))
    return out


def _rel(model: float, exact: float) -> float:
    if exact == 0:
        return 0.0 if model == 0 else math.inf
    return (model - exact) / exact


def self_check(w: Workload, seed: int, cals: dict[str, Calibrated]) -> list[PolicyCheck]:
    """Run the sampled groups both ways under every policy (module docstring)."""
    picks = sample(w, seed)
    out = []
    for pol in w.policies:
        tot: dict[str, list[float]] = {k: [0.0, 0.0] for k in ("sent", "recv", "ds", "welcome", "group_info", "cpu",
                                                                  "join", "state")}
        exact_bytes = True
        upper = True
        group_errs: list[float] = []
        members = groups = 0
        for p, idx in picks:
            spec = ShardSpec(p, 0, 0, min(w.shard_groups, w.populations[p].groups))
            ev = generate(w, spec, seed)
            payload = w.populations[p].activity.message_bytes
            model = member_costs(ev, pol, cals[pol.key], payload)
            for j in idx:
                e = run_group(fixture(pol, int(ev.members[j]), payload), ev.group(j))
                m = model.group(j)
                groups += 1
                members += len(e.sent)
                for k, mv, ev_ in (("sent", m.sent, e.sent), ("recv", m.recv, e.recv), ("welcome", m.welcome, e.welcome),
                                   ("group_info", m.group_info, e.group_info)):
                    if mv.shape != ev_.shape or np.any(mv != ev_):
                        exact_bytes = False
                    if mv.shape == ev_.shape and np.any(mv < ev_):
                        upper = False
                    tot[k][0] += float(mv.sum())
                    tot[k][1] += float(ev_.sum())
                if m.ds != e.ds:
                    exact_bytes = False
                upper = upper and m.ds >= e.ds
                tot["ds"][0] += m.ds
                tot["ds"][1] += e.ds
                tot["cpu"][0] += float(m.cpu.sum())
                tot["cpu"][1] += float(e.cpu.sum())
                tot["join"][0] += float(m.join_time.sum())
                tot["join"][1] += float(e.join_time.sum())
                tot["state"][0] += m.state
                tot["state"][1] += e.state
                if e.cpu.sum() > 0:
                    group_errs.append(abs(_rel(float(m.cpu.sum()), float(e.cpu.sum()))))
        rel = {k: _rel(v[0], v[1]) for k, v in tot.items()}
        bytes_err = max((abs(rel[k]) for k in ("sent", "recv", "ds", "welcome", "group_info")), default=0.0)
        out.append(PolicyCheck(
            pol.name, groups, members, exact_bytes, bytes_err, upper, suite_sizes(pol.suite).fixed_sig,
            rel["cpu"], max(group_errs, default=0.0), rel["join"], rel["state"], w.self_check.cpu_tolerance,
            {"totals_model_exact": tot},
        ))
    return out


__all__ = ["PolicyCheck", "sample", "self_check"]
