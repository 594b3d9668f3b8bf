"""Property: a rejected message raises an MLSError and leaves ``to_bytes()`` unchanged;
the untampered message is still accepted afterwards (RFC 9420 §12.4.2: the new state is
only adopted "if the above checks are successful")."""

from __future__ import annotations

from functools import lru_cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mls_pq.errors import MLSError
from mls_pq.group import ApplicationMessage, Group, GroupOptions, ProposalMessage, StagedCommit

from ._helpers import Sim, apply, received


@lru_cache(maxsize=1)
def _world() -> tuple[bytes, dict[str, bytes]]:
    """Receiver state bytes and a set of valid messages for it (from other members)."""
    sim = Sim.start(1, 4)
    for m in sim.members:
        m.psk_store[b"ext"] = b"external psk"
    recv = sim.members[3]
    a, b, c = sim.members[:3]
    msgs: dict[str, bytes] = {}
    msgs["application"] = a.encrypt(b"hello", authenticated_data=b"ad")
    # build the handshake messages from copies so they are all valid for the same epoch
    a2 = Group.from_bytes(a.to_bytes())
    msgs["proposal-public"] = a2.propose_update()
    b_priv = Group(b.state.evolve(options=GroupOptions(handshake_wire_format=2)))
    msgs["proposal-private"] = b_priv.propose_remove(2)
    c2 = Group.from_bytes(c.to_bytes())
    msgs["commit-public"] = c2.commit(path=True, add=[sim.key_package(b"n")[0]]).commit
    b3 = Group(b.state.evolve(options=GroupOptions(handshake_wire_format=2)), psk_store={b"ext": b"external psk"})
    msgs["commit-private"] = b3.commit(remove=[0], psks=[b"ext"]).commit
    return recv.to_bytes(), msgs


KINDS = ["application", "proposal-public", "proposal-private", "commit-public", "commit-private"]
RESULT = {"application": ApplicationMessage, "proposal": ProposalMessage, "commit": StagedCommit}


def _receiver(state: bytes) -> Group:
    return Group.from_bytes(state, psk_store={b"ext": b"external psk"})


@pytest.mark.parametrize("kind", KINDS)
def test_valid_messages_are_accepted(kind: str) -> None:
    state, msgs = _world()
    g = _receiver(state)
    res = apply(g, msgs[kind])
    assert isinstance(res, RESULT[kind.split("-")[0]])
    assert g.to_bytes() != state


mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(min_value=0), st.integers(min_value=1, max_value=255)),
    st.tuples(st.just("truncate"), st.integers(min_value=0), st.just(0)),
    st.tuples(st.just("append"), st.integers(min_value=0, max_value=255), st.just(0)),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(KINDS), muts=st.lists(mutation, min_size=1, max_size=3))
def test_tampered_message_changes_nothing(kind: str, muts: list[tuple[str, int, int]]) -> None:
    state, msgs = _world()
    data = bytearray(msgs[kind])
    for op, pos, val in muts:
        if op == "flip":
            data[pos % len(data)] ^= val
        elif op == "truncate":
            del data[pos % len(data) :]
            if not data:
                data = bytearray(b"\x00")
        else:
            data.append(val)
    if bytes(data) == msgs[kind]:
        return
    g = _receiver(state)
    with pytest.raises(MLSError):
        apply(g, bytes(data))
    assert g.to_bytes() == state
    # nothing was consumed: the genuine message still works
    assert isinstance(apply(g, msgs[kind]), RESULT[kind.split("-")[0]])


def test_state_roundtrip_is_byte_exact() -> None:
    state, _ = _world()
    assert _receiver(state).to_bytes() == state


# ---- the secret tree's design: pure lookups, persistent application (issue 9) -------------------


@lru_cache(maxsize=1)
def _past_world() -> tuple[bytes, bytes]:
    """A receiver one commit later than a late application message it can still read (§9.2)."""
    sim = Sim.start(1, 3)
    late = sim.members[0].encrypt(b"late", authenticated_data=b"ad")
    sim.commit(2, path=True)
    return sim.members[1].to_bytes(), late


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(muts=st.lists(mutation, min_size=1, max_size=3))
def test_tampered_past_epoch_message_changes_nothing(muts: list[tuple[str, int, int]]) -> None:
    state, late = _past_world()
    data = bytearray(late)
    for op, pos, val in muts:
        if op == "flip":
            data[pos % len(data)] ^= val
        elif op == "truncate":
            del data[pos % len(data) :]
            if not data:
                data = bytearray(b"\x00")
        else:
            data.append(val)
    if bytes(data) == late:
        return
    g = _receiver(state)
    with pytest.raises(MLSError):
        apply(g, bytes(data))
    assert g.to_bytes() == state
    assert received(g, late) == b"late"


_lookup = st.tuples(
    st.integers(min_value=0, max_value=9),  # leaf (9 is outside the 9-leaf tree... and 8 is the last)
    st.sampled_from(["handshake", "application"]),
    st.integers(min_value=0, max_value=40),
    st.booleans(),  # apply the change if the lookup succeeded
)


@settings(max_examples=120, deadline=None)
@given(ops=st.lists(_lookup, min_size=1, max_size=25))
def test_secret_tree_lookups_never_change_a_tree(ops: list[tuple[int, str, int, bool]]) -> None:
    """Any lookup — accepted, replayed, too far ahead, outside the tree — leaves the tree's
    bytes unchanged; applying a change yields a new tree and leaves the old one as it was;
    an applied tree equals the same steps done in place (``commit_use``)."""
    from mls_pq.secret_tree import SecretTree
    from mls_pq.suites import get_suite

    tree = SecretTree(get_suite(1), bytes(range(32)), 9, max_skip=20, window=4)
    in_place = SecretTree(get_suite(1), bytes(range(32)), 9, max_skip=20, window=4)
    for leaf, kind, gen, do_apply in ops:
        before = tree.to_bytes()
        try:
            use = tree.key_for(leaf, kind, gen)
        except MLSError:
            assert tree.to_bytes() == before
            continue
        assert tree.to_bytes() == before
        if do_apply:
            new = tree.applied(use)
            assert tree.to_bytes() == before
            in_place.commit_use(in_place.key_for(leaf, kind, gen))
            tree = new
        assert tree.to_bytes() == in_place.to_bytes()
