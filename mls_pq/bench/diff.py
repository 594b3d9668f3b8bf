"""``mls-pq bench diff A.json B.json``: what changed, figure by figure, and whether it is real.

For every (suite, N, shape, metric) measured in both documents: the value in A and in B, the
change B / A − 1, and for times a verdict from the two figures' spreads: the change is
*significant* when the approximate 95 % confidence intervals of the two medians
(:func:`mls_pq.bench.measure.median_ci_rel`: ``median ± 1.57 · IQR / √runs``) do not
overlap; otherwise it is within noise. Sizes are exact: any difference is a change, except
between two sizes the size model allows for variable-length signatures (ECDSA's DER
encoding varies by a few octets): ``same range``.
Figures flagged unreliable in either run are marked. Hand-written: a few lines over the
two JSON documents (numpy is not needed).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

from ..cliutil import UsageError
from .reliability import MARK

Key = tuple[str, int, str, str]


def load(path: str) -> dict[str, Any]:
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"{path}: no such file")
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UsageError(f"{path}: not a JSON file ({e})") from None
    if not isinstance(doc, dict) or not str(doc.get("schema", "")).startswith("mls-pq-bench/"):
        raise UsageError(f"{path}: not an mls-pq bench results.json (no 'schema': 'mls-pq-bench/…')")
    return doc


def _ci(r: dict[str, Any]) -> tuple[float, float]:
    med = float(r["median"])
    half = 1.57 * float(r.get("iqr") or 0.0) / math.sqrt(max(int(r.get("reps") or 1), 1))
    return med - half, med + half


def diff_rows(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    def index(doc: dict[str, Any]) -> dict[Key, dict[str, Any]]:
        return {(r.get("suite_hex", f"0x{r['suite']:04x}"), r["n"], r["shape"], r["metric"]): r
                for r in doc["rows"] if r.get("source", "measured") == "measured"}

    ia, ib = index(a), index(b)
    out = []
    for key in [k for k in ia if k in ib]:
        ra, rb = ia[key], ib[key]
        va, vb = ra["median"], rb["median"]
        change = (vb / va - 1) if va else math.nan
        if ra["kind"] == "size":
            lo, hi = rb.get("model_lo"), rb.get("model_hi")
            if va == vb:
                verdict = "same"
            elif lo is not None and hi is not None and lo != hi and lo <= va <= hi and lo <= vb <= hi:
                verdict = "same range"  # variable-length (ECDSA DER) signatures: both sizes are possible
            else:
                verdict = "changed"
        else:
            (la, ha), (lb, hb) = _ci(ra), _ci(rb)
            verdict = "significant" if (lb > ha or hb < la) else "within noise"
        out.append({"suite": key[0], "n": key[1], "shape": key[2], "metric": key[3], "kind": ra["kind"],
                    "a": va, "b": vb, "change": change, "verdict": verdict,
                    "unreliable": bool(ra.get("flags") or rb.get("flags"))})
    return out


def render(rows: list[dict[str, Any]], show_all: bool = False) -> str:
    from .report import fmt_bytes, fmt_time

    shown = [r for r in rows if show_all or r["verdict"] in ("significant", "changed")]
    lines = [f"{len(rows)} figures in both; {sum(r['verdict'] == 'significant' for r in rows)} times changed "
             f"significantly, {sum(r['verdict'] == 'changed' for r in rows)} sizes changed"]
    if shown:
        header = ["suite", "N", "shape", "metric", "A", "B", "change", "verdict"]
        body = [[r["suite"], str(r["n"]), r["shape"], r["metric"],
                 fmt_bytes(r["a"]) if r["kind"] == "size" else fmt_time(r["a"]),
                 fmt_bytes(r["b"]) if r["kind"] == "size" else fmt_time(r["b"]),
                 f"{100 * r['change']:+.1f}%" if not math.isnan(r["change"]) else "-",
                 r["verdict"] + (MARK if r["unreliable"] else "")] for r in shown]
        widths = [max(len(x) for x in col) for col in zip(header, *body)]
        lines.append("")
        for row in [header, *body]:
            lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    lines += ["", "change = B / A - 1; significant = the medians' 95% intervals (median ± 1.57·IQR/√runs) do not "
              "overlap; same range = two sizes both possible with variable-length (ECDSA) signatures; "
              f"{MARK} = flagged unreliable in A or B."]
    return "\n".join(lines)


def cmd_diff(argv: list[str]) -> int:
    """``argv`` = ``["diff", A, B]`` (the bench command's positional arguments)."""
    if len(argv) != 3 or argv[0] != "diff":
        raise UsageError("usage: mls-pq bench diff A.json B.json (two results.json files)")
    a, b = load(argv[1]), load(argv[2])
    rows = diff_rows(a, b)
    if not rows:
        raise UsageError(f"{argv[1]} and {argv[2]} have no figure in common (suite, N, shape, metric)")
    sys.stdout.write(render(rows) + "\n")
    return 0


__all__ = ["cmd_diff", "diff_rows", "load", "render"]
