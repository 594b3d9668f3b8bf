"""The run, its outputs and the ``bench`` sub-command (mls_pq.bench.runner/report/plots/cli)."""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path
from typing import Any

import pytest

from mls_pq.bench import plots, report
from mls_pq.cliutil import UsageError
from mls_pq.bench.cli import add_bench_parser, config_from_args
from mls_pq.bench.runner import BenchConfig, run
from mls_pq.bench.scenarios import SIZE_METRICS, TIME_OPS


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    cfg = BenchConfig(suites=[0x0001, 0xF001], sizes=[2, 4], shapes=["sparse", "populated"],
                      ops=["update_commit", "process_far", "sizes"], reps=2, extrapolate=[1000], budget=0.1)
    return run(cfg)


def test_rows(doc: dict[str, Any]) -> None:
    rows = doc["rows"]
    times = [r for r in rows if r["kind"] == "time"]
    sizes = [r for r in rows if r["kind"] == "size"]
    assert len(times) == 2 * 2 * 2 * 2 and len(sizes) == 2 * 2 * 2 * len(SIZE_METRICS)
    for r in times:
        assert r["reps"] >= 2 and r["q1"] <= r["median"] <= r["q3"] and r["iqr"] >= 0
        assert r["floor"] > 0 and r["overhead"] == pytest.approx(r["median"] / r["floor"])
        kem_op = "kem.encap" if r["metric"] == "update_commit" else "kem.decap"
        assert r["counts"][kem_op] >= 1 and not r["floor_missing"]
    for r in sizes:
        assert r["model_ok"] and r["model"] == r["median"]  # fixed-length signatures: exact
    assert doc["machine"]["libraries"]["cryptography"]
    assert {s["metric"] for s in doc["slopes"]} >= {"update_commit", "update_commit_public"}
    ext = [e for e in doc["extrapolation"] if e["source"] == "model"]
    assert {e["n"] for e in ext} == {1000} and len(ext) == 2 * 2 * len(SIZE_METRICS)
    sparse = next(e for e in ext if e["suite"] == 1 and e["shape"] == "sparse" and e["metric"] == "update_commit_public")
    populated = next(e for e in ext if e["suite"] == 1 and e["shape"] == "populated"
                     and e["metric"] == "update_commit_public")
    assert sparse["median"] > 20 * populated["median"]  # 999 vs 10 path ciphertexts


def test_outputs(doc: dict[str, Any], tmp_path: Path) -> None:
    report.write_json(doc, tmp_path / "results.json")
    report.write_csv(doc, tmp_path / "results.csv")
    back = json.loads((tmp_path / "results.json").read_text())
    assert back["schema"] == "mls-pq-bench/1" and len(back["rows"]) == len(doc["rows"])
    with (tmp_path / "results.csv").open() as f:
        lines = list(csv.DictReader(f))
    assert len(lines) == len(doc["rows"]) + len(doc["extrapolation"])
    assert {"median", "iqr", "floor", "overhead", "model", "slope"} <= set(lines[0])
    assert {ln["source"] for ln in lines} == {"measured", "model", "extrapolated"}
    text = report.render_plain(doc)
    assert "0x0001" in text and "0xf001" in text and "MODEL" in text
    assert max(len(line) for line in text.splitlines()) <= report.WIDTH  # fits 100 columns by default
    assert "±" in text and "! = unreliable figure" in text  # every cell's spread and the mark explained
    wide = report.render_plain(doc, wide=True)
    assert "floor mostly" in wide and "floor mostly" not in text
    times = [r for r in back["rows"] if r["kind"] == "time"]
    assert all(isinstance(r["flags"], list) and r["reps"] >= 2 and 0 < r["cpu_share"] <= 1 for r in times)
    assert {r["ratio_vs"] for r in times if r["suite"] == 0xF001 and r["n"] == 4} == {"0x0001"}
    assert all(ln["ci_rel"] and ln["cpu_share"] for ln in lines if ln["kind"] == "time" and ln["source"] == "measured")
    assert back["complete"] is True and "other_busy_cpus" in back["reliability"]
    tables = report.summary_tables(doc)
    assert tables[0][2][1][2].endswith(tuple("0123456789"))  # X-Wing cell carries "×ratio" vs suite 1
    if not plots.available():
        pytest.skip("matplotlib not installed (optional 'bench' extra): plots not tested")
    written = plots.write_plots(doc, tmp_path)
    assert {p.name for p in written} == {"sizes_sparse.png", "times_sparse.png", "sizes_populated.png",
                                         "times_populated.png"}
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in written)
    # small multiples by family: one column per family present (classical, hybrid), one row per metric
    assert [plots.family(n, i) for i, n in ((1, "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519"),
            (0xF001, "MLS_128_MLKEM768X25519_AES128GCM_SHA256_Ed25519"),
            (0xF007, "MLS_128_MLKEM768_AES256GCM_SHA384_P256"),
            (0xF00A, "MLS_192_MLKEM768_AES256GCM_SHA384_MLDSA65"),
            (0xF0A1, "MLS_128_MLKEM768X25519_AES128GCM_SHA256_SLHDSA128F"))] == [
        "classical", "hybrid", "mlkem", "mldsa", "other"]


def _parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    add_bench_parser(p.add_subparsers(dest="command"))
    return p.parse_args(["bench", *argv])


def test_cli_arguments() -> None:
    cfg = config_from_args(_parse(["--suites", "1,0xF001", "--sizes", "8,2", "--sizes", "32", "--shape", "both",
                                   "--ops", "join,sizes", "--reps", "7", "--extrapolate", "0"]))
    assert list(cfg.suites) == [1, 0xF001] and list(cfg.sizes) == [2, 8, 32]
    assert list(cfg.shapes) == ["sparse", "populated"] and list(cfg.ops) == ["join", "sizes"]
    assert cfg.reps == 7 and list(cfg.extrapolate) == []
    from mls_pq.suites import REGISTRY

    registered = REGISTRY.ids()  # 18 built-in suites, plus plugin suites such as 0xF0A1 when installed
    assert len(registered) >= 18 and {1, 7, 0xF001, 0xF00B} <= set(registered)
    cfg = config_from_args(_parse(["--suites", "all"]))
    assert list(cfg.suites) == registered
    # the default run: every registered suite, N up to 1024, the populated tree, every operation
    cfg = config_from_args(_parse([]))
    assert list(cfg.suites) == registered and max(cfg.sizes) == 1024 and list(cfg.shapes) == ["populated"]
    assert set(cfg.ops) == {*TIME_OPS, "sizes"} and cfg.build_ahead
    assert not config_from_args(_parse(["--serial"])).build_ahead
    assert list(config_from_args(_parse(["--at", "500"])).sizes) == [500]
    assert list(config_from_args(_parse(["--at", "500", "--sizes", "2,32"])).sizes) == [2, 32, 500]
    with pytest.raises(ValueError):
        BenchConfig(ops=["nonsense"]).validate()
    with pytest.raises(UsageError, match="unknown operation 'nonsense'"):
        config_from_args(_parse(["--ops", "nonsense"]))
    # suites by name or alias, case-insensitive
    cfg = config_from_args(_parse(["--suites", "suite1,X-Wing,mldsa65,MLS_128_DHKEMP256_AES128GCM_SHA256_P256"]))
    assert list(cfg.suites) == [1, 0xF001, 0xF00A, 2]


def test_cli_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = _parse(["--suites", "1", "--sizes", "2", "--ops", "app_encrypt,sizes", "--reps", "1", "--out",
                   str(tmp_path), "--no-plots", "--json", "--quiet"])
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert {r["metric"] for r in out["rows"]} == {"app_encrypt", *SIZE_METRICS}
    assert (tmp_path / "results.csv").exists() and (tmp_path / "results.json").exists()
    bad = _parse(["--shape", "sparse", "--sizes", "1", "--out", str(tmp_path)])
    with pytest.raises(UsageError, match="group sizes must be integers >= 2, got 1"):
        bad.func(bad)


def test_parser_import_is_light() -> None:
    """``mls-pq`` builds the bench parser on every call: no numpy, engine or plotting imports."""
    import subprocess
    import sys

    code = ("import sys, argparse, mls_pq.bench.cli as c; p = argparse.ArgumentParser(); "
            "c.add_bench_parser(p.add_subparsers()); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('numpy', 'matplotlib', 'rich') "
            "or m.startswith('mls_pq.group')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=str(Path(__file__).resolve().parents[2]))
    assert out.stdout.strip() == "[]"
