"""The Authentication Service hook (RFC 9420 §5.3.1).

Each member has a recording validator. For every event of §5.3.1 the test checks who was
asked about which credential (and with which predecessor), that nothing is asked when no
new credential appears, and that a rejecting validator makes the operation fail with
:class:`CredentialRejected` (§5.3.1) leaving the group state byte-for-byte unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import pytest

from mls_pq.client import Client, make_leaf_template
from mls_pq.credentials import CredentialEvent, CredentialEventType, CredentialRejected
from mls_pq.errors import MLSError
from mls_pq.extensions import APPLICATION_ID, Extension
from mls_pq.group import Group, GroupConfig
from mls_pq.group.external import external_proposal, new_member_add_proposal
from mls_pq.messages.credential import Credential
from mls_pq.messages.external_senders import ExternalSender, external_senders_extension
from mls_pq.messages.framing_structs import MLSMessage
from mls_pq.messages.key_package import KeyPackage
from mls_pq.messages.proposals import Add, Proposal
from mls_pq.storage import MemoryStorage
from mls_pq.suites import CipherSuite, get_suite

from ._helpers import apply

E = CredentialEventType


@dataclass
class Recorder:
    """A validator that records every event and rejects those ``reject`` picks."""

    reject: Callable[[CredentialEvent], bool] = lambda e: False
    events: list[CredentialEvent] = field(default_factory=list)

    def __call__(self, event: CredentialEvent) -> bool:
        self.events.append(event)
        return not self.reject(event)

    def take(self) -> list[tuple[str, bytes, int | None, bytes | None]]:
        """(event, identity, leaf_index, previous identity) of the events so far, then clear."""
        out = [
            (e.type.value, e.credential.identity, e.leaf_index, e.previous.identity if e.previous else None)
            for e in self.events
        ]
        self.events.clear()
        return out


@dataclass
class World:
    suite: CipherSuite
    groups: list[Group]
    recs: list[Recorder]
    clients: list[Client]
    ds_sk: bytes

    def clear(self) -> None:
        for r in self.recs:
            r.events.clear()


def _world() -> World:
    """alice (leaf 0), bob (1), carol (2), each with a Recorder; a delivery-service external sender."""
    suite = get_suite(1)
    alice, bob, carol = (Client.generate(suite, n) for n in (b"alice", b"bob", b"carol"))
    ds_sk, ds_pk = suite.signature.generate()
    ds = external_senders_extension([ExternalSender(ds_pk, Credential.basic(b"ds"))])
    ra, rb, rc = Recorder(), Recorder(), Recorder()
    a = Group.create(
        suite,
        b"as-group",
        alice.credential,
        alice.signature_priv,
        extensions=[ds],
        config=GroupConfig(credential_validator=ra),
    )
    assert ra.take() == [("external_sender", b"ds", None, None)]
    kp_b, bb = bob.key_package()
    kp_c, bc = carol.key_package()
    out = a.commit(add=[kp_b, kp_c])
    assert ra.take() == [("key_package", b"bob", None, None), ("key_package", b"carol", None, None)]
    a.merge_pending_commit()
    assert out.welcome is not None
    b = Group.join(out.welcome, bb, config=GroupConfig(credential_validator=rb))
    c = Group.join(out.welcome, bc, config=GroupConfig(credential_validator=rc))
    assert rb.take() == [
        ("group_member", b"alice", 0, None),
        ("group_member", b"carol", 2, None),
        ("group_info_signer", b"alice", 0, None),
        ("external_sender", b"ds", None, None),
    ]
    assert [t for t, *_ in rc.take()] == ["group_member", "group_member", "group_info_signer", "external_sender"]
    return World(suite, [a, b, c], [ra, rb, rc], [alice, bob, carol], ds_sk)


def _unchanged(g: Group, action: Callable[[], object], *, event: str) -> CredentialRejected:
    before = g.to_bytes()
    with pytest.raises(CredentialRejected) as ei:
        action()
    assert ei.value.section == "5.3.1"
    assert ei.value.event is not None and ei.value.event.type.value == event
    assert g.to_bytes() == before
    return ei.value


def _reject_all(rec: Recorder) -> None:
    rec.reject = lambda e: True


# ---- events ------------------------------------------------------------------------------------


def test_events_on_add_paths() -> None:
    w = _world()
    a, b, c = w.groups
    ra, rb, rc = w.recs
    # bob proposes to add dave: bob validates the KeyPackage, the others the received Add
    dave = Client.generate(w.suite, b"dave")
    kp_d, bd = dave.key_package()
    prop = b.propose_add(kp_d)
    assert rb.take() == [("key_package", b"dave", None, None)]
    apply(a, prop)
    apply(c, prop)
    assert ra.take() == rc.take() == [("add", b"dave", None, None)]
    # a commit covering it by reference asks nobody again
    out = a.commit()
    apply(b, out.commit)
    apply(c, out.commit)
    a.merge_pending_commit()
    assert ra.take() == rb.take() == rc.take() == []
    # an Add by value inside a received commit
    erin = Client.generate(w.suite, b"erin")
    kp_e, _ = erin.key_package()
    out = c.commit(add=[kp_e])
    assert rc.take() == [("key_package", b"erin", None, None)]
    apply(a, out.commit)
    apply(b, out.commit)
    c.merge_pending_commit()
    assert ra.take() == rb.take() == [("add", b"erin", None, None)]
    # Adds from the external sender and from the new member itself
    frank = Client.generate(w.suite, b"frank")
    kp_f, _ = frank.key_package()
    kp = MLSMessage.from_bytes(kp_f).body
    assert isinstance(kp, KeyPackage)
    ext = external_proposal(w.suite, a.group_id, a.epoch, Proposal(Add(kp)), w.ds_sk, 0)
    apply(a, ext)
    assert ra.take() == [("add", b"frank", None, None)]
    gina = Client.generate(w.suite, b"gina")
    kp_g, bg = gina.key_package()
    kpg = MLSMessage.from_bytes(kp_g).body
    assert isinstance(kpg, KeyPackage)
    nm = new_member_add_proposal(w.suite, a.group_id, a.epoch, kpg, bg.signature_priv)
    apply(a, nm)
    assert ra.take() == [("add", b"gina", None, None)]
    del bd


def test_events_on_update_and_commit_path() -> None:
    w = _world()
    a, b, c = w.groups
    ra, rb, rc = w.recs
    # an Update that only refreshes the encryption key introduces no credential
    prop = b.propose_update()
    apply(a, prop)
    apply(c, prop)
    assert ra.take() == rc.take() == []
    out = a.commit()
    apply(b, out.commit)
    apply(c, out.commit)
    a.merge_pending_commit()
    assert ra.take() == rb.take() == rc.take() == []
    # an Update with a new credential: the previous one is passed for the succession check
    prop = b.propose_update(credential=Credential.basic(b"bob v2"))
    apply(a, prop)
    apply(c, prop)
    assert ra.take() == rc.take() == [("update", b"bob v2", 1, b"bob")]
    out = a.commit()
    apply(b, out.commit)
    apply(c, out.commit)
    a.merge_pending_commit()
    # a new signature key under the same credential is a new binding too
    new_sk, new_pk = w.suite.signature.generate()
    prop = c.propose_update(signature_priv=new_sk)
    apply(a, prop)
    assert ra.events[0].type == E.UPDATE and ra.events[0].signature_key == new_pk
    assert ra.events[0].previous_signature_key == c.state.own_leaf.signature_key
    ra.take()
    apply(b, prop)
    rb.take()
    out = a.commit()
    apply(b, out.commit)
    apply(c, out.commit)
    a.merge_pending_commit()
    # a commit path with the same credential and key: nothing to validate
    out = c.commit(path=True)
    apply(a, out.commit)
    apply(b, out.commit)
    c.merge_pending_commit()
    assert ra.take() == rb.take() == []
    # a commit path with a new credential
    tmpl = make_leaf_template(w.suite, Credential.basic(b"carol v2"), c.state.own_leaf.signature_key)
    out = c.commit(path=True, leaf_template=tmpl)
    apply(a, out.commit)
    apply(b, out.commit)
    c.merge_pending_commit()
    assert ra.take() == rb.take() == [("commit", b"carol v2", 2, b"carol")]
    assert rc.take() == []  # our own new credential is not a received one


def test_events_on_external_senders_changes() -> None:
    w = _world()
    a, b, c = w.groups
    ra, rb, rc = w.recs
    _, pk2 = w.suite.signature.generate()
    _, pk3 = w.suite.signature.generate()
    two = external_senders_extension(
        [ExternalSender(pk2, Credential.basic(b"ds2")), ExternalSender(pk3, Credential.basic(b"ds3"))]
    )
    # by value in a commit: committer and receivers
    out = a.commit(group_context_extensions=[two])
    assert ra.take() == [("external_sender", b"ds2", None, None), ("external_sender", b"ds3", None, None)]
    apply(b, out.commit)
    apply(c, out.commit)
    a.merge_pending_commit()
    assert [e.sender_index for e in rb.events] == [0, 1]
    assert rb.take() == rc.take() == [("external_sender", b"ds2", None, None), ("external_sender", b"ds3", None, None)]
    # a GroupContextExtensions that keeps external_senders as it is asks nobody
    app = Extension(APPLICATION_ID, b"app")
    out = a.commit(group_context_extensions=[two, app])
    apply(b, out.commit)
    apply(c, out.commit)
    a.merge_pending_commit()
    assert ra.take() == rb.take() == rc.take() == []
    # by reference: validated when the proposal is sent/received, not again at commit
    _, pk4 = w.suite.signature.generate()
    one = external_senders_extension([ExternalSender(pk4, Credential.basic(b"ds4"))])
    prop = b.propose_group_context_extensions([one])
    assert rb.take() == [("external_sender", b"ds4", None, None)]
    apply(a, prop)
    apply(c, prop)
    assert ra.events[0].sender_index == 0
    assert ra.take() == rc.take() == [("external_sender", b"ds4", None, None)]
    out = a.commit()
    apply(b, out.commit)
    apply(c, out.commit)
    a.merge_pending_commit()
    assert ra.take() == rb.take() == rc.take() == []


def test_events_on_external_join_and_resync() -> None:
    w = _world()
    a, b, c = w.groups
    ra, rb, rc = w.recs
    dave = Client.generate(w.suite, b"dave")
    rd = Recorder()
    d, commit = Group.join_external(
        a.group_info(), dave.credential, dave.signature_priv, config=GroupConfig(credential_validator=rd)
    )
    assert rd.take() == [
        ("group_member", b"alice", 0, None),
        ("group_member", b"bob", 1, None),
        ("group_member", b"carol", 2, None),
        ("group_info_signer", b"alice", 0, None),
        ("external_sender", b"ds", None, None),
    ]
    for g in (a, b, c):
        apply(g, commit)
    assert ra.take() == rb.take() == rc.take() == [("commit", b"dave", 3, None)]
    # bob lost his state and resyncs: the removed leaf's credential is the predecessor
    bob = w.clients[1]
    b2, commit = Group.join_external(
        a.group_info(),
        bob.credential,
        bob.signature_priv,
        remove_leaf=1,
        config=GroupConfig(credential_validator=Recorder()),
    )
    apply(a, commit)
    assert ra.take() == [("commit", b"bob", 1, b"bob")]
    del b2, d


def test_validator_survives_load_and_from_bytes() -> None:
    w = _world()
    a, b, _ = w.groups
    store = MemoryStorage()
    b.save(store)
    rec = Recorder()
    loaded = Group.load(store, b.group_id, config=GroupConfig(credential_validator=rec))
    restored = Group.from_bytes(b.to_bytes(), config=GroupConfig(credential_validator=rec))
    prop = a.propose_update(credential=Credential.basic(b"alice v2"))
    apply(loaded, prop)
    apply(restored, prop)
    assert rec.take() == [("update", b"alice v2", 0, b"alice")] * 2
    assert Group.load(store, b.group_id).config.credential_validator is None


# ---- rejections ---------------------------------------------------------------------------------


def test_reject_key_package_we_would_add() -> None:
    w = _world()
    a, _, _ = w.groups
    _reject_all(w.recs[0])
    kp, _ = Client.generate(w.suite, b"dave").key_package()
    _unchanged(a, lambda: a.commit(add=[kp]), event="key_package")
    assert not a.has_pending_commit
    _unchanged(a, lambda: a.propose_add(kp), event="key_package")


def test_reject_received_add() -> None:
    w = _world()
    a, b, c = w.groups
    kp, _ = Client.generate(w.suite, b"dave").key_package()
    w.recs[0].reject = lambda e: e.credential.identity == b"dave"
    # by value in a commit
    out = b.commit(add=[kp])
    b.discard_pending_commit()
    err = _unchanged(a, lambda: apply(a, out.commit), event="add")
    assert err.event is not None and err.event.credential == Credential.basic(b"dave")
    # as a proposal
    prop = b.propose_add(kp)
    _unchanged(a, lambda: apply(a, prop), event="add")
    apply(c, prop)  # carol's AS accepts it
    out = c.commit()
    # alice never cached the rejected proposal: she cannot follow a commit that covers it
    with pytest.raises(MLSError):
        apply(a, out.commit)


def test_reject_update_with_new_credential() -> None:
    w = _world()
    a, b, _ = w.groups
    w.recs[0].reject = lambda e: e.type == E.UPDATE and e.previous is not None and e.previous.identity != b"bob"
    ok = b.propose_update(credential=Credential.basic(b"bob v2"))
    apply(a, ok)  # a successor the AS accepts
    c = w.groups[2]
    bad = c.propose_update(credential=Credential.basic(b"mallory"))
    _unchanged(a, lambda: apply(a, bad), event="update")


def test_reject_commit_path_with_new_credential() -> None:
    w = _world()
    a, b, c = w.groups
    w.recs[1].reject = lambda e: e.type == E.COMMIT
    tmpl = make_leaf_template(w.suite, Credential.basic(b"carol v2"), c.state.own_leaf.signature_key)
    out = c.commit(path=True, leaf_template=tmpl)
    _unchanged(b, lambda: apply(b, out.commit), event="commit")
    apply(a, out.commit)  # alice's AS accepts
    assert a.epoch == b.epoch + 1


def test_reject_external_commit() -> None:
    w = _world()
    a, _, _ = w.groups
    dave = Client.generate(w.suite, b"dave")
    _, commit = Group.join_external(a.group_info(), dave.credential, dave.signature_priv)
    w.recs[0].reject = lambda e: e.type == E.COMMIT
    _unchanged(a, lambda: apply(a, commit), event="commit")


@pytest.mark.parametrize("event", ["group_member", "group_info_signer", "external_sender"])
def test_reject_join_from_welcome(event: str) -> None:
    w = _world()
    a, _, _ = w.groups
    dave = Client.generate(w.suite, b"dave")
    kp, bundle = dave.key_package()
    out = a.commit(add=[kp])
    assert out.welcome is not None
    rec = Recorder(reject=lambda e: e.type.value == event)
    with pytest.raises(CredentialRejected) as ei:
        Group.join(out.welcome, bundle, config=GroupConfig(credential_validator=rec))
    assert ei.value.section == "5.3.1" and ei.value.event is not None
    assert ei.value.event.type.value == event
    store = MemoryStorage()
    with pytest.raises(CredentialRejected):
        Group.join(out.welcome, bundle, config=GroupConfig(credential_validator=rec), storage=store)
    assert store.load_group(a.group_id) is None  # nothing was stored
    assert Group.join(out.welcome, bundle, config=GroupConfig(credential_validator=Recorder())).epoch == a.epoch + 1


def test_reject_external_join() -> None:
    w = _world()
    a, _, _ = w.groups
    dave = Client.generate(w.suite, b"dave")
    rec = Recorder(reject=lambda e: e.credential.identity == b"bob")
    with pytest.raises(CredentialRejected) as ei:
        Group.join_external(
            a.group_info(), dave.credential, dave.signature_priv, config=GroupConfig(credential_validator=rec)
        )
    assert ei.value.event is not None and ei.value.event.leaf_index == 1


def test_reject_external_senders() -> None:
    w = _world()
    a, b, c = w.groups
    _, pk = w.suite.signature.generate()
    ext = external_senders_extension([ExternalSender(pk, Credential.basic(b"rogue ds"))])
    w.recs[1].reject = lambda e: e.type == E.EXTERNAL_SENDER
    # received by value in a commit
    out = a.commit(group_context_extensions=[ext])
    _unchanged(b, lambda: apply(b, out.commit), event="external_sender")
    a.discard_pending_commit()
    # received as a proposal
    prop = c.propose_group_context_extensions([ext])
    _unchanged(b, lambda: apply(b, prop), event="external_sender")
    # proposed or committed by ourselves
    _unchanged(b, lambda: b.propose_group_context_extensions([ext]), event="external_sender")
    _unchanged(b, lambda: b.commit(group_context_extensions=[ext]), event="external_sender")
    # at creation
    me = Client.generate(w.suite, b"x")
    with pytest.raises(CredentialRejected):
        Group.create(
            w.suite,
            b"g2",
            me.credential,
            me.signature_priv,
            extensions=[ext],
            config=GroupConfig(credential_validator=w.recs[1]),
        )


def test_validator_exceptions_reject() -> None:
    w = _world()
    a, b, _ = w.groups

    def broken(event: CredentialEvent) -> bool:
        raise RuntimeError("directory unreachable")

    a.config = replace(a.config, credential_validator=broken)
    prop = b.propose_update(credential=Credential.basic(b"bob v2"))
    err = _unchanged(a, lambda: apply(a, prop), event="update")
    assert isinstance(err.__cause__, RuntimeError)
