"""GREASE (RFC 9420 §13.5).

* Our KeyPackages, leaves and GroupInfos can carry GREASE values (``grease=True``): in the
  four capability lists, as a leaf extension (listed in the capabilities), as a KeyPackage
  extension and as GroupInfo extensions with arbitrary data.
* Receivers accept them and ignore them: groups built from GREASEd KeyPackages (including
  ones listing every GREASE value everywhere) and joined from GREASEd GroupInfos work.
* GREASE values are handled "using normal logic for processing unsupported values": our
  own capabilities are represented without them, so a GroupContextExtensions (or a
  required_capabilities) naming a GREASE extension is refused even if every leaf
  advertises it.
"""

from __future__ import annotations

import os

import pytest

from mls_pq.client import Client, default_capabilities, grease_capabilities, grease_extension, make_key_package
from mls_pq.errors import ValidationError
from mls_pq.extensions import GREASE_VALUES, REQUIRED_CAPABILITIES, Extension, is_grease
from mls_pq.group import Group, GroupConfig
from mls_pq.group import validation as v
from mls_pq.messages.credential import Credential
from mls_pq.messages.framing_structs import MLSMessage
from mls_pq.messages.key_package import KeyPackage
from mls_pq.messages.leaf_node import Capabilities
from mls_pq.messages.welcome import GroupInfo
from mls_pq.suites import CipherSuite, get_suite
from ._helpers import apply, received

ALL_GREASE = tuple(sorted(GREASE_VALUES))


def _kp(data: bytes) -> KeyPackage:
    kp = MLSMessage.from_bytes(data).body
    assert isinstance(kp, KeyPackage)
    return kp


def _agree(groups: list[Group]) -> None:
    assert len({g.epoch_authenticator for g in groups}) == 1
    assert len({g.state.tree.tree_hash() for g in groups}) == 1


def test_grease_values() -> None:
    assert ALL_GREASE == (0x0A0A, 0x1A1A, 0x2A2A, 0x3A3A, 0x4A4A, 0x5A5A, 0x6A6A, 0x7A7A,
                          0x8A8A, 0x9A9A, 0xAAAA, 0xBABA, 0xCACA, 0xDADA, 0xEAEA)
    assert not is_grease(0xFAFA)  # private use, not GREASE


def test_greased_key_package_contents() -> None:
    suite = get_suite(1)
    c = Client.generate(suite, b"greasy")
    data, bundle = make_key_package(suite, c.credential, c.signature_priv, grease=True)
    kp = _kp(data)
    caps = kp.leaf_node.capabilities
    base = default_capabilities(suite, c.credential)
    for field in ("cipher_suites", "extensions", "proposals", "credentials"):
        got = getattr(caps, field)
        assert set(getattr(base, field)) <= set(got)
        assert any(is_grease(x) for x in got), field
        assert all(is_grease(x) or x in getattr(base, field) for x in got)
        assert len(got) == len(set(got))
    (leaf_ext,) = kp.leaf_node.extensions
    (kp_ext,) = kp.extensions
    assert is_grease(leaf_ext.extension_type) and is_grease(kp_ext.extension_type)
    # §13.5/§7.2/§10: the GREASE extension types are reflected in the capabilities
    assert {leaf_ext.extension_type, kp_ext.extension_type} <= set(caps.extensions)
    assert kp.verify(suite)
    v.check_key_package(suite, kp, (), None)
    assert bundle.key_package == kp


def test_grease_helpers() -> None:
    caps = Capabilities((1,), (1,), (5,), (), (1,))
    g = grease_capabilities(caps, extensions=(0x3A3A,))
    assert g.versions == (1,)
    assert g.cipher_suites[0] == 1 and all(is_grease(x) for x in g.cipher_suites[1:])
    assert g.extensions[:2] == (5, 0x3A3A)
    assert 1 <= len([x for x in g.proposals if is_grease(x)]) <= 2
    assert v.real_capabilities(g) == Capabilities((1,), (1,), (5,), (), (1,))
    e = grease_extension()
    assert is_grease(e.extension_type) and len(e.extension_data) < 16


def _everything_greased(suite: CipherSuite, credential: Credential) -> Capabilities:
    base = default_capabilities(suite, credential)
    return Capabilities(
        base.versions,
        base.cipher_suites + ALL_GREASE,
        base.extensions + ALL_GREASE,
        base.proposals + ALL_GREASE,
        base.credentials + ALL_GREASE,
    )


@pytest.mark.parametrize("suite_id", [0x0001, 0x0002])
def test_group_of_greased_members(suite_id: int) -> None:
    suite = get_suite(suite_id)
    alice, bob, carol, dave = (Client.generate(suite, n) for n in (b"alice", b"bob", b"carol", b"dave"))
    a = Group.create(suite, b"greasy group", alice.credential, alice.signature_priv, grease=True)
    assert any(is_grease(x) for x in a.state.own_leaf.capabilities.extensions)
    kp_b, bb = make_key_package(suite, bob.credential, bob.signature_priv, grease=True)
    # carol lists every GREASE value in every list, with GREASE leaf and KeyPackage extensions
    kp_c, bc = make_key_package(
        suite,
        carol.credential,
        carol.signature_priv,
        capabilities=_everything_greased(suite, carol.credential),
        leaf_extensions=[Extension(0x0A0A, os.urandom(40)), Extension(0xEAEA, b"")],
        extensions=[Extension(0x5A5A, os.urandom(100)), Extension(0x6A6A, b"\xff" * 3)],
    )
    # the Welcome's GroupInfo carries GREASE extensions too
    out = a.commit(add=[kp_b, kp_c], grease=True, group_info_extensions=[Extension(0xDADA, os.urandom(7))])
    a.merge_pending_commit()
    assert out.welcome is not None
    b = Group.join(out.welcome, bb, config=GroupConfig(check_tree_lifetimes=True))
    c = Group.join(out.welcome, bc)
    group = [a, b, c]
    _agree(group)
    # updates and commits with GREASEd leaves
    prop = c.propose_update()
    apply(a, prop)
    apply(b, prop)
    out = b.commit()
    apply(a, out.commit)
    apply(c, out.commit)
    b.merge_pending_commit()
    _agree(group)
    # an external join from a GroupInfo with GREASE extensions, with a GREASEd leaf
    gi_bytes = c.group_info(grease=True, extensions=[Extension(0x1A1A, os.urandom(33))])
    gi = MLSMessage.from_bytes(gi_bytes).body
    assert isinstance(gi, GroupInfo)
    assert len([e for e in gi.extensions if is_grease(e.extension_type)]) == 2
    d, commit = Group.join_external(gi_bytes, dave.credential, dave.signature_priv, grease=True)
    for g in group:
        apply(g, commit)
    group.append(d)
    _agree(group)
    assert received(b, d.encrypt(b"GREASE is fine")) == b"GREASE is fine"


def test_grease_is_not_real_support_for_ourselves() -> None:
    """Every leaf advertises every GREASE value, yet the group cannot adopt a GREASE group
    context extension (which §13.5 forbids sending): our own capabilities, represented
    without GREASE, do not support it (normal unsupported-value logic)."""
    suite = get_suite(1)
    alice, bob = Client.generate(suite, b"alice"), Client.generate(suite, b"bob")
    a = Group.create(
        suite, b"g", alice.credential, alice.signature_priv, capabilities=_everything_greased(suite, alice.credential)
    )
    kp_b, bb = make_key_package(
        suite, bob.credential, bob.signature_priv, capabilities=_everything_greased(suite, bob.credential)
    )
    out = a.commit(add=[kp_b])
    a.merge_pending_commit()
    assert out.welcome is not None
    b = Group.join(out.welcome, bb)
    gce = [Extension(0x0A0A, b"")]
    with pytest.raises(ValidationError) as ei:
        a.commit(group_context_extensions=gce)
    assert ei.value.section == "12.1.7"
    req = Extension(REQUIRED_CAPABILITIES, bytes([2, 0x2A, 0x2A, 0, 0]))  # requires extension 0x2A2A
    with pytest.raises(ValidationError) as ei:
        a.commit(group_context_extensions=[req])
    assert ei.value.section == "11.1"
    # forged by alice with her own-capability check off: bob refuses it, state unchanged
    for exts, section in ((gce, "12.1.7"), ([req], "11.1")):
        with pytest.MonkeyPatch.context() as m:
            m.setattr(v, "real_capabilities", lambda caps: caps)
            out = a.commit(group_context_extensions=exts)
        a.discard_pending_commit()
        before = b.to_bytes()
        with pytest.raises(ValidationError) as ei:
            apply(b, out.commit)
        assert ei.value.section == section
        assert b.to_bytes() == before


def test_grease_extension_never_repeats_a_type_already_in_the_list() -> None:
    """§13.5: no extension type twice in one list — a random GREASE extension added to a list
    that already holds GREASE extensions takes a type the list does not have (was a 1-in-15
    flaky failure of test_group_of_greased_members once §13.5 was enforced)."""
    grease = sorted(GREASE_VALUES)
    for g in grease:
        for _ in range(30):
            assert grease_extension(besides=[Extension(g, b"")]).extension_type != g
    all_but_one = [Extension(g, b"") for g in grease if g != 0x0A0A]
    assert grease_extension(besides=all_but_one).extension_type == 0x0A0A
    # the group-level paths: a GroupInfo with every GREASE type but one gets that one
    suite = get_suite(0x0001)
    alice = Client.generate(suite, b"alice")
    a = Group.create(suite, b"g", alice.credential, alice.signature_priv)
    gi = MLSMessage.from_bytes(a.group_info(grease=True, extensions=all_but_one)).body
    assert isinstance(gi, GroupInfo)
    assert sorted(e.extension_type for e in gi.extensions if is_grease(e.extension_type)) == grease
