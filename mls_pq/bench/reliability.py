"""Is a figure, and a whole run, to be trusted? Flags for noise, stolen CPU and figures
below their crypto floor.

Per figure (a time row of the results), :func:`figure_flags` gives:

* ``spread`` — the median is not known to within :data:`SPREAD_LIMIT` (relative half-width of
  its 95 % confidence interval, :func:`mls_pq.bench.measure.median_ci_rel`; the adaptive
  repetitions of :func:`mls_pq.bench.measure.time_adaptive` aim at :data:`SPREAD_TARGET`
  and stop at their time budget);
* ``cpu`` — this process got less than :data:`CPU_SHARE_MIN` of the wall time as CPU time
  while taking the figure: other processes ran on its CPU, so the wall times are inflated;
* ``floor`` — the engine time is below the crypto floor (an engine cannot be faster than
  the primitives it calls: the figure or the unit times were disturbed).

Per run, :class:`MachineMonitor` reads ``/proc/stat`` (all CPUs' busy and steal jiffies)
and ``/proc/loadavg`` at the start and end and this process's (and its reaped children's,
i.e. the group builder's) CPU time, and derives the CPU time the *other* processes of the
machine used meanwhile. Written by hand: the standard library reads the counters, the
arithmetic is a few lines; no library does this for a benchmark's own run.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

#: the adaptive repetitions' goal (relative 95 % CI half-width of the median)
SPREAD_TARGET = 0.05
#: a figure whose median's relative 95 % CI half-width is above this is flagged ``spread``
SPREAD_LIMIT = 0.10
#: a figure whose process CPU time / wall time is below this is flagged ``cpu``
CPU_SHARE_MIN = 0.85
#: a figure whose engine time / crypto floor is below this is flagged ``floor``
FLOOR_MIN = 1.0
#: the run is flagged ``busy`` when other processes used more than this many CPUs on average
OTHER_LOAD_MAX = 0.3
#: ... or when the hypervisor stole more than this share of the CPUs' time
STEAL_MAX = 0.02

#: flag -> one-line explanation (printed under the tables)
FLAG_TEXT = {
    "spread": f"median not known to ±{SPREAD_LIMIT:.0%} (95% CI from the IQR and the number of runs)",
    "cpu": f"this process got < {CPU_SHARE_MIN:.0%} of the wall time as CPU time (other processes ran on its CPU)",
    "floor": "engine time below the crypto floor (impossible on a quiet machine)",
}
#: the mark after an unreliable figure in the terminal tables
MARK = "!"


def figure_flags(row: dict[str, Any]) -> list[str]:
    """The reliability flags of one time row (keys ``median``, ``iqr``, ``cpu_share``,
    ``overhead``: any may be missing)."""
    flags = []
    med = row.get("median") or 0.0
    ci = row.get("ci_rel")
    if ci is None and med > 0:  # older documents: the same notch formula from IQR and runs
        ci = 1.57 * (row.get("iqr") or 0.0) / med / max(row.get("reps") or 1, 1) ** 0.5
    if ci is not None and ci > SPREAD_LIMIT:
        flags.append("spread")
    share = row.get("cpu_share")
    if share is not None and share < CPU_SHARE_MIN:
        flags.append("cpu")
    ov = row.get("overhead")
    if ov is not None and ov < FLOOR_MIN:
        flags.append("floor")
    return flags


def describe(row: dict[str, Any]) -> str:
    """``0x0001 N=1024 update_commit (cpu 48%, spread 22%)``."""
    why = []
    for f in row.get("flags", []):
        if f == "cpu":
            why.append(f"cpu {row.get('cpu_share', 0):.0%}")
        elif f == "spread":
            why.append(f"±{row.get('ci_rel', 0):.0%} after {row.get('reps')} runs")
        elif f == "floor":
            why.append(f"×floor {row.get('overhead', 0):.2f}")
        else:
            why.append(f)
    shape = f" {row['shape']}" if row.get("shape") else ""
    return f"{row.get('suite_hex', '?')} N={row.get('n')}{shape} {row.get('metric')} ({', '.join(why)})"


def summary_line(rows: Iterable[dict[str, Any]], run: dict[str, Any] | None = None) -> str | None:
    """The last line of a run, e.g. ``12 figures unreliable (cpu 9, spread 5; first: 0xf001
    N=1024 join); machine busy; rerun on a quiet machine``; None when nothing is flagged."""
    bad = [r for r in rows if r.get("flags")]
    run_flags = (run or {}).get("flags", [])
    if not bad and not run_flags:
        return None
    by_flag = {f: sum(1 for r in bad if f in r["flags"]) for f in FLAG_TEXT}
    head = f"{len(bad)} figure{'s' if len(bad) != 1 else ''} unreliable"
    if bad:
        first = bad[0]
        head += (f" ({', '.join(f'{k} {v}' for k, v in by_flag.items() if v)}; first: {first.get('suite_hex')} "
                 f"N={first.get('n')} {first.get('metric')})")
    if "busy" in run_flags:
        head += "; machine busy"
    if "steal" in run_flags:
        head += "; CPU stolen by the hypervisor"
    return head + "; rerun on a quiet machine"


def run_text(run: dict[str, Any]) -> str:
    return (f"other processes used {run.get('other_busy_cpus', 0):.2f} CPUs on average, "
            f"steal {run.get('steal_share', 0):.1%}, load average {run.get('loadavg_end', '?')}")


# ---- whole-run monitoring --------------------------------------------------------------------------------


def _proc_stat() -> tuple[int, int, int] | None:
    """(busy, steal, total) jiffies over all CPUs from the ``cpu`` line of /proc/stat."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            first = f.readline().split()
    except OSError:  # pragma: no cover - not on Linux
        return None
    if not first or first[0] != "cpu":
        return None
    v = [int(x) for x in first[1:]]
    v += [0] * (8 - len(v))
    user, nice, system, idle, iowait, irq, softirq, steal = v[:8]  # guest is already in user
    busy = user + nice + system + irq + softirq
    return busy, steal, busy + idle + iowait + steal


def _loadavg() -> float | None:
    try:
        with open("/proc/loadavg", encoding="ascii") as f:
            return float(f.read().split()[0])
    except (OSError, ValueError, IndexError):  # pragma: no cover - not on Linux
        return None


def _own_cpu() -> float:
    """CPU seconds of this process and its reaped children (the group builder)."""
    s = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


@dataclass
class MachineMonitor:
    """Start at the beginning of a run, :meth:`stop` at the end (after the builder process
    was joined, so that its CPU time is counted as ours)."""

    wall0: float = 0.0
    own0: float = 0.0
    stat0: tuple[int, int, int] | None = None
    load0: float | None = None

    @classmethod
    def start(cls) -> MachineMonitor:
        return cls(time.perf_counter(), _own_cpu(), _proc_stat(), _loadavg())

    def stop(self) -> dict[str, Any]:
        wall = time.perf_counter() - self.wall0
        own = _own_cpu() - self.own0
        stat1 = _proc_stat()
        hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        out: dict[str, Any] = {"wall_s": wall, "own_cpu_s": own, "loadavg_start": self.load0,
                               "loadavg_end": _loadavg(), "cpus": os.cpu_count()}
        if self.stat0 is not None and stat1 is not None and wall > 0:
            busy = (stat1[0] - self.stat0[0]) / hz
            steal = stat1[1] - self.stat0[1]
            total = stat1[2] - self.stat0[2]
            out["machine_busy_cpus"] = busy / wall
            out["other_busy_cpus"] = max(busy - own, 0.0) / wall
            out["steal_share"] = steal / total if total > 0 else 0.0
        flags = []
        if out.get("other_busy_cpus", 0.0) > OTHER_LOAD_MAX:
            flags.append("busy")
        if out.get("steal_share", 0.0) > STEAL_MAX:
            flags.append("steal")
        out["flags"] = flags
        return out


__all__ = [
    "CPU_SHARE_MIN",
    "FLAG_TEXT",
    "MARK",
    "SPREAD_LIMIT",
    "SPREAD_TARGET",
    "MachineMonitor",
    "describe",
    "figure_flags",
    "run_text",
    "summary_line",
]
