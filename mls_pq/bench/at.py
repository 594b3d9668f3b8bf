"""``mls-pq bench --at N [--baseline SUITE]``: one screen for a team that knows its group size.

For N members (populated tree), each suite's message sizes and operation times, each with its
ratio to suite 0x0001 and to the team's baseline suite. Time ratios come from the runs
interleaved with suite 0x0001 (A B A B, :func:`mls_pq.bench.measure.paired_ratio`); the
ratio to the baseline is the quotient of two such ratios, so machine drift cancels there too.
"""

from __future__ import annotations

import math
from typing import Any

from .reliability import MARK
from .report import WIDTH, fmt_bytes, fmt_time

#: (metric, kind, column title)
AT_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("update_commit_public", "size", "Commit+path"),
    ("welcome_tree", "size", "Welcome"),
    ("update_commit", "time", "commit"),
    ("process_far", "time", "process"),
    ("join", "time", "join"),
)


def _r(x: float | None) -> str:
    if x is None or math.isnan(x):
        return "-"
    if x >= 100:
        return f"×{x:.0f}"
    if x >= 10:
        return f"×{x:.0f}"
    return f"×{x:.1f}"


def _ratio_to_1(r: dict[str, Any], one: dict[str, Any] | None) -> float | None:
    if r.get("ratio") is not None and r.get("ratio_vs") == "0x0001":
        return float(r["ratio"])
    if one is None or not one.get("median"):
        return None
    return float(r["median"]) / float(one["median"])


def at_table(doc: dict[str, Any], n: int, baseline: int | None) -> tuple[str, list[str], list[list[str]]]:
    rows = [r for r in doc["rows"] if r["n"] == n and r["source"] == "measured"]
    if not rows:
        raise ValueError(f"no measured rows at N = {n}")
    shape = "populated" if any(r["shape"] == "populated" for r in rows) else rows[0]["shape"]
    idx = {(r["suite"], r["metric"]): r for r in rows if r["shape"] == shape}
    suites = list(dict.fromkeys(r["suite"] for r in rows))
    cols = [c for c in AT_COLUMNS if any(m == c[0] for _, m in idx)]
    header = ["suite", *[t for _, _, t in cols]]
    body = []
    for s in suites:
        line = [f"0x{s:04x}" + ("*" if s == baseline else "")]
        for metric, kind, _ in cols:
            r = idx.get((s, metric))
            if r is None:
                line.append("-")
                continue
            one = idx.get((1, metric))
            mine = _ratio_to_1(r, one) if s != 1 else 1.0
            b = idx.get((baseline, metric)) if baseline is not None else None
            theirs = (_ratio_to_1(b, one) if baseline != 1 else 1.0) if b is not None else None
            cell = fmt_bytes(r["median"]) if kind == "size" else fmt_time(r["median"])
            cell += f" {_r(mine)}"
            if baseline is not None and baseline != 1:
                cell += f" {_r(mine / theirs) if mine is not None and theirs else '-'}"
            if r.get("flags"):
                cell += MARK
            line.append(cell)
        body.append(line)
    who = "0x0001" + (f" and to 0x{baseline:04x} (*)" if baseline not in (None, 1) else "")
    return (f"N = {n:,}, {shape} tree: each suite relative to {who}", header, body)


def render_at(doc: dict[str, Any], n: int, baseline: int | None) -> str:
    from .reliability import FLAG_TEXT

    title, header, body = at_table(doc, n, baseline)
    widths = [max(len(x) for x in col) for col in zip(header, *body)]
    lines = [title, ""]
    for row in [header, *body]:
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
    second = f", ×ratio to 0x{baseline:04x}" if baseline is not None and baseline != 1 else ""
    lines += [
        "",
        f"each cell: value, ×ratio to 0x0001{second}. Sizes: MLSMessage "
        "octets (Commit with UpdatePath as PublicMessage; Welcome with the ratchet_tree extension). Times: medians; "
        "commit = create it, process = at a member in the other half, join = from the Welcome incl. tree "
        "validation; time ratios from runs interleaved in time with 0x0001.",
        f"{MARK} = unreliable: " + "; ".join(FLAG_TEXT.values()) + ".",
    ]
    import textwrap

    out: list[str] = []
    for ln in lines:
        out += textwrap.wrap(ln, WIDTH, subsequent_indent="  ") if len(ln) > WIDTH else [ln]
    return "\n".join(out)


__all__ = ["AT_COLUMNS", "at_table", "render_at"]
