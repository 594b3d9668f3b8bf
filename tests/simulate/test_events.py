"""The event generator: determinism by seed, groups independent of how shards are cut into runs."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from mls_pq.simulate.events import generate, group_events, shards
from mls_pq.simulate.workload import Workload


def test_same_seed_same_events_other_seed_other_events(small: Workload) -> None:
    spec = shards(small)[0]
    a, b, c = generate(small, spec, 5), generate(small, spec, 5), generate(small, spec, 6)
    for k in ("members", "msgs", "updates", "adds", "removes", "ext_joins"):
        assert np.array_equal(getattr(a, k), getattr(b, k)), k
    assert not all(np.array_equal(getattr(a, k), getattr(c, k)) for k in ("members", "msgs"))


def test_shards_cover_every_group_once(small: Workload) -> None:
    specs = shards(small)
    assert [(s.population, s.first, s.count) for s in specs] == [(0, 0, 16), (0, 16, 16), (0, 32, 8), (1, 0, 16),
                                                                  (1, 16, 4)]


def test_group_events_equal_their_shard_slice(small: Workload) -> None:
    spec = shards(small)[1]
    ev = generate(small, spec, 3)
    for j in (0, 7, 15):
        g = group_events(small, 0, spec.first + j, 3)
        h = ev.group(j)
        assert g.members == h.members and g.adds == h.adds and g.ext_joins == h.ext_joins
        assert np.array_equal(g.msgs, h.msgs) and np.array_equal(g.updates, h.updates)


def test_distributions_respect_bounds(small: Workload) -> None:
    big = replace(small, populations=(replace(small.populations[1], groups=5000),), shard_groups=5000)
    ev = generate(big, shards(big)[0], 1)
    users = np.rint(ev.members / 1.5)
    assert ev.members.min() >= 2 and users.max() <= 14
    assert 2 <= np.median(users) <= 4  # median 3 users
    # update_every_messages = 2: one self-update per two messages sent
    assert np.array_equal(ev.updates, ev.msgs // 2)
    # removes need 3 members
    assert not np.any(ev.removes[ev.members < 3])
    # Poisson(2 messages/day * 2 days) per member
    assert abs(ev.msgs.mean() - 4.0) < 0.2
