"""Regression tests for the hostile-input defects of issue 8 (the audit's findings), one test
named after each defect, and the resource limits of :mod:`mls_pq.limits`.

Cost is measured without wall-clock assertions: by counting comparisons (capability values
are an ``int`` subclass whose ``__eq__`` counts and stops the run once a linear budget is
exceeded), or by the ratio of CPU times of two input sizes measured in the same test.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import pytest

from mls_pq.client import Client
from mls_pq.codec import Reader, Struct, Writer
from mls_pq.errors import ValidationError
from mls_pq.extensions import REQUIRED_CAPABILITIES, Extension
from mls_pq.group import Group, GroupConfig, ProposalMessage, StagedCommit
from mls_pq.group import validation as v
from mls_pq.group.external import new_member_add_proposal
from mls_pq.group.state import CachedProposal
from mls_pq.messages.framing_structs import MLSMessage
from mls_pq.messages.key_package import KeyPackage
from mls_pq.messages.leaf_node import Capabilities, LeafNode, LeafNodeSource
from mls_pq.messages.proposals import PROPOSAL_TYPES, Proposal, ReInit, register_proposal_type
from mls_pq.tree.leaf_validation import LeafContext, validate_leaf_node

from ._helpers import Sim, apply, received
from ._hostile import distinct_leaf_extensions, hostile_capabilities, hostile_key_package

# ---- defect 1: quadratic CPU from one message (RFC 9420 §7.3, §10.1) -------------------------


class _TooManyComparisons(Exception):
    pass


class _Counted(int):
    """An int whose equality tests are counted; past the budget the run stops."""

    calls = 0
    budget = 0

    def __eq__(self, other: object) -> bool:
        _Counted.calls += 1
        if _Counted.calls > _Counted.budget:
            raise _TooManyComparisons(f"more than {_Counted.budget} comparisons")
        return int(self) == other

    __hash__ = int.__hash__


@pytest.fixture
def comparisons() -> Iterator[Callable[[int], None]]:
    def arm(budget: int) -> None:
        _Counted.calls = 0
        _Counted.budget = budget

    yield arm
    _Counted.budget = 0


N = 3000  # capability types and leaf extensions: a quadratic check needs ~N^2 = 9e6 comparisons
BUDGET = 20 * N  # a linear one needs O(N)


def _counted_key_package(client: Client) -> KeyPackage:
    from mls_pq.client import make_key_package

    caps = hostile_capabilities(N, _Counted)
    _, bundle = make_key_package(
        client.suite,
        client.credential,
        client.signature_priv,
        capabilities=caps,
        leaf_extensions=distinct_leaf_extensions(N, _Counted),  # §13.5: N distinct listed types
    )
    return bundle.key_package


def test_defect1_quadratic_cpu_key_package_validation_is_linear(comparisons: Callable[[int], None]) -> None:
    """§10.1/§7.3 checks of a KeyPackage with N leaf extensions and N capability types cost
    O(N) comparisons, not N^2 (each extension used to be looked up in a tuple)."""
    client = Client.generate(1, b"hostile")
    kp = _counted_key_package(client)
    comparisons(BUDGET)
    v.check_key_package(client.suite, kp, (), None)
    assert _Counted.calls <= BUDGET
    # and required_capabilities listing N types is checked against the leaf in O(N) too
    req = Extension(REQUIRED_CAPABILITIES, _required(list(range(0x1000, 0x1000 + N)), [], []))
    comparisons(BUDGET)
    v.check_key_package(client.suite, kp, (req,), None)
    v.check_leaf_supports_group(kp.leaf_node, (req,), "hostile")
    assert _Counted.calls <= BUDGET


def test_defect1_quadratic_cpu_update_leaf_and_group_checks_are_linear(comparisons: Callable[[int], None]) -> None:
    """An Update LeafNode (§7.3) and the member-wide credential checks (CapSummary, tree
    validation §12.4.3.1) are linear in the capability lists."""
    client = Client.generate(1, b"hostile")
    enc = client.suite.generate_key_pair()[1]
    caps = hostile_capabilities(N, _Counted)
    exts = distinct_leaf_extensions(N, _Counted)
    leaf = LeafNode(enc, client.signature_pub, client.credential, caps, int(LeafNodeSource.UPDATE), extensions=exts)
    leaf = leaf.sign(client.suite, client.signature_priv, b"g", 3)
    comparisons(BUDGET)
    validate_leaf_node(client.suite, leaf, LeafContext.update(b"g", 3))
    summary = v.CapSummary()
    summary.add(leaf)
    summary.check(leaf)
    assert _Counted.calls <= BUDGET


def _required(exts: list[int], props: list[int], creds: list[int]) -> bytes:
    from mls_pq.codec import Writer

    w = Writer()
    for items in (exts, props, creds):
        w.vector(items, lambda ww, x: ww.uint16(x))
    return w.getvalue()


def _cpu(fn: Callable[[], object], repeat: int) -> float:
    """Best CPU time of ``repeat`` runs, with the cyclic GC off: in a long test session a
    full collection triggered by the larger input would scan every live object of the
    session and make the ratio measure the heap, not the input."""
    best = float("inf")
    gc.collect()
    gc.disable()
    try:
        for _ in range(repeat):
            t = time.process_time()
            fn()
            best = min(best, time.process_time() - t)
    finally:
        gc.enable()
    return best


def test_defect1_quadratic_cpu_new_member_add_scales_linearly() -> None:
    """End to end: a member processing a non-member's Add proposal (§12.1.8) of 256 KiB costs
    about 8x one of 32 KiB (linear), not 64x (quadratic: the audit measured 7.3 s for 140 KB).
    CPU times of both sizes are measured in this test (best of a few runs), so machine
    speed cancels out; the bound 20 leaves room for noise and constant costs."""
    sim = Sim.start(1, 2)
    g = sim.members[1]
    messages = {}
    for size in (32 * 1024, 256 * 1024):
        joiner = Client.generate(1, f"joiner-{size}".encode())
        kp_bytes, _ = hostile_key_package(joiner, size)
        kp = MLSMessage.from_bytes(kp_bytes).body
        assert isinstance(kp, KeyPackage)
        messages[size] = new_member_add_proposal(sim.suite, g.group_id, g.epoch, kp, joiner.signature_priv)
    before = g.to_bytes()

    def run(size: int) -> Callable[[], object]:
        def go() -> object:
            out = apply(g, messages[size])
            assert isinstance(out, ProposalMessage)
            g._state = g._state.evolve(proposals=())  # forget it: the next run sees the same state
            return out

        return go

    small = _cpu(run(32 * 1024), 3)
    big = _cpu(run(256 * 1024), 2)
    assert g.to_bytes() == before
    assert big / max(small, 1e-3) < 20, f"32 KiB: {small:.3f}s, 256 KiB: {big:.3f}s"


# ---- defect 5: ReInit to an unregistered cipher suite (RFC 9420 §12.1.5, §11.2, §12.2) --------

UNREGISTERED = 0x7E7E


def test_defect5_reinit_to_unregistered_suite_rejected_when_proposed() -> None:
    """§12.1.5 only rules out a lower version, but §11.2 step 3 must create a group with
    exactly the ReInit's cipher_suite: a suite we cannot build makes the ReInit impossible
    to complete (the group would die at ``reinit()``). Refused when proposed, with the
    member's state unchanged."""
    from mls_pq.errors import UnsupportedCipherSuite

    sim = Sim.start(1, 2)
    g = sim.members[0]
    before = g.to_bytes()
    with pytest.raises(UnsupportedCipherSuite):
        g.propose_reinit(b"new", UNREGISTERED)
    with pytest.raises(UnsupportedCipherSuite):
        g.commit(reinit=ReInit(b"new", 1, UNREGISTERED, ()))
    assert g.to_bytes() == before and not g.has_pending_commit


def test_defect5_reinit_to_unregistered_suite_rejected_when_received(monkeypatch: pytest.MonkeyPatch) -> None:
    """A ReInit to an unknown suite received as a proposal, or committed by value, is an
    invalid proposal; §12.2 ("It contains an individual proposal that is invalid") makes
    the commit invalid. The receiver's state is left unchanged."""
    from mls_pq.errors import UnsupportedCipherSuite

    sim = Sim.start(1, 2)
    sender, receiver = sim.members
    with monkeypatch.context() as m:  # the sender forges: its own check switched off
        m.setattr(v, "check_reinit", lambda *a, **k: None)
        proposal = sender.propose_reinit(b"new", UNREGISTERED)
        sender._state = sender._state.evolve(proposals=())
        commit = sender.commit(reinit=ReInit(b"new", 1, UNREGISTERED, ())).commit
    before = receiver.to_bytes()
    for msg in (proposal, commit):
        with pytest.raises(UnsupportedCipherSuite):
            apply(receiver, msg)
        assert receiver.to_bytes() == before
    # a registered suite is accepted
    sender.discard_pending_commit()
    ok = sender.propose_reinit(b"new", 1)
    assert isinstance(apply(receiver, ok), ProposalMessage)


# ---- resource limits (mls_pq.limits): each at and beyond its bound ----------------------------


def test_limits_are_validated() -> None:
    from mls_pq.limits import DEFAULT_LIMITS, Limits

    assert DEFAULT_LIMITS.max_tree_nodes == 2 * DEFAULT_LIMITS.max_group_size - 1
    for bad in ({"max_message_size": 0}, {"max_group_size": -1}, {"max_proposals_per_commit": True}):
        with pytest.raises(ValueError):
            Limits(**bad)
    with pytest.raises(ValueError):
        Limits(max_group_size=(1 << 31) + 1)


def test_limit_max_message_size_process() -> None:
    """``Group.process`` refuses a message one octet longer than ``max_message_size``
    (DecodeError, state unchanged) and processes one of exactly that size."""
    from mls_pq.errors import DecodeError
    from mls_pq.limits import Limits

    sim = Sim.start(1, 2)
    msg = sim.members[0].encrypt(b"x" * 100)
    g = sim.members[1]
    g.config = replace(g.config, limits=Limits(max_message_size=len(msg) - 1))
    before = g.to_bytes()
    with pytest.raises(DecodeError, match="max_message_size"):
        apply(g, msg)
    assert g.to_bytes() == before
    g.config = replace(g.config, limits=Limits(max_message_size=len(msg)))
    assert received(g, msg) == b"x" * 100


def test_limit_max_message_size_join_and_join_external() -> None:
    from mls_pq.errors import DecodeError
    from mls_pq.group import Group
    from mls_pq.limits import Limits

    sim = Sim.start(1, 1)
    kp, bundle = sim.key_package(b"joiner")
    out = sim.members[0].commit(add=[kp])
    sim.members[0].merge_pending_commit()
    assert out.welcome is not None
    w = out.welcome
    with pytest.raises(DecodeError, match="max_message_size"):
        Group.join(w, bundle, config=GroupConfig(limits=Limits(max_message_size=len(w) - 1)))
    joined = Group.join(w, bundle, config=GroupConfig(limits=Limits(max_message_size=len(w))))
    assert joined.config.limits.max_message_size == len(w)
    gi = sim.members[0].group_info(ratchet_tree=True, external_pub=True)
    ext = Client.generate(1, b"external")
    with pytest.raises(DecodeError, match="max_message_size"):
        too_small = GroupConfig(limits=Limits(max_message_size=len(gi) - 1))
        Group.join_external(gi, ext.credential, ext.signature_priv, config=too_small)
    exact = GroupConfig(limits=Limits(max_message_size=len(gi)))
    g, _ = Group.join_external(gi, ext.credential, ext.signature_priv, config=exact)
    assert g.epoch == sim.members[0].epoch + 1


def test_limit_max_proposals_per_commit() -> None:
    """By value plus by reference: a committer refuses to build, and a receiver to process,
    a commit covering more than ``max_proposals_per_commit`` proposals; at the limit both
    succeed."""
    from mls_pq.limits import Limits

    sim = Sim.start(1, 4)
    a, b, receiver = sim.members[0], sim.members[1], sim.members[2]
    ref = b.propose_remove(3)
    for m in (a, receiver):
        apply(m, ref)
    a.config = replace(a.config, limits=Limits(max_proposals_per_commit=1))
    before = a.to_bytes()
    with pytest.raises(ValidationError, match="max_proposals_per_commit"):
        a.commit(remove=[1])  # one by value + one by reference
    assert a.to_bytes() == before and not a.has_pending_commit
    a.config = replace(a.config, limits=Limits(max_proposals_per_commit=2))
    out = a.commit(remove=[1])
    assert len(out.effects.removed) == 2
    receiver.config = replace(receiver.config, limits=Limits(max_proposals_per_commit=1))
    r_before = receiver.to_bytes()
    with pytest.raises(ValidationError, match="max_proposals_per_commit"):
        apply(receiver, out.commit)
    assert receiver.to_bytes() == r_before
    receiver.config = replace(receiver.config, limits=Limits(max_proposals_per_commit=2))
    assert isinstance(apply(receiver, out.commit), StagedCommit)


def test_limit_max_group_size_commit_load_and_from_bytes() -> None:
    """A commit that would make the tree wider than ``max_group_size`` leaves is refused
    by its committer and by a receiver; a stored or serialised group wider than the limit
    is refused on load."""
    from mls_pq.group import Group
    from mls_pq.limits import Limits
    from mls_pq.storage.memory import MemoryStorage

    sim = Sim.start(1, 2)
    a, b = sim.members
    kp, _ = sim.key_package(b"third")
    a.config = replace(a.config, limits=Limits(max_group_size=2))
    before = a.to_bytes()
    with pytest.raises(ValidationError, match="max_group_size"):
        a.commit(add=[kp])
    assert a.to_bytes() == before
    a.config = replace(a.config, limits=Limits(max_group_size=3))
    out = a.commit(add=[kp])
    b.config = replace(b.config, limits=Limits(max_group_size=2))
    b_before = b.to_bytes()
    with pytest.raises(ValidationError, match="max_group_size"):
        apply(b, out.commit)
    assert b.to_bytes() == b_before
    b.config = replace(b.config, limits=Limits(max_group_size=3))
    apply(b, out.commit)
    data = b.to_bytes()
    with pytest.raises(ValidationError, match="max_group_size"):
        Group.from_bytes(data, config=GroupConfig(limits=Limits(max_group_size=2)))
    assert Group.from_bytes(data, config=GroupConfig(limits=Limits(max_group_size=3))).config.limits.max_group_size == 3
    storage = MemoryStorage()
    b.save(storage)
    with pytest.raises(ValidationError, match="max_group_size"):
        Group.load(storage, b.group_id, config=GroupConfig(limits=Limits(max_group_size=2)))
    assert Group.load(storage, b.group_id, config=GroupConfig(limits=Limits(max_group_size=3))).epoch == b.epoch


# ---- defect 7: non-default proposal types and the members a commit removes (RFC 9420 §12.2) ----

CUSTOM_TYPE = 0xF0F1


@dataclass(frozen=True)
class _Custom(Struct):
    proposal_type = CUSTOM_TYPE
    payload: bytes

    def encode(self, w: Writer) -> None:
        w.opaque(self.payload)

    @classmethod
    def decode(cls, r: Reader) -> _Custom:
        return cls(r.opaque())


@pytest.fixture
def custom_type() -> Iterator[None]:
    register_proposal_type(_Custom, external=False, path_required=False)
    yield
    del PROPOSAL_TYPES[CUSTOM_TYPE]


def _custom_group() -> list[Group]:
    """Members 0 and 1 support CUSTOM_TYPE, member 2 does not."""
    from mls_pq.client import default_capabilities, make_key_package

    clients = [Client.generate(1, b"m%d" % i) for i in range(3)]

    def caps(c: Client, custom: bool) -> Capabilities:
        return default_capabilities(c.suite, c.credential, proposals=[CUSTOM_TYPE] if custom else [])

    a = Group.create(
        1, b"custom", clients[0].credential, clients[0].signature_priv, capabilities=caps(clients[0], True)
    )
    kps = [
        make_key_package(1, c.credential, c.signature_priv, capabilities=caps(c, custom))
        for c, custom in ((clients[1], True), (clients[2], False))
    ]
    out = a.commit(add=[kp for kp, _ in kps])
    a.merge_pending_commit()
    assert out.welcome is not None
    return [a, *(Group.join(out.welcome, b) for _, b in kps)]


def test_defect7_nondefault_proposal_type_exempts_removed_members(custom_type: None) -> None:
    """§12.2: a commit with a non-default proposal type is valid if every member that will
    process it supports the type: "members being added or removed by the Commit do not need
    to support the proposal type". Member 2 does not support it and is removed by the same
    commit: committer and receiver accept (the old code required every current leaf)."""
    a, b, c = _custom_group()
    out = a.commit(proposals=[Proposal(_Custom(b"hello"))], remove=[2])
    assert isinstance(apply(b, out.commit), StagedCommit)
    a.merge_pending_commit()
    assert a.epoch_authenticator == b.epoch_authenticator
    assert isinstance(apply(c, out.commit), StagedCommit) and not c.active


def test_defect7_nondefault_proposal_type_unsupported_by_a_staying_member(
    custom_type: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """§12.2: when member 2 stays, the commit is invalid: the committer refuses to build it
    and a receiver (commit forged with the committer's list check switched off) rejects it,
    state unchanged. A proposal of that type alone is not invalid when received (§12.1):
    its validity depends on the commit."""
    a, b, _ = _custom_group()
    with pytest.raises(ValidationError) as ei:
        a.commit(proposals=[Proposal(_Custom(b"hello"))])
    assert ei.value.section == "12.2" and "member 2" in str(ei.value)
    with monkeypatch.context() as m:
        m.setattr(v, "check_list", lambda *x, **k: None)
        forged = a.commit(proposals=[Proposal(_Custom(b"hello"))]).commit
    before = b.to_bytes()
    with pytest.raises(ValidationError) as ei:
        apply(b, forged)
    assert ei.value.section == "12.2" and b.to_bytes() == before
    a.discard_pending_commit()
    ref = a.propose(Proposal(_Custom(b"by reference")))
    assert isinstance(apply(b, ref), ProposalMessage)


# ---- defect 8: a malformed KeyPackage is reported with its real reason --------------------------


def test_defect8_malformed_key_package_reports_the_first_real_reason() -> None:
    """Every single-octet corruption of an MLSMessage KeyPackage that the MLSMessage decoder
    rejects is reported by ``parse_key_package`` (used by ``commit(add=...)`` and
    ``propose_add``) with that decoder's own error, not with the error of reading the
    bytes again as a raw KeyPackage (misaligned: the audit saw 77% reported as "unknown
    credential type"). Raw KeyPackage bytes are still accepted, and their errors reported."""
    import random

    from mls_pq.client import parse_key_package
    from mls_pq.errors import DecodeError, MLSError

    kp_bytes, bundle = Client.generate(1, b"kp").key_package()
    rng = random.Random(8)
    checked = 0
    for _ in range(1500):
        b = bytearray(kp_bytes)
        b[rng.randrange(len(b))] = rng.randrange(256)
        try:
            MLSMessage.from_bytes(bytes(b))
            continue
        except DecodeError as e:
            real = str(e)
        with pytest.raises(MLSError) as ei:
            parse_key_package(bytes(b))
        assert str(ei.value) == real
        checked += 1
    assert checked > 50
    raw = bundle.key_package.to_bytes()
    assert parse_key_package(raw) == bundle.key_package
    with pytest.raises(DecodeError, match="trailing"):
        parse_key_package(raw + b"\x00")
    sim = Sim.start(1, 1)
    with pytest.raises(DecodeError, match="trailing"):
        sim.members[0].commit(add=[kp_bytes + b"\x00"])


# ---- the one-pass extension-list decoder agrees with the generic one ---------------------------


@pytest.mark.parametrize(
    "body",
    [
        "",
        "000100",
        "0001026162" + "f00d00",
        "00014040" + "00" * 64,  # 2-byte varint, minimal
        "00014005" + "00" * 5,  # 2-byte varint for 5: not minimal
        "000180000005" + "00" * 5,  # 4-byte varint for 5: not minimal
        "0001c0",  # 8-byte form
        "0001",  # short
        "000105ab",  # data shorter than its length
        "00014001",  # truncated 2-byte varint... also not minimal
    ],
)
def test_decode_extension_list_matches_generic_decoder(body: str) -> None:
    from mls_pq.codec import Reader, encode_opaque
    from mls_pq.errors import DecodeError
    from mls_pq.messages.leaf_node import decode_extension_list

    data = encode_opaque(bytes.fromhex(body))
    try:
        expected: object = tuple(Reader(data).structs(Extension))
    except DecodeError:
        expected = DecodeError
    try:
        got: object = decode_extension_list(Reader(data))
    except DecodeError:
        got = DecodeError
    assert got == expected


def test_defect1_reinit_membership_check_is_linear() -> None:
    """§11.2/§11.3: "every member of the old group is in the new one" (and the converse for
    a branch) with the default same-client rule (equal credentials) is a set lookup, not a
    pairwise O(N^2) comparison; a custom predicate is still honoured."""
    from mls_pq.group.welcome import JoinContext, _all_matched

    calls = [0]

    class Cred:
        def __init__(self, ident: int) -> None:
            self.ident = ident

        def __eq__(self, other: object) -> bool:
            calls[0] += 1
            return isinstance(other, Cred) and other.ident == self.ident

        def __hash__(self) -> int:
            return hash(self.ident)

    class Leaf:
        def __init__(self, ident: int) -> None:
            self.credential = Cred(ident)

    n = 2000
    old = [Leaf(i) for i in range(n)]
    new = [Leaf(i) for i in reversed(range(n + 1))]
    ctx = JoinContext(psk_lookup=lambda _p: None)
    assert _all_matched(ctx, old, new, every_old=True)
    assert not _all_matched(ctx, old, new, every_old=False)  # the new leaf n is not old
    assert calls[0] <= 4 * n
    custom = JoinContext(psk_lookup=lambda _p: None, same_client=lambda a, b: a.credential.ident == b.credential.ident)
    assert _all_matched(custom, old[:50], new, every_old=True)


def test_join_external_at_the_last_epoch_is_a_typed_error() -> None:
    """RFC 9420 §8: ``epoch`` is a uint64. A GroupInfo (signed by its member) at epoch
    2^64 - 1 cannot be joined by an external commit: ValidationError, not struct.error
    (fuzzing finding F1)."""
    from dataclasses import replace

    from mls_pq.messages.welcome import GroupInfo

    c = Client.generate(1, b"owner")
    g = Group.create(1, b"g", c.credential, c.signature_priv)
    gi = MLSMessage.from_bytes(g.group_info(ratchet_tree=True, external_pub=True)).body
    assert isinstance(gi, GroupInfo)
    last = replace(gi, group_context=replace(gi.group_context, epoch=2**64 - 1)).sign(g.suite, c.signature_priv)
    joiner = Client.generate(1, b"joiner")
    with pytest.raises(ValidationError) as ei:
        Group.join_external(MLSMessage(last).to_bytes(), joiner.credential, joiner.signature_priv)
    assert ei.value.section == "8"


# ---- cached proposals per epoch: O(1) lookup, bounded count (Limits.max_pending_proposals) -------


def _proposal_states(n: int) -> tuple[Group, list[CachedProposal]]:
    """A group and ``n`` synthetic cached proposals (counted refs), appended one by one."""
    from mls_pq.messages.framing_structs import Sender
    from mls_pq.messages.proposals import Remove

    c = Client.generate(1, b"cacher")
    g = Group.create(1, b"g", c.credential, c.signature_priv)
    return g, [CachedProposal(_CountedRef(i.to_bytes(32, "big")), Proposal(Remove(0)), Sender.member(0)) for i in range(n)]


class _CountedRef(bytes):
    """A ProposalRef whose equality tests are counted (the same budget as :class:`_Counted`)."""

    def __eq__(self, other: object) -> bool:
        _Counted.calls += 1
        if _Counted.calls > _Counted.budget:
            raise _TooManyComparisons(f"more than {_Counted.budget} comparisons")
        return bytes(self) == other

    __hash__ = bytes.__hash__


def test_cached_proposal_lookup_by_ref_is_constant_time(comparisons: Callable[[int], None]) -> None:
    """RFC 9420 §12.1/§12.4: proposals are found by ProposalRef, once when each arrives (is it
    cached already?) and once per reference in a commit. P proposals in one epoch must cost
    O(P) comparisons, not P^2/2 (``GroupState.proposal`` used to scan the cached tuple)."""
    g, cached = _proposal_states(N)
    st = g._state
    comparisons(BUDGET)
    for c in cached:
        assert st.proposal(c.ref) is None
        st = st.with_proposal(c)
    for c in cached:
        assert st.proposal(c.ref) is c
    assert st.proposal(b"\x01" * 32) is None
    assert _Counted.calls <= BUDGET
    assert st.proposals == tuple(cached)
    # a state restored from bytes (no index yet) builds it once, then answers in O(1)
    from mls_pq.group.state import GroupState

    loaded = GroupState.from_bytes(st.to_bytes(), st.suite)
    assert [loaded.proposal(c.ref) for c in cached] == list(loaded.proposals)


def test_cached_proposals_of_older_states_are_not_disturbed() -> None:
    """A state is immutable: appending to an older state (a rejected message's tentative
    state, then another message) leaves the newer state's proposals and lookups as they were."""
    g, cached = _proposal_states(4)
    base = g._state
    a1 = base.with_proposal(cached[0])
    a2 = a1.with_proposal(cached[1])
    b1 = a1.with_proposal(cached[2])  # a fork of a1
    b2 = base.with_proposal(cached[1])
    assert [c.ref for c in a2.proposals] == [cached[0].ref, cached[1].ref]
    assert a2.proposal(cached[1].ref) is cached[1] and a2.proposal(cached[2].ref) is None
    assert b1.proposal(cached[2].ref) is cached[2] and b1.proposal(cached[1].ref) is None
    assert b2.proposal(cached[1].ref) is cached[1] and b2.proposal(cached[0].ref) is None
    assert a1.proposal(cached[1].ref) is None and base.proposal(cached[0].ref) is None
    assert base.to_bytes() == g._state.to_bytes()


def test_select_pending_is_linear_in_cached_and_by_value_removes(comparisons: Callable[[int], None]) -> None:
    """``commit()`` choosing which cached proposals to cover (§12.4) checks each cached Remove
    against the by-value ones with a set: O(P + V), not O(P x V)."""
    from mls_pq.group.state import CachedProposal
    from mls_pq.messages.framing_structs import Sender
    from mls_pq.messages.proposals import Remove

    k = 40
    sim = Sim.start(1, 2 * k + 1)
    g = sim.members[0]
    st = g._state
    for i in range(1, k + 1):  # cached Removes of leaves 1..k
        st = st.with_proposal(CachedProposal(bytes([i]) * 32, Proposal(Remove(_Counted(i))), Sender.member(0)))
    g._state = st
    by_value = [Proposal(Remove(_Counted(j))) for j in range(k + 1, 2 * k + 1)]
    comparisons(8 * k)  # a P x V scan needs k * k = 1600
    refs = g._select_pending(by_value)
    assert _Counted.calls <= 8 * k
    assert refs == [bytes([i]) * 32 for i in range(1, k + 1)]


def test_limit_max_pending_proposals() -> None:
    """``Limits.max_pending_proposals``: a member caches that many proposals in one epoch and
    refuses the next one (received or its own) with the group byte-identical; a repeat of a
    cached proposal is still accepted (not cached twice); the next epoch starts from zero."""
    from mls_pq.limits import Limits

    with pytest.raises(ValueError):
        Limits(max_pending_proposals=0)
    sim = Sim.start(1, 2)
    sender, receiver = sim.members
    receiver.config = replace(receiver.config, limits=Limits(max_pending_proposals=3))
    messages = [sender.propose_reinit(f"g{i}".encode(), 1) for i in range(4)]
    for m in messages[:3]:
        assert isinstance(apply(receiver, m), ProposalMessage)
    assert len(receiver.pending_proposals) == 3
    before = receiver.to_bytes()
    with pytest.raises(ValidationError, match="max_pending_proposals"):
        apply(receiver, messages[3])
    assert receiver.to_bytes() == before
    with pytest.raises(ValidationError, match="max_pending_proposals"):
        receiver.propose_reinit(b"mine", 1)
    assert receiver.to_bytes() == before
    assert isinstance(apply(receiver, messages[0]), ProposalMessage)  # a repeat: not a 4th entry
    assert len(receiver.pending_proposals) == 3
    # the next epoch: the cache is empty again
    out = receiver.commit(references=[])
    receiver.merge_pending_commit()
    apply(sender, out.commit)
    pending: tuple[CachedProposal, ...] = receiver.pending_proposals  # not the narrowed 3-tuple above
    assert pending == ()
    assert isinstance(apply(receiver, sender.propose_reinit(b"next", 1)), ProposalMessage)
    assert receiver.config.limits.max_pending_proposals == 3 and Limits().max_pending_proposals == 10_000
