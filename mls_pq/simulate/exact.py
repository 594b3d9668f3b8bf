"""Exact mode: the real engine for every event of a group (RFC 9420 §6, §12).

A :class:`Fixture` is a real group of ``n`` members over a policy's suite and wire format,
built by :class:`~mls_pq.bench.scenarios.GroupScenario` (populated tree: every copath node
of the committer is a non-blank parent). Each event method performs one event with real
engine calls and returns the real wire bytes' lengths and the CPU seconds (thread time,
garbage collector off during the call) of every call:

* ``app()``: the sender (member 0's state) encrypts one application message, a receiver
  (the member at leaf n-1) decrypts it; sender and receiver ratchets advance (§9);
* ``update()``: an empty Commit with an UpdatePath (§12.4), processed by the receiver;
* ``add()``: the joiner generates a KeyPackage (§10), the admin commits its Add and the
  Welcome (§12.4.3.1), the receiver processes the Commit, the joiner joins (with the
  ratchet tree in the Welcome or, out of band, from the admin's new tree);
* ``remove()``: the admin removes leaf 1 (a Commit with a path, §12.3), processed by the receiver;
* ``external()``: a late joiner downloads the GroupInfo (§12.4.3.2) and joins by an external
  Commit, which the receiver processes.

A combiner policy's group is a :class:`CombinedFixture` (the same events through
:class:`~mls_pq.apq.group.APQGroup`, plus ``full()``: a FULL commit).

Commits, Welcomes and external joins start from the group's steady state (they are not
merged), as the model assumes (:mod:`mls_pq.simulate.events`). :func:`run_group` replays
every event of a group and attributes costs to members like the model does
(:func:`mls_pq.simulate.model.member_costs`), with real values in place of the model's.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from ..bench.scenarios import GroupScenario
from ..client import Client
from ..group import ApplicationMessage, Group, GroupConfig, GroupOptions, StagedCommit
from ..messages.framing_structs import WireFormat
from ..suites import CipherSuite
from .events import GroupEvents
from .workload import Policy

if TYPE_CHECKING:
    from ..apq.group import APQGroup

T = TypeVar("T")

#: every timed operation (CPU seconds per call); ``full_commit``/``process_full``: combined groups only
OPS = (
    "app_encrypt", "app_decrypt", "update_commit", "process_update", "kp_gen", "add_commit", "process_add",
    "join", "remove_commit", "process_remove", "external_join", "process_external", "full_commit", "process_full",
)
#: every size (octets) an event produces (``full``: combined groups only)
SIZES = ("app", "update", "kp", "add", "welcome", "remove", "group_info", "external", "full")


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    """(result, CPU seconds of this thread) of one call, garbage collector off during it."""
    was = gc.isenabled()
    gc.disable()
    try:
        t0 = time.thread_time()
        r = fn()
        t = time.thread_time() - t0
    finally:
        if was:
            gc.enable()
    return r, t


def receive_commit(g: Group, data: bytes) -> StagedCommit:
    """A member receives a commit: process (verify and stage) then merge (RFC 9420 §12.4.2)."""
    staged = g.process(data)
    if not isinstance(staged, StagedCommit):
        raise TypeError(f"expected a commit, got {type(staged).__name__}")
    staged.merge()
    return staged


def options_of(policy: Policy) -> GroupOptions:
    wf = WireFormat.PUBLIC_MESSAGE if policy.commits == "public" else WireFormat.PRIVATE_MESSAGE
    return GroupOptions(handshake_wire_format=int(wf), ratchet_tree_extension=policy.ratchet_tree == "welcome")


class Fixture:
    """A real group of ``n`` members for one policy (module docstring)."""

    def __init__(self, suite: CipherSuite, policy: Policy, n: int, payload: int = 100) -> None:
        if n < 2:
            raise ValueError("a simulated group has at least 2 members")
        self.suite, self.policy, self.n = suite, policy, n
        self.payload = bytes(payload)
        self.options = options_of(policy)
        self.wire_format = self.options.handshake_wire_format
        self.tree_in_welcome = policy.ratchet_tree == "welcome"
        sc = GroupScenario.build(suite, n, shape="populated", payload=payload, options=self.options)
        sc.warm()
        self.st0 = sc.committer.state
        self.st_r = sc.far.state
        self.sender = Group(self.st0)
        self.receiver = Group(self.st_r)
        self.joiner = Client.generate(suite, b"n0000000")
        self.late = Client.generate(suite, b"x0000000")
        self._gi: tuple[bytes, bytes | None] | None = None
        self.warm()

    def warm(self) -> None:
        """Run every event once, untimed: the first calls of an operation in a process are
        slower (interpreter and key caches); exact mode and calibration both start warm."""
        self.app()
        self.update()
        self.add()
        self.external()
        if self.n >= 3:
            self.remove()

    def set_payload(self, payload: int) -> None:
        self.payload = bytes(payload)

    def state_bytes(self) -> int:
        """Octets of a member's serialised state (:meth:`Group.to_bytes`) in the steady state."""
        return len(Group(self.st_r).to_bytes())

    def app(self) -> tuple[dict[str, int], dict[str, float]]:
        ct, te = timed(lambda: self.sender.encrypt(self.payload))
        r, td = timed(lambda: self.receiver.process(ct))
        assert isinstance(r, ApplicationMessage)
        return {"app": len(ct)}, {"app_encrypt": te, "app_decrypt": td}

    def update(self) -> tuple[dict[str, int], dict[str, float]]:
        g = Group(self.st0)
        out, tc = timed(lambda: g.commit(path=True, wire_format=self.wire_format))
        rg = Group(self.st_r)
        r, tp = timed(lambda: receive_commit(rg, out.commit))
        return {"update": len(out.commit)}, {"update_commit": tc, "process_update": tp}

    def add(self) -> tuple[dict[str, int], dict[str, float]]:
        (kp, bundle), tk = timed(self.joiner.key_package)
        g = Group(self.st0)
        out, tc = timed(lambda: g.commit(add=[kp], wire_format=self.wire_format,
                                         ratchet_tree_extension=self.tree_in_welcome))
        assert out.welcome is not None
        welcome = out.welcome
        rg = Group(self.st_r)
        r, tp = timed(lambda: receive_commit(rg, out.commit))
        tree: bytes | None = None
        if not self.tree_in_welcome:
            g.merge_pending_commit()
            tree = g.ratchet_tree()
        config = GroupConfig(options=self.options)
        j, tj = timed(lambda: Group.join(welcome, bundle, ratchet_tree=tree, suite=self.suite, config=config))
        assert j.epoch == self.st0.epoch + 1
        sizes = {"kp": len(kp), "add": len(out.commit), "welcome": len(welcome) + (len(tree) if tree else 0)}
        return sizes, {"kp_gen": tk, "add_commit": tc, "process_add": tp, "join": tj}

    def remove(self) -> tuple[dict[str, int], dict[str, float]]:
        if self.n < 3:
            raise ValueError("a remove needs at least 3 members (the receiver is not the removed member)")
        g = Group(self.st0)
        out, tc = timed(lambda: g.commit(remove=[1], wire_format=self.wire_format))
        rg = Group(self.st_r)
        r, tp = timed(lambda: receive_commit(rg, out.commit))
        return {"remove": len(out.commit)}, {"remove_commit": tc, "process_remove": tp}

    def external(self) -> tuple[dict[str, int], dict[str, float]]:
        if self._gi is None:
            g0 = Group(self.st0)
            gi = g0.group_info(ratchet_tree=self.tree_in_welcome, external_pub=True)
            self._gi = (gi, None if self.tree_in_welcome else g0.ratchet_tree())
        gi, tree = self._gi
        config = GroupConfig(options=self.options)
        (_, commit), tj = timed(lambda: Group.join_external(
            gi, self.late.credential, self.late.signature_priv, ratchet_tree=tree, suite=self.suite,
            config=config))
        rg = Group(self.st_r)
        r, tp = timed(lambda: receive_commit(rg, commit))
        return ({"group_info": len(gi) + (len(tree) if tree else 0), "external": len(commit)},
                {"external_join": tj, "process_external": tp})


class CombinedFixture:
    """A real combined group (APQ-MLS, draft-ietf-mls-combiner) of ``n`` members for a combiner
    policy, with the events of :class:`Fixture` run through :class:`~mls_pq.apq.group.APQGroup`
    on fresh handles of the steady-state states of leaf 0 (sender, committer, admin) and leaf
    n-1 (receiver), built by :class:`~mls_pq.bench.combiner.CombinedScenario` (populated shape):

    * ``app()``: application data (traditional session only, §3.4);
    * ``update()``: a PARTIAL commit (traditional session, with UpdatePath, §3.1);
      ``full()``: a FULL commit (PQ commit, apq_psk, traditional commit with the PSK proposal,
      both with UpdatePath, one APQMessagePair, §3.1, §5.2, §6);
    * ``add()``: the joiner's KeyPackage pair, a FULL commit adding it (no UpdatePath), the Welcome
      pair, the receiver's processing and the join of both sessions (§3.2, §3.2.1);
    * ``remove()``: a FULL commit removing leaf 1's member from both sessions (§3.3);
    * ``external()``: the GroupInfo pair and an external join of both sessions (§3.2.2).

    Sizes are the octets sent: the APQMessagePair MLSMessages, the two KeyPackage MLSMessages."""

    def __init__(self, policy: Policy, n: int, payload: int = 100) -> None:
        from ..apq.client import APQClient
        from ..bench.combiner import REGISTRY as APQ_REGISTRY
        from ..bench.combiner import CombinedScenario
        from ..suites import REGISTRY

        if n < 2:
            raise ValueError("a simulated group has at least 2 members")
        if policy.pq_suite is None:
            raise ValueError("a combined fixture needs a combiner policy")
        self.policy, self.n = policy, n
        self.payload = bytes(payload)
        self.t_suite, self.pq_suite = REGISTRY.get(policy.suite), REGISTRY.get(policy.pq_suite)
        self.registry = APQ_REGISTRY
        sc = CombinedScenario.build(self.t_suite, self.pq_suite, n, shape="populated", payload=payload)
        sc.warm()
        self._sc = sc
        self.s0 = (sc.t.actors[0].state, sc.pq.actors[0].state)
        self.sf = (sc.t.actors[sc.far].state, sc.pq.actors[sc.far].state)
        self.sender = self._apq(self.s0)
        self.receiver = self._apq(self.sf)
        self.removed = self.sender.members()[1]
        self.joiner = APQClient.generate(self.t_suite, self.pq_suite, b"n0000000")
        self.late = APQClient.generate(self.t_suite, self.pq_suite, b"x0000000")
        self._gi: bytes | None = None
        self.warm()

    def _apq(self, states: tuple[object, object]) -> APQGroup:
        from ..bench.combiner import apq

        return apq(*states)  # type: ignore[arg-type]

    def warm(self) -> None:
        """Every event once, untimed (see :meth:`Fixture.warm`)."""
        self.app()
        self.update()
        self.full()
        self.add()
        self.external()
        if self.n >= 3:
            self.remove()

    def state_bytes(self) -> int:
        """Octets of a member's serialised state: both sessions (:meth:`Group.to_bytes`)."""
        return sum(len(Group(st).to_bytes()) for st in self.sf)

    def app(self) -> tuple[dict[str, int], dict[str, float]]:
        ct, te = timed(lambda: self.sender.encrypt(self.payload))
        r, td = timed(lambda: self.receiver.process(ct))
        assert r.kind == "application"
        return {"app": len(ct)}, {"app_encrypt": te, "app_decrypt": td}

    def _commit(self, full: bool, size: str, op_c: str, op_p: str) -> tuple[dict[str, int], dict[str, float]]:
        g = self._apq(self.s0)
        out, tc = timed(lambda: g.commit(full=full))
        rg = self._apq(self.sf)
        r, tp = timed(lambda: rg.process(out.commit))
        assert r.kind == "commit" and r.full == full
        return {size: len(out.commit)}, {op_c: tc, op_p: tp}

    def update(self) -> tuple[dict[str, int], dict[str, float]]:
        return self._commit(False, "update", "update_commit", "process_update")

    def full(self) -> tuple[dict[str, int], dict[str, float]]:
        return self._commit(True, "full", "full_commit", "process_full")

    def add(self) -> tuple[dict[str, int], dict[str, float]]:
        from ..apq.group import APQGroup as _APQGroup

        (kp, bundle), tk = timed(lambda: self.joiner.key_packages(self.registry))
        g = self._apq(self.s0)
        out, tc = timed(lambda: g.commit(full=True, add=[kp], path=False))
        assert out.welcome is not None
        welcome = out.welcome
        rg = self._apq(self.sf)
        r, tp = timed(lambda: rg.process(out.commit))
        assert r.kind == "commit"
        j, tj = timed(lambda: _APQGroup.join(welcome, bundle, registry=self.registry))
        assert j.epochs == (self.s0[0].epoch + 1, self.s0[1].epoch + 1)
        sizes = {"kp": len(kp.t) + len(kp.pq), "add": len(out.commit), "welcome": len(welcome)}
        return sizes, {"kp_gen": tk, "add_commit": tc, "process_add": tp, "join": tj}

    def remove(self) -> tuple[dict[str, int], dict[str, float]]:
        if self.n < 3:
            raise ValueError("a remove needs at least 3 members (the receiver is not the removed member)")
        g = self._apq(self.s0)
        out, tc = timed(lambda: g.commit(full=True, remove=[self.removed]))
        rg = self._apq(self.sf)
        r, tp = timed(lambda: rg.process(out.commit))
        assert r.kind == "commit"
        return {"remove": len(out.commit)}, {"remove_commit": tc, "process_remove": tp}

    def external(self) -> tuple[dict[str, int], dict[str, float]]:
        from ..apq.group import APQGroup as _APQGroup

        if self._gi is None:
            self._gi = self._apq(self.s0).group_info()
        gi = self._gi
        (_, commit), tj = timed(lambda: _APQGroup.join_external(gi, self.late, registry=self.registry))
        rg = self._apq(self.sf)
        r, tp = timed(lambda: rg.process(commit))
        assert r.kind == "commit"
        return {"group_info": len(gi), "external": len(commit)}, {"external_join": tj, "process_external": tp}


AnyFixture = Fixture | CombinedFixture


def make_fixture(policy: Policy, n: int, payload: int = 100) -> AnyFixture:
    """The real group of ``n`` members for ``policy`` (a combined group for a combiner policy)."""
    from ..suites import REGISTRY

    if policy.combined:
        return CombinedFixture(policy, n, payload)
    return Fixture(REGISTRY.get(policy.suite), policy, n, payload)


def is_full(c: int, policy: Policy) -> bool:
    """Whether a group's ``c``-th self-update (from 0, in replay order) is a FULL commit:
    every ``full_every``-th one (:mod:`mls_pq.simulate.events`)."""
    return policy.combined and c % policy.full_every == policy.full_every - 1


@dataclass
class GroupCost:
    """Costs of one group under one policy over the whole period (not per day).

    ``sent``/``recv``/``cpu``: per member (octets, octets, CPU seconds); ``ds``: octets the
    delivery service delivers; ``join_time``/``welcome``/``group_info``: one value per
    join (Welcome joins, resp. external joins); ``state``: octets of state per member."""

    sent: np.ndarray
    recv: np.ndarray
    cpu: np.ndarray
    ds: int
    join_time: np.ndarray
    welcome: np.ndarray
    group_info: np.ndarray
    state: int


def run_group(fx: AnyFixture, ev: GroupEvents) -> GroupCost:
    """Replay every event of ``ev`` on the real engine (module docstring); for a combined
    group every ``full_every``-th self-update is a FULL commit (:func:`is_full`)."""
    n = ev.members
    if fx.n != n:
        raise ValueError(f"fixture of {fx.n} members for a group of {n}")
    sent = np.zeros(n, dtype=np.int64)
    cpu = np.zeros(n, dtype=np.float64)
    own_bytes = np.zeros(n, dtype=np.int64)  # bytes every member receives except its own sends
    total_bytes = 0
    recv_cpu_total = 0.0
    own_recv_cpu = np.zeros(n, dtype=np.float64)
    # events sent by members: messages and self-updates (costs of the others' copies: one receiver's)
    commits = 0
    for kind, counts, op_s, op_r, size in (("app", ev.msgs, "app_encrypt", "app_decrypt", "app"),
                                            ("update", ev.updates, "update_commit", "process_update", "update")):
        run: Callable[[], tuple[dict[str, int], dict[str, float]]] = fx.app if kind == "app" else fx.update
        for i in range(n):
            for _ in range(int(counts[i])):
                if kind == "update" and is_full(commits, fx.policy):
                    assert isinstance(fx, CombinedFixture)
                    s, t = fx.full()
                    s, t = {"update": s["full"]}, {"update_commit": t["full_commit"], "process_update": t["process_full"]}
                else:
                    s, t = run()
                commits += kind == "update"
                sent[i] += s[size]
                own_bytes[i] += s[size]
                total_bytes += s[size]
                cpu[i] += t[op_s]
                recv_cpu_total += t[op_r]
                own_recv_cpu[i] += t[op_r]
    recv = total_bytes - own_bytes
    cpu += recv_cpu_total - own_recv_cpu
    ds_extra = 0
    joins: list[float] = []
    welcomes: list[int] = []
    gis: list[int] = []
    others = np.arange(n) != 0
    for _ in range(ev.adds):
        s, t = fx.add()
        sent[0] += s["add"] + s["welcome"]
        recv[0] += s["kp"]
        recv[others] += s["add"]
        cpu[0] += t["add_commit"]
        cpu[others] += t["process_add"]
        ds_extra += s["welcome"]
        joins.append(t["join"])
        welcomes.append(s["welcome"])
    for _ in range(ev.removes):
        s, t = fx.remove()
        sent[0] += s["remove"]
        recv[others] += s["remove"]
        cpu[0] += t["remove_commit"]
        cpu[others] += t["process_remove"]
    for _ in range(ev.ext_joins):
        s, t = fx.external()
        recv += s["external"]
        cpu += t["process_external"]
        ds_extra += s["group_info"]
        joins.append(t["external_join"])
        gis.append(s["group_info"])
    ds = int(recv.sum()) + ds_extra
    return GroupCost(sent, recv, cpu, ds, np.asarray(joins, dtype=np.float64), np.asarray(welcomes, dtype=np.int64),
                     np.asarray(gis, dtype=np.int64), fx.state_bytes())


def exact_group(policy: Policy, ev: GroupEvents, payload: int) -> GroupCost:
    """Build the group of ``ev`` for ``policy`` and replay its events."""
    return run_group(make_fixture(policy, ev.members, payload), ev)


__all__ = ["OPS", "SIZES", "AnyFixture", "CombinedFixture", "Fixture", "GroupCost", "exact_group", "is_full",
           "make_fixture", "options_of", "run_group", "timed"]
