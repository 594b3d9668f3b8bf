"""The Exporter Tree and SafeExportSecret (draft-ietf-mls-extensions §4.4). The draft publishes
no test vectors: the tests check the structure against a naive secret-tree derivation written
with the engine's tree math (RFC 9420 §9), determinism, separation and the consumed semantics."""

from __future__ import annotations

from functools import lru_cache

import pytest

from mls_pq.client import Client
from mls_pq.errors import DecodeError, DraftValidationError, SecretConsumedError
from mls_pq.exporter_tree import ROOT, ExporterTree, safe_export_secret
from mls_pq.group import Group
from mls_pq.key_schedule import advance, application_export_secret
from mls_pq.suites import get_suite
from mls_pq.tree import math as tm

S = get_suite(0x0001)
ROOT_SECRET = bytes(range(32))


def naive_leaf_secret(root_secret: bytes, component_id: int) -> bytes:
    """tree_node_[2*id]_secret, derived top-down as in RFC 9420 §9 over 2^16 leaves."""

    @lru_cache(maxsize=None)
    def node(x: int) -> bytes:
        if x == tm.root(1 << 16):
            return root_secret
        p = tm.parent(x, 1 << 16)
        return S.expand_with_label(node(p), "tree", b"left" if x < p else b"right", S.n_h)

    return node(tm.leaf_to_node(component_id))


def test_tree_shape_section_4_4() -> None:
    assert ROOT == tm.root(1 << 16) == 0xFFFF


@pytest.mark.parametrize("cid", [0x0000, 0x0001, 0x0006, 0x7FFF, 0x8000, 0xFFFE, 0xFFFF])
def test_leaf_secret_is_secret_tree_leaf_section_4_4(cid: int) -> None:
    secret, _ = ExporterTree(S, ROOT_SECRET).export(cid)
    assert secret == naive_leaf_secret(ROOT_SECRET, cid)
    assert len(secret) == S.n_h


def test_deterministic_and_separated_by_component_section_4_4() -> None:
    t = ExporterTree(S, ROOT_SECRET)
    a6, t1 = t.export(6)
    a7, t2 = t1.export(7)
    b6, _ = ExporterTree(S, ROOT_SECRET).export(6)
    b7, _ = ExporterTree(S, ROOT_SECRET).export(7)
    assert a6 == b6 and a7 == b7 and a6 != a7
    other, _ = ExporterTree(S, bytes(32)).export(6)
    assert other != a6
    # exporting in another order gives the same values
    c7, u = ExporterTree(S, ROOT_SECRET).export(7)
    c6, _ = u.export(6)
    assert (c6, c7) == (a6, a7)


def test_consumed_once_section_4_4() -> None:
    t = ExporterTree(S, ROOT_SECRET)
    secret, t1 = safe_export_secret(t, 6)
    assert t1.is_consumed(6) and not t1.is_consumed(7) and not t.is_consumed(6)
    with pytest.raises(SecretConsumedError, match="0x0006.*§4.4"):
        t1.export(6)
    # the old value is untouched (immutable): a group keeps it until the export is committed
    assert t.export(6)[0] == secret


def test_deletion_schedule_rfc9420_9_2() -> None:
    """Consumed source material is deleted: the root and every node on the path are gone, only
    the 16 copath siblings stay live, and the exported leaf secret is not kept."""
    t = ExporterTree(S, ROOT_SECRET)
    secret, t1 = t.export(6)
    live = dict(t1.node_secrets())
    assert len(live) == 16 and ROOT not in live
    assert secret not in live.values() and ROOT_SECRET not in live.values()
    assert sorted(live) == sorted(tm.copath(tm.leaf_to_node(6), 1 << 16))
    # a neighbour: its leaf was live (sibling of 6's leaf) and is now consumed too
    _, t2 = t1.export(7)
    assert len(dict(t2.node_secrets())) == 15
    assert all(t2.is_consumed(c) for c in (6, 7))


def test_component_id_range_section_4_1() -> None:
    with pytest.raises(DraftValidationError, match="§4.1"):
        ExporterTree(S, ROOT_SECRET).export(0x10000)
    with pytest.raises(DraftValidationError, match="§4.4"):
        ExporterTree(S, b"short")


def test_serialisation_round_trip_and_rejections() -> None:
    _, t = ExporterTree(S, ROOT_SECRET).export(6)
    enc = t.to_bytes()
    back = ExporterTree.from_bytes(S, enc)
    assert back == t
    assert back.export(7)[0] == naive_leaf_secret(ROOT_SECRET, 7)
    with pytest.raises(SecretConsumedError):
        back.export(6)
    from mls_pq.codec import Writer

    def enc_nodes(nodes: list[tuple[int, bytes]]) -> bytes:
        return Writer().vector(nodes, lambda w, kv: w.uint32(kv[0]).opaque(kv[1])).getvalue()

    for bad in (
        enc_nodes([(ROOT, ROOT_SECRET), (6, ROOT_SECRET)]),  # a node and its ancestor
        enc_nodes([(1 << 17, ROOT_SECRET)]),  # outside the tree
        enc_nodes([(12, ROOT_SECRET), (4, ROOT_SECRET)]),  # unsorted
        enc_nodes([(4, b"x")]),  # wrong size
    ):
        with pytest.raises(DecodeError):
            ExporterTree.from_bytes(S, bad)
    assert "00010203" not in repr(t)


def test_key_schedule_application_export_secret_section_4_4() -> None:
    secrets = advance(S, bytes(32), None, None, b"group context")
    assert secrets.application_export_secret == S.derive_secret(secrets.epoch_secret, "application_export")
    assert secrets.application_export_secret == application_export_secret(S, secrets.epoch_secret)
    assert secrets.application_export_secret not in (secrets.exporter_secret, secrets.epoch_secret)


def test_members_agree_on_safe_export_secret() -> None:
    alice_c, bob_c = Client.generate(S, b"alice"), Client.generate(S, b"bob")
    alice = Group.create(S, b"g", alice_c.credential, alice_c.signature_priv)
    kp, bundle = bob_c.key_package()
    out = alice.commit(add=[kp])
    alice.merge_pending_commit()
    assert out.welcome is not None
    bob = Group.join(out.welcome, bundle)
    ours = [ExporterTree(S, g.state.secrets.application_export_secret).export(6)[0] for g in (alice, bob)]
    assert ours[0] == ours[1]
    assert ours[0] != alice.export_secret("x", b"", 32)
