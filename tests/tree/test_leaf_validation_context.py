"""One leaf validator, one context per RFC 9420 §7.3 stage (KeyPackage / Add, Update, Commit
UpdatePath, joined tree §12.4.3.1), with real signed leaves: the same leaf is valid at one
stage and invalid at another. Also the one RequiredCapabilities parser/checker (§11.1,
§12.1.7), the member-wide credential check (§7.3, §12.2) and the one "leftmost blank leaf
or extend" (§12.1.1, §12.4.3.2)."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from mls_pq.errors import DecodeError, ValidationError
from mls_pq.extensions import Extension
from mls_pq.group.commit import provisional_context
from mls_pq.group_context import GroupContext
from mls_pq.messages.credential import Credential
from mls_pq.messages.leaf_node import LeafNode, LeafNodeSource
from mls_pq.tree.leaf_validation import (
    CapSummary,
    LeafContext,
    LeafStage,
    check_capabilities_support,
    check_new_leaf_in_tree,
    find_required_capabilities,
    required_capabilities,
    validate_leaf_node,
    validate_ratchet_tree,
)
from mls_pq.tree.ratchet_tree import RatchetTree
from tests.messages._certs import certificate
from tests.tree.helpers import CAPS, GROUP_ID, Group, Member, make_member, required_ext, suite1


def _rejects(leaf: LeafNode, context: LeafContext, section: str, text: str) -> None:
    with pytest.raises(ValidationError) as e:
        validate_leaf_node(suite1(), leaf, context)
    assert e.value.section == section, str(e.value)
    assert text in str(e.value)


def _x509_member(name: str, credentials: tuple[int, ...] = (1, 2)) -> Member:
    """A key_package leaf with an X.509 credential whose certificate is for its own key (§5.3)."""
    s = suite1()
    sig_sk, sig_pk = s.signature.generate()
    cred = Credential.x509([certificate(s.signature, sig_sk, name)])
    m = make_member(s, name.encode(), caps=replace(CAPS, credentials=credentials), credential=cred)
    leaf = replace(m.leaf, signature_key=sig_pk).sign(s, sig_sk)
    return Member(leaf, sig_sk, m.enc_sk)


def _update_leaf(g: Group, i: int) -> LeafNode:
    """Member ``i``'s leaf re-issued as an Update leaf (source update, no lifetime), signed
    for (GROUP_ID, i) as §7.2 requires."""
    old = g.tree.leaf(i)
    assert old is not None
    enc = suite1().generate_key_pair()[1]
    return replace(
        old, encryption_key=enc, leaf_node_source=int(LeafNodeSource.UPDATE), lifetime=None, parent_hash=None
    ).sign(suite1(), g.privs[i].signature_priv, GROUP_ID, i)


# ---- leaf_node_source and the signature context (§7.3, §7.2) --------------------------------


def test_key_package_leaf_valid_only_where_source_key_package_fits() -> None:
    """§7.3: "If the LeafNode appears in a KeyPackage, verify that leaf_node_source is set to
    key_package"; the same leaf in an Update or an UpdatePath is refused."""
    leaf = make_member(suite1(), b"kp").leaf
    validate_leaf_node(suite1(), leaf, LeafContext.key_package())
    validate_leaf_node(suite1(), leaf, LeafContext.tree(GROUP_ID, 3))  # a tree holds every source
    _rejects(leaf, LeafContext.update(GROUP_ID, 1), "7.3", "expected update")
    _rejects(leaf, LeafContext.commit(GROUP_ID, 1), "7.3", "expected commit")


def test_update_leaf_valid_only_for_its_sender_and_stage() -> None:
    """§7.3 Update: source ``update``; §7.2: its signature covers (group_id, leaf_index), so
    the leaf of member 1 does not verify as member 2's or in another group."""
    g = Group(suite1(), 3)
    upd = _update_leaf(g, 1)
    validate_leaf_node(suite1(), upd, LeafContext.update(GROUP_ID, 1))
    validate_leaf_node(suite1(), upd, LeafContext.tree(GROUP_ID, 1))
    _rejects(upd, LeafContext.update(GROUP_ID, 2), "7.3", "signature does not verify")
    _rejects(upd, LeafContext.update(b"other group", 1), "7.3", "signature does not verify")
    _rejects(upd, LeafContext.tree(GROUP_ID, 2), "7.3", "signature does not verify")
    _rejects(upd, LeafContext.key_package(), "7.3", "expected key_package")
    _rejects(upd, LeafContext.commit(GROUP_ID, 1), "7.3", "expected commit")


def test_commit_leaf_and_its_parent_hash_belong_to_the_commit_and_tree_stages() -> None:
    """A committer's UpdatePath leaf (source ``commit``) is valid at the commit and tree
    stages only; its parent hash is not a property of the leaf alone but of the tree
    (§7.9.2, checked when a tree is joined, §12.4.3.1): a re-signed leaf with a wrong parent
    hash passes the leaf checks of the commit stage and fails the tree's."""
    g = Group(suite1(), 4)
    g.commit(2)
    leaf = g.tree.leaf(2)
    assert leaf is not None and leaf.leaf_node_source == LeafNodeSource.COMMIT and leaf.parent_hash
    validate_leaf_node(suite1(), leaf, LeafContext.commit(GROUP_ID, 2))
    validate_leaf_node(suite1(), leaf, LeafContext.tree(GROUP_ID, 2))
    _rejects(leaf, LeafContext.key_package(), "7.3", "expected key_package")
    _rejects(leaf, LeafContext.update(GROUP_ID, 2), "7.3", "expected update")
    validate_ratchet_tree(g.tree, GROUP_ID)

    bad = replace(leaf, parent_hash=bytes(len(leaf.parent_hash))).sign(suite1(), g.privs[2].signature_priv, GROUP_ID, 2)
    validate_leaf_node(suite1(), bad, LeafContext.commit(GROUP_ID, 2))  # the leaf alone is fine
    tampered = g.tree.copy()
    tampered.set_leaf(2, bad)
    with pytest.raises(ValidationError) as e:
        validate_ratchet_tree(tampered, GROUP_ID)
    assert e.value.section == "7.9.2"


def test_credential_key_binding_is_part_of_every_stage() -> None:
    """§7.3 first step, "the credential in the LeafNode is valid": the part the protocol
    checks itself is §5.3's — an X.509 credential's certificate carries ``signature_key`` —
    at the KeyPackage stage and in a joined tree alike (the AS part is the application's)."""
    s = suite1()
    good = _x509_member("good")
    validate_leaf_node(s, good.leaf, LeafContext.key_package())
    other_sk, _ = s.signature.generate()
    cert_for_other = Credential.x509([certificate(s.signature, other_sk, "bad")])
    bad = replace(good.leaf, credential=cert_for_other).sign(s, good.sig_sk)
    _rejects(bad, LeafContext.key_package(), "5.3", "signature_key")
    _rejects(bad, LeafContext.tree(GROUP_ID, 0), "5.3", "signature_key")
    t = RatchetTree(s)
    t.add_leaf(bad)
    with pytest.raises(ValidationError) as e:
        validate_ratchet_tree(t, GROUP_ID)
    assert e.value.section == "5.3"


# ---- lifetime (§7.2, §7.3) -------------------------------------------------------------------


def test_lifetime_is_checked_for_key_package_leaves_only() -> None:
    """§7.3 lifetime: only a ``key_package`` leaf carries one (§7.2). With a clock, a
    KeyPackage leaf outside [1000, 2000] is refused at the KeyPackage and tree stages; an
    Update leaf has no lifetime and the same clock does not touch it."""
    kp_leaf = make_member(suite1(), b"kp").leaf  # lifetime [1000, 2000]
    validate_leaf_node(suite1(), kp_leaf, LeafContext.key_package(now=1500))
    validate_leaf_node(suite1(), kp_leaf, LeafContext.key_package())  # no clock: not checked
    for now in (999, 2001):
        _rejects(kp_leaf, LeafContext.key_package(now=now), "7.3", "lifetime")
        _rejects(kp_leaf, LeafContext.tree(GROUP_ID, 0, now=now), "7.3", "lifetime")
    _rejects(kp_leaf, LeafContext.key_package(max_lifetime=999), "7.2", "maximum")
    validate_leaf_node(suite1(), kp_leaf, LeafContext.key_package(max_lifetime=1000))

    g = Group(suite1(), 2)
    upd = _update_leaf(g, 1)
    assert upd.lifetime is None
    validate_leaf_node(suite1(), upd, LeafContext.tree(GROUP_ID, 1, now=10**12, max_lifetime=1))


def test_a_context_names_its_stage_and_needs_its_signature_context() -> None:
    """The stage fixes the required source; update/commit/tree stages need the (group_id,
    leaf_index) their leaves are signed for (§7.2), so a context without it cannot exist."""
    assert LeafContext.key_package().source == LeafNodeSource.KEY_PACKAGE
    assert LeafContext.update(GROUP_ID, 0).source == LeafNodeSource.UPDATE
    assert LeafContext.commit(GROUP_ID, 0).source == LeafNodeSource.COMMIT
    assert LeafContext.tree(GROUP_ID, 0).source is None
    for stage in (LeafStage.UPDATE, LeafStage.COMMIT, LeafStage.TREE):
        with pytest.raises(TypeError):
            LeafContext(stage, group_id=GROUP_ID)
    ctx = LeafContext.key_package([Extension(0x0001, b"app")], now=5)
    assert ctx.group_extensions == (Extension(0x0001, b"app"),) and ctx.now == 5
    with pytest.raises(AttributeError):
        ctx.now = 6  # type: ignore[misc]  # frozen


# ---- required capabilities: one parser, one checker (§11.1, §12.1.7, §7.3) ------------------


def test_required_capabilities_parsed_once_and_checked_by_one_function() -> None:
    """§11.1: the parser gives the three sets; §7.3 names the leaf check, §11.1/§12.1.7 the
    group-wide one (GroupContextExtensions) — the same rule with the section of its stage."""
    req = required_ext([0xFF02], [0xFF03], [2])
    parsed = required_capabilities(req.extension_data)
    assert (parsed.extension_types, parsed.proposal_types, parsed.credential_types) == (
        frozenset({0xFF02}),
        frozenset({0xFF03}),
        frozenset({2}),
    )
    assert find_required_capabilities([Extension(0x0001, b"x"), req]) == parsed
    assert find_required_capabilities([Extension(0x0001, b"x")]) is None
    with pytest.raises(DecodeError):
        required_capabilities(b"\x01\x00")  # a uint16 vector of one byte

    leaf = make_member(suite1(), b"a").leaf
    for r, what in ((required_ext([0xFF02], [], []), "extension 0xff02"), (required_ext([], [0xFF03], []), "0xff03")):
        with pytest.raises(ValidationError) as e:
            check_capabilities_support(leaf.capabilities, [r], "member 4")
        assert e.value.section == "11.1" and what in str(e.value) and "member 4" in str(e.value)
        _rejects(leaf, LeafContext.key_package([r]), "7.3", what)
    with pytest.raises(ValidationError) as e:
        check_capabilities_support(leaf.capabilities, [Extension(0xFF04, b"")], "member 4")
    assert e.value.section == "12.1.7"
    _rejects(leaf, LeafContext.key_package([Extension(0xFF04, b"")]), "7.3", "0xff04")
    # support listed: accepted by both
    ok = make_member(suite1(), b"b", caps=replace(CAPS, extensions=(0xFF02, 0xFF04), proposals=(0xFF03,))).leaf
    group_exts = [required_ext([0xFF02], [0xFF03], [1]), Extension(0xFF04, b"")]
    check_capabilities_support(ok.capabilities, group_exts, "member 4")
    validate_leaf_node(suite1(), ok, LeafContext.key_package(group_exts))


# ---- member-wide credential checks (§7.3) ----------------------------------------------------


def _brute_force_ok(members: list[LeafNode], leaf: LeafNode, replaces: int | None) -> bool:
    """§7.3 as written: the leaf's credential type is supported by all (other) members, and
    the leaf supports every credential type the (other) members use."""
    others = [m for j, m in enumerate(members) if j != replaces]
    t = leaf.credential.credential_type
    return all(t in m.capabilities.credential_set for m in others) and all(
        m.credential.credential_type in leaf.capabilities.credential_set for m in others
    )


def test_member_wide_credential_check_matches_the_rule() -> None:
    """CapSummary (counts, O(#types)) decides exactly as the §7.3 rule over every member,
    with and without a replaced leaf (Update / commit path), for every combination of
    credential type and supported types."""
    s = suite1()
    kinds = []
    for cred_type, supported in itertools.product((1, 2), ((1,), (2,), (1, 2))):
        if cred_type in supported:
            cred = Credential.basic(b"m") if cred_type == 1 else Credential.x509([b"cert"])
            kinds.append(make_member(s, b"m", caps=replace(CAPS, credentials=supported), credential=cred).leaf)
    assert len(kinds) == 4
    checked = 0
    for members in itertools.combinations_with_replacement(range(len(kinds)), 3):
        tree_leaves = [kinds[k] for k in members]
        summary = CapSummary()
        for m in tree_leaves:
            summary.add(m)
        for leaf, replaces in itertools.product(kinds, (None, 0, 2)):
            expected = _brute_force_ok(tree_leaves, leaf, replaces)
            old = tree_leaves[replaces] if replaces is not None else None
            if expected:
                summary.check(leaf, old)
            else:
                with pytest.raises(ValidationError) as e:
                    summary.check(leaf, old)
                assert e.value.section == "7.3"
            checked += 1
    assert checked == 20 * 4 * 3


def test_joined_tree_uses_the_same_member_wide_check() -> None:
    """§12.4.3.1 (every leaf valid, §7.3): a tree where one member cannot use another's
    credential type is refused by validate_ratchet_tree with §7.3, exactly as a new leaf
    would be by check_new_leaf_in_tree."""
    s = suite1()
    both = make_member(s, b"y", caps=replace(CAPS, credentials=(1, 2)))
    x509 = _x509_member("x")
    basic_only = make_member(s, b"z")
    t = RatchetTree(s)
    t.add_leaf(both.leaf)
    t.add_leaf(x509.leaf)
    validate_ratchet_tree(t, GROUP_ID)
    with pytest.raises(ValidationError) as e:
        check_new_leaf_in_tree(t, CapSummary.of(t), basic_only.leaf, None)
    assert e.value.section == "7.3" and "credential type 2" in str(e.value)
    t.add_leaf(basic_only.leaf)
    with pytest.raises(ValidationError) as e:
        validate_ratchet_tree(t, GROUP_ID)
    assert e.value.section == "7.3" and "credential type" in str(e.value)


def test_update_keeps_its_signature_key_but_not_its_encryption_key() -> None:
    """§7.3 uniqueness and §12.1.2: the replaced leaf's signature key may stay, its
    encryption key may not; another member's signature key may never be taken."""
    g = Group(suite1(), 3)
    summary = CapSummary.of(g.tree)
    upd = _update_leaf(g, 1)
    check_new_leaf_in_tree(g.tree, summary, upd, 1)
    old = g.tree.leaf(1)
    assert old is not None
    same_key = replace(upd, encryption_key=old.encryption_key).sign(suite1(), g.privs[1].signature_priv, GROUP_ID, 1)
    with pytest.raises(ValidationError, match="leaf it replaces") as e:
        check_new_leaf_in_tree(g.tree, summary, same_key, 1)
    assert e.value.section == "7.3"
    with pytest.raises(ValidationError, match="signature key is already used by member 1") as e:
        check_new_leaf_in_tree(g.tree, summary, upd, 2, "12.2")
    assert e.value.section == "12.2"


# ---- leftmost blank leaf or extend (§12.1.1, §12.4.3.2), provisional GroupContext (§12.4) -----


def test_reserve_leaf_takes_the_leftmost_blank_or_extends() -> None:
    s = suite1()
    g = Group(s, 5)  # leaves 0..4 of an 8-leaf tree
    t = g.tree.copy()
    t.remove_leaf(3)
    t.blank_leaf(1)
    assert t.reserve_leaf() == 1 and t.leaf(1) is None  # reserved, still blank
    assert t.add_leaf(make_member(s, b"a").leaf) == 1
    assert t.reserve_leaf() == 3
    full = RatchetTree(s)
    for i in range(4):
        full.add_leaf(make_member(s, b"%d" % i).leaf)
    assert full.n_leaves == 4 and full.reserve_leaf() == 4 and full.n_leaves == 8


def test_provisional_context_is_the_next_epoch_without_tree_hash() -> None:
    """§12.4.1/§12.4.3.2: the GroupContext an UpdatePath is made under: epoch + 1, the new
    extensions, the old confirmed transcript hash, no tree hash yet."""
    gc = GroupContext(1, GROUP_ID, 7, b"th", b"cth", (Extension(0x0001, b"a"),))
    new_exts = (Extension(0x0001, b"b"),)
    assert provisional_context(gc, new_exts) == GroupContext(1, GROUP_ID, 8, b"", b"cth", new_exts)
    last = replace(gc, epoch=(1 << 64) - 1)
    with pytest.raises(ValidationError):
        provisional_context(last, new_exts)
