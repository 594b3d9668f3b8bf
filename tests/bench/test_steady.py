"""Smoke test of the steady-state benchmark's storage figures (issue 9, "Measured, not
asserted"): the storage design writes O(1) per application message, checked here on the
bytes the SQLite storage actually writes (not on a time)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from mls_pq.bench.steady import main, storage_rows
from mls_pq.suites import get_suite

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="wchar of /proc/self/io is Linux-only")


def test_sqlite_writes_under_2_kib_per_message_from_a_seen_sender() -> None:
    rows = {r["op"]: r for r in storage_rows(get_suite(1), 8, senders=4, reps=3, storages=("memory", "sqlite"))}
    seen, new, own = rows["app_decrypt_sqlite"], rows["app_decrypt_new_sqlite"], rows["app_encrypt_sqlite"]
    for r in (seen, new, own):
        assert r["reps"] == 3 and r["median_s"] > 0 and r["iqr_s"] >= 0
    # every received message writes its sender's ratchet row: one WAL frame (a 1 KiB page
    # and its header), not the epoch state
    assert 0 < seen["bytes_median"] <= seen["bytes_max"] <= 2048, seen
    assert new["bytes_median"] > 0, new
    # own messages: one reservation per block of generations, amortised far below a page
    assert own["bytes_mean"] <= 2048, own
    assert seen["senders"] == 4 and new["senders"] == 3
    # MemoryStorage never touches a file
    assert rows["app_decrypt_memory"]["bytes_max"] == 0
    json.dumps(list(rows.values()))


def test_cli_storage_grid_writes_json_with_ratios(tmp_path: Path) -> None:
    out = str(tmp_path / "steady.json")
    argv = ["--sizes", "3", "--senders", "2", "--bulk", "", "--reps", "2", "--no-remove", "--storage", "none,memory,sqlite"]
    assert main([*argv, "--out", out]) == 0
    with open(out) as f:
        res = json.load(f)
    ops = {r["op"] for r in res["rows"]}
    assert {"app_decrypt", "app_decrypt_sqlite", "app_decrypt_new_sqlite", "app_encrypt_memory"} <= ops
    assert "0x0001 app_decrypt_sqlite / memory at N=3 (wall)" in res["ratios"]
    assert "0x0001 app_decrypt_sqlite / none at N=3 (cpu)" in res["ratios"]
    assert "0x0001 app_decrypt_memory / none at N=3 (cpu)" in res["ratios"]
    none = [r for r in res["rows"] if r["op"] == "app_decrypt_none"]
    assert len(none) == 1 and none[0]["bytes_max"] == 0
    assert len(res["meta"]["loadavg_before"]) == 3 and res["meta"]["wall_s"] > 0
    with pytest.raises(SystemExit):
        main(["--storage", "floppy"])
