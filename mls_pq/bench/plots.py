"""PNG plots of a results document (matplotlib, Agg backend): small multiples, one column per
suite family (classical, hybrid ML-KEM + ECDH, pure ML-KEM, ML-DSA, plugins and other suites),
one row per metric, for sizes and for times against N on log-log axes, one figure each per
tree shape.

Within a panel every suite has its own colour, line style and marker, and is labelled
directly at the end of its line, so that suites with identical sizes (e.g. 0x0001 and 0x0003)
stay apart; times are drawn in µs / ms / s with the interquartile range as error bars;
figures flagged unreliable are drawn as hollow markers. Measured points are solid lines; the
size model continued to the extrapolation size is dashed (not measured). Each panel has its
legend inside it.
"""

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
#: (family, title) in column order; :func:`family` assigns a suite to one
FAMILIES = (
    ("classical", "classical (RFC 9420)"),
    ("hybrid", "hybrid ML-KEM + ECDH"),
    ("mlkem", "pure ML-KEM"),
    ("mldsa", "ML-DSA signatures"),
    ("other", "plugins / other"),
)
_STYLES = ("-", "--", "-.", ":")
_MARKERS = ("o", "s", "^", "D", "v", "P", "X")


def available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def family(name: str, suite_id: int | None = None) -> str:
    """The family of a suite by its name: ``classical``, ``hybrid``, ``mlkem``, ``mldsa`` or
    ``other`` (plugins such as SLH-DSA, and anything else)."""
    parts = name.split("_")
    kem = parts[2] if len(parts) == 6 else name  # MLS_<level>_<KEM>_<AEAD>_<hash>_<signature>
    if "SLHDSA" in name:
        return "other"
    if "MLDSA" in name:
        return "mldsa"
    if "MLKEM" in kem:
        return "hybrid" if any(c in kem for c in ("X25519", "X448", "P256", "P384", "P521")) else "mlkem"
    if suite_id is not None and 1 <= suite_id <= 7:
        return "classical"
    return "classical" if name.startswith("MLS_") and name.count("_") == 5 and "DHKEM" in name else "other"


def _fmt_seconds(v: float, _pos: Any = None) -> str:
    if v >= 1:
        return f"{v:.3g} s"
    if v >= 1e-3:
        return f"{v * 1e3:.3g} ms"
    return f"{v * 1e6:.3g} µs"


def _fmt_octets(v: float, _pos: Any = None) -> str:
    if v >= 1 << 30:
        return f"{v / (1 << 30):.3g} GiB"
    if v >= 1 << 20:
        return f"{v / (1 << 20):.3g} MiB"
    if v >= 1024:
        return f"{v / 1024:.3g} KiB"
    return f"{v:.0f} B"


def write_plots(doc: dict[str, Any], out: Path) -> list[Path]:
    """Write sizes_<shape>.png and times_<shape>.png; returns the paths written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    from ..suites import get_suite

    rows = [r for r in doc["rows"] if r.get("source", "measured") == "measured"]
    written: list[Path] = []
    suites = list(dict.fromkeys(r["suite"] for r in rows))
    names = {r["suite"]: r["suite_name"] for r in rows}
    fam = {s: family(names[s], s) for s in suites}
    fams = [(f, t) for f, t in FAMILIES if any(fam[s] == f for s in suites)]
    style: dict[int, tuple[Any, str, str]] = {}
    cmap = plt.get_cmap("tab10")
    for f, _ in fams:
        for i, s in enumerate(x for x in suites if fam[x] == f):
            style[s] = (cmap(i % 10), _STYLES[i % len(_STYLES)], _MARKERS[i % len(_MARKERS)])
    ext_n = max(doc["config"].get("extrapolate") or [0], default=0)
    profile = doc["config"].get("profile")
    payload = doc["config"].get("payload", 100)
    ends: dict[tuple[int, int, float], list[int]] = {}
    for shape in dict.fromkeys(r["shape"] for r in rows):
        for kind, spec, fname in (("size", SIZE_PLOT, f"sizes_{shape}.png"), ("time", TIME_PLOT, f"times_{shape}.png")):
            present = [(m, t) for m, t in spec if any(r["metric"] == m and r["shape"] == shape for r in rows)]
            if not present:
                continue
            nr, nc = len(present), len(fams)
            fig, axes = plt.subplots(nr, nc, figsize=(3.6 * nc + 0.6, 3.0 * nr + 0.9), squeeze=False, sharey="row")
            for i, (metric, title) in enumerate(present):
                for j, (f, ftitle) in enumerate(fams):
                    ax = axes[i][j]
                    for s in (x for x in suites if fam[x] == f):
                        pts = sorted((r["n"], r) for r in rows
                                     if r["suite"] == s and r["shape"] == shape and r["metric"] == metric)
                        if not pts:
                            continue
                        color, ls, marker = style[s]
                        xs = [n for n, _ in pts]
                        ys = [r["median"] for _, r in pts]
                        label = f"0x{s:04x}"
                        if kind == "time":
                            err = [[max(r["median"] - r.get("q1", r["median"]), 0.0) for _, r in pts],
                                   [max(r.get("q3", r["median"]) - r["median"], 0.0) for _, r in pts]]
                            ax.errorbar(xs, ys, yerr=err, color=color, ls=ls, marker=marker, ms=4, lw=1.1,
                                        capsize=2, label=label)
                            bad = [(n, r["median"]) for n, r in pts if r.get("flags")]
                            if bad:
                                ax.plot([b[0] for b in bad], [b[1] for b in bad], ls="none", marker=marker, ms=8,
                                        mfc="white", mec=color, zorder=3)
                        else:
                            ax.plot(xs, ys, color=color, ls=ls, marker=marker, ms=4, lw=1.1, label=label)
                            if ext_n > xs[-1]:
                                suite = get_suite(s, profile)
                                ns = _geom(xs[-1], ext_n)
                                model = [(n, model_sizes(suite, n, shape, payload=payload)[metric]) for n in ns]
                                keep = [(x, y) for x, y in model if y is not None]  # None: over the MLS limit
                                ax.plot([x for x, _ in keep], [y for _, y in keep], ls=(0, (2, 2)), lw=0.8,
                                        color=color, alpha=0.7)
                        # suites ending on the same point (identical sizes) get their labels stacked
                        same = ends.setdefault((id(ax), xs[-1], round(float(ys[-1]), 12)), [])
                        ax.annotate(label, (xs[-1], ys[-1]), xytext=(3, -7 * len(same)), textcoords="offset points",
                                    fontsize=6, color=color, va="center")
                        same.append(s)
                    ax.set_xscale("log", base=2)
                    ax.set_yscale("log")
                    ax.yaxis.set_major_formatter(FuncFormatter(_fmt_seconds if kind == "time" else _fmt_octets))
                    ax.yaxis.set_minor_formatter(NullFormatter())
                    ax.grid(True, which="both", alpha=0.25)
                    if i == 0:
                        ax.set_title(ftitle, fontsize=9)
                    if j == 0:
                        ax.set_ylabel(title, fontsize=8)
                    if i == nr - 1:
                        ax.set_xlabel("group size N", fontsize=8)
                    ax.tick_params(labelsize=7)
                    if ax.get_legend_handles_labels()[0]:
                        ax.legend(fontsize=6, loc="best", frameon=True, framealpha=0.8)
            for i in range(nr):  # 1-2-5 ticks on rows spanning few decades, 1 per decade otherwise
                lo, hi = axes[i][0].get_ylim()
                narrow = hi / max(lo, 1e-12) < 300
                axes[i][0].yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0) if narrow else (1.0,)))
            what = ("octets (MLSMessage); dashed: size model, not measured" if kind == "size"
                    else "median time, error bars: interquartile range; hollow marker: flagged unreliable")
            fig.suptitle(f"mls-pq {kind}s against N, {shape} tree — {what}", fontsize=10)
            fig.tight_layout(rect=(0, 0, 1, 0.97))
            path = out / fname
            fig.savefig(path, dpi=100)
            plt.close(fig)
            written.append(path)
    return written


def write_combiner_plot(doc: dict[str, Any], out: Path, name: str = "combiner") -> list[Path]:
    """``mls-pq bench --combiner``: bytes and time (create + process) per commit against k (a FULL
    commit every k commits), one column per group size N, one figure ``<name>_<shape>.png`` per
    tree shape: each combiner pair a line over k, each comparison suite flat (every commit
    costs the same). Hollow markers: figures whose median is not known to ±10 %."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    am = doc.get("amortized", [])
    if not am:
        return []
    ns = sorted({r["n"] for r in am})
    ks = sorted({r["k"] for r in am})
    systems = list(dict.fromkeys(r["system"] for r in am))
    cpu = am[0].get("basis") == "cpu"
    colors = {s: plt.get_cmap("tab10")(i % 10) for i, s in enumerate(systems)}

    def octets(v: float, _pos: Any = None) -> str:  # decimal units: the ticks are powers of ten
        for unit, div in (("MB", 1e6), ("kB", 1e3)):
            if v >= div:
                return f"{v / div:g} {unit}"
        return f"{v:g} B"

    written: list[Path] = []
    for shape in dict.fromkeys(r["shape"] for r in am):
        fig, axes = plt.subplots(2, len(ns), figsize=(3.6 * len(ns) + 0.8, 6.2), squeeze=False)
        handles: dict[str, Any] = {}
        for j, n in enumerate(ns):
            for i, (key, title, fmt) in enumerate((
                    ("bytes", "octets per commit", octets),
                    ("total_s", "create + process per commit" + (" (CPU time)" if cpu else ""), _fmt_seconds))):
                ax = axes[i][j]
                for system in systems:
                    pts = sorted((r["k"], r) for r in am if (r["system"], r["n"], r["shape"]) == (system, n, shape))
                    if not pts:
                        continue
                    first = pts[0][1]
                    comb = first["kind_of"] == "combiner"
                    label = (f"combiner {system} (mode {first.get('mode')})" if comb
                             else f"{system} {'X-Wing' if system == '0xf001' else 'suite'}: every commit")
                    xs = [k for k, _ in pts] if comb else [ks[0], ks[-1]]
                    ys = [r[key] for _, r in pts] if comb else [first[key]] * 2
                    (line,) = ax.plot(xs, ys, color=colors[system], ls="-" if comb else "--",
                                      marker="o" if comb else "", ms=4, lw=1.3, label=label)
                    handles.setdefault(label, line)
                    bad = [(k, r[key]) for k, r in pts if comb and key != "bytes" and "spread" in r.get("flags", [])]
                    if bad:
                        ax.plot([b[0] for b in bad], [b[1] for b in bad], ls="none", marker="o", ms=8, mfc="white",
                                mec=colors[system], zorder=3)
                ax.set_xscale("log")
                ax.set_yscale("log")
                ax.set_xticks(ks, [str(k) for k in ks])
                ax.yaxis.set_major_locator(LogLocator(base=10))
                ax.yaxis.set_major_formatter(FuncFormatter(fmt))
                ax.yaxis.set_minor_formatter(NullFormatter())
                ax.grid(True, which="both", alpha=0.25)
                ax.tick_params(labelsize=7)
                if i == 0:
                    ax.set_title(f"N = {n:,}", fontsize=9)
                if j == 0:
                    ax.set_ylabel(title, fontsize=8)
                if i == 1:
                    ax.set_xlabel("k: a FULL commit every k commits", fontsize=8)
        fig.legend(list(handles.values()), list(handles), loc="lower center", ncol=2, fontsize=7,
                   frameon=False)
        fig.suptitle(f"APQ-MLS combiner vs hybrid X-Wing and suite 1: cost per commit, {shape} tree", fontsize=10)
        fig.tight_layout(rect=(0, 0.1, 1, 0.96))
        path = out / f"{name}_{shape}.png"
        fig.savefig(path, dpi=100)
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


__all__ = ["FAMILIES", "available", "family", "family_marker", "write_combiner_plot", "write_plots"]
