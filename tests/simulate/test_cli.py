"""``mls-pq simulate`` errors: one line per problem, exit code 2, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mls_pq.cli import main


def test_bad_workload_one_line_per_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "bad.toml"
    p.write_text('days = -1\n[[policies]]\nsuite = "nope"\n')
    assert main(["simulate", str(p)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0] == f"error: {p}: days: expected a number > 0, got -1"
    assert err[1].startswith(f"error: {p}: policies[0].suite: expected a registered suite id (one of 0x0001")
    assert err[2] == f"error: {p}: populations: expected a non-empty array of tables ([[populations]])"
    assert len(err) == 3 and "Traceback" not in capsys.readouterr().err


def test_unreadable_and_bad_options(tmp_path: Path, small_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", str(tmp_path / "none.toml")]) == 2
    assert capsys.readouterr().err.strip() == f"error: {tmp_path / 'none.toml'}: cannot read the file (No such file or " \
                                               "directory)"
    assert main(["simulate", str(small_path), "--workers", "0", "--scale", "0"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "error: simulate: --workers: expected an integer >= 1", "error: simulate: --scale: expected a number > 0"]


def test_json_output(small_path: Path, cache_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", str(small_path), "--json", "--quiet", "--self-check", "0", "--cache-dir",
                 str(cache_dir), "--seed", "3"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["seed"] == 3 and doc["mode"] == "calibrated" and doc["groups"] == 60
    assert doc["self_check"] is None


def test_exact_mode_reports_model_vs_exact(small_path: Path, cache_dir: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """An exact run puts the same fleet through the model: every byte metric identical."""
    assert main(["simulate", str(small_path), "--mode", "exact", "--scale", "0.1", "--days", "1", "--json",
                 "--quiet", "--self-check", "0", "--cache-dir", str(cache_dir)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["mode"] == "exact" and doc["groups"] == 6
    for name, errs in doc["model_vs_exact"].items():
        for k in ("sent_mean", "sent_p99", "recv_mean", "recv_p50", "ds_per_day"):
            assert errs[k] == 0.0, (name, k)
        assert errs["welcome_max"] in (0.0, None)  # None: no Welcome in this small fleet
        assert abs(errs["cpu_mean"]) < 1.0 and abs(errs["state_mean"]) < 0.2
