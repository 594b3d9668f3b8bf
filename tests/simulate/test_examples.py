"""Every example workload runs (at small scale) through the command line."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from mls_pq.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "workloads"


def small_copy(src: Path, dst: Path) -> Path:
    """The example with small calibration sizes (the timings are not what is tested here)."""
    text = src.read_text()
    lines = []
    for line in text.splitlines():
        if line.startswith("sizes = "):
            line = "sizes = [2, 4, 8]"
        elif line.startswith("reps = "):
            line = "reps = 1"
        lines.append(line)
    out = dst / src.name
    out.write_text("\n".join(lines) + "\n")
    return out


@pytest.mark.parametrize(("name", "scale"), [("consumer.toml", 2e-5), ("enterprise.toml", 5e-4),
                                             ("worst_case.toml", 0.01)])
def test_example_runs(name: str, scale: float, tmp_path: Path, cache_dir: Path,
                      capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    # one calibration round per cell: this test checks that the examples run, not their timings
    monkeypatch.setattr("mls_pq.simulate.calibrate.MIN_ROUNDS", 1)
    monkeypatch.setattr("mls_pq.simulate.calibrate.MIN_SAMPLE_S", 0.0)
    wl = small_copy(EXAMPLES / name, tmp_path)
    out = tmp_path / "out"
    rc = main(["simulate", str(wl), "--scale", str(scale), "--days", "1", "--self-check", "0", "--quiet",
               "--cache-dir", str(cache_dir), "--out", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "sent / device / day, mean" in text
    doc = json.loads((out / "simulation.json").read_text())
    first = doc["policies"][0]["name"]
    assert set(doc["results"]) == {p["name"] for p in doc["policies"]}
    for name_, r in doc["results"].items():
        assert r["sent_mean"] > 0 and r["recv_mean"] > 0 and r["cpu_mean"] > 0 and r["ds_per_day"] > 0
        assert r["state_mean"] > 0
        assert doc["relative"][name_]["sent_mean"] == pytest.approx(r["sent_mean"] / doc["results"][first]["sent_mean"])
    # post-quantum suites (and the combiner) send more octets than suite 1 in every example
    assert all(doc["relative"][p["name"]]["recv_mean"] > 1 for p in doc["policies"][1:])
    combined = [p for p in doc["policies"] if "combiner" in p]
    assert len(combined) == 1 and combined[0]["combiner"] == "0x0001+0xf006" and combined[0]["full_every"] == 10
    with open(out / "simulation.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["policy", "metric", "unit", "value", "relative_to_first"]
    assert len(rows) == 1 + 15 * len(doc["policies"])
    sent = [r for r in rows if r[1] == "sent_mean"]
    assert [r[0] for r in sent] == [p["name"] for p in doc["policies"]]
    assert all(math.isfinite(float(r[3])) for r in sent)
