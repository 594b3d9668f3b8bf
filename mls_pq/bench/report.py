"""Benchmark output: results.json, results.csv and the terminal tables.

results.json (schema ``mls-pq-bench/1``): ``machine`` (platform, CPU, Python, library
versions), ``config``, ``unit_times`` (per suite: seconds per call and per octet of each
primitive), ``rows`` (one per suite × N × shape × metric: median, q1, q3, iqr, reps; for
times also the primitive ``counts``, octets, ``floor``, ``floor_parts`` and ``overhead`` =
median / floor; for sizes the ``model`` value, its signature-length range and the
``breakdown`` by category), ``slopes`` (log-log growth against N) and ``extrapolation``
(sizes at large N from the model, marked ``source: model``; times by power law, marked
``source: extrapolated``).

results.csv: the measured rows and the extrapolated/model rows, one line each.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .measure import fmt_seconds

CSV_FIELDS = (
    "suite", "suite_name", "n", "shape", "metric", "kind", "unit", "source", "median", "q1", "q3", "iqr", "reps",
    "floor", "overhead", "model", "model_lo", "model_hi", "slope",
)

#: (metric, kind, column title) of the terminal summary
TABLE_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("key_package", "size", "KeyPackage"),
    ("update_commit_public", "size", "Commit+path"),
    ("welcome_tree", "size", "Welcome"),
    ("kp_gen", "time", "KP gen"),
    ("update_commit", "time", "commit"),
    ("process_far", "time", "process"),
    ("join", "time", "join"),
)


def write_json(doc: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(doc, indent=1, default=_jsonable) + "\n")


def _jsonable(o: Any) -> Any:
    if hasattr(o, "item"):
        return o.item()
    raise TypeError(f"{type(o).__name__} is not JSON serialisable")


def write_csv(doc: dict[str, Any], path: Path) -> None:
    slope = {(s["suite"], s["shape"], s["metric"]): s["slope"] for s in doc.get("slopes", [])}
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=CSV_FIELDS, extrasaction="ignore")
        w.writeheader()
        for r in [*doc["rows"], *doc.get("extrapolation", [])]:
            row = {k: r.get(k) for k in CSV_FIELDS}
            row["suite"] = r.get("suite_hex", r.get("suite"))
            if r.get("source") == "measured":
                row["slope"] = slope.get((r["suite"], r["shape"], r["metric"]))
            w.writerow(row)


# ---- formatting ---------------------------------------------------------------------------------------


def fmt_bytes(b: float | None) -> str:
    if b is None:
        return "-"
    if b >= 1 << 20:
        return f"{b / (1 << 20):.1f} MiB"
    if b >= 10 * 1024:
        return f"{b / 1024:.0f} KiB"
    if b >= 1024:
        return f"{b / 1024:.1f} KiB"
    return f"{int(b)} B"


def fmt_value(v: float | None, kind: str) -> str:
    return fmt_bytes(v) if kind == "size" else fmt_seconds(v)


def _index(rows: Sequence[dict[str, Any]]) -> dict[tuple[int, int, str, str], dict[str, Any]]:
    return {(r["suite"], r["n"], r["shape"], r["metric"]): r for r in rows}


def baseline_suite(doc: dict[str, Any]) -> int | None:
    suites = list(dict.fromkeys(r["suite"] for r in doc["rows"]))
    if not suites:
        return None
    return 1 if 1 in suites else suites[0]


def summary_tables(doc: dict[str, Any]) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, rows) tables: per shape at the largest N, suites as rows, each
    cell "value ×ratio" against the baseline suite (0x0001 if measured); then the
    model's sizes at the extrapolation size."""
    rows = doc["rows"]
    if not rows:
        return []
    idx = _index(rows)
    base = baseline_suite(doc)
    suites = list(dict.fromkeys(r["suite"] for r in rows))
    names = {r["suite"]: r["suite_name"] for r in rows}
    slopes = {(s["suite"], s["shape"], s["metric"]): s["slope"] for s in doc.get("slopes", [])}
    present = {r["metric"] for r in rows}
    cols = [c for c in TABLE_COLUMNS if c[0] in present]
    out = []
    for shape in dict.fromkeys(r["shape"] for r in rows):
        n = max(r["n"] for r in rows if r["shape"] == shape)
        header = ["suite", "name", *[c[2] for c in cols]]
        extra_time = "update_commit" in present
        if extra_time:
            header += ["commit/floor", "floor mostly", "commit ∝ N^"]
        body = []
        for s in suites:
            line = [f"0x{s:04x}", _short(names[s])]
            for metric, kind, _ in cols:
                r = idx.get((s, n, shape, metric))
                b = idx.get((base, n, shape, metric)) if base is not None else None
                if r is None:
                    line.append("-")
                    continue
                cell = fmt_value(r["median"], kind)
                if b is not None and b["median"] and s != base:
                    cell += f" ×{r['median'] / b['median']:.1f}"
                line.append(cell)
            if extra_time:
                r = idx.get((s, n, shape, "update_commit"))
                ov = r.get("overhead") if r else None
                line.append(f"{ov:.1f}" if ov else "-")
                line.append(_top_parts(r) if r else "-")
                sl = slopes.get((s, shape, "update_commit"))
                line.append(f"{sl:.2f}" if sl is not None else "-")
            body.append(line)
        base_txt = f"ratios vs 0x{base:04x}" if base is not None else ""
        out.append((f"N = {n}, {shape} tree ({base_txt}; medians)", header, body))
    ext = [r for r in doc.get("extrapolation", []) if r["source"] == "model"]
    if ext:
        n = max(r["n"] for r in ext)
        metrics = [("update_commit_public", "Commit+path"), ("welcome_tree", "Welcome"), ("group_info", "GroupInfo"),
                   ("external_commit", "ext. Commit")]
        for shape in dict.fromkeys(r["shape"] for r in ext):
            eidx = {(r["suite"], r["metric"]): r for r in ext if r["n"] == n and r["shape"] == shape}
            header = ["suite", "name", *[t for _, t in metrics]]
            body = []
            for s in suites:
                line = [f"0x{s:04x}", _short(names[s])]
                for m, _ in metrics:
                    r = eidx.get((s, m))
                    if r is None:
                        line.append("-")
                        continue
                    if r["median"] is None:  # over the MLS vector limit
                        line.append("> 1 GiB: not encodable")
                        continue
                    cell = fmt_bytes(r["median"])
                    if r.get("model_lo") is not None and r["model_lo"] != r["model_hi"]:
                        cell += f" (≥{fmt_bytes(r['model_lo'])})"
                    line.append(cell)
                body.append(line)
            out.append((f"MODEL (not measured): sizes at N = {n:,}, {shape} tree", header, body))
    return out


def _short(name: str) -> str:
    """``MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519`` -> ``X25519 AES128 SHA256 Ed25519``."""
    parts = name.split("_")
    if len(parts) == 6 and parts[0] == "MLS":
        kem, aead, h, sig = parts[2:]
        kem = kem.removeprefix("DHKEM")
        aead = aead.replace("CHACHA20POLY1305", "ChaCha20").replace("GCM", "")
        return f"{kem} {aead} {h} {sig}"
    return name.removeprefix("MLS_")


def _top_parts(r: dict[str, Any], k: int = 2) -> str:
    parts = r.get("floor_parts") or {}
    fl = r.get("floor") or 0
    if not parts or not fl:
        return "-"
    top = sorted(parts.items(), key=lambda kv: -kv[1])[:k]
    counts = r.get("counts", {})
    return ", ".join(f"{name.removeprefix('kem.')}×{counts.get(name, 0)} {100 * v / fl:.0f}%" for name, v in top)


def render_plain(doc: dict[str, Any]) -> str:
    lines = [machine_line(doc)]
    for title, header, body in summary_tables(doc):
        widths = [max(len(str(x)) for x in col) for col in zip(header, *body)]
        lines.append("")
        lines.append(title)
        lines.append("  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip())
        for row in body:
            lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    lines.append("")
    lines.extend(footnotes(doc))
    return "\n".join(lines)


def render_rich(doc: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(machine_line(doc), style="dim")
    for title, header, body in summary_tables(doc):
        t = Table(title=title, title_justify="left", header_style="bold")
        for i, h in enumerate(header):
            t.add_column(h, justify="left" if i < 2 or h == "floor mostly" else "right", overflow="fold")
        for row in body:
            t.add_row(*row)
        console.print(t)
    for line in footnotes(doc):
        console.print(line, style="dim", highlight=False)


def machine_line(doc: dict[str, Any]) -> str:
    m = doc["machine"]
    libs = ", ".join(f"{k} {v}" for k, v in m["libraries"].items() if v)
    return f"{m['cpu']} ({m['cpus_usable'] or m['cpu_count']} cpus), {m['python']}, {m['platform']}; {libs}"


def footnotes(doc: dict[str, Any]) -> list[str]:
    bad = [r for r in doc["rows"] if r["kind"] == "size" and not r.get("model_ok", True)]
    out = [
        ("commit = create an empty Commit with UpdatePath at leaf 0; process = at a member in the other half; "
         "join = from a Welcome with the ratchet_tree extension incl. full tree validation."),
        "commit/floor = engine time / Σ(primitive calls × unit time); 'floor mostly' = largest primitive shares.",
        f"wall time {doc.get('wall_time_s', 0):.1f} s; reps ≥ {doc['config']['reps']} per timing (median).",
    ]
    if bad:
        out.append(f"WARNING: {len(bad)} measured sizes outside the model range, e.g. "
                   f"{bad[0]['suite_hex']} N={bad[0]['n']} {bad[0]['shape']} {bad[0]['metric']}")
    return out


__all__ = ["render_plain", "render_rich", "summary_tables", "write_csv", "write_json"]
