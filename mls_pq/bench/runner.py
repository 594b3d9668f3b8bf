"""The benchmark run: suites × group sizes × tree shapes × operations, with statistics,
crypto floors, the size model beside every measured size, and growth slopes.

Every (suite, N) builds one group over the real engine and the plain suite, which is
timed; a copy of its members' states over :func:`~mls_pq.bench.measure.instrumented_suite`
(:meth:`~mls_pq.bench.scenarios.GroupScenario.recast`) runs once per operation to count
primitive calls and octets (the counting adapters would otherwise slow the timed runs down). Unit times of the primitives are measured once per
suite in the same process.

Every figure repeats until its relative spread is below the target or its time budget is
spent (:func:`~mls_pq.bench.measure.time_adaptive`) and carries its reliability flags
(:mod:`.reliability`); the whole run records the load other processes put on the machine.
The baseline suite (0x0001 if measured, else the first) is measured first and its groups at
the largest N are kept, so that every other suite's ratio to it at that N comes from runs
interleaved in time (:func:`~mls_pq.bench.measure.paired_ratio`).

Ctrl-C (KeyboardInterrupt) stops the run between two timed runs; :func:`run` then returns
what was measured so far with ``complete: false``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict
from typing import Any

from ..suites import CipherSuite, get_suite
from . import measure as M
from . import reliability as R
from .config import BenchConfig
from .model import MAX_VECTOR, SuiteSizes, model_breakdown, model_sizes, sig_range
from .pipeline import Builder, usable_cpus
from .scenarios import SHAPES, SIZE_METRICS, TIME_OPS, GroupScenario

#: every primitive operation name the counting adapters can report
PRIMITIVES = (
    "hash",
    "mac",
    "kdf.extract",
    "kdf.expand",
    "kdf.derive",
    "aead.seal",
    "aead.open",
    "sign",
    "verify",
    "kem.generate_key_pair",
    "kem.derive_key_pair",
    "kem.public_key",
    "kem.encap",
    "kem.decap",
    "sig.generate",
    "sig.public_key",
    "hpke.seal",
    "hpke.open",
)

Progress = Callable[[str, int], None]

#: the time metrics whose ratio to the baseline suite is measured interleaved (the summary
#: table's time columns)
RATIO_OPS = ("kp_gen", "update_commit", "process_far", "join")


def baseline_of(suites: Sequence[int]) -> int | None:
    """The suite every other is compared with: 0x0001 if measured, else the first."""
    return None if not suites else 1 if 1 in suites else suites[0]


class _Baseline:
    """The baseline suite's scenarios at the largest N, kept for the interleaved ratios."""

    def __init__(self, suite: int | None, n: int) -> None:
        self.suite, self.n = suite, n
        #: "shape/metric" -> (run, median seconds, before-each-run hook)
        self.ops: dict[str, tuple[Callable[[], Any], float, Callable[[], None] | None]] = {}
        self.keep: list[GroupScenario] = []


def _suite_info(cs: CipherSuite) -> dict[str, Any]:
    return {"suite": cs.id, "suite_hex": f"0x{cs.id:04x}", "suite_name": cs.name}


def _ordered_shapes(shapes: Sequence[str]) -> list[str]:
    return [s for s in SHAPES if s in shapes]


def run(config: BenchConfig, progress: Progress | None = None) -> dict[str, Any]:
    """Run the benchmark and return the results document (see :mod:`mls_pq.bench.report`).
    On KeyboardInterrupt the document holds what was measured so far, ``complete: false``."""
    config.validate()
    t_start = time.perf_counter()
    monitor = R.MachineMonitor.start()
    shapes = _ordered_shapes(config.shapes)
    time_ops = [o for o in config.ops if o in TIME_OPS]
    want_sizes = "sizes" in config.ops
    rows: list[dict[str, Any]] = []
    units_doc: dict[str, dict[str, dict[str, float]]] = {}
    suite_wall: dict[str, float] = {}
    build_doc: dict[str, dict[str, Any]] = {}
    base_id = baseline_of(list(config.suites))
    order = list(config.suites)
    if config.interleave and base_id is not None:  # the baseline first: its groups are kept
        order = [base_id] + [s for s in order if s != base_id]
    base = _Baseline(base_id if config.interleave and len(order) > 1 else None, max(config.sizes))
    plan = [(sid, n) for sid in order for n in config.sizes]
    builder = None
    interrupted = False
    try:
        if config.build_ahead and len(plan) > 1 and usable_cpus() >= 2:
            builder = Builder(plan, config.profile, shapes, config.payload)
        for sid in order:
            t_suite = time.perf_counter()
            cs = get_suite(sid, config.profile)
            info = _suite_info(cs)
            units: dict[str, M.UnitTime] = {}
            if config.count and time_ops:
                if progress:
                    progress(f"{info['suite_hex']} unit times", 0)
                units = M.measure_unit_times(cs, PRIMITIVES, cold=config.cold)
                units_doc[info["suite_hex"]] = {k: asdict(v) for k, v in units.items()}
            for n in config.sizes:
                if progress:
                    progress(f"{info['suite_hex']} N={n} build", 0)
                t_build = time.perf_counter()
                ahead = builder.take(cs, n) if builder is not None else None
                scenarios = ahead[0] if ahead is not None else _build_here(cs, n, shapes, config.payload)
                build_doc.setdefault(info["suite_hex"], {})[str(n)] = {
                    "where": "worker process" if ahead is not None else "main process",
                    "build_s": ahead[1] if ahead is not None else None,
                    "waited_s": time.perf_counter() - t_build if ahead is not None else None,
                }
                for shape, timed in scenarios:
                    if sid == base.suite and n == base.n and ahead is None and len(shapes) > 1 and shape == "sparse":
                        # built here, the sparse scenario is populated in place next: keep a copy
                        timed = GroupScenario.restore(cs, timed.portable())
                    rows += _measure(config, cs, info, units, timed, n, shape, time_ops, want_sizes, progress, base)
                    if progress:  # after the rows are kept: Ctrl-C from here on loses nothing of them
                        progress(f"{info['suite_hex']} N={n} {shape}", 1)
            suite_wall[info["suite_hex"]] = time.perf_counter() - t_suite
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if builder is not None:
            try:
                builder.close(fast=interrupted)
            except KeyboardInterrupt:  # a second Ctrl-C while closing: leave the rest to the OS
                interrupted = True
        base.keep.clear()
    machine = R.MachineMonitor.stop(monitor)
    doc: dict[str, Any] = {
        "schema": "mls-pq-bench/1",
        "complete": not interrupted,
        "machine": M.machine_facts(),
        "config": {**asdict(config), "suites": [f"0x{s:04x}" for s in config.suites]},
        "descriptions": {"time": TIME_OPS, "size": SIZE_METRICS},
        "unit_times": units_doc,
        "rows": rows,
        "suite_wall_s": suite_wall,
        "build": build_doc,
        "baseline": f"0x{base_id:04x}" if base_id is not None else None,
        "reliability": {
            **machine,
            "thresholds": {"spread_target": config.target, "spread_limit": R.SPREAD_LIMIT,
                           "cpu_share_min": R.CPU_SHARE_MIN, "floor_min": R.FLOOR_MIN},
            "unreliable_figures": sum(1 for r in rows if r.get("flags")),
        },
    }
    if interrupted:
        doc["note"] = "interrupted (Ctrl-C): partial results"
    doc["slopes"] = slopes(rows)
    doc["extrapolation"] = extrapolate(config, rows)
    doc["wall_time_s"] = time.perf_counter() - t_start
    return doc


def _build_here(cs: CipherSuite, n: int, shapes: Sequence[str], payload: int) -> Iterator[tuple[str, GroupScenario]]:
    """Build the (suite, N) group in this process; yields (shape, scenario) in SHAPES order
    (one scenario object: sparse first, then populated in place)."""
    both = "populated" in shapes
    timed = GroupScenario.build(cs, n, shape="populated" if both else "sparse", payload=payload, populate_later=True)
    for shape in SHAPES:
        if shape == "populated":
            if not both:
                break
            timed.populate()
        if shape in shapes:
            yield shape, timed


def _measure(config: BenchConfig, cs: CipherSuite, info: dict[str, Any], units: dict[str, M.UnitTime],
             timed: GroupScenario, n: int, shape: str, time_ops: Sequence[str], want_sizes: bool,
             progress: Progress | None, base: _Baseline | None = None) -> list[dict[str, Any]]:
    """Size and time rows of one (suite, N, shape) scenario."""
    rows: list[dict[str, Any]] = []
    counted_sc = None
    counter = tally = None
    if config.count and time_ops:
        # the same members and states over counting adapters (nothing rebuilt)
        ccs, counter, tally = M.instrumented_suite(cs)
        counted_sc = timed.recast(ccs)
        counted_sc.warm()  # uncounted: counting starts disabled
    timed.warm()
    if progress:
        progress(f"{info['suite_hex']} N={n} {shape}", 0)
    base_info = {**info, "n": n, "shape": shape}
    if want_sizes:
        rows += _size_rows(cs, timed, base_info, config.payload)
    if time_ops:
        ops = timed.ops()
        clearers = M.cache_clearers(cs) if config.cold else []
        before = _caller(clearers)

        cops = counted_sc.ops() if counted_sc is not None else {}
        is_base = base is not None and cs.id == base.suite and n == base.n
        if is_base and base is not None:
            base.keep.append(timed)
        for name in time_ops:
            op = ops[name]
            t_check = time.perf_counter()
            op.check(op.run())  # also the first warm-up run
            t_check = time.perf_counter() - t_check
            timing = M.time_adaptive(op.run, config.reps, target=config.target, budget=config.budget,
                                     warmup=max(config.warmup - 1, 0),
                                     warmup_time=max(config.warmup_time - t_check, 0.0),
                                     min_total=config.min_total, before=before if clearers else None)
            st = M.summarize(timing.samples)
            row: dict[str, Any] = {**base_info, "metric": name, "kind": "time", "unit": "s",
                                   "source": "measured", **st.as_dict(),
                                   "rel_iqr": M.rel_spread(timing.samples),
                                   "ci_rel": M.median_ci_rel(timing.samples), "cpu_share": timing.cpu_share,
                                   "figure_wall_s": timing.wall_s}
            if counted_sc is not None and counter is not None and tally is not None:
                # no warm-up run: ops() already ran every operation's preparation
                # on these states; first-run counts equal the steady state's
                # (tests/bench/test_measure.py)
                counts, nbytes = M.counted(cops[name].run, counter, tally)
                floor, parts, missing = M.crypto_floor(counts, nbytes, units)
                row.update(counts=counts, bytes=nbytes, floor=floor, floor_parts=parts,
                           overhead=(st.median / floor) if floor > 0 else None,
                           floor_missing=missing)
            if base is not None and n == base.n and name in RATIO_OPS:
                mine = before if clearers else None
                key = f"{shape}/{name}"
                if is_base:
                    base.ops[key] = (op.run, st.median, mine)
                elif key in base.ops:
                    b_run, b_median, b_before = base.ops[key]
                    slow = max(b_median, st.median) > 0.05
                    row.update(M.paired_ratio(b_run, op.run, t_a=b_median, t_b=st.median, rounds=3 if slow else 5,
                                              before_a=b_before, before_b=mine))
                    row["ratio_vs"] = f"0x{base.suite:04x}"
            row["flags"] = R.figure_flags(row)
            rows.append(row)
    return rows


def _caller(fns: Sequence[Callable[[], Any]]) -> Callable[[], None]:
    def call() -> None:
        for f in fns:
            f()

    return call


def _size_rows(cs: CipherSuite, sc: GroupScenario, base: dict[str, Any], payload: int) -> list[dict[str, Any]]:
    measured = sc.sizes()
    p = SuiteSizes.of(cs)
    mod = model_sizes(p, sc.n, sc.shape, payload=payload)
    rng = sig_range(p, sc.n, sc.shape, payload=payload)
    parts = model_breakdown(p, sc.n, sc.shape, payload=payload)
    out = []
    for k, v in measured.items():
        lo, hi = rng[k]
        assert lo is not None and hi is not None  # the message was just encoded
        out.append({
            **base, "metric": k, "kind": "size", "unit": "B", "source": "measured",
            "median": v, "q1": v, "q3": v, "iqr": 0, "reps": 1,
            "model": mod[k], "model_lo": lo, "model_hi": hi, "model_ok": lo <= v <= hi,
            "breakdown": parts[k],
        })
    return out


def slopes(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Log-log growth slope of each metric against N, per suite and shape."""
    groups: dict[tuple[int, str, str, str], list[tuple[int, float]]] = {}
    for r in rows:
        if r.get("source") != "measured":
            continue
        groups.setdefault((r["suite"], r["shape"], r["metric"], r["kind"]), []).append((r["n"], r["median"]))
    out = []
    for (suite, shape, metric, kind), pts in sorted(groups.items()):
        pts.sort()
        s = M.growth_slope([n for n, _ in pts], [v for _, v in pts])
        out.append({"suite": suite, "suite_hex": f"0x{suite:04x}", "shape": shape, "metric": metric, "kind": kind,
                    "slope": s, "ns": [n for n, _ in pts],
                    "ratio_last_first": (pts[-1][1] / pts[0][1]) if pts[0][1] else None})
    return out


def extrapolate(config: BenchConfig, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Sizes from the model at large N (source ``model``); times by the fitted power law
    from the largest measured N (source ``extrapolated``: a rough guide only)."""
    out: list[dict[str, Any]] = []
    if not config.extrapolate:
        return out
    shapes = _ordered_shapes(config.shapes)
    for sid in config.suites:
        cs = get_suite(sid, config.profile)
        p = SuiteSizes.of(cs)
        for shape in shapes:
            for n in config.extrapolate:
                if "sizes" in config.ops:
                    mod = model_sizes(p, n, shape, payload=config.payload)
                    rng = sig_range(p, n, shape, payload=config.payload)
                    for k, v in mod.items():
                        row = {**_suite_info(cs), "n": n, "shape": shape, "metric": k, "kind": "size",
                               "unit": "B", "source": "model", "median": v,
                               "model_lo": rng[k][0], "model_hi": rng[k][1]}
                        if v is None or rng[k][1] is None:
                            row["note"] = f"not encodable: a vector would exceed {MAX_VECTOR} octets (RFC 9420 §2.1.2)"
                        out.append(row)
                pts: dict[str, list[tuple[int, float]]] = {}
                for r in rows:
                    if r["suite"] == sid and r["shape"] == shape and r["kind"] == "time":
                        pts.setdefault(r["metric"], []).append((r["n"], r["median"]))
                for metric, ps in pts.items():
                    ps.sort()
                    s = M.growth_slope([a for a, _ in ps], [b for _, b in ps])
                    if s is None:
                        continue
                    n0, t0 = ps[-1]
                    out.append({**_suite_info(cs), "n": n, "shape": shape, "metric": metric, "kind": "time",
                                "unit": "s", "source": "extrapolated", "median": t0 * (n / n0) ** s, "slope": s,
                                "from_n": n0})
    return out


__all__ = ["PRIMITIVES", "RATIO_OPS", "BenchConfig", "baseline_of", "run"]
