"""``mls-pq bench --compare ts-mls`` (mls_pq/bench/compare.py and the driver's ``bench`` op).

The live comparison (suites 1 and 83 at N = 2 and 8) needs Node.js >= 20 and is skipped
only where Node is absent; the first run installs ts-mls from npm into the cache
directory. The size model of ts-mls's encoding choices, the pairing and the CLI's
no-Node path are checked without Node.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mls_pq.bench import compare as C
from mls_pq.bench.cli import main as bench_main
from mls_pq.bench.config import SIZE_METRICS, TIME_OPS
from mls_pq.client import default_capabilities
from mls_pq.extensions import GREASE_VALUES
from mls_pq.messages.credential import Credential
from mls_pq.messages.framing_structs import MLSMessage
from mls_pq.messages.key_package import KeyPackage
from mls_pq.suites import get_suite

HAVE_NODE = bool(os.environ.get("MLS_PQ_NODE") or shutil.which("node"))
needs_node = pytest.mark.skipif(not HAVE_NODE, reason="Node.js (node) is not installed: ts-mls cannot run")

#: metrics whose construction is the same in both implementations for suites 1 and 83
SAME = ("key_package", "add_commit_public", "add_commit_private", "update_commit_public", "update_commit_private",
        "ratchet_tree", "app_message", "external_commit")


# ---- without Node -------------------------------------------------------------------------------------


def test_plan_pairs_shared_and_draft06_suites() -> None:
    pairs = C.plan([1, 83, 0xF002])
    assert [(p.suite, p.profile, p.ts_suite, p.pairing) for p in pairs] == [
        (1, None, 1, "same"), (83, "ts-mls-1.6", 83, "same"), (0xF002, None, 83, "nearest")]
    # TBD2 vs ts-mls 83: both X-Wing, but the KDFs/hash and X-Wing's DeriveKeyPair differ
    diffs = " ".join(pairs[2].differences)
    assert "HKDF-SHA384 vs HKDF-SHA512" in diffs and "SHA384 vs SHA512" in diffs and "xwing-draft" in diffs
    assert pairs[0].differences == () and pairs[1].differences == ()
    with pytest.raises(ValueError, match="not in ts-mls"):
        C.plan([0x0042])
    assert C.parse_suites(["rfc,0x53", "draft06"])[:8] == [1, 2, 3, 4, 5, 6, 7, 83]
    assert C.parse_suites(None) == [*range(1, 8), *range(77, 89)]


def test_expected_differences_x25519_and_xwing() -> None:
    # suite 1: external_pub = type (2) + opaque<V>(opaque<V>(32-octet key)) = 2 + 1 + 1 + 32 = 36
    e1 = C.size_expectations(get_suite(1), 8)
    assert {m: e1[m].deltas for m in SIZE_METRICS if e1[m].deltas} == {
        "welcome_tree": {"W": -36}, "welcome_notree": {"W": -36}, "group_info": {"E": -1}}
    # suite 83: X-Wing key 1216 octets: 2 + 2 + 2 + 1216 = 1222; without the tree, the GroupInfo
    # extensions vector shrinks from 1222 octets to none and its own length prefix from 2 to 1
    e83 = C.size_expectations(get_suite(83, "ts-mls-1.6"), 8)
    assert e83["welcome_tree"].deltas == {"W": -1222} and e83["welcome_notree"].deltas == {"W": -1223}
    assert e83["group_info"].deltas == {"E": -2}  # a 2-octet length prefix left out
    assert all(not e83[m].deltas and not e83[m].variable for m in SAME)


def test_expected_differences_ecdsa() -> None:
    e = C.size_expectations(get_suite(2), 8)
    # a P-256 signature key shrinks from 65 to 33 octets and its length prefix from 2 to 1:
    # -33 per key; one key in a KeyPackage, N + 1 leaves in the Welcome's tree
    assert e["key_package"].deltas == {"C": -33} and e["key_package"].variable
    assert e["welcome_tree"].deltas == {"W": -(2 + 2 + 2 + 65), "C": -33 * 9}
    assert e["group_info"].deltas == {"E": -2, "C": -33 * 8}
    assert e["app_message"].deltas == {} and e["app_message"].reasons == ["D"]
    lo, hi = e["key_package"].ts_lo, e["key_package"].ts_hi
    assert lo < hi  # DER signature lengths


def test_size_status() -> None:
    exact = C.SizeExpectation({}, 0, 0, False)
    assert C.size_status(300, 300, exact)[0] == "equal"
    assert C.size_status(300, 299, exact)[0] == "mismatch"  # same construction: must be equal
    w = C.SizeExpectation({"W": -36}, 0, 0, False)
    assert C.size_status(919, 883, w) == ("explained", 883, 883)
    assert C.size_status(919, 882, w)[0] == "mismatch"
    der = C.SizeExpectation({"C": -32}, 360, 366, True)
    assert C.size_status(397, 365, der)[0] == "explained" and C.size_status(397, 367, der)[0] == "mismatch"


def test_cli_without_node(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MLS_PQ_NODE", str(tmp_path / "no-such-node"))
    rc = bench_main(["--compare", "ts-mls", "--suites", "1", "--sizes", "2", "--out", str(tmp_path), "--quiet"])
    assert rc == 3
    assert "skipped" in capsys.readouterr().err and not (tmp_path / "compare.json").exists()


# ---- with Node: the live comparison ------------------------------------------------------------------

CONFIG = C.CompareConfig(suites=[1, 83], sizes=[2, 8], reps=1, warmup=1, ts_warmup=1, ts_warmup_time=0.0,
                         min_total=0.0)


@pytest.fixture(scope="module")
def peer() -> Iterator[Any]:
    if not HAVE_NODE:
        pytest.skip("Node.js (node) is not installed: ts-mls cannot run")
    from mls_pq.interop.tsmls import TsMlsPeer, find_node

    find_node()  # a too-old node fails here with a clear message
    with TsMlsPeer(timeout=600) as p:
        yield p


@pytest.fixture(scope="module")
def doc(peer: Any) -> dict[str, Any]:
    return C.compare(CONFIG, peer=peer)


@needs_node
def test_sizes_agree_where_constructions_agree(doc: dict[str, Any]) -> None:
    sizes = [r for r in doc["rows"] if r["kind"] == "size"]
    assert len(sizes) == 2 * 2 * len(SIZE_METRICS)
    assert doc["summary"]["mismatches"] == []
    for r in sizes:
        where = f"0x{r['suite']:04x} N={r['n']} {r['metric']}"
        if r["metric"] in SAME:
            assert r["status"] == "equal" and r["mls_pq"] == r["ts_mls"] and r["ratio"] == 1.0, where
        else:  # Welcomes (W) and GroupInfo (E): exactly the modelled difference
            assert r["status"] == "explained" and r["ts_mls"] - r["mls_pq"] == r["expected_delta"] != 0, where
    one = {(r["n"], r["metric"]): r for r in sizes if r["suite"] == 1}
    assert one[(2, "key_package")]["ts_mls"] == one[(8, "key_package")]["ts_mls"]  # no random GREASE
    assert one[(8, "welcome_tree")]["reasons"] == ["W"] and one[(8, "group_info")]["reasons"] == ["E"]
    xw = {(r["n"], r["metric"]): r for r in sizes if r["suite"] == 83}
    assert xw[(8, "welcome_notree")]["delta"] == -1223 and xw[(8, "group_info")]["delta"] == -2
    # the tree grows with N in both, identically
    assert xw[(8, "ratchet_tree")]["ts_mls"] > 3 * xw[(2, "ratchet_tree")]["ts_mls"]


@needs_node
def test_time_ratios(doc: dict[str, Any]) -> None:
    times = [r for r in doc["rows"] if r["kind"] == "time"]
    assert {r["metric"] for r in times} == set(TIME_OPS) and len(times) == 2 * 2 * len(TIME_OPS)
    for r in times:
        assert r["mls_pq"] > 0 and r["ts_mls"] > 0
        assert r["ratio"] == pytest.approx(r["mls_pq"] / r["ts_mls"])
        assert r["ts_mls_stats"]["reps"] >= 1 and r["mls_pq_stats"]["reps"] >= 1
        assert r["ts_mls_stats"]["q1"] <= r["ts_mls"] <= r["ts_mls_stats"]["q3"]
    assert doc["summary"]["time_ratio_geomean"] > 0
    assert doc["machine"]["libraries"]["ts-mls"].startswith("1.6.")


@needs_node
def test_outputs(doc: dict[str, Any], tmp_path: Path) -> None:
    C.write_json(doc, tmp_path / "compare.json")
    C.write_csv(doc, tmp_path / "compare.csv")
    back = json.loads((tmp_path / "compare.json").read_text())
    assert back["schema"] == "mls-pq-bench-compare/1" and len(back["rows"]) == len(doc["rows"])
    with (tmp_path / "compare.csv").open() as f:
        lines = list(csv.DictReader(f))
    assert len(lines) == len(doc["rows"]) and {"ratio", "status", "reasons", "note"} <= set(lines[0])
    text = C.render_plain(doc)
    assert "0x0001" in text and "0x0053" in text and "MISMATCH" not in text and "W: " in text
    print(text)  # the table (pytest -s)


@needs_node
def test_ts_keypackage_content_is_mls_pqs(peer: Any) -> None:
    """The driver builds ts-mls KeyPackages with mls-pq's capabilities (no GREASE): decoded by
    mls-pq, they carry exactly default_capabilities, and ts-mls's ECDSA key is compressed."""
    for sid, profile, sig_pk in ((1, None, 32), (83, "ts-mls-1.6", 32), (2, "ts-mls-1.6", 33)):
        cfg = C.CompareConfig(suites=[sid], reps=1)
        r = peer.raw("bench", **C.ts_bench_request(cfg, sid, 2, time_ops=[], artefacts=True))
        kp = MLSMessage.from_bytes(bytes.fromhex(r["artefacts"]["key_package"])).body
        assert isinstance(kp, KeyPackage) and kp.cipher_suite == sid
        cs = get_suite(sid, profile)
        leaf = kp.leaf_node
        assert leaf.capabilities == default_capabilities(cs, Credential.basic(b"n0000000"))
        caps = leaf.capabilities
        assert not set(GREASE_VALUES) & {*caps.cipher_suites, *caps.extensions, *caps.proposals, *caps.credentials}
        assert len(leaf.signature_key) == sig_pk and r["sizes"]["key_package"] == len(r["artefacts"]["key_package"]) // 2
        kp.verify(cs)  # a valid KeyPackage by mls-pq's checks too


@needs_node
def test_cli_compare(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = bench_main(["--compare", "ts-mls", "--suites", "1", "--sizes", "2", "--reps", "1", "--out", str(tmp_path),
                     "--quiet"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert (tmp_path / "compare.json").exists() and (tmp_path / "compare.csv").exists()
    assert "SIZES" in out and "TIMES" in out and "0x0001" in out
