"""The whole simulation as one call: calibrate (calibrated mode), run the shards, self-check."""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path
from typing import Any

from .calibrate import _load, calibrate, fingerprint
from .dask_runner import run
from .model import Calibrated
from .selfcheck import self_check
from .workload import Workload


def calibrations(w: Workload, *, cache_dir: Path | None = None, refresh: bool = False,
                 progress: bool = False) -> dict[str, Calibrated]:
    """The calibrated curves of every policy of ``w`` (cached, see :mod:`.calibrate`)."""
    def say(msg: str) -> None:
        if progress:
            print(msg, file=sys.stderr, flush=True)

    out: dict[str, Calibrated] = {}
    for pol in w.policies:
        if pol.key not in out:
            out[pol.key] = calibrate(pol, w.calibration, cache_dir=cache_dir, refresh=refresh, progress=say)
    return out


def compare(model: dict[str, float], exact: dict[str, float]) -> dict[str, float]:
    """(model - exact) / exact per metric (0 when both are 0; NaN when undefined)."""
    out = {}
    for k, e in exact.items():
        m = model.get(k, math.nan)
        if e == m:
            out[k] = 0.0
        elif e and math.isfinite(e) and math.isfinite(m):
            out[k] = (m - e) / e
        else:
            out[k] = math.nan
    return out


def simulate(w: Workload, *, mode: str = "calibrated", seed: int | None = None, workers: int | None = None,
             scheduler: str | None = None, cache_dir: Path | None = None, refresh: bool = False,
             progress: bool = False, cals: dict[str, Calibrated] | None = None) -> dict[str, Any]:
    """Run ``w`` and return the report document (``results`` per policy name, ``self_check``)."""
    if mode not in ("calibrated", "exact"):
        raise ValueError(f"mode must be 'calibrated' or 'exact', not {mode!r}")
    s = w.seed if seed is None else seed
    t0 = time.perf_counter()
    load0 = _load()
    if cals is None:  # exact mode too: the model is compared with it (model_vs_exact)
        cals = calibrations(w, cache_dir=cache_dir, refresh=refresh, progress=progress)
    t_cal = time.perf_counter() - t0
    aggs = run(w, mode=mode, seed=s, cals=cals if mode == "calibrated" else None, workers=workers,
               scheduler=scheduler, progress=progress)
    t_run = time.perf_counter() - t0 - t_cal
    results = {pol.name: a.summary(w.days) for pol, a in zip(w.policies, aggs)}
    fleet_check = None
    if mode == "exact" and cals is not None:
        # the whole fleet once more through the model: every metric's model-vs-exact error
        model = run(w, mode="calibrated", seed=s, cals=cals)
        fleet_check = {pol.name: compare(m.summary(w.days), results[pol.name]) for pol, m in zip(w.policies, model)}
    checks = None
    if w.self_check.groups > 0 and cals is not None:
        if progress:
            print("self-check: sampled groups in exact mode", file=sys.stderr, flush=True)
        checks = [c.as_dict() for c in self_check(w, s, cals)]
    return {
        "workload": w.name,
        "mode": mode,
        "seed": s,
        "days": w.days,
        "groups": w.total_groups,
        "policies": [{"name": p.name, "suite": f"0x{p.suite:04x}", "commits": p.commits,
                      "ratchet_tree": p.ratchet_tree,
                      **({"combiner": f"0x{p.suite:04x}+0x{p.pq_suite:04x}", "full_every": p.full_every}
                         if p.pq_suite is not None else {})} for p in w.policies],
        "results": results,
        "self_check": checks,
        "model_vs_exact": fleet_check,
        "timing": {"calibration_s": t_cal, "run_s": t_run, "self_check_s": time.perf_counter() - t0 - t_cal - t_run},
        "runner": {"workers": workers, "scheduler": scheduler},
        "machine_fingerprint": fingerprint(),
        "load_average": {"calibration": {p.name: cals[p.key].points.get("load_average") for p in w.policies},
                         "run": [load0, _load()]},
        "wall_s": time.perf_counter() - t0,
    }


__all__ = ["calibrations", "compare", "simulate"]
