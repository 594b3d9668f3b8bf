"""Steady-state benchmark (issue 9): what a member of a big group pays per message, per
late message and per bulk add, measured on the real engine (never a model).

Figures (one JSON row each, medians and inter-quartile ranges of ``reps`` runs, wall clock
and process CPU time; ``ratios`` holds the acceptance ratios of issue 9 on CPU time):

``kdf_expand``
    One HKDF-Expand of the suite (one ratchet step): the floor a generation jump is judged by.

``app_decrypt`` / ``app_encrypt``
    A receiver that has already read one message from each of ``S`` distinct senders in
    the epoch (so its secret tree holds ``S`` ratchets) decrypts the next message of one of
    them / encrypts one of its own. Cost must not depend on N (nor on S).
``app_decrypt_<storage>`` / ``app_decrypt_new_<storage>`` / ``app_encrypt_<storage>``
    (``--storage none,memory,sqlite``) The same with a storage attached (none, MemoryStorage,
    SQLiteStorage in WAL mode): each message timed alone, with the bytes the process wrote
    during it (``wchar`` of /proc/self/io: WAL frames, journal and database pages); from a
    sender already seen, from a sender new in the epoch, and the member's own messages
    (:func:`bench_storage`). Issue 9's target: ≤ 2 KiB written per message at N = 10 000.
``jump_1000``
    Decrypting a message whose generation is 1 000 ahead of the receiver's ratchet
    (``GroupOptions.max_skip`` ≥ 1000): 1 000 chain steps plus the kept window of keys.
``past_epoch``
    Decrypting a message of the previous epoch after the commit that ended it
    (``GroupOptions.max_past_epochs`` ≥ 1).
``remove_commit``
    Creating a Commit that removes one member (with its UpdatePath), from the committer of a
    group built as :mod:`mls_pq.bench.scenarios` does (``--shape``).
``bulk_add``
    Creating one Commit adding ``K`` members with the ratchet_tree extension in the Welcome
    (one Welcome for all), to a group of one member.

Groups of N members are built like :class:`mls_pq.bench.scenarios.GroupScenario` (one bulk
add, the tree out of band); the S senders' states are the near member's joined state with
their own leaf keys (:func:`mls_pq.bench.scenarios.joined_state`), so no per-sender join.
Every timed run starts from the same immutable state (``Group(state)``), so runs are
independent; sub-millisecond operations are timed in batches of ``batch`` runs.

Run ``python -m mls_pq.bench.steady --help``; :func:`run_steady` is the library entry.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..client import Client
from ..errors import MLSError
from ..group import ApplicationMessage, Group, GroupOptions, GroupState, ProcessedMessage, StagedCommit
from ..storage import MemoryStorage, SQLiteStorage, Storage
from ..suites import CipherSuite, get_suite
from ..treekem import PrivateTree
from .scenarios import GroupScenario, identity, joined_state

DEFAULT_SIZES = (2, 128, 1024, 10_000)
DEFAULT_SENDERS = 1000
DEFAULT_BULK = (1000, 2000, 4000)
PAYLOAD = bytes(100)


def _stats(samples: Sequence[float], prefix: str = "") -> dict[str, float]:
    xs = sorted(samples)
    if len(xs) >= 4:
        q = statistics.quantiles(xs, n=4)
        iqr = q[2] - q[0]
    else:
        iqr = xs[-1] - xs[0]
    return {f"{prefix}median_s": statistics.median(xs), f"{prefix}iqr_s": iqr, f"{prefix}min_s": xs[0]}


def time_op(run: Callable[[], Any], reps: int, batch: int = 1) -> dict[str, Any]:
    """Median/IQR of ``reps`` timings of ``batch`` calls each (per call): wall clock
    (``median_s``) and this process's CPU time (``cpu_median_s``, less sensitive to other
    processes on a shared machine; the ratios use it)."""
    run()  # warm caches
    wall, cpu = [], []
    gc_was = gc.isenabled()
    gc.disable()
    try:
        for _ in range(reps):
            c0, t0 = time.process_time(), time.perf_counter()
            for _ in range(batch):
                run()
            wall.append((time.perf_counter() - t0) / batch)
            cpu.append((time.process_time() - c0) / batch)
    finally:
        if gc_was:
            gc.enable()
    return {**_stats(wall), **_stats(cpu, "cpu_"), "reps": reps, "batch": batch}


@dataclass(frozen=True)
class Receiver:
    """The far member after reading one message from each of ``senders`` other members
    (``state``), those senders' states after sending it, and the state just before the last
    of those messages with that message (``first_state``, ``first_msg``: a message from a
    sender new in the epoch, to a receiver that has seen the other ``senders - 1``)."""

    state: GroupState
    senders: dict[int, GroupState]
    first_state: GroupState
    first_msg: bytes


def wchar() -> int:
    """Bytes this process has passed to write()/pwrite() so far (``wchar`` of /proc/self/io:
    WAL frames, journal and database pages, counted before the OS cache)."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("wchar:"):
            return int(line.split()[1])
    raise RuntimeError("no wchar in /proc/self/io")  # pragma: no cover (Linux only)


def time_with_storage(
    state: GroupState,
    run: Callable[[Group, int], Any],
    make: Callable[[Path], Storage | None],
    reps: int,
    *,
    sequential: bool = True,
    prime: Callable[[Group], Any] | None = None,
) -> dict[str, Any]:
    """Time ``reps`` messages (``run(group, i)``) on a member saved to a new storage (``make``;
    the save is not timed): median/IQR of wall and CPU time per message and of the bytes
    written (``bytes_*``: :func:`wchar` growth across one message; ``bytes_mean`` amortises
    writes made once per block of messages). ``sequential``: one member, one storage, the
    messages one after the other (the steady state; a first, untimed message ends the
    epoch-save transient); otherwise a fresh member and storage per message (for a message
    that happens once per sender and epoch), each after ``prime(group)`` (untimed: ends the
    epoch-save transient too). CPU time leaves out fsync waits, wall time includes them."""
    wall: list[float] = []
    cpu: list[float] = []
    written: list[int] = []
    with tempfile.TemporaryDirectory(prefix="mls-pq-steady-") as tmp:
        g: Group | None = None
        store: Storage | None = None
        try:
            for i in range(reps + 1):  # run 0 warms caches (and the storage) and is dropped
                if g is None or not sequential:
                    if store is not None:
                        _close(store)
                    d = Path(tmp) / str(i)
                    d.mkdir()
                    store = make(d)
                    g = Group(state)
                    if store is not None:
                        g.save(store)
                    if prime is not None:
                        prime(g)
                gc.collect()
                gc.disable()
                try:
                    w0, c0, t0 = wchar(), time.process_time(), time.perf_counter()
                    run(g, i)
                    t1, c1, w1 = time.perf_counter(), time.process_time(), wchar()
                finally:
                    gc.enable()
                if i:
                    wall.append(t1 - t0)
                    cpu.append(c1 - c0)
                    written.append(w1 - w0)
        finally:
            if store is not None:
                _close(store)
    b = sorted(written)
    q = statistics.quantiles(b, n=4) if len(b) >= 4 else [b[0], 0, b[-1]]
    return {
        **_stats(wall),
        **_stats(cpu, "cpu_"),
        "bytes_median": statistics.median(b),
        "bytes_iqr": q[2] - q[0],
        "bytes_mean": round(statistics.fmean(b), 1),
        "bytes_max": b[-1],
        "reps": reps,
        "batch": 1,
        "sequential": sequential,
    }


def _close(store: Storage) -> None:
    close = getattr(store, "close", None)
    if close is not None:
        close()


def _sqlite(d: Path) -> Storage:
    return SQLiteStorage(d / "member.sqlite", journal_mode="WAL")


def _memory(_: Path) -> Storage:
    return MemoryStorage()


def _none(_: Path) -> None:
    return None


#: ``none``: no storage, timed the same way (one message per run, cold) as the others: the
#: baseline the storage figures are compared with
STORAGES: dict[str, Callable[[Path], Storage | None]] = {"none": _none, "memory": _memory, "sqlite": _sqlite}


def bench_storage(
    rcv: Receiver, send_state: GroupState, *, storages: Sequence[str], reps: int
) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(op, stats, extra) for application messages with a storage attached, each message
    timed alone: messages from senders already seen (``app_decrypt_<storage>``: the seen
    senders in turn, one after the other on one stored member), a message from a sender new
    in the epoch (``app_decrypt_new_<storage>``, a fresh stored member per repetition that
    has sent one message of its own; ``senders`` seen before it: one less) and the member's own messages one after the other
    (``app_encrypt_<storage>``). ``none`` is no storage, timed the same way (so comparable
    with the storage rows, unlike the batched ``app_decrypt`` row); ``memory`` is
    :class:`MemoryStorage`; ``sqlite`` is :class:`SQLiteStorage` in WAL mode on a file in the
    temporary directory (its defaults otherwise)."""
    leaves = list(rcv.senders)[: reps + 1]
    groups = {leaf: Group(rcv.senders[leaf]) for leaf in leaves}
    # the seen senders' next messages, in turn (one sender: its next generations)
    seen_msgs = [groups[leaves[i % len(leaves)]].encrypt(PAYLOAD) for i in range(reps + 1)]
    out: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    for name in storages:
        make = STORAGES[name]

        def seen(g: Group, i: int) -> None:
            assert _data(g.process(seen_msgs[i])) == PAYLOAD

        def new(g: Group, i: int) -> None:
            assert _data(g.process(rcv.first_msg)) == PAYLOAD

        def own(g: Group, i: int) -> None:
            g.encrypt(PAYLOAD)

        out.append((f"app_decrypt_{name}", time_with_storage(rcv.state, seen, make, reps), {}))
        out.append(
            (
                f"app_decrypt_new_{name}",
                time_with_storage(rcv.first_state, new, make, reps, sequential=False, prime=lambda g: own(g, 0)),
                {"senders": len(rcv.senders) - 1},
            )
        )
        out.append((f"app_encrypt_{name}", time_with_storage(send_state, own, make, reps), {}))
    return out


def _receiver_with_senders(sc: GroupScenario, senders: int) -> Receiver:
    """See :class:`Receiver`."""
    n = sc.n
    recv = Group(sc.far.state)
    prev, last = recv.state, b""
    base = sc.near.state
    bundles = {i: b for i, (_, b) in enumerate(sc.key_packages, start=1)}
    leaves = [i for i in range(n) if i != n - 1][:senders]
    sender_states: dict[int, GroupState] = {}
    for leaf in leaves:
        if leaf == 0:
            st = sc.committer.state
        elif leaf == 1:
            st = base
        elif not base.private.path_keys:
            st = joined_state(base, leaf, bundles[leaf])
        else:  # populated tree: a sender-only state (own leaf and signature key; no path keys)
            b = bundles[leaf]
            st = replace(base, private=PrivateTree(leaf, b.encryption_priv, b.signature_priv))
        g = Group(st)
        prev, last = recv.state, g.encrypt(PAYLOAD)
        recv.process(last)
        sender_states[leaf] = g.state
    return Receiver(recv.state, sender_states, prev, last)


def _data(r: ProcessedMessage) -> bytes:
    """The plaintext of an application message (anything else is a bug of the benchmark)."""
    assert isinstance(r, ApplicationMessage), r
    return r.data


def bench_group(
    suite: CipherSuite,
    n: int,
    *,
    senders: int,
    reps: int,
    shape: str = "sparse",
    remove: bool = True,
    storages: Sequence[str] = (),
    storage_reps: int | None = None,
) -> list[dict[str, Any]]:
    """Rows for one (suite, N): app_decrypt, app_encrypt, [with each of ``storages``: see
    :func:`bench_storage`], jump_1000, past_epoch, remove_commit."""
    t0 = time.perf_counter()
    want: dict[str, Any] = {"max_skip": max(1000, GroupOptions().max_skip)}
    if hasattr(GroupOptions(), "max_past_epochs"):  # (so the module also runs on older trees)
        want["max_past_epochs"] = max(1, GroupOptions().max_past_epochs)
    opts = GroupOptions(**want)
    sc = GroupScenario.build(suite, n, shape=shape, options=opts)
    build_s = time.perf_counter() - t0
    s = min(senders, n - 1)
    rcv = _receiver_with_senders(sc, s)
    recv_state, sender_states = rcv.state, rcv.senders
    leaf = next(iter(sender_states))
    sender = Group(sender_states[leaf])
    msg = sender.encrypt(PAYLOAD)
    base = {"suite": f"0x{suite.id:04x}", "n": n, "senders": s, "shape": shape, "build_s": round(build_s, 3)}
    rows: list[dict[str, Any]] = []

    def row(op: str, stats: dict[str, Any], **extra: Any) -> None:
        rows.append({**base, "op": op, **stats, **extra})

    def decrypt() -> None:
        assert _data(Group(recv_state).process(msg)) == PAYLOAD

    row("app_decrypt", time_op(decrypt, reps, batch=50))
    warm = Group(recv_state)
    warm.encrypt(PAYLOAD)  # its own ratchet exists: the steady state, not the epoch's first message
    send_state = warm.state
    row("app_encrypt", time_op(lambda: Group(send_state).encrypt(PAYLOAD), reps, batch=50))
    for op, stats, extra in bench_storage(rcv, send_state, storages=storages, reps=storage_reps or reps):
        row(op, stats, **extra)

    # generation jump: the sender's 1001st message from now, 1000 ahead of the receiver
    jumper = Group(sender.state)
    for _ in range(999):
        jumper.encrypt(PAYLOAD)
    far_msg = jumper.encrypt(PAYLOAD)
    row("jump_1000", time_op(lambda: Group(recv_state).process(far_msg), reps, batch=3))

    # a message of the previous epoch, read after an Add commit (no UpdatePath needed)
    kp, _ = Client.generate(suite, b"late-add").key_package()
    late = Group(sender.state).encrypt(PAYLOAD)
    committer = Group(sc.committer.state)
    add = committer.commit(add=[kp], ratchet_tree_extension=False)
    after = Group(recv_state)
    staged = after.process(add.commit)
    assert isinstance(staged, StagedCommit)
    staged.merge()
    after_state = after.state
    try:
        row("past_epoch", time_op(lambda: Group(after_state).process(late), reps, batch=20))
    except MLSError as e:  # an engine without past-epoch secret trees
        row("past_epoch", {"median_s": float("nan"), "iqr_s": float("nan"), "error": type(e).__name__})

    if remove and n > 2:
        st0 = sc.committer.state
        row("remove_commit", time_op(lambda: Group(st0).commit(remove=[n - 2], ratchet_tree_extension=False), reps))
    return rows


def storage_rows(
    suite: CipherSuite,
    n: int,
    *,
    senders: int = DEFAULT_SENDERS,
    reps: int = 5,
    storages: Sequence[str] = tuple(STORAGES),  # none, memory, sqlite
    shape: str = "sparse",
) -> list[dict[str, Any]]:
    """Only the rows of :func:`bench_storage` for one (suite, N) (what
    ``tests/storage/bytes_per_message.py`` and the smoke test run)."""
    sc = GroupScenario.build(suite, n, shape=shape, options=GroupOptions())
    s = min(senders, n - 1)
    rcv = _receiver_with_senders(sc, s)
    warm = Group(rcv.state)
    warm.encrypt(PAYLOAD)
    base = {"suite": f"0x{suite.id:04x}", "n": n, "senders": s, "shape": shape}
    return [
        {**base, "op": op, **stats, **extra}
        for op, stats, extra in bench_storage(rcv, warm.state, storages=storages, reps=reps)
    ]


def bench_bulk_add(suite: CipherSuite, ks: Sequence[int], *, reps: int) -> list[dict[str, Any]]:
    """Rows for one Commit adding K members (Welcome with the ratchet_tree extension)."""
    kmax = max(ks)
    kps = [Client.generate(suite, identity(i)).key_package()[0] for i in range(1, kmax + 1)]
    c0 = Client.generate(suite, identity(0))
    st = Group.create(suite, b"mls-pq-bench-bulk", c0.credential, c0.signature_priv).state
    rows = []
    for k in ks:
        batch = kps[:k]
        stats = time_op(lambda: Group(st).commit(add=batch, ratchet_tree_extension=True), reps)
        rows.append({"suite": f"0x{suite.id:04x}", "op": "bulk_add", "k": k, **stats})
    return rows


def run_steady(
    suites: Sequence[int] = (1,),
    sizes: Sequence[int] = DEFAULT_SIZES,
    *,
    senders: int = DEFAULT_SENDERS,
    bulk: Sequence[int] = DEFAULT_BULK,
    reps: int = 5,
    bulk_reps: int = 3,
    shape: str = "sparse",
    remove: bool = True,
    storages: Sequence[str] = (),
    storage_reps: int | None = None,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run the grid; returns ``{"meta": ..., "rows": [...], "ratios": ...}`` (JSON-ready).
    ``meta`` records the load average before and after and the wall time of the run."""
    rows: list[dict[str, Any]] = []
    t_start, load_before = time.perf_counter(), _loadavg()
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    for sid in suites:
        suite = get_suite(sid)
        # the floor of one ratchet step (one small HKDF-Expand), measured in the same run, so a
        # jump of 1 000 generations can be judged against it on a loaded machine
        prk, info = bytes(suite.n_h), bytes(30)
        floor = time_op(lambda: suite.kdf.expand(prk, info, suite.n_h), reps, batch=2000)
        rows.append({"suite": f"0x{suite.id:04x}", "op": "kdf_expand", "n": 0, "senders": 0, **floor})
        for n in sizes:
            got = bench_group(
                suite, n, senders=senders, reps=reps, shape=shape, remove=remove, storages=storages,
                storage_reps=storage_reps,
            )
            rows.extend(got)
            if log:
                for r in got:
                    log(_fmt(r))
        if bulk:
            got = bench_bulk_add(suite, bulk, reps=bulk_reps)
            rows.extend(got)
            if log:
                for r in got:
                    log(_fmt(r))
    meta = {
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "reps": reps,
        "storage_reps": storage_reps or reps,
        "senders": senders,
        "shape": shape,
        "storages": list(storages),
        "started": started,
        "loadavg_before": load_before,
        "loadavg_after": _loadavg(),
        "wall_s": round(time.perf_counter() - t_start, 1),
    }
    return {"meta": meta, "rows": rows, "ratios": ratios(rows)}


def _loadavg() -> list[float]:
    """1, 5 and 15 minute load averages (the machine may be shared)."""
    return [round(x, 2) for x in os.getloadavg()]


def ratios(rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    """The issue's acceptance ratios that the rows allow (on CPU-time medians): t(N max)/t(N min)
    per op and suite, t(K max)/t(K max / 2) for bulk adds, the jump against 1000 ratchet steps."""
    out: dict[str, float] = {}
    by: dict[tuple[str, str], dict[int, float]] = {}
    for r in rows:
        key = int(r["n"] if "n" in r else r["k"])
        by.setdefault((r["suite"], r["op"]), {})[key] = r.get("cpu_median_s", r["median_s"])
    walls = {(r["suite"], r["op"], r["n"]): r["median_s"] for r in rows if "n" in r}
    for (suite, op), vals in by.items():
        stem, _, kind = op.rpartition("_")
        # a storage against MemoryStorage and no storage (same message, same timing method)
        for against in ("memory", "none") if op.startswith("app_") and kind in ("sqlite", "memory") else ():
            ref = by.get((suite, f"{stem}_{against}"), {})
            for n in sorted(vals):
                if n in ref and against != kind:
                    w_op, w_ref = walls[(suite, op, n)], walls[(suite, f"{stem}_{against}", n)]
                    out[f"{suite} {op} / {against} at N={n} (wall)"] = round(w_op / w_ref, 2)
                    out[f"{suite} {op} / {against} at N={n} (cpu)"] = round(vals[n] / ref[n], 2)
        if op == "kdf_expand":
            jump = by.get((suite, "jump_1000"), {})
            for n, t in sorted(jump.items()):
                out[f"{suite} jump_1000 at N={n} / 1000 kdf_expand"] = round(t / (1000 * vals[0]), 2)
            continue
        lo, hi = min(vals), max(vals)
        if op == "bulk_add" and hi // 2 in vals:
            out[f"{suite} bulk_add t({hi})/t({hi // 2})"] = round(vals[hi] / vals[hi // 2], 3)
        elif op != "bulk_add" and lo != hi:
            out[f"{suite} {op} t({hi})/t({lo})"] = round(vals[hi] / vals[lo], 3)
    return out


def dumps(res: dict[str, Any]) -> str:
    """``res`` as JSON, one row (and one ratio) per line, times rounded to 0.1 µs."""

    def rnd(v: Any) -> Any:
        return round(v, 7) if isinstance(v, float) else v

    rows = ",\n".join(" " + json.dumps({k: rnd(v) for k, v in r.items()}) for r in res["rows"])
    ratios_ = ",\n".join(f" {json.dumps(k)}: {json.dumps(v)}" for k, v in res["ratios"].items())
    return f'{{"meta": {json.dumps(res["meta"])},\n"rows": [\n{rows}\n],\n"ratios": {{\n{ratios_}\n}}}}'


def _fmt(r: dict[str, Any]) -> str:
    where = f"N={r['n']:>6} S={r['senders']:>5}" if "n" in r else f"K={r['k']:>6}"
    cpu = r.get("cpu_median_s", float("nan"))
    written = f"  written {r['bytes_median']:>8.0f} B (IQR {r['bytes_iqr']:.0f})" if "bytes_median" in r else ""
    return (
        f"{r['suite']} {r['op']:<22} {where}  median {r['median_s'] * 1e3:9.3f} ms  IQR {r['iqr_s'] * 1e3:8.3f} ms"
        f"  cpu {cpu * 1e3:9.3f} ms{written}"
    )


def _ints(text: str) -> list[int]:
    return [int(x, 0) for x in text.split(",") if x]


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m mls_pq.bench.steady", description=__doc__.split("\n\n")[0])
    p.add_argument("--suites", default="1", help="comma-separated suite ids (default 1)")
    p.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)), help="group sizes N")
    p.add_argument("--senders", type=int, default=DEFAULT_SENDERS, help="distinct senders seen in the epoch")
    p.add_argument("--bulk", default=",".join(map(str, DEFAULT_BULK)), help="K for the bulk add ('' to skip)")
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--bulk-reps", type=int, default=3)
    p.add_argument("--shape", default="sparse", choices=("sparse", "populated"))
    p.add_argument("--no-remove", action="store_true", help="skip the Remove commit")
    p.add_argument(
        "--storage", default="", help="also time application messages with these storages attached, "
        "comma-separated from 'none,memory,sqlite' (none: no storage, timed like the others; SQLite: WAL, a file in the temporary directory; bytes "
        "written per message from /proc/self/io)"
    )
    p.add_argument("--storage-reps", type=int, help="messages timed per storage figure (default: --reps)")
    p.add_argument("--out", help="write the JSON here (default: stdout)")
    a = p.parse_args(argv)
    unknown = {x for x in a.storage.split(",") if x} - set(STORAGES)
    if unknown:
        p.error(f"--storage: unknown {sorted(unknown)}; choose from {sorted(STORAGES)}")
    res = run_steady(
        _ints(a.suites),
        _ints(a.sizes),
        senders=a.senders,
        bulk=_ints(a.bulk),
        reps=a.reps,
        bulk_reps=a.bulk_reps,
        shape=a.shape,
        remove=not a.no_remove,
        storages=[x for x in a.storage.split(",") if x],
        storage_reps=a.storage_reps,
        log=lambda s: print(s, file=sys.stderr, flush=True),
    )
    text = dumps(res)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")
    else:
        print(text)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
