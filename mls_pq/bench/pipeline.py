"""Building groups ahead, in a second process, while this process measures.

Setting up a benchmark group is most of a run's work at large N (N-1 KeyPackages, their
validation by the committer, the Welcome, one full join with tree validation and
``ceil(log2 N)`` populating commits) and none of it is timed. With two or more usable CPUs,
:class:`Builder` builds the coming (suite, N) groups in one worker process (``spawn``: no
fork of this process's threads) and hands :meth:`GroupScenario.portable` bytes over.

The measurements stay serial in the main process, and nothing of the worker's runs in it
while it measures: the worker runs at the lowest CPU priority (``nice 19``), writes each
result to a file and sends only a few octets through a pipe; the main process has no
helper thread (unlike :class:`concurrent.futures.ProcessPoolExecutor`, whose result thread
would unpickle megabytes in this process in the middle of a timed run) and reads a result
only when it needs it (:meth:`Builder.take`).

The worker rebuilds the suite from the registry, so a suite that the worker does not know
the same way (registered at run time in this process only, or replaced) is built here
instead (:func:`suite_fingerprint` must match).
"""

from __future__ import annotations

import os
import pickle
import shutil
import signal
import threading
import tempfile
import time
from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any

from ..suites import CipherSuite, get_suite
from .scenarios import GroupScenario

#: how far ahead the worker builds: the outstanding items (building or built, not yet
#: measured) hold at most max(AHEAD * largest N, MIN_BUDGET) members, so that slow builds
#: (SLH-DSA KeyPackages, P-384/P-521 signatures) start early enough to be ready when their
#: turn comes, while a run at N = 10 000 keeps only a few large groups' states on disk
AHEAD = 4
MIN_BUDGET = 8192


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def suite_fingerprint(cs: CipherSuite) -> tuple[Any, ...]:
    """What must agree between the two processes' suite objects."""
    return (cs.id, cs.name, cs.kem.id, cs.kdf.id, cs.aead.id, cs.hash.name, cs.signature.id,
            cs.hpke_kdf.id if cs.hpke_kdf is not None else None)


def build_snapshots(suite_id: int, profile: str | None, n: int, shapes: Sequence[str],
                    payload: int) -> dict[str, Any]:
    """Build the group for (suite, N) and take its portable bytes in each requested shape."""
    t0 = time.perf_counter()
    cs = get_suite(suite_id, profile)
    sc = GroupScenario.build(cs, n, shape="populated" if "populated" in shapes else "sparse",
                             payload=payload, populate_later=True)
    snaps: dict[str, Any] = {}
    if "sparse" in shapes:
        snaps["sparse"] = sc.portable()
    if "populated" in shapes:
        sc.populate()
        snaps["populated"] = sc.portable()
    return {"fingerprint": suite_fingerprint(cs), "snapshots": snaps, "build_s": time.perf_counter() - t0}


def _worker(tasks: Any, done: Any, folder: str) -> None:
    """Worker loop: (index, suite, profile, N, shapes, payload) in, ("ok"|"error", index,
    detail) out; results go to ``folder/<index>.pickle``. ``None`` ends the loop."""
    try:
        os.nice(19)
    except (AttributeError, OSError):  # pragma: no cover - not on POSIX
        pass
    while True:
        task = tasks.recv()
        if task is None:
            return
        i, sid, profile, n, shapes, payload = task
        try:
            res = build_snapshots(sid, profile, n, shapes, payload)
            path = os.path.join(folder, f"{i}.pickle")
            with open(path + ".part", "wb") as f:
                pickle.dump(res, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(path + ".part", path)
            done.send(("ok", i, path))
        except Exception as e:  # noqa: BLE001  # reported; the main process builds it itself
            done.send(("error", i, f"{type(e).__name__}: {e}"))


class Builder:
    """Builds (suite, N) groups in a worker process ahead of use (:data:`AHEAD`), in the
    order of ``plan``; :meth:`take` returns them in that order."""

    def __init__(self, plan: Iterable[tuple[int, int]], profile: str | None, shapes: Sequence[str],
                 payload: int) -> None:
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        self.todo = deque(enumerate(plan))
        self.budget = max(AHEAD * max((n for _, (_, n) in self.todo), default=0), MIN_BUDGET)
        self.profile, self.shapes, self.payload = profile, list(shapes), payload
        self.folder = tempfile.mkdtemp(prefix="mls-pq-bench-")
        self.tasks, worker_tasks = ctx.Pipe()
        worker_done, self.done = ctx.Pipe()
        self.proc = ctx.Process(target=_worker, args=(worker_tasks, worker_done, self.folder), daemon=True,
                                name="mls-pq bench builder")
        # the worker never sees SIGINT: it is BLOCKED while the worker starts, and a blocked
        # signal mask is inherited through fork and exec. Ctrl-C in the terminal stops this
        # process, which ends the worker without a traceback from it. Blocking (not ignoring,
        # as before) keeps a Ctrl-C that arrives during the start pending for THIS process:
        # it is delivered when the mask is restored, instead of being lost (a spawn takes
        # hundreds of ms on a loaded machine).
        blocked = _main_thread() and hasattr(signal, "pthread_sigmask")
        if blocked:
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            self.proc.start()
        finally:
            if blocked:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        worker_tasks.close()
        worker_done.close()
        self.pending: deque[tuple[int, int, int]] = deque()  # (index, suite, N) sent, not yet taken
        self.results: dict[int, tuple[str, str]] = {}  # index -> (status, path or error)
        self._fill()

    def _fill(self) -> None:
        while self.todo and (not self.pending
                             or sum(n for _, _, n in self.pending) + self.todo[0][1][1] <= self.budget):
            i, (sid, n) = self.todo.popleft()
            self.tasks.send((i, sid, self.profile, n, self.shapes, self.payload))
            self.pending.append((i, sid, n))

    def take(self, cs: CipherSuite, n: int) -> tuple[list[tuple[str, GroupScenario]], float] | None:
        """The next item's (shape, scenario) pairs (restored over ``cs``) and the worker's
        build seconds, waiting for it if need be; None if the worker failed (or died) or
        built a different construction: the caller builds it itself."""
        i, sid, n_ = self.pending.popleft()
        if (sid, n_) != (cs.id, n):
            raise RuntimeError(f"builder out of order: got 0x{sid:04x} N={n_}, want 0x{cs.id:04x} N={n}")
        while i not in self.results:
            try:
                status, j, detail = self.done.recv()
            except (EOFError, OSError):  # the worker is gone
                self.results[i] = ("error", "worker exited")
                break
            self.results[j] = (status, detail)
        status, detail = self.results.pop(i)
        self._fill()
        if status != "ok":
            return None
        try:
            with open(detail, "rb") as f:
                res = pickle.load(f)  # our own worker's file in our own temp folder
        finally:
            os.unlink(detail)
        if tuple(res["fingerprint"]) != suite_fingerprint(cs):
            return None
        return [(shape, GroupScenario.restore(cs, snap)) for shape, snap in res["snapshots"].items()], res["build_s"]

    def close(self, fast: bool = False) -> None:
        """End the worker: let it finish its current build (at most 2 s), or with ``fast``
        (after Ctrl-C) terminate it right away."""
        try:
            self.tasks.send(None)
        except (BrokenPipeError, OSError):
            pass
        self.proc.join(timeout=0 if fast else 2)
        if self.proc.is_alive():  # still building something nobody will take
            self.proc.terminate()
            self.proc.join(timeout=5)
        self.tasks.close()
        self.done.close()
        shutil.rmtree(self.folder, ignore_errors=True)


__all__ = ["AHEAD", "MIN_BUDGET", "Builder", "build_snapshots", "suite_fingerprint", "usable_cpus"]
