"""The whole simulation as one call: calibrate (calibrated mode), run the shards, self-check."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from .calibrate import calibrate, fingerprint
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


def simulate(w: Workload, *, mode: str = "calibrated", seed: int | None = None, workers: int | None = None,
             scheduler: str | None = None, cache_dir: Path | None = None, refresh: bool = False,
             progress: bool = False, cals: dict[str, Calibrated] | None = None) -> dict[str, Any]:
    """Run ``w`` and return the report document (``results`` per policy name, ``self_check``)."""
    if mode not in ("calibrated", "exact"):
        raise ValueError(f"mode must be 'calibrated' or 'exact', not {mode!r}")
    s = w.seed if seed is None else seed
    t0 = time.perf_counter()
    need_cal = mode == "calibrated" or w.self_check.groups > 0
    if need_cal and cals is None:
        cals = calibrations(w, cache_dir=cache_dir, refresh=refresh, progress=progress)
    t_cal = time.perf_counter() - t0
    aggs = run(w, mode=mode, seed=s, cals=cals if mode == "calibrated" else None, workers=workers,
               scheduler=scheduler, progress=progress)
    t_run = time.perf_counter() - t0 - t_cal
    results = {pol.name: a.summary(w.days) for pol, a in zip(w.policies, aggs)}
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
                      "ratchet_tree": p.ratchet_tree} for p in w.policies],
        "results": results,
        "self_check": checks,
        "timing": {"calibration_s": t_cal, "run_s": t_run, "self_check_s": time.perf_counter() - t0 - t_cal - t_run},
        "runner": {"workers": workers, "scheduler": scheduler},
        "machine_fingerprint": fingerprint(),
        "wall_s": time.perf_counter() - t0,
    }


__all__ = ["calibrations", "simulate"]
