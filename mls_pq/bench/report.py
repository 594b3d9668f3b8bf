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
import math
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .measure import fmt_seconds
from .reliability import FLAG_TEXT, MARK, run_text, summary_line

CSV_FIELDS = (
    "suite", "suite_name", "n", "shape", "metric", "kind", "unit", "source", "median", "q1", "q3", "iqr", "reps",
    "rel_iqr", "ci_rel", "cpu_share", "flags", "ratio_vs", "ratio", "ratio_q1", "ratio_q3", "ratio_rounds",
    "floor", "overhead", "model", "model_lo", "model_hi", "slope",
)

#: (metric, column title) of the terminal summary: sizes table, then times table
SIZE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("key_package", "KeyPackage"),
    ("update_commit_public", "Commit+path"),
    ("welcome_tree", "Welcome"),
)
TIME_COLUMNS: tuple[tuple[str, str], ...] = (
    ("kp_gen", "KP gen"),
    ("update_commit", "commit"),
    ("process_far", "process"),
    ("join", "join"),
)
#: more columns with ``--wide``
WIDE_SIZE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("add_commit_public", "add Commit"),
    ("group_info", "GroupInfo"),
    ("app_message", "app msg"),
)
WIDE_TIME_COLUMNS: tuple[tuple[str, str], ...] = (
    ("add_commit", "add"),
    ("process_near", "process near"),
    ("external_join", "ext. join"),
    ("app_encrypt", "encrypt"),
    ("app_decrypt", "decrypt"),
)
#: the terminal width the default tables fit
WIDTH = 100
#: kept for callers of the previous layout: (metric, kind, title)
TABLE_COLUMNS: tuple[tuple[str, str, str], ...] = (
    *((m, "size", t) for m, t in SIZE_COLUMNS), *((m, "time", t) for m, t in TIME_COLUMNS))


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
            row["flags"] = " ".join(r.get("flags") or [])
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


def fmt_time(s: float | None) -> str:
    """At most 6 characters: ``126µs``, ``1.91ms``, ``85.4ms``, ``780ms``, ``1.23s``."""
    if s is None or math.isnan(s):
        return "-"
    if s >= 1:
        return f"{s:.2f}s"
    if s >= 0.1:
        return f"{s * 1e3:.0f}ms"
    if s >= 0.01:
        return f"{s * 1e3:.1f}ms"
    if s >= 1e-3:
        return f"{s * 1e3:.2f}ms"
    return f"{s * 1e6:.0f}µs"


def time_cell(r: dict[str, Any], b: dict[str, Any] | None) -> str:
    """``1.91ms±4% ×1.7!``: median, half the IQR relative to it, the ratio to the baseline
    row ``b`` (interleaved when measured so), the unreliable mark."""
    cell = fmt_time(r["median"])
    if r["median"]:
        cell += f"±{50 * (r.get('iqr') or 0) / r['median']:.0f}%"
    ratio = r.get("ratio")
    if ratio is None and b is not None and b is not r and b.get("median"):
        ratio = r["median"] / b["median"]
    if ratio is not None and b is not r and not math.isnan(ratio):
        cell += f" ×{ratio:.1f}"
    if r.get("flags"):
        cell += MARK
    return cell


def summary_tables(doc: dict[str, Any], wide: bool = False) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, rows) tables: per shape at the largest N, suites as rows, a sizes
    table and a times table (each cell with its ratio to the baseline suite, 0x0001 if
    measured); then the model's sizes at the extrapolation size. The default tables fit
    :data:`WIDTH` columns; ``wide`` adds columns."""
    rows = doc["rows"]
    if not rows:
        return []
    idx = _index(rows)
    base = baseline_suite(doc)
    suites = list(dict.fromkeys(r["suite"] for r in rows))
    names = {r["suite"]: r["suite_name"] for r in rows}
    slopes = {(s["suite"], s["shape"], s["metric"]): s["slope"] for s in doc.get("slopes", [])}
    present = {r["metric"] for r in rows}
    scols = [c for c in (*SIZE_COLUMNS, *(WIDE_SIZE_COLUMNS if wide else ())) if c[0] in present]
    tcols = [c for c in (*TIME_COLUMNS, *(WIDE_TIME_COLUMNS if wide else ())) if c[0] in present]
    base_txt = f"×: ratio to 0x{base:04x}" if base is not None else ""
    out = []
    for shape in dict.fromkeys(r["shape"] for r in rows):
        n = max(r["n"] for r in rows if r["shape"] == shape)
        if scols:
            header = ["suite", "name", *[t for _, t in scols]]
            body = []
            for s in suites:
                line = [f"0x{s:04x}", _short(names[s])]
                for metric, _ in scols:
                    r = idx.get((s, n, shape, metric))
                    b = idx.get((base, n, shape, metric)) if base is not None else None
                    if r is None:
                        line.append("-")
                        continue
                    cell = fmt_bytes(r["median"])
                    if b is not None and b["median"] and s != base:
                        cell += f" ×{r['median'] / b['median']:.1f}"
                    line.append(cell)
                body.append(line)
            out.append((f"SIZES at N = {n}, {shape} tree ({base_txt})", header, body))
        if tcols:
            extra = "update_commit" in present
            header = ["suite", *(["name"] if wide else []), *[t for _, t in tcols]]
            if extra:
                header += ["×floor", "∝N^", *(["floor mostly"] if wide else [])]
            body = []
            for s in suites:
                line = [f"0x{s:04x}", *([_short(names[s])] if wide else [])]
                for metric, _ in tcols:
                    r = idx.get((s, n, shape, metric))
                    b = idx.get((base, n, shape, metric)) if base is not None else None
                    line.append(time_cell(r, b) if r is not None else "-")
                if extra:
                    r = idx.get((s, n, shape, "update_commit"))
                    ov = r.get("overhead") if r else None
                    line.append(f"{ov:.1f}" if ov else "-")
                    sl = slopes.get((s, shape, "update_commit"))
                    line.append(f"{sl:.2f}" if sl is not None else "-")
                    if wide:
                        line.append(_top_parts(r) if r else "-")
                body.append(line)
            out.append((f"TIMES at N = {n}, {shape} tree (medians±IQR/2; {base_txt}, interleaved)", header, body))
    ext = [r for r in doc.get("extrapolation", []) if r["source"] == "model"]
    if ext:
        n = max(r["n"] for r in ext)
        metrics = [("update_commit_public", "Commit+path"), ("welcome_tree", "Welcome"), ("group_info", "GroupInfo"),
                   ("external_commit", "ext. Commit")]
        for shape in dict.fromkeys(r["shape"] for r in ext):
            eidx = {(r["suite"], r["metric"]): r for r in ext if r["n"] == n and r["shape"] == shape}
            header = ["suite", *[t for _, t in metrics]]
            body = []
            for s in suites:
                line = [f"0x{s:04x}"]
                for m, _ in metrics:
                    r = eidx.get((s, m))
                    if r is None:
                        line.append("-")
                        continue
                    if r["median"] is None:  # over the MLS vector limit
                        line.append("not encodable")
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


def _wrap(text: str, width: int = WIDTH) -> list[str]:
    return textwrap.wrap(text, width=width, subsequent_indent="  ", break_on_hyphens=False) or [""]


def render_plain(doc: dict[str, Any], wide: bool = False) -> str:
    lines = _wrap(machine_line(doc))
    for title, header, body in summary_tables(doc, wide):
        widths = [max(len(str(x)) for x in col) for col in zip(header, *body)]
        right = [i > 0 and h not in ("name", "floor mostly") for i, h in enumerate(header)]
        lines.append("")
        lines.append(title)
        for row in [header, *body]:
            lines.append("  ".join(c.rjust(w) if r else c.ljust(w) for c, w, r in zip(row, widths, right)).rstrip())
    lines.append("")
    for note in footnotes(doc):
        lines += _wrap(note)
    return "\n".join(lines)


def render_rich(doc: dict[str, Any], wide: bool = False) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=None if wide else WIDTH)
    console.print(machine_line(doc), style="dim")
    for title, header, body in summary_tables(doc, wide):
        t = Table(title=title, title_justify="left", header_style="bold", box=None)
        for h in header:
            t.add_column(h, justify="left" if h in ("suite", "name", "floor mostly") else "right", no_wrap=True)
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
    """What every column and mark means, the run's facts, and the reliability verdict (last)."""
    bad = [r for r in doc["rows"] if r["kind"] == "size" and not r.get("model_ok", True)]
    rel = doc.get("reliability", {})
    th = rel.get("thresholds", {})
    out = [
        ("KeyPackage = KeyPackage MLSMessage; Commit+path = empty Commit with UpdatePath as PublicMessage; "
         "Welcome = for 1 new member with the ratchet_tree extension. (≥x) = smallest possible size "
         "(variable-length signatures); model rows are computed, not measured."),
        ("KP gen = KeyPackage generation; commit = create an empty Commit with UpdatePath at leaf 0; "
         "process = process it at a member in the other half; join = from a Welcome with the ratchet_tree "
         "extension incl. full tree validation."),
        ("±x% = half the interquartile range relative to the median; ×r = ratio to the baseline suite "
         "(times: median ratio of batches interleaved in time, A B A B, so machine drift cancels); "
         "×floor = engine time of commit / Σ(primitive calls × unit time); ∝N^ = log-log growth slope of "
         "commit time against N (1 = linear, ~0.25 = log N over 2..1024)."),
        (f"{MARK} = unreliable figure: " + "; ".join(f"{k}: {v}" for k, v in FLAG_TEXT.items())),
        (f"wall time {doc.get('wall_time_s', 0):.1f} s; ≥ {doc['config']['reps']} runs per timing, more until the "
         f"median is known to ±{100 * th.get('spread_target', doc['config'].get('target', 0.05)):.0f}% or "
         f"{doc['config'].get('budget', 0)} s per figure are spent (runs per figure: 'reps' in the JSON/CSV)."),
    ]
    if rel:
        out.append("machine during the run: " + run_text(rel))
    if bad:
        out.append(f"WARNING: {len(bad)} measured sizes outside the model range, e.g. "
                   f"{bad[0]['suite_hex']} N={bad[0]['n']} {bad[0]['shape']} {bad[0]['metric']}")
    if doc.get("complete") is False:
        out.append("INCOMPLETE: the run was interrupted; these are partial results.")
    if summary_line(doc["rows"], rel) is None:
        out.append("all figures reliable (no flags).")
    return out


__all__ = ["render_plain", "render_rich", "summary_tables", "time_cell", "write_csv", "write_json"]
