"""The one event generator shared by exact and calibrated mode.

Groups are cut into fixed shards (``shard_groups`` per shard, a property of the workload,
never of how the run is executed). Shard ``k`` of population ``p`` draws everything from
``numpy.random.Generator(PCG64(SeedSequence([seed, p, k])))`` in one fixed order, so the
events of any group are a pure function of (seed, population, group index): the same
whichever process, worker or mode computes them, and exact mode can re-create the events
of one sampled group and compare it with the model group by group.

What is drawn, per group (members = max(2, round(users * devices_per_user)))::

    users        ~ the population's size distribution
    msgs[i]      ~ Poisson(messages_per_member_per_day * days)   per member i
    updates[i]   ~ Poisson(updates_per_member_per_day * days)    per member i
                   (or msgs[i] // update_every_messages)
    adds         ~ Poisson(adds_per_group_per_day * days)
    removes      ~ Poisson(removes_per_group_per_day * days)      (0 below 3 members)
    ext_joins    ~ Binomial(members, late_join_fraction)

Modelling conventions (the same in both modes): every event is costed from the group's
steady state of ``members`` members (a populated tree: every member has committed once);
adds and removes are committed by the group's admin (member 0); membership churn does not
change the size later events see. Under a combiner policy (``full_every = k``) the group's
self-updates are numbered from 0 in replay order (member 0's, then member 1's, ...) and the
c-th is a FULL commit when ``c % k == k - 1``, a PARTIAL one otherwise
(:func:`mls_pq.simulate.exact.is_full`; the model counts the same ones per member); adds,
removes and external joins are FULL (draft-ietf-mls-combiner §3).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .workload import Population, SizeDist, Workload

#: z-score of the 99th percentile of the standard normal distribution
Z99 = 2.3263478740408408


@dataclass(frozen=True)
class ShardSpec:
    """A unit of work: groups ``first .. first+count-1`` of population ``population``."""

    population: int
    shard: int
    first: int
    count: int


@dataclass
class ShardEvents:
    """Every event count of a shard's groups (arrays; members flattened with ``offsets``)."""

    spec: ShardSpec
    members: np.ndarray  # (G,) int64
    offsets: np.ndarray  # (G+1,) int64: members of group g are offsets[g]:offsets[g+1]
    msgs: np.ndarray  # (M,) messages sent per member
    updates: np.ndarray  # (M,) self-updates per member
    adds: np.ndarray  # (G,)
    removes: np.ndarray  # (G,)
    ext_joins: np.ndarray  # (G,)

    def group(self, j: int) -> GroupEvents:
        a, b = int(self.offsets[j]), int(self.offsets[j + 1])
        return GroupEvents(
            self.spec.population, self.spec.first + j, int(self.members[j]),
            self.msgs[a:b].copy(), self.updates[a:b].copy(),
            int(self.adds[j]), int(self.removes[j]), int(self.ext_joins[j]),
        )


@dataclass
class GroupEvents:
    """The events of one group (what exact mode replays)."""

    population: int
    index: int
    members: int
    msgs: np.ndarray
    updates: np.ndarray
    adds: int
    removes: int
    ext_joins: int


def shards(w: Workload) -> list[ShardSpec]:
    """Every shard of the workload, in a fixed order."""
    out = []
    for p, pop in enumerate(w.populations):
        for k in range(math.ceil(pop.groups / w.shard_groups)):
            first = k * w.shard_groups
            out.append(ShardSpec(p, k, first, min(w.shard_groups, pop.groups - first)))
    return out


def draw_users(rng: np.random.Generator, size: SizeDist, count: int) -> np.ndarray:
    """Users per group for ``count`` groups."""
    if size.dist == "fixed":
        return np.full(count, size.value, dtype=np.int64)
    if size.dist == "uniform":
        return rng.integers(size.min, size.max + 1, size=count, dtype=np.int64)
    if size.dist == "lognormal":
        mu = math.log(size.median)
        sigma = (math.log(size.p99) - mu) / Z99
        x = np.rint(np.exp(mu + sigma * rng.standard_normal(count)))
        return np.clip(x, size.min, size.max).astype(np.int64)
    values, probs = size.table
    idx = rng.choice(len(values), size=count, p=np.asarray(probs))
    return np.asarray(values, dtype=np.int64)[idx]


def generate(w: Workload, spec: ShardSpec, seed: int | None = None) -> ShardEvents:
    """The events of one shard (module docstring); ``seed`` overrides the workload's."""
    pop: Population = w.populations[spec.population]
    s = w.seed if seed is None else seed
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([s, spec.population, spec.shard])))
    a = pop.activity
    d = w.days
    users = draw_users(rng, pop.size, spec.count)
    members = np.maximum(2, np.rint(users * pop.devices_per_user)).astype(np.int64)
    offsets = np.zeros(spec.count + 1, dtype=np.int64)
    np.cumsum(members, out=offsets[1:])
    m = int(offsets[-1])
    msgs = rng.poisson(a.messages_per_member_per_day * d, size=m).astype(np.int64)
    if a.update_every_messages:
        updates = msgs // a.update_every_messages
    else:
        updates = rng.poisson(a.updates_per_member_per_day * d, size=m).astype(np.int64)
    adds = rng.poisson(a.adds_per_group_per_day * d, size=spec.count).astype(np.int64)
    removes = rng.poisson(a.removes_per_group_per_day * d, size=spec.count).astype(np.int64)
    removes[members < 3] = 0
    ext = rng.binomial(members, a.late_join_fraction).astype(np.int64)
    return ShardEvents(spec, members, offsets, msgs, updates, adds, removes, ext)


def group_events(w: Workload, population: int, index: int, seed: int | None = None) -> GroupEvents:
    """The events of one group, re-created from its shard."""
    k = index // w.shard_groups
    first = k * w.shard_groups
    spec = ShardSpec(population, k, first, min(w.shard_groups, w.populations[population].groups - first))
    return generate(w, spec, seed).group(index - first)


__all__ = ["GroupEvents", "ShardEvents", "ShardSpec", "draw_users", "generate", "group_events", "shards"]
