"""The size model (mls_pq.bench.model) against sizes measured on the real engine.

Every registered suite, N = 2, 4, 8 (and 5 for a few suites: a tree that is not full), both
tree shapes, every size metric: measured == model, octet for octet. Signature lengths are
taken from the measured messages (ECDSA signatures are DER and vary by a few octets; every
other scheme has a fixed length, and for those the nominal model must match as it is).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from mls_pq.bench.model import (
    SuiteSizes,
    TreeShape,
    model_breakdown,
    model_sizes,
    nominal,
    shape_facts,
    sig_range,
    update_path_ciphertexts,
    varint_len,
)
from mls_pq.bench.scenarios import SIZE_METRICS, GroupScenario, build_both
from mls_pq.extensions import RATCHET_TREE
from mls_pq.framing import unprotect_private
from mls_pq.messages.framing_structs import AuthenticatedContent, MLSMessage, PrivateMessage, PublicMessage
from mls_pq.messages.key_package import KeyPackage
from mls_pq.messages.welcome import GroupInfo
from mls_pq.suites import all_suites
from mls_pq.tree.nodes import decode_ratchet_tree

SUITES = all_suites()
SigSource = Callable[..., int]


def _body(data: bytes) -> object:
    return MLSMessage.from_bytes(data).body


def _leaf_sigs(tree_bytes: bytes) -> dict[int, int]:
    nodes = decode_ratchet_tree(tree_bytes)
    return {x // 2: len(n.signature) for x, n in enumerate(nodes) if n is not None and x % 2 == 0}  # type: ignore[union-attr]


def artefact_sigs(sc: GroupScenario) -> SigSource:
    """A SigSource with the signature lengths found in the scenario's measured messages
    (PrivateMessages are opened with the near member's state)."""
    art = sc.artefacts
    st = sc.near.state
    suite = sc.suite

    def opened(metric: str) -> tuple[bytes, object]:
        body = _body(art[metric])
        if isinstance(body, PublicMessage):
            return body.auth.signature, body.content.body
        assert isinstance(body, PrivateMessage)
        ac: AuthenticatedContent = unprotect_private(
            suite, body, st.context, st.secret_tree.copy(), st.secrets.sender_data_secret, st.member_key()
        )
        return ac.auth.signature, ac.content.body

    def gi(name: str) -> tuple[int, dict[int, int]]:
        g = _body(art[name])
        assert isinstance(g, GroupInfo)
        ext = g.extension(RATCHET_TREE)
        return len(g.signature), (_leaf_sigs(ext.extension_data) if ext is not None else {})

    kp = _body(art["key_package"])
    assert isinstance(kp, KeyPackage)
    table: dict[str, dict[str, int]] = {"key_package": {"kp": len(kp.signature), "kp_leaf": len(kp.leaf_node.signature)}}
    trees: dict[str, dict[int, int]] = {}
    for m in ("add_commit_public", "add_commit_private"):
        sig, commit = opened(m)
        added = commit.proposals[0].proposal.body.key_package  # type: ignore[attr-defined]
        table[m] = {"content": len(sig), "kp": len(added.signature), "kp_leaf": len(added.leaf_node.signature)}
    for m in ("update_commit_public", "update_commit_private", "external_commit", "app_message"):
        sig, body = opened(m)
        table[m] = {"content": len(sig)}
        if m != "app_message":
            table[m]["path_leaf"] = len(body.path.leaf_node.signature)  # type: ignore[attr-defined]
    for m, name in (("welcome_tree", "welcome_tree.group_info"), ("welcome_notree", "welcome_notree.group_info"),
                    ("group_info", "group_info")):
        g_sig, leaves = gi(name)
        table[m] = {"gi": g_sig}
        trees[m] = leaves
    trees["ratchet_tree"] = _leaf_sigs(art["ratchet_tree"])

    def src(metric: str, role: str, index: int | None = None) -> int:
        if index is not None:
            return trees[metric][index]
        return table[metric][role]

    return src


CASES = [(s, n) for s in SUITES for n in (2, 4, 8)] + [
    (s, 5) for s in SUITES if s.id in (0x0001, 0x0002, 0xF001, 0xF005)
]


@pytest.mark.parametrize(("suite", "n"), CASES, ids=[f"0x{s.id:04x}-N{n}" for s, n in CASES])
def test_measured_sizes_equal_model(suite: object, n: int) -> None:
    sc = build_both(suite, n)  # type: ignore[arg-type]
    p = SuiteSizes.of(sc.suite)
    for shape in ("sparse", "populated"):
        if shape == "populated":
            sc.populate()
        measured = sc.sizes()
        exact = model_sizes(p, n, shape, sigs=artefact_sigs(sc))
        assert measured == exact, {k: (measured[k], exact[k]) for k in measured if measured[k] != exact[k]}
        lo_hi = sig_range(p, n, shape)
        for k, v in measured.items():
            lo, hi = lo_hi[k]
            assert lo is not None and hi is not None and lo <= v <= hi, (k, v, lo, hi)
        if p.fixed_sig:  # no DER variation: the nominal model is exact by itself
            assert measured == model_sizes(p, n, shape)


def test_ecdsa_range_is_a_range() -> None:
    p = SuiteSizes.of(next(s for s in SUITES if s.id == 0x0002))
    assert not p.fixed_sig and p.sig == 72 and p.sig_min == 68
    lo, hi = sig_range(p, 16, "sparse")["ratchet_tree"]
    assert lo is not None and hi is not None and hi - lo == 16 * 4  # 16 leaf signatures, each up to 4 octets shorter


def test_copath_resolutions_match_engine_tree() -> None:
    """The model's tree simulation agrees with the engine's tree on the UpdatePath shape."""
    suite = next(s for s in SUITES if s.id == 0x0001)
    for n in (2, 3, 6, 9, 16):
        sc = build_both(suite, n)
        assert tuple(sc.copath_resolution_sizes()) == shape_facts(n, "sparse").update_path
        sc.populate()
        assert tuple(sc.copath_resolution_sizes()) == shape_facts(n, "populated").update_path


@pytest.mark.parametrize("n", [2, 3, 7, 8, 100, 1000, 100_000])
def test_update_path_ciphertext_counts(n: int) -> None:
    # sparse: every other member is in some copath resolution; populated: one per level
    assert update_path_ciphertexts(n, "sparse") == n - 1
    assert update_path_ciphertexts(n, "populated") == math.ceil(math.log2(n))


def test_add_extends_full_tree_and_marks_unmerged() -> None:
    t = TreeShape.bulk(4)
    t.commit(0)  # nodes 1 and 3 (root) set
    assert t.add() == 4 and t.n_nodes == 15
    # leaf 4 is not under the old root (node 3), and the new root 7 is blank: nothing records it
    assert t.nodes[3] == ("parent", False, 0) and t.nodes[7] is None
    t2 = TreeShape.bulk(5)
    t2.commit(0)  # direct path 1, 3, 7 (root)
    assert t2.add() == 5
    assert t2.nodes[7] == ("parent", False, 1)  # root: empty parent hash, leaf 5 unmerged


def test_varint_boundaries() -> None:
    assert [varint_len(x) for x in (0, 63, 64, 16383, 16384, (1 << 30) - 1)] == [1, 1, 2, 2, 4, 4]
    with pytest.raises(ValueError):
        varint_len(1 << 30)


def test_breakdown_sums_to_total_and_explains_pq_growth() -> None:
    s1 = next(s for s in SUITES if s.id == 0x0001)
    xw = next(s for s in SUITES if s.id == 0xF001)
    for s in (s1, xw):
        parts = model_breakdown(s, 64, "populated")
        sizes = model_sizes(s, 64, "populated")
        assert {k: sum(v.values()) if v is not None else None for k, v in parts.items()} == sizes
    # X-Wing's UpdatePath is dominated by KEM outputs and public keys
    up = model_breakdown(xw, 64, "populated")["update_commit_public"]
    assert up is not None
    assert (up["kem_output"] + up["hpke_key"]) / sum(up.values()) > 0.8
    assert set(model_sizes(s1, 2, "sparse")) == set(SIZE_METRICS)


def test_nominal_is_max() -> None:
    p = SuiteSizes.of(SUITES[0])
    assert nominal(p)("x", "gi") == p.sig and nominal(p, "min")("x", "gi") == p.sig_min
