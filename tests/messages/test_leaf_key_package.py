"""Credential, LeafNode and KeyPackage (RFC 9420 §5.3, §7.2, §10): encodings, signatures,
references — checked against the official welcome/messages vectors where they carry them."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from mls_pq.codec import Reader, Writer
from mls_pq.errors import DecodeError, ValidationError
from mls_pq.group.validation import check_key_package
from mls_pq.messages.credential import Credential, CredentialType
from mls_pq.messages.key_package import KeyPackage
from mls_pq.messages.leaf_node import Capabilities, LeafNode, LeafNodeSource, Lifetime
from mls_pq.messages.update_path import UpdatePath
from mls_pq.suites import get_suite
from mls_pq.tree.nodes import decode_ratchet_tree, encode_ratchet_tree
from tests._vectors import cases
from tests.tree.helpers import CAPS, make_member, suite1

MLS = "mls-implementations/test-vectors"


def test_credential_roundtrips() -> None:
    b = Credential.basic(b"alice")
    assert Credential.from_bytes(b.to_bytes()) == b
    assert b.to_bytes() == bytes.fromhex("0001") + bytes([5]) + b"alice"
    x = Credential.x509([b"leaf-cert", b"ca-cert"])
    assert x.credential_type == CredentialType.X509
    assert Credential.from_bytes(x.to_bytes()) == x
    assert [c.cert_data for c in x.certificates] == [b"leaf-cert", b"ca-cert"]


def test_unknown_credential_type_rejected() -> None:
    with pytest.raises(DecodeError, match="5.3"):
        Credential.from_bytes(bytes.fromhex("0003") + b"\x00")


def test_leaf_node_sources_roundtrip_and_reject_unknown() -> None:
    s = suite1()
    m = make_member(s, b"a")
    assert LeafNode.from_bytes(m.leaf.to_bytes()) == m.leaf
    upd = replace(m.leaf, leaf_node_source=int(LeafNodeSource.UPDATE), lifetime=None).sign(s, m.sig_sk, b"g", 3)
    com = replace(m.leaf, leaf_node_source=int(LeafNodeSource.COMMIT), lifetime=None, parent_hash=b"ph").sign(
        s, m.sig_sk, b"g", 3
    )
    for leaf in (upd, com):
        assert LeafNode.from_bytes(leaf.to_bytes()) == leaf
    raw = bytearray(upd.to_bytes())
    # the source octet sits right after capabilities; find it by re-encoding the prefix
    w = Writer().opaque(upd.encryption_key).opaque(upd.signature_key)
    upd.credential.encode(w)
    upd.capabilities.encode(w)
    pos = len(w.getvalue())
    assert raw[pos] == 2
    raw[pos] = 4
    with pytest.raises(DecodeError, match="leaf_node_source"):
        LeafNode.from_bytes(bytes(raw))
    for bad in (
        {"leaf_node_source": int(LeafNodeSource.KEY_PACKAGE)},  # no lifetime
        {"leaf_node_source": int(LeafNodeSource.COMMIT)},  # no parent_hash
        {"leaf_node_source": int(LeafNodeSource.UPDATE), "lifetime": Lifetime(0, 1)},
        {"leaf_node_source": int(LeafNodeSource.UPDATE), "parent_hash": b""},
    ):
        with pytest.raises(ValidationError) as e:
            LeafNode(b"k", b"s", Credential.basic(b"a"), CAPS, **bad)
        assert e.value.section == "7.2"


def test_leaf_signature_binds_group_and_index() -> None:
    s = suite1()
    m = make_member(s, b"a")
    assert m.leaf.verify(s)
    upd = replace(m.leaf, leaf_node_source=int(LeafNodeSource.UPDATE), lifetime=None).sign(s, m.sig_sk, b"g", 3)
    assert upd.verify(s, b"g", 3)
    assert not upd.verify(s, b"g", 4)
    assert not upd.verify(s, b"h", 3)
    with pytest.raises(ValidationError) as e:
        upd.verify(s)
    assert e.value.section == "7.2"
    # changing any field invalidates the signature
    assert not replace(m.leaf, capabilities=Capabilities(credentials=(1, 2))).verify(s)


def test_key_package_sign_verify_validate() -> None:
    s = suite1()
    m = make_member(s, b"a")
    _init_sk, init_pk = s.generate_key_pair()
    kp = KeyPackage(1, s.id, init_pk, m.leaf).sign(s, m.sig_sk)
    assert KeyPackage.from_bytes(kp.to_bytes()) == kp
    check_key_package(s, kp, (), 1500)  # the one §10.1 validation (mls_pq.group.validation)
    for bad, section in (
        (replace(kp, signature=kp.signature[:-1] + bytes([kp.signature[-1] ^ 1])), "10.1"),
        (KeyPackage(1, s.id, m.leaf.encryption_key, m.leaf).sign(s, m.sig_sk), "10.1"),
        (KeyPackage(1, 2, init_pk, m.leaf).sign(s, m.sig_sk), "10.1"),
    ):
        with pytest.raises(ValidationError) as e:
            check_key_package(s, bad, (), None)
        assert e.value.section == section
    with pytest.raises(ValidationError) as e:
        check_key_package(s, kp, (), 5000)
    assert e.value.section == "7.3"
    with pytest.raises(DecodeError, match="version"):
        KeyPackage.from_bytes(bytes.fromhex("0002") + kp.to_bytes()[2:])


def _unwrap_mls_message(raw: bytes, wire_format: int) -> Reader:
    r = Reader(raw)
    assert r.uint16() == 1 and r.uint16() == wire_format
    return r


@pytest.mark.parametrize("case", cases(MLS, "welcome.json"))
def test_welcome_vector_key_package_ref(case: dict[str, Any]) -> None:
    """The KeyPackage decodes, re-encodes byte-exactly, verifies, and its KeyPackageRef is
    the ``new_member`` the Welcome addresses (RFC 9420 §5.2, §10, §12.4.3)."""
    s = get_suite(case["cipher_suite"])
    raw = bytes.fromhex(case["key_package"])
    r = _unwrap_mls_message(raw, 5)  # mls_key_package
    kp = KeyPackage.decode(r)
    r.done()
    assert kp.to_bytes() == raw[4:]
    assert kp.verify(s) and kp.leaf_node.verify(s)
    check_key_package(s, kp, (), None)
    wr = _unwrap_mls_message(bytes.fromhex(case["welcome"]), 3)  # mls_welcome
    assert wr.uint16() == s.id
    refs = wr.vector(lambda rr: (rr.opaque(), rr.opaque(), rr.opaque())[0])
    assert kp.ref(s) in refs


@pytest.mark.parametrize("case", cases(MLS, "messages.json"))
def test_messages_vector_tree_structs_roundtrip(case: dict[str, Any]) -> None:
    """KeyPackage, ratchet_tree and UpdatePath (inside the commit) from messages.json
    decode and re-encode byte-exactly."""
    raw = bytes.fromhex(case["mls_key_package"])
    r = _unwrap_mls_message(raw, 5)
    kp = KeyPackage.decode(r)
    r.done()
    assert kp.to_bytes() == raw[4:]
    tree = bytes.fromhex(case["ratchet_tree"])
    assert encode_ratchet_tree(decode_ratchet_tree(tree)) == tree
    commit = bytes.fromhex(case["commit"])
    cr = Reader(commit)
    cr.sub()  # proposals<V>
    path = cr.optional(UpdatePath.decode)
    cr.done()
    if path is not None:
        assert path.to_bytes() == commit[len(commit) - len(path.to_bytes()) :]
        assert UpdatePath.from_bytes(path.to_bytes()) == path


def test_lifetime_contains() -> None:
    lt = Lifetime(10, 20)
    assert lt.contains(10) and lt.contains(20) and not lt.contains(9) and not lt.contains(21)
