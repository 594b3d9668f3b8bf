"""The benchmark run: suites × group sizes × tree shapes × operations, with statistics,
crypto floors, the size model beside every measured size, and growth slopes.

Every (suite, N) builds one group over the real engine and the plain suite, which is
timed; a copy of its members' states over :func:`~mls_pq.bench.measure.instrumented_suite`
(:meth:`~mls_pq.bench.scenarios.GroupScenario.recast`) runs once per operation to count
primitive calls and octets (the counting adapters would otherwise slow the timed runs down). Unit times of the primitives are measured once per
suite in the same process.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict
from typing import Any

import numpy as np

from ..suites import CipherSuite, get_suite
from . import measure as M
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


def _suite_info(cs: CipherSuite) -> dict[str, Any]:
    return {"suite": cs.id, "suite_hex": f"0x{cs.id:04x}", "suite_name": cs.name}


def _ordered_shapes(shapes: Sequence[str]) -> list[str]:
    return [s for s in SHAPES if s in shapes]


def run(config: BenchConfig, progress: Progress | None = None) -> dict[str, Any]:
    """Run the benchmark and return the results document (see :mod:`mls_pq.bench.report`)."""
    config.validate()
    t_start = time.perf_counter()
    shapes = _ordered_shapes(config.shapes)
    time_ops = [o for o in config.ops if o in TIME_OPS]
    want_sizes = "sizes" in config.ops
    rows: list[dict[str, Any]] = []
    units_doc: dict[str, dict[str, dict[str, float]]] = {}
    suite_wall: dict[str, float] = {}
    build_doc: dict[str, dict[str, Any]] = {}
    plan = [(sid, n) for sid in config.suites for n in config.sizes]
    builder = None
    if config.build_ahead and len(plan) > 1 and usable_cpus() >= 2:
        builder = Builder(plan, config.profile, shapes, config.payload)
    try:
        for sid in config.suites:
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
                    rows += _measure(config, cs, info, units, timed, n, shape, time_ops, want_sizes, progress)
            suite_wall[info["suite_hex"]] = time.perf_counter() - t_suite
    finally:
        if builder is not None:
            builder.close()
    doc: dict[str, Any] = {
        "schema": "mls-pq-bench/1",
        "machine": M.machine_facts(),
        "config": {**asdict(config), "suites": [f"0x{s:04x}" for s in config.suites]},
        "descriptions": {"time": TIME_OPS, "size": SIZE_METRICS},
        "unit_times": units_doc,
        "rows": rows,
        "suite_wall_s": suite_wall,
        "build": build_doc,
    }
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
             progress: Progress | None) -> list[dict[str, Any]]:
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
    base = {**info, "n": n, "shape": shape}
    if want_sizes:
        rows += _size_rows(cs, timed, base, config.payload)
    if time_ops:
        ops = timed.ops()
        clearers = M.cache_clearers(cs) if config.cold else []
        before = _caller(clearers)

        cops = counted_sc.ops() if counted_sc is not None else {}
        for name in time_ops:
            op = ops[name]
            t_check = time.perf_counter()
            op.check(op.run())  # also the first warm-up run
            t_check = time.perf_counter() - t_check
            samples = M.time_op(op.run, config.reps, warmup=max(config.warmup - 1, 0),
                                warmup_time=max(config.warmup_time - t_check, 0.0),
                                min_total=config.min_total, before=before if clearers else None)
            st = M.summarize(samples)
            if st.iqr > 0.5 * st.median:  # a noisy stretch (shared machine?): one more batch
                samples = np.concatenate([samples, M.time_op(
                    op.run, len(samples), warmup=0, warmup_time=0.0, min_total=0.0,
                    before=before if clearers else None)])
                st = M.summarize(samples)
            row: dict[str, Any] = {**base, "metric": name, "kind": "time", "unit": "s",
                                   "source": "measured", **st.as_dict()}
            if counted_sc is not None and counter is not None and tally is not None:
                # no warm-up run: ops() already ran every operation's preparation
                # on these states; first-run counts equal the steady state's
                # (tests/bench/test_measure.py)
                counts, nbytes = M.counted(cops[name].run, counter, tally)
                floor, parts, missing = M.crypto_floor(counts, nbytes, units)
                row.update(counts=counts, bytes=nbytes, floor=floor, floor_parts=parts,
                           overhead=(st.median / floor) if floor > 0 else None,
                           floor_missing=missing)
            rows.append(row)
    if progress:
        progress(f"{info['suite_hex']} N={n} {shape}", 1)
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


__all__ = ["PRIMITIVES", "BenchConfig", "run"]
