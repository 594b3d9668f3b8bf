"""The workload file of ``mls-pq simulate``: a documented, validated TOML schema.

Parsing is :mod:`tomllib` (standard library); this module only checks the values and
reports **every** problem it finds, one line each: the path of the field and what was
expected (``populations[0].size.p99: expected a number > median (4), got 2``).

Schema (every key not listed here is an error, so typos do not pass silently)::

    name = "consumer messenger"     # optional label
    days = 30                       # simulated duration (> 0)
    seed = 7                        # optional; --seed overrides it (default 0)
    shard_groups = 20000            # optional: groups per shard (the unit of work, and of
                                    # random streams: results never depend on how shards run)

    [[policies]]                    # one or more; every metric is also given relative to the first
    name = "X-Wing"                 # optional label (default: the suite's name)
    suite = 0xf001                  # any registered suite id (integer or "0xf001")
    commits = "public"              # "public" (PublicMessage) or "private" (PrivateMessage)
    ratchet_tree = "welcome"        # "welcome" (ratchet_tree extension) or "out_of_band"

    [[policies]]                    # or a combined group (APQ-MLS, draft-ietf-mls-combiner)
    name = "combiner"               # instead of suite: a valid traditional+PQ suite pair (§7.1)
    combiner = "0x0001+0xF006"
    full_every = 10                 # every k-th self-update is a FULL commit (PQ + traditional
                                    # commit with the apq_psk), the others PARTIAL (traditional
                                    # only); adds, removes and external joins are always FULL
                                    # (§3). Commits as PublicMessage, ratchet tree in the Welcome.

    [[populations]]                 # one or more
    name = "small groups"
    groups = 900000                 # number of groups (>= 1)
    devices_per_user = 1.5          # >= 1: MLS members = round(users * devices_per_user)
    [populations.size]              # users per group, one of:
    dist = "fixed"       value = 10
    dist = "uniform"     min = 2  max = 20             # integers, inclusive
    dist = "lognormal"   median = 5  p99 = 60  max = 256  min = 2
    dist = "empirical"   csv = "sizes.csv"             # rows "size,weight" (header optional),
                                                       # path relative to the workload file
    [populations.activity]
    messages_per_member_per_day = 20    # application messages sent per member per day
    message_bytes = 100                 # application payload size
    updates_per_member_per_day = 0.1    # self-updates (empty commit with path), or instead
    update_every_messages = 50          #   one self-update every k sent messages
    adds_per_group_per_day = 0.05       # members added (KeyPackage + Commit + Welcome)
    removes_per_group_per_day = 0.05    # members removed (Commit with a path)
    late_join_fraction = 0.02           # members offline so long that they rejoin by an
                                        # external commit (§12.4.3.2) once in the period

    [calibration]                   # optional (calibrated mode)
    sizes = [2, 8, 32, 128]         # group sizes measured per suite and operation
    reps = 5                        # timed runs per operation and size (at least)

    [self_check]                    # optional: groups re-run in exact mode to check the model
    groups = 4                      # per population (0: no self-check)
    max_members = 128               # only groups at most this large are sampled
    cpu_tolerance = 0.2             # relative CPU error the model may have

Written by hand (no schema library does per-field messages in this form without a new
dependency); the TOML itself is parsed by :mod:`tomllib`.
"""

from __future__ import annotations

import csv
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import MLSError


class WorkloadError(MLSError):
    """The workload file is invalid; ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str], source: str = "workload") -> None:
        self.problems = list(problems)
        self.source = source
        super().__init__("; ".join(f"{source}: {p}" for p in problems))


@dataclass(frozen=True)
class SizeDist:
    """Users per group."""

    dist: str
    value: int = 0
    min: int = 2
    max: int = 0
    median: float = 0.0
    p99: float = 0.0
    #: empirical: (sizes, probabilities)
    table: tuple[tuple[int, ...], tuple[float, ...]] = ((), ())

    @property
    def upper(self) -> int:
        """Largest possible value."""
        if self.dist == "fixed":
            return self.value
        if self.dist == "empirical":
            return max(self.table[0])
        return self.max


@dataclass(frozen=True)
class Activity:
    messages_per_member_per_day: float = 0.0
    message_bytes: int = 100
    updates_per_member_per_day: float = 0.0
    update_every_messages: int = 0
    adds_per_group_per_day: float = 0.0
    removes_per_group_per_day: float = 0.0
    late_join_fraction: float = 0.0


@dataclass(frozen=True)
class Population:
    name: str
    groups: int
    devices_per_user: float
    size: SizeDist
    activity: Activity


@dataclass(frozen=True)
class Policy:
    """What is compared: one suite, or (``pq_suite`` set) a combined group of the traditional
    ``suite`` and the PQ ``pq_suite`` with a FULL commit every ``full_every`` self-updates."""

    name: str
    suite: int
    commits: str = "public"
    ratchet_tree: str = "welcome"
    pq_suite: int | None = None
    full_every: int = 0

    @property
    def combined(self) -> bool:
        return self.pq_suite is not None

    @property
    def key(self) -> str:
        if self.pq_suite is not None:
            return f"0x{self.suite:04x}+0x{self.pq_suite:04x}-{self.commits}-{self.ratchet_tree}"
        return f"0x{self.suite:04x}-{self.commits}-{self.ratchet_tree}"

    @property
    def label(self) -> str:
        """The suite (or suite pair) as text."""
        if self.pq_suite is not None:
            return f"0x{self.suite:04x}+0x{self.pq_suite:04x} (FULL every {self.full_every})"
        return f"0x{self.suite:04x}"


@dataclass(frozen=True)
class Calibration:
    sizes: tuple[int, ...] = (2, 8, 32, 128)
    reps: int = 5


@dataclass(frozen=True)
class SelfCheck:
    groups: int = 4
    max_members: int = 128
    cpu_tolerance: float = 0.2


@dataclass(frozen=True)
class Workload:
    name: str
    days: float
    policies: tuple[Policy, ...]
    populations: tuple[Population, ...]
    seed: int = 0
    shard_groups: int = 20000
    calibration: Calibration = field(default_factory=Calibration)
    self_check: SelfCheck = field(default_factory=SelfCheck)

    @property
    def total_groups(self) -> int:
        return sum(p.groups for p in self.populations)

    def scaled(self, factor: float) -> Workload:
        """The same workload with every population's group count scaled (at least 1 group)."""
        from dataclasses import replace

        pops = tuple(replace(p, groups=max(1, round(p.groups * factor))) for p in self.populations)
        return replace(self, populations=pops)


# ---- checking helpers ------------------------------------------------------------------------------


class _Checker:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def bad(self, path: str, expected: str, got: Any = ...) -> None:
        self.problems.append(f"{path}: expected {expected}" + ("" if got is ... else f", got {got!r}"))

    def table(self, d: Any, path: str) -> dict[str, Any] | None:
        if not isinstance(d, dict):
            self.bad(path, "a table", d)
            return None
        return d

    def unknown(self, d: dict[str, Any], path: str, allowed: set[str]) -> None:
        for k in d:
            if k not in allowed:
                prefix = f"{path}." if path else ""
                self.problems.append(f"{prefix}{k}: unknown key (expected one of: {', '.join(sorted(allowed))})")

    def number(self, d: dict[str, Any], key: str, path: str, default: float | None = None, *,
               minimum: float | None = None, strict: bool = False, maximum: float | None = None,
               integer: bool = False) -> float:
        p = f"{path}.{key}" if path else key
        if key not in d:
            if default is None:
                self.problems.append(f"{p}: missing (expected {'an integer' if integer else 'a number'})")
                return math.nan
            return default
        v = d[key]
        what = "an integer" if integer else "a number"
        rng = ""
        if minimum is not None:
            rng += f" {'>' if strict else '>='} {minimum:g}"
        if maximum is not None:
            rng += f"{' and' if rng else ''} <= {maximum:g}"
        if isinstance(v, bool) or not isinstance(v, int | float) or (integer and not isinstance(v, int)):
            self.bad(p, what + rng, v)
            return math.nan
        if not math.isfinite(v) or (minimum is not None and (v <= minimum if strict else v < minimum)) or (
            maximum is not None and v > maximum
        ):
            self.bad(p, what + rng, v)
            return math.nan
        return float(v)

    def choice(self, d: dict[str, Any], key: str, path: str, choices: tuple[str, ...], default: str) -> str:
        v = d.get(key, default)
        if v not in choices:
            self.bad(f"{path}.{key}", "one of " + ", ".join(repr(c) for c in choices), v)
            return default
        return str(v)


def _suite_id(c: _Checker, v: Any, path: str, profile: str | None) -> int:
    from ..suites import REGISTRY

    sid: int | None = None
    if isinstance(v, int) and not isinstance(v, bool):
        sid = v
    elif isinstance(v, str):
        try:
            sid = int(v, 0)
        except ValueError:
            try:
                sid = REGISTRY.id_of(v, profile)
            except (MLSError, KeyError, ValueError):
                sid = None
    known = REGISTRY.ids(profile)
    if sid is None or sid not in known:
        c.bad(path, "a registered suite id (one of " + ", ".join(f"0x{i:04x}" for i in known) + ")", v)
        return 0
    return sid


def _combiner_policy(c: _Checker, t: dict[str, Any], path: str, profile: str | None) -> Policy | None:
    """A combined-group policy (module doc); every problem reported with its field's path."""
    n0 = len(c.problems)
    if "suite" in t and "combiner" in t:
        c.problems.append(f"{path}.suite: expected either suite or combiner, not both")
    if "combiner" not in t:
        c.problems.append(f"{path}.combiner: missing (full_every is for combined groups: expected combiner = "
                          "\"T+PQ\", e.g. \"0x0001+0xF006\")")
    if "full_every" not in t:
        c.problems.append(f"{path}.full_every: missing (expected an integer >= 1: a FULL commit every k self-updates)")
    k = c.number(t, "full_every", path, 1, integer=True, minimum=1)
    if t.get("commits", "public") != "public":
        c.bad(f"{path}.commits", "'public' for a combined group (its size model frames commits as PublicMessage)",
              t.get("commits"))
    if t.get("ratchet_tree", "welcome") != "welcome":
        c.bad(f"{path}.ratchet_tree", "'welcome' for a combined group (the Welcome pair carries both trees)",
              t.get("ratchet_tree"))
    spec = t.get("combiner")
    sids: list[int] = []
    if "combiner" in t:
        parts = spec.split("+") if isinstance(spec, str) else []
        if len(parts) != 2 or not all(x.strip() for x in parts):
            c.bad(f"{path}.combiner", "\"TRADITIONAL+PQ\" suite ids (e.g. \"0x0001+0xF006\")", spec)
        else:
            for x, which in zip(parts, ("traditional", "PQ")):
                n1 = len(c.problems)
                sid = _suite_id(c, x.strip(), f"{path}.combiner ({which} suite)", profile)
                if len(c.problems) == n1:
                    sids.append(sid)
    if len(sids) == 2:
        from ..apq.suites import check_suite_pair, signature_class
        from ..suites import get_suite

        try:
            pq_mode = signature_class(get_suite(sids[1], profile)) == "pq"
            check_suite_pair(sids[0], sids[1], pq_mode, get=lambda s: get_suite(s, profile))
        except MLSError as e:
            c.bad(f"{path}.combiner", f"a valid APQ-MLS suite pair (draft-ietf-mls-combiner §7.1: {e})", spec)
    label = t.get("name")
    if label is not None and not isinstance(label, str):
        c.bad(f"{path}.name", "a string", label)
    if len(c.problems) > n0:
        return None
    name = label if isinstance(label, str) else f"combiner {spec} (FULL every {int(k)})"
    return Policy(name, sids[0], "public", "welcome", sids[1], int(k))


def _size(c: _Checker, d: Any, path: str, base: Path) -> SizeDist | None:
    t = c.table(d, path)
    if t is None:
        return None
    kind = t.get("dist")
    kinds = ("fixed", "uniform", "lognormal", "empirical")
    if kind not in kinds:
        c.bad(f"{path}.dist", "one of " + ", ".join(repr(k) for k in kinds), kind)
        return None
    n0 = len(c.problems)
    if kind == "fixed":
        c.unknown(t, path, {"dist", "value"})
        v = c.number(t, "value", path, integer=True, minimum=1)
        return None if len(c.problems) > n0 else SizeDist("fixed", value=int(v))
    if kind == "uniform":
        c.unknown(t, path, {"dist", "min", "max"})
        lo = c.number(t, "min", path, integer=True, minimum=1)
        hi = c.number(t, "max", path, integer=True, minimum=1)
        if len(c.problems) == n0 and hi < lo:
            c.bad(f"{path}.max", f"an integer >= min ({int(lo)})", int(hi))
        return None if len(c.problems) > n0 else SizeDist("uniform", min=int(lo), max=int(hi))
    if kind == "lognormal":
        c.unknown(t, path, {"dist", "median", "p99", "max", "min"})
        med = c.number(t, "median", path, minimum=1)
        p99 = c.number(t, "p99", path, minimum=1)
        hi = c.number(t, "max", path, integer=True, minimum=1)
        lo = c.number(t, "min", path, 1.0, integer=True, minimum=1)
        if len(c.problems) == n0:
            if p99 <= med:
                c.bad(f"{path}.p99", f"a number > median ({med:g})", t["p99"])
            if hi < p99:
                c.bad(f"{path}.max", f"an integer >= p99 ({p99:g})", t["max"])
            if lo > med:
                c.bad(f"{path}.min", f"an integer <= median ({med:g})", t["min"])
        if len(c.problems) > n0:
            return None
        return SizeDist("lognormal", min=int(lo), max=int(hi), median=med, p99=p99)
    c.unknown(t, path, {"dist", "csv"})
    f = t.get("csv")
    if not isinstance(f, str):
        c.bad(f"{path}.csv", "a CSV file path (rows: size,weight)", f)
        return None
    fp = (base / f) if not Path(f).is_absolute() else Path(f)
    sizes: list[int] = []
    weights: list[float] = []
    try:
        with open(fp, newline="", encoding="utf-8") as fh:
            for lineno, row in enumerate(csv.reader(fh), start=1):
                if not row or row[0].strip().startswith("#"):
                    continue
                try:
                    s, w = int(row[0]), float(row[1]) if len(row) > 1 else 1.0
                except (ValueError, IndexError):
                    if lineno == 1:
                        continue  # header
                    c.bad(f"{path}.csv line {lineno}", "'size,weight' with an integer size >= 1 and a weight >= 0",
                          ",".join(row))
                    return None
                if s < 1 or w < 0 or not math.isfinite(w):
                    c.bad(f"{path}.csv line {lineno}", "'size,weight' with an integer size >= 1 and a weight >= 0",
                          ",".join(row))
                    return None
                sizes.append(s)
                weights.append(w)
    except OSError as e:
        c.bad(f"{path}.csv", "a readable CSV file", f"{f} ({e.strerror})")
        return None
    tot = sum(weights)
    if not sizes or tot <= 0:
        c.bad(f"{path}.csv", "at least one row with a positive weight", f)
        return None
    return SizeDist("empirical", table=(tuple(sizes), tuple(w / tot for w in weights)))


def _activity(c: _Checker, d: Any, path: str) -> Activity | None:
    t = c.table(d, path)
    if t is None:
        return None
    keys = {"messages_per_member_per_day", "message_bytes", "updates_per_member_per_day", "update_every_messages",
            "adds_per_group_per_day", "removes_per_group_per_day", "late_join_fraction"}
    c.unknown(t, path, keys)
    n0 = len(c.problems)
    if "updates_per_member_per_day" in t and "update_every_messages" in t:
        c.problems.append(f"{path}: expected at most one of updates_per_member_per_day and update_every_messages")
    a = Activity(
        messages_per_member_per_day=c.number(t, "messages_per_member_per_day", path, 0.0, minimum=0),
        message_bytes=int(c.number(t, "message_bytes", path, 100, integer=True, minimum=0, maximum=1 << 20) or 0),
        updates_per_member_per_day=c.number(t, "updates_per_member_per_day", path, 0.0, minimum=0),
        update_every_messages=int(c.number(t, "update_every_messages", path, 0, integer=True, minimum=1)
                                  if "update_every_messages" in t else 0),
        adds_per_group_per_day=c.number(t, "adds_per_group_per_day", path, 0.0, minimum=0),
        removes_per_group_per_day=c.number(t, "removes_per_group_per_day", path, 0.0, minimum=0),
        late_join_fraction=c.number(t, "late_join_fraction", path, 0.0, minimum=0, maximum=1),
    )
    return None if len(c.problems) > n0 else a


def parse_workload(data: dict[str, Any], *, base: Path = Path("."), source: str = "workload",
                   profile: str | None = None) -> Workload:
    """Check a parsed TOML document; raise :class:`WorkloadError` listing every problem."""
    c = _Checker()
    c.unknown(data, "", {"name", "days", "seed", "shard_groups", "policies", "populations", "calibration",
                         "self_check"})
    name = data.get("name", source)
    if not isinstance(name, str):
        c.bad("name", "a string", name)
        name = source
    days = c.number(data, "days", "", minimum=0, strict=True)
    seed = c.number(data, "seed", "", 0, integer=True, minimum=0)
    shard = c.number(data, "shard_groups", "", 20000, integer=True, minimum=1)

    policies: list[Policy] = []
    pol = data.get("policies")
    if not isinstance(pol, list) or not pol:
        c.bad("policies", "a non-empty array of tables ([[policies]])", pol if pol is not None else ...)
        pol = []
    for i, p in enumerate(pol):
        path = f"policies[{i}]"
        t = c.table(p, path)
        if t is None:
            continue
        c.unknown(t, path, {"name", "suite", "commits", "ratchet_tree", "combiner", "full_every"})
        if "combiner" in t or "full_every" in t:
            cp = _combiner_policy(c, t, path, profile)
            if cp is not None:
                policies.append(cp)
            continue
        if "suite" not in t:
            c.problems.append(f"{path}.suite: missing (expected a registered suite id, or combiner = \"T+PQ\")")
            continue
        sid = _suite_id(c, t["suite"], f"{path}.suite", profile)
        commits = c.choice(t, "commits", path, ("public", "private"), "public")
        tree = c.choice(t, "ratchet_tree", path, ("welcome", "out_of_band"), "welcome")
        label = t.get("name")
        if label is not None and not isinstance(label, str):
            c.bad(f"{path}.name", "a string", label)
            label = None
        if sid:
            if label is None:
                from ..suites import REGISTRY

                label = REGISTRY.definition(sid, profile).name
            policies.append(Policy(label, sid, commits, tree))
    if len({p.name for p in policies}) != len(policies):
        c.problems.append("policies: expected distinct names (set policies[i].name)")

    pops: list[Population] = []
    pp = data.get("populations")
    if not isinstance(pp, list) or not pp:
        c.bad("populations", "a non-empty array of tables ([[populations]])", pp if pp is not None else ...)
        pp = []
    for i, p in enumerate(pp):
        path = f"populations[{i}]"
        t = c.table(p, path)
        if t is None:
            continue
        c.unknown(t, path, {"name", "groups", "devices_per_user", "size", "activity"})
        n0 = len(c.problems)
        pname = t.get("name", f"population {i}")
        if not isinstance(pname, str):
            c.bad(f"{path}.name", "a string", pname)
        groups = c.number(t, "groups", path, integer=True, minimum=1)
        dpu = c.number(t, "devices_per_user", path, 1.0, minimum=1)
        size = _size(c, t["size"], f"{path}.size", base) if "size" in t else None
        if "size" not in t:
            c.problems.append(f"{path}.size: missing (expected a table with dist = fixed|uniform|lognormal|empirical)")
        act = _activity(c, t.get("activity", {}), f"{path}.activity")
        if len(c.problems) == n0 and size is not None and act is not None:
            pops.append(Population(str(pname), int(groups), dpu, size, act))

    cal = Calibration()
    if "calibration" in data:
        t = c.table(data["calibration"], "calibration")
        if t is not None:
            c.unknown(t, "calibration", {"sizes", "reps"})
            sizes = t.get("sizes", list(cal.sizes))
            if (not isinstance(sizes, list) or len(sizes) < 3
                    or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 2 for s in sizes)
                    or len(set(sizes)) != len(sizes)):
                c.bad("calibration.sizes", "an array of at least 3 distinct integers >= 2", sizes)
            else:
                cal = Calibration(tuple(sorted(sizes)), cal.reps)
            reps = c.number(t, "reps", "calibration", cal.reps, integer=True, minimum=1)
            if not math.isnan(reps):
                cal = Calibration(cal.sizes, int(reps))
    sc = SelfCheck()
    if "self_check" in data:
        t = c.table(data["self_check"], "self_check")
        if t is not None:
            c.unknown(t, "self_check", {"groups", "max_members", "cpu_tolerance"})
            g = c.number(t, "groups", "self_check", sc.groups, integer=True, minimum=0)
            m = c.number(t, "max_members", "self_check", sc.max_members, integer=True, minimum=2)
            tol = c.number(t, "cpu_tolerance", "self_check", sc.cpu_tolerance, minimum=0, strict=True)
            if not any(math.isnan(x) for x in (g, m, tol)):
                sc = SelfCheck(int(g), int(m), tol)
    if c.problems:
        raise WorkloadError(c.problems, source)
    return Workload(name, days, tuple(policies), tuple(pops), int(seed), int(shard), cal, sc)


def load_workload(path: str | Path, *, profile: str | None = None) -> Workload:
    """Read and check a workload file (:func:`parse_workload`)."""
    p = Path(path)
    try:
        with open(p, "rb") as f:
            data = tomllib.load(f)
    except OSError as e:
        raise WorkloadError([f"cannot read the file ({e.strerror})"], str(p)) from None
    except tomllib.TOMLDecodeError as e:
        raise WorkloadError([f"not valid TOML ({e})"], str(p)) from None
    return parse_workload(data, base=p.parent, source=str(p), profile=profile)


__all__ = ["Activity", "Calibration", "Policy", "Population", "SelfCheck", "SizeDist", "Workload", "WorkloadError",
           "load_workload", "parse_workload"]
