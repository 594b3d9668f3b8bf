"""Saving and restoring a member: ``Group.from_bytes(g.to_bytes())`` is byte-exact and the
restored member continues exactly like the original."""

from __future__ import annotations

import pytest

from mls_pq.errors import DecodeError
from mls_pq.group import Group, GroupOptions, GroupState, StagedCommit
from mls_pq.group.welcome import KeyPackageBundle

from ._helpers import Sim, apply, received


@pytest.mark.parametrize("suite", [0x0001, 0xF001, 0x0005])
def test_restored_member_continues_identically(suite: int) -> None:
    sim = Sim.start(suite, 4, GroupOptions(handshake_wire_format=2, padding_block=32, window=7))
    g = sim.members[3]
    # some ratchet state: skipped generations, used keys, cached proposals
    cts = [sim.members[0].encrypt(b"%d" % i) for i in range(4)]
    apply(g, cts[3])
    apply(g, cts[1])
    p = sim.members[1].propose_update()
    apply(g, p)
    saved = g.to_bytes()
    twin = Group.from_bytes(saved)
    assert twin.to_bytes() == saved
    assert twin.state.options == g.state.options
    for m in (g, twin):
        assert received(m, cts[0]) == b"0"
    assert g.to_bytes() == twin.to_bytes()
    apply(sim.members[2], p)
    apply(sim.members[0], p)
    out = sim.members[2].commit(path=True)
    for m in (g, twin):
        assert isinstance(apply(m, out.commit), StagedCommit)
    assert g.to_bytes() == twin.to_bytes()
    assert g.epoch_authenticator == twin.epoch_authenticator


def test_pending_commit_survives_restore() -> None:
    sim = Sim.start(1, 3)
    a = sim.members[0]
    kp, bundle = sim.key_package(b"late")
    out = a.commit(add=[kp])
    restored = Group.from_bytes(a.to_bytes())
    assert restored.has_pending_commit
    assert restored.to_bytes() == a.to_bytes()
    eff = restored.merge_pending_commit()
    assert [m.leaf_index for m in eff.added] == [3]
    a.merge_pending_commit()
    assert restored.to_bytes() == a.to_bytes()
    sim.deliver(a, out.commit)
    assert out.welcome is not None
    sim.members.append(Group.join(out.welcome, bundle))
    sim.members[0] = restored
    sim.agree()


def test_bundle_roundtrip() -> None:
    sim = Sim.start(1, 1)
    _, bundle = sim.key_package(b"k")
    again = KeyPackageBundle.from_bytes(bundle.to_bytes())
    assert again == bundle
    assert "priv" not in repr(bundle).lower() or "KeyPackageBundle" in repr(bundle)


def test_garbage_is_a_decode_error() -> None:
    sim = Sim.start(1, 2)
    data = sim.members[1].to_bytes()
    for bad in (b"", b"junk", data[:-1], data + b"\x00", data[:40]):
        with pytest.raises(DecodeError):
            Group.from_bytes(bad)
    with pytest.raises(DecodeError):
        GroupState.from_bytes(sim.members[1].state.to_bytes()[:-3])


def test_no_secrets_in_repr() -> None:
    sim = Sim.start(1, 2)
    g = sim.members[0]
    text = repr(g) + repr(g.state) + repr(g.state.secrets) + repr(g.state.private)
    assert g.state.secrets.exporter_secret.hex() not in text
    assert g.state.private.encryption_priv.hex() not in text


def test_own_update_keys_survive_restore() -> None:
    sim = Sim.start(0xF001, 3)
    b = sim.members[1]
    sim.deliver(b, b.propose_update())
    restored = Group.from_bytes(b.to_bytes())
    sim.members[1] = restored
    out = sim.commit(0)  # covers the Update; its path is encrypted to the new leaf key
    assert next(m.leaf_index for m in out.effects.updated) == 1
    sim.agree()
    assert received(restored, sim.members[2].encrypt(b"x")) == b"x"
