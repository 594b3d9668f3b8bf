"""mls-pq <-> ts-mls 1.6 interop matrix: every shared suite, both directions, real wire bytes.

Each case runs the scenario of :mod:`mls_pq.interop.harness` (Welcomes with and without
the ratchet_tree extension, commits as PublicMessage and PrivateMessage from both sides,
adds, removes, proposals by reference, application messages, GREASE-carrying KeyPackages)
and requires both implementations to agree on every epoch's tree hash, transcript hash,
epoch authenticator and exporter output. The shared suites are RFC 9420 1–7 and ts-mls's
77–88, which mls-pq runs under its ``ts-mls-1.6`` profile.

The negative cases show that the harness can fail: mls-pq with a construction other than
ts-mls's (strict ECDSA key parsing, draft-ietf-hpke-pq DeriveKeyPair, the KDF of the suite
name, AES-128-GCM for suite 77) does not interoperate, and a disagreement is reported with
the first differing field. Skipped only when Node.js is absent.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from mls_pq.interop.tsmls import NodeNotFoundError, TsMlsPeer, find_node

try:
    find_node()
except NodeNotFoundError as _e:  # absent (or older than ts-mls needs): the reason says which
    pytest.skip(f"ts-mls interop matrix not run: {_e}", allow_module_level=True)

from mls_pq import crypto
from mls_pq.cli import main
from mls_pq.interop import cli as interop_cli
from mls_pq.interop import harness as H
from mls_pq.suites import get_suite

SHARED = [*range(1, 8), *range(77, 89)]


@pytest.fixture(scope="module")
def peer() -> Iterator[TsMlsPeer]:
    with TsMlsPeer() as p:
        yield p


def test_every_candidate_suite_is_shared(peer: TsMlsPeer) -> None:
    assert H.shared_suites(peer) == SHARED == list(H.CANDIDATE_SUITES)
    assert interop_cli.DIRECTIONS == H.DIRECTIONS
    names = peer.suite_names()
    for sid in range(77, 89):  # mls-pq's ts-mls profile names ts-mls's suites after ts-mls
        assert get_suite(sid, H.PROFILE).name == "TS" + names[sid]


@pytest.mark.parametrize("direction", H.DIRECTIONS)
@pytest.mark.parametrize("suite", SHARED)
def test_matrix(peer: TsMlsPeer, suite: int, direction: str) -> None:
    r = H.run_scenario(peer, suite, direction)
    assert r.status == "passed", f"step {r.step!r}: {r.detail}"
    assert r.log[-1] == "done" and r.epochs == 10
    # 8 fields x (members - 1) per epoch: members 2,2,2,3,3,4,3,2,3,2 -> 128; + 10 app messages
    assert r.checks == 8 * (1 + 1 + 1 + 2 + 2 + 3 + 2 + 1 + 2 + 1) + 10
    # every KeyPackage that crossed carried GREASE, from both implementations
    impls = {who.split("(")[1].rstrip(")") for who in r.grease}
    assert impls == {"mls-pq", "ts-mls"} and all(r.grease.values())
    if suite in (2, 5, 7):  # ts-mls 1.6.4 sends compressed ECDSA keys, the profile takes them
        assert any("compressed ECDSA" in n for n in r.observations)
    else:
        assert not r.observations


def _failed(r: H.ScenarioResult) -> str:
    assert r.status == "failed", r.log
    return r.detail


@pytest.mark.parametrize("direction", H.DIRECTIONS)
def test_strict_ecdsa_rejects_tsmls_keys(peer: TsMlsPeer, direction: str) -> None:
    """The default profile is strict (RFC 9420 §5.1.1): ts-mls's compressed keys fail there."""
    detail = _failed(H.run_scenario(peer, 2, direction, suite=get_suite(2, "default")))
    assert "signature does not verify" in detail


@pytest.mark.parametrize("direction", H.DIRECTIONS)
def test_other_constructions_do_not_interoperate(peer: TsMlsPeer, direction: str) -> None:
    ts79 = get_suite(79, H.PROFILE)
    # draft-ietf-hpke-pq DeriveKeyPair: the UpdatePath's node keys do not match (§7.5 check)
    r = H.run_scenario(peer, 79, direction, suite=ts79.with_primitives(kem=crypto.get_kem(0x0041)))
    assert "derived public key" in _failed(r) and "UpdatePath" in r.step
    # the KDF of the name (HKDF-SHA384) instead of ts-mls's HKDF-SHA512
    r = H.run_scenario(peer, 79, direction, suite=ts79.with_primitives(kdf=crypto.get_kdf(0x0002)))
    assert _failed(r) and r.epochs == 0
    # AES-128-GCM, as suite 77's name says, instead of the AES-256-GCM ts-mls uses
    ts77 = get_suite(77, H.PROFILE)
    r = H.run_scenario(peer, 77, direction, suite=ts77.with_primitives(aead=crypto.get_aead(0x0001)))
    assert _failed(r) and "Welcome" in r.step and r.epochs == 0


def test_disagreement_names_first_differing_field(peer: TsMlsPeer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A member reporting a different tree hash from epoch 3 on stops the run there."""
    real_view = H.MlsPqMember.view

    def skewed(self: H.MlsPqMember) -> H.View:
        v = real_view(self)
        if v.epoch >= 3:
            v.tree_hash = bytes(len(v.tree_hash))
        return v

    monkeypatch.setattr(H.MlsPqMember, "view", skewed)
    r = H.run_scenario(peer, 1, H.DIRECTIONS[0])
    assert r.status == "failed" and r.field == "tree_hash" and r.epochs == 2
    assert "epoch 3" in r.detail and "alice(mls-pq)" in r.detail and "bob(ts-mls)" in r.detail
    assert r.step.startswith("alice(mls-pq) commits an UpdatePath")


def test_cli_json_and_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["interop", "ts-mls", "--suites", "3,0x51", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ts_mls"].startswith("1.6.") and out["profile"] == "ts-mls-1.6"
    got = {(r["suite"], r["direction"]): r["status"] for r in out["results"]}
    assert got == {(s, d): "passed" for s in (3, 0x51) for d in H.DIRECTIONS}
    assert main(["interop", "ts-mls", "--suites", "7", "--direction", "ts-mls>mls-pq"]) == 0
    table = capsys.readouterr().out
    assert "0x0007" in table and "passed (10 epochs" in table and "1 passed, 0 failed" in table
    assert "compressed ECDSA" in table
    assert main(["interop", "ts-mls", "--suites", "0xF001"]) == 2  # not a ts-mls-profile suite
    assert "0xf001" in capsys.readouterr().err.lower()
