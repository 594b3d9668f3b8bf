"""Read a benchmark results.json (written by ``mls-pq bench``) with pandas, or numpy alone.

Run: python examples/read_bench_json.py [bench-results/results.json]
(default: the run committed under docs/bench/)

Each row of ``rows`` is one figure: suite, group size ``n``, tree ``shape``, ``metric``, ``kind``
("size" in octets or "time" in seconds), ``median``, ``q1``/``q3``/``iqr``, ``reps`` (runs) and,
in results written by this version, ``flags`` (why a figure is unreliable, empty when it is not).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

DEFAULT = Path(__file__).resolve().parents[1] / "docs" / "bench" / "results.json"


def with_pandas(rows: list[dict[str, Any]]) -> None:
    import pandas as pd

    df = pd.DataFrame(rows)
    times = df[(df.kind == "time") & (df.metric == "update_commit")]
    n = times.n.max()
    table = times[times.n == n].set_index("suite_hex")[["median", "iqr", "reps"]] * [1e3, 1e3, 1]
    print(f"create commit at N = {n} (ms), pandas:")
    print(table.sort_values("median").round(3).to_string())


def with_numpy(rows: list[dict[str, Any]]) -> None:
    import numpy as np

    commits = [r for r in rows if r["kind"] == "size" and r["metric"] == "update_commit_public"]
    n = max(r["n"] for r in commits)
    sizes = np.array([r["median"] for r in commits if r["n"] == n], dtype=float)
    suites = [r["suite_hex"] for r in commits if r["n"] == n]
    print(f"Commit with UpdatePath at N = {n}, numpy: smallest {suites[int(sizes.argmin())]} "
          f"({sizes.min():.0f} B), largest {suites[int(sizes.argmax())]} ({sizes.max():.0f} B), "
          f"median {np.median(sizes):.0f} B over {sizes.size} suites")


def main(path: Path) -> None:
    doc = json.loads(path.read_text())
    rows = [r for r in doc["rows"] if r.get("source", "measured") == "measured"]
    unreliable = [r for r in rows if r.get("flags")]
    print(f"{path}: {len(rows)} figures, {len(unreliable)} flagged unreliable, machine: {doc['machine']['cpu']}")
    try:
        with_pandas(rows)
    except ImportError:
        print("(pandas is not installed: pip install pandas)")
    with_numpy(rows)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT)
