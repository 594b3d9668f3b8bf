"""Reports of a simulation: terminal table, JSON, CSV and (with matplotlib) a PNG plot.

Every metric is per policy and also relative to the first policy. "Per device" means per
group membership (one device in one group), per simulated day; see
:mod:`mls_pq.simulate.events` for the modelling conventions.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

#: (key, label, unit)
METRICS: tuple[tuple[str, str, str], ...] = (
    ("sent_mean", "sent / device / day, mean", "B"),
    ("sent_p50", "sent / device / day, p50", "B"),
    ("sent_p99", "sent / device / day, p99", "B"),
    ("recv_mean", "received / device / day, mean", "B"),
    ("recv_p50", "received / device / day, p50", "B"),
    ("recv_p99", "received / device / day, p99", "B"),
    ("ds_per_day", "DS fan-out / day (fleet)", "B"),
    ("cpu_mean", "client CPU / device / day, mean", "s"),
    ("cpu_p99", "client CPU / device / day, p99", "s"),
    ("join_time_p99", "join time, p99", "s"),
    ("join_time_max", "join time, worst", "s"),
    ("welcome_p99", "Welcome (+tree), p99", "B"),
    ("welcome_max", "Welcome (+tree), worst", "B"),
    ("state_mean", "state / device / group, mean", "B"),
    ("state_p99", "state / device / group, p99", "B"),
)


def fmt(v: float, unit: str) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if unit == "B":
        for u, d in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
            if abs(v) >= d:
                return f"{v / d:.3g} {u}"
        return f"{v:.3g} B"
    if unit == "s":
        if abs(v) >= 1 or v == 0:
            return f"{v:.3g} s"
        if abs(v) >= 1e-3:
            return f"{v * 1e3:.3g} ms"
        return f"{v * 1e6:.3g} µs"
    return f"{v:.3g}"


def relative(results: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    names = list(results)
    base = results[names[0]]
    out: dict[str, dict[str, float]] = {}
    for n in names:
        out[n] = {}
        for k, v in results[n].items():
            b = base.get(k, math.nan)
            out[n][k] = v / b if b and math.isfinite(b) and b != 0 and math.isfinite(v) else math.nan
    return out


def table(doc: dict[str, Any]) -> str:
    """The terminal table: metrics as rows, policies as columns (value and × first policy)."""
    res: dict[str, dict[str, float]] = doc["results"]
    rel = relative(res)
    names = list(res)
    head = ["metric", *names]
    rows = [head]
    for k, label, unit in METRICS:
        row = [label]
        for i, n in enumerate(names):
            cell = fmt(res[n][k], unit)
            if i and math.isfinite(rel[n][k]):
                cell += f" (×{rel[n][k]:.2f})"
            row.append(cell)
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = [(f"{doc['workload']}: {doc['groups']} groups, {doc['days']:g} days, mode {doc['mode']}, "
             f"seed {doc['seed']}, wall {doc['wall_s']:.1f} s")]
    for j, r in enumerate(rows):
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
        if j == 0:
            lines.append("  ".join("-" * w for w in widths))
    la = doc.get("load_average")
    if la:
        def f(x: Any) -> str:
            return "?" if x is None else f"{x:.1f}"

        cal = "; ".join(f"{n} {f(v[0])}->{f(v[1])}" for n, v in la["calibration"].items() if v)
        lines.append("")
        lines.append(f"machine load (1-min average; a loaded machine times slower): run {f(la['run'][0])}->"
                     f"{f(la['run'][1])}" + (f"; calibration {cal}" if cal else ""))
    mve = doc.get("model_vs_exact")
    if mve:
        lines.append("")
        lines.append("whole fleet, calibrated model vs this exact run ((model - exact) / exact):")
        for n, errs in mve.items():
            b = [k for k in ("sent_mean", "recv_mean", "ds_per_day", "welcome_max", "sent_p99", "recv_p99")
                 if k in errs and math.isfinite(errs[k])]
            exact_b = all(errs[k] == 0 for k in b)
            btxt = "identical" if exact_b else "differ: " + ", ".join(
                f"{k} {100 * errs[k]:+.2f}%" for k in b if errs[k])
            lines.append(f"  {n}: bytes {btxt}; CPU mean {100 * errs['cpu_mean']:+.1f}%, "
                         f"p99 {100 * errs['cpu_p99']:+.1f}%; join time p99 {100 * errs['join_time_p99']:+.1f}%; "
                         f"state {100 * errs['state_mean']:+.1f}%")
    sc = doc.get("self_check")
    if sc:
        lines.append("")
        lines.extend(self_check_lines(sc))
    return "\n".join(lines)


#: units of the self-check's metrics
CHECK_UNITS = {"sent": "B", "recv": "B", "ds": "B", "welcome": "B", "group_info": "B", "cpu": "s", "join_time": "s",
               "state": "B"}


def self_check_lines(checks: list[dict[str, Any]]) -> list[str]:
    """The self-check, one line per policy and metric: model and exact totals over the sampled
    groups, the error, the tolerance and a flag (see :mod:`mls_pq.simulate.selfcheck`)."""
    lines = ["self-check (sampled groups, exact engine vs model; totals over the sample, error = (model - exact) / exact):"]
    for c in checks:
        if c["groups"] == 0:
            lines.append(f"  {c['policy']}: no group small enough (self_check.max_members) in the first shard: "
                         "nothing checked")
            continue
        verdict = "OK" if c["ok"] else "NOT WITHIN TOLERANCE"
        sp, se = c["speed"], c["speed_se"]
        setxt = f" ± {100 * se:.0f}%" if se is not None and math.isfinite(se) else ""
        scaled = se is not None and math.isfinite(se)
        stxt = (f"machine speed now vs calibration ×{sp:.2f}{setxt} (probe"
                + ("; significant change" if c["speed_significant"] else "")
                + ("; timed metrics compared with the model at this speed" if scaled
                   else "; no probe: the model is compared as it is") + ")"
                + ("" if c["speed_ok"] else f"; OUTSIDE ±{100 * c['tolerance']:.0f}%: the calibration is stale, this "
                                            "run's absolute CPU figures are the calibration's (--recalibrate)"))
        rep = f", median of {c['repeats']} replays" if c.get("repeats", 1) > 1 else ""
        lines.append(f"  {c['policy']}: {c['groups']} groups / {c['members']} devices{rep}; {stxt} -> {verdict}")
        for m in c["metrics"]:
            unit = CHECK_UNITS.get(m["metric"], "")
            err = m["rel_err"]
            etxt = f"{100 * err:+.2f}%" if math.isfinite(err) else "n/a"
            if m["raw_rel_err"] is not None and m["note"] and math.isfinite(m["raw_rel_err"]):
                etxt += f" (model as it is: {100 * m['raw_rel_err']:+.1f}%)"
            need = "must be equal" if m["tolerance"] == 0 else f"tolerance ±{100 * m['tolerance']:.0f}%"
            flag = "ok" if m["ok"] else "OUTSIDE TOLERANCE"
            if m["note"]:
                flag += f" ({m['note']})"
            lines.append(f"    {m['metric']:<10} model {fmt(m['model'], unit):>10}  exact {fmt(m['exact'], unit):>10}  "
                         f"{etxt}  [{need}] {flag}")
    return lines


def write_json(doc: dict[str, Any], path: Path) -> None:
    def clean(x: Any) -> Any:
        if isinstance(x, float) and not math.isfinite(x):
            return None
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, list | tuple):
            return [clean(v) for v in x]
        return x

    d = dict(doc)
    d["relative"] = relative(doc["results"])
    path.write_text(json.dumps(clean(d), indent=2) + "\n")


def write_csv(doc: dict[str, Any], path: Path) -> None:
    rel = relative(doc["results"])
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["policy", "metric", "unit", "value", "relative_to_first"])
        for n, r in doc["results"].items():
            for k, _, unit in METRICS:
                w.writerow([n, k, unit, r[k], rel[n][k]])


def write_plot(doc: dict[str, Any], path: Path) -> str | None:
    """A PNG of every metric relative to the first policy; None and a note without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed: no plot (pip install matplotlib)"
    rel = relative(doc["results"])
    names = list(rel)
    keys = [k for k, _, _ in METRICS]
    fig, ax = plt.subplots(figsize=(10, 0.35 * len(keys) * len(names) + 1.5))
    h = 0.8 / len(names)
    for i, n in enumerate(names):
        vals = [rel[n][k] if math.isfinite(rel[n][k]) else 0.0 for k in keys]
        ax.barh([y + i * h for y in range(len(keys))], vals, height=h, label=n)
    ax.set_yticks([y + 0.4 - h / 2 for y in range(len(keys))])
    ax.set_yticklabels([lbl for _, lbl, _ in METRICS])
    ax.invert_yaxis()  # first metric on top, as in the table
    ax.set_xscale("log")
    ax.set_xlabel(f"relative to {names[0]}")
    ax.set_title(f"{doc['workload']} ({doc['mode']})")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return None


def write_all(doc: dict[str, Any], out: Path) -> list[str]:
    """JSON, CSV and PNG into ``out``; returns notes (e.g. no matplotlib)."""
    out.mkdir(parents=True, exist_ok=True)
    write_json(doc, out / "simulation.json")
    write_csv(doc, out / "simulation.csv")
    note = write_plot(doc, out / "simulation.png")
    return [note] if note else []


__all__ = ["CHECK_UNITS", "METRICS", "fmt", "relative", "self_check_lines", "table", "write_all", "write_csv", "write_json", "write_plot"]
