"""Calibration: time curves per suite and operation, measured on this machine, cached.

For each policy (suite, commit wire format, ratchet-tree delivery) and each calibration size
N, a real :class:`~mls_pq.simulate.exact.Fixture` is built and every event is run ``reps``
times through the same methods exact mode uses (so both modes time the same code). The
mean CPU seconds (thread time, garbage collector off) per operation are fitted with
``t(N) = a + b·N + c·log2 N`` by least squares on relative error, with non-negative
coefficients (the best non-negative fit over the subsets of the three terms: a handful of
3x3 problems, no solver library needed). The state size per member
(:meth:`Group.to_bytes`) is fitted the same way.

Results are cached as JSON in a cache directory, keyed by the policy, the sizes, the reps
and a fingerprint of the machine and software (CPU model, core count, platform, Python and
library versions): a cache from another machine or version is never used.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..suites import REGISTRY
from .exact import OPS, Fixture
from .model import Calibrated, Curve
from .workload import Calibration, Policy

#: bump when what is measured changes (invalidates every cache)
CACHE_VERSION = 4
#: cheap events are repeated until they add up to this many CPU seconds (or MAX_FACTOR * reps runs)
MIN_SAMPLE_S = 0.03
MAX_FACTOR = 10
#: CPU seconds of one batch of consecutive runs of an event during calibration
BATCH_S = 0.005


def fingerprint() -> str:
    """A short hash of the machine and software the timings are valid for."""
    from ..bench.measure import machine_facts

    f = machine_facts()
    keep = {k: f[k] for k in ("platform", "machine", "cpu", "cpu_count", "cpus_usable", "python")}
    keep["libraries"] = f["libraries"]
    keep["version"] = CACHE_VERSION
    return hashlib.sha256(json.dumps(keep, sort_keys=True).encode()).hexdigest()[:16]


def default_cache_dir() -> Path:
    env = os.environ.get("MLS_PQ_CACHE")
    if env:
        return Path(env) / "simulate"
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "mls-pq" / "simulate"


def fit_curve(ns: Sequence[int], ys: Sequence[float]) -> Curve:
    """Non-negative least-squares fit of ``a + b·N + c·log2 N`` on relative error (module doc)."""
    n = np.asarray(ns, dtype=np.float64)
    y = np.asarray(ys, dtype=np.float64)
    w = 1.0 / np.maximum(np.abs(y), 1e-12)
    cols = [np.ones_like(n), n, np.log2(n)]
    best: tuple[float, list[float]] | None = None
    for k in (3, 2, 1):
        for subset in itertools.combinations(range(3), k):
            X = np.stack([cols[i] for i in subset], axis=1) * w[:, None]
            coef, *_ = np.linalg.lstsq(X, y * w, rcond=None)
            if np.any(coef < 0):
                continue
            full = [0.0, 0.0, 0.0]
            for i, c in zip(subset, coef):
                full[i] = float(c)
            resid = float(np.sum(((full[0] + full[1] * n + full[2] * np.log2(n) - y) * w) ** 2))
            if best is None or resid < best[0] - 1e-15:
                best = (resid, full)
        if best is not None and k == 3:
            break
    if best is None:  # every value zero or negative: a constant zero curve
        return Curve(0.0, 0.0, 0.0)
    return Curve(*best[1])


def measure_policy(policy: Policy, cal: Calibration, *, progress: Callable[[str], None] | None = None
                   ) -> dict[str, Any]:
    """Mean CPU seconds per operation and state octets at every calibration size.

    The groups of every size are built first; then the events run in rounds, one run of each
    event at each size per round, so that a change in machine load during calibration
    affects every size alike instead of bending the fitted curves. An event stops once it
    has ``reps`` runs and MIN_SAMPLE_S CPU seconds (or MAX_FACTOR * reps runs)."""
    suite = REGISTRY.get(policy.suite)
    fixtures = []
    for n in cal.sizes:
        if progress:
            progress(f"calibrating {policy.name}: building a group of {n}")
        fixtures.append(Fixture(suite, policy, n))
    if progress:
        progress(f"calibrating {policy.name}: timing every operation at N = {', '.join(map(str, cal.sizes))}")
    jobs: list[tuple[int, Callable[[], tuple[dict[str, int], dict[str, float]]]]] = []
    for i, fx in enumerate(fixtures):
        jobs += [(i, fx.app), (i, fx.update), (i, fx.add), (i, fx.external)]
        if fx.n >= 3:
            jobs.append((i, fx.remove))
    samples: list[dict[str, list[float]]] = [{op: [] for op in OPS} for _ in fixtures]
    spent = [0.0] * len(jobs)
    runs = [0] * len(jobs)
    load0 = _load()
    while True:
        active = [k for k in range(len(jobs))
                  if runs[k] < cal.reps or (spent[k] < MIN_SAMPLE_S and runs[k] < MAX_FACTOR * cal.reps)]
        if not active:
            break
        for k in active:
            i, ev = jobs[k]
            # a batch of consecutive runs (about BATCH_S CPU seconds), as exact mode replays
            # a member's messages one after the other: caches are as warm as there
            batch = 1 if runs[k] == 0 else max(1, min(50, round(BATCH_S * runs[k] / max(spent[k], 1e-9))))
            for _ in range(batch):
                _, t = ev()
                for op, v in t.items():
                    samples[i][op].append(v)
                spent[k] += sum(t.values())
                runs[k] += 1
    points: dict[str, Any] = {"n": list(cal.sizes), "state": [fx.state_bytes() for fx in fixtures]}
    for op in OPS:
        points[op] = [float(np.mean(sm[op])) if sm[op] else None for sm in samples]
    points["load_average"] = [load0, _load()]
    return points


def _load() -> float | None:
    """The 1-minute load average (recorded with a calibration: a loaded machine times slower)."""
    try:
        return float(os.getloadavg()[0])
    except (AttributeError, OSError):  # pragma: no cover - not on Unix
        return None


def curves_from(points: dict[str, Any]) -> tuple[dict[str, Curve], Curve]:
    ns = points["n"]
    times = {}
    for op in OPS:
        pairs = [(n, y) for n, y in zip(ns, points[op]) if y is not None]
        times[op] = fit_curve([p[0] for p in pairs], [p[1] for p in pairs])
    return times, fit_curve(ns, points["state"])


def calibrate(policy: Policy, cal: Calibration, *, cache_dir: Path | None = None, refresh: bool = False,
              progress: Callable[[str], None] | None = None) -> Calibrated:
    """The policy's curves, from the cache when it holds them for this machine."""
    fp = fingerprint()
    d = cache_dir or default_cache_dir()
    sizes = "-".join(str(n) for n in cal.sizes)
    path = d / f"{fp}-{policy.key}-n{sizes}-r{cal.reps}.json"
    points: dict[str, Any] | None = None
    if path.exists() and not refresh:
        try:
            data = json.loads(path.read_text())
            if data.get("fingerprint") == fp:
                points = data["points"]
        except (OSError, ValueError, KeyError):
            points = None
    if points is None:
        points = measure_policy(policy, cal, progress=progress)
        try:
            d.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps({"fingerprint": fp, "policy": policy.key, "points": points}, indent=1))
            tmp.replace(path)
        except OSError:
            pass  # an unwritable cache only costs a re-calibration next time
    times, state = curves_from(points)
    return Calibrated(policy.key, times, state, fp, points)


__all__ = ["CACHE_VERSION", "calibrate", "curves_from", "default_cache_dir", "fingerprint", "fit_curve",
           "measure_policy"]
