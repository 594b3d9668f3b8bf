"""A member process SIGKILLed in the middle of an epoch transition (processing a commit,
merging its own pending commit, joining by Welcome) restarts from its SQLiteStorage at the
old epoch or the new one — never a mix — and then continues with the group: at the old
epoch it processes the commit again from the delivery service (or merges the echo of its
own pending commit, or joins again with the still-stored KeyPackage); at the new one it
just continues. The kill happens at the named steps of the storage transaction
(``SQLiteStorage._hook``, see mls_pq/storage/sqlite.py); commits are visible only from
"after_commit" on.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from mls_pq.group import Group, StagedCommit
from mls_pq.storage import SQLiteStorage

from . import _persist_child as child
from ._helpers import Sim, apply

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL")

REPO = Path(__file__).resolve().parents[2]
CHILD = Path(child.__file__).resolve()
GID = b"test-group"


def _run_until_killed(db: Path, action: str, point: str, message: Path | None = None) -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    args = [sys.executable, str(CHILD), str(db), GID.hex(), action, point] + ([str(message)] if message else [])
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        line = proc.stdout.readline().strip() if ready else ""
        if line != "AT " + point:
            proc.kill()
            proc.wait()
            err = proc.stderr.read() if proc.stderr else ""
            pytest.fail(f"child did not stop at {point}: {line!r} {err}")
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=20) == -signal.SIGKILL
    finally:
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def _committed(point: str) -> bool:
    return point == "after_commit"


@pytest.mark.parametrize(
    "point", ["begin", "state_written", "pending_dropped", "psk_written", "before_commit", "after_commit"]
)
def test_killed_while_processing_a_commit(point: str, tmp_path: Path) -> None:
    sim = Sim.start(1, 4)
    db = tmp_path / "member.sqlite"
    victim = sim.members[3]
    with SQLiteStorage(db, past_epochs=1) as s:
        victim.save(s)
        victim.commit(path=True)  # a pending commit of ours, superseded by the one below
    victim.storage = None  # the in-memory twin goes on without storage, as the reference
    old_epoch = victim.epoch
    out = sim.members[0].commit(path=True, add=[sim.key_package(b"newcomer")[0]])
    sim.members[0].merge_pending_commit()
    for m in sim.members[1:3]:
        apply(m, out.commit)
    msg = tmp_path / "commit.bin"
    msg.write_bytes(out.commit)
    _run_until_killed(db, "process", point, msg)

    with SQLiteStorage(db, past_epochs=1) as s:
        g = Group.load(s, GID)
        if _committed(point):
            assert g.epoch == old_epoch + 1 and not g.has_pending_commit
            assert s.list_resumption_psk_epochs(GID)[-1] == g.epoch
        else:  # the old epoch, exactly as saved (pending commit included)
            assert g.epoch == old_epoch and g.has_pending_commit
            assert g.to_bytes() == victim.to_bytes()
            apply(g, out.commit)  # fetched again from the delivery service
        apply(victim, out.commit)
        assert g.to_bytes() == victim.to_bytes()
        sim.members[3] = g
        sim.agree()
        sim.commit(3, path=True)  # it goes on committing, stored
        sim.agree()
        assert s.load_group(GID).epoch == g.epoch  # type: ignore[union-attr]


@pytest.mark.parametrize("point", ["state_written", "epochs_pruned", "after_commit"])
def test_killed_while_merging_own_commit(point: str, tmp_path: Path) -> None:
    sim = Sim.start(1, 3)
    db = tmp_path / "member.sqlite"
    victim = sim.members[2]
    with SQLiteStorage(db, past_epochs=1) as s:
        victim.save(s)
        out = victim.commit(path=True)
    victim.storage = None
    old_epoch = victim.epoch
    for m in sim.members[:2]:
        apply(m, out.commit)
    _run_until_killed(db, "merge", point)

    with SQLiteStorage(db, past_epochs=1) as s:
        g = Group.load(s, GID)
        if _committed(point):
            assert g.epoch == old_epoch + 1 and not g.has_pending_commit
        else:
            assert g.epoch == old_epoch and g.has_pending_commit
            assert isinstance(apply(g, out.commit), StagedCommit)  # the echo merges the stored pending commit
        assert s.load_pending_commit(GID) is None
        sim.members[2] = g
        sim.agree()
        sim.commit(2, path=True)
        sim.agree()


@pytest.mark.parametrize("point", ["state_written", "key_package_deleted", "after_commit"])
def test_killed_while_joining(point: str, tmp_path: Path) -> None:
    sim = Sim.start(1, 2)
    db = tmp_path / "joiner.sqlite"
    c = sim.client(b"joiner")
    with SQLiteStorage(db, past_epochs=1) as s:
        kp, _ = c.key_package(storage=s)
        refs = s.list_key_packages()
    out = sim.commit(0, add=[kp])
    assert out.welcome is not None
    msg = tmp_path / "welcome.bin"
    msg.write_bytes(out.welcome)
    _run_until_killed(db, "join", point, msg)

    with SQLiteStorage(db, past_epochs=1) as s:
        if _committed(point):
            assert s.list_key_packages() == [] and s.list_groups() == [GID]
            g = Group.load(s, GID)
        else:  # not joined, and the KeyPackage private key is still there to join again
            assert s.list_key_packages() == refs and s.list_groups() == []
            g = Group.join(out.welcome, storage=s)
            assert s.list_key_packages() == []
        sim.members.append(g)
        sim.agree()
        sim.commit(2, path=True)
        sim.agree()
