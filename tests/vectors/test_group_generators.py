"""The group vector generators (mls_pq/vectors/group_generators.py): ``welcome`` and the
three passive-client kinds.

Generated cases must verify with the same verifier ``mls-pq vectors verify`` uses, have
exactly the mlswg schema (test-vectors.md "Welcome", "Passive Client Scenarios"), cover
the scenarios the module promises (checked by replaying them through an independent
engine instance that records what each epoch did), and fail verification once tampered.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from mls_pq.group.config import GroupConfig
from mls_pq.group.member import Group
from mls_pq.group.results import ProposalMessage, StagedCommit
from mls_pq.group.welcome import KeyPackageBundle
from mls_pq.messages.framing_structs import MLSMessage, SenderType, WireFormat
from mls_pq.messages.key_package import KeyPackage
from mls_pq.messages.proposals import PreSharedKey
from mls_pq.messages.welcome import Welcome
from mls_pq.psk import PSK_EXTERNAL
from mls_pq.suites import get_suite
from mls_pq.vectors import verify_case
from mls_pq.vectors.generate import available_kinds, generate
from mls_pq.vectors.group_generators import budget
from tests._vectors import flip_hex
from tests.group._helpers import apply

#: an RFC 9420 suite, a light PQ suite (full scenarios) and an ML-DSA one (compact)
SUITES = (0x0001, 0xF001, 0xF00A)
KINDS = ("welcome", "passive-client-welcome", "passive-client-handling-commit", "passive-client-random")

#: test-vectors.md field sets
WELCOME_FIELDS = {"cipher_suite", "init_priv", "key_package", "signer_pub", "welcome"}
PASSIVE_FIELDS = {
    "cipher_suite",
    "external_psks",
    "key_package",
    "signature_priv",
    "encryption_priv",
    "init_priv",
    "welcome",
    "ratchet_tree",
    "initial_epoch_authenticator",
    "epochs",
}
EPOCH_FIELDS = {"proposals", "commit", "epoch_authenticator"}


@pytest.fixture(scope="module")
def generated() -> dict[tuple[str, int], list[dict[str, Any]]]:
    return {(k, sid): generate(k, get_suite(sid), 2026 + sid) for k in KINDS for sid in SUITES}


def _case(generated: dict[tuple[str, int], list[dict[str, Any]]], kind: str, suite: int, i: int = 0) -> dict[str, Any]:
    return copy.deepcopy(generated[(kind, suite)][i])


def test_generators_are_registered() -> None:
    assert set(KINDS) <= set(available_kinds())


@pytest.mark.parametrize("suite", SUITES, ids=lambda s: f"0x{s:04x}")
@pytest.mark.parametrize("kind", KINDS)
def test_generated_cases_verify(generated: dict[tuple[str, int], list[dict[str, Any]]], kind: str, suite: int) -> None:
    cases = generated[(kind, suite)]
    b = budget(get_suite(suite))
    expected = {
        "welcome": 1 if b.compact else 2,
        "passive-client-welcome": 1 if b.compact else 2,
        "passive-client-handling-commit": 1,
        "passive-client-random": 1,
    }[kind]
    assert len(cases) == expected
    for i, c in enumerate(cases):
        assert c["cipher_suite"] == suite
        res = verify_case(kind, c, i)
        assert res.status == "passed", res.reason
    if kind == "passive-client-random":
        assert len(cases[0]["epochs"]) == b.random_epochs
    if kind == "passive-client-handling-commit":
        assert len(cases[0]["epochs"]) == (9 if b.compact else 15)


def test_ml_dsa_suites_get_the_compact_budget() -> None:
    assert budget(get_suite(0xF00A)).compact and budget(get_suite(0xF00B)).compact
    assert not budget(get_suite(0xF001)).compact and not budget(get_suite(1)).compact


@pytest.mark.parametrize("suite", SUITES, ids=lambda s: f"0x{s:04x}")
def test_schema(generated: dict[tuple[str, int], list[dict[str, Any]]], suite: int) -> None:
    """Exactly the fields of test-vectors.md, hex strings, MLSMessage-wrapped objects."""
    for c in generated[("welcome", suite)]:
        assert set(c) == WELCOME_FIELDS
        assert isinstance(MLSMessage.from_bytes(bytes.fromhex(c["key_package"])).body, KeyPackage)
        assert isinstance(MLSMessage.from_bytes(bytes.fromhex(c["welcome"])).body, Welcome)
    for kind in KINDS[1:]:
        for c in generated[(kind, suite)]:
            assert set(c) == PASSIVE_FIELDS
            assert isinstance(MLSMessage.from_bytes(bytes.fromhex(c["key_package"])).body, KeyPackage)
            assert isinstance(MLSMessage.from_bytes(bytes.fromhex(c["welcome"])).body, Welcome)
            assert c["ratchet_tree"] is None or bytes.fromhex(c["ratchet_tree"])
            for e in c["external_psks"]:
                assert set(e) == {"psk_id", "psk"} and bytes.fromhex(e["psk_id"]) and bytes.fromhex(e["psk"])
            for ep in c["epochs"]:
                assert set(ep) == EPOCH_FIELDS
                for m in [*ep["proposals"], ep["commit"]]:
                    wf = MLSMessage.from_bytes(bytes.fromhex(m)).wire_format
                    assert wf in (WireFormat.PUBLIC_MESSAGE, WireFormat.PRIVATE_MESSAGE)
            if kind == "passive-client-welcome":
                assert c["epochs"] == []
            else:
                assert c["epochs"]


# ---- what the scenarios contain, seen by an independent passive client ------------------------


@dataclass
class Seen:
    """Features of a replayed passive-client case."""

    by_value: set[str] = field(default_factory=set)
    by_reference: set[str] = field(default_factory=set)
    commit_wire_formats: set[int] = field(default_factory=set)
    proposal_wire_formats: set[int] = field(default_factory=set)
    paths: set[bool] = field(default_factory=set)
    senders: set[SenderType] = field(default_factory=set)
    external_commits: int = 0
    empty_commits: int = 0
    members: set[int] = field(default_factory=set)


def _ptype(body: object) -> str:
    if isinstance(body, PreSharedKey):
        return "psk-external" if body.psk.psktype == PSK_EXTERNAL else "psk-resumption"
    return type(body).__name__


def _replay(c: dict[str, Any]) -> Iterator[tuple[int, Seen]]:
    s = get_suite(c["cipher_suite"])
    h = bytes.fromhex
    kp = MLSMessage.from_bytes(h(c["key_package"])).body
    assert isinstance(kp, KeyPackage)
    g = Group.join(
        h(c["welcome"]),
        KeyPackageBundle(kp, h(c["init_priv"]), h(c["encryption_priv"]), h(c["signature_priv"])),
        ratchet_tree=h(c["ratchet_tree"]) if c["ratchet_tree"] else None,
        psk_store={h(p["psk_id"]): h(p["psk"]) for p in c["external_psks"]},
        config=GroupConfig(clock=None),
        suite=s,
    )
    for i, ep in enumerate(c["epochs"]):
        seen = Seen()
        refs: list[str] = []
        for p in ep["proposals"]:
            r = apply(g, h(p))
            assert isinstance(r, ProposalMessage)
            refs.append(_ptype(r.proposal.body))
            seen.proposal_wire_formats.add(r.wire_format)
            seen.senders.add(r.sender.sender_type)
        r = apply(g, h(ep["commit"]))
        assert isinstance(r, StagedCommit)
        e = r.effects
        seen.commit_wire_formats.add(r.wire_format)
        seen.senders.add(r.sender.sender_type)
        seen.paths.add(e.path)
        seen.by_reference.update(refs)
        effects = (
            ["Add"] * len(e.added)
            + ["Remove"] * len(e.removed)
            + ["psk-external" if p.psktype == PSK_EXTERNAL else "psk-resumption" for p in e.psks]
            + (["GroupContextExtensions"] if e.group_context_extensions is not None else [])
        )
        for t in refs:
            if t in effects:
                effects.remove(t)
        seen.by_value.update(effects)
        if e.external_join is not None:
            seen.external_commits += 1
            seen.by_value.discard("Remove")  # a resync's Remove is part of the external commit
        if not ep["proposals"] and not effects and e.external_join is None:
            seen.empty_commits += 1
        seen.members.add(len(g.members()))
        assert g.epoch_authenticator.hex() == ep["epoch_authenticator"]
        yield i, seen


def _total(c: dict[str, Any]) -> Seen:
    t = Seen()
    for _, s in _replay(c):
        t.by_value |= s.by_value
        t.by_reference |= s.by_reference
        t.commit_wire_formats |= s.commit_wire_formats
        t.proposal_wire_formats |= s.proposal_wire_formats
        t.paths |= s.paths
        t.senders |= s.senders
        t.external_commits += s.external_commits
        t.empty_commits += s.empty_commits
        t.members |= s.members
    return t


ALL_BY_VALUE = {"Add", "Remove", "psk-external", "psk-resumption", "GroupContextExtensions"}
ALL_BY_REFERENCE = ALL_BY_VALUE | {"Update"}


@pytest.mark.parametrize("suite", SUITES, ids=lambda s: f"0x{s:04x}")
def test_handling_commit_covers_every_kind_of_commit(
    generated: dict[tuple[str, int], list[dict[str, Any]]], suite: int
) -> None:
    c = generated[("passive-client-handling-commit", suite)][0]
    t = _total(c)
    assert t.by_value >= ALL_BY_VALUE, t.by_value
    assert t.by_reference >= ALL_BY_REFERENCE, t.by_reference
    pub, priv = int(WireFormat.PUBLIC_MESSAGE), int(WireFormat.PRIVATE_MESSAGE)
    assert t.commit_wire_formats == {pub, priv}
    assert t.proposal_wire_formats == {pub, priv}  # the new_member_proposal Add is public
    assert t.paths == {True, False}
    assert SenderType.NEW_MEMBER_PROPOSAL in t.senders and SenderType.NEW_MEMBER_COMMIT in t.senders
    assert t.external_commits == 1
    assert t.empty_commits >= 1
    assert c["ratchet_tree"] is not None and c["external_psks"]


def test_handling_commit_isolates_each_commit_kind(generated: dict[tuple[str, int], list[dict[str, Any]]]) -> None:
    """The full variant gives each proposal type by value and by reference its own epoch."""
    c = generated[("passive-client-handling-commit", 0xF001)][0]
    singles = []
    for _, s in _replay(c):
        if len(s.by_value) + len(s.by_reference) == 1:
            singles.append(("value", *s.by_value) if s.by_value else ("reference", *s.by_reference))
    assert {("value", t) for t in ALL_BY_VALUE} <= set(singles)
    assert {("reference", t) for t in ALL_BY_REFERENCE} <= set(singles)


@pytest.mark.parametrize("suite", SUITES, ids=lambda s: f"0x{s:04x}")
def test_random_history_varies(generated: dict[tuple[str, int], list[dict[str, Any]]], suite: int) -> None:
    t = _total(generated[("passive-client-random", suite)][0])
    pub, priv = int(WireFormat.PUBLIC_MESSAGE), int(WireFormat.PRIVATE_MESSAGE)
    assert t.commit_wire_formats == {pub, priv}
    assert True in t.paths
    assert len(t.members) >= 2  # the membership changes
    assert {"Add", "Remove"} <= t.by_value | t.by_reference


def test_passive_welcome_variants(generated: dict[tuple[str, int], list[dict[str, Any]]]) -> None:
    cases = generated[("passive-client-welcome", 0xF001)]
    assert [c["ratchet_tree"] is None for c in cases] == [True, False]
    assert [len(c["external_psks"]) for c in cases] == [0, 1]
    # the compact suite keeps the richer case: tree out of band and a PSK
    (only,) = generated[("passive-client-welcome", 0xF00A)]
    assert only["ratchet_tree"] is not None and only["external_psks"]


def test_same_seed_same_structure() -> None:
    """Choices come from the seeded DRBG: the same seed gives the same history (keys and
    signatures differ, so the bytes do not)."""
    s = get_suite(0xF001)

    def shape(c: dict[str, Any]) -> list[tuple[int, int, int]]:
        return [
            (
                len(e["proposals"]),
                MLSMessage.from_bytes(bytes.fromhex(e["commit"])).wire_format,
                len(e["commit"]) // 400,
            )
            for e in c["epochs"]
        ]

    a = generate("passive-client-random", s, 7)[0]
    b = generate("passive-client-random", s, 7)[0]
    assert [(p, w) for p, w, _ in shape(a)] == [(p, w) for p, w, _ in shape(b)]
    assert a["epochs"] != b["epochs"]
    other = generate("passive-client-random", s, 8)[0]
    assert shape(other) != shape(a)


# ---- tampering -----------------------------------------------------------------------------------


def _fails(kind: str, case: dict[str, Any], where: str) -> None:
    res = verify_case(kind, case)
    assert res.status == "failed", "tampered case passed"
    assert where in res.reason, res.reason


def test_tampered_epoch_authenticator_fails(generated: dict[tuple[str, int], list[dict[str, Any]]]) -> None:
    c = _case(generated, "passive-client-random", 0xF001)
    n = len(c["epochs"]) - 1
    c["epochs"][n]["epoch_authenticator"] = flip_hex(c["epochs"][n]["epoch_authenticator"])
    _fails("passive-client-random", c, f"epochs[{n}].epoch_authenticator")


def test_tampered_initial_epoch_authenticator_fails(generated: dict[tuple[str, int], list[dict[str, Any]]]) -> None:
    c = _case(generated, "passive-client-welcome", 0xF00A)
    c["initial_epoch_authenticator"] = flip_hex(c["initial_epoch_authenticator"], -1)
    _fails("passive-client-welcome", c, "initial_epoch_authenticator")


@pytest.mark.parametrize("suite", SUITES, ids=lambda s: f"0x{s:04x}")
def test_tampered_commit_fails(generated: dict[tuple[str, int], list[dict[str, Any]]], suite: int) -> None:
    """A flipped octet in the last octets of every commit (signature, membership tag or AEAD
    tag) is refused at that epoch."""
    base = generated[("passive-client-handling-commit", suite)][0]
    for i in range(len(base["epochs"])):
        c = copy.deepcopy(base)
        c["epochs"][i]["commit"] = flip_hex(c["epochs"][i]["commit"], -1)
        _fails("passive-client-handling-commit", c, f"epochs[{i}]")


def test_missing_proposal_fails(generated: dict[tuple[str, int], list[dict[str, Any]]]) -> None:
    """A commit covering a proposal by reference that the passive client never saw."""
    c = _case(generated, "passive-client-handling-commit", 0xF001)
    i = next(k for k, e in enumerate(c["epochs"]) if e["proposals"])
    c["epochs"][i]["proposals"].pop()
    _fails("passive-client-handling-commit", c, f"epochs[{i}]")


def test_wrong_private_keys_fail(generated: dict[tuple[str, int], list[dict[str, Any]]]) -> None:
    other = _case(generated, "passive-client-welcome", 0xF001, 1)
    for field_name, check in (
        ("encryption_priv", "encryption_priv -> encryption_key"),
        ("init_priv", "init_priv -> init_key"),
        ("signature_priv", "signature_priv -> signature_key"),
    ):
        c = _case(generated, "passive-client-welcome", 0xF001, 0)
        c[field_name] = other[field_name]
        _fails("passive-client-welcome", c, check)


def test_out_of_band_tree_and_psks_are_needed(generated: dict[tuple[str, int], list[dict[str, Any]]]) -> None:
    c = _case(generated, "passive-client-welcome", 0xF001, 1)
    assert c["ratchet_tree"] is not None and c["external_psks"]
    no_tree = copy.deepcopy(c)
    no_tree["ratchet_tree"] = None
    _fails("passive-client-welcome", no_tree, "welcome")
    no_psk = copy.deepcopy(c)
    no_psk["external_psks"] = []
    _fails("passive-client-welcome", no_psk, "welcome")
    wrong_psk = copy.deepcopy(c)
    wrong_psk["external_psks"][0]["psk"] = flip_hex(wrong_psk["external_psks"][0]["psk"])
    _fails("passive-client-welcome", wrong_psk, "welcome")


@pytest.mark.parametrize("index", [0, 1])
def test_tampered_welcome_vector_fails(generated: dict[tuple[str, int], list[dict[str, Any]]], index: int) -> None:
    c = _case(generated, "welcome", 0xF001, index)
    assert verify_case("welcome", c).status == "passed"
    other_signer = _case(generated, "welcome", 0xF001, 1 - index)["signer_pub"]
    bad = dict(c, signer_pub=other_signer)
    _fails("welcome", bad, "group_info.signature")
    bad = dict(c, init_priv=_case(generated, "welcome", 0xF001, 1 - index)["init_priv"])
    assert verify_case("welcome", bad).status == "failed"


def test_generation_is_independent_of_global_random_state() -> None:
    """Generators only use the DRBG they are given (and the engine's own randomness)."""
    random.seed(1)
    a = generate("passive-client-handling-commit", get_suite(1), 5)[0]
    random.seed(2)
    b = generate("passive-client-handling-commit", get_suite(1), 5)[0]
    assert [len(e["proposals"]) for e in a["epochs"]] == [len(e["proposals"]) for e in b["epochs"]]
