"""Groups of members with X.509 credentials (RFC 9420 §5.3).

Positive: real certificates (self-signed and CA-issued, built by cryptography; ML-DSA-65
ones assembled by ``tests/messages/_certs``) for suites 1 (Ed25519), 2 (P-256) and 0xF00A
(ML-DSA-65) through add, update with a new certificate, commit with a new credential,
external join, remove.

Negative: a certificate for another key than the leaf's signature_key is rejected with
§5.3 wherever a LeafNode enters the group — Add (proposed, committed, received), join from
a Welcome whose tree holds one, Update, commit path, external commit, external_senders —
and the receiver's state is unchanged. Forgeries switch off the sender's own check.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

import mls_pq.client as client_mod
from mls_pq.client import Client, make_key_package, make_leaf_template
from mls_pq.errors import MLSError, ValidationError
from mls_pq.group import Group
from mls_pq.group import commit as commit_mod
from mls_pq.group import external as external_mod
from mls_pq.group import validation as v
from mls_pq.messages.credential import X509, Credential
from mls_pq.messages.external_senders import ExternalSender, external_senders_extension
from mls_pq.suites import CipherSuite, get_suite
from mls_pq.tree import leaf_validation

from ..messages._certs import certificate, subject_cn
from ._helpers import apply, received

# ---- helpers ---------------------------------------------------------------------------------


def x509_client(suite: CipherSuite, name: str, ca_sk: bytes | None = None, *, for_key: bytes | None = None) -> Client:
    """A client whose credential is a certificate for its signature key (or, with
    ``for_key``, for that other private key's public key: an invalid credential)."""
    sk, _ = suite.signature.generate()
    scheme = suite.signature
    chain = [certificate(scheme, for_key if for_key is not None else sk, name, issuer_sk=ca_sk)]
    if ca_sk is not None:
        chain.append(certificate(scheme, ca_sk, "test CA"))
    return Client(suite, Credential.x509(chain), sk)


@contextlib.contextmanager
def no_x509_checks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Switch off the §5.3 check in every module that calls it (to forge messages)."""
    with monkeypatch.context() as m:
        for mod in (v, commit_mod, external_mod, leaf_validation, client_mod):
            m.setattr(mod, "check_credential_key", lambda *a, **k: None)
        yield


def rejects(g: Group, message: bytes, section: str) -> None:
    before = g.to_bytes()
    with pytest.raises(ValidationError) as ei:
        apply(g, message)
    assert ei.value.section == section, str(ei.value)
    assert g.to_bytes() == before


def raises_53(fn: object, *args: object, **kw: object) -> None:
    with pytest.raises(ValidationError) as ei:
        fn(*args, **kw)  # type: ignore[operator]
    assert ei.value.section == "5.3", str(ei.value)


def agree(groups: list[Group]) -> None:
    assert len({g.epoch for g in groups}) == 1
    assert len({g.epoch_authenticator for g in groups}) == 1
    assert len({g.state.tree.tree_hash() for g in groups}) == 1


# ---- a whole group with x509 members ----------------------------------------------------------


@pytest.mark.parametrize("suite_id", [0x0001, 0x0002, 0xF00A], ids=["ed25519", "p256", "mldsa65"])
def test_x509_group_lifecycle(suite_id: int) -> None:
    suite = get_suite(suite_id)
    ca_sk, _ = suite.signature.generate()
    alice = x509_client(suite, "alice", ca_sk)
    bob = x509_client(suite, "bob")  # self-signed
    carol = Client.generate(suite, b"carol")  # basic credentials mix with x509 ones
    a = Group.create(suite, b"x509 group", alice.credential, alice.signature_priv)
    kp_b, bb = bob.key_package()
    kp_c, bc = carol.key_package()
    out = a.commit(add=[kp_b, kp_c])
    a.merge_pending_commit()
    assert out.welcome is not None
    b = Group.join(out.welcome, bb)
    c = Group.join(out.welcome, bc)
    group = [a, b, c]
    agree(group)
    assert [m.credential.credential_type for m in a.members()] == [X509, X509, 1]
    assert subject_cn(b.members()[0].credential.certificates[0].cert_data) == "alice"

    # bob rotates key and certificate in an Update
    new_sk, new_pk = suite.signature.generate()
    new_cred = Credential.x509([certificate(suite.signature, new_sk, "bob (rotated)", issuer_sk=ca_sk)])
    prop = b.propose_update(signature_priv=new_sk, credential=new_cred)
    apply(a, prop)
    apply(c, prop)
    out = a.commit()
    apply(b, out.commit)
    apply(c, out.commit)
    a.merge_pending_commit()
    agree(group)
    assert a.members()[1].credential == new_cred and a.members()[1].signature_key == new_pk

    # carol switches to an x509 credential (and a new key) in a commit path
    c_sk, c_pk = suite.signature.generate()
    c_cred = Credential.x509([certificate(suite.signature, c_sk, "carol", issuer_sk=ca_sk)])
    template = make_leaf_template(suite, c_cred, c_pk, capabilities=c.state.own_leaf.capabilities)
    out = c.commit(path=True, leaf_template=template, signature_priv=c_sk)
    apply(a, out.commit)
    apply(b, out.commit)
    c.merge_pending_commit()
    agree(group)
    assert all(m.credential.credential_type == X509 for m in b.members())

    # dave joins by external commit with his certificate
    dave = x509_client(suite, "dave", ca_sk)
    d, ext_commit = Group.join_external(a.group_info(), dave.credential, dave.signature_priv)
    for g in group:
        apply(g, ext_commit)
    group.append(d)
    agree(group)
    assert received(d, b.encrypt(b"hello x509")) == b"hello x509"

    # remove bob
    out = d.commit(remove=[1])
    for g in (a, b, c):
        apply(g, out.commit)
    d.merge_pending_commit()
    assert not b.active
    agree([a, c, d])


# ---- §5.3 negatives ----------------------------------------------------------------------------


@pytest.fixture
def trio() -> tuple[CipherSuite, list[Group]]:
    suite = get_suite(1)
    clients = [x509_client(suite, n) for n in ("alice", "bob", "carol")]
    a = Group.create(suite, b"g", clients[0].credential, clients[0].signature_priv)
    kps = [c.key_package() for c in clients[1:]]
    out = a.commit(add=[k for k, _ in kps])
    a.merge_pending_commit()
    assert out.welcome is not None
    return suite, [a] + [Group.join(out.welcome, bnd) for _, bnd in kps]


def _bad_key_package(suite: CipherSuite, monkeypatch: pytest.MonkeyPatch) -> tuple[bytes, object]:
    other, _ = suite.signature.generate()
    bad = x509_client(suite, "mallory", for_key=other)
    raises_53(bad.key_package)  # make_key_package refuses to publish it
    with no_x509_checks(monkeypatch):
        return bad.key_package()


def test_x509_add_for_another_key(trio: tuple[CipherSuite, list[Group]], monkeypatch: pytest.MonkeyPatch) -> None:
    suite, (a, b, c) = trio
    kp, _ = _bad_key_package(suite, monkeypatch)
    before = a.to_bytes()
    raises_53(a.commit, add=[kp])
    raises_53(a.propose_add, kp)
    assert a.to_bytes() == before and not a.has_pending_commit
    # received as a proposal, and by value in a commit
    with no_x509_checks(monkeypatch):
        prop = b.propose_add(kp)
    rejects(a, prop, "5.3")
    with no_x509_checks(monkeypatch):
        forged = b.commit(add=[kp], include_pending=False).commit
    b.discard_pending_commit()
    rejects(a, forged, "5.3")
    rejects(c, forged, "5.3")


def test_x509_join_from_welcome_with_a_bad_leaf(
    trio: tuple[CipherSuite, list[Group]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Welcome whose tree holds a leaf whose certificate is for another key: the joiner
    rejects the join (§5.3), even though everything else is valid."""
    suite, (a, _, _) = trio
    kp_bad, _ = _bad_key_package(suite, monkeypatch)
    honest = x509_client(suite, "honest")
    kp_ok, bundle = honest.key_package()
    with no_x509_checks(monkeypatch):
        out = a.commit(add=[kp_bad, kp_ok])
    assert out.welcome is not None
    raises_53(Group.join, out.welcome, bundle)
    # the same Welcome is fine once the check is off: only §5.3 made it fail
    with no_x509_checks(monkeypatch):
        assert Group.join(out.welcome, bundle).epoch == a.epoch + 1


def test_x509_update_for_another_key(trio: tuple[CipherSuite, list[Group]], monkeypatch: pytest.MonkeyPatch) -> None:
    suite, (a, b, _) = trio
    new_sk, _ = suite.signature.generate()
    other, _ = suite.signature.generate()
    bad = Credential.x509([certificate(suite.signature, other, "bob")])
    before = b.to_bytes()
    raises_53(b.propose_update, signature_priv=new_sk, credential=bad)
    assert b.to_bytes() == before
    with no_x509_checks(monkeypatch):
        prop = b.propose_update(signature_priv=new_sk, credential=bad)
    rejects(a, prop, "5.3")


def test_x509_commit_path_for_another_key(
    trio: tuple[CipherSuite, list[Group]], monkeypatch: pytest.MonkeyPatch
) -> None:
    suite, (a, b, c) = trio
    new_sk, new_pk = suite.signature.generate()
    other, _ = suite.signature.generate()
    bad = Credential.x509([certificate(suite.signature, other, "bob")])
    template = make_leaf_template(suite, bad, new_pk, capabilities=b.state.own_leaf.capabilities)
    before = b.to_bytes()
    raises_53(b.commit, path=True, leaf_template=template, signature_priv=new_sk)
    assert b.to_bytes() == before and not b.has_pending_commit
    with no_x509_checks(monkeypatch):
        forged = b.commit(path=True, leaf_template=template, signature_priv=new_sk).commit
    b.discard_pending_commit()
    rejects(a, forged, "5.3")
    rejects(c, forged, "5.3")


def test_x509_external_commit_for_another_key(
    trio: tuple[CipherSuite, list[Group]], monkeypatch: pytest.MonkeyPatch
) -> None:
    suite, (a, b, _) = trio
    other, _ = suite.signature.generate()
    eve = x509_client(suite, "eve", for_key=other)
    gi = a.group_info()
    raises_53(Group.join_external, gi, eve.credential, eve.signature_priv)
    with no_x509_checks(monkeypatch):
        _, forged = Group.join_external(gi, eve.credential, eve.signature_priv)
    rejects(a, forged, "5.3")
    rejects(b, forged, "5.3")


def test_x509_external_join_into_a_group_with_a_bad_leaf(
    trio: tuple[CipherSuite, list[Group]], monkeypatch: pytest.MonkeyPatch
) -> None:
    suite, (a, _, _) = trio
    kp_bad, _ = _bad_key_package(suite, monkeypatch)
    with no_x509_checks(monkeypatch):
        a.commit(add=[kp_bad])
    a.merge_pending_commit()
    dave = x509_client(suite, "dave")
    raises_53(Group.join_external, a.group_info(), dave.credential, dave.signature_priv)


def test_x509_external_sender_for_another_key(trio: tuple[CipherSuite, list[Group]]) -> None:
    """An external_senders entry with an x509 credential must carry its signature_key too."""
    suite, (a, b, _) = trio
    ds_sk, ds_pk = suite.signature.generate()
    other, _ = suite.signature.generate()
    bad = external_senders_extension([ExternalSender(ds_pk, Credential.x509([certificate(suite.signature, other)]))])
    good = external_senders_extension([ExternalSender(ds_pk, Credential.x509([certificate(suite.signature, ds_sk)]))])
    raises_53(Group.create, suite, b"g2", Credential.basic(b"x"), suite.signature.generate()[0], extensions=[bad])
    raises_53(a.commit, group_context_extensions=[bad])
    raises_53(a.propose_group_context_extensions, [bad])
    out = a.commit(group_context_extensions=[good])
    apply(b, out.commit)
    a.merge_pending_commit()
    assert a.epoch == b.epoch


def test_x509_creator_for_another_key() -> None:
    suite = get_suite(2)
    other, _ = suite.signature.generate()
    bad = x509_client(suite, "creator", for_key=other)
    raises_53(Group.create, suite, b"g", bad.credential, bad.signature_priv)


def test_key_package_of_the_wrong_key_type_is_rejected(trio: tuple[CipherSuite, list[Group]]) -> None:
    """A P-256 certificate in an Ed25519 group: not the leaf's key whatever the bytes."""
    suite, _ = trio
    p256 = get_suite(2).signature
    sk, _ = p256.generate()
    cred = Credential.x509([certificate(p256, sk)])
    own_sk, _ = suite.signature.generate()
    with pytest.raises(MLSError) as ei:
        make_key_package(suite, cred, own_sk)
    assert getattr(ei.value, "section", None) == "5.3"
