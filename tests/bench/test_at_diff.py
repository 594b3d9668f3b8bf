"""``mls-pq bench --at N --baseline SUITE`` and ``mls-pq bench diff A.json B.json``."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mls_pq.bench import report
from mls_pq.bench.at import at_table, render_at
from mls_pq.bench.diff import diff_rows, render
from mls_pq.bench.runner import BenchConfig, run

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    cfg = BenchConfig(suites=[0x0001, 0xF001, 0xF006], sizes=[4], shapes=["populated"], budget=0.1,
                      ops=["update_commit", "join", "sizes"], reps=2, extrapolate=[], count=False)
    return run(cfg)


def test_at_table_relative_to_suite_1_and_the_baseline(doc: dict[str, Any]) -> None:
    title, header, body = at_table(doc, 4, 0xF001)
    assert header == ["suite", "Commit+path", "Welcome", "commit", "join"] and "0xf001 (*)" in title
    rows = {r[0]: r for r in body}
    assert set(rows) == {"0x0001", "0xf001*", "0xf006"}
    xwing_commit = rows["0xf001*"][1].rstrip("!").split()
    assert xwing_commit[-1] == "×1.0"  # the baseline against itself
    one = rows["0x0001"][1].rstrip("!").split()
    assert one[-2] == "×1.0"  # suite 1 against itself
    # sizes: the X-Wing commit is larger than suite 1's by the KEM outputs: ratio > 5
    sizes = {r["suite"]: r["median"] for r in doc["rows"] if r["metric"] == "update_commit_public"}
    assert float(xwing_commit[-2].removeprefix("×")) == pytest.approx(sizes[0xF001] / sizes[1], abs=0.51)
    text = render_at(doc, 4, 0xF001)
    assert max(len(line) for line in text.splitlines()) <= report.WIDTH and "ratio to 0xf001" in text


def test_diff_of_a_run_with_itself_is_quiet(doc: dict[str, Any]) -> None:
    rows = diff_rows(doc, doc)
    assert rows and all(r["verdict"] in ("same", "within noise") and r["change"] == 0 for r in rows)


def test_diff_finds_a_real_change(doc: dict[str, Any]) -> None:
    b = copy.deepcopy(doc)
    t = next(r for r in b["rows"] if r["kind"] == "time" and r["suite"] == 0xF001 and r["metric"] == "join")
    t["median"] *= 3
    t["q1"], t["q3"], t["iqr"] = t["median"] * 0.99, t["median"] * 1.01, t["median"] * 0.02
    s = next(r for r in b["rows"] if r["kind"] == "size" and r["suite"] == 1 and r["metric"] == "key_package")
    s["median"] += 10
    rows = {(r["suite"], r["metric"]): r for r in diff_rows(doc, b)}
    assert rows[("0xf001", "join")]["verdict"] == "significant"
    assert rows[("0xf001", "join")]["change"] == pytest.approx(2.0)
    assert rows[("0x0001", "key_package")]["verdict"] == "changed"
    assert rows[("0x0001", "update_commit")]["verdict"] == "within noise"
    text = render(list(rows.values()))
    assert "+200.0%" in text and "significant" in text


def test_diff_command(doc: dict[str, Any], tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    report.write_json(doc, a)
    other = copy.deepcopy(doc)
    for r in other["rows"]:
        if r["kind"] == "size":
            r["median"] *= 2
    report.write_json(other, b)
    out = subprocess.run([sys.executable, "-m", "mls_pq", "bench", "diff", str(a), str(b)], capture_output=True,
                         text=True, timeout=60, cwd=str(ROOT))
    assert out.returncode == 0, out.stderr
    assert "sizes changed" in out.stdout and "+100.0%" in out.stdout
    assert json.loads(a.read_text())["schema"] == "mls-pq-bench/1"


def test_at_command_one_screen(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "mls_pq", "bench", "--at", "4", "--suites", "suite1,x-wing,mlkem768",
                          "--baseline", "X-Wing", "--ops", "update_commit,sizes", "--no-floor", "--serial",
                          "--budget", "0.1", "--no-plots", "--quiet", "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=120, cwd=str(ROOT))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "N = 4, populated tree: each suite relative to 0x0001 and to 0xf001 (*)"
    assert {ln.split()[0] for ln in lines[3:6]} == {"0x0001", "0xf001*", "0xf006"}
    screen = lines[: next(i for i, ln in enumerate(lines) if ln.startswith("wrote "))]
    assert max(len(ln) for ln in screen) <= report.WIDTH and len(screen) < 30


def _imports(path: Path, package: str) -> set[str]:
    """Every mls_pq module ``path`` imports, at module level or inside functions."""
    import ast

    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            for alias in node.names:
                found.add(mod if node.module else f"{mod}.{alias.name}")
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {m for m in found if m.startswith("mls_pq")}


def test_cli_modules_have_no_import_cycle() -> None:
    """The command-line modules import each other one way only (issue 10: no import cycles)."""
    files = {"mls_pq.cli": ROOT / "mls_pq/cli.py", "mls_pq.cliutil": ROOT / "mls_pq/cliutil.py",
             "mls_pq.interop.cli": ROOT / "mls_pq/interop/cli.py"}
    files.update({f"mls_pq.bench.{p.stem}": p for p in (ROOT / "mls_pq/bench").glob("*.py") if p.stem != "__init__"})
    graph = {m: {d for d in _imports(p, m.rsplit(".", 1)[0]) if d in files} for m, p in files.items()}

    def reach(start: str) -> set[str]:
        seen: set[str] = set()
        todo = list(graph[start])
        while todo:
            m = todo.pop()
            if m not in seen:
                seen.add(m)
                todo += graph.get(m, set())
        return seen

    cycles = [m for m in graph if m in reach(m)]
    assert cycles == [], {m: graph[m] for m in cycles}
