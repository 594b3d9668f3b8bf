"""Staged commits and typed results (RFC 9420 §12.4.2; issue 10).

``Group.process`` of a commit verifies it completely and returns a :class:`StagedCommit`:
the application inspects what it does, then merges or discards it; the group (and its
storage) is unchanged until the merge. Application messages and proposals take effect
at once and come back as :class:`ApplicationMessage` / :class:`ProposalMessage`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mls_pq.errors import MLSError, SecretConsumedError, StateError
from mls_pq.extensions import Extension
from mls_pq.group import (
    ApplicationMessage,
    CommitEffects,
    CommitOutput,
    Group,
    ProcessedMessage,
    ProposalMessage,
    StagedCommit,
)
from mls_pq.messages.framing_structs import Sender, WireFormat
from mls_pq.messages.proposals import Update
from mls_pq.psk import PSK_EXTERNAL
from mls_pq.storage import SQLiteStorage

from ._helpers import Sim, apply

APPLICATION_ID = Extension(0x0001, b"staged commits")  # application_id (§17.3): every member supports it


def _ids(members: object) -> list[bytes]:
    return [m.credential.identity for m in members]  # type: ignore[attr-defined]


def _stage(g: Group, data: bytes) -> StagedCommit:
    out = g.process(data)
    assert isinstance(out, StagedCommit), out
    return out


class DeliveryService:
    """A fake delivery service: an ordered log of MLSMessage bytes every member reads."""

    def __init__(self) -> None:
        self.log: list[bytes] = []
        self.read: dict[int, int] = {}

    def send(self, data: bytes) -> None:
        self.log.append(data)

    def fetch(self, g: Group) -> list[bytes]:
        start = self.read.get(id(g), 0)
        self.read[id(g)] = len(self.log)
        return self.log[start:]


# ---- inspect, then merge or discard -------------------------------------------------------------


def test_inspect_then_merge_section_12_4_2() -> None:
    """Everything a commit does is visible before the merge — Add (§12.1.1), Update
    (§12.1.2), Remove (§12.1.3), PreSharedKey (§12.1.4), GroupContextExtensions (§12.1.7),
    the committer and the new member list — while the group stays in its epoch; the merge
    then installs exactly the staged epoch."""
    sim = Sim.start(1, 4)
    a, b, c, d = sim.members
    for m in sim.members:
        m.psk_store[b"ext"] = b"an external PSK shared out of band"
    update = b.propose_update()
    for m in (a, c, d):
        got = m.process(update)
        assert isinstance(got, ProposalMessage) and isinstance(got.proposal.body, Update)
    eve, _ = sim.key_package(b"eve")
    out = a.commit(add=[eve], remove=[3], psks=[b"ext"], group_context_extensions=[APPLICATION_ID])
    before = c.to_bytes()
    members_before, epoch_before = c.members(), c.epoch

    staged = _stage(c, out.commit)
    assert staged.own is False and staged.status == "staged"
    assert staged.committer == Sender.member(0) and staged.sender_credential == a.state.own_leaf.credential
    assert staged.epoch == epoch_before and staged.new_epoch == epoch_before + 1
    assert _ids(staged.added) == [b"eve"] and [m.leaf_index for m in staged.added] == [3]
    assert _ids(staged.removed) == [b"member-3"] and [m.leaf_index for m in staged.removed] == [3]
    assert 1 in [m.leaf_index for m in staged.updated]  # b's Update (and a's path leaf)
    assert [(p.psktype, p.psk_id) for p in staged.psks] == [(PSK_EXTERNAL, b"ext")]
    assert staged.group_context_extensions == (APPLICATION_ID,) and staged.reinit is None
    assert _ids(staged.new_members()) == [b"member-0", b"member-1", b"member-2", b"eve"]
    assert staged.new_group_context.epoch == epoch_before + 1
    assert staged.new_group_context.extensions == (APPLICATION_ID,)
    assert staged.removed_self is False
    # ... and nothing happened yet
    assert c.to_bytes() == before and c.members() == members_before and c.epoch == epoch_before
    assert c.group_context.extensions != (APPLICATION_ID,)

    effects = staged.merge()
    assert isinstance(effects, CommitEffects) and effects == staged.effects == out.effects
    assert staged.status == "merged"
    assert c.epoch == epoch_before + 1 and c.group_context == staged.new_group_context
    assert c.members() == staged.new_members()
    a.merge_pending_commit()
    assert c.epoch_authenticator == a.epoch_authenticator


def test_removed_member_stages_its_removal_section_12_4_2() -> None:
    """§12.4.2: a commit removing us — visible as ``removed_self`` before the merge; the
    group becomes inactive only at the merge."""
    sim = Sim.start(1, 3)
    a, _, c = sim.members
    out = a.commit(remove=[2])
    staged = _stage(c, out.commit)
    assert staged.removed_self and c.active
    staged.merge()
    assert not c.active and c.epoch == staged.epoch  # same epoch, inactive
    with pytest.raises(StateError):
        c.encrypt(b"no longer a member")


def test_inspect_then_discard_leaves_the_group_byte_identical_section_12_4_2() -> None:
    """A discarded staged commit changes nothing; the same message may be processed again."""
    sim = Sim.start(1, 3)
    a, b, _ = sim.members
    out = a.commit(path=True)
    before = b.to_bytes()
    staged = _stage(b, out.commit)
    staged.discard()
    assert staged.status == "discarded" and b.to_bytes() == before
    with pytest.raises(StateError, match="discarded"):
        staged.merge()
    again = _stage(b, out.commit)  # nothing was consumed
    again.merge()
    a.merge_pending_commit()
    assert b.epoch_authenticator == a.epoch_authenticator


def test_discard_with_sqlite_storage_keeps_the_stored_state_section_12_4_2(tmp_path: Path) -> None:
    """With storage, processing and discarding a commit writes nothing; the merge writes the
    new epoch through (one transaction) before it takes effect."""
    sim = Sim.start(1, 3)
    a, b, _ = sim.members
    with SQLiteStorage(tmp_path / "b.sqlite") as storage:
        b.save(storage)
        stored = storage.load_group(b.group_id)
        assert stored is not None
        out = a.commit(path=True)
        staged = _stage(b, out.commit)
        assert storage.load_group(b.group_id) == stored  # staging wrote nothing
        staged.discard()
        assert storage.load_group(b.group_id) == stored
        _stage(b, out.commit).merge()
        now = storage.load_group(b.group_id)
        assert now is not None and now.epoch == stored.epoch + 1 and now.version > stored.version
        restored = Group.load(storage, b.group_id)
        assert restored.to_bytes() == b.to_bytes()


def test_private_message_commit_discarded_then_processed_again_section_6_3() -> None:
    """A PrivateMessage commit (§6.3): its handshake ratchet step is part of the staged
    state only, so after a discard the same ciphertext decrypts again (§9.2 would reject a
    consumed key)."""
    sim = Sim.start(1, 3)
    a, b, _ = sim.members
    out = a.commit(path=True, wire_format=int(WireFormat.PRIVATE_MESSAGE))
    before = b.to_bytes()
    staged = _stage(b, out.commit)
    assert staged.wire_format == WireFormat.PRIVATE_MESSAGE
    staged.discard()
    assert b.to_bytes() == before
    again = _stage(b, out.commit)
    assert again.effects == staged.effects
    again.merge()
    a.merge_pending_commit()
    assert b.epoch_authenticator == a.epoch_authenticator
    with pytest.raises(MLSError):  # the merged epoch consumed it: a replay is rejected
        b.process(out.commit)


# ---- an application policy -------------------------------------------------------------------


def no_mallory(staged: StagedCommit) -> bool:
    """The application's policy (the reason staged commits exist): nobody adds "mallory"."""
    return all(m.credential.identity != b"mallory" for m in staged.added)


def test_application_policy_refuses_a_commit_section_12_4_2() -> None:
    """Two members commit concurrently in one epoch; b's policy refuses the first (it adds
    mallory) and accepts the second. b stays usable: it merges the accepted commit, agrees
    with everyone, and processes the next commit normally."""
    sim = Sim.start(1, 3)
    a, b, c = sim.members
    mallory, _ = sim.key_package(b"mallory")
    dave, dave_bundle = sim.key_package(b"dave")
    refused_out = a.commit(add=[mallory])
    accepted_out = c.commit(add=[dave])
    before = b.to_bytes()

    refused = _stage(b, refused_out.commit)
    assert not no_mallory(refused)
    refused.discard()
    assert b.to_bytes() == before

    accepted = _stage(b, accepted_out.commit)
    assert no_mallory(accepted)
    accepted.merge()
    c.merge_pending_commit()
    a_view = _stage(a, accepted_out.commit)  # a's own pending commit loses the race
    assert no_mallory(a_view)
    a_view.merge()
    assert not a.has_pending_commit
    assert accepted_out.welcome is not None
    sim.members.append(Group.join(accepted_out.welcome, [dave_bundle]))
    sim.agree()
    assert _ids(b.members()) == [b"member-0", b"member-1", b"member-2", b"dave"]
    # the group goes on: the next commit and application data work for b
    sim.commit(1, path=True)
    sim.agree()
    msg = b.process(sim.members[3].encrypt(b"hello b"))
    assert isinstance(msg, ApplicationMessage) and msg.data == b"hello b"


# ---- our own commits -------------------------------------------------------------------------


def test_own_commit_echoed_by_the_delivery_service_section_12_4() -> None:
    """Flow 1: commit() -> send -> the delivery service echoes it -> process() returns a
    StagedCommit with own=True whose merge() is merge_pending_commit()."""
    sim = Sim.start(1, 2)
    a, b = sim.members
    ds = DeliveryService()
    kp, bundle = sim.key_package(b"carol")
    out = a.commit(add=[kp])
    ds.send(out.commit)
    for m in (a, b):
        for data in ds.fetch(m):
            staged = _stage(m, data)
            assert staged.own is (m is a)
            assert _ids(staged.added) == [b"carol"] and staged.committer == Sender.member(0)
            if m is a:
                assert a.has_pending_commit and a.epoch == 1  # staged: not merged yet
                assert staged.authenticated_data == b"" and staged.sender_credential == a.state.own_leaf.credential
            assert staged.merge() == out.effects
    assert not a.has_pending_commit and a.epoch == b.epoch == 2
    assert out.welcome is not None
    sim.members.append(Group.join(out.welcome, [bundle]))
    sim.agree()


def test_own_commit_merged_explicitly_section_12_4() -> None:
    """Flow 2: commit() -> send -> merge_pending_commit() once the delivery service accepted
    it. A StagedCommit of the echo obtained before then refuses to merge again ("already
    merged"); the echo processed after the merge is an old-epoch message, rejected with
    the group unchanged."""
    sim = Sim.start(1, 2)
    a, b = sim.members
    ds = DeliveryService()
    out = a.commit(path=True, authenticated_data=b"ad")
    ds.send(out.commit)
    (echo,) = ds.fetch(a)
    staged = _stage(a, echo)
    assert staged.own and staged.authenticated_data == b"ad"
    a.merge_pending_commit()
    with pytest.raises(StateError, match="already merged"):
        staged.merge()
    before = a.to_bytes()
    with pytest.raises(MLSError):
        a.process(echo)
    assert a.to_bytes() == before
    for data in ds.fetch(b):
        _stage(b, data).merge()
    sim.agree()


def test_own_staged_commit_discard_keeps_it_pending_section_12_4() -> None:
    sim = Sim.start(1, 2)
    a, b = sim.members
    out = a.commit(path=True)
    staged = _stage(a, out.commit)
    staged.discard()
    assert a.has_pending_commit and a.epoch == 1
    with pytest.raises(StateError):
        staged.merge()
    a.merge_pending_commit()
    apply(b, out.commit)
    sim.agree()


# ---- stale and finished staged commits ---------------------------------------------------------


def test_stale_staged_commit_section_12_4_2() -> None:
    """Two commits of the same epoch staged by one member: once one is merged the other
    refers to a state that no longer exists and its merge is a StateError (the group is
    untouched); so is a staged commit after another message changed the group."""
    sim = Sim.start(1, 3)
    a, b, c = sim.members
    first, second = a.commit(path=True), c.commit(path=True)
    s1, s2 = _stage(b, first.commit), _stage(b, second.commit)
    s2.merge()
    after = b.to_bytes()
    with pytest.raises(StateError, match="stale"):
        s1.merge()
    assert b.to_bytes() == after and s1.status == "staged"
    c.merge_pending_commit()
    a.discard_pending_commit()
    apply(a, second.commit)
    sim.agree()
    # an application message processed between staging and merging also makes it stale
    out = a.commit(path=True)
    staged = _stage(b, out.commit)
    assert isinstance(b.process(c.encrypt(b"meanwhile")), ApplicationMessage)
    with pytest.raises(StateError, match="stale"):
        staged.merge()
    _stage(b, out.commit).merge()  # processed again against the current state
    a.merge_pending_commit()
    assert b.epoch_authenticator == a.epoch_authenticator
    # so does a commit of our own created after staging (even as a PublicMessage, which
    # leaves our current state as it was)
    theirs = a.commit(path=True)
    staged = _stage(b, theirs.commit)
    ours = b.commit(path=True, wire_format=int(WireFormat.PUBLIC_MESSAGE))
    with pytest.raises(StateError, match="stale"):
        staged.merge()
    assert b.has_pending_commit
    b.discard_pending_commit()
    _stage(b, theirs.commit).merge()
    a.merge_pending_commit()
    assert b.epoch_authenticator == a.epoch_authenticator and ours.effects.epoch == b.epoch


def test_merge_and_discard_are_final_section_12_4_2() -> None:
    sim = Sim.start(1, 2)
    a, b = sim.members
    out = a.commit(path=True)
    staged = _stage(b, out.commit)
    staged.merge()
    with pytest.raises(StateError, match="already merged"):
        staged.merge()
    with pytest.raises(StateError, match="already merged"):
        staged.discard()
    a.merge_pending_commit()
    assert b.epoch_authenticator == a.epoch_authenticator


# ---- SafeExportSecret of the staged epoch ------------------------------------------------------


def test_staged_safe_export_secret_equals_the_committers_pending_one_ext_section_4_4() -> None:
    """draft-ietf-mls-extensions §4.4: the staged epoch's SafeExportSecret (e.g. for an APQ
    combined group's PSK, derived before merging) equals the committer's
    pending_safe_export_secret; it is consumed on use, also after the merge; an export of
    the current epoch meanwhile does not make the staged commit stale."""
    sim = Sim.start(1, 2)
    a, b = sim.members
    out = a.commit(path=True)
    staged = _stage(b, out.commit)
    theirs = a.pending_safe_export_secret(6)
    assert staged.safe_export_secret(6) == theirs
    with pytest.raises(SecretConsumedError):
        staged.safe_export_secret(6)
    assert b.safe_export_secret(7) == a.safe_export_secret(7)  # the current epoch's tree
    assert b.epoch == 1
    staged.merge()
    a.merge_pending_commit()
    with pytest.raises(SecretConsumedError):
        b.safe_export_secret(6)
    assert b.safe_export_secret(8) == a.safe_export_secret(8) != theirs


def test_own_staged_safe_export_secret_is_the_pending_one_ext_section_4_4() -> None:
    sim = Sim.start(1, 2)
    a, b = sim.members
    out = a.commit(path=True)
    own = _stage(a, out.commit)
    mine = own.safe_export_secret(6)
    with pytest.raises(SecretConsumedError):
        a.pending_safe_export_secret(6)
    own.merge()
    assert _stage(b, out.commit).safe_export_secret(6) == mine


# ---- typed results ----------------------------------------------------------------------------


def _describe(r: ProcessedMessage) -> str:
    match r:
        case ApplicationMessage(data=data):
            return f"application {data!r}"
        case ProposalMessage(proposal=p):
            return f"proposal {type(p.body).__name__}"
        case StagedCommit(effects=e):
            return f"commit to epoch {e.epoch}"
    raise AssertionError(r)


def test_results_are_a_tagged_union_section_6() -> None:
    """The three results can be told apart by ``match``; application data is not in a
    repr (it may be secret), nor is the group behind a staged commit."""
    sim = Sim.start(1, 2)
    a, b = sim.members
    app = b.process(a.encrypt(b"secret plaintext", authenticated_data=b"aad"))
    assert _describe(app) == "application b'secret plaintext'"
    assert isinstance(app, ApplicationMessage) and app.authenticated_data == b"aad"
    assert app.sender == Sender.member(0) and app.wire_format == WireFormat.PRIVATE_MESSAGE
    assert "secret plaintext" not in repr(app)
    prop = b.process(a.propose_update())
    assert _describe(prop) == "proposal Update"
    out = a.commit()
    staged = b.process(out.commit)
    assert _describe(staged) == "commit to epoch 2"
    assert isinstance(staged, StagedCommit)
    assert "Group" not in repr(staged) and "_staged" not in repr(staged)
    with pytest.raises(AttributeError):
        staged.own = True  # type: ignore[misc]  # frozen


def test_commit_output_builds_the_group_info_once_section_12_4_3() -> None:
    """CommitOutput.group_info (§12.4.3) is one type (bytes), built lazily at most once."""
    calls: list[int] = []

    def make() -> bytes:
        calls.append(1)
        return b"group info"

    sim = Sim.start(1, 2)
    effects = sim.members[0].commit().effects
    out = CommitOutput(b"commit", None, make, effects)
    assert calls == []
    assert out.group_info == out.group_info == b"group info" and calls == [1]
    o2 = sim.members[1].commit(path=True)  # a real one: built on first access, then cached
    assert isinstance(o2.group_info, bytes) and o2.group_info is o2.group_info
