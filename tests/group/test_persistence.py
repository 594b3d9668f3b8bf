"""The group engine wired to storage (mls_pq.group.persistence): members saved and restored
mid-life continue identically with the group, epoch transitions are one storage transaction
(new state, resumption PSK, pending commit dropped, consumed KeyPackage deleted), the
pending commit and KeyPackage private bundles live in the storage, and the write-through
happens before a change takes effect (RFC 9420 §8.6, §9.2, §10, §12.4, §12.4.3.1, §14)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mls_pq.client import Client, make_key_package
from mls_pq.errors import DecodeError, StateError, ValidationError
from mls_pq.group import Group, GroupOptions, StagedCommit
from mls_pq.group.persistence import decode_pending
from mls_pq.storage import MemoryStorage, SQLiteStorage, Storage

from ._helpers import Sim, apply, received

GID = b"test-group"


@pytest.fixture(params=["memory", "sqlite"])
def reopen(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Storage]]:
    """``reopen()`` gives the storage "after a restart": the same MemoryStorage object, or a
    fresh SQLiteStorage handle on the same file (the previous handle is closed). One
    generation reserved per message (``reserve_block=1``), so a restored member is exactly
    the live one (with blocks its own ratchet restarts after the block:
    test_persistence_blocks.py)."""
    handles: list[Storage] = []
    mem = MemoryStorage(past_epochs=1)

    def make() -> Storage:
        if request.param == "memory":
            return mem
        for h in handles:
            h.close()
        s = SQLiteStorage(tmp_path / "client.sqlite", past_epochs=1, reserve_block=1)
        handles.append(s)
        return s

    yield make
    for h in handles:
        h.close()


def _join_with_storage(sim: Sim, committer: int, storage: Storage, name: bytes = b"persistent") -> Group:
    c = sim.client(name)
    before = set(storage.list_key_packages())
    kp, bundle = make_key_package(sim.suite, c.credential, c.signature_priv, storage=storage)
    ref = bundle.key_package.ref(sim.suite)
    assert set(storage.list_key_packages()) == before | {ref}
    out = sim.commit(committer, add=[kp])
    assert out.welcome is not None
    g = Group.join(out.welcome, storage=storage)  # the bundle is found by its KeyPackageRef
    assert set(storage.list_key_packages()) == before  # consumed in the join's transaction
    sim.members.append(g)
    return g


@pytest.mark.parametrize("suite", [0x0001, 0xF001], ids=lambda s: f"0x{s:04x}")
def test_member_restored_mid_life_continues_identically(suite: int, reopen: Callable[[], Storage]) -> None:
    sim = Sim.start(suite, 3, GroupOptions(handshake_wire_format=2))
    storage = reopen()
    g = _join_with_storage(sim, 1, storage)
    # joined: one transaction stored the epoch, its resumption PSK and consumed the KeyPackage
    assert storage.list_key_packages() == []
    assert storage.list_groups() == [GID] and storage.load_group(GID).epoch == g.epoch  # type: ignore[union-attr]
    assert storage.load_resumption_psk(GID, g.epoch) == g.state.secrets.resumption_psk
    sim.agree()

    # life in the group: commits by others, proposals, application data both ways
    sim.commit(0, path=True)
    sim.deliver(sim.members[2], sim.members[2].propose_update())
    sim.commit(1)
    assert storage.load_group(GID).epoch == g.epoch  # type: ignore[union-attr]
    assert storage.list_epochs(GID) == [g.epoch - 1, g.epoch]  # past_epochs=1
    assert storage.load_resumption_psk(GID, g.epoch) == g.state.secrets.resumption_psk  # same transaction
    assert storage.list_resumption_psk_epochs(GID) == list(range(g.epoch - 2, g.epoch + 1))
    cts = [sim.members[0].encrypt(b"m%d" % i) for i in range(3)]
    assert received(g, cts[2]) == b"m2"  # keeps skipped keys for 0 and 1
    for r in sim.members[:3]:
        apply(r, g.encrypt(b"from the stored member"))

    # "restart": the stored member is exactly the live one
    storage = reopen()
    restored = Group.load(storage, GID)
    assert restored.to_bytes() == g.to_bytes()
    assert received(restored, cts[0]) == b"m0"  # a skipped key survived
    sim.members[3] = restored
    for r in sim.members[:3]:  # its ratchet position survived: no reused generation (§9.2)
        assert received(r, restored.encrypt(b"after restart")) == b"after restart"
    # a proposal it acknowledged survives another restart
    prop = sim.members[1].propose_remove(0)
    for m in (sim.members[0], sim.members[2], restored):
        apply(m, prop)
    restored = Group.load(reopen(), GID)
    sim.members[3] = restored
    assert len(restored.pending_proposals) == 1
    out = sim.commit(2)  # covers the proposed Remove of member 0 by reference
    assert [m.leaf_index for m in out.effects.removed] == [0]
    sim.agree()
    sim.commit(3, path=True)  # the restored member commits
    sim.agree()
    assert Group.load(reopen(), GID).to_bytes() == sim.members[3].to_bytes()


def test_pending_commit_is_stored_and_merged_after_restore(reopen: Callable[[], Storage]) -> None:
    sim = Sim.start(1, 2)
    storage = reopen()
    g = _join_with_storage(sim, 0, storage)
    kp, bundle = sim.key_package(b"late")
    out = g.commit(add=[kp])
    pc = storage.load_pending_commit(GID)
    assert pc is not None and pc.epoch == g.epoch
    nxt, message = decode_pending(pc.commit, g.suite)
    assert message == out.commit and nxt.epoch == g.epoch + 1
    assert storage.load_group(GID).epoch == g.epoch  # type: ignore[union-attr]  # §14: state unchanged
    storage = reopen()
    restored = Group.load(storage, GID)
    assert restored.has_pending_commit
    sim.members[2] = restored
    res = apply(restored, out.commit)  # the delivery service echoes our commit: merged
    assert isinstance(res, StagedCommit) and restored.epoch == nxt.epoch
    assert storage.load_pending_commit(GID) is None and storage.load_group(GID).epoch == nxt.epoch  # type: ignore[union-attr]
    sim.deliver(restored, out.commit)
    assert out.welcome is not None
    sim.members.append(Group.join(out.welcome, bundle))
    sim.agree()
    # discarding a pending commit removes it from the storage too
    restored.commit(path=True)
    assert storage.load_pending_commit(GID) is not None
    restored.discard_pending_commit()
    assert storage.load_pending_commit(GID) is None


def test_superseded_pending_commit_is_dropped_with_the_new_epoch(reopen: Callable[[], Storage]) -> None:
    sim = Sim.start(1, 2)
    storage = reopen()
    g = _join_with_storage(sim, 0, storage)
    g.commit(path=True)  # never delivered: another member's commit wins
    assert storage.load_pending_commit(GID) is not None
    sim.commit(1, path=True)  # processed by g: save_epoch drops our pending commit
    assert not g.has_pending_commit and storage.load_pending_commit(GID) is None
    sim.agree()
    assert not Group.load(reopen(), GID).has_pending_commit


def test_save_attaches_and_load_restores(reopen: Callable[[], Storage]) -> None:
    sim = Sim.start(0xF001, 3)
    g = sim.members[1]
    storage = reopen()
    g.save(storage)
    assert g.storage is storage
    assert storage.load_resumption_psk(GID, g.epoch) == g.state.secrets.resumption_psk
    g.save(storage)  # same epoch: overwritten, no error
    sim.commit(0, path=True)  # written through by g
    assert storage.load_group(GID).epoch == g.epoch  # type: ignore[union-attr]
    sim.members[1] = Group.load(reopen(), GID)
    assert sim.members[1].to_bytes() == g.to_bytes()
    sim.commit(1, path=True)
    sim.agree()
    # an older member cannot overwrite a newer stored epoch
    stale = Group.from_bytes(sim.members[2].to_bytes())
    sim.commit(2, path=True)
    with pytest.raises(StateError):
        stale.save(sim.members[1].storage)  # type: ignore[arg-type]
    with pytest.raises(StateError):
        Group.load(reopen(), b"no such group")


def test_last_resort_key_package_survives_join(reopen: Callable[[], Storage]) -> None:
    sim = Sim.start(1, 1)
    storage = reopen()
    c = Client.generate(sim.suite, b"last resort")
    kp, _ = c.key_package(storage=storage, last_resort=True)
    out = sim.commit(0, add=[kp])
    assert out.welcome is not None
    g = Group.join(out.welcome, storage=storage)
    sim.members.append(g)
    sim.agree()
    assert len(storage.list_key_packages()) == 1


def test_welcome_for_a_key_package_not_in_storage(reopen: Callable[[], Storage]) -> None:
    sim = Sim.start(1, 1)
    storage = reopen()
    kp, bundle = sim.key_package(b"not stored")
    out = sim.commit(0, add=[kp])
    assert out.welcome is not None
    with pytest.raises(ValidationError) as ei:
        Group.join(out.welcome, storage=storage)
    assert ei.value.section == "12.4.3.1"
    with pytest.raises(StateError):
        Group.join(out.welcome)  # neither bundles nor storage
    # given explicitly, it joins and is saved; nothing is consumed from the storage
    g = Group.join(out.welcome, bundle, storage=storage)
    assert storage.load_group(GID).epoch == g.epoch  # type: ignore[union-attr]


def test_group_id_unique_among_stored_groups(reopen: Callable[[], Storage]) -> None:
    """RFC 9420 §12.4.3.1: "Verify that the group_id is unique among the groups that the
    client is currently participating in" — the active groups of its storage."""
    sim = Sim.start(1, 2)
    storage = reopen()
    g = _join_with_storage(sim, 0, storage, b"twice")
    # a second Welcome into the same group for another KeyPackage of this client (another
    # signature key, so the committer sees a new client)
    c = sim.clients[b"twice"]
    kp2, _ = Client.generate(sim.suite, b"twice").key_package(storage=storage)
    out = sim.members[0].commit(add=[kp2])
    assert out.welcome is not None
    before = storage.list_key_packages()
    with pytest.raises(ValidationError) as ei:
        Group.join(out.welcome, storage=storage)
    assert ei.value.section == "12.4.3.1"
    assert storage.list_key_packages() == before and storage.load_group(GID).epoch == g.epoch  # type: ignore[union-attr]
    sim.members[0].discard_pending_commit()
    # an external join into a group we are in is rejected too (§12.4.3) ...
    gi = sim.members[0].group_info()
    with pytest.raises(ValidationError) as ei:
        Group.join_external(gi, c.credential, c.signature_priv, storage=storage)
    assert ei.value.section == "12.4.3"
    # ... unless it is a resync replacing our own stale leaf (§12.4.3.2)
    g2, commit = Group.join_external(gi, c.credential, c.signature_priv, storage=storage, remove_leaf=g.leaf_index)
    sim.members[sim.members.index(g)] = g2
    sim.deliver(g2, commit)
    sim.agree()
    assert Group.load(storage, GID).to_bytes() == g2.to_bytes()
    # once removed, the stored group is inactive and the id may be joined again
    sim.commit(0, remove=[g2.leaf_index])
    assert not g2.active and not Group.load(storage, GID).active
    sim.members.remove(g2)
    g3 = _join_with_storage(sim, 1, storage, b"back again")
    sim.agree()
    assert Group.load(storage, GID).to_bytes() == g3.to_bytes()


def test_storage_failure_leaves_the_group_unchanged() -> None:
    sim = Sim.start(1, 2)
    storage = MemoryStorage()
    g = sim.members[1]
    g.save(storage)
    out = sim.members[0].commit(path=True)
    sim.members[0].merge_pending_commit()
    before = g.to_bytes()
    storage.close()
    for action in (lambda: apply(g, out.commit), lambda: g.encrypt(b"x"), lambda: g.commit(path=True)):
        with pytest.raises(StateError):
            action()
        assert g.to_bytes() == before and not g.has_pending_commit


def test_reinit_and_branch_with_storage(reopen: Callable[[], Storage]) -> None:
    """The new groups of §11.2/§11.3 are stored too; the joiner's old group stays stored."""
    sim = Sim.start(1, 2)
    storage = reopen()
    g = _join_with_storage(sim, 0, storage)
    sim.agree()
    kp_new, _ = sim.clients[b"persistent"].key_package(storage=storage)
    sub, out = sim.members[0].branch(b"branch", [kp_new])
    assert out.welcome is not None
    joined = Group.join(out.welcome, storage=storage, old_group=g)
    assert joined.epoch_authenticator == sub.epoch_authenticator
    assert sorted(storage.list_groups()) == [b"branch", GID]
    assert Group.load(storage, b"branch").to_bytes() == joined.to_bytes()


def test_join_needs_a_welcome() -> None:
    sim = Sim.start(1, 1)
    storage = MemoryStorage()
    with pytest.raises(DecodeError):
        Group.join(sim.members[0].group_info(), storage=storage)
    assert storage.list_groups() == []


def test_reinit_to_the_same_group_id_with_storage(reopen: Callable[[], Storage]) -> None:
    """RFC 9420 §11.2: a ReInit may keep the group_id. The member that recreates the group
    has the old (now inactive) group stored under that id: it is replaced by the new group
    and its resumption PSKs are kept (issue 8 defect 6: was "epoch 0 does not advance the
    stored epoch")."""
    sim = Sim.start(1, 2)
    storage = reopen()
    g = _join_with_storage(sim, 0, storage)
    p = sim.members[0].propose_reinit(GID, 1)
    sim.deliver(sim.members[0], p)
    sim.commit(1)
    assert not g.active and g.state.reinit is not None
    old_epoch = g.epoch
    assert storage.load_resumption_psk(GID, old_epoch) == g.state.secrets.resumption_psk
    kps = [sim.clients[b"member-%d" % i].key_package() for i in (0, 1)]
    new_group, out = g.reinit([kps[0][0], kps[1][0]])
    assert new_group.group_id == GID and new_group.epoch == 1 and new_group.active
    assert old_epoch > 1 and storage.list_epochs(GID) == [0, 1]  # the new group's; the old state is gone ...
    assert storage.load_resumption_psk(GID, old_epoch) is not None  # ... its PSK is kept
    assert out.welcome is not None
    joined = [Group.join(out.welcome, kps[i][1], old_group=sim.members[i]) for i in (0, 1)]
    assert {j.epoch_authenticator for j in joined} == {new_group.epoch_authenticator}
    restored = Group.load(reopen(), GID)
    assert restored.to_bytes() == new_group.to_bytes()
    for j in joined:
        assert received(j, restored.encrypt(b"after reinit")) == b"after reinit"
