"""``mls-pq bench --compare ts-mls``: the benchmark scenario in mls-pq and in ts-mls 1.6, side by side.

For every cipher suite both implementations support and every group size N, the same
scenario runs in both (:mod:`mls_pq.bench.scenarios`, shape ``sparse``: a group of N
built by one bulk add without an UpdatePath, measured right after it, so every parent
node is blank and leaf 0's UpdatePath carries N-1 HPKE ciphertexts):

* mls-pq through the regular benchmark (:func:`mls_pq.bench.runner.run`, shape sparse,
  no crypto floor);
* ts-mls inside Node.js through the driver's ``bench`` operation
  (``mls_pq/interop/ts_mls/driver.mjs``): the scenario runs in the Node process and
  every sample is taken there with ``performance.now()``, so no pipe/IPC time is
  counted. ts-mls is installed from the npm registry into a cache directory on first use
  (:mod:`mls_pq.interop.tsmls`); without Node.js >= 20 the comparison is skipped.

Per metric the report gives ``ratio = mls-pq / ts-mls`` (medians for times; above 1 means
mls-pq is slower or larger). Sizes are also *checked*: where the two constructions agree
they must be equal octet for octet; where they do not, the expected difference is
computed from the size model (:mod:`mls_pq.bench.model`, extended here by
:class:`TsMlsModel` with what ts-mls does differently) and the row says why.

Shared suites
-------------
RFC 9420 suites 1-7 (mls-pq's ``default`` profile; the same constructions as ts-mls, up
to the ECDSA key encoding below) and ts-mls's own suites 77-88 (mls-pq's ``ts-mls-1.6``
profile, which reproduces ts-mls's constructions by design, see the README section "The
ts-mls-1.6 profile"). The draft-06 suites 0xF001-0xF00B are not in ts-mls: asked for, they
are paired with the nearest ts-mls suite (:data:`DRAFT06_NEAREST`) for context only, the
row says which constructions differ, and their sizes are not checked.

Content policy (what makes sizes comparable at all)
---------------------------------------------------
ts-mls is told to build exactly the content mls-pq's benchmark builds: the KeyPackage
leaf's capabilities are mls-pq's :func:`mls_pq.client.default_capabilities` (mls10, the
one suite, basic+x509 credentials, no GREASE; ts-mls's own default lists all 19 of its
suites, 36 octets more per leaf, and adds each of 15 GREASE values with probability 0.1
to each of four lists, 2 octets apiece, so its KeyPackage size is random), no PrivateMessage
padding (mls-pq's ``padding_block`` 0; ts-mls pads to 256 octets by default), handshake
messages as PublicMessage (mls-pq's default), the same group id, the same 8-octet
identities, a 100-octet payload. Lifetimes differ in value but not in size.

Known construction differences (size notes, by code)
----------------------------------------------------
``W``  mls-pq's Welcome GroupInfo carries an ``external_pub`` extension
       (``GroupOptions.external_pub``); ts-mls's ``createCommit`` cannot add one (the key
       comes from the new epoch's external_secret, computed inside ``createCommit``).
``E``  ts-mls encodes the ``external_pub`` extension data as the bare public key, without
       the ``opaque HPKEPublicKey<V>`` length prefix of RFC 9420 §12.4.3.2
       (``struct { HPKEPublicKey external_pub; } ExternalPub``): its GroupInfo is 1-2
       octets shorter.
``C``  ts-mls emits compressed SEC1 ECDSA public keys (33/49/67 octets for P-256/P-384/
       P-521; RFC 9420 §5.1.1 asks for uncompressed points, mls-pq emits 65/97/133): every
       signature key in a message is smaller (suites 2, 5, 7).
``D``  ECDSA signatures are DER (RFC 9420 §5.1.1) and their length varies by a few octets
       per signature in both implementations: no exact equality; the ts-mls size is
       checked against the model's range instead.

Hand-written (no library compares MLS implementations); the MLS work is mls-pq's and ts-mls's.
"""

from __future__ import annotations

import csv
import dataclasses
import itertools
import json
import math
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..suites import CipherSuite, get_suite
from .config import DEFAULT_PAYLOAD, GROUP_ID, SIZE_METRICS, TIME_OPS
from .model import Model, Parts, SigSource, SuiteSizes, nominal, opaque, total

#: the mls-pq profile holding ts-mls's own suites 77-88
TSMLS_PROFILE = "ts-mls-1.6"
#: RFC 9420 suites (mls-pq default profile = ts-mls, up to the ECDSA key encoding)
SHARED_RFC = (1, 2, 3, 4, 5, 6, 7)
#: ts-mls's own PQ suites (mls-pq ``ts-mls-1.6`` profile)
SHARED_TSMLS = tuple(range(77, 89))
SHARED = SHARED_RFC + SHARED_TSMLS
#: draft-06 suites (mls-pq default profile) -> the nearest ts-mls suite (context only: the
#: constructions differ; README "The ts-mls-1.6 profile" gives TBD2->83, TBD6->79, TBD11->85;
#: the others are paired by KEM family and signature type)
DRAFT06_NEAREST: dict[int, int] = {
    0xF001: 83, 0xF002: 83, 0xF003: 79, 0xF004: 79, 0xF005: 81, 0xF006: 79,
    0xF007: 79, 0xF008: 81, 0xF009: 88, 0xF00A: 87, 0xF00B: 85,
}
DEFAULT_COMPARE_SIZES = (2, 16, 64)
#: ts-mls's operations grow about linearly with N (≈ 45 s for suite 1 at N = 1024, minutes
#: for the ML-DSA suites); larger N run on the mls-pq side only
TS_MAX_N = 1024
#: the time operations compared (ts-mls's driver implements all of the benchmark's)
COMPARED_TIME_OPS: tuple[str, ...] = tuple(TIME_OPS)

REASONS: dict[str, str] = {
    "W": "mls-pq's Welcome GroupInfo carries an external_pub extension (GroupOptions.external_pub); "
         "ts-mls's createCommit cannot add it (the key comes from the new epoch's external_secret)",
    "E": "ts-mls encodes external_pub's extension data as the bare public key, without the opaque "
         "HPKEPublicKey<V> length prefix of RFC 9420 §12.4.3.2",
    "C": "ts-mls emits compressed SEC1 ECDSA signature keys (33/49/67 octets; RFC 9420 §5.1.1: "
         "uncompressed, as mls-pq emits, 65/97/133)",
    "D": "ECDSA signatures are DER: their length varies by a few octets per signature (both sides), "
         "so the ts-mls size is checked against the model's range, not for equality",
    "X": "different constructions (draft-06 suite paired with the nearest ts-mls suite): sizes not checked",
}

TIME_NOTES: dict[str, str] = {
    "add_commit": "mls-pq also derives the new epoch's external_pub key for the GroupInfo it returns",
    "external_join": "ts-mls is handed a prepared KeyPackage for the joiner (its leaf key is replaced by "
                     "the UpdatePath's anyway)",
}


class CompareUnavailable(RuntimeError):
    """The comparison cannot run here (no Node.js >= 20, or ts-mls could not be installed)."""


# ---- pairing -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pair:
    """One comparison: an mls-pq suite (id and profile) against a ts-mls suite id."""

    suite: int
    profile: str | None
    ts_suite: int
    #: "same": the constructions agree (up to the listed encoding choices); "nearest": a
    #: draft-06 suite beside a ts-mls suite, for context only
    pairing: str
    differences: tuple[str, ...] = ()

    @property
    def cs(self) -> CipherSuite:
        return get_suite(self.suite, self.profile)

    @property
    def label(self) -> str:
        return f"0x{self.suite:04x}" if self.pairing == "same" else f"0x{self.suite:04x}~{self.ts_suite}"


def construction_differences(a: CipherSuite, b: CipherSuite) -> tuple[str, ...]:
    """Primitive-level differences between two mls-pq suites (``b`` mirrors ts-mls)."""
    out = []
    for what, x, y in (
        ("KEM", a.kem.name, b.kem.name),
        ("MLS KDF", a.kdf.name, b.kdf.name),
        ("HPKE KDF", (a.hpke_kdf or a.kdf).name, (b.hpke_kdf or b.kdf).name),
        ("AEAD", a.aead.name, b.aead.name),
        ("hash", a.hash.name, b.hash.name),
        ("signature", a.signature.name, b.signature.name),
    ):
        if x != y:
            out.append(f"{what}: {x} vs {y}")
    return tuple(out)


def plan(suites: Sequence[int]) -> list[Pair]:
    """The comparisons for the requested suite ids (1-7, 77-88, or draft-06 0xF001-0xF00B)."""
    out: list[Pair] = []
    for sid in dict.fromkeys(suites):
        if sid in SHARED_RFC:
            out.append(Pair(sid, None, sid, "same"))
        elif sid in SHARED_TSMLS:
            out.append(Pair(sid, TSMLS_PROFILE, sid, "same"))
        elif sid in DRAFT06_NEAREST:
            ts = DRAFT06_NEAREST[sid]
            diffs = construction_differences(get_suite(sid), get_suite(ts, TSMLS_PROFILE))
            out.append(Pair(sid, None, ts, "nearest", diffs))
        else:
            raise ValueError(f"suite 0x{sid:04x} is not in ts-mls 1.6 and has no nearest ts-mls suite; "
                             "compare 1-7, 77-88 or a draft-06 suite 0xF001-0xF00B")
    return out


def parse_suites(spec: Sequence[str] | None) -> list[int]:
    """Suite tokens: ids (``1``, ``0x53``, ``0xF002``), ``shared``/``all`` (1-7 and 77-88),
    ``rfc`` (1-7), ``tsmls`` (77-88), ``draft06`` (0xF001-0xF00B, paired)."""
    if not spec:
        return list(SHARED)
    groups = {"shared": SHARED, "all": SHARED, "rfc": SHARED_RFC, "tsmls": SHARED_TSMLS,
              "draft06": tuple(DRAFT06_NEAREST), "pq": SHARED_TSMLS}
    out: list[int] = []
    for item in spec:
        for tok in item.split(","):
            tok = tok.strip().lower()
            if tok in groups:
                out += groups[tok]
            elif tok:
                out.append(int(tok, 0))
    return list(dict.fromkeys(out))


# ---- the size model of ts-mls's choices -------------------------------------------------------------


def is_ecdsa(cs: CipherSuite) -> bool:
    return "ECDSA" in cs.signature.name.upper()


def compressed_len(uncompressed: int) -> int:
    """SEC1 compressed point length for an uncompressed one (``04 || x || y``)."""
    return 1 + (uncompressed - 1) // 2


class TsMlsModel(Model):
    """:class:`~mls_pq.bench.model.Model` with ts-mls's encoding choices, each switchable
    so that its own effect on a size can be computed: ``welcome_ext_pub`` (reason W: False
    = no external_pub in the Welcome's GroupInfo) and ``bare_ext_pub`` (reason E). The
    compressed ECDSA keys (reason C) are a :class:`SuiteSizes` with a smaller ``sig_pk``."""

    def __init__(
        self, p: SuiteSizes, sigs: SigSource | None = None, payload: int = 100, *,
        welcome_ext_pub: bool = False, bare_ext_pub: bool = True,
    ) -> None:
        super().__init__(p, sigs, payload)
        self.welcome_ext_pub = welcome_ext_pub
        self.bare_ext_pub = bare_ext_pub

    def group_info(self, tree: Any, metric: str, new_leaf: int | None = None) -> Parts:
        exts: Parts = Counter()
        if tree is not None:
            exts += Counter(framing=2) + opaque(self.ratchet_tree(tree, metric, new_leaf))
        if self.welcome_ext_pub or not metric.startswith("welcome"):
            key = opaque(self.p.n_pk, "hpke_key")
            exts += Counter(framing=2) + (opaque(key) if not self.bare_ext_pub else key)
        c = self.group_context() + opaque(exts)
        c += opaque(self.p.hash_len, "secret_or_hash") + Counter(framing=4)  # confirmation_tag, signer
        return c + opaque(self.sigs(metric, "gi"), "signature")


def _sizes(model: Model, n: int) -> dict[str, int]:
    """Octets per metric (metrics the model says MLS cannot encode at this N are left out)."""
    parts: dict[str, Any] = dict(model.metrics(n, "sparse"))
    return {k: total(v) for k, v in parts.items() if v is not None}


@dataclass(frozen=True)
class SizeExpectation:
    """What ts-mls's size of one metric should be, given mls-pq's, and why."""

    #: ts-mls - mls-pq for nominal signature lengths, by reason code (non-zero only)
    deltas: dict[str, int]
    #: the model's ts-mls size range (signature lengths min..max; lo == hi unless ECDSA)
    ts_lo: int
    ts_hi: int
    variable: bool  # ECDSA: DER lengths vary, no exact prediction

    @property
    def delta(self) -> int:
        return sum(self.deltas.values())

    @property
    def reasons(self) -> list[str]:
        return [*self.deltas, *(["D"] if self.variable else [])]


def size_expectations(cs: CipherSuite, n: int, payload: int = DEFAULT_PAYLOAD) -> dict[str, SizeExpectation]:
    """Per size metric: ts-mls's expected size relative to mls-pq's (same construction)."""
    p = SuiteSizes.of(cs)
    ecdsa = is_ecdsa(cs)
    p_ts = dataclasses.replace(p, sig_pk=compressed_len(p.sig_pk)) if ecdsa else p
    # the differences switched on one after the other (nominal signature lengths): each
    # reason's share of the total difference, adding up exactly to it (varint prefixes
    # make the shares depend on the order; this order is W, E, C)
    steps = [
        ("", _sizes(Model(p, None, payload), n)),
        ("W", _sizes(TsMlsModel(p, None, payload, welcome_ext_pub=False, bare_ext_pub=False), n)),
        ("E", _sizes(TsMlsModel(p, None, payload, welcome_ext_pub=False, bare_ext_pub=True), n)),
        ("C", _sizes(TsMlsModel(p_ts, None, payload), n)),
    ]
    both_hi = _sizes(TsMlsModel(p_ts, nominal(p_ts, "max"), payload), n)
    both_lo = _sizes(TsMlsModel(p_ts, nominal(p_ts, "min"), payload), n) if ecdsa else both_hi
    out = {}
    for m in SIZE_METRICS:
        if any(m not in sizes for _, sizes in steps) or m not in both_lo or m not in both_hi:
            continue
        deltas = {code: s[m] - prev[m] for (_, prev), (code, s) in itertools.pairwise(steps) if s[m] != prev[m]}
        out[m] = SizeExpectation(deltas, both_lo[m], both_hi[m], ecdsa)
    return out


def size_status(mls: int, ts: int, exp: SizeExpectation) -> tuple[str, int, int]:
    """(status, expected lo, expected hi) for one measured pair of sizes.

    Fixed-length signatures: ts-mls's size must be exactly mls-pq's plus the modelled
    difference ("equal" if that is 0, else "explained"); anything else is a "mismatch".
    ECDSA: ts-mls's size must lie in the model's range ("explained")."""
    if exp.variable:
        lo, hi = exp.ts_lo, exp.ts_hi
    else:
        lo = hi = mls + exp.delta
    if not lo <= ts <= hi:
        return "mismatch", lo, hi
    if ts == mls and not exp.deltas and not exp.variable:
        return "equal", lo, hi
    return "explained", lo, hi


# ---- running -----------------------------------------------------------------------------------------


@dataclass
class CompareConfig:
    suites: Sequence[int] = SHARED
    sizes: Sequence[int] = DEFAULT_COMPARE_SIZES
    reps: int = 3
    warmup: int = 1
    payload: int = DEFAULT_PAYLOAD
    cold: bool = True
    time_ops: Sequence[str] = COMPARED_TIME_OPS
    max_n: int = TS_MAX_N
    min_total: float = 0.01
    warmup_time: float = 0.005
    #: ts-mls warm-up: V8 compiles hot functions after a number of calls (measured: the
    #: first runs of a commit or join in a fresh process are up to 2x slower), so each
    #: operation gets at least ``ts_warmup`` untimed runs, continued (up to 20) for
    #: ``ts_warmup_time`` s; one Node process serves every suite and N, so the shared code
    #: (codecs, tree hashing, key schedule) is compiled after the first few suites anyway
    ts_warmup: int = 2
    ts_warmup_time: float = 0.05
    peer_timeout: float = 3600.0
    #: mls-pq side: a replacement for :func:`mls_pq.bench.runner.run` (tests)
    runner: Callable[..., dict[str, Any]] | None = field(default=None, repr=False)

    def validate(self) -> None:
        if any(n < 2 for n in self.sizes):
            raise ValueError("group sizes must be >= 2")
        if self.reps < 1:
            raise ValueError("reps must be >= 1")
        bad = [o for o in self.time_ops if o not in COMPARED_TIME_OPS]
        if bad:
            raise ValueError(f"unknown op(s) {bad}; choose from {list(COMPARED_TIME_OPS)}")
        plan(self.suites)


Progress = Callable[[str], None]


def check_node() -> str:
    """The usable node executable, or :class:`CompareUnavailable` saying why not."""
    from ..interop.tsmls import NodeNotFoundError, find_node

    try:
        return find_node()
    except NodeNotFoundError as e:
        raise CompareUnavailable(str(e)) from None


def run_mls_pq(config: CompareConfig, pairs: Sequence[Pair], progress: Progress | None = None) -> dict[str, Any]:
    """mls-pq's side through the regular benchmark, one run per code-point profile:
    {(suite, profile) key: list of rows}, plus the run documents."""
    from .config import BenchConfig
    from .runner import run as bench_run

    runner = config.runner or bench_run
    by_profile: dict[str | None, list[int]] = {}
    for pr in pairs:
        by_profile.setdefault(pr.profile, []).append(pr.suite)
    rows: dict[tuple[int, str | None], list[dict[str, Any]]] = {}
    docs = []
    for profile, suites in by_profile.items():
        bc = BenchConfig(
            suites=suites, sizes=sorted(set(config.sizes)), shapes=["sparse"],
            ops=[*config.time_ops, "sizes"], reps=config.reps, warmup=config.warmup, payload=config.payload,
            count=False, profile=profile, extrapolate=[], cold=config.cold,
            min_total=config.min_total, warmup_time=config.warmup_time,
        )

        def prog(desc: str, _advance: int, profile: str | None = profile) -> None:
            if progress is not None and _advance == 0:
                progress(f"mls-pq {desc}" + (f" [{profile}]" if profile else ""))

        doc = runner(bc, progress=prog)
        docs.append(doc)
        for r in doc["rows"]:
            if r.get("shape") == "sparse" and r.get("source", "measured") == "measured":
                rows.setdefault((int(r["suite"]), profile), []).append(r)
    return {"rows": rows, "docs": docs}


def _capabilities(cs: CipherSuite) -> dict[str, list[int]]:
    """mls-pq's KeyPackage capabilities for ``cs`` as numeric code points (driver format)."""
    from ..client import default_capabilities
    from ..messages.credential import Credential
    from .scenarios import identity

    caps = default_capabilities(cs, Credential.basic(identity(0)))
    return {"versions": list(caps.versions), "cipher_suites": list(caps.cipher_suites),
            "extensions": list(caps.extensions), "proposals": list(caps.proposals),
            "credentials": list(caps.credentials)}


def ts_bench_request(config: CompareConfig, ts_suite: int, n: int, **extra: Any) -> dict[str, Any]:
    """Parameters of the driver's ``bench`` op: the scenario of :mod:`mls_pq.bench.scenarios`
    with mls-pq's content (capabilities, identities, group id, payload, no padding)."""
    from .scenarios import EXTERNAL_IDENTITY, NEW_MEMBER_IDENTITY, identity

    return {
        "suite": ts_suite, "n": n, "identities": [identity(i).hex() for i in range(n)],
        "new_identity": NEW_MEMBER_IDENTITY.hex(), "external_identity": EXTERNAL_IDENTITY.hex(),
        "group_id": GROUP_ID.hex(), "payload": config.payload,
        "capabilities": _capabilities(get_suite(ts_suite, TSMLS_PROFILE)), "padding": None,
        "time_ops": list(config.time_ops), "reps": config.reps, "warmup": max(config.warmup, config.ts_warmup),
        "warmup_time": max(config.warmup_time, config.ts_warmup_time), "min_total": config.min_total, **extra,
    }


def run_ts_mls(
    config: CompareConfig, pairs: Sequence[Pair], peer: Any, progress: Progress | None = None
) -> dict[tuple[int, int], dict[str, Any]]:
    """ts-mls's side: the driver's ``bench`` op per (ts-mls suite, N ≤ ``max_n``); the
    content matches the mls-pq suite of the pair (for a "nearest" pair, the ts-mls suite's
    own id in the capabilities, as mls-pq lists its suite)."""
    out: dict[tuple[int, int], dict[str, Any]] = {}
    for pr in pairs:
        for n in sorted(set(config.sizes)):
            if n > config.max_n or (pr.ts_suite, n) in out:
                continue
            if progress is not None:
                progress(f"ts-mls {pr.ts_suite} N={n}")
            out[(pr.ts_suite, n)] = peer.raw("bench", **ts_bench_request(config, pr.ts_suite, n))
    return out


def _stats(samples: Sequence[float]) -> dict[str, float | int]:
    from .measure import summarize

    return summarize(list(samples)).as_dict()


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or not b:
        return None
    return a / b


def compare_rows(
    config: CompareConfig,
    pairs: Sequence[Pair],
    mls_rows: dict[tuple[int, str | None], list[dict[str, Any]]],
    ts: dict[tuple[int, int], dict[str, Any]],
) -> list[dict[str, Any]]:
    """One row per pair × N × metric (sizes and times) with both values and the ratio."""
    out: list[dict[str, Any]] = []
    for pr in pairs:
        cs = pr.cs
        ts_name = get_suite(pr.ts_suite, TSMLS_PROFILE).name.replace("TSMLS_", "MLS_", 1)
        idx = {(r["n"], r["metric"]): r for r in mls_rows.get((pr.suite, pr.profile), [])}
        for n in sorted(set(config.sizes)):
            t = ts.get((pr.ts_suite, n))
            exp = size_expectations(cs, n, config.payload) if pr.pairing == "same" else None
            base = {"suite": pr.suite, "suite_hex": f"0x{pr.suite:04x}", "suite_name": cs.name,
                    "profile": pr.profile or "default", "ts_suite": pr.ts_suite, "ts_suite_name": ts_name,
                    "pairing": pr.pairing, "n": n, "shape": "sparse"}
            for metric in SIZE_METRICS:
                m = idx.get((n, metric))
                mv = int(m["median"]) if m is not None else None
                tv = int(t["sizes"][metric]) if t is not None else None
                row: dict[str, Any] = {**base, "metric": metric, "kind": "size", "unit": "B", "mls_pq": mv,
                                       "ts_mls": tv, "ratio": _ratio(mv, tv)}
                if mv is None or tv is None:
                    row.update(status="skipped", reasons=[],
                               note="ts-mls not run at this N" if tv is None else "mls-pq size missing")
                elif exp is None:
                    row.update(status="different", reasons=["X"], delta=tv - mv,
                               note="; ".join(pr.differences) or "different suite")
                elif metric not in exp:
                    row.update(status="skipped", reasons=[], note="not encodable at this N (model)")
                else:
                    e = exp[metric]
                    status, lo, hi = size_status(mv, tv, e)
                    row.update(status=status, delta=tv - mv, expected_delta=e.delta if not e.variable else None,
                               expected_lo=lo, expected_hi=hi, reasons=e.reasons,
                               reason_deltas=e.deltas, note=_size_note(status, mv, tv, lo, hi, e))
                out.append(row)
            for metric in config.time_ops:
                m = idx.get((n, metric))
                samples = t["times"].get(metric) if t is not None else None
                ts_st = _stats(samples) if samples else None
                row = {**base, "metric": metric, "kind": "time", "unit": "s",
                       "mls_pq": m["median"] if m is not None else None,
                       "ts_mls": ts_st["median"] if ts_st is not None else None}
                row["ratio"] = _ratio(row["mls_pq"], row["ts_mls"])
                if m is not None:
                    row["mls_pq_stats"] = {k: m.get(k) for k in ("median", "q1", "q3", "iqr", "mean", "min", "reps")}
                if ts_st is not None:
                    row["ts_mls_stats"] = ts_st
                row["status"] = "measured" if row["ratio"] is not None else "skipped"
                notes = [TIME_NOTES[metric]] if metric in TIME_NOTES else []
                if pr.pairing != "same":
                    notes.append("different constructions: " + "; ".join(pr.differences))
                row["note"] = "; ".join(notes)
                out.append(row)
    return out


def _size_note(status: str, mls: int, ts: int, lo: int, hi: int, e: SizeExpectation) -> str:
    parts = [f"{code} {d:+d}" for code, d in e.deltas.items()]
    if e.variable:
        parts.append(f"D: ts-mls range {lo}..{hi}")
    why = ", ".join(parts)
    if status == "equal":
        return "same construction, same size"
    if status == "explained":
        return f"differs by {ts - mls:+d}: {why}"
    want = f"{lo}" if lo == hi else f"{lo}..{hi}"
    return f"UNEXPLAINED: ts-mls {ts}, expected {want}" + (f" ({why})" if why else " (same construction)")


def compare(
    config: CompareConfig, progress: Progress | None = None, *, peer: Any = None
) -> dict[str, Any]:
    """Run both sides and return the comparison document (schema ``mls-pq-bench-compare/1``).

    Raises :class:`CompareUnavailable` when Node.js or ts-mls is not available."""
    from ..interop.tsmls import InteropError, TsMlsPeer, cache_dir, tsmls_version
    from .measure import machine_facts

    config.validate()
    t0 = time.perf_counter()
    pairs = plan(config.suites)
    own_peer = peer is None
    if own_peer:
        check_node()
        peer = TsMlsPeer(timeout=config.peer_timeout)
        try:
            if progress is not None:
                progress(f"starting ts-mls {tsmls_version()} (installs into {cache_dir()} on first use)")
            peer.start()
        except InteropError as e:
            raise CompareUnavailable(str(e)) from None
    try:
        t_ts = time.perf_counter()
        ts = run_ts_mls(config, pairs, peer, progress)
        ts_wall = time.perf_counter() - t_ts
        info = dict(peer.info)
    finally:
        if own_peer:
            peer.close()
    t_m = time.perf_counter()
    mls = run_mls_pq(config, pairs, progress)
    mls_wall = time.perf_counter() - t_m
    rows = compare_rows(config, pairs, mls["rows"], ts)
    skipped_n = sorted({n for n in config.sizes if n > config.max_n})
    machine = machine_facts()
    machine["libraries"] = {**machine.get("libraries", {}), "ts-mls": info.get("ts_mls"), "node": info.get("node")}
    doc: dict[str, Any] = {
        "schema": "mls-pq-bench-compare/1",
        "machine": machine,
        "config": {k: v for k, v in dataclasses.asdict(config).items() if k != "runner"}
        | {"suites": [f"0x{s:04x}" for s in config.suites]},
        "shape": "sparse",
        "shape_description": "right after one bulk add of N-1 members (no UpdatePath): all parent nodes blank",
        "ratio": "mls-pq / ts-mls (medians for times)",
        "pairs": [{"suite": f"0x{p.suite:04x}", "profile": p.profile or "default", "ts_suite": p.ts_suite,
                   "pairing": p.pairing, "differences": list(p.differences)} for p in pairs],
        "content_policy": {
            "capabilities": "mls-pq's default_capabilities on both sides (no GREASE)",
            "padding": "none on both sides (ts-mls PaddingConfig alwaysPad 0; its default pads to 256 octets)",
            "handshake_wire_format": "PublicMessage for timed commits (mls-pq's default)",
            "identities": "8 octets (m0000000...), group id " + GROUP_ID.decode(),
            "payload": config.payload,
            "ts_mls_timing": "inside Node with performance.now(); no IPC in the samples; Node's GC cannot be "
                             f"paused; warm-up >= {max(config.warmup, config.ts_warmup)} runs / "
                             f"{max(config.warmup_time, config.ts_warmup_time)} s per operation (V8 JIT)",
            "mls_pq_timing": "mls_pq.bench.runner (cold primitive caches)" if config.cold
                             else "mls_pq.bench.runner (warm primitive caches)",
        },
        "reasons": REASONS,
        "time_notes": TIME_NOTES,
        "rows": rows,
        "skipped_sizes_ts_mls": skipped_n,
        "wall_time_s": {"ts_mls": ts_wall, "mls_pq": mls_wall, "total": time.perf_counter() - t0},
        "ts_build_s": {f"{k[0]}/{k[1]}": v.get("build_s") for k, v in ts.items()},
    }
    doc["summary"] = summarize_doc(doc)
    return doc


def summarize_doc(doc: dict[str, Any]) -> dict[str, Any]:
    sizes = [r for r in doc["rows"] if r["kind"] == "size"]
    counts = Counter(r["status"] for r in sizes)
    times = [r["ratio"] for r in doc["rows"] if r["kind"] == "time" and r.get("ratio")]
    geo = math.exp(statistics.fmean(math.log(x) for x in times)) if times else None
    return {"size_status": dict(counts), "mismatches": [
        f"0x{r['suite']:04x} N={r['n']} {r['metric']}: {r['note']}" for r in sizes if r["status"] == "mismatch"],
        "time_ratio_geomean": geo}


# ---- output ----------------------------------------------------------------------------------------

CSV_FIELDS = ("suite", "profile", "ts_suite", "pairing", "n", "shape", "metric", "kind", "unit", "mls_pq", "ts_mls",
              "ratio", "status", "delta", "expected_lo", "expected_hi", "reasons", "note")


def write_json(doc: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(doc, indent=1, default=str) + "\n")


def write_csv(doc: dict[str, Any], path: Path) -> None:
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=CSV_FIELDS, extrasaction="ignore")
        w.writeheader()
        for r in doc["rows"]:
            row = {k: r.get(k) for k in CSV_FIELDS}
            row["suite"] = r["suite_hex"]
            row["reasons"] = " ".join(r.get("reasons") or [])
            w.writerow(row)


SIZE_TITLES = {
    "key_package": "KP", "add_commit_public": "add pub", "add_commit_private": "add priv",
    "welcome_tree": "Welc+tree", "welcome_notree": "Welc", "update_commit_public": "upd pub",
    "update_commit_private": "upd priv", "group_info": "GroupInfo", "ratchet_tree": "tree",
    "app_message": "app", "external_commit": "ext commit",
}
TIME_TITLES = {
    "kp_gen": "KP gen", "add_commit": "add", "update_commit": "commit", "process_near": "proc near",
    "process_far": "proc far", "join": "join", "external_join": "ext join", "app_encrypt": "encrypt",
    "app_decrypt": "decrypt",
}


def _size_cell(r: dict[str, Any]) -> str:
    st = r["status"]
    if st == "skipped":
        return "-"
    if st == "equal":
        return "="
    if st == "different":
        return f"×{r['ratio']:.2f}" if r.get("ratio") else "-"
    d = r["delta"]
    codes = "".join(r.get("reasons") or [])
    cell = ("=" if d == 0 else f"{d:+d}") + (f" {codes}" if codes else "")
    return ("!! " + cell) if st == "mismatch" else cell


def _time_cell(r: dict[str, Any]) -> str:
    return f"{r['ratio']:.2f}" if r.get("ratio") else "-"


def tables(doc: dict[str, Any]) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, rows): times (ratios), absolute medians of two headline ops, sizes."""
    rows = doc["rows"]
    keys = list(dict.fromkeys((r["suite"], r["ts_suite"], r["pairing"], r["n"]) for r in rows))
    idx = {(r["suite"], r["ts_suite"], r["n"], r["metric"]): r for r in rows}
    time_ops = [m for m in TIME_TITLES if any(r["metric"] == m for r in rows)]
    size_ms = [m for m in SIZE_TITLES if any(r["metric"] == m for r in rows)]

    def label(s: int, ts: int, pairing: str) -> str:
        return f"0x{s:04x}" if pairing == "same" else f"0x{s:04x}~{ts}"

    out = []
    head = ["suite", "N", *[TIME_TITLES[m] for m in time_ops]]
    body = [[label(s, ts, p), str(n), *[_time_cell(idx[(s, ts, n, m)]) if (s, ts, n, m) in idx else "-"
                                          for m in time_ops]] for s, ts, p, n in keys]
    out.append(("TIMES: mls-pq / ts-mls (median ratio; > 1 = mls-pq slower)", head, body))
    from .measure import fmt_seconds

    head = ["suite", "N", "commit mls-pq", "commit ts-mls", "process mls-pq", "process ts-mls",
            "join mls-pq", "join ts-mls"]
    body = []
    for s, ts, p, n in keys:
        line = [label(s, ts, p), str(n)]
        for m in ("update_commit", "process_far", "join"):
            r = idx.get((s, ts, n, m))
            line += [fmt_seconds(r["mls_pq"]) if r and r["mls_pq"] is not None else "-",
                     fmt_seconds(r["ts_mls"]) if r and r["ts_mls"] is not None else "-"]
        body.append(line)
    out.append(("TIMES: medians of three operations", head, body))
    head = ["suite", "N", *[SIZE_TITLES[m] for m in size_ms]]
    body = [[label(s, ts, p), str(n), *[_size_cell(idx[(s, ts, n, m)]) if (s, ts, n, m) in idx else "-"
                                          for m in size_ms]] for s, ts, p, n in keys]
    title = ("SIZES: ts-mls - mls-pq in octets ('=' equal; codes below; '!!' unexplained; ×r = ratio "
             "for different constructions)")
    out.append((title, head, body))
    return out


def render_plain(doc: dict[str, Any]) -> str:
    m = doc["machine"]
    libs = m.get("libraries", {})
    lines = [
        (f"mls-pq {libs.get('mls-pq')} vs ts-mls {libs.get('ts-mls')} (Node {libs.get('node')}), "
         f"{m.get('cpu')}, {m.get('python')}"),
        (f"shape: sparse ({doc['shape_description']}); content matched: no GREASE, no padding, "
         "PublicMessage handshakes"),
    ]
    for title, header, body in tables(doc):
        widths = [max(len(str(x)) for x in col) for col in zip(header, *body)]
        lines += ["", title, "  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip()]
        lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in body]
    lines.append("")
    lines.extend(footnotes(doc))
    return "\n".join(lines)


def footnotes(doc: dict[str, Any]) -> list[str]:
    used = {c for r in doc["rows"] if r["kind"] == "size" for c in (r.get("reasons") or [])}
    out = [f"  {c}: {t}" for c, t in REASONS.items() if c in used]
    if out:
        out.insert(0, "size difference codes:")
    nearest = [p for p in doc["pairs"] if p["pairing"] == "nearest"]
    for p in nearest:
        out.append(f"  {p['suite']}~{p['ts_suite']}: " + "; ".join(p["differences"]))
    used_t = {r["metric"] for r in doc["rows"] if r["kind"] == "time"}
    out += [f"  {TIME_TITLES.get(k, k)}: {v}" for k, v in TIME_NOTES.items() if k in used_t]
    s = doc["summary"]
    out.append("size rows: " + ", ".join(f"{k} {v}" for k, v in sorted(s["size_status"].items())))
    if s.get("time_ratio_geomean"):
        out.append(f"time ratio, geometric mean over all timed rows: {s['time_ratio_geomean']:.2f}")
    if doc.get("skipped_sizes_ts_mls"):
        out.append(f"ts-mls not run at N = {doc['skipped_sizes_ts_mls']} (> {doc['config']['max_n']}; mls-pq only)")
    w = doc["wall_time_s"]
    out.append(f"wall time: ts-mls {w['ts_mls']:.1f} s, mls-pq {w['mls_pq']:.1f} s")
    for mm in s.get("mismatches", []):
        out.append("MISMATCH " + mm)
    return out


# ---- CLI ---------------------------------------------------------------------------------------------


def config_from_args(args: Any) -> CompareConfig:
    from ..cliutil import parse_sizes

    sizes = parse_sizes(args.sizes) if args.sizes else list(DEFAULT_COMPARE_SIZES)
    return CompareConfig(
        suites=parse_suites(args.suites), sizes=sizes, reps=args.reps, warmup=args.warmup,
        payload=args.payload, cold=not args.warm_caches,
    )


def cmd_compare(args: Any) -> int:
    """``mls-pq bench --compare ts-mls``: writes compare.json and compare.csv into ``--out``."""
    from ..cliutil import fail

    if args.compare != "ts-mls":
        return fail(f"--compare: unknown comparison target {args.compare!r} (only ts-mls)")
    if getattr(args, "shape", None) not in (None, "sparse"):
        print("note: the comparison uses the sparse shape (right after a bulk add) only", file=sys.stderr)
    try:
        config = config_from_args(args)
        config.validate()
    except ValueError as e:  # UsageError included: one line, exit 2
        return fail(str(e))
    quiet = bool(args.quiet or (args.json and not sys.stderr.isatty()))

    def progress(desc: str) -> None:
        if not quiet:
            print(f"[compare] {desc}", file=sys.stderr, flush=True)

    try:
        doc = compare(config, progress)
    except CompareUnavailable as e:
        print(f"skipped: `bench --compare ts-mls` needs Node.js >= 20 with npm (or an installed ts-mls): {e}",
              file=sys.stderr)
        return 3
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_json(doc, out / "compare.json")
    write_csv(doc, out / "compare.csv")
    if args.json:
        json.dump(doc, sys.stdout, indent=1, default=str)
        print()
    else:
        print(render_plain(doc))
        print(f"wrote {out / 'compare.json'}, {out / 'compare.csv'}")
    return 1 if doc["summary"]["mismatches"] else 0


__all__ = [
    "COMPARED_TIME_OPS",
    "DEFAULT_COMPARE_SIZES",
    "DRAFT06_NEAREST",
    "REASONS",
    "SHARED",
    "TSMLS_PROFILE",
    "TS_MAX_N",
    "CompareConfig",
    "CompareUnavailable",
    "Pair",
    "TsMlsModel",
    "cmd_compare",
    "compare",
    "compare_rows",
    "parse_suites",
    "plan",
    "render_plain",
    "size_expectations",
    "size_status",
    "ts_bench_request",
    "write_csv",
    "write_json",
]
