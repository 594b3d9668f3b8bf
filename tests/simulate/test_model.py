"""Model pieces: curve fits, histogram percentiles, and the size model against real wire bytes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mls_pq.simulate.calibrate import fit_curve
from mls_pq.simulate.exact import CombinedFixture, Fixture
from mls_pq.simulate.model import combined_event_sizes, event_sizes, hist_quantile, histogram
from mls_pq.simulate.workload import Policy
from mls_pq.suites import REGISTRY


def test_fit_recovers_known_curve() -> None:
    ns = [2, 8, 32, 128, 512]
    ys = [1e-3 + 2e-6 * n + 3e-4 * math.log2(n) for n in ns]
    c = fit_curve(ns, ys)
    assert c.a == pytest.approx(1e-3, rel=1e-6) and c.b == pytest.approx(2e-6, rel=1e-6)
    assert c.c == pytest.approx(3e-4, rel=1e-6)


def test_fit_is_never_negative() -> None:
    # decreasing samples would give a negative slope: the best non-negative fit is used instead
    c = fit_curve([2, 4, 8, 16], [5.0, 4.0, 3.0, 2.0])
    assert min(c.a, c.b, c.c) >= 0
    assert np.all(c(np.array([2, 1000, 10**6])) >= 0)


def test_histogram_quantiles_within_resolution() -> None:
    rng = np.random.default_rng(0)
    v = rng.lognormal(5, 1, 100_000)
    h = histogram(v)
    for q in (0.5, 0.99):
        assert hist_quantile(h, q) == pytest.approx(float(np.quantile(v, q)), rel=0.013)
    assert hist_quantile(histogram(np.array([0.0, 0.0, 7.0])), 0.5) == 0.0
    assert math.isnan(hist_quantile(np.zeros_like(h), 0.5))
    # weights count as repeated values
    assert np.array_equal(histogram(np.array([3.0, 50.0]), np.array([2, 1])), histogram(np.array([3.0, 3.0, 50.0])))


@pytest.mark.parametrize(("suite", "commits", "tree"), [(1, "public", "welcome"), (0xF001, "private", "out_of_band"),
                                                        (0xF00A, "private", "welcome")])
def test_event_sizes_equal_real_wire_bytes(suite: int, commits: str, tree: str) -> None:
    for n in (3, 6, 11):
        fx = Fixture(REGISTRY.get(suite), Policy("p", suite, commits, tree), n, payload=77)
        got: dict[str, int] = {}
        for ev in (fx.app, fx.update, fx.add, fx.remove, fx.external):
            got.update(ev()[0])
        assert got == event_sizes(suite, commits, tree, n, 77), n


@pytest.mark.parametrize(("t", "pq"), [(0x0001, 0xF006), (0x0001, 0xF00A)])
def test_combined_event_sizes_equal_real_wire_bytes(t: int, pq: int) -> None:
    """Every event of a combined group (APQGroup: PARTIAL and FULL commits, the KeyPackage
    pair, the FULL commit adding or removing a member, the Welcome and GroupInfo pairs, the
    external join pair) octet for octet as the model says."""
    for n in (3, 6, 11):
        fx = CombinedFixture(Policy("c", t, pq_suite=pq, full_every=3), n, payload=77)
        got: dict[str, int] = {}
        for ev in (fx.app, fx.update, fx.full, fx.add, fx.remove, fx.external):
            got.update(ev()[0])
        assert got == combined_event_sizes(t, pq, n, 77), n
        assert got["full"] > got["update"] > 0
