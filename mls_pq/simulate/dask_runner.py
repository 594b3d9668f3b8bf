"""Running shards of groups: serially in this process, or as ``dask.distributed`` tasks.

Groups are independent, so the unit of work is a shard (:func:`mls_pq.simulate.events.shards`).
One task computes a shard's events and costs them under every policy, returning one
mergeable :class:`~mls_pq.simulate.model.Agg` per policy. The driver merges the results in
shard order: integer sums and histograms are order-free, the CPU sums are kept per shard and
added in shard order, so the same seed gives identical results serially, on a
``--workers N`` :class:`~dask.distributed.LocalCluster` (worker processes) or on an existing
cluster (``--scheduler tcp://HOST:8786``). Dask is an optional dependency (``mls-pq[sim]``);
no process pool is written here.
"""

from __future__ import annotations

import sys
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .events import ShardSpec, generate, shards
from .exact import AnyFixture, GroupCost, make_fixture, run_group
from .model import Agg, Calibrated, ShardCosts, member_costs, size_tables
from .workload import Policy, Workload

#: exact mode keeps this many built groups per process for reuse by groups of the same size
FIXTURE_CACHE = 32
_fixtures: OrderedDict[tuple[str, int, int], AnyFixture] = OrderedDict()


def fixture(policy: Policy, n: int, payload: int) -> AnyFixture:
    """A built group for ``policy`` with ``n`` members (reused within a process: every event
    still runs on the real engine; building the N-member group is not part of any event)."""
    key = (policy.key, n, payload)
    fx = _fixtures.get(key)
    if fx is None:
        fx = make_fixture(policy, n, payload)
        _fixtures[key] = fx
        while len(_fixtures) > FIXTURE_CACHE:
            _fixtures.popitem(last=False)
    else:
        _fixtures.move_to_end(key)
    return fx


def exact_costs(w: Workload, spec: ShardSpec, seed: int, policy: Policy,
                only: Sequence[int] | None = None) -> list[GroupCost]:
    """Exact mode for the shard's groups (or the groups ``only``, indices within the shard)."""
    ev = generate(w, spec, seed)
    payload = w.populations[spec.population].activity.message_bytes
    idx = range(spec.count) if only is None else only
    return [run_group(fixture(policy, int(ev.members[j]), payload), ev.group(j)) for j in idx]


def run_shard(w: Workload, spec: ShardSpec, seed: int, mode: str, cals: dict[str, Calibrated] | None,
              step: Callable[[int], None] | None = None) -> list[Agg]:
    """One task: the shard's events costed under every policy (calibrated or exact);
    ``step(k)`` after every k groups done (exact mode: after each group)."""
    order = _order(w, spec)
    ev = generate(w, spec, seed)
    payload = w.populations[spec.population].activity.message_bytes
    if mode == "calibrated":
        assert cals is not None
        tables = size_tables(list(w.policies), ev.members, payload)
        out = [Agg.of(member_costs(ev, pol, cals[pol.key], payload, sizes), w.days, order)
               for pol, sizes in zip(w.policies, tables)]
        if step is not None:
            step(spec.count)
        return out
    costs: list[list[GroupCost]] = [[] for _ in w.policies]
    for j in range(spec.count):
        ge = ev.group(j)
        for i, pol in enumerate(w.policies):
            costs[i].append(run_group(fixture(pol, ge.members, payload), ge))
        if step is not None:
            step(1)
    return [Agg.of(ShardCosts.from_groups(c), w.days, order) for c in costs]


def _order(w: Workload, spec: ShardSpec) -> int:
    return spec.population * 1_000_000_000 + spec.shard


@dataclass
class Progress:
    """A one-line progress report with ETA on stderr (silent when ``enabled`` is False)."""

    total_groups: int
    enabled: bool = True
    done: int = 0
    t0: float = 0.0
    last: float = 0.0

    def start(self) -> None:
        self.t0 = time.perf_counter()

    def step(self, groups: int) -> None:
        self.done += groups
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self.last < 0.25 and self.done < self.total_groups:
            return
        self.last = now
        el = now - self.t0
        rate = self.done / el if el > 0 else 0.0
        eta = (self.total_groups - self.done) / rate if rate > 0 else float("inf")
        pct = 100.0 * self.done / max(self.total_groups, 1)
        bar = "#" * int(pct / 5)
        print(f"\r[{bar:<20}] {pct:5.1f}%  {self.done}/{self.total_groups} groups  "
              f"{el:6.1f}s elapsed  ETA {eta:6.1f}s", end="", file=sys.stderr, flush=True)

    def finish(self) -> None:
        if self.enabled:
            print(file=sys.stderr, flush=True)


def run(w: Workload, *, mode: str, seed: int, cals: dict[str, Calibrated] | None = None, workers: int | None = None,
        scheduler: str | None = None, progress: bool = False) -> list[Agg]:
    """Every shard of ``w``; one merged :class:`Agg` per policy (in policy order)."""
    specs = shards(w)
    prog = Progress(w.total_groups, progress)
    prog.start()
    results: list[list[Agg] | None] = [None] * len(specs)
    if workers is None and scheduler is None:
        for i, spec in enumerate(specs):
            results[i] = run_shard(w, spec, seed, mode, cals, prog.step)
    else:
        _run_dask(w, specs, seed, mode, cals, workers, scheduler, results, prog.step)
    prog.finish()
    merged: list[Agg] | None = None
    for r in results:
        assert r is not None
        merged = r if merged is None else [a.merge(b) for a, b in zip(merged, r)]
    assert merged is not None
    return merged


def _run_dask(w: Workload, specs: list[ShardSpec], seed: int, mode: str, cals: dict[str, Calibrated] | None,
              workers: int | None, scheduler: str | None, results: list[list[Agg] | None],
              step: Callable[[int], None]) -> None:
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError as e:  # pragma: no cover - depends on the environment
        from .workload import WorkloadError

        raise WorkloadError([f"--workers/--scheduler need dask.distributed: pip install 'mls-pq[sim]' ({e})"],
                            "simulate") from None
    cluster: Any = None
    if scheduler is not None:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                               silence_logs=40)
        client = Client(cluster)
    try:
        wf = client.scatter(w, broadcast=True)
        cf = client.scatter(cals, broadcast=True) if cals is not None else None
        futs = [client.submit(run_shard, wf, spec, seed, mode, cf, key=f"mls-pq-shard-{seed}-{i}-{time.time_ns()}",
                              pure=False) for i, spec in enumerate(specs)]
        index = {f.key: i for i, f in enumerate(futs)}
        for fut in as_completed(futs):
            i = index[fut.key]
            results[i] = fut.result()
            step(specs[i].count)
            fut.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


__all__ = ["FIXTURE_CACHE", "Progress", "exact_costs", "fixture", "run", "run_shard"]
