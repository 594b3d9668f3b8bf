"""``mls-pq bench --combiner``: the APQ-MLS combiner (draft-ietf-mls-combiner) measured against
hybrid and classical suites (mls_pq.bench.combiner), and the exact size model of combined groups
(mls_pq.bench.model.apq_model_sizes)."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest

from mls_pq.apq.group import APQGroup
from mls_pq.apq.structs import APQ_COMPONENT_ID, APQMessagePair
from mls_pq.bench.cli import main
from mls_pq.bench.combiner import (
    PQ_GROUP_ID,
    T_GROUP_ID,
    CombinedScenario,
    amortized,
    apq,
    parse_pair,
)
from mls_pq.bench.model import apq_model_sizes, model_sizes
from mls_pq.cliutil import UsageError
from mls_pq.messages.framing_structs import WireFormat
from mls_pq.suites import get_suite

T, PQ, PQ_MLDSA = 0x0001, 0xF006, 0xF00A
GT, GP = len(T_GROUP_ID), len(PQ_GROUP_ID)


@pytest.fixture(scope="module")
def doc(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("combiner")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = main(["--combiner", "0x0001+0xF006", "--sizes", "2,8", "--shape", "both", "--reps", "1",
                   "--budget", "0", "--json", "--quiet", "--no-plots", "--cpu-time", "--out", str(out)])
    assert rc == 0
    d: dict[str, Any] = json.loads(buf.getvalue())
    assert json.loads((out / "combiner.json").read_text())["rows"] == d["rows"]
    return d


def _rows(doc: dict[str, Any]) -> dict[tuple[str, int, str, str], dict[str, Any]]:
    return {(r["system"], r["n"], r["shape"], r["metric"]): r for r in doc["rows"]}


def test_json_fields(doc: dict[str, Any]) -> None:
    assert doc["schema"] == "mls-pq-bench-combiner/1" and doc["complete"]
    assert doc["config"]["basis"] == "cpu" and all(a["basis"] == "cpu" for a in doc["amortized"])
    assert doc["config"]["pairs"] == ["0x0001+0xf006"] and doc["config"]["compare"] == ["0xf001", "0x0001"]
    assert doc["machine"]["cpu"] and "other_busy_cpus" in doc["reliability"]
    systems = {r["system"] for r in doc["rows"]}
    assert systems == {"0x0001+0xf006", "0xf001", "0x0001"}
    idx = _rows(doc)
    for n in (2, 8):
        for shape in ("sparse", "populated"):
            for m in ("full_commit", "partial_commit", "welcome_pair", "full_create", "full_process",
                      "partial_create", "partial_process", "join"):
                assert ("0x0001+0xf006", n, shape, m) in idx
            for s in ("0xf001", "0x0001"):
                for m in ("commit", "welcome", "commit_create", "commit_process", "join"):
                    assert (s, n, shape, m) in idx
    for r in doc["rows"]:
        assert isinstance(r["flags"], list)
        if r["kind"] == "time":
            assert r["median"] > 0 and r["reps"] >= 1 and 0 < r["cpu_share"] <= 1
            # CPU time of one single-threaded run: positive, not above its wall time (clock granularity aside)
            assert 0 < r["cpu_median"] <= r["median"] * 1.05 + 1e-3 and r["cpu_q1"] <= r["cpu_median"] <= r["cpu_q3"]
    comb = next(r for r in doc["rows"] if r["system"] == "0x0001+0xf006")
    assert comb["mode"] == 0 and comb["t_suite"] == T and comb["pq_suite"] == PQ
    assert len(doc["amortized"]) == 3 * 2 * 2 * 3  # systems x N x shapes x k
    # bytes are exact: a FULL commit is larger than an X-Wing commit, one every 10 commits is not
    vs_xwing = [a for a in doc["answer"] if "vs 0xf001" in a]
    assert len(vs_xwing) == 4 and all("cheaper in bytes from k = 10 " in a for a in vs_xwing)
    assert all("cheaper in bytes not at k <= 100" in a for a in doc["answer"] if "vs 0x0001" in a)


def test_sizes_equal_the_model(doc: dict[str, Any]) -> None:
    """Every measured size of the combined group and the comparison suites is the model's,
    octet for octet (Ed25519: fixed-length signatures)."""
    sizes = [r for r in doc["rows"] if r["kind"] == "size"]
    assert len(sizes) == 2 * 2 * (7 + 2 + 2)
    for r in sizes:
        assert r["model_ok"] and r["model"] == r["median"] == r["model_lo"] == r["model_hi"], r
    idx = _rows(doc)
    for n in (2, 8):
        for shape in ("sparse", "populated"):
            def g(m: str, n: int = n, shape: str = shape) -> int:
                return int(idx[("0x0001+0xf006", n, shape, m)]["median"])

            assert g("full_commit") == 6 + g("full_commit.t") + g("full_commit.pq")  # §6 framing
            assert g("welcome_pair") == 6 + g("welcome_pair.t") + g("welcome_pair.pq")
            # FULL > PARTIAL: the FULL's traditional commit alone is larger (PSK + APQInfo updates)
            assert g("full_commit") > g("full_commit.t") > g("partial_commit")
            assert idx[("0x0001+0xf006", n, shape, "full_create")]["median"] > 0


def test_amortized_formula(doc: dict[str, Any]) -> None:
    idx = _rows(doc)
    seen = 0
    for a in doc["amortized"]:
        k, key = a["k"], (a["system"], a["n"], a["shape"])
        if a["kind_of"] == "combiner":
            for field, (full, partial) in {"bytes": ("full_commit", "partial_commit"),
                                           "create_s": ("full_create", "partial_create"),
                                           "process_s": ("full_process", "partial_process")}.items():
                value = "median" if field == "bytes" else "cpu_median"  # the run's --cpu-time basis
                f, p = idx[(*key, full)][value], idx[(*key, partial)][value]
                assert a[field] == pytest.approx((f + (k - 1) * p) / k)
            seen += 1
        else:
            assert a["bytes"] == idx[(*key, "commit")]["median"]
            assert a["process_s"] == idx[(*key, "commit_process")]["cpu_median"]
        assert a["total_s"] == pytest.approx(a["create_s"] + a["process_s"])
    assert seen == 2 * 2 * 3
    # bytes per commit fall with k towards the PARTIAL commit
    for n in (2, 8):
        by_k = {a["k"]: a["bytes"] for a in doc["amortized"]
                if a["system"] == "0x0001+0xf006" and a["n"] == n and a["shape"] == "populated"}
        partial = idx[("0x0001+0xf006", n, "populated", "partial_commit")]["median"]
        assert by_k[1] > by_k[10] > by_k[100] > partial


def test_amortized_flags_come_from_the_figures() -> None:
    rows = [{"system": "a+b", "kind_of": "combiner", "suite_hex": "x", "suite_name": "x", "n": 2, "shape": "sparse",
             "metric": m, "kind": "size" if m.endswith("commit") else "time", "median": v, "cpu_median": v / 2,
             "cpu_ci_rel": 0.5 if m == "full_create" else 0.01, "flags": ["cpu"] if m == "partial_process" else []}
            for m, v in (("full_commit", 1000), ("partial_commit", 100), ("full_create", 10.0),
                         ("partial_create", 1.0), ("full_process", 8.0), ("partial_process", 2.0))]
    am = {r["k"]: r for r in amortized(rows, [1, 10])}
    assert am[1]["bytes"] == 1000 and am[10]["bytes"] == pytest.approx(190)
    assert am[10]["process_s"] == pytest.approx((8 + 9 * 2) / 10)
    assert am[1]["flags"] == [] and am[10]["flags"] == ["cpu"]
    cpu = {r["k"]: r for r in amortized(rows, [1, 10], basis="cpu")}
    assert cpu[10]["bytes"] == pytest.approx(190)  # octets do not depend on the time basis
    assert cpu[10]["create_s"] == pytest.approx((5 + 9 * 0.5) / 10)
    assert cpu[1]["flags"] == ["spread"]  # the CPU-time samples of full_create are spread


@pytest.mark.parametrize("pq", [PQ, PQ_MLDSA])
def test_model_exact_for_combined_groups(pq: int) -> None:
    """Both modes (ML-DSA-65 in the PQ session for mode 1), both shapes, N not a power of 2."""
    ts, ps = get_suite(T), get_suite(pq)
    sc = CombinedScenario.build(ts, ps, 5, shape="populated", populate_later=True)
    assert sc.mode == (pq == PQ_MLDSA)
    for shape in ("sparse", "populated"):
        if shape == "populated":
            sc.populate()
        assert sc.sizes() == apq_model_sizes(ts, ps, 5, shape, t_group_id=GT, pq_group_id=GP)
    # the combined group's PARTIAL commit costs only its larger leaves over a plain suite-1 commit
    plain = model_sizes(ts, 5, "populated")["update_commit_public"]
    assert plain is not None and 0 < sc.sizes()["partial_commit"] - plain < 100


def test_measured_full_commit_is_a_real_one() -> None:
    """The FULL and PARTIAL commits the benchmark times (APQGroup on the bulk-built sessions) are
    processed by another member to the same epochs of both sessions, the FULL one with the
    apq_psk proposal (§3.1, §5.2, §6); the Welcome pair joins both sessions (§3.2)."""
    ts, ps = get_suite(T), get_suite(PQ)
    sc = CombinedScenario.build(ts, ps, 4, shape="populated")
    alice, dave = apq(*sc._states(0)), apq(*sc._states(3))
    assert alice.apq_info == dave.apq_info and alice.apq_info.pq_epoch == alice.pq.epoch
    out = alice.commit(full=True)
    pair = APQMessagePair.from_mls_message(out.commit)
    assert pair.wire_format == int(WireFormat.PUBLIC_MESSAGE)
    alice.merge_pending_commit()
    got = dave.process(out.commit)
    assert got.kind == "commit" and got.full and got.t_effects is not None
    assert any(p.component_id == APQ_COMPONENT_ID for p in got.t_effects.psks)
    assert dave.epochs == alice.epochs and dave.epoch_authenticator == alice.epoch_authenticator
    assert dave.pq.epoch_authenticator == alice.pq.epoch_authenticator
    pq_epoch = alice.pq.epoch
    part = alice.commit(full=False)  # PARTIAL: the traditional session only
    alice.merge_pending_commit()
    assert not dave.process(part.commit).full and dave.epochs == alice.epochs == (alice.t.epoch, pq_epoch)
    add, bundle = sc.add_commit()
    assert add.welcome is not None
    joined = APQGroup.join(add.welcome, bundle)
    assert joined.epochs == (sc.t.committer.epoch + 1, sc.pq.committer.epoch + 1) and len(joined.members()) == 5


def test_pairs() -> None:
    assert parse_pair("0x0001+0xF006") == (T, PQ)
    assert parse_pair("1+0xf00a") == (T, PQ_MLDSA)
    with pytest.raises(UsageError, match="7.1.1"):  # a hybrid KEM in the PQ session
        parse_pair("0x0001+0xF001")
    with pytest.raises(UsageError, match="7.1"):  # the same suite twice / a PQ suite as traditional
        parse_pair("0xF006+0xF006")
    with pytest.raises(UsageError, match="TRADITIONAL\\+PQ"):
        parse_pair("0x0001")


def test_cli_rejects_a_bad_pair(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--combiner", "0x0001+0xF001", "--sizes", "2", "--out", str(tmp_path)]) != 0
    assert "7.1.1" in capsys.readouterr().err
    assert not (tmp_path / "combiner.json").exists()


def test_plot(doc: dict[str, Any], tmp_path: Path) -> None:
    from mls_pq.bench import plots

    if not plots.available():
        pytest.skip("matplotlib is not installed (the bench extra)")
    written = plots.write_combiner_plot(doc, tmp_path)
    assert [p.name for p in written] == ["combiner_sparse.png", "combiner_populated.png"]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 10_000 for p in written)
