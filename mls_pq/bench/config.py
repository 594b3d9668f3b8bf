"""Benchmark configuration and the default grid (no heavy imports: the CLI parser uses it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

SHAPES = ("sparse", "populated")
GROUP_ID = b"mls-pq-bench-group"
#: identities have a fixed length (8 octets) so sizes depend only on N, not on member names
IDENTITY_LEN = 8
DEFAULT_PAYLOAD = 100


#: time metrics: name -> what is timed
TIME_OPS: dict[str, str] = {
    "kp_gen": "KeyPackage generation (2 KEM key pairs, 2 signatures)",
    "add_commit": "Commit adding 1 member (incl. GroupInfo and Welcome)",
    "update_commit": "empty Commit with UpdatePath (create; no GroupInfo unless asked for)",
    "process_near": "processing that Commit at the committer's sibling",
    "process_far": "processing that Commit at a member in the other half",
    "join": "joining from the Welcome (ratchet_tree extension, full tree validation)",
    "external_join": "external join from a GroupInfo (create the external Commit)",
    "app_encrypt": "application message encrypt (PrivateMessage)",
    "app_decrypt": "application message decrypt",
}

#: size metrics: name -> what is measured (MLSMessage bytes unless said otherwise)
SIZE_METRICS: dict[str, str] = {
    "key_package": "KeyPackage (MLSMessage)",
    "add_commit_public": "Commit adding 1 member, PublicMessage",
    "add_commit_private": "Commit adding 1 member, PrivateMessage",
    "welcome_tree": "Welcome for 1 new member with the ratchet_tree extension",
    "welcome_notree": "Welcome for 1 new member without the ratchet_tree extension",
    "update_commit_public": "empty Commit with UpdatePath, PublicMessage",
    "update_commit_private": "empty Commit with UpdatePath, PrivateMessage",
    "group_info": "GroupInfo with ratchet_tree and external_pub extensions",
    "ratchet_tree": "ratchet_tree extension value (tree out of band)",
    "app_message": "application message (PrivateMessage)",
    "external_commit": "external Commit (PublicMessage)",
}


#: the default run (``mls-pq bench``): every suite registered in the active profile (RFC 9420
#: suites 1-7, draft-06 TBD1-TBD11 at 0xF001-0xF00B, plus installed plugin suites such as
#: 0xF0A1), N = 2, 32 and 1024, the populated tree, every operation; under 2 minutes on 2 cores
#: (bench/README.md). None stands for "every registered suite", resolved when the run starts.
DEFAULT_SUITES: tuple[int, ...] | None = None
DEFAULT_SIZES = (2, 32, 1024)
DEFAULT_SHAPES = ("populated",)
DEFAULT_REPS = 3
EXTRAPOLATE_TO = (100_000,)


def registered_suites(profile: str | None = None) -> list[int]:
    """Every suite id of ``profile`` (default: the active one), plugins included."""
    from ..suites import REGISTRY

    return list(REGISTRY.ids(profile))


@dataclass
class BenchConfig:
    #: suite ids; empty: every registered suite of ``profile`` (:func:`registered_suites`)
    suites: Sequence[int] = ()
    sizes: Sequence[int] = DEFAULT_SIZES
    shapes: Sequence[str] = DEFAULT_SHAPES
    ops: Sequence[str] = field(default_factory=lambda: [*TIME_OPS, "sizes"])
    reps: int = DEFAULT_REPS
    warmup: int = 1
    payload: int = DEFAULT_PAYLOAD
    count: bool = True
    profile: str | None = None
    extrapolate: Sequence[int] = EXTRAPOLATE_TO
    min_total: float = 0.01
    #: clear the primitives' key caches before every timed run (first-time costs); False:
    #: steady state, the keys of the previous repetition are still parsed
    cold: bool = True
    warmup_time: float = 0.005
    #: build the next groups in a second process while this one measures (with >= 2 CPUs;
    #: the timed operations always run one at a time in this process)
    build_ahead: bool = True
    #: adaptive repetitions: more runs while the relative spread (IQR / median) is above
    #: ``target``, until ``budget`` seconds per figure are spent
    target: float = 0.05
    budget: float = 0.5
    #: suite-to-suite ratios at the largest N from runs interleaved with the baseline suite's
    #: (A B A B), so that drift in machine speed cancels out
    interleave: bool = True
    #: the suite a team compares with (``--baseline``; the ``--at`` table), besides 0x0001
    baseline: int | None = None

    def __post_init__(self) -> None:
        if not self.suites:
            self.suites = registered_suites(self.profile)

    def validate(self) -> None:
        bad = [s for s in self.shapes if s not in SHAPES]
        if bad:
            raise ValueError(f"unknown shape(s) {bad}; choose from {SHAPES}")
        unknown = [o for o in self.ops if o not in TIME_OPS and o != "sizes"]
        if unknown:
            raise ValueError(f"unknown op(s) {unknown}; choose from {[*TIME_OPS, 'sizes']}")
        if any(n < 2 for n in self.sizes):
            raise ValueError("group sizes must be >= 2")
        if self.reps < 1:
            raise ValueError("reps must be >= 1")
        if not 0 < self.target < 1:
            raise ValueError("the spread target must be between 0 and 1 (e.g. 0.05 for 5%)")
        if self.budget < 0:
            raise ValueError("the time budget per figure must be >= 0 seconds")



__all__ = [
    "DEFAULT_PAYLOAD",
    "DEFAULT_REPS",
    "DEFAULT_SHAPES",
    "DEFAULT_SIZES",
    "DEFAULT_SUITES",
    "EXTRAPOLATE_TO",
    "GROUP_ID",
    "IDENTITY_LEN",
    "SHAPES",
    "SIZE_METRICS",
    "TIME_OPS",
    "BenchConfig",
    "registered_suites",
]
