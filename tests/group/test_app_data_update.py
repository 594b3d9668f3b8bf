"""AppDataUpdate proposals in real groups (draft-ietf-mls-extensions §4.7): applied to the
GroupContext ``app_data_dictionary`` through the application's component registry, list rules,
no path required, GroupContextExtensions restriction; application PSKs in commits (§4.5)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pytest

from mls_pq import ext_codepoints as cp
from mls_pq.client import Client, default_capabilities
from mls_pq.components import ComponentRegistry, UpdateContext
from mls_pq.errors import DraftValidationError, ValidationError
from mls_pq.extensions import REQUIRED_CAPABILITIES, Extension
from mls_pq.group import Group, GroupConfig
from mls_pq.messages.app_data import AppDataDictionary, AppDataUpdate, ComponentData, app_data_dictionary_of
from mls_pq.messages.framing_structs import MLSMessage, PublicMessage, WireFormat
from mls_pq.messages.leaf_node import Capabilities
from mls_pq.messages.proposals import GroupContextExtensions, Proposal
from mls_pq.psk import PreSharedKeyID
from mls_pq.suites import get_suite
from ._helpers import apply

S = get_suite(0x0001)
COMP = 0x8001


class Append:
    def apply_updates(self, current: bytes | None, updates: Sequence[bytes], context: UpdateContext) -> bytes:
        if any(u == b"bad" for u in updates):
            raise ValidationError("bad update")
        return (current or b"") + b"".join(updates)

    def validate(self, data: bytes, context: UpdateContext) -> None:
        return None


REG = ComponentRegistry({COMP: Append()})


def required_caps(proposals: Sequence[int]) -> Extension:
    from mls_pq.codec import Writer

    w = Writer().vector((), lambda ww, x: ww.uint16(x))
    w.vector(proposals, lambda ww, x: ww.uint16(x)).vector((), lambda ww, x: ww.uint16(x))
    return Extension(REQUIRED_CAPABILITIES, w.getvalue())


def pair(group_extensions: Sequence[Extension] = (), registry: ComponentRegistry = REG) -> tuple[Group, Group]:
    ca, cb = Client.generate(S, b"alice"), Client.generate(S, b"bob")
    caps_a = default_capabilities(S, ca.credential, extensions=[cp.APP_DATA_DICTIONARY], proposals=[cp.APP_DATA_UPDATE])
    caps_b = default_capabilities(S, cb.credential, extensions=[cp.APP_DATA_DICTIONARY], proposals=[cp.APP_DATA_UPDATE])
    config = GroupConfig(components=registry)
    a = Group.create(
        S, b"g", ca.credential, ca.signature_priv, capabilities=caps_a, extensions=group_extensions, config=config
    )
    kp, bundle = cb.key_package(capabilities=caps_b)
    out = a.commit(add=[kp])
    a.merge_pending_commit()
    assert out.welcome is not None
    b = Group.join(out.welcome, bundle, config=config)
    return a, b


def dictionary(g: Group) -> AppDataDictionary | None:
    return app_data_dictionary_of(g.group_context.extensions)


def test_app_data_update_applied_by_all_members_section_4_7() -> None:
    a, b = pair()
    out = a.commit(proposals=[Proposal(AppDataUpdate.make_update(COMP, b"x")), Proposal(AppDataUpdate.make_update(COMP, b"y"))])
    a.merge_pending_commit()
    apply(b, out.commit)
    assert dictionary(a) == dictionary(b) == AppDataDictionary((ComponentData(COMP, b"xy"),))
    assert a.epoch_authenticator == b.epoch_authenticator
    assert out.effects.group_context_extensions == a.group_context.extensions
    # AppDataUpdate needs no path (§4.7, §7.2 Path Required: N)
    msg = MLSMessage.from_bytes(out.commit)
    if isinstance(msg.body, PublicMessage):
        assert msg.body.content.body.path is None  # type: ignore[union-attr]
    # remove
    out = b.commit(proposals=[Proposal(AppDataUpdate.make_remove(COMP))])
    b.merge_pending_commit()
    apply(a, out.commit)
    assert dictionary(a) == dictionary(b) == AppDataDictionary()


def test_commit_without_path_on_the_wire_section_4_7() -> None:
    a, b = pair()
    out = a.commit(proposals=[Proposal(AppDataUpdate.make_update(COMP, b"x"))], wire_format=WireFormat.PUBLIC_MESSAGE)
    a.merge_pending_commit()
    msg = MLSMessage.from_bytes(out.commit)
    assert isinstance(msg.body, PublicMessage) and msg.body.content.body.path is None  # type: ignore[union-attr]
    apply(b, out.commit)
    assert dictionary(b) == dictionary(a)


def test_receiver_without_component_rejects_and_is_unchanged_section_4_7() -> None:
    a, b = pair()
    b.config = replace(b.config, components=ComponentRegistry())
    before = b.state.to_bytes()
    out = a.commit(proposals=[Proposal(AppDataUpdate.make_update(COMP, b"x"))])
    with pytest.raises(DraftValidationError, match="unknown to the application.*§4.7"):
        apply(b, out.commit)
    assert b.state.to_bytes() == before


def test_committer_rejects_invalid_lists_section_4_7() -> None:
    a, _ = pair()
    rm = Proposal(AppDataUpdate.make_remove(COMP))
    with pytest.raises(DraftValidationError, match="removes absent state.*§4.7"):
        a.commit(proposals=[rm])
    with pytest.raises(DraftValidationError, match="both update and remove.*§4.7"):
        a.commit(proposals=[Proposal(AppDataUpdate.make_update(COMP, b"x")), rm])
    with pytest.raises(ValidationError, match="bad update"):
        a.commit(proposals=[Proposal(AppDataUpdate.make_update(COMP, b"bad"))])
    # nothing pending after a refused commit: a valid one still works
    a.commit(proposals=[Proposal(AppDataUpdate.make_update(COMP, b"ok"))])
    a.merge_pending_commit()
    assert dictionary(a) == AppDataDictionary((ComponentData(COMP, b"ok"),))


def test_member_without_capability_rejected_rfc9420_12_2() -> None:
    """AppDataUpdate is a non-default proposal type: every member must support it (RFC 9420 §12.2)."""
    ca, cb = Client.generate(S, b"alice"), Client.generate(S, b"bob")
    a = Group.create(S, b"g", ca.credential, ca.signature_priv)
    kp, _ = cb.key_package()
    a.commit(add=[kp])
    a.merge_pending_commit()
    a.config = replace(a.config, components=REG)
    with pytest.raises(ValidationError, match="does not support proposal type 0x0008"):
        a.commit(proposals=[Proposal(AppDataUpdate.make_update(COMP, b"x"))])


def test_gce_must_not_touch_app_data_when_required_section_4_7() -> None:
    a, b = pair(group_extensions=[required_caps([cp.APP_DATA_UPDATE])])
    out = a.commit(proposals=[Proposal(AppDataUpdate.make_update(COMP, b"x"))])
    a.merge_pending_commit()
    apply(b, out.commit)
    exts = a.group_context.extensions
    no_dict = tuple(e for e in exts if e.extension_type != cp.APP_DATA_DICTIONARY)
    with pytest.raises(DraftValidationError, match="GroupContextExtensions changes app_data_dictionary.*§4.7"):
        a.commit(proposals=[Proposal(GroupContextExtensions(no_dict))])
    # a GCE that keeps the dictionary (and an AppDataUpdate in the same commit) is fine
    out = a.commit(proposals=[Proposal(GroupContextExtensions(exts)), Proposal(AppDataUpdate.make_update(COMP, b"z"))])
    a.merge_pending_commit()
    apply(b, out.commit)
    assert dictionary(b) == AppDataDictionary((ComponentData(COMP, b"xz"),))


def test_application_psk_in_commit_section_4_5() -> None:
    a, b = pair()
    pid = PreSharedKeyID.application(0x0006, b"apq-psk-id", bytes(S.n_h))
    a.application_psks[(0x0006, b"apq-psk-id")] = b"\x42" * 32
    out = a.commit(psks=[pid])
    a.merge_pending_commit()
    before = b.state.to_bytes()
    with pytest.raises(ValidationError, match="not available"):
        apply(b, out.commit)
    assert b.state.to_bytes() == before
    b.application_psks[(0x0006, b"apq-psk-id")] = b"\x42" * 32
    apply(b, out.commit)
    assert a.epoch_authenticator == b.epoch_authenticator
    assert out.effects.psks[0].component_id == 0x0006


def test_app_data_update_in_external_commit_section_4_7() -> None:
    """§4.7: AppDataUpdate proposals can be included in an external Commit; the handler sees
    ``external=True`` (here: accepts it) and every member applies the same update."""
    from mls_pq.client import make_leaf_template
    from mls_pq.group.external import create_external_commit
    from mls_pq.messages.welcome import GroupInfo

    a, b = pair()
    cc = Client.generate(S, b"carol")
    caps = default_capabilities(S, cc.credential, extensions=[cp.APP_DATA_DICTIONARY], proposals=[cp.APP_DATA_UPDATE])
    template = make_leaf_template(S, cc.credential, S.signature.public_key(cc.signature_priv), capabilities=caps)
    gi = MLSMessage.from_bytes(a.group_info(ratchet_tree=True, external_pub=True)).body
    assert isinstance(gi, GroupInfo)
    upd = AppDataUpdate.make_update(COMP, b"ext")
    with pytest.raises(DraftValidationError, match="unknown to the application"):
        create_external_commit(S, gi, template, cc.signature_priv, app_data_updates=[upd])
    res = create_external_commit(S, gi, template, cc.signature_priv, app_data_updates=[upd], components=REG)
    for g in (a, b):
        apply(g, res.message.to_bytes())
        assert dictionary(g) == AppDataDictionary((ComponentData(COMP, b"ext"),))
    assert app_data_dictionary_of(res.state.context.extensions) == dictionary(a)


def test_group_safe_export_secret_section_4_4() -> None:
    from mls_pq.errors import SecretConsumedError

    a, b = pair()
    with pytest.raises(DraftValidationError, match="§4.1"):
        a.safe_export_secret(0x10000)  # rejected before anything is consumed
    sa, sb = a.safe_export_secret(0x0006), b.safe_export_secret(0x0006)
    assert sa == sb and len(sa) == S.n_h
    assert a.safe_export_secret(0x0007) == b.safe_export_secret(0x0007) != sa
    with pytest.raises(SecretConsumedError, match="§4.4"):
        a.safe_export_secret(0x0006)
    assert a.state.secrets.application_export_secret == b""  # root deleted on first use
    out = a.commit()
    a.merge_pending_commit()
    apply(b, out.commit)
    n1 = a.safe_export_secret(0x0006)
    assert n1 == b.safe_export_secret(0x0006) and n1 != sa  # a fresh tree per epoch


def test_group_safe_export_unavailable_after_reload_section_4_4() -> None:
    from mls_pq.errors import SecretConsumedError

    a, _ = pair()
    reloaded = Group.from_bytes(a.to_bytes())
    with pytest.raises(SecretConsumedError, match="loaded from storage"):
        reloaded.safe_export_secret(0x0006)


def test_welcome_with_application_psk_section_4_5() -> None:
    a, b = pair()
    pid = PreSharedKeyID.application(0x0006, b"id", bytes(S.n_h))
    a.application_psks[(0x0006, b"id")] = b"\x07" * 32
    b.application_psks[(0x0006, b"id")] = b"\x07" * 32
    cc = Client.generate(S, b"carol")
    caps = default_capabilities(S, cc.credential, extensions=[cp.APP_DATA_DICTIONARY], proposals=[cp.APP_DATA_UPDATE])
    kp, bundle = cc.key_package(capabilities=caps)
    out = a.commit(add=[kp], psks=[pid])
    a.merge_pending_commit()
    apply(b, out.commit)
    assert out.welcome is not None
    with pytest.raises(ValidationError):
        Group.join(out.welcome, bundle)
    c = Group.join(out.welcome, bundle, application_psks={(0x0006, b"id"): b"\x07" * 32})
    assert c.epoch_authenticator == a.epoch_authenticator == b.epoch_authenticator


def test_required_wire_formats_and_components_for_new_members_section_5() -> None:
    """§5: a member added to a group with ``required_wire_formats`` / required ``app_components``
    must support them (its leaf's ``supported_wire_formats`` / ``app_components``)."""
    from mls_pq.components import leaf_app_data_extension
    from mls_pq.messages.app_data import ComponentsList, WireFormats

    exts = [cp.SUPPORTED_WIRE_FORMATS, cp.REQUIRED_WIRE_FORMATS, cp.APP_DATA_DICTIONARY]
    required = AppDataDictionary((ComponentData(cp.COMPONENT_APP_COMPONENTS, ComponentsList((COMP,)).to_bytes()),))
    group_exts = [WireFormats((0x0007,)).required_extension(), required.to_extension()]
    good_leaf = [WireFormats((0x0007,)).supported_extension(), leaf_app_data_extension(REG)]

    def client(name: bytes) -> tuple[Client, Capabilities]:
        c = Client.generate(S, name)
        return c, default_capabilities(S, c.credential, extensions=exts, proposals=[cp.APP_DATA_UPDATE])

    ca, caps_a = client(b"alice")
    a = Group.create(S, b"g", ca.credential, ca.signature_priv, capabilities=caps_a, extensions=group_exts,
                     leaf_extensions=good_leaf)
    for leaf_exts, what in (
        ([leaf_app_data_extension(REG)], "wire formats"),
        ([WireFormats((0x0007,)).supported_extension()], "required components"),
    ):
        cb, caps_b = client(b"bob")
        kp, _ = cb.key_package(capabilities=caps_b, leaf_extensions=leaf_exts)
        with pytest.raises(DraftValidationError, match=f"{what}.*§5"):
            a.commit(add=[kp])
    cb, caps_b = client(b"bob")
    kp, bundle = cb.key_package(capabilities=caps_b, leaf_extensions=good_leaf)
    out = a.commit(add=[kp])
    a.merge_pending_commit()
    assert out.welcome is not None
    b = Group.join(out.welcome, bundle)
    assert b.epoch_authenticator == a.epoch_authenticator


def test_app_data_update_by_reference_section_4_7() -> None:
    """Proposals by reference from two members, committed by a third party's list in order."""
    a, b = pair()
    pb = b.propose(Proposal(AppDataUpdate.make_update(COMP, b"1")))
    apply(a, pb)
    pa = a.propose(Proposal(AppDataUpdate.make_update(COMP, b"2")))
    apply(b, pa)
    out = a.commit()
    a.merge_pending_commit()
    apply(b, out.commit)
    assert dictionary(a) == dictionary(b)
    data = dictionary(a).get(COMP)  # type: ignore[union-attr]
    assert data is not None and sorted(data) == sorted(b"12")


def test_pending_safe_export_secret_section_4_4() -> None:
    """The committer exports from the epoch its pending commit creates; receivers get the same
    value after processing; it stays consumed after the merge; a discarded commit's tree is
    never used for another commit's epoch."""
    from mls_pq.errors import SecretConsumedError, StateError

    a, b = pair()
    with pytest.raises(StateError):
        a.pending_safe_export_secret(6)
    out = a.commit()
    discarded = a.pending_safe_export_secret(6)
    a.discard_pending_commit()
    out = a.commit()
    current = a.safe_export_secret(6)  # the current epoch's tree is independent of the pending one
    mine = a.pending_safe_export_secret(6)
    assert mine != discarded and mine != current
    assert a.safe_export_secret(7) == b.safe_export_secret(7)  # current epoch still usable
    assert b.safe_export_secret(6) == current
    with pytest.raises(SecretConsumedError):
        a.pending_safe_export_secret(6)
    a.merge_pending_commit()
    apply(b, out.commit)
    assert b.safe_export_secret(6) == mine
    with pytest.raises(SecretConsumedError):
        a.safe_export_secret(6)
    assert a.safe_export_secret(7) == b.safe_export_secret(7)
    assert a.state.secrets.application_export_secret == b""
    assert len(a._exporter_trees) == 1  # the previous epoch's tree is gone
