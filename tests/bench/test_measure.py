"""Statistics, counting and the crypto floor (mls_pq.bench.measure)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mls_pq.bench import measure as M
from mls_pq.bench.scenarios import GroupScenario
from mls_pq.instrument import counting_suite
from mls_pq.suites import get_suite


def test_summarize_median_and_iqr() -> None:
    st = M.summarize([5.0, 1.0, 3.0, 2.0, 4.0])
    assert (st.median, st.q1, st.q3, st.iqr, st.min, st.reps) == (3.0, 2.0, 4.0, 2.0, 1.0, 5)
    assert st.as_dict()["iqr"] == 2.0
    with pytest.raises(ValueError):
        M.summarize([])


def test_growth_slope_recovers_power_laws() -> None:
    ns = [2, 8, 32, 128, 512]
    assert M.growth_slope(ns, [3.0 * n for n in ns]) == pytest.approx(1.0)
    assert M.growth_slope(ns, [7.0 for _ in ns]) == pytest.approx(0.0, abs=1e-12)
    assert M.growth_slope(ns, [n**0.5 for n in ns]) == pytest.approx(0.5)
    logn = M.growth_slope(ns, [math.log2(n) for n in ns])
    assert logn is not None and 0.2 < logn < 0.6  # log N growth looks like a small power
    assert M.growth_slope([4], [1.0]) is None


def test_time_op_counts_runs() -> None:
    calls = []
    s = M.time_op(lambda: calls.append(1), 4, warmup=2, warmup_time=0.0, min_total=0.0)
    assert len(s) == 4 and len(calls) == 6 and (s >= 0).all()
    # sub-millisecond operations get more samples, up to max_factor * reps
    s = M.time_op(lambda: None, 3, warmup=0, warmup_time=0.0, min_total=1.0, max_factor=5)
    assert len(s) == 15


def test_instrumented_suite_counts_like_counting_suite_and_tallies_bytes() -> None:
    suite = get_suite(0x0001)
    ics, counter, tally = M.instrumented_suite(suite)
    ref, ref_counter = counting_suite(suite)
    _sk, pk = suite.generate_key_pair()
    pt = bytes(40)

    def seal(cs: object) -> None:
        cs.encrypt_with_label(pk, "label", b"context", pt)  # type: ignore[attr-defined]

    counts, nbytes = M.counted(lambda: seal(ics), counter, tally)
    ref_counter.reset()
    seal(ref)
    assert counts == ref_counter.snapshot()
    assert counts["hpke.seal"] == 1 and counts["aead.seal"] == 1
    assert nbytes["aead.seal"] == len(pt)
    # counting is off outside `counted`
    seal(ics)
    assert counter.snapshot() == counts and tally.snapshot() == nbytes
    # signatures: the tally is the message length
    ssk, _ = suite.signature.generate()
    counts, nbytes = M.counted(lambda: ics.signature.sign(ssk, b"x" * 123), counter, tally)
    assert counts == {"sign": 1} and nbytes == {"sign": 123}


def test_crypto_floor_sums_leaf_primitives_only() -> None:
    units = {"kem.encap": M.UnitTime(1e-4), "aead.seal": M.UnitTime(1e-6, 1e-9), "hpke.seal": M.UnitTime(5.0)}
    floor, parts, missing = M.crypto_floor(
        {"kem.encap": 3, "aead.seal": 2, "hpke.seal": 3, "mystery": 1}, {"aead.seal": 1000}, units
    )
    assert parts == pytest.approx({"kem.encap": 3e-4, "aead.seal": 2e-6 + 1e-6})
    assert floor == pytest.approx(3e-4 + 3e-6)
    assert missing == ["mystery"]  # no unit time: reported, not summed


def test_unit_times_are_positive_and_size_dependent() -> None:
    suite = get_suite(0x0001)
    u = M.measure_unit_times(suite, ["hash", "kem.encap", "verify", "kdf.derive"])
    assert set(u) == {"hash", "kem.encap", "verify"}  # HKDF suites have no one-stage derive
    assert u["kem.encap"].per_call > 0 and u["verify"].per_call > 0
    assert u["hash"].per_byte > 0  # hashing 16 KiB costs more than 64 B


def test_counts_follow_the_tree_shape() -> None:
    """The floor's 'why': an UpdatePath encrypts once per copath resolution node."""
    ics, counter, tally = M.instrumented_suite(get_suite(0x0001))
    sc = GroupScenario.build(ics, 8, shape="populated", populate_later=True)
    ops = sc.ops()
    counts, _ = M.counted(ops["update_commit"].run, counter, tally)
    assert counts["hpke.seal"] == 7 and counts["kem.encap"] == 7  # sparse: N-1 ciphertexts
    sc.populate()
    ops = sc.ops()
    counts, _ = M.counted(ops["update_commit"].run, counter, tally)
    assert counts["hpke.seal"] == 3 and counts["kem.encap"] == 3  # populated: log2 N
    assert counts["sign"] >= 2  # at least the commit's leaf node and its FramedContent
    counts, _ = M.counted(ops["join"].run, counter, tally)
    assert counts["verify"] >= 8  # every leaf's signature is checked on join
    counts, _ = M.counted(ops["process_far"].run, counter, tally)
    assert counts["hpke.open"] == 1


def test_machine_facts() -> None:
    m = M.machine_facts()
    assert m["python"].startswith("CPython") or m["python"]
    for lib in ("cryptography", "pynacl", "mls-pq", "numpy"):
        assert m["libraries"][lib], lib
    assert isinstance(np.float64(1).item(), float)


def test_cache_clearers_reach_the_key_caches() -> None:
    # X-Wing holds caches in the hybrid and in its ML-KEM and X25519 components
    for sid in (0x0001, 0xF001, 0xF00B):
        suite = get_suite(sid)
        clearers = M.cache_clearers(suite)
        assert clearers, hex(sid)
        wrappers = [c.__self__ for c in clearers]  # type: ignore[attr-defined]
        sk, pk = suite.kem.generate_key_pair()
        suite.kem.decap(suite.kem.encap(pk)[1], sk)
        assert sum(w.cache_info().currsize for w in wrappers) > 0
        for c in clearers:
            c()
        assert all(w.cache_info().currsize == 0 for w in wrappers)
    calls: list[str] = []
    M.time_op(lambda: calls.append("run"), 2, warmup=1, warmup_time=0.0, min_total=0.0,
              before=lambda: calls.append("before"))
    assert calls == ["before", "run"] * 3


@pytest.mark.parametrize("sid", [0x0001, 0xF001])
def test_first_counted_run_equals_the_steady_state(sid: int) -> None:
    """The runner counts each operation once, without a warm-up run, on a recast and warmed
    scenario: that single run must count exactly what any later (warm) run does, and the
    same as a scenario restored from another process's bytes."""
    suite = get_suite(sid)
    sc = GroupScenario.build(suite, 12, shape="populated")
    restored = GroupScenario.restore(suite, sc.portable())
    counts: list[dict[str, tuple[dict[str, int], dict[str, int]]]] = []
    for source in (sc, restored):
        ccs, counter, tally = M.instrumented_suite(suite)
        rc = source.recast(ccs)
        rc.warm()
        ops = rc.ops()
        first = {name: M.counted(op.run, counter, tally) for name, op in ops.items()}
        again = {name: M.counted(op.run, counter, tally) for name, op in ops.items()}
        assert first == again
        counts.append(first)
    assert counts[0] == counts[1]
    # a warmed tree does not recompute tree hashes: an empty commit hashes O(log N) nodes
    assert counts[0]["update_commit"][0]["hash"] < 2 * 12
