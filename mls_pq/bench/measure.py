"""Timing, statistics, primitive counts and the crypto floor.

* :func:`time_op`: warm-up runs, then at least ``reps`` timed runs (more for sub-millisecond
  operations, until ``min_total`` seconds of samples or ``max_factor * reps`` runs), with
  the garbage collector off during each run; :func:`summarize` gives median and IQR (numpy).
* :func:`instrumented_suite`: the suite wrapped by :func:`mls_pq.instrument.counting_suite`
  (operation counts) over a thin layer of this module that also adds up the octets fed to
  the size-dependent primitives (hash, HMAC, KDF, AEAD, signatures).
* :func:`measure_unit_times`: per primitive, ``t(bytes) = per_call + per_byte * bytes``
  fitted from two input sizes, measured in the same process on the same suite.
* :func:`crypto_floor`: ``Σ count * per_call + bytes * per_byte`` over the *leaf*
  primitives (``hpke.seal``/``hpke.open`` are composites whose KEM, KDF and AEAD calls are
  counted individually, so they are reported but left out of the sum).
"""

from __future__ import annotations

import gc
import math
import os
import platform
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from importlib import metadata
from typing import Any

import numpy as np

from ..crypto.base import Aead, Hash, Kdf, Kem, SignatureScheme
from ..instrument import OpCounter, counting_suite
from ..suites import CipherSuite

# ---- statistics ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stats:
    """Summary of timing samples in seconds."""

    median: float
    q1: float
    q3: float
    mean: float
    min: float
    reps: int

    @property
    def iqr(self) -> float:
        return self.q3 - self.q1

    def as_dict(self) -> dict[str, float | int]:
        d: dict[str, float | int] = asdict(self)
        d["iqr"] = self.iqr
        return d


def summarize(samples: Sequence[float] | np.ndarray) -> Stats:
    a = np.asarray(samples, dtype=float)
    if a.size == 0:
        raise ValueError("no samples")
    q1, med, q3 = np.percentile(a, [25, 50, 75])
    return Stats(float(med), float(q1), float(q3), float(a.mean()), float(a.min()), int(a.size))


def time_op(
    run: Callable[[], Any],
    reps: int,
    *,
    warmup: int = 1,
    warmup_time: float = 0.005,
    min_total: float = 0.01,
    max_factor: int = 20,
    before: Callable[[], Any] | None = None,
    collect: bool = True,
) -> np.ndarray:
    """Seconds per run of ``run()``.

    Warm-up: at least ``warmup`` untimed runs, continued (up to 20 runs) until
    ``warmup_time`` seconds have passed: the first runs of an operation are typically
    10-50 % slower (interpreter and allocator caches, the primitives' parsed-key caches).
    Then at least ``reps`` timed runs, continued (up to ``max_factor * reps``) while the
    samples add up to less than ``min_total`` seconds. ``before()`` (untimed) precedes every
    run, e.g. to clear the primitives' key caches. The garbage collector is off during each
    timed run (and collected once before them)."""
    t_end = time.perf_counter() + warmup_time
    done = 0
    while done < warmup or (time.perf_counter() < t_end and done < 20):
        if before is not None:
            before()
        run()
        done += 1
    samples: list[float] = []
    gc_was = gc.isenabled()
    limit = max(reps, 1) * max_factor
    if collect:  # once per figure: a full collection costs milliseconds when many groups are alive
        gc.collect()
    try:
        while len(samples) < reps or (sum(samples) < min_total and len(samples) < limit):
            if before is not None:
                before()
            gc.disable()
            t0 = time.perf_counter()
            run()
            samples.append(time.perf_counter() - t0)
            if gc_was:
                gc.enable()
    finally:
        if gc_was:
            gc.enable()
    return np.asarray(samples)


def rel_spread(samples: Sequence[float] | np.ndarray) -> float:
    """IQR / median of the samples (0 for fewer than 2 samples or a zero median)."""
    a = np.asarray(samples, dtype=float)
    if a.size < 2:
        return 0.0
    q1, med, q3 = np.percentile(a, [25, 50, 75])
    return float((q3 - q1) / med) if med > 0 else 0.0


def median_ci_rel(samples: Sequence[float] | np.ndarray) -> float:
    """Half-width of the ~95 % confidence interval of the median, relative to the median:
    ``1.57 * IQR / sqrt(n) / median`` (McGill, Tukey and Larsen 1978, the notches of a box
    plot). Unlike the IQR itself, it shrinks as runs are added: it is what the adaptive
    repetitions drive below their target. ``inf`` for fewer than 2 samples."""
    a = np.asarray(samples, dtype=float)
    if a.size < 2:
        return math.inf
    return 1.57 * rel_spread(a) / math.sqrt(a.size)


@dataclass(frozen=True)
class Timing:
    """Samples of one figure with the CPU time this process got while taking them."""

    samples: np.ndarray
    #: process CPU seconds and wall seconds over the whole figure (warm-up included)
    cpu_s: float
    wall_s: float
    #: True when the precision target was not reached before the time budget ran out
    budget_spent: bool

    @property
    def cpu_share(self) -> float:
        """Process CPU time / wall time: below 1 when other processes took this CPU."""
        return min(self.cpu_s / self.wall_s, 1.0) if self.wall_s > 0 else 1.0


def time_adaptive(
    run: Callable[[], Any],
    reps: int,
    *,
    target: float = 0.05,
    budget: float = 0.5,
    max_runs: int = 400,
    **kw: Any,
) -> Timing:
    """:func:`time_op`, then more batches while the median is not known to within ``target``
    (relative half-width of its 95 % confidence interval, :func:`median_ci_rel`), until
    ``budget`` more seconds (wall, after the first batch) are spent or ``max_runs`` samples
    are taken. Process CPU time is compared with wall time over the whole figure:
    a share well below 1 means other processes were running on this CPU (the figure is
    then unreliable, see :mod:`mls_pq.bench.reliability`)."""
    c0, w0 = time.process_time(), time.perf_counter()
    before = kw.get("before")
    samples = time_op(run, reps, **kw)
    t_end = time.perf_counter() + budget  # the budget is for the runs beyond the first batch
    while median_ci_rel(samples) > target and time.perf_counter() < t_end and samples.size < max_runs:
        more = time_op(run, max(2, samples.size // 2), warmup=0, warmup_time=0.0, min_total=0.0, before=before,
                       collect=False)
        samples = np.concatenate([samples, more])
    return Timing(samples, time.process_time() - c0, time.perf_counter() - w0,
                  median_ci_rel(samples) > target)


def paired_ratio(
    run_a: Callable[[], Any],
    run_b: Callable[[], Any],
    *,
    t_a: float,
    t_b: float,
    rounds: int = 5,
    before_a: Callable[[], Any] | None = None,
    before_b: Callable[[], Any] | None = None,
    batch_time: float = 0.004,
) -> dict[str, float | int]:
    """Ratio time(B) / time(A) from batches interleaved in time (A B A B ...): each round
    times a batch of A then a batch of B (``k`` runs each, ``k`` such that a batch lasts
    about ``batch_time``; ``t_a``/``t_b`` are the figures' medians), and the ratio of the
    two batch medians is one sample; drift in machine speed between rounds cancels out.
    Returns the median ratio, its quartiles and the number of rounds."""
    k = max(1, min(20, math.ceil(batch_time / max(min(t_a, t_b), 1e-7))))
    ratios = []
    for _ in range(rounds):
        a = time_op(run_a, k, warmup=0, warmup_time=0.0, min_total=0.0, before=before_a)
        b = time_op(run_b, k, warmup=0, warmup_time=0.0, min_total=0.0, before=before_b)
        ma = float(np.median(a))
        if ma > 0:
            ratios.append(float(np.median(b)) / ma)
    if not ratios:
        return {"ratio": float("nan"), "ratio_q1": float("nan"), "ratio_q3": float("nan"), "ratio_rounds": 0}
    q1, med, q3 = np.percentile(ratios, [25, 50, 75])
    return {"ratio": float(med), "ratio_q1": float(q1), "ratio_q3": float(q3), "ratio_rounds": len(ratios),
            "ratio_batch": k}


def cache_clearers(suite: CipherSuite) -> list[Callable[[], None]]:
    """``cache_clear`` of every ``functools.lru_cache`` the suite's primitive adapters hold
    (parsed keys, derived key pairs; also inside hybrid KEMs' component KEMs)."""
    out: list[Callable[[], None]] = []
    seen: set[int] = set()

    def walk(obj: Any, depth: int) -> None:
        if id(obj) in seen or depth > 4:
            return
        seen.add(id(obj))
        clear = getattr(obj, "cache_clear", None)
        if callable(clear) and hasattr(obj, "cache_info"):
            out.append(clear)
            return
        if isinstance(obj, (list, tuple)):
            for x in obj:
                walk(x, depth + 1)
            return
        if not type(obj).__module__.startswith("mls_pq.crypto"):
            return
        for v in getattr(obj, "__dict__", {}).values():
            walk(v, depth + 1)

    for prim in (suite.kem, suite.kdf, suite.aead, suite.hash, suite.signature, suite.hpke_kdf):
        if prim is not None:
            walk(prim, 0)
    return out


def growth_slope(ns: Sequence[int], values: Sequence[float]) -> float | None:
    """Least-squares slope of log(value) against log(N): 1 means linear, ~0 constant,
    small positive values (e.g. 0.1-0.3 over 2..1000) are typical of log N growth."""
    pts = [(n, v) for n, v in zip(ns, values) if n > 0 and v is not None and v > 0]
    if len(pts) < 2 or len({n for n, _ in pts}) < 2:
        return None
    x = np.log([n for n, _ in pts])
    y = np.log([v for _, v in pts])
    return float(np.polyfit(x, y, 1)[0])


# ---- machine facts -------------------------------------------------------------------------------


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_facts() -> dict[str, Any]:
    """Platform, CPU, Python and library versions, recorded with every result."""
    from ..version import __version__

    try:
        from cryptography.hazmat.backends.openssl.backend import backend as _ossl

        openssl = _ossl.openssl_version_text()
    except Exception:  # noqa: BLE001  # pragma: no cover - informational only
        openssl = None
    try:
        affinity = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not on Linux
        affinity = None
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": affinity,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "libraries": {
            "mls-pq": _version("mls-pq") or __version__,
            "cryptography": _version("cryptography"),
            "pynacl": _version("pynacl") or _version("PyNaCl"),
            "kyber-py": _version("kyber-py"),
            "pqcrypto": _version("pqcrypto"),
            "numpy": _version("numpy"),
            "openssl": openssl,
        },
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


# ---- byte tallies under the counting adapters ----------------------------------------------------------


class ByteTally:
    """Octets fed to each size-dependent primitive, by the counter's operation names."""

    def __init__(self) -> None:
        self.bytes: Counter[str] = Counter()
        self.enabled = True

    def add(self, name: str, n: int) -> None:
        if self.enabled:
            self.bytes[name] += n

    def reset(self) -> None:
        self.bytes.clear()

    def snapshot(self) -> dict[str, int]:
        return dict(self.bytes)


class _Delegate:
    inner: Any

    def __getattr__(self, name: str) -> Any:  # fields such as n_pk, n_h, size, backend
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)


class _TallyHash(_Delegate, Hash):
    inner: Hash

    def __init__(self, inner: Hash, tally: ByteTally) -> None:
        self.inner, self.tally = inner, tally
        self.name, self.size, self.backend = inner.name, inner.size, inner.backend

    def digest(self, data: bytes) -> bytes:
        self.tally.add("hash", len(data))
        return self.inner.digest(data)

    def hmac(self, key: bytes, data: bytes) -> bytes:
        self.tally.add("mac", len(data))
        return self.inner.hmac(key, data)


class _TallyKdf(_Delegate, Kdf):
    inner: Kdf

    def __init__(self, inner: Kdf, tally: ByteTally) -> None:
        self.inner, self.tally = inner, tally
        self.id, self.name, self.backend = inner.id, inner.name, inner.backend
        self.n_h, self.two_stage = inner.n_h, inner.two_stage

    def extract(self, salt: bytes, ikm: bytes) -> bytes:
        self.tally.add("kdf.extract", len(ikm))
        return self.inner.extract(salt, ikm)

    def expand(self, prk: bytes, info: bytes, length: int) -> bytes:
        self.tally.add("kdf.expand", len(info))
        return self.inner.expand(prk, info, length)

    def derive(self, ikm: bytes, length: int) -> bytes:
        self.tally.add("kdf.derive", len(ikm))
        return self.inner.derive(ikm, length)


class _TallyAead(_Delegate, Aead):
    inner: Aead

    def __init__(self, inner: Aead, tally: ByteTally) -> None:
        self.inner, self.tally = inner, tally
        self.id, self.name, self.backend = inner.id, inner.name, inner.backend
        self.n_k, self.n_n, self.n_t = inner.n_k, inner.n_n, inner.n_t

    def seal(self, key: bytes, nonce: bytes, aad: bytes, pt: bytes) -> bytes:
        self.tally.add("aead.seal", len(pt))
        return self.inner.seal(key, nonce, aad, pt)

    def open(self, key: bytes, nonce: bytes, aad: bytes, ct: bytes) -> bytes:
        self.tally.add("aead.open", len(ct))
        return self.inner.open(key, nonce, aad, ct)


class _TallySignature(_Delegate, SignatureScheme):
    inner: SignatureScheme

    def __init__(self, inner: SignatureScheme, tally: ByteTally) -> None:
        self.inner, self.tally = inner, tally
        self.id, self.name, self.backend = inner.id, inner.name, inner.backend
        self.pk_size, self.sig_size, self.sk_size = inner.pk_size, inner.sig_size, inner.sk_size

    def generate(self) -> tuple[bytes, bytes]:
        return self.inner.generate()

    def public_key(self, sk: bytes) -> bytes:
        return self.inner.public_key(sk)

    def sign(self, sk: bytes, message: bytes) -> bytes:
        self.tally.add("sign", len(message))
        return self.inner.sign(sk, message)

    def verify(self, pk: bytes, message: bytes, signature: bytes) -> bool:
        self.tally.add("verify", len(message))
        return self.inner.verify(pk, message, signature)


def instrumented_suite(suite: CipherSuite) -> tuple[CipherSuite, OpCounter, ByteTally]:
    """``suite`` with operation counts (:func:`mls_pq.instrument.counting_suite`) and byte
    tallies. Counting and tallying start disabled; see :func:`counted`."""
    tally = ByteTally()
    sized = suite.with_primitives(
        hash=_TallyHash(suite.hash, tally),
        kdf=_TallyKdf(suite.kdf, tally),
        aead=_TallyAead(suite.aead, tally),
        signature=_TallySignature(suite.signature, tally),
        hpke_kdf=_TallyKdf(suite.hpke_kdf, tally) if suite.hpke_kdf is not None else None,
    )
    sized.__dict__.pop("hpke", None)
    wrapped, counter = counting_suite(sized)
    counter.enabled = False
    tally.enabled = False
    return wrapped, counter, tally


def counted(run: Callable[[], Any], counter: OpCounter, tally: ByteTally) -> tuple[dict[str, int], dict[str, int]]:
    """Run once with counting on: (operation counts, octets per operation)."""
    counter.reset()
    tally.reset()
    counter.enabled = tally.enabled = True
    try:
        run()
    finally:
        counter.enabled = tally.enabled = False
    return counter.snapshot(), tally.snapshot()


# ---- unit times ------------------------------------------------------------------------------------

#: composite operations: counted and timed for information, excluded from the floor
COMPOSITE = frozenset({"hpke.seal", "hpke.open"})
#: operations whose cost depends on the input size (the tally's octets)
SIZED = frozenset({"hash", "mac", "kdf.extract", "kdf.expand", "kdf.derive", "aead.seal", "aead.open", "sign", "verify"})
_SMALL, _LARGE = 64, 16384
#: signatures: the per-octet term (hashing the message) is fitted on 1 MiB, because on 16 KiB
#: it drowns in the per-call cost and its variation (ML-DSA's rejection sampling varies
#: by milliseconds); the engine signs GroupInfos of megabytes (ratchet_tree extension)
_SIG_LARGE = 1 << 20


@dataclass(frozen=True)
class UnitTime:
    """t(bytes) = per_call + per_byte * bytes, in seconds."""

    per_call: float
    per_byte: float = 0.0

    def cost(self, calls: int, nbytes: int = 0) -> float:
        return calls * self.per_call + nbytes * self.per_byte


def _best_time(fn: Callable[[], Any], budget: float = 0.002, repeat: int = 3) -> float:
    """Median over ``repeat`` loops of the per-call time, each loop lasting ~``budget`` s."""
    fn()
    t0 = time.perf_counter()
    fn()
    one = max(time.perf_counter() - t0, 1e-7)
    loops = max(1, min(10000, int(budget / one)))
    out = []
    for _ in range(repeat):
        gc.disable()
        try:
            t0 = time.perf_counter()
            for _ in range(loops):
                fn()
            out.append((time.perf_counter() - t0) / loops)
        finally:
            gc.enable()
    return float(np.median(out))


def _pooled_time(
    make: Callable[[], Any],
    fn: Callable[[Any], Any],
    budget: float = 0.002,
    repeat: int = 3,
    cap: int = 1500,
    clear: Callable[[], Any] | None = None,
) -> float:
    """Per-call time of ``fn(item)`` where every call gets a fresh item from ``make()``, so
    that the adapters' parsed-key caches (keyed by key bytes) never help: the cold cost."""
    t0 = time.perf_counter()
    probe = [make() for _ in range(2)]
    per_make = (time.perf_counter() - t0) / 2
    fn(probe[0])
    t0 = time.perf_counter()
    fn(probe[1])
    one = max(time.perf_counter() - t0, 1e-7)
    # the items are made outside the timed loop; bound their cost too (5 * budget)
    loops = max(1, min(cap // repeat, int(budget / one), int(5 * budget / max(per_make, 1e-7))))
    out = []
    for _ in range(repeat):
        pool = [make() for _ in range(loops)]
        if clear is not None:  # making the items may have cached what the calls will need
            clear()
        gc.disable()
        try:
            t0 = time.perf_counter()
            for item in pool:
                fn(item)
            out.append((time.perf_counter() - t0) / loops)
        finally:
            gc.enable()
    return float(np.median(out))


def _sized(fn: Callable[[bytes], Any], prep: Callable[[bytes], Any] | None = None, large: int = _LARGE) -> UnitTime:
    """Fit ``per_call + per_byte * n`` from ``fn(prep(x))`` on 64- and ``large``-octet inputs."""

    def at(n: int) -> float:
        x = os.urandom(n)
        arg = prep(x) if prep is not None else x
        return _best_time(lambda: fn(arg))

    t1, t2 = at(_SMALL), at(large)
    per_byte = max(0.0, (t2 - t1) / (large - _SMALL))
    return UnitTime(max(t1 - per_byte * _SMALL, 0.0), per_byte)


def measure_unit_times(suite: CipherSuite, names: Iterable[str], *, cold: bool = True) -> dict[str, UnitTime]:
    """Unit time of each named primitive operation of ``suite`` (plain, uncounted).

    Key-dependent operations (KEM, HPKE, verification, public-key derivation) get a fresh
    key or encapsulation per call (:func:`_pooled_time`): cold caches, unless ``cold`` is
    False, in which case one item is reused (warm caches, as in a steady state). Signing
    uses one key (the engine signs with its own key over and over). Hash, HMAC, KDF, AEAD, sign and
    verify are fitted as ``per_call + per_byte * bytes`` from 64- and 16384-octet inputs (1 MiB
    for sign and verify: :data:`_SIG_LARGE`)."""
    if not cold:
        pooled = _pooled_time

        def _warm(make: Callable[[], Any], fn: Callable[[Any], Any], **kw: Any) -> float:
            item = make()
            return pooled(lambda: item, fn, **kw)

        _pt: Callable[..., float] = _warm
    else:
        clearers = cache_clearers(suite)

        def _cold(make: Callable[[], Any], fn: Callable[[Any], Any], **kw: Any) -> float:
            return _pooled_time(make, fn, clear=lambda: [c() for c in clearers], **kw)

        _pt = _cold
    kem: Kem = suite.kem
    kdf: Kdf = suite.kdf
    aead: Aead = suite.aead
    sig: SignatureScheme = suite.signature
    h = suite.hash
    sk, pk = kem.generate_key_pair()
    ssk, _spk = sig.generate()
    key, nonce = bytes(aead.n_k), bytes(aead.n_n)
    nh = suite.n_h
    out: dict[str, UnitTime] = {}

    def msg(n: int) -> bytes:
        return os.urandom(n)

    def verify_sized(n: int) -> float:
        def make() -> tuple[bytes, bytes, bytes]:
            k, p = sig.generate()
            d = msg(n)
            return p, d, sig.sign(k, d)

        return _pt(make, lambda t: sig.verify(*t))

    for name in sorted(set(names)):
        if name == "hash":
            out[name] = _sized(h.digest)
        elif name == "mac":
            out[name] = _sized(lambda d: h.hmac(bytes(nh), d))
        elif name in ("kdf.extract", "kdf.expand") and not kdf.two_stage:
            continue
        elif name == "kdf.extract":
            out[name] = _sized(lambda d: kdf.extract(bytes(nh), d))
        elif name == "kdf.expand":
            out[name] = _sized(lambda d: kdf.expand(bytes(nh), d, nh))
        elif name == "kdf.derive":
            one_stage = [k for k in (kdf, suite.hpke_kdf) if k is not None and not k.two_stage]
            if one_stage:
                k2: Kdf = one_stage[0]
                out[name] = _sized(lambda d: k2.derive(d, nh))  # noqa: B023 - called right away
        elif name == "aead.seal":
            out[name] = _sized(lambda d: aead.seal(key, nonce, b"", d))
        elif name == "aead.open":
            out[name] = _sized(lambda c: aead.open(key, nonce, b"", c), lambda d: aead.seal(key, nonce, b"", d))
        elif name == "sign":
            out[name] = _sized(lambda d: sig.sign(ssk, d), large=_SIG_LARGE)
        elif name == "verify":
            t1, t2 = verify_sized(_SMALL), verify_sized(_SIG_LARGE)
            per_byte = max(0.0, (t2 - t1) / (_SIG_LARGE - _SMALL))
            out[name] = UnitTime(max(t1 - per_byte * _SMALL, 0.0), per_byte)
        elif name == "kem.generate_key_pair":
            out[name] = UnitTime(_best_time(kem.generate_key_pair))
        elif name == "kem.derive_key_pair":
            out[name] = UnitTime(_pt(lambda: msg(nh), kem.derive_key_pair))
        elif name == "kem.public_key":
            out[name] = UnitTime(_pt(lambda: kem.derive_key_pair(msg(nh))[0], kem.public_key))
        elif name == "kem.encap":
            out[name] = UnitTime(_pt(lambda: kem.derive_key_pair(msg(nh))[1], kem.encap))
        elif name == "kem.decap":
            out[name] = UnitTime(_pt(lambda: kem.encap(pk)[1], lambda e: kem.decap(e, sk)))
        elif name == "sig.generate":
            out[name] = UnitTime(_best_time(sig.generate))
        elif name == "sig.public_key":
            out[name] = UnitTime(_pt(lambda: sig.generate()[0], sig.public_key))
        elif name == "hpke.seal":
            out[name] = UnitTime(
                _pt(lambda: kem.derive_key_pair(msg(nh))[1],
                             lambda p: suite.hpke.seal_base(p, b"info", b"", bytes(nh)))
            )
        elif name == "hpke.open":
            out[name] = UnitTime(
                _pt(lambda: suite.hpke.seal_base(pk, b"info", b"", bytes(nh)),
                             lambda ec: suite.hpke.open_base(ec[0], sk, b"info", b"", ec[1]))
            )
        # unknown names (e.g. auth modes) have no unit time: reported, not in the floor
    return out


def crypto_floor(
    counts: dict[str, int], nbytes: dict[str, int], units: dict[str, UnitTime]
) -> tuple[float, dict[str, float], list[str]]:
    """(floor seconds, seconds per primitive, primitives without a unit time)."""
    parts: dict[str, float] = {}
    missing = []
    for name, c in counts.items():
        if name in COMPOSITE:
            continue
        u = units.get(name)
        if u is None:
            missing.append(name)
            continue
        parts[name] = u.cost(c, nbytes.get(name, 0) if name in SIZED else 0)
    return sum(parts.values()), parts, missing


def fmt_seconds(s: float | None) -> str:
    if s is None or math.isnan(s):
        return "-"
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.2f} ms"
    return f"{s * 1e6:.0f} µs"


__all__ = [
    "COMPOSITE",
    "ByteTally",
    "Stats",
    "Timing",
    "UnitTime",
    "cache_clearers",
    "counted",
    "crypto_floor",
    "growth_slope",
    "instrumented_suite",
    "machine_facts",
    "measure_unit_times",
    "median_ci_rel",
    "paired_ratio",
    "rel_spread",
    "summarize",
    "time_adaptive",
    "time_op",
]
