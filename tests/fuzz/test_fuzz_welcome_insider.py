"""Bounded fuzz of ``Group.join`` with Welcomes from a malicious committer (RFC 9420
§12.4.3.1; issue 8).

The committer knows the joiner_secret, so it can build any Welcome the joiner's checks must
judge on their merits: here the real Welcome is opened (with the joiner's bundle, as the test
holds it), its GroupInfo changed — ratchet tree (with a matching tree_hash), extensions,
GroupContext fields, signer — re-signed by the committer, given a *correct* confirmation tag
for the changed GroupContext (derived from the joiner_secret), encrypted again under the
welcome_secret, and the GroupSecrets (path_secret, PSK ids) optionally changed and sealed
again to the joiner's init key. Asserts: only ``mls_pq.errors`` exceptions, the bundle is
untouched, a Welcome that is accepted yields a member that fails only with typed errors, and
the real Welcome still joins.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mls_pq.errors import MLSError
from mls_pq.extensions import APPLICATION_ID, EXTERNAL_PUB, RATCHET_TREE, REQUIRED_CAPABILITIES, Extension
from mls_pq.group import Group, GroupConfig
from mls_pq.group.welcome import (
    decrypt_group_info,
    encrypt_group_info,
    open_group_secrets,
    seal_group_secrets,
    select_bundle,
)
from mls_pq.key_schedule import from_joiner, welcome_secret_from_joiner
from mls_pq.messages.framing_structs import MLSMessage
from mls_pq.messages.welcome import GroupInfo, GroupSecrets, Welcome
from mls_pq.psk import PreSharedKeyID
from mls_pq.suites import get_suite
from mls_pq.transcript import confirmation_tag
from mls_pq.tree.ratchet_tree import RatchetTree
from tests.group._helpers import apply

from ._world import FUZZ, SUITES, World, clock, count, mutate_bytes, world

EDITS = st.lists(st.tuples(st.integers(0, 5), st.integers(0, 1 << 16), st.integers(0, 255)), min_size=1, max_size=3)
SMALL = st.binary(max_size=24)


def _opened(w: World) -> tuple[Welcome, GroupSecrets, GroupInfo, bytes]:
    cs = get_suite(w.suite)
    welcome = MLSMessage.from_bytes(w.welcome).body
    assert isinstance(welcome, Welcome)
    bundle, entry = select_bundle(welcome, [w.joiner_bundle], cs)
    gs = open_group_secrets(cs, bundle.init_priv, welcome.encrypted_group_info, entry.encrypted_group_secrets)
    assert not gs.psks
    ws = welcome_secret_from_joiner(cs, gs.joiner_secret, None)
    return welcome, gs, decrypt_group_info(cs, ws, welcome.encrypted_group_info), ws


def _mutate_group_info(w: World, gi: GroupInfo, data: st.DataObject) -> GroupInfo | None:
    cs = get_suite(w.suite)
    gc = gi.group_context
    kind = data.draw(st.sampled_from(["tree", "tree", "gi_extensions", "gc_extensions", "epoch", "signer"]), label="kind")
    try:
        if kind == "tree":
            ext = gi.extension(RATCHET_TREE)
            assert ext is not None
            raw = mutate_bytes(ext.extension_data, data.draw(EDITS))
            exts = tuple(Extension(RATCHET_TREE, raw) if e.extension_type == RATCHET_TREE else e for e in gi.extensions)
            try:
                gc = replace(gc, tree_hash=RatchetTree.from_bytes(cs, raw).tree_hash())
            except MLSError:
                pass
            gi = replace(gi, extensions=exts)
        elif kind == "gi_extensions":
            extra = data.draw(st.lists(st.builds(Extension, st.sampled_from([EXTERNAL_PUB, 0xFF00, 0x0A0A]), SMALL), max_size=2))
            gi = replace(gi, extensions=(*gi.extensions, *extra))
        elif kind == "gc_extensions":
            new = data.draw(
                st.lists(
                    st.builds(Extension, st.sampled_from([APPLICATION_ID, REQUIRED_CAPABILITIES, 5, 0xFF00]), SMALL),
                    max_size=3,
                )
            )
            gc = replace(gc, extensions=tuple(new))
        elif kind == "epoch":
            gc = replace(gc, epoch=data.draw(st.sampled_from([0, 1, 2**63, 2**64 - 1])))
        else:
            gi = replace(gi, signer=data.draw(st.integers(0, 5)))
    except MLSError:
        return None
    return replace(gi, group_context=gc)


@pytest.mark.parametrize("suite", SUITES, ids=lambda s: f"0x{s:04x}")
@settings(FUZZ, max_examples=50)
@given(data=st.data())
def test_welcome_from_a_malicious_committer(suite: int, data: st.DataObject) -> None:
    w = world(suite)
    cs = get_suite(suite)
    welcome, gs, gi, _ = _opened(w)
    new_gi = _mutate_group_info(w, gi, data)
    if new_gi is None:
        return
    # GroupSecrets: keep, drop or forge the path secret; name a PSK the joiner does not have
    change = data.draw(st.sampled_from(["keep", "keep", "no_path", "path", "psk"]), label="group secrets")
    if change == "no_path":
        gs = replace(gs, path_secret=None)
    elif change == "path":
        gs = replace(gs, path_secret=data.draw(st.binary(min_size=cs.n_h, max_size=cs.n_h)))
    elif change == "psk":
        gs = replace(gs, psks=(PreSharedKeyID.external(b"unknown", bytes(cs.n_h)),))
    # the committer derives the confirmation tag of the changed GroupContext (§8, §12.4.3.1)
    gc = new_gi.group_context
    try:
        secrets = from_joiner(cs, gs.joiner_secret, None, gc.to_bytes())
        tag = confirmation_tag(cs, secrets.confirmation_key, gc.confirmed_transcript_hash)
    except MLSError:
        return
    signed = replace(new_gi, confirmation_tag=tag).sign(cs, w.alice_state.private.signature_priv)
    ws = welcome_secret_from_joiner(cs, gs.joiner_secret, None)
    egi = encrypt_group_info(cs, ws, signed)
    bundle = w.joiner_bundle
    entry = welcome.secrets[0]
    egs = seal_group_secrets(cs, bundle.key_package.init_key, egi, gs)
    forged = MLSMessage(Welcome(welcome.cipher_suite, (replace(entry, encrypted_group_secrets=egs),), egi)).to_bytes()
    before = bundle.to_bytes()
    try:
        g = Group.join(forged, [bundle], config=GroupConfig(clock=clock))
    except MLSError:
        count("Group.join (malicious committer)", True)
    else:
        count("Group.join (malicious committer)", False)
        for use in (lambda: g.encrypt(b"x"), lambda: g.commit(), lambda: apply(g, w.messages["app"])):
            try:
                use()
            except MLSError:
                pass
    assert bundle.to_bytes() == before, "join changed the KeyPackage bundle"
    assert Group.join(w.welcome, [bundle], config=GroupConfig(clock=clock)).epoch == 3
