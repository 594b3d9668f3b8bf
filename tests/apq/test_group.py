"""APQGroup (mls_pq/apq/group.py): the combined group object of draft-ietf-mls-combiner —
create (§3), Welcome pair (§3.2, §3.2.1), FULL / PARTIAL commits (§3.1), process, application
data in the traditional session only (§3.4), removal (§3.3), FULL-flagged Updates (Fig. 1b),
rejections leaving both sessions unchanged, atomic persistence and load."""

from __future__ import annotations

from pathlib import Path

import pytest

from mls_pq.apq.client import APQClient, APQKeyPackageBundle, apq_registry, session_capabilities, session_leaf_extensions
from mls_pq.apq.group import APQGroup, apq_info_of
from mls_pq.apq.structs import APQ_COMPONENT_ID, APQMessagePair
from mls_pq.errors import CorruptStateError, DraftValidationError, MLSError, StateError
from mls_pq.group import Group, KeyPackageBundle
from mls_pq.group.results import StagedCommit
from mls_pq.messages.framing_structs import MLSMessage
from mls_pq.storage import MemoryStorage, SQLiteStorage, Storage

T, PQ = 0x0001, 0xF006


def client(name: bytes, pq: int = PQ) -> APQClient:
    return APQClient.generate(T, pq, name)


def snapshot(g: APQGroup) -> tuple[bytes, bytes]:
    """Both sessions' full state, byte for byte."""
    return g.t.to_bytes(), g.pq.to_bytes()


def same_keys(groups: list[APQGroup]) -> None:
    """Every member agrees on both sessions' epochs, epoch authenticators and exporters."""
    ref = groups[0]
    for g in groups[1:]:
        assert g.epochs == ref.epochs
        assert g.t.epoch_authenticator == ref.t.epoch_authenticator
        assert g.pq.epoch_authenticator == ref.pq.epoch_authenticator
        assert g.export_secret("test", b"ctx", 32) == ref.export_secret("test", b"ctx", 32)
        assert g.pq.export_secret("test", b"ctx", 32) == ref.pq.export_secret("test", b"ctx", 32)
        assert apq_info_of(g.t) == apq_info_of(g.pq) == apq_info_of(ref.t)


def add(committer: APQGroup, others: list[APQGroup], joiner: APQClient, **kw: object) -> APQGroup:
    """``committer`` adds ``joiner`` with a FULL commit; everyone processes; the joiner sends
    its first (FULL) commit, which everyone processes."""
    kp, bundle = joiner.key_packages()
    out = committer.commit(full=True, add=[kp])
    committer.merge_pending_commit()
    for o in others:
        o.process(out.commit)
    assert out.welcome is not None
    new = APQGroup.join(out.welcome, bundle, **kw)  # type: ignore[arg-type]
    assert new.must_send_full_commit
    first = new.commit(full=True)
    new.merge_pending_commit()
    assert not new.must_send_full_commit
    for o in [committer, *others]:
        o.process(first.commit)
    return new


@pytest.fixture
def pair() -> tuple[APQGroup, APQGroup]:
    a = APQGroup.create(client(b"alice"))
    b = add(a, [], client(b"bob"))
    return a, b


def test_create_puts_apq_info_in_both_sessions_section_3() -> None:
    c = client(b"alice")
    g = APQGroup.create(c, t_group_id=b"T", pq_group_id=b"PQ")
    info = g.apq_info
    assert info == apq_info_of(g.pq)
    assert (info.t_session_group_id, info.pq_session_group_id) == (b"T", b"PQ")
    assert (info.t_cipher_suite, info.pq_cipher_suite, info.mode) == (T, PQ, False)
    assert (info.t_epoch, info.pq_epoch) == g.epochs == (1, 1)
    assert g.members() == [b"alice"]


def test_create_rejects_invalid_suite_pairs_section_7_1() -> None:
    with pytest.raises(DraftValidationError, match=r"§7\.1"):
        APQGroup.create(APQClient.generate(0xF001, PQ, b"a"))  # hybrid as traditional
    with pytest.raises(DraftValidationError, match=r"§7\.1\.1"):
        APQGroup.create(APQClient.generate(T, 0xF001, b"a"))  # hybrid KEM in the PQ session
    with pytest.raises(DraftValidationError, match=r"§7\.1\.2"):
        APQGroup.create(client(b"a"), mode=True)  # mode 1 with an Ed25519 PQ suite
    with pytest.raises(DraftValidationError, match=r"§5\.1"):
        APQGroup.create(client(b"a"), t_group_id=b"same", pq_group_id=b"same")


def test_full_and_partial_commits_agree(pair: tuple[APQGroup, APQGroup]) -> None:
    a, b = pair
    same_keys([a, b])
    t0, pq0 = a.epochs
    out = a.commit(full=False)
    assert out.pq_commit is None and not out.full
    a.merge_pending_commit()
    r = b.process(out.commit)
    assert (r.kind, r.full, r.sender) == ("commit", False, b"alice")
    assert a.epochs == b.epochs == (t0 + 1, pq0)  # PARTIAL: the PQ session stays
    assert a.apq_info.t_epoch == t0  # APQInfo records the last FULL commit's epochs
    same_keys([a, b])
    out = b.commit(full=True)
    b.merge_pending_commit()
    r = a.process(out.commit)
    assert (r.kind, r.full, r.sender) == ("commit", True, b"bob")
    assert a.epochs == (t0 + 2, pq0 + 1) and a.apq_info.t_epoch == t0 + 2
    same_keys([a, b])


def test_application_data_in_the_traditional_session_section_3_4(pair: tuple[APQGroup, APQGroup]) -> None:
    a, b = pair
    ct = a.encrypt(b"hello", authenticated_data=b"ad")
    assert MLSMessage.from_bytes(ct).body.group_id == a.t.group_id  # type: ignore[union-attr]
    r = b.process(ct)
    assert (r.kind, r.data, r.sender) == ("application", b"hello", b"alice")


def test_pq_message_alone_rejected_section_6(pair: tuple[APQGroup, APQGroup]) -> None:
    a, b = pair
    out = a.commit(full=True)
    pq_commit = out.pq_commit
    assert pq_commit is not None
    before = snapshot(b)
    with pytest.raises(DraftValidationError, match=r"§6"):
        b.process(pq_commit)
    assert snapshot(b) == before


def test_joiner_must_send_a_full_commit_first_section_3_2() -> None:
    a = APQGroup.create(client(b"alice"))
    kp, bundle = client(b"bob").key_packages()
    out = a.commit(full=True, add=[kp])
    a.merge_pending_commit()
    assert out.welcome is not None
    b = APQGroup.join(out.welcome, bundle)
    same_keys([a, b])
    assert sorted(b.members()) == [b"alice", b"bob"]
    with pytest.raises(StateError, match=r"§3\.2"):
        b.commit(full=False)
    b.commit(full=True)
    b.merge_pending_commit()
    b.commit(full=False)  # now allowed


def test_adds_and_removes_need_a_full_commit_section_3(pair: tuple[APQGroup, APQGroup]) -> None:
    a, _ = pair
    kp, _ = client(b"carol").key_packages()
    with pytest.raises(DraftValidationError, match=r"§3\)"):
        a.commit(full=False, add=[kp])
    with pytest.raises(DraftValidationError, match=r"§3\)"):
        a.commit(full=False, remove=[b"bob"])
    assert not a.has_pending_commit


def test_remove_in_both_sessions_section_3_3(pair: tuple[APQGroup, APQGroup]) -> None:
    a, b = pair
    c = add(a, [b], client(b"carol"))
    out = a.commit(full=True, remove=[b"bob"])
    a.merge_pending_commit()
    r = b.process(out.commit)
    assert r.t_effects is not None and r.t_effects.removed_self and not b.active
    c.process(out.commit)
    assert sorted(a.members()) == sorted(c.members()) == [b"alice", b"carol"]
    assert sorted(a.members()) == sorted(a.identity_of(m.credential) for m in a.pq.members())
    same_keys([a, c])


def test_propose_remove_pair_then_full_commit_section_3_3(pair: tuple[APQGroup, APQGroup]) -> None:
    a, b = pair
    c = add(a, [b], client(b"carol"))
    prop = c.propose_remove(b"bob")
    for g in (a, b):
        r = g.process(prop)
        assert (r.kind, r.full, r.sender) == ("proposal", True, b"carol")
    out = a.commit(full=True)
    a.merge_pending_commit()
    c.process(out.commit)
    b.process(out.commit)
    assert not b.active and sorted(a.members()) == [b"alice", b"carol"]
    same_keys([a, c])


def test_update_with_the_full_flag_fig_1b(pair: tuple[APQGroup, APQGroup]) -> None:
    a, b = pair
    prop = b.propose_update()
    r = a.process(prop)
    assert (r.kind, r.full, r.sender) == ("proposal", True, b"bob")
    # a PARTIAL commit of ours leaves the FULL-flagged Update for a FULL commit
    out = a.commit(full=False)
    assert b"bob" not in [m.credential.identity for m in out.t_effects.updated]
    a.discard_pending_commit()
    out = a.commit(full=True)
    assert b"bob" in [m.credential.identity for m in out.t_effects.updated]
    assert out.pq_effects is not None and b"bob" in [m.credential.identity for m in out.pq_effects.updated]
    a.merge_pending_commit()
    b.process(out.commit)
    same_keys([a, b])


def test_rejected_full_commit_changes_neither_session(pair: tuple[APQGroup, APQGroup]) -> None:
    a, b = pair
    good = a.commit(full=True)
    a.merge_pending_commit()
    p = APQMessagePair.from_mls_message(good.commit)
    other = a.commit(full=True)  # a later commit: its T half does not match the PQ half
    q = APQMessagePair.from_mls_message(other.commit)
    a.discard_pending_commit()
    before = snapshot(b)
    for bad in (APQMessagePair.of(q.t_message, p.pq_message), APQMessagePair.of(p.t_message, q.pq_message)):
        with pytest.raises(MLSError):
            b.process(bad.to_mls_message())
        assert snapshot(b) == before
    b.process(good.commit)
    same_keys([a, b])


def test_partial_commit_must_not_carry_the_apq_psk_section_3_1(pair: tuple[APQGroup, APQGroup]) -> None:
    a, b = pair
    out = a.commit(full=True)
    before = snapshot(b)
    with pytest.raises(MLSError):
        b.process(out.t_commit)  # the T half alone: no PQ epoch, no apq_psk
    assert snapshot(b) == before


def test_safe_export_of_component_0x0006_is_reserved_section_5_2(pair: tuple[APQGroup, APQGroup]) -> None:
    a, _ = pair
    with pytest.raises(DraftValidationError, match=r"§5\.2"):
        a.safe_export_secret(APQ_COMPONENT_ID)
    assert len(a.safe_export_secret(0x8001)) == a.t.suite.n_h


def test_mode_1_with_ml_dsa() -> None:
    a = APQGroup.create(client(b"alice", 0xF00A))
    assert a.mode is True
    b = add(a, [], client(b"bob", 0xF00A))
    out = a.commit(full=False)
    a.merge_pending_commit()
    b.process(out.commit)
    same_keys([a, b])


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_persisted_and_loaded(tmp_path: Path, backend: str) -> None:
    def storage(name: str) -> Storage:
        return MemoryStorage() if backend == "memory" else SQLiteStorage(tmp_path / f"{name}.db")

    sa, sb = storage("a"), storage("b")
    a = APQGroup.create(client(b"alice"), storage=sa)
    kp, _ = (bob := client(b"bob")).key_packages(storage=sb)
    out = a.commit(full=True, add=[kp])
    a.merge_pending_commit()
    assert out.welcome is not None
    b = APQGroup.join(out.welcome, storage=sb)  # bundles found in storage
    first = b.commit(full=True)
    b.merge_pending_commit()
    a.process(first.commit)
    del bob
    a2 = APQGroup.load(sa, a.t.group_id, a.pq.group_id)
    b2 = APQGroup.load(sb, b.t.group_id, b.pq.group_id)
    same_keys([a2, b2, a])
    out = a2.commit(full=True)
    a2.merge_pending_commit()
    b2.process(out.commit)
    same_keys([a2, b2])
    # a rejected pair leaves both stored sessions as they were
    stale = b2.commit(full=True)
    b2.discard_pending_commit()
    stored = (sa.load_group(a.t.group_id), sa.load_group(a.pq.group_id))
    with pytest.raises(MLSError):
        pq_only = APQMessagePair.from_mls_message(stale.commit)
        a2.process(APQMessagePair.of(MLSMessage.from_bytes(out.t_commit), pq_only.pq_message).to_mls_message())
    assert (sa.load_group(a.t.group_id), sa.load_group(a.pq.group_id)) == stored
    a3 = APQGroup.load(sa, a.t.group_id, a.pq.group_id)
    same_keys([a2, a3, b2])


def test_external_join_of_both_sessions_section_3_2_2(pair: tuple[APQGroup, APQGroup]) -> None:
    a, b = pair
    out = a.commit(full=False)  # a PARTIAL commit first: T epoch ahead of APQInfo's
    a.merge_pending_commit()
    b.process(out.commit)
    gi = b.group_info()
    assert APQMessagePair.from_mls_message(gi).wire_format == 4
    d, commit = APQGroup.join_external(gi, client(b"dave"))
    assert not d.must_send_full_commit  # the external commits are a FULL commit
    for g in (a, b):
        r = g.process(commit)
        assert (r.kind, r.full, r.sender) == ("commit", True, b"dave")
    assert sorted(a.members()) == sorted(d.members()) == [b"alice", b"bob", b"dave"]
    same_keys([a, b, d])
    assert d.apq_info.t_epoch == d.t.epoch and d.apq_info.pq_epoch == d.pq.epoch
    out = d.commit(full=False)
    d.merge_pending_commit()
    a.process(out.commit)
    b.process(out.commit)
    same_keys([a, b, d])


def test_external_join_without_the_apq_psk_rejected_section_3_2_2(pair: tuple[APQGroup, APQGroup]) -> None:
    a, b = pair
    gi = APQMessagePair.from_mls_message(b.group_info())
    d, commit = APQGroup.join_external(gi.to_mls_message(), client(b"dave"))
    c = APQMessagePair.from_mls_message(commit)
    # the T half replaced by a plain external commit of the T session alone (no PSK, no APQInfo update)
    dave = client(b"dave")
    _, plain = Group.join_external(
        gi.t_message.to_bytes(),
        dave.t.credential,
        dave.t.signature_priv,
        capabilities=session_capabilities(dave.t),
        leaf_extensions=session_leaf_extensions(apq_registry()),
    )
    before = snapshot(a)
    with pytest.raises(DraftValidationError, match=r"§5\.2"):
        a.process(APQMessagePair.of(MLSMessage.from_bytes(plain), c.pq_message).to_mls_message())
    assert snapshot(a) == before
    a.process(commit)
    same_keys([a, d])


@pytest.mark.parametrize("full", [True, False])
def test_own_commit_coming_back_is_merged(pair: tuple[APQGroup, APQGroup], full: bool) -> None:
    a, b = pair
    out = a.commit(full=full)
    r = a.process(out.commit)  # e.g. echoed by the delivery service
    assert (r.kind, r.full, r.sender) == ("commit", full, b"alice") and not a.has_pending_commit
    b.process(out.commit)
    same_keys([a, b])


def running_traditional_group(names: list[bytes]) -> tuple[list[APQClient], list[Group]]:
    """A plain traditional group (no combiner yet), a few epochs old, whose members' leaves
    already support the combiner's extensions."""
    clients = [client(n) for n in names]
    exts = session_leaf_extensions(apq_registry())
    c0 = clients[0].t
    first = Group.create(
        T, b"running", c0.credential, c0.signature_priv, capabilities=session_capabilities(c0), leaf_extensions=exts
    )
    kps = [c.t.key_package(capabilities=session_capabilities(c.t), leaf_extensions=exts) for c in clients[1:]]
    out = first.commit(add=[kp for kp, _ in kps])
    first.merge_pending_commit()
    assert out.welcome is not None
    groups = [first, *(Group.join(out.welcome, b) for _, b in kps)]
    out = groups[1].commit()
    groups[1].merge_pending_commit()
    for g in (groups[0], groups[2]):
        staged = g.process(out.commit)
        assert isinstance(staged, StagedCommit)
        staged.merge()
    return clients, groups


def pq_key_packages(clients: list[APQClient]) -> list[tuple[bytes, KeyPackageBundle]]:
    exts = session_leaf_extensions(apq_registry())
    return [c.pq.key_package(capabilities=session_capabilities(c.pq), leaf_extensions=exts) for c in clients]


def test_upgrade_a_running_traditional_group_section_3() -> None:
    clients, (ta, tb, tc) = running_traditional_group([b"alice", b"bob", b"carol"])
    epoch = ta.epoch
    kps = pq_key_packages(clients[1:])
    a, out = APQGroup.upgrade(ta, clients[0].pq, [kp for kp, _ in kps])
    a.merge_pending_commit()
    assert out.pq_welcome is not None and out.welcome is None
    b = APQGroup.join_upgrade(tb, out.commit, out.pq_welcome, kps[0][1])
    c = APQGroup.join_upgrade(tc, out.commit, out.pq_welcome, kps[1][1])
    assert a.epochs == (epoch + 1, 1) and a.apq_info.t_epoch == epoch + 1
    same_keys([a, b, c])
    out2 = c.commit(full=False)
    c.merge_pending_commit()
    a.process(out2.commit)
    b.process(out2.commit)
    out3 = b.commit(full=True)
    b.merge_pending_commit()
    a.process(out3.commit)
    c.process(out3.commit)
    same_keys([a, b, c])


def test_upgrade_membership_must_match_section_3_2_1() -> None:
    clients, (ta, _, _) = running_traditional_group([b"alice", b"bob", b"carol"])
    before = ta.to_bytes()
    kps = pq_key_packages(clients[1:2])  # carol missing from the PQ session
    with pytest.raises(DraftValidationError, match=r"§3\.2\.1"):
        APQGroup.upgrade(ta, clients[0].pq, [kp for kp, _ in kps])
    assert ta.to_bytes() == before and not ta.has_pending_commit


def test_join_upgrade_failure_leaves_the_traditional_group_unchanged() -> None:
    clients, (ta, tb, tc) = running_traditional_group([b"alice", b"bob", b"carol"])
    kps = pq_key_packages(clients[1:])
    _, out = APQGroup.upgrade(ta, clients[0].pq, [kp for kp, _ in kps])
    assert out.pq_welcome is not None
    p = APQMessagePair.from_mls_message(out.commit)
    plain = tc.commit().commit  # a traditional commit without the apq_psk
    before = tb.to_bytes()
    with pytest.raises(DraftValidationError, match=r"§5\.2"):
        APQGroup.join_upgrade(tb, APQMessagePair.of(MLSMessage.from_bytes(plain), p.pq_message).to_mls_message(),
                              out.pq_welcome, kps[0][1])
    assert tb.to_bytes() == before


class Crash(Exception):
    """Stands for the process dying between the writes of the two sessions."""


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_crash_between_the_two_sessions_writes_leaves_both_old(
    tmp_path: Path, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    s: Storage = MemoryStorage() if backend == "memory" else SQLiteStorage(tmp_path / "a.db")
    a = APQGroup.create(client(b"alice"), storage=s)
    b = add(a, [], client(b"bob"))
    gids = (a.t.group_id, a.pq.group_id)

    def stored_epochs() -> tuple[int, int]:
        st, sp = s.load_group(gids[0]), s.load_group(gids[1])
        assert st is not None and sp is not None
        return st.epoch, sp.epoch

    before = stored_epochs()
    assert before == a.epochs
    # our FULL commit: the PQ epoch is written, then the process dies before the T epoch is
    a.commit(full=True)

    def die() -> None:
        raise Crash

    monkeypatch.setattr(a.t, "merge_pending_commit", die)
    with pytest.raises(Crash):
        a.merge_pending_commit()
    assert stored_epochs() == before == a.epochs  # neither session moved, on disk or in memory
    monkeypatch.undo()
    reloaded = APQGroup.load(s, *gids)
    assert reloaded.epochs == before
    # receiving a FULL commit: the PQ half is processed, then the T half fails
    a.discard_pending_commit()
    out = b.commit(full=True)
    b.merge_pending_commit()
    real = a.t.process

    def t_process_dies(data: bytes) -> object:
        real(data)
        raise Crash

    monkeypatch.setattr(a.t, "process", t_process_dies)
    state = snapshot(a)
    with pytest.raises(Crash):
        a.process(out.commit)
    assert stored_epochs() == before and snapshot(a) == state
    monkeypatch.undo()
    a.process(out.commit)
    assert stored_epochs() == a.epochs == b.epochs
    same_keys([a, b, APQGroup.load(s, *gids)])


def test_welcome_pair_checks_section_3_2_1() -> None:
    a = APQGroup.create(client(b"alice"))
    other = APQGroup.create(client(b"olga"))
    bob = client(b"bob")
    kp, bundle = bob.key_packages()
    out = a.commit(full=True, add=[kp])
    kp2, bundle2 = bob.key_packages()
    out2 = other.commit(full=True, add=[kp2])
    assert out.welcome is not None and out2.welcome is not None
    w, w2 = APQMessagePair.from_mls_message(out.welcome), APQMessagePair.from_mls_message(out2.welcome)
    # the T Welcome of one combined group with the PQ Welcome of another: no apq_psk fits
    mixed = APQMessagePair(w.wire_format, w.t_message, w2.pq_message).to_mls_message()
    both = APQKeyPackageBundle(bundle.t, bundle2.pq)
    with pytest.raises(MLSError):
        APQGroup.join(mixed, both)
    # not a pair of Welcomes
    with pytest.raises(DraftValidationError, match=r"§3\.2\.1"):
        APQGroup.join(out.commit, bundle)
    with pytest.raises(MLSError):
        APQGroup.join(w.t_message.to_bytes(), bundle)  # a single Welcome is not enough


def test_module_example_runs() -> None:
    """The example of mls_pq/apq/group.py's docstring, executed as written."""
    import textwrap

    import mls_pq.apq.group as mod

    doc = mod.__doc__ or ""
    block = doc.split("Example::\n", 1)[1].split("\n\n", 1)[0]
    lines = textwrap.dedent(block).splitlines()
    *setup, last = lines
    env: dict[str, object] = {"APQClient": APQClient, "APQGroup": APQGroup}
    exec("\n".join(setup), env)
    assert eval(last.split("#")[0], env) is True


def test_unpaired_remove_proposal_is_left_out_of_full_commits_section_3_2_1(pair: tuple[APQGroup, APQGroup]) -> None:
    a, b = pair
    c = add(a, [b], client(b"carol"))
    # bob proposes carol's removal in the traditional session only (no PQ twin)
    lone = b.t.propose_remove(b.t.members()[-1].leaf_index)
    r = a.process(lone)
    assert (r.kind, r.full) == ("proposal", False)
    out = a.commit(full=True)  # leaves the lone Remove out: memberships stay equal
    assert out.t_effects.removed == ()
    a.merge_pending_commit()
    for g in (b, c):
        g.process(out.commit)
    assert sorted(a.members()) == [b"alice", b"bob", b"carol"]
    same_keys([a, b, c])


def test_failed_join_with_storage_keeps_nothing_and_consumes_no_key_package(tmp_path: Path) -> None:
    a = APQGroup.create(client(b"alice"))
    other = APQGroup.create(client(b"olga"))
    s = SQLiteStorage(tmp_path / "bob.db")
    bob = client(b"bob")
    kp, _ = bob.key_packages(storage=s)
    kp2, _ = bob.key_packages(storage=s)
    out, out2 = a.commit(full=True, add=[kp]), other.commit(full=True, add=[kp2])
    assert out.welcome is not None and out2.welcome is not None
    w, w2 = APQMessagePair.from_mls_message(out.welcome), APQMessagePair.from_mls_message(out2.welcome)
    stored_kps = s.list_key_packages()
    assert len(stored_kps) == 4
    with pytest.raises(MLSError):  # the PQ join succeeds, the T join cannot: both roll back
        APQGroup.join(APQMessagePair(w.wire_format, w.t_message, w2.pq_message).to_mls_message(), storage=s)
    assert s.list_groups() == [] and s.list_key_packages() == stored_kps
    b = APQGroup.join(out.welcome, storage=s)
    assert len(s.list_groups()) == 2 and len(s.list_key_packages()) == 2
    a.merge_pending_commit()
    same_keys([a, b])


def test_partial_commit_dropping_required_wire_formats_rejected_section_6(pair: tuple[APQGroup, APQGroup]) -> None:
    a, b = pair
    from mls_pq import ext_codepoints as cp

    kept = [e for e in a.t.group_context.extensions if e.extension_type != cp.REQUIRED_WIRE_FORMATS]
    out = a.t.commit(group_context_extensions=kept)  # a plain T commit, bypassing APQGroup's checks
    before = snapshot(b)
    with pytest.raises(DraftValidationError, match=r"§6\)"):
        b.process(out.commit)
    assert snapshot(b) == before


@pytest.mark.parametrize("theirs_full", [True, False])
def test_another_commit_supersedes_our_pending_full_commit(pair: tuple[APQGroup, APQGroup], theirs_full: bool) -> None:
    a, b = pair
    a.commit(full=True)
    out = b.commit(full=theirs_full)
    b.merge_pending_commit()
    a.process(out.commit)
    assert not a.has_pending_commit and not a.t.has_pending_commit and not a.pq.has_pending_commit
    assert not any(k[0] == APQ_COMPONENT_ID for k in a.t.application_psks)
    same_keys([a, b])
    out = a.commit(full=True)
    a.merge_pending_commit()
    b.process(out.commit)
    same_keys([a, b])


def test_private_handshake_messages_in_pairs_section_6() -> None:
    from mls_pq.group import GroupConfig, GroupOptions

    cfg = GroupConfig(options=GroupOptions(handshake_wire_format=2))
    a = APQGroup.create(client(b"alice"), config=cfg)
    b = add(a, [], client(b"bob"), config=cfg)
    out = a.commit(full=True)
    assert APQMessagePair.from_mls_message(out.commit).wire_format == 2
    a.merge_pending_commit()
    b.process(out.commit)
    prop = b.propose_update()
    a.process(prop)
    out = a.commit(full=True)
    a.merge_pending_commit()
    b.process(out.commit)
    same_keys([a, b])


def test_own_pending_full_commit_echoed_after_a_reload() -> None:
    sa, sb = MemoryStorage(), MemoryStorage()
    a = APQGroup.create(client(b"alice"), storage=sa)
    kp, _ = client(b"bob").key_packages(storage=sb)
    out = a.commit(full=True, add=[kp])
    a.merge_pending_commit()
    assert out.welcome is not None
    b = APQGroup.join(out.welcome, storage=sb)
    mine = b.commit(full=True)
    b2 = APQGroup.load(sb, b.t.group_id, b.pq.group_id)  # e.g. a restart before the echo
    assert b2.t.has_pending_commit and b2.pq.has_pending_commit
    r = b2.process(mine.commit)
    assert (r.kind, r.full, r.sender) == ("commit", True, b"bob") and not b2.has_pending_commit
    a.process(mine.commit)
    same_keys([a, b2, APQGroup.load(sb, b.t.group_id, b.pq.group_id)])


def test_to_bytes_round_trip_keeps_the_joiners_duty_section_3_2() -> None:
    a = APQGroup.create(client(b"alice"))
    kp, bundle = client(b"bob").key_packages()
    out = a.commit(full=True, add=[kp])
    a.merge_pending_commit()
    assert out.welcome is not None
    b = APQGroup.from_bytes(APQGroup.join(out.welcome, bundle).to_bytes())
    assert b.must_send_full_commit
    with pytest.raises(StateError, match=r"§3\.2"):
        b.commit(full=False)
    first = b.commit(full=True)
    b2 = APQGroup.from_bytes(b.to_bytes())  # the pending commit travels too
    b2.merge_pending_commit()
    a.process(first.commit)
    same_keys([a, b2])
    raw = bytearray(a.to_bytes())
    raw[len(raw) // 2] ^= 1
    with pytest.raises(CorruptStateError):
        APQGroup.from_bytes(bytes(raw))


def test_mutated_pairs_are_rejected_with_typed_errors_and_change_nothing(pair: tuple[APQGroup, APQGroup]) -> None:
    """Every bit of a FULL commit pair is covered (framing, signatures, membership tags,
    §6 rules): any flip is rejected with an MLSError and leaves both sessions unchanged."""
    import random

    a, b = pair
    out = a.commit(full=True)
    a.merge_pending_commit()
    data = out.commit
    before = snapshot(b)
    rng = random.Random(7)
    for _ in range(150):
        raw = bytearray(data)
        for _ in range(rng.randint(1, 3)):
            raw[rng.randrange(len(raw))] ^= 1 << rng.randrange(8)
        if bytes(raw) == data:
            continue
        with pytest.raises(MLSError):
            b.process(bytes(raw))
        assert snapshot(b) == before
    b.process(data)
    same_keys([a, b])
