"""mls-pq <-> ts-mls 1.6 interop matrix: every shared suite, both directions, real wire bytes.

Each case runs the scenario of :mod:`mls_pq.interop.harness` (Welcomes with and without
the ratchet_tree extension, commits as PublicMessage and PrivateMessage from both sides,
adds, removes, proposals by reference, application messages, GREASE-carrying KeyPackages,
external-PSK commits from both sides, external joins from either side's GroupInfo) and
requires both implementations to agree on every epoch's tree hash, transcript hash,
epoch authenticator and exporter output. The shared suites are RFC 9420 1–7 and ts-mls's
77–88, which mls-pq runs under its ``ts-mls-1.6`` profile.

Recorded outcome per part (ts-mls 1.6.4): everything passes except that ts-mls cannot read
the RFC 9420 ``external_pub`` mls-pq writes ("deviation": its external join works only
from a GroupInfo with ts-mls's bare-key encoding), while mls-pq joins ts-mls groups by
reading that bare key under the ``ts-mls-1.6`` profile only.

The negative cases show that the harness can fail: mls-pq with a construction other than
ts-mls's (strict ECDSA key parsing, strict external_pub parsing, draft-ietf-hpke-pq
DeriveKeyPair, the KDF of the suite name, AES-128-GCM for suite 77) does not interoperate,
differing PSK values fail the PSK part, and a disagreement is reported with the first
differing field. Skipped only when Node.js is absent.
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


#: the recorded outcome of every shared suite and direction (ts-mls 1.6.4)
EXPECTED_PARTS = {
    "welcome": "passed",
    "commits": "passed",
    "app": "passed",
    "psk": "passed",
    "ext_join_tsmls": "deviation",  # ts-mls cannot read the RFC 9420 external_pub
    "ext_join_mlspq": "passed",  # mls-pq reads ts-mls's bare-key external_pub (profile only)
}
BARE_EXTERNAL_PUB = "writes the external_pub extension as the bare public key"


@pytest.mark.parametrize("direction", H.DIRECTIONS)
@pytest.mark.parametrize("suite", SHARED)
def test_matrix(peer: TsMlsPeer, suite: int, direction: str) -> None:
    r = H.run_scenario(peer, suite, direction)
    assert r.status == "passed", f"step {r.step!r}: {r.detail}"
    assert r.log[-1] == "done" and r.epochs == 16
    assert r.parts == EXPECTED_PARTS and tuple(r.parts) == H.PARTS
    assert r.deviations == ["ext_join_tsmls"] and r.details == {"ext_join_tsmls": H.EXTERNAL_PUB_DEVIATION}
    # ts-mls's refusal of the RFC form is logged, then the join with the bare key follows
    refusal = [i for i, step in enumerate(r.log) if step.startswith("ts-mls refused")]
    assert len(refusal) == 1 and "join_external" in r.log[refusal[0]]
    assert "with a bare-key external_pub" in r.log[refusal[0] + 1]
    # 8 fields x (members - 1) per epoch + 1 per delivered application message:
    # core: members 2,2,2,3,3,4,3,2,3,2 and 10 messages; psk: 2,2; external joins:
    # 3,3 (+2 messages from frank) and 4,4 (+3 from grace)
    core = 8 * (1 + 1 + 1 + 2 + 2 + 3 + 2 + 1 + 2 + 1) + 10
    assert r.checks == core + 8 * (1 + 1) + 8 * (2 + 2) + 2 + 8 * (3 + 3) + 3
    # every KeyPackage that crossed carried GREASE, from both implementations
    impls = {who.split("(")[1].rstrip(")") for who in r.grease}
    assert impls == {"mls-pq", "ts-mls"} and all(r.grease.values())
    notes = set(r.observations)
    assert any(n.startswith("ts-mls " + BARE_EXTERNAL_PUB) for n in notes)  # never mls-pq
    if suite in (2, 5, 7):  # ts-mls 1.6.4 sends compressed ECDSA keys, the profile takes them
        assert len(notes) == 2 and any("compressed ECDSA" in n for n in notes)
    else:
        assert len(notes) == 1


def _failed(r: H.ScenarioResult) -> str:
    assert r.status == "failed", r.log
    return r.detail


@pytest.mark.parametrize("direction", H.DIRECTIONS)
def test_strict_ecdsa_rejects_tsmls_keys(peer: TsMlsPeer, direction: str) -> None:
    """The default profile is strict (RFC 9420 §5.1.1): ts-mls's compressed keys fail there."""
    detail = _failed(H.run_scenario(peer, 2, direction, suite=get_suite(2, "default")))
    assert "signature does not verify" in detail


@pytest.mark.parametrize("direction", H.DIRECTIONS)
def test_strict_external_pub_rejects_tsmls_group_info(peer: TsMlsPeer, direction: str) -> None:
    """The default profile is strict (RFC 9420 §12.4.3.2): mls-pq cannot join a ts-mls group
    by an external commit there, since ts-mls's external_pub lacks the length prefix."""
    r = H.run_scenario(peer, 1, direction, suite=get_suite(1, "default"))
    joiner = "grace(mls-pq)" if direction == H.DIRECTIONS[0] else "frank(mls-pq)"
    assert "malformed external_pub" in _failed(r) and r.step.startswith(joiner)
    assert r.parts["ext_join_mlspq"] == "failed" and r.details["ext_join_mlspq"] == r.detail
    assert all(r.parts[p] == "passed" for p in ("welcome", "commits", "app", "psk"))
    # mls-pq>ts-mls runs the ts-mls join first, ts-mls>mls-pq the mls-pq join
    assert r.parts["ext_join_tsmls"] == ("deviation" if direction == H.DIRECTIONS[0] else "not run")


def test_different_psk_values_fail(peer: TsMlsPeer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The PSK really enters the key schedule (§8.4): ts-mls holding another value for the
    same psk_id refuses mls-pq's PSK commit, and the later parts do not run."""
    real = H.TsMlsMember.add_external_psk

    def other_value(self: H.TsMlsMember, psk_id: bytes, psk: bytes) -> None:
        real(self, psk_id, bytes(b ^ 1 for b in psk))

    monkeypatch.setattr(H.TsMlsMember, "add_external_psk", other_value)
    r = H.run_scenario(peer, 1, H.DIRECTIONS[0])
    assert "bob(ts-mls) refused the commit" in _failed(r) and "PreSharedKey" in r.step
    assert r.epochs == 10 and r.parts == {
        **EXPECTED_PARTS,
        "psk": "failed",
        "ext_join_tsmls": "not run",
        "ext_join_mlspq": "not run",
    }


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
    assert r.parts == {
        "welcome": "partial",
        "commits": "failed",
        "app": "not run",
        "psk": "not run",
        "ext_join_tsmls": "not run",
        "ext_join_mlspq": "not run",
    }


def test_cli_json_and_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["interop", "ts-mls", "--suites", "3,0x51", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ts_mls"].startswith("1.6.") and out["profile"] == "ts-mls-1.6"
    got = {(r["suite"], r["direction"]): (r["status"], r["parts"]) for r in out["results"]}
    assert got == {(s, d): ("passed", EXPECTED_PARTS) for s in (3, 0x51) for d in H.DIRECTIONS}
    assert main(["interop", "ts-mls", "--suites", "7", "--direction", "ts-mls>mls-pq"]) == 0
    table = capsys.readouterr().out
    assert "0x0007" in table and "passed* (16 epochs" in table
    assert "1 passed (1 with a deviation: *), 0 failed" in table
    assert "ext-join (ts-mls joins)" in table and "ext-join (mls-pq joins)" in table
    parts_row = next(line.split() for line in table.splitlines() if line.startswith("0x0007  ts-mls>mls-pq"))
    assert parts_row[2:] == [EXPECTED_PARTS[p] for p in H.PARTS]
    assert "* ext-join (ts-mls joins): " + H.EXTERNAL_PUB_DEVIATION in table
    assert "compressed ECDSA" in table and BARE_EXTERNAL_PUB in table
    assert main(["interop", "ts-mls", "--suites", "0xF001"]) == 2  # not a ts-mls-profile suite
    assert "0xf001" in capsys.readouterr().err.lower()
