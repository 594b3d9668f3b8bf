"""``mls-pq bench --combiner T+PQ``: what amortization buys. The APQ-MLS combiner
(draft-ietf-mls-combiner) measured against hybrid and classical suites at the same group size.

A combined group runs a traditional session (suite T) and a pure-PQ session (suite PQ) with the
same members (draft §3). Measured per (pair, N, tree shape), over the real engine:

* **FULL commit** (§3.1, §5.2, §6): a Commit with UpdatePath in the PQ session, then one in the
  traditional session carrying the application PSK proposal (``psk_type = application``,
  component 0x0006, ``apq_psk_id`` from ``SafeExportSecret(0x0006)`` of the new PQ epoch), both
  with the ``new_t_epoch`` + ``new_pq_epoch`` AppDataUpdates of APQInfo (§5.1.1), framed as one
  ``APQMessagePair`` MLSMessage. Octets of that MLSMessage; time to create it (committer) and to
  process it (a member in the other half of the tree: PQ commit, export, traditional commit);
* **PARTIAL commit** (§3.1): one traditional Commit with UpdatePath; octets and times;
* **Welcome pair**: the FULL commit adding one member yields one Welcome per session, framed as an
  ``APQMessagePair`` (wire format ``mls_welcome``); octets, and the time to join both sessions
  (PQ first, then the traditional one with the apq_psk from the joined PQ epoch, §3.2);
* the **amortized cost per commit when every k-th commit is FULL**:
  ``(FULL + (k-1) * PARTIAL) / k`` for bytes, create time and process time (k = 1, 10, 100);
* side by side: the same figures (Commit with UpdatePath, process, Welcome, join) for each
  comparison suite (default: the hybrid X-Wing suite 0xF001 and classical suite 0x0001), whose
  every commit pays the same price.

Trees are built as in :mod:`mls_pq.bench.scenarios` (bulk add of N-1 members, the "populated"
shape fills the committer's copath), in both sessions (see :class:`CombinedScenario`). The operations run from fixed immutable states (fresh :class:`~mls_pq.group.Group` handles per
run), as every other benchmark operation. Every size is checked against the exact size model
(:func:`mls_pq.bench.model.apq_model_sizes`), every time carries the usual reliability flags
(:mod:`mls_pq.bench.reliability`).

Every measured operation runs :class:`~mls_pq.apq.group.APQGroup` (``commit(full=...)``,
``process``, ``join``) with all its checks, on fresh handles of fixed states. Only the synthetic
N-member trees are built on the two underlying Groups (:class:`CombinedScenario`): APQGroup's
public API builds groups member by member, with the whole tree in every Welcome.
Written by hand: no library benchmarks MLS combiners.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..apq.client import APQKeyPackage, APQKeyPackageBundle, apq_registry, session_capabilities, session_leaf_extensions
from ..apq.group import APQCommitOutput, APQGroup, session_config, session_extensions
from ..apq.key_schedule import apq_psk_from_exporter, apq_psk_id
from ..apq.structs import APQ_COMPONENT_ID, APQInfo, APQInfoUpdate, APQMessagePair
from ..apq.suites import check_suite_pair, signature_class
from ..client import Client
from ..cliutil import UsageError, parse_sizes, parse_suites
from ..group import Group, GroupState
from ..group.welcome import KeyPackageBundle
from ..messages.app_data import AppDataUpdate
from ..messages.proposals import Proposal
from ..suites import CipherSuite, get_suite
from . import measure as M
from . import reliability as R
from .config import DEFAULT_PAYLOAD, SHAPES
from .scenarios import NEW_MEMBER_IDENTITY, GroupScenario, joined_state

#: the group ids of the two sessions (16 octets, as APQGroup.create draws them by default)
T_GROUP_ID = b"mls-pq-bench-t-s"
PQ_GROUP_ID = b"mls-pq-bench-pq-"
#: the combined group's components (APQInfo handler with the §7.1 suite policy) and configuration
REGISTRY = apq_registry()
CONFIG = session_config(None, REGISTRY)
#: the amortization periods: a FULL commit every k commits
KS = (1, 10, 100)
#: comparison suites: hybrid X-Wing (ML-KEM-768 + X25519) and classical suite 1
DEFAULT_COMPARE = (0xF001, 0x0001)


def parse_pair(spec: str, profile: str | None = None) -> tuple[int, int]:
    """``"0x0001+0xF006"`` (ids, names or aliases as ``--suites`` takes them) -> (T, PQ); the pair
    must be a valid APQ-MLS suite pair in the mode of the PQ suite's signature (§7.1)."""
    parts = spec.split("+")
    if len(parts) != 2 or not all(p.strip() for p in parts):
        raise UsageError(f"--combiner: expected TRADITIONAL+PQ (e.g. 0x0001+0xF006), got {spec!r}")
    (t,) = parse_suites([parts[0].strip()], profile)[:1]
    (pq,) = parse_suites([parts[1].strip()], profile)[:1]
    try:
        check_suite_pair(t, pq, pair_mode(pq, profile), get=lambda s: get_suite(s, profile))
    except Exception as e:  # noqa: BLE001  # a typed DraftValidationError / UnsupportedCipherSuite
        raise UsageError(f"--combiner {spec}: {e}") from None
    return t, pq


def pair_mode(pq: int, profile: str | None = None) -> bool:
    """The mode of a pair: 1 (PQ/T confidentiality + authenticity, §4.2) when the PQ suite signs
    with ML-DSA / SLH-DSA, else 0 (§4.1) — what :meth:`APQGroup.create` chooses too."""
    return signature_class(get_suite(pq, profile)) == "pq"


# ---- the two sessions ------------------------------------------------------------------------------


def _handle(state: GroupState) -> Group:
    """A fresh Group handle on an immutable state with the combiner's component registered."""
    return Group(state, config=CONFIG)


def apq(t: GroupState, pq: GroupState) -> APQGroup:
    """A fresh :class:`APQGroup` on the two sessions' immutable states."""
    return APQGroup(_handle(t), _handle(pq), registry=REGISTRY)


def _key_package(client: Client) -> tuple[bytes, KeyPackageBundle]:
    return client.key_package(capabilities=session_capabilities(client),
                              leaf_extensions=session_leaf_extensions(REGISTRY))


def _new_session(suite: CipherSuite, group_id: bytes, n: int, payload: int) -> GroupScenario:
    """A one-member session (leaf 0) with what :meth:`APQGroup.create` gives a session: its
    GroupContext extensions, capabilities and leaf extensions."""
    sc = GroupScenario(suite, n, payload, shape="sparse")
    c0 = sc._client(0)
    sc.committer = Group.create(suite, group_id, c0.credential, c0.signature_priv,
                                capabilities=session_capabilities(c0), extensions=session_extensions(),
                                leaf_extensions=session_leaf_extensions(REGISTRY), config=CONFIG)
    sc.actors[0] = sc.committer
    return sc


def full_by_hand(t: Group, pq: Group, updates: Sequence[APQInfoUpdate], *, add_t: Sequence[bytes] = (),
                 add_pq: Sequence[bytes] = (), ratchet_tree_extension: bool | None = None) -> tuple[Any, Any]:
    """A FULL commit on the two Groups by hand, for building the synthetic groups only (the
    measured ones are :meth:`APQGroup.commit`'s): PQ commit, apq_psk from its pending epoch,
    traditional commit with the apq_psk proposal, both with the APQInfo ``updates`` (§3.1,
    §5.1.1, §5.2); no UpdatePath unless required. Both stay pending; returns the two
    CommitOutputs."""
    props = [Proposal(AppDataUpdate.make_update(APQ_COMPONENT_ID, u.to_bytes())) for u in updates]
    pq_out = pq.commit(proposals=props, add=add_pq, ratchet_tree_extension=ratchet_tree_extension)
    psk_id, psk = apq_psk_from_exporter(t.suite, pq.pending_safe_export_secret(APQ_COMPONENT_ID))
    t.application_psks[(APQ_COMPONENT_ID, psk_id)] = psk
    t_out = t.commit(psks=[apq_psk_id(psk_id, os.urandom(t.suite.n_h))], proposals=props, add=add_t,
                     ratchet_tree_extension=ratchet_tree_extension)
    return t_out, pq_out


@dataclass
class CombinedScenario:
    """A combined group of ``n`` members: :attr:`t` and :attr:`pq` are the two sessions' scenarios
    (same members and identities, same acting leaves), with APQInfo in both GroupContexts. The
    measured operations run :class:`APQGroup` on fresh handles of the acting members' states.

    Building (not timed), as :meth:`GroupScenario.build` does for one session: both sessions
    are created at one member and APQInfo is put into both by a first FULL commit
    (``full_update``, what :meth:`APQGroup.create` does); one FULL commit then adds the other
    N-1 members to both sessions (tree out of band); one member per session really joins from
    its Welcome, the other acting members by :func:`joined_state`. The populated shape: the
    members at leaves 2^k commit in both sessions (:meth:`GroupScenario.populate`), then leaf 0
    sends one FULL commit without UpdatePath through :meth:`APQGroup.commit` that brings
    APQInfo's epochs up to date (the shape of the trees is what matters; a real group would
    have sent those commits as FULL commits)."""

    t: GroupScenario
    pq: GroupScenario
    mode: bool
    n: int
    shape: str = "sparse"
    artefacts: dict[str, bytes] = field(default_factory=dict)

    @classmethod
    def build(cls, t_suite: CipherSuite, pq_suite: CipherSuite, n: int, *, shape: str = "sparse",
              populate_later: bool = False, payload: int = DEFAULT_PAYLOAD) -> CombinedScenario:
        if shape not in SHAPES:
            raise ValueError(f"shape must be one of {SHAPES}")
        if n < 2:
            raise ValueError("a benchmark group needs at least 2 members")
        mode = signature_class(pq_suite) == "pq"
        pq = _new_session(pq_suite, PQ_GROUP_ID, n, payload)
        t = _new_session(t_suite, T_GROUP_ID, n, payload)
        info = APQInfo(T_GROUP_ID, PQ_GROUP_ID, mode, t_suite.id, pq_suite.id, 1, 1)
        full_by_hand(t.committer, pq.committer, [APQInfoUpdate.full(info)])
        pq.committer.merge_pending_commit()
        t.committer.merge_pending_commit()
        for sc in (pq, t):
            sc.key_packages = [_key_package(sc._client(i)) for i in range(1, n)]
        t_out, pq_out = full_by_hand(
            t.committer, pq.committer, [APQInfoUpdate.t_epoch(2), APQInfoUpdate.pq_epoch(2)],
            add_t=[kp for kp, _ in t.key_packages], add_pq=[kp for kp, _ in pq.key_packages],
            ratchet_tree_extension=False)
        pq.committer.merge_pending_commit()
        t.committer.merge_pending_commit()
        want = [i for i in t.acting_leaves(shape) if i != 0]
        for sc, out in ((pq, pq_out), (t, t_out)):
            assert out.welcome is not None
            bundles = {i: b for i, (_, b) in enumerate(sc.key_packages, start=1)}
            first = Group.join(out.welcome, bundles[want[0]], ratchet_tree=sc.committer.ratchet_tree(),
                               suite=sc.suite, config=CONFIG, application_psks=dict(t.committer.application_psks))
            sc.actors[want[0]] = first
            for i in want[1:]:
                sc.actors[i] = _handle(joined_state(first.state, i, bundles[i]))
        combined = cls(t, pq, mode, n)
        if shape == "populated" and not populate_later:
            combined.populate()
        return combined

    def populate(self) -> None:
        """The populated shape (class docstring): copath of leaf 0 filled in both sessions, then
        one FULL commit of leaf 0 (no UpdatePath, through APQGroup) processed by the measured
        members; the other acting members are dropped."""
        self.pq.populate()
        self.t.populate()
        keep = self.t.measured_leaves()
        g0 = APQGroup(self.t.committer, self.pq.committer, registry=REGISTRY)
        out = g0.commit(full=True, path=False)
        for i in keep:
            if i != 0:
                APQGroup(self.t.actors[i], self.pq.actors[i], registry=REGISTRY).process(out.commit)
        g0.merge_pending_commit()
        for sc in (self.t, self.pq):
            sc.actors = {i: g for i, g in sc.actors.items() if i in keep}
        self.shape = "populated"

    def warm(self) -> None:
        self.t.warm()
        self.pq.warm()

    @property
    def far(self) -> int:
        return self.n - 1

    def _states(self, leaf: int) -> tuple[GroupState, GroupState]:
        return self.t.actors[leaf].state, self.pq.actors[leaf].state

    def add_commit(self) -> tuple[APQCommitOutput, APQKeyPackageBundle]:
        """A FULL commit adding one member (no UpdatePath, as the suites' Welcome) at leaf 0."""
        (t_kp, t_b), (p_kp, p_b) = (_key_package(Client.generate(s, NEW_MEMBER_IDENTITY))
                                    for s in (self.t.suite, self.pq.suite))
        out = apq(*self._states(0)).commit(full=True, add=[APQKeyPackage(t_kp, p_kp)], path=False)
        return out, APQKeyPackageBundle(t_b, p_b)

    def ops(self) -> dict[str, Callable[[], Any]]:
        """The timed operations, from the current states, all through :class:`APQGroup`:
        ``full_create``, ``full_process`` (at leaf N-1), ``partial_create``,
        ``partial_process``, ``join`` (both sessions from the Welcome pair, with the joiner's
        checks of §3.2.1)."""
        s0, sf = self._states(0), self._states(self.far)
        full = apq(*s0).commit(full=True).commit
        partial = apq(*s0).commit(full=False).commit
        add, bundle = self.add_commit()
        assert add.welcome is not None
        welcome = add.welcome

        def join() -> APQGroup:
            g = APQGroup.join(welcome, bundle, registry=REGISTRY)
            assert g.epochs == (s0[0].epoch + 1, s0[1].epoch + 1)
            return g

        return {
            "full_create": lambda: apq(*s0).commit(full=True),
            "full_process": lambda: apq(*sf).process(full),
            "partial_create": lambda: apq(*s0).commit(full=False),
            "partial_process": lambda: apq(*sf).process(partial),
            "join": join,
        }

    def sizes(self) -> dict[str, int]:
        """Octets of the FULL commit pair, the PARTIAL commit and the Welcome pair (and of their
        halves); the messages are kept in :attr:`artefacts`."""
        s0 = self._states(0)
        full = apq(*s0).commit(full=True)
        partial = apq(*s0).commit(full=False)
        add, _ = self.add_commit()
        assert full.pq_commit is not None and add.welcome is not None
        w = APQMessagePair.from_mls_message(add.welcome)
        self.artefacts = {
            "full_commit": full.commit, "full_commit.t": full.t_commit, "full_commit.pq": full.pq_commit,
            "partial_commit": partial.commit, "welcome_pair": add.welcome,
            "welcome_pair.t": w.t_message.to_bytes(), "welcome_pair.pq": w.pq_message.to_bytes(),
        }
        return {k: len(v) for k, v in self.artefacts.items()}


# ---- measuring -------------------------------------------------------------------------------------


@dataclass
class CombinerConfig:
    """One ``--combiner`` run: suite pairs, comparison suites, sizes, shapes, repetitions."""

    pairs: list[tuple[int, int]]
    compare: list[int] = field(default_factory=lambda: list(DEFAULT_COMPARE))
    sizes: list[int] = field(default_factory=lambda: [2, 32])
    shapes: list[str] = field(default_factory=lambda: list(SHAPES))
    ks: list[int] = field(default_factory=lambda: list(KS))
    reps: int = 5
    target: float = 0.05
    budget: float = 0.5
    warmup: int = 1
    cold: bool = True
    profile: str | None = None
    #: per (system, N): fewer repetitions at or above this N (a 10 000-member FULL commit takes
    #: seconds); None: no reduction
    large_n: int | None = 4096
    large_reps: int = 3
    large_budget: float = 0.0
    #: the time the amortized costs, tables and answer use: "wall" (the benchmark's usual) or
    #: "cpu" (this process's CPU time per run: robust to other processes on a shared machine)
    basis: str = "wall"


def _system(kind: str, suites: Sequence[CipherSuite], mode: bool | None = None) -> dict[str, Any]:
    if kind == "combiner":
        t, pq = suites
        return {"system": f"0x{t.id:04x}+0x{pq.id:04x}", "kind_of": "combiner", "mode": int(bool(mode)),
                "suite": pq.id, "suite_hex": f"0x{t.id:04x}+0x{pq.id:04x}",
                "suite_name": f"{t.name} + {pq.name}", "t_suite": t.id, "pq_suite": pq.id}
    (s,) = suites
    return {"system": f"0x{s.id:04x}", "kind_of": "suite", "suite": s.id, "suite_hex": f"0x{s.id:04x}",
            "suite_name": s.name}


def _time_row(base: dict[str, Any], metric: str, run: Callable[[], Any], cfg: CombinerConfig, n: int,
              before: Callable[[], None] | None) -> dict[str, Any]:
    large = cfg.large_n is not None and n >= cfg.large_n
    reps = min(cfg.reps, cfg.large_reps) if large else cfg.reps
    budget = min(cfg.budget, cfg.large_budget) if large else cfg.budget
    t0 = time.perf_counter()
    run()  # the first warm-up run (and a check that it works)
    first = time.perf_counter() - t0
    cpu: list[float] = []

    def timed() -> Any:  # also this process's CPU time per run: robust to other processes' load
        c0 = time.process_time()
        r = run()
        cpu.append(time.process_time() - c0)
        return r

    timing = M.time_adaptive(timed, reps, target=cfg.target, budget=budget, warmup=max(cfg.warmup - 1, 0),
                             warmup_time=0.0 if first > 0.05 else 0.005, min_total=0.0 if large else 0.01,
                             before=before)
    st = M.summarize(timing.samples)
    cpu_samples = cpu[-len(timing.samples):]  # the last runs are the timed ones (warm-up runs come first)
    cst = M.summarize(cpu_samples)
    row: dict[str, Any] = {**base, "metric": metric, "kind": "time", "unit": "s", "source": "measured",
                           **st.as_dict(), "rel_iqr": M.rel_spread(timing.samples),
                           "ci_rel": M.median_ci_rel(timing.samples), "cpu_share": timing.cpu_share,
                           "figure_wall_s": timing.wall_s,
                           "cpu_median": cst.median, "cpu_q1": cst.q1, "cpu_q3": cst.q3,
                           "cpu_rel_iqr": M.rel_spread(cpu_samples), "cpu_ci_rel": M.median_ci_rel(cpu_samples)}
    row["flags"] = R.figure_flags(row)
    return row


def _size_row(base: dict[str, Any], metric: str, measured: int, lo: int | None, hi: int | None,
              model: int | None) -> dict[str, Any]:
    return {**base, "metric": metric, "kind": "size", "unit": "B", "source": "measured", "median": measured,
            "model": model, "model_lo": lo, "model_hi": hi,
            "model_ok": lo is not None and hi is not None and lo <= measured <= hi, "flags": []}


def _clearer(suites: Iterable[CipherSuite], cold: bool) -> Callable[[], None] | None:
    fns = [f for s in suites for f in M.cache_clearers(s)] if cold else []
    if not fns:
        return None

    def clear() -> None:
        for f in fns:
            f()

    return clear


def measure_combined(sc: CombinedScenario, cfg: CombinerConfig) -> list[dict[str, Any]]:
    """Size and time rows of one combined scenario at its current shape."""
    from .model import apq_model_sizes, apq_sig_range

    ts, ps = sc.t.suite, sc.pq.suite
    base = {**_system("combiner", [ts, ps], sc.mode), "n": sc.n, "shape": sc.shape}
    sc.warm()
    rows = []
    sizes = sc.sizes()
    gt, gp = len(T_GROUP_ID), len(PQ_GROUP_ID)
    nominal_model = apq_model_sizes(ts, ps, sc.n, sc.shape, t_group_id=gt, pq_group_id=gp)
    rng = apq_sig_range(ts, ps, sc.n, sc.shape, t_group_id=gt, pq_group_id=gp)
    for metric, v in sizes.items():
        rows.append(_size_row(base, metric, v, *rng[metric], nominal_model[metric]))
    before = _clearer([ts, ps], cfg.cold)
    for metric, run in sc.ops().items():
        rows.append(_time_row(base, metric, run, cfg, sc.n, before))
    return rows


def measure_suite(sc: GroupScenario, cfg: CombinerConfig) -> list[dict[str, Any]]:
    """The comparison suite's figures: Commit with UpdatePath (PublicMessage) created at leaf 0
    and processed at the far member, Welcome (with the ratchet_tree extension) and join."""
    from .model import model_sizes, sig_range

    cs = sc.suite
    base = {**_system("suite", [cs]), "n": sc.n, "shape": sc.shape}
    sc.warm()
    st0 = sc.committer.state
    upd = Group(st0).commit(path=True).commit
    kp_new, _ = Client.generate(cs, NEW_MEMBER_IDENTITY).key_package()
    add = Group(st0).commit(add=[kp_new])
    assert add.welcome is not None
    mod = model_sizes(cs, sc.n, sc.shape)
    rng = sig_range(cs, sc.n, sc.shape)
    rows = []
    for metric, src, v in (("commit", "update_commit_public", len(upd)), ("welcome", "welcome_tree", len(add.welcome))):
        rows.append(_size_row(base, metric, v, *rng[src], mod[src]))
    ops = sc.ops()
    before = _clearer([cs], cfg.cold)
    for metric, src in (("commit_create", "update_commit"), ("commit_process", "process_far"), ("join", "join")):
        rows.append(_time_row(base, metric, ops[src].run, cfg, sc.n, before))
    return rows


def _time_of(r: dict[str, Any], basis: str) -> float:
    return float(r["cpu_median"] if basis == "cpu" else r["median"])


def _flags_of(r: dict[str, Any], basis: str) -> list[str]:
    """A figure's flags on the time basis: for CPU time, ``spread`` of the CPU-time samples
    (and ``cpu``: other processes shared the CPU, which still slows a run through caches)."""
    if basis != "cpu" or r.get("kind") != "time":
        return list(r.get("flags") or [])
    out = ["spread"] if (r.get("cpu_ci_rel") or 0.0) > R.SPREAD_LIMIT else []
    return out + [f for f in r.get("flags") or [] if f == "cpu"]


def amortized(rows: Sequence[dict[str, Any]], ks: Sequence[int], basis: str = "wall") -> list[dict[str, Any]]:
    """Per (system, N, shape) and k: the cost per commit when every k-th commit is FULL,
    ``(FULL + (k-1) * PARTIAL) / k``, for bytes, create and process time (and their sum); for a
    plain suite every commit costs the same (k does not matter). Times are wall-clock medians
    (``basis="wall"``, the benchmark's usual) or this process's CPU-time medians (``"cpu"``, for
    a shared machine). An amortized time carries the flags of the figures it is made of."""
    idx: dict[tuple[str, int, str], dict[str, dict[str, Any]]] = {}
    for r in rows:
        idx.setdefault((r["system"], r["n"], r["shape"]), {})[r["metric"]] = r
    out = []
    for (system, n, shape), m in idx.items():
        first = next(iter(m.values()))
        info: dict[str, Any] = {k: first[k] for k in ("system", "kind_of", "suite_hex", "suite_name") if k in first}
        if "mode" in first:
            info["mode"] = first["mode"]
        need: tuple[str, ...]
        if first["kind_of"] == "combiner":
            need = ("full_commit", "partial_commit", "full_create", "partial_create", "full_process",
                    "partial_process")
            if not all(x in m for x in need):
                continue
            parts = {"bytes": ("full_commit", "partial_commit"), "create_s": ("full_create", "partial_create"),
                     "process_s": ("full_process", "partial_process")}
        else:
            need = ("commit", "commit_create", "commit_process")
            if not all(x in m for x in need):
                continue
            parts = {"bytes": ("commit", "commit"), "create_s": ("commit_create", "commit_create"),
                     "process_s": ("commit_process", "commit_process")}
        for k in ks:
            row: dict[str, Any] = {**info, "n": n, "shape": shape, "k": k, "basis": basis}
            flags: set[str] = set()
            for name, (full, partial) in parts.items():
                b = "bytes" if name == "bytes" else basis
                row[name] = (_time_of(m[full], b) + (k - 1) * _time_of(m[partial], b)) / k
                flags.update(_flags_of(m[full], b))
                if k > 1:
                    flags.update(_flags_of(m[partial], b))
            row["total_s"] = row["create_s"] + row["process_s"]
            row["flags"] = sorted(flags)
            out.append(row)
    return out


def run(cfg: CombinerConfig, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Measure every pair and comparison suite at every N and shape; the results document."""
    t_start = time.perf_counter()
    monitor = R.MachineMonitor.start()
    rows: list[dict[str, Any]] = []
    shapes = [s for s in SHAPES if s in cfg.shapes]
    populated = "populated" in shapes
    interrupted = False

    def say(msg: str) -> None:
        if progress:
            progress(msg)

    try:
        for n in cfg.sizes:
            for t_id, pq_id in cfg.pairs:
                ts, ps = get_suite(t_id, cfg.profile), get_suite(pq_id, cfg.profile)
                say(f"0x{t_id:04x}+0x{pq_id:04x} N={n}: building both sessions (not timed)")
                csc = CombinedScenario.build(ts, ps, n, shape="populated" if populated else "sparse",
                                             populate_later=True)
                for shape in shapes:
                    if shape == "populated":
                        say(f"0x{t_id:04x}+0x{pq_id:04x} N={n}: populating both sessions (not timed)")
                        csc.populate()
                    say(f"0x{t_id:04x}+0x{pq_id:04x} N={n} {shape}: measuring")
                    rows += measure_combined(csc, cfg)
                del csc
            for sid in cfg.compare:
                cs = get_suite(sid, cfg.profile)
                say(f"0x{sid:04x} N={n}: building (not timed)")
                sc = GroupScenario.build(cs, n, shape="populated" if populated else "sparse", populate_later=True)
                for shape in shapes:
                    if shape == "populated":
                        sc.populate()
                    say(f"0x{sid:04x} N={n} {shape}: measuring")
                    rows += measure_suite(sc, cfg)
                del sc
    except KeyboardInterrupt:
        interrupted = True
    machine = R.MachineMonitor.stop(monitor)
    doc: dict[str, Any] = {
        "schema": "mls-pq-bench-combiner/1",
        "complete": not interrupted,
        "machine": M.machine_facts(),
        "config": {**{k: v for k, v in cfg.__dict__.items()},
                   "pairs": [f"0x{t:04x}+0x{p:04x}" for t, p in cfg.pairs],
                   "compare": [f"0x{s:04x}" for s in cfg.compare]},
        "descriptions": DESCRIPTIONS,
        "rows": rows,
        "amortized": amortized(rows, cfg.ks, cfg.basis),
        "reliability": {**machine, "thresholds": {"spread_target": cfg.target, "spread_limit": R.SPREAD_LIMIT,
                                                  "cpu_share_min": R.CPU_SHARE_MIN},
                        "unreliable_figures": sum(1 for r in rows if r.get("flags"))},
        "wall_time_s": time.perf_counter() - t_start,
    }
    doc["answer"] = answer(doc)
    return doc


DESCRIPTIONS = {
    "full_commit": "FULL commit: APQMessagePair MLSMessage of the PQ and the traditional Commit (UpdatePath, "
                   "APQInfo epoch updates, apq_psk proposal in the traditional one), PublicMessages",
    "partial_commit": "PARTIAL commit: traditional Commit with UpdatePath (PublicMessage)",
    "welcome_pair": "APQMessagePair of the two Welcomes (ratchet_tree extension) of a FULL commit adding 1 member",
    "full_create": "create a FULL commit at leaf 0", "full_process": "process a FULL commit at leaf N-1",
    "partial_create": "create a PARTIAL commit at leaf 0", "partial_process": "process it at leaf N-1",
    "join": "join (both sessions for the combiner) from the Welcome (pair)",
    "commit": "Commit with UpdatePath (PublicMessage)", "welcome": "Welcome with the ratchet_tree extension",
    "commit_create": "create a Commit with UpdatePath at leaf 0", "commit_process": "process it at leaf N-1",
}


def answer(doc: dict[str, Any]) -> list[str]:
    """Plain sentences: per combiner pair, shape, N and comparison suite, the smallest measured k
    at which the combiner's cost per commit is below the suite's — bytes, create time, process
    time and their sum — and the ratio combiner / suite at the largest k."""
    am = doc.get("amortized", [])
    if not am:
        return []
    comb = [r for r in am if r["kind_of"] == "combiner"]
    plain = {(r["system"], r["n"], r["shape"]): r for r in am if r["kind_of"] == "suite"}
    keys = sorted({(r["system"], r["shape"], r["n"]) for r in comb})
    out = []
    for system, shape, n in keys:
        mine = sorted((r for r in comb if (r["system"], r["n"], r["shape"]) == (system, n, shape)), key=lambda r: r["k"])
        last = mine[-1]
        for (other, n2, shape2), o in plain.items():
            if (n2, shape2) != (n, shape):
                continue
            parts = []
            for what, key in (("bytes", "bytes"), ("create", "create_s"), ("process", "process_s"),
                              ("create+process", "total_s")):
                ks = [r["k"] for r in mine if r[key] < o[key]]
                ratio = last[key] / o[key] if o[key] else float("nan")
                when = f"from k = {ks[0]}" if ks else f"not at k <= {last['k']}"
                parts.append(f"{what} {when} (x{ratio:.2f} at k = {last['k']})")
            flag = " [figures flagged]" if any(r["flags"] for r in mine) or o["flags"] else ""
            out.append(f"{system} mode {mine[0].get('mode')} vs {other}, N = {n} {shape}: cheaper in "
                       + "; ".join(parts) + flag)
    return out


def markdown(doc: dict[str, Any], shape: str = "populated") -> str:
    """README tables of the cost per commit at every N and k: combiner pairs (k columns) and
    comparison suites (every commit the same), bytes and create + process time."""
    from .report import fmt_bytes, fmt_time

    am = [r for r in doc.get("amortized", []) if r["shape"] == shape]
    ks = sorted({r["k"] for r in am})
    combs = list(dict.fromkeys(r["system"] for r in am if r["kind_of"] == "combiner"))
    suites = list(dict.fromkeys(r["system"] for r in am if r["kind_of"] == "suite"))
    names = {"0xf001": "X-Wing 0xF001", "0x0001": "suite 0x0001"}
    idx = {(r["system"], r["n"], r["k"]): r for r in am}
    head = ["N", "what"]
    for c in combs:
        mode = next(r.get("mode") for r in am if r["system"] == c)
        head += [f"{c} mode {mode}, k = {k}" for k in ks]
    head += [names.get(s, s) for s in suites]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for n in sorted({r["n"] for r in am}):
        for what, key, fmt in (("bytes", "bytes", fmt_bytes), ("create + process", "total_s", fmt_time)):
            cells = [f"{n:,}", what]
            for c in combs:
                for k in ks:
                    r = idx.get((c, n, k))
                    cells.append("–" if r is None else fmt(r[key]) + (R.MARK if r["flags"] and key != "bytes" else ""))
            for sname in suites:
                r = idx.get((sname, n, ks[0]))
                cells.append("–" if r is None else fmt(r[key]) + (R.MARK if r["flags"] and key != "bytes" else ""))
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


# ---- output ----------------------------------------------------------------------------------------


def _cell(r: dict[str, Any] | None, kind: str, basis: str = "wall") -> str:
    from .report import fmt_bytes, fmt_time

    if r is None:
        return "-"
    if kind == "size":
        return fmt_bytes(r["median"]) + ("" if r.get("model_ok", True) else " (model!)")
    rel = r.get("cpu_rel_iqr" if basis == "cpu" else "rel_iqr")
    spread = f" ±{rel / 2:.0%}" if rel else ""
    return fmt_time(_time_of(r, basis)) + spread + (R.MARK if _flags_of(r, basis) else "")


def render(doc: dict[str, Any]) -> str:
    """Plain-text tables: the measured figures, the amortized cost per commit, the answer."""
    from .report import fmt_bytes, fmt_time, machine_line

    lines: list[str] = []
    rows = doc["rows"]
    basis = doc["config"].get("basis", "wall")
    what = "CPU time of this process" if basis == "cpu" else "wall-clock time"
    idx = {(r["system"], r["n"], r["shape"], r["metric"]): r for r in rows}
    systems = list(dict.fromkeys(r["system"] for r in rows))
    ns = sorted({r["n"] for r in rows})
    shapes = [s for s in SHAPES if any(r["shape"] == s for r in rows)]
    head = ["system", "N", "commit B", "PARTIAL B", "Welcome B", "create", "process", "PARTIAL create",
            "PARTIAL process", "join"]
    for shape in shapes:
        lines.append(f"\nMeasured, {shape} tree (combiner: commit = FULL; suites: Commit with UpdatePath); "
                     f"times: median {what}, ±half the IQR")
        table = [head]
        for n in ns:
            for s in systems:
                def g(m: str, s: str = s, n: int = n, shape: str = shape) -> dict[str, Any] | None:
                    return idx.get((s, n, shape, m))

                if g("full_commit") is not None:
                    table.append([s, str(n), _cell(g("full_commit"), "size"), _cell(g("partial_commit"), "size"),
                                  _cell(g("welcome_pair"), "size"), _cell(g("full_create"), "time", basis),
                                  _cell(g("full_process"), "time", basis), _cell(g("partial_create"), "time", basis),
                                  _cell(g("partial_process"), "time", basis), _cell(g("join"), "time", basis)])
                elif g("commit") is not None:
                    table.append([s, str(n), _cell(g("commit"), "size"), "", _cell(g("welcome"), "size"),
                                  _cell(g("commit_create"), "time", basis), _cell(g("commit_process"), "time", basis),
                                  "", "", _cell(g("join"), "time", basis)])
        lines += _table(table)
    am = doc.get("amortized", [])
    ks = sorted({r["k"] for r in am})
    for shape in shapes:
        lines.append(f"\nCost per commit, a FULL commit every k commits, {shape} tree "
                     f"(bytes / create / process, {what}; suites: every commit)")
        table = [["system", "N", *[f"k={k}" for k in ks]]]
        for n in ns:
            for s in systems:
                cells = []
                for k in ks:
                    r = next((x for x in am if (x["system"], x["n"], x["shape"], x["k"]) == (s, n, shape, k)), None)
                    cells.append("-" if r is None else f"{fmt_bytes(r['bytes'])} / {fmt_time(r['create_s'])} / "
                                 f"{fmt_time(r['process_s'])}{R.MARK if r['flags'] else ''}")
                if any(c != "-" for c in cells):
                    table.append([s, str(n), *cells])
        lines += _table(table)
    lines.append("")
    lines += doc.get("answer", [])
    lines.append("")
    lines.append(f"machine: {machine_line(doc)}")
    rel = doc.get("reliability", {})
    bad = [r for r in rows if r["kind"] == "size" and not r.get("model_ok")]
    lines.append(f"sizes: {sum(1 for r in rows if r['kind'] == 'size') - len(bad)} of "
                 f"{sum(1 for r in rows if r['kind'] == 'size')} within the exact size model")
    lines.append(f"{R.MARK} = unreliable figure: " + "; ".join(f"{k}: {v}" for k, v in R.FLAG_TEXT.items()
                                                             if k != "floor"))
    lines.append(f"machine during the run: {R.run_text(rel)}; wall time {doc.get('wall_time_s', 0):.0f} s")
    if basis == "cpu":
        lines.append("times are this process's CPU time per run (time.process_time), robust to other processes "
                     "being scheduled; the flags still say when the machine was shared")
    verdict = R.summary_line(rows, rel)
    lines.append(verdict or "all figures reliable (no flags).")
    return "\n".join(lines)


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]


def config_from_args(args: argparse.Namespace) -> CombinerConfig:
    """The run's configuration from ``mls-pq bench --combiner ...`` arguments."""
    pairs = [parse_pair(p.strip(), args.profile) for spec in args.combiner for p in spec.split(",") if p.strip()]
    if not pairs:
        raise UsageError("--combiner: at least one TRADITIONAL+PQ pair")
    compare = parse_suites(args.suites, args.profile) if args.suites else list(DEFAULT_COMPARE)
    sizes = parse_sizes(args.sizes) if args.sizes else [2, 32, 1024]
    shapes = list(SHAPES) if args.shape in (None, "both") else [args.shape]
    ks = sorted({int(k) for spec in (args.k or []) for k in spec.split(",") if k.strip()}) or list(KS)
    if min(ks) < 1:
        raise UsageError("--k: amortization periods are integers >= 1")
    if args.reps < 1:
        raise UsageError(f"--reps: must be >= 1, got {args.reps}")
    return CombinerConfig(pairs=pairs, compare=compare, sizes=sizes, shapes=shapes, ks=ks, reps=args.reps,
                          target=args.target / 100, budget=args.budget, warmup=args.warmup,
                          cold=not args.warm_caches, profile=args.profile,
                          basis="cpu" if getattr(args, "cpu_time", False) else "wall")


def cmd_combiner(args: argparse.Namespace) -> int:
    """``mls-pq bench --combiner T+PQ[,T+PQ...]``: write combiner.json (and combiner.png), print
    the tables (or the JSON with ``--json``)."""
    from ..cliutil import check_out_dir
    from . import plots, report

    cfg = config_from_args(args)
    out = check_out_dir(args.out)
    quiet = args.quiet or (args.json and not sys.stderr.isatty())
    doc = run(cfg, progress=None if quiet else lambda m: print(m, file=sys.stderr, flush=True))
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "combiner.json"]
    report.write_json(doc, written[0])
    if not args.no_plots and plots.available():
        written += plots.write_combiner_plot(doc, out)
    if args.json:
        json.dump(doc, sys.stdout, indent=1, default=str)
        print()
        return 0
    print(render(doc))
    print("wrote " + ", ".join(str(p) for p in written))
    return 0 if doc["complete"] else 130


__all__ = [
    "CombinedScenario",
    "CombinerConfig",
    "amortized",
    "apq",
    "cmd_combiner",
    "full_by_hand",
    "markdown",
    "parse_pair",
    "render",
    "run",
]
