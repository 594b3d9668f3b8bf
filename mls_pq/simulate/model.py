"""Calibrated mode: vectorised costing of whole shards of groups (numpy, no per-message loop).

Bytes come from the exact size model of the benchmark (:mod:`mls_pq.bench.model`, RFC 9420
wire encodings, checked octet for octet against the engine), evaluated once per distinct
group size in the shard; CPU seconds from the time curves fitted by
:mod:`mls_pq.simulate.calibrate`. Costs are attributed to members exactly as exact mode does
(:func:`mls_pq.simulate.exact.run_group`), with the model's value of each event instead of
the measured one:

* member i sends its messages and self-updates; the admin (member 0) also sends the Add
  and Remove commits and the Welcomes; every other member receives each of those;
* the admin downloads the joiner's KeyPackage; every member receives the external commits;
* the delivery service delivers every received octet plus the joiners' Welcomes (and
  ratchet trees out of band) and the late joiners' GroupInfos.

A combiner policy's sizes come from :func:`combined_event_sizes` (the benchmark's model of
combined groups), and the FULL self-updates are counted per member by the rule of
:mod:`mls_pq.simulate.events`, each costed with the ``full_commit``/``process_full`` curves.

Percentiles are read from log-spaced histograms (:data:`BINS_PER_DECADE` bins per decade,
about 1.2 % resolution), which merge exactly (integer counts) however the shards are run.
Signature lengths: fixed-length schemes are exact; DER ECDSA signatures are taken at their
maximum length (the engine's are a few octets shorter at random).
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..bench.model import Model, SuiteSizes, _direct_path, opaque, shape_facts, total
from ..suites import REGISTRY
from .events import ShardEvents
from .exact import GroupCost
from .workload import Policy

# ---- sizes -------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def suite_sizes(suite_id: int) -> SuiteSizes:
    return SuiteSizes.of(REGISTRY.get(suite_id))


def _remove_counts(n: int) -> tuple[int, ...]:
    """Ciphertexts per UpdatePath node of the admin's commit removing leaf 1 (§12.3, §7.5):
    leaf 1 and its direct path are blanked, so its resolution drops out of the filtered path."""
    t = shape_facts(n, "populated").tree.copy()
    t.nodes[2] = None
    for x in _direct_path(2, t.n_nodes):
        t.nodes[x] = None
    return tuple(c for _, c in t.filtered_path(0))


@functools.lru_cache(maxsize=65536)
def event_sizes(suite_id: int, commits: str, tree: str, n: int, payload: int) -> dict[str, int]:
    """Octets of every event's messages in a group of ``n`` members (see :mod:`.exact`)."""
    p = suite_sizes(suite_id)
    m = Model(p, payload=payload)
    s = m.sigs
    f = shape_facts(n, "populated")
    pub = commits == "public"

    def frame(body: Any, metric: str) -> int:
        if pub:
            return total(m.public_message(body, s(metric, "content"), True))
        return total(m.private_message(body, s(metric, "content"), True))

    out = {
        "app": total(m.private_message(opaque(payload, "framing"), s("app_message", "content"), False)),
        "update": frame(m.commit_body([], m.update_path(f.update_path, s("u", "path_leaf"))), "u"),
        "kp": 4 + total(m.key_package("key_package")),
        "add": frame(m.commit_body([m.key_package("a")], None), "a"),
        "external": total(m.public_message(
            m.commit_body([opaque(p.n_enc, "kem_output")], m.update_path(f.external_path, s("x", "path_leaf"))),
            s("x", "content"), True, member=False)),
    }
    if n >= 3:
        out["remove"] = frame(m.commit_body([Counter(framing=4)], m.update_path(_remove_counts(n), s("r", "path_leaf"))),
                              "r")
    else:
        out["remove"] = 0
    if tree == "welcome":
        out["welcome"] = 4 + total(m.welcome(m.group_info(f.tree_after_add, "w", f.new_leaf)))
        out["group_info"] = 4 + total(m.group_info(f.tree, "g"))
    else:
        out["welcome"] = 4 + total(m.welcome(m.group_info(None, "w"))) + total(
            m.ratchet_tree(f.tree_after_add, "w", f.new_leaf))
        out["group_info"] = 4 + total(m.group_info(None, "g")) + total(m.ratchet_tree(f.tree, "g"))
    return out


@functools.lru_cache(maxsize=65536)
def combined_event_sizes(t_id: int, pq_id: int, n: int, payload: int) -> dict[str, int]:
    """Octets of every event's messages in a combined group (APQ-MLS, draft-ietf-mls-combiner)
    of ``n`` members (:class:`~mls_pq.simulate.exact.CombinedFixture`), from the benchmark's
    size model of combined groups (:func:`mls_pq.bench.model.apq_model_parts`: each session's
    :class:`GroupLayout`, the APQInfo epoch updates, the apq_psk PreSharedKeyID) composed like
    :func:`event_sizes`. Commits as PublicMessage; pairs as APQMessagePair (6 octets of
    framing, §6)."""
    from ..bench.combiner import PQ_GROUP_ID, T_GROUP_ID
    from ..bench.model import _apq_epoch_update, _apq_psk, apq_layout, apq_model_sizes

    tp, pp = suite_sizes(t_id), suite_sizes(pq_id)
    gt, gp = len(T_GROUP_ID), len(PQ_GROUP_ID)
    layout = apq_layout(gt, gp)
    mt = Model(tp, payload=payload, layout=replace(layout, group_id=gt))
    mp = Model(pp, payload=payload, layout=replace(layout, group_id=gp))
    f = shape_facts(n, "populated")
    upd, psk = _apq_epoch_update(), _apq_psk(tp)

    def commit(m: Model, metric: str, proposals: list[Any], counts: tuple[int, ...] | None,
               member: bool = True) -> int:
        path = None if counts is None else m.update_path(counts, m.sigs(metric, "path_leaf"))
        return total(m.public_message(m.commit_body(proposals, path), m.sigs(metric, "content"), True, member=member))

    pair = 6  # APQMessagePair: version, wire_format, inner wire_format
    apq = apq_model_sizes(tp, pp, n, "populated", t_group_id=gt, pq_group_id=gp)
    out = {
        "app": total(mt.private_message(opaque(payload, "framing"), mt.sigs("app_message", "content"), False)),
        "update": apq["partial_commit"],
        "full": apq["full_commit"],
        "kp": 4 + total(mt.key_package("key_package")) + 4 + total(mp.key_package("key_package")),
        "add": pair + commit(mt, "a", [psk, upd, upd, mt.key_package("a")], None)
        + commit(mp, "a", [upd, upd, mp.key_package("a")], None),
        "welcome": apq["welcome_pair"],
        "group_info": pair + 4 + total(mt.group_info(f.tree, "g")) + 4 + total(mp.group_info(f.tree, "g")),
        "external": pair + commit(mt, "x", [opaque(tp.n_enc, "kem_output"), psk, upd, upd], f.external_path,
                                  member=False)
        + commit(mp, "x", [opaque(pp.n_enc, "kem_output"), upd, upd], f.external_path, member=False),
    }
    if n >= 3:
        rc = _remove_counts(n)
        out["remove"] = pair + commit(mt, "r", [psk, upd, upd, Counter(framing=4)], rc) + commit(
            mp, "r", [upd, upd, Counter(framing=4)], rc)
    else:
        out["remove"] = 0
    return out


def policy_event_sizes(policy: Policy, n: int, payload: int) -> dict[str, int]:
    """:func:`event_sizes` or, for a combiner policy, :func:`combined_event_sizes` (``full``: 0
    for a single-suite group, which has no FULL commits)."""
    if policy.pq_suite is not None:
        return combined_event_sizes(policy.suite, policy.pq_suite, n, payload)
    return {**event_sizes(policy.suite, policy.commits, policy.ratchet_tree, n, payload), "full": 0}


# ---- time curves ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Curve:
    """``y(N) = a + b·N + c·log2(N)`` (non-negative coefficients, fitted by :mod:`.calibrate`)."""

    a: float
    b: float
    c: float

    def __call__(self, n: np.ndarray) -> np.ndarray:
        x: np.ndarray = np.asarray(n, dtype=np.float64)
        y: np.ndarray = self.a + self.b * x + self.c * np.log2(x)
        return y

    def as_list(self) -> list[float]:
        return [self.a, self.b, self.c]


@dataclass(frozen=True)
class Calibrated:
    """The time curve of every operation and the state-size curve for one policy."""

    policy_key: str
    times: dict[str, Curve]
    state: Curve
    fingerprint: str = ""
    points: dict[str, Any] = field(default_factory=dict)


# ---- per-member costs ------------------------------------------------------------------------------------


@dataclass
class ShardCosts:
    """Costs of a shard's groups under one policy over the period (arrays, see :class:`GroupCost`)."""

    members: np.ndarray  # (G,)
    offsets: np.ndarray  # (G+1,)
    sent: np.ndarray  # (M,) int64
    recv: np.ndarray  # (M,) int64
    cpu: np.ndarray  # (M,) float64
    state: np.ndarray  # (G,) int64 per member
    ds: np.ndarray  # (G,) int64
    join_time: np.ndarray  # values
    join_weight: np.ndarray  # counts
    welcome: np.ndarray
    welcome_weight: np.ndarray
    group_info: np.ndarray
    group_info_weight: np.ndarray

    def group(self, j: int) -> GroupCost:
        """Group ``j`` as a :class:`GroupCost` (for the model-vs-exact comparison)."""
        a, b = int(self.offsets[j]), int(self.offsets[j + 1])
        g = len(self.members)
        jt = np.concatenate([np.repeat(self.join_time[j], self.join_weight[j]),
                             np.repeat(self.join_time[g + j], self.join_weight[g + j])])
        return GroupCost(self.sent[a:b].copy(), self.recv[a:b].copy(), self.cpu[a:b].copy(), int(self.ds[j]), jt,
                         np.repeat(self.welcome[j], self.welcome_weight[j]),
                         np.repeat(self.group_info[j], self.group_info_weight[j]), int(self.state[j]))

    @classmethod
    def from_groups(cls, costs: list[GroupCost]) -> ShardCosts:
        """Exact mode's groups in the same layout (joins as unit-weight values)."""
        members = np.asarray([len(c.sent) for c in costs], dtype=np.int64)
        offsets = np.zeros(len(costs) + 1, dtype=np.int64)
        np.cumsum(members, out=offsets[1:])

        def cat(xs: list[np.ndarray], dt: Any) -> np.ndarray:
            return np.concatenate(xs).astype(dt) if xs else np.zeros(0, dtype=dt)

        jt = cat([c.join_time for c in costs], np.float64)
        wl = cat([c.welcome for c in costs], np.int64)
        gi = cat([c.group_info for c in costs], np.int64)
        return cls(members, offsets, cat([c.sent for c in costs], np.int64), cat([c.recv for c in costs], np.int64),
                   cat([c.cpu for c in costs], np.float64), np.asarray([c.state for c in costs], dtype=np.int64),
                   np.asarray([c.ds for c in costs], dtype=np.int64), jt, np.ones(len(jt), dtype=np.int64),
                   wl, np.ones(len(wl), dtype=np.int64), gi, np.ones(len(gi), dtype=np.int64))


def size_tables(policies: list[Policy], members: np.ndarray, payload: int) -> list[dict[str, np.ndarray]]:
    """Per policy and group, octets of every event message (the size model at each distinct
    size; sizes outer, policies inner, so the suite-independent tree facts are computed once)."""
    uniq, inv = np.unique(members, return_inverse=True)
    rows: list[list[dict[str, int]]] = [[] for _ in policies]
    for n in uniq:
        for i, pol in enumerate(policies):
            rows[i].append(policy_event_sizes(pol, int(n), payload))
    return [{k: np.asarray([r[k] for r in rs], dtype=np.int64)[inv] for k in rs[0]} for rs in rows]


def size_table(policy: Policy, members: np.ndarray, payload: int) -> dict[str, np.ndarray]:
    """:func:`size_tables` for one policy."""
    return size_tables([policy], members, payload)[0]


def per_group_start(x: np.ndarray, starts: np.ndarray, gi: np.ndarray) -> np.ndarray:
    """For each member, the sum of ``x`` over all members of the groups before its own."""
    c: np.ndarray = np.cumsum(x) - x
    out: np.ndarray = c[starts][gi]
    return out


def member_costs(ev: ShardEvents, policy: Policy, cal: Calibrated, payload: int,
                 sizes: dict[str, np.ndarray] | None = None) -> ShardCosts:
    """Vectorised costs of every group of the shard (module docstring); ``sizes``: the
    policy's :func:`size_tables` entry when already computed."""
    n = ev.members
    g = len(n)
    S = sizes if sizes is not None else size_table(policy, n, payload)
    T = {k: c(n) for k, c in cal.times.items()}
    zero = np.zeros(g)
    starts = ev.offsets[:-1]
    M = np.add.reduceat(ev.msgs, starts)
    U = np.add.reduceat(ev.updates, starts)
    A, R, X = ev.adds, ev.removes, ev.ext_joins
    gi = np.repeat(np.arange(g), n)
    admin = np.zeros(len(gi), dtype=bool)
    admin[starts] = True
    other = ~admin
    m = ev.msgs
    # combined groups: the group's c-th self-update (from 0, members in order, as exact mode
    # replays them) is FULL when c % k == k - 1 (exact.is_full); f: FULL ones per member
    if policy.pq_suite is not None:
        k = policy.full_every
        first = np.cumsum(ev.updates) - ev.updates - per_group_start(ev.updates, starts, gi)
        f = (first + ev.updates) // k - first // k
    else:
        f = np.zeros_like(ev.updates)
    u = ev.updates - f
    F = np.add.reduceat(f, starts)
    U = U - F

    def per(x: np.ndarray) -> np.ndarray:
        return x[gi]

    sent = (m * per(S["app"]) + u * per(S["update"]) + f * per(S["full"])
            + admin * per(A * (S["add"] + S["welcome"]) + R * S["remove"]))
    recv = ((per(M) - m) * per(S["app"]) + (per(U) - u) * per(S["update"]) + (per(F) - f) * per(S["full"])
            + other * per(A * S["add"] + R * S["remove"]) + admin * per(A * S["kp"]) + per(X * S["external"]))
    cpu = (m * per(T["app_encrypt"]) + (per(M) - m) * per(T["app_decrypt"])
           + u * per(T["update_commit"]) + (per(U) - u) * per(T["process_update"])
           + f * per(T.get("full_commit", zero)) + (per(F) - f) * per(T.get("process_full", zero))
           + admin * per(A * T["add_commit"] + R * T["remove_commit"])
           + other * per(A * T["process_add"] + R * T["process_remove"]) + per(X * T["process_external"]))
    ds = np.add.reduceat(recv, starts) + A * S["welcome"] + X * S["group_info"]
    state = np.rint(cal.state(n)).astype(np.int64)
    return ShardCosts(n, ev.offsets, sent.astype(np.int64), recv.astype(np.int64), cpu.astype(np.float64), state,
                      ds.astype(np.int64), np.concatenate([T["join"], T["external_join"]]), np.concatenate([A, X]),
                      S["welcome"], A.copy(), S["group_info"], X.copy())


# ---- aggregation -------------------------------------------------------------------------------------------

BINS_PER_DECADE = 200
LOG_LO, LOG_HI = -9, 15
NBINS = (LOG_HI - LOG_LO) * BINS_PER_DECADE + 2  # bin 0: zero and below 1e-9; last: overflow


def histogram(values: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Counts per log-spaced bin (module docstring)."""
    v = np.asarray(values, dtype=np.float64)
    with np.errstate(divide="ignore"):
        lg = np.log10(np.where(v > 0, v, 1e-300))
    idx = np.clip(np.floor((lg - LOG_LO) * BINS_PER_DECADE).astype(np.int64) + 1, 0, NBINS - 1)
    idx[v <= 0] = 0
    w = None if weights is None else np.asarray(weights, dtype=np.int64)
    return np.bincount(idx, weights=w, minlength=NBINS).astype(np.int64)


def hist_quantile(h: np.ndarray, q: float) -> float:
    """The ``q`` quantile (0..1) of a :func:`histogram` (geometric centre of its bin)."""
    tot = int(h.sum())
    if tot == 0:
        return math.nan
    rank = max(1, math.ceil(q * tot))
    k = int(np.searchsorted(np.cumsum(h), rank, side="left"))
    if k == 0:
        return 0.0
    return float(10 ** (LOG_LO + (k - 1 + 0.5) / BINS_PER_DECADE))


HIST_METRICS = ("sent", "recv", "cpu", "state", "join_time", "welcome", "group_info")


@dataclass
class Agg:
    """Mergeable summary of one policy over some shards (integer histograms, exact sums)."""

    groups: int = 0
    members: int = 0
    joins: int = 0
    welcomes: int = 0
    ext_joins: int = 0
    sum_sent: int = 0
    sum_recv: int = 0
    sum_ds: int = 0
    sum_state: int = 0
    sum_welcome: int = 0
    #: CPU seconds, one partial sum per shard (added in shard order: identical however run)
    cpu_parts: list[tuple[int, float]] = field(default_factory=list)
    join_parts: list[tuple[int, float]] = field(default_factory=list)
    max: dict[str, float] = field(default_factory=dict)
    hist: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def of(cls, c: ShardCosts, days: float, order: int) -> Agg:
        a = cls(groups=len(c.members), members=int(c.members.sum()))
        a.joins = int(c.join_weight.sum())
        a.welcomes = int(c.welcome_weight.sum())
        a.ext_joins = int(c.group_info_weight.sum())
        a.sum_sent, a.sum_recv, a.sum_ds = int(c.sent.sum()), int(c.recv.sum()), int(c.ds.sum())
        a.sum_state = int((c.state * c.members).sum())
        a.sum_welcome = int((c.welcome * c.welcome_weight).sum())
        a.cpu_parts = [(order, float(c.cpu.sum()))]
        a.join_parts = [(order, float((c.join_time * c.join_weight).sum()))]
        per_member = {"sent": c.sent / days, "recv": c.recv / days, "cpu": c.cpu / days}
        for k, v in per_member.items():
            a.hist[k] = histogram(v)
            a.max[k] = float(v.max()) if v.size else 0.0
        a.hist["state"] = histogram(c.state, c.members)
        a.max["state"] = float(c.state.max()) if c.state.size else 0.0
        for k, v, w in (("join_time", c.join_time, c.join_weight), ("welcome", c.welcome, c.welcome_weight),
                        ("group_info", c.group_info, c.group_info_weight)):
            a.hist[k] = histogram(v, w)
            a.max[k] = float(v[w > 0].max()) if np.any(w > 0) else 0.0
        return a

    def merge(self, o: Agg) -> Agg:
        out = Agg()
        for k in ("groups", "members", "joins", "welcomes", "ext_joins", "sum_sent", "sum_recv", "sum_ds",
                  "sum_state", "sum_welcome"):
            setattr(out, k, getattr(self, k) + getattr(o, k))
        out.cpu_parts = self.cpu_parts + o.cpu_parts
        out.join_parts = self.join_parts + o.join_parts
        for k in HIST_METRICS:
            if k in self.hist and k in o.hist:
                out.hist[k] = self.hist[k] + o.hist[k]
            else:
                out.hist[k] = self.hist.get(k, o.hist.get(k, np.zeros(NBINS, dtype=np.int64)))
            out.max[k] = max(self.max.get(k, 0.0), o.max.get(k, 0.0))
        return out

    @staticmethod
    def _ordered_sum(parts: list[tuple[int, float]]) -> float:
        s = 0.0
        for _, v in sorted(parts):
            s += v
        return s

    def summary(self, days: float) -> dict[str, float]:
        """The reported metrics (per device = per group membership, per day)."""
        md = max(self.members, 1) * days
        h = self.hist
        return {
            "groups": float(self.groups),
            "devices": float(self.members),
            "sent_mean": self.sum_sent / md,
            "sent_p50": hist_quantile(h["sent"], 0.5),
            "sent_p99": hist_quantile(h["sent"], 0.99),
            "recv_mean": self.sum_recv / md,
            "recv_p50": hist_quantile(h["recv"], 0.5),
            "recv_p99": hist_quantile(h["recv"], 0.99),
            "ds_per_day": self.sum_ds / days,
            "cpu_mean": self._ordered_sum(self.cpu_parts) / md,
            "cpu_p99": hist_quantile(h["cpu"], 0.99),
            "joins": float(self.joins),
            "join_time_mean": self._ordered_sum(self.join_parts) / self.joins if self.joins else math.nan,
            "join_time_p99": hist_quantile(h["join_time"], 0.99),
            "join_time_max": self.max["join_time"] if self.joins else math.nan,
            "welcome_p99": hist_quantile(h["welcome"], 0.99),
            "welcome_max": self.max["welcome"] if self.welcomes else math.nan,
            "group_info_max": self.max["group_info"] if self.ext_joins else math.nan,
            "state_mean": self.sum_state / max(self.members, 1),
            "state_p99": hist_quantile(h["state"], 0.99),
        }


__all__ = ["Agg", "Calibrated", "Curve", "ShardCosts", "combined_event_sizes", "event_sizes", "per_group_start",
           "policy_event_sizes", "hist_quantile", "histogram", "member_costs",
           "size_table", "size_tables"]
