"""PNG plots of a results document (matplotlib, Agg backend): size and time against N on
log-log axes, one line per suite, one figure per tree shape. Measured points are solid
lines with markers; the size model continued to the extrapolation size is dashed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .model import model_sizes

SIZE_PLOT = (
    ("update_commit_public", "Commit with UpdatePath"),
    ("welcome_tree", "Welcome (with ratchet_tree)"),
    ("group_info", "GroupInfo (with ratchet_tree)"),
    ("add_commit_public", "Commit adding 1 member"),
)
TIME_PLOT = (
    ("update_commit", "create Commit with UpdatePath"),
    ("process_far", "process Commit (far member)"),
    ("join", "join from Welcome"),
    ("add_commit", "add 1 member (Commit + Welcome)"),
)


def available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def write_plots(doc: dict[str, Any], out: Path) -> list[Path]:
    """Write sizes_<shape>.png and times_<shape>.png; returns the paths written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..suites import get_suite

    rows = doc["rows"]
    written: list[Path] = []
    suites = list(dict.fromkeys(r["suite"] for r in rows))
    names = {r["suite"]: f"0x{r['suite']:04x} {r['suite_name'].removeprefix('MLS_')}" for r in rows}
    cmap = plt.get_cmap("tab10" if len(suites) <= 10 else "tab20")
    colors = {s: cmap(i % cmap.N) for i, s in enumerate(suites)}
    markers = {s: family_marker(next(r["suite_name"] for r in rows if r["suite"] == s)) for s in suites}
    ext_n = max(doc["config"].get("extrapolate") or [0], default=0)
    profile = doc["config"].get("profile")
    payload = doc["config"].get("payload", 100)
    for shape in dict.fromkeys(r["shape"] for r in rows):
        for kind, spec, fname, ylabel in (
            ("size", SIZE_PLOT, f"sizes_{shape}.png", "octets"),
            ("time", TIME_PLOT, f"times_{shape}.png", "seconds (median)"),
        ):
            present = [(m, t) for m, t in spec if any(r["metric"] == m and r["shape"] == shape for r in rows)]
            if not present:
                continue
            cols = 2 if len(present) > 1 else 1
            nrows = (len(present) + cols - 1) // cols
            fig, axes = plt.subplots(nrows, cols, figsize=(6.2 * cols, 4.2 * nrows + 1.6), squeeze=False)
            flat = list(axes.flat)
            for ax in flat[len(present):]:
                ax.set_visible(False)
            for ax, (metric, title) in zip(flat, present):
                for s in suites:
                    pts = sorted((r["n"], r["median"]) for r in rows
                                 if r["suite"] == s and r["shape"] == shape and r["metric"] == metric)
                    if not pts:
                        continue
                    ax.plot([p[0] for p in pts], [p[1] for p in pts], marker=markers[s], ms=4, lw=1.2,
                            color=colors[s], label=names[s])
                    if kind == "size" and ext_n > pts[-1][0]:
                        suite = get_suite(s, profile)
                        ns = _geom(pts[-1][0], ext_n)
                        ys = [model_sizes(suite, n, shape, payload=payload)[metric] for n in ns]
                        keep = [(x, y) for x, y in zip(ns, ys) if y is not None]  # None: over the MLS limit
                        ax.plot([x for x, _ in keep], [y for _, y in keep], ls="--", lw=0.9, color=colors[s])
                ax.set_xscale("log", base=2)
                ax.set_yscale("log")
                ax.set_title(title, fontsize=10)
                ax.set_xlabel("group size N")
                ax.set_ylabel(ylabel)
                ax.grid(True, which="both", alpha=0.25)
            handles, labels = flat[0].get_legend_handles_labels()
            fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=7, frameon=False)
            note = " (dashed: size model, not measured)" if kind == "size" and ext_n else ""
            fig.suptitle(f"mls-pq: {kind} vs N, {shape} tree{note}\nmarkers: ○ classical  □ ML-KEM  "
                         f"△ hybrid ML-KEM+ECDH  ◇ ML-DSA  ★ SLH-DSA / other", fontsize=11)
            legend_h = 0.16 * ((len(labels) + 2) // 3) / (4.2 * nrows + 1.6)
            fig.tight_layout(rect=(0, legend_h + 0.02, 1, 0.95))
            path = out / fname
            fig.savefig(path, dpi=110)
            plt.close(fig)
            written.append(path)
    return written


def family_marker(name: str) -> str:
    """A marker per suite family, so that lines of similar colour stay apart: classical ○,
    ML-KEM □, hybrid ML-KEM + ECDH △, ML-DSA signatures ◇, SLH-DSA and other signatures ★."""
    if "SLHDSA" in name:
        return "*"
    if "MLDSA" in name:
        return "D"
    if "MLKEM" in name:
        return "^" if any(c in name for c in ("X25519", "X448", "P256", "P384", "P521")) else "s"
    if name.startswith("MLS_") and name.count("_") == 5:
        return "o"
    return "*"


def _geom(a: int, b: int, k: int = 8) -> list[int]:
    """``k`` roughly geometric points from a to b inclusive."""
    import numpy as np

    return sorted({round(float(x)) for x in np.geomspace(a, b, k)})


__all__ = ["available", "family_marker", "write_plots"]
