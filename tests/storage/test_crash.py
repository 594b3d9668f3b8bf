"""Crash atomicity of SQLiteStorage epoch transitions: a child process is SIGKILLed in the
middle of ``save_epoch`` and a fresh handle must find exactly the old epoch or exactly the
new one (state, retained past states, pending commit, resumption PSKs, KeyPackage keys).

Kill points: every named step of the transaction (deterministic), every 1/10 of the SQLite
VM progress callbacks of the transaction, and random moments of a process looping over
transitions with 1 MiB states. (SIGKILL leaves the OS page cache intact, so this checks
transaction atomicity and recovery, not fsync ordering; ``synchronous=FULL`` covers power
loss and is checked in test_sqlite.py.)
"""

from __future__ import annotations

import os
import random
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from . import _crash_child as child

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL")

REPO = Path(__file__).resolve().parents[2]
CHILD = Path(child.__file__).resolve()
MODES = ["DELETE", "WAL"]
HOOK_POINTS = [
    "begin",
    "state_written",
    "pending_dropped",
    "epochs_pruned",
    "psk_written",
    "key_package_deleted",
    "before_commit",
    "after_commit",
]

OLD = child.expected(1, has_pending=True, next_kp=True)
NEW = child.expected(2, has_pending=False, next_kp=False)


def spawn(db: Path, mode: str, *args: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.Popen(
        [sys.executable, str(CHILD), str(db), mode, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )


def read_line(proc: subprocess.Popen[str], timeout: float = 20.0) -> str:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    if not ready:
        proc.kill()
        pytest.fail("child process did not report in time")
    line = proc.stdout.readline().strip()
    if not line:
        proc.wait()
        err = proc.stderr.read() if proc.stderr else ""
        pytest.fail(f"child exited with {proc.returncode}: {err}")
    return line


def kill(proc: subprocess.Popen[str]) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=20) == -signal.SIGKILL
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


def fresh_db(tmp_path: Path, mode: str, name: str) -> Path:
    db = tmp_path / f"{name}.db"
    with child.open_storage(str(db), mode) as s:
        child.setup_old(s)
        assert child.snapshot(s) == OLD
    return db


def reopen_snapshot(db: Path, mode: str) -> dict[str, object]:
    with child.open_storage(str(db), mode) as s:
        return child.snapshot(s)


def assert_usable(db: Path, mode: str) -> None:
    """After recovery the file takes the next transition normally."""
    with child.open_storage(str(db), mode) as s:
        loaded = s.load_group(child.G)
        assert loaded is not None
        child.step(s, loaded.epoch + 1)
        assert child.snapshot(s) == child.expected(loaded.epoch + 1, has_pending=True, next_kp=False)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("point", HOOK_POINTS)
def test_kill_at_each_step_of_save_epoch(tmp_path: Path, mode: str, point: str) -> None:
    db = fresh_db(tmp_path, mode, point)
    proc = spawn(db, mode, "hook", point)
    assert read_line(proc) == f"AT {point}"
    kill(proc)
    want = NEW if point == "after_commit" else OLD
    assert reopen_snapshot(db, mode) == want
    assert_usable(db, mode)


@pytest.mark.parametrize("mode", MODES)
def test_kill_at_progress_callbacks(tmp_path: Path, mode: str) -> None:
    probe = fresh_db(tmp_path, mode, "probe")
    proc = spawn(probe, mode, "count")
    line = read_line(proc)
    assert proc.wait(timeout=20) == 0
    assert line.startswith("COUNT ")
    total = int(line.split()[1])
    assert total > 20
    assert reopen_snapshot(probe, mode) == NEW  # the uninterrupted child completes the transition

    points = sorted({1, total, *(total * i // 10 for i in range(1, 10))})
    outcomes: dict[int, str] = {}
    for k in points:
        db = fresh_db(tmp_path, mode, f"k{k}")
        proc = spawn(db, mode, "progress", str(k))
        assert read_line(proc) == f"AT {k}"
        kill(proc)
        got = reopen_snapshot(db, mode)
        assert got in (OLD, NEW), f"kill at progress callback {k}/{total} left a mixed state"
        outcomes[k] = "old" if got == OLD else "new"
        assert_usable(db, mode)
    assert outcomes[1] == "old"
    assert outcomes[total * 5 // 10] == "old"


@pytest.mark.parametrize("mode", MODES)
def test_kill_at_random_moments_while_looping(tmp_path: Path, mode: str) -> None:
    rng = random.Random(9420)
    size = 1 << 20
    db = tmp_path / "loop.db"
    last = -1
    for round_ in range(6):
        proc = spawn(db, mode, "loop", str(size))
        start = int(read_line(proc).split()[1])
        assert start == last + 1, "a committed epoch was lost"
        time.sleep(rng.uniform(0.02, 0.35))
        kill(proc)
        with child.open_storage(str(db), mode) as s:
            got = child.snapshot(s)
        if got["current"] is None:  # killed before epoch 0 committed
            kps = got["kps"]
            assert isinstance(kps, dict) and set(kps) <= {child.kp_ref(0)}
            assert got == {"groups": [], "current": None, "epochs": {}, "pending": None, "psks": {}, "kps": kps}
            continue
        epoch = got["current"][0]  # type: ignore[index]
        consistent = [
            child.expected(epoch, has_pending=p, next_kp=n, size=size) for p in (False, True) for n in (False, True)
        ]
        assert got in consistent, f"round {round_}: inconsistent state at epoch {epoch}"
        assert epoch >= last
        last = epoch
    assert last >= 1, "the child never got through a transition"
