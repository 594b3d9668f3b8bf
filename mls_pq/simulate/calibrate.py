"""Calibration: time curves per suite and operation, measured on this machine, cached.

For each policy (suite, commit wire format, ratchet-tree delivery) and each calibration size
N, a real :class:`~mls_pq.simulate.exact.Fixture` is built and every event is run through
the same methods exact mode uses (so both modes time the same code: the same engine calls,
the same ``timed`` wrapper, thread CPU time with the garbage collector off). The events run
in *rounds* (one batch of consecutive runs of every event at every size per round, as exact
mode replays a member's messages one after the other), and the value of an operation at a
size is the **interquartile mean over rounds of the batch means** (:func:`robust_mean`): a
burst of load from other processes during a few rounds moves a plain mean of a few dozen runs
by tens of percent and bends the whole fitted curve (before this estimator, one calibration
measured suite 1's application messages at 344 µs at N = 32 against 135 µs at the other
sizes); the interquartile mean ignores such rounds, while each batch mean still counts the
ordinary short outliers that exact mode's sums count too.

The values are fitted with ``t(N) = a + b·N + c·log2 N`` by least squares on relative error,
with non-negative coefficients (the best non-negative fit over the subsets of the three
terms: a handful of 3x3 problems, no solver library needed). The state size per member
(:meth:`Group.to_bytes`) is fitted the same way.

A calibration also keeps its **speed probe** (:func:`probe`): the per-event CPU time of the
application-message and self-update events at the smallest size. The self-check runs the
same probe between its exact replays, so it can tell a model error from a machine that runs
faster or slower now than when the (possibly cached) curves were measured.

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

from .exact import OPS, AnyFixture, CombinedFixture, make_fixture
from .model import Calibrated, Curve
from .workload import Calibration, Policy

#: bump when what is measured changes (invalidates every cache)
CACHE_VERSION = 5
#: every event runs in at least this many rounds (and the workload's ``reps``) ...
MIN_ROUNDS = 5
#: ... and until its runs add up to this many CPU seconds, or MAX_ROUNDS rounds
MIN_SAMPLE_S = 0.1
MAX_ROUNDS = 25
#: CPU seconds of one batch of consecutive runs of an event (at most MAX_BATCH runs)
BATCH_S = 0.01
MAX_BATCH = 64
#: the events of the speed probe and their operations (module docstring)
PROBE_OPS = {"app": ("app_encrypt", "app_decrypt"), "update": ("update_commit", "process_update")}


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


def robust_mean(batch_means: Sequence[float]) -> float:
    """The interquartile mean of the batch means of one operation (module docstring): the
    mean of what remains once the lowest and highest quarter are dropped (for 5 rounds: the
    middle 3). A mean, as exact mode's sums are, but not moved by a burst in a few rounds."""
    v = np.sort(np.asarray(batch_means, dtype=np.float64))
    k = len(v) // 4
    return float(v[k:len(v) - k].mean())


EventFn = Callable[[], tuple[dict[str, int], dict[str, float]]]


def run_batch(ev: EventFn, runs: int) -> dict[str, float]:
    """``runs`` consecutive runs of one event: the mean CPU seconds per run of each operation."""
    tot: dict[str, float] = {}
    for _ in range(runs):
        _, t = ev()
        for op, v in t.items():
            tot[op] = tot.get(op, 0.0) + v
    return {op: v / runs for op, v in tot.items()}


def batch_runs(mean_s: float) -> int:
    """Runs per batch for an event of ``mean_s`` CPU seconds per run (about BATCH_S per batch)."""
    return max(1, min(MAX_BATCH, round(BATCH_S / max(mean_s, 1e-9))))


def probe(fx: AnyFixture, rounds: int = 1) -> dict[str, float]:
    """The speed probe on ``fx`` (module docstring): per event kind of :data:`PROBE_OPS`, the
    robust mean over ``rounds`` batches of the event's CPU seconds per run (its operations summed)."""
    out = {}
    for kind, ops in PROBE_OPS.items():
        ev: EventFn = fx.app if kind == "app" else fx.update
        first = run_batch(ev, 1)
        n = batch_runs(sum(first[o] for o in ops))
        out[kind] = robust_mean([sum(run_batch(ev, n)[o] for o in ops) for _ in range(rounds)])
    return out


def probe_reference(points: dict[str, Any]) -> dict[str, float]:
    """The calibration's value of the speed probe (at its smallest size, same estimator)."""
    return {kind: float(sum(points[o][0] for o in ops)) for kind, ops in PROBE_OPS.items()}


def measure_policy(policy: Policy, cal: Calibration, *, progress: Callable[[str], None] | None = None
                   ) -> dict[str, Any]:
    """CPU seconds per operation (:func:`robust_mean` of batch means) and state octets at
    every calibration size.

    The groups of every size are built first; then the events run in rounds, one batch of
    each event at each size per round, so that a change in machine load during calibration
    affects every size alike instead of bending the fitted curves. An event stops after
    ``max(reps, MIN_ROUNDS)`` rounds once its runs add up to MIN_SAMPLE_S CPU seconds (or
    after MAX_ROUNDS rounds)."""
    fixtures = []
    for n in cal.sizes:
        if progress:
            progress(f"calibrating {policy.name}: building a group of {n}")
        fixtures.append(make_fixture(policy, n))
    if progress:
        progress(f"calibrating {policy.name}: timing every operation at N = {', '.join(map(str, cal.sizes))}")
    jobs: list[tuple[int, EventFn]] = []
    for i, fx in enumerate(fixtures):
        jobs += [(i, fx.app), (i, fx.update), (i, fx.add), (i, fx.external)]
        if isinstance(fx, CombinedFixture):
            jobs.append((i, fx.full))
        if fx.n >= 3:
            jobs.append((i, fx.remove))
    batches: list[dict[str, list[float]]] = [{op: [] for op in OPS} for _ in fixtures]
    spent = [0.0] * len(jobs)
    rounds = [0] * len(jobs)
    per_run = [0.0] * len(jobs)
    min_rounds = max(cal.reps, MIN_ROUNDS)
    load0 = _load()
    while True:
        active = [k for k in range(len(jobs)) if rounds[k] < min_rounds
                  or (spent[k] < MIN_SAMPLE_S and rounds[k] < MAX_ROUNDS)]
        if not active:
            break
        for k in active:
            i, ev = jobs[k]
            runs = 1 if rounds[k] == 0 else batch_runs(per_run[k])
            means = run_batch(ev, runs)
            for op, v in means.items():
                batches[i][op].append(v)
            per_run[k] = sum(means.values())
            spent[k] += per_run[k] * runs
            rounds[k] += 1
    points: dict[str, Any] = {"n": list(cal.sizes), "state": [fx.state_bytes() for fx in fixtures]}
    for op in OPS:
        points[op] = [robust_mean(b[op]) if b[op] else None for b in batches]
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
        pairs = [(n, y) for n, y in zip(ns, points.get(op, [])) if y is not None]
        times[op] = fit_curve([p[0] for p in pairs], [p[1] for p in pairs]) if pairs else Curve(0.0, 0.0, 0.0)
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


__all__ = ["CACHE_VERSION", "PROBE_OPS", "batch_runs", "calibrate", "curves_from", "default_cache_dir", "fingerprint",
           "fit_curve", "measure_policy", "probe", "probe_reference", "robust_mean", "run_batch"]
