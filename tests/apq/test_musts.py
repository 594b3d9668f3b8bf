"""Every MUST / MUST NOT of draft-ietf-mls-combiner (editors' copy 2026-08-21) and every
draft-ietf-mls-extensions feature the combiner uses, each with a test naming its section.

Tests run on real groups: two members, each with a traditional (T) and a PQ session
(:class:`~mls_pq.group.Group` objects, the combiner's component handler registered), driving
FULL and PARTIAL commits by hand as the combined-group object does. A *lax* committer (a
component handler that checks nothing) produces the malicious commits a compliant receiver
must reject; every rejection leaves the receiver's group byte-identical.

MUST sentence of the draft -> test (``test_`` prefix omitted; "unit:" names the unit test
elsewhere that covers the rule at struct/handler level):

======================================================================  ==========================================
§3   FULL commits more frequent than the inactivity window; device       partial_commits_keep_apq_info_epochs_section_3
     inactive beyond it (application policy: the APQInfo epochs tell
     the application when the last FULL commit was)
§3   PQ group instantiated with an approved PQ ciphersuite               pq_session_suite_classes_section_7_1 (hybrid,
                                                                         classical rejected)
§3.1 FULL = PQ commit then T commit with the PSK proposal               first_full_commit_section_5_1_1_and_5_1_2
§3.2.1 APQInfo in the GroupContext the Welcome carries                  joiner_sees_apq_info_in_welcome_section_3_2_1,
                                                                         welcome_pair_without_apq_info_or_wire_formats_
                                                                         rejected_section_3_2_1_and_6
§3.2.1, §5.1.2 joiner validates both APQInfos match                      welcome_pair_apq_info_mismatch_rejected_section_3_2_1
§3.2, §3.2.1 the joiner MUST issue a FULL commit (first)                 joiner_first_commit_must_be_full_section_3_2
§3.2.2 join both sessions, one external commit each (one pair)          external_join_accepted_section_3_2_2
§3.2.2 the GroupInfo of each external commit MUST contain APQInfo        external_join_needs_apq_info_in_group_info_section_3_2_2
§3.2.2 external commit: T commit MUST carry the application PSK          external_commit_without_apq_psk_rejected_section_3_2_2
§3.2.2 both external commits MUST update APQInfo                         external_commit_updates_apq_info_section_3_2_2[t,pq]
§3.2.1/§3.3 membership consistent in both sessions after join/removal   membership_divergence_rejected_section_3_2_1_and_3_3,
                                                                         joiner_checks_membership_consistency_section_3_2_1
§3.3 removals in both sessions followed by a FULL commit                 unit: test_group.py::test_adds_and_removes_need_
                                                                         a_full_commit_section_3, test_remove_in_both_
                                                                         sessions_section_3_3
§3.4 application messages only in the traditional session               unit: test_group.py::test_application_data_in_the_
                                                                         traditional_session_section_3_4, test_pq_message_
                                                                         alone_rejected_section_6
§4, §4.2, §7.1.2 mode 1 needs a PQ DSA in the PQ session                 pq_session_suite_classes_section_7_1[mode1-ed25519]
§5.1 APQInfo in both GroupContexts via app_data_dictionary 0x0006        first_full_commit_section_5_1_1_and_5_1_2
§5.1.1 first FULL commit: full_update, epochs = the new epochs           epoch_only_update_needs_existing_apq_info_section_5_1_1,
                                                                         wrong_epoch_rejected_section_5_1_1
§5.1.1 new_apq_info a complete APQInfo                                   unit: test_structs.py::test_apq_info_bad_bool_and_
                                                                         truncation_section_5_1
§5.1.1 one full_update, or exactly new_t_epoch + new_pq_epoch            epoch_form_needs_both_updates_section_5_1_1[*]
                                                                         (unit: test_component.py::test_only_one_full_
                                                                         or_the_two_epochs_section_5_1_1)
§5.1.1 epoch-only form applies to an existing APQInfo                   epoch_only_update_needs_existing_apq_info_section_5_1_1
§5.1.1 subsequent FULL commits update the epochs (both forms)            later_full_commits_update_epochs_section_5_1_1
§5.1.1 reject a change of any field but the epochs                       immutable_field_change_rejected_section_5_1_1[*],
                                                                         apq_info_remove_rejected_section_5_1_1
§5.1.1 for any FULL commit verify suites and epochs of both new epochs   wrong_epoch_rejected_section_5_1_1,
                                                                         apq_info_must_name_this_session_section_5_1
§5.1.2 APQInfo of T and PQ match; updated in both on FULL                first_full_commit_section_5_1_1_and_5_1_2,
                                                                         later_full_commits_update_epochs_section_5_1_1,
                                                                         epochs_mismatch_after_full_rejected_section_5_1_2
§5.2 apq_exporter = SafeExportSecret(0x0006) (not extension_secret),     apq_exporter_independent_derivation_section_5_2
     PQ KDF; apq_psk_id / apq_psk with the T KDF
§5.2 PSKType = application(3), component_id 0x0006, psk_id = apq_psk_id apq_exporter_independent_derivation_section_5_2
§5.2 T commit of a FULL commit MUST include that PSK proposal            missing_psk_proposal_rejected_section_5_2,
                                                                         wrong_apq_psk_id_rejected_section_5_2
§5.2 apq_exporter deleted after use                                      apq_exporter_consumed_section_5_2
§6   required_wire_formats lists apq_message_pair in both sessions       required_wire_formats_section_6,
                                                                         required_wire_formats_cannot_be_dropped_section_6
§6   inner wire formats = wire_format; wire_format != apq_message_pair;  pair_of_a_full_commit_reject_rules_section_6,
     reject otherwise                                                    pair_rules_through_process_section_6
                                                                         (unit: test_structs.py::test_pair_*)
§6   mls_private_message in a pair MUST NOT be application content       pair_of_a_full_commit_reject_rules_section_6,
                                                                         pair_rules_through_process_section_6
§7.1 pq suite fully PQ in mode 1; suites/mode not modified; reject       pq_session_suite_classes_section_7_1[*],
     invalid or duplicate suites                                         immutable_field_change_rejected_section_5_1_1
§7.1.1 PQ session KEM standardized pure PQ; hybrid/experimental rejected pq_session_suite_classes_section_7_1[hybrid*],
                                                                         experimental_or_hybrid_primitives_rejected_
                                                                         section_7_1_1_and_7_1_2[experimental-kem]
§7.1.2 mode 1: standardized PQ signature; others rejected                pq_session_suite_classes_section_7_1[mode1*],
                                                                         experimental_or_hybrid_primitives_rejected_
                                                                         section_7_1_1_and_7_1_2[*-signature-*]
§8.3 apq_psk from the epoch_secret of the PQ epoch's start               apq_exporter_independent_derivation_section_5_2
======================================================================  ==========================================

draft-ietf-mls-extensions features used: §4.4 SafeExportSecret (consumed once:
apq_exporter_consumed_section_5_2), §4.5 application PSKs (apq_exporter_independent_derivation),
§4.6 app_data_dictionary (first_full_commit), §4.7 AppDataUpdate (unknown component rejected:
receiver_without_combiner_rejects_section_ext_4_7; remove hook: apq_info_remove_rejected),
§5 supported/required wire formats (required_wire_formats_section_6) and components
(components_advertised_and_required_section_ext_4_6_and_5; app_components advertised, §4.6).
Unit tests of the extension features: tests/test_components.py, tests/messages/test_app_data.py
(§4.6 sorted / unique entries), tests/test_exporter_tree.py, tests/test_psk_application.py,
tests/group/test_app_data_update.py.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

import pytest

from mls_pq import ext_codepoints as cp
from mls_pq.apq.client import APQClient
from mls_pq.apq.component import APQInfoHandler
from mls_pq.apq.group import APQGroup
from mls_pq.apq.key_schedule import apq_psk_from_exporter, apq_psk_id
from mls_pq.apq.structs import APQ_COMPONENT_ID, APQ_MESSAGE_PAIR, APQInfo, APQInfoUpdate, APQMessagePair
from mls_pq.apq.suites import suite_policy
from mls_pq.client import Client, default_capabilities
from mls_pq.codec import Writer
from mls_pq.components import ComponentRegistry, UpdateContext, leaf_app_data_extension
from mls_pq.errors import DraftValidationError, MLSError, SecretConsumedError, StateError, ValidationError
from mls_pq.group import Group
from mls_pq.group_context import GroupContext
from mls_pq.key_schedule import EpochSecrets, advance
from mls_pq.messages.app_data import AppDataUpdate, WireFormats, app_data_dictionary_of, wire_formats_of
from mls_pq.messages.framing_structs import MLSMessage, WireFormat
from mls_pq.messages.proposals import Proposal
from mls_pq.psk import PSK_APPLICATION, PreSharedKeyID
from mls_pq.suites import CipherSuite, get_suite

T_GID, PQ_GID = b"apq-t", b"apq-pq"
CAPS_EXT = [cp.APP_DATA_DICTIONARY, cp.SUPPORTED_WIRE_FORMATS, cp.REQUIRED_WIRE_FORMATS]
REAL = ComponentRegistry({APQ_COMPONENT_ID: APQInfoHandler(suite_policy)})


class Lax:
    """A component handler that checks nothing: the malicious committer's."""

    def apply_updates(self, current: bytes | None, updates: Sequence[bytes], context: UpdateContext) -> bytes:
        ups = [APQInfoUpdate.from_bytes(u) for u in updates]
        info = APQInfo.from_bytes(current) if current is not None else None
        for u in ups:
            if u.new_apq_info is not None:
                info = u.new_apq_info
            else:
                info = info or APQInfo(T_GID, PQ_GID, False, 0x0001, 0xF006, 0, 0)
                info = APQInfo(*info.immutable_fields(), t_epoch=u.new_epoch if u.update_type == 1 else info.t_epoch,
                               pq_epoch=u.new_epoch if u.update_type == 2 else info.pq_epoch)
        assert info is not None
        return info.to_bytes()

    def validate(self, data: bytes, context: UpdateContext) -> None:
        return None


LAX = ComponentRegistry({APQ_COMPONENT_ID: Lax()})


def use(g: Group, registry: ComponentRegistry) -> None:
    """Register ``registry`` as ``g``'s components (its GroupConfig)."""
    g.config = replace(g.config, components=registry)


def apply(g: Group, data: bytes) -> None:
    """Process ``data`` and, for a commit under the staged-commit API (issue 10), merge it."""
    r = g.process(data)
    merge = getattr(r, "merge", None)
    if callable(merge):
        merge()


@dataclass
class Member:
    t: Group
    pq: Group


@dataclass
class Combined:
    t_suite: CipherSuite
    pq_suite: CipherSuite
    mode: bool
    members: list[Member] = field(default_factory=list)

    def info(self, t_epoch: int, pq_epoch: int, **change: object) -> APQInfo:
        base = {"t_session_group_id": T_GID, "pq_session_group_id": PQ_GID, "mode": self.mode,
                "t_cipher_suite": self.t_suite.id, "pq_cipher_suite": self.pq_suite.id,
                "t_epoch": t_epoch, "pq_epoch": pq_epoch, **change}
        return APQInfo(**base)  # type: ignore[arg-type]


def leaf_exts(wire_formats: Sequence[int] = (APQ_MESSAGE_PAIR,)) -> list:  # type: ignore[type-arg]
    return [WireFormats(tuple(wire_formats)).supported_extension(), leaf_app_data_extension(REAL)]


def session(suite: CipherSuite, gid: bytes, n: int) -> list[Group]:
    """``n`` members of one session, created with required_wire_formats = [apq_message_pair] (§6)."""
    clients = [Client.generate(suite, b"member-%d" % i) for i in range(n)]
    caps = [default_capabilities(suite, c.credential, extensions=CAPS_EXT, proposals=[cp.APP_DATA_UPDATE])
            for c in clients]
    first = Group.create(suite, gid, clients[0].credential, clients[0].signature_priv, capabilities=caps[0],
                         extensions=[WireFormats((APQ_MESSAGE_PAIR,)).required_extension()],
                         leaf_extensions=leaf_exts())
    kps = [c.key_package(capabilities=k, leaf_extensions=leaf_exts()) for c, k in zip(clients[1:], caps[1:])]
    out = first.commit(add=[kp for kp, _ in kps])
    first.merge_pending_commit()
    assert out.welcome is not None
    groups = [first, *(Group.join(out.welcome, b) for _, b in kps)]
    for g in groups:
        use(g, REAL)
    return groups


def combined(t: int = 0x0001, pq: int = 0xF006, mode: bool = False, n: int = 2) -> Combined:
    c = Combined(get_suite(t), get_suite(pq), mode)
    c.members = [Member(a, b) for a, b in zip(session(c.t_suite, T_GID, n), session(c.pq_suite, PQ_GID, n))]
    return c


@dataclass(frozen=True)
class FullOut:
    t_commit: bytes
    pq_commit: bytes
    psk_id: bytes
    psk: bytes

    def pair(self) -> bytes:
        return APQMessagePair.of(MLSMessage.from_bytes(self.t_commit), MLSMessage.from_bytes(self.pq_commit)).to_mls_message()


def props(ups: Sequence[APQInfoUpdate]) -> list[Proposal]:
    return [Proposal(AppDataUpdate.make_update(APQ_COMPONENT_ID, u.to_bytes())) for u in ups]


def full_commit(c: Combined, m: Member, t_ups: Sequence[APQInfoUpdate], pq_ups: Sequence[APQInfoUpdate] | None = None,
                *, with_psk: bool = True, psk_id_override: bytes | None = None) -> FullOut:
    """The committer's side of a FULL commit (§3.1): PQ commit, apq_psk from its pending epoch
    (§5.2), T commit with the application PSK proposal; both merged."""
    pq_out = m.pq.commit(proposals=props(t_ups if pq_ups is None else pq_ups))
    psk_id, psk = apq_psk_from_exporter(c.t_suite, m.pq.pending_safe_export_secret(APQ_COMPONENT_ID))
    if psk_id_override is not None:
        psk_id = psk_id_override
    m.t.application_psks[(APQ_COMPONENT_ID, psk_id)] = psk
    psks = [apq_psk_id(psk_id, os.urandom(c.t_suite.n_h))] if with_psk else []
    try:
        t_out = m.t.commit(psks=psks, proposals=props(t_ups))
    except MLSError:
        m.pq.discard_pending_commit()
        raise
    m.pq.merge_pending_commit()
    m.t.merge_pending_commit()
    return FullOut(t_out.commit, pq_out.commit, psk_id, psk)


def receive_full(c: Combined, m: Member, t_commit: bytes, pq_commit: bytes) -> None:
    """A receiver of a FULL commit: PQ commit first, then the apq_psk, then the T commit (§3.1)."""
    apply(m.pq, pq_commit)
    psk_id, psk = apq_psk_from_exporter(c.t_suite, m.pq.safe_export_secret(APQ_COMPONENT_ID))
    m.t.application_psks[(APQ_COMPONENT_ID, psk_id)] = psk
    apply(m.t, t_commit)


def first_full(c: Combined) -> FullOut:
    a = c.members[0]
    info = c.info(a.t.epoch + 1, a.pq.epoch + 1)
    out = full_commit(c, a, [APQInfoUpdate.full(info)])
    for m in c.members[1:]:
        receive_full(c, m, out.t_commit, out.pq_commit)
    return out


def apq_info(g: Group) -> APQInfo | None:
    d = app_data_dictionary_of(g.group_context.extensions)
    raw = None if d is None else d.get(APQ_COMPONENT_ID)
    return None if raw is None else APQInfo.from_bytes(raw)


def rejected(g: Group, data: bytes, match: str, exc: type[Exception] = DraftValidationError) -> None:
    """``g`` rejects ``data`` with ``exc`` matching ``match`` and is byte-identical afterwards."""
    before = g.to_bytes()
    with pytest.raises(exc, match=match):
        apply(g, data)
    assert g.to_bytes() == before


def t_commit_lax(c: Combined, m: Member, ups: Sequence[APQInfoUpdate] = (), *, psks: Sequence[PreSharedKeyID] = (),
                 remove_apq_info: bool = False) -> bytes:
    """A traditional commit built by a committer whose handler checks nothing."""
    use(m.t, LAX)
    p = [Proposal(AppDataUpdate.make_remove(APQ_COMPONENT_ID))] if remove_apq_info else props(ups)
    out = m.t.commit(psks=list(psks), proposals=p)
    m.t.discard_pending_commit()
    use(m.t, REAL)
    return out.commit


def lax_apq_psk(c: Combined, m: Member) -> PreSharedKeyID:
    """An application PSK of component 0x0006 the lax committer knows (enough to build its commit)."""
    pid = os.urandom(c.t_suite.n_h)
    m.t.application_psks[(APQ_COMPONENT_ID, pid)] = os.urandom(c.t_suite.n_h)
    return apq_psk_id(pid, os.urandom(c.t_suite.n_h))


# ---- §5.1, §5.1.1, §5.1.2, §3.1: the FULL commit flow ---------------------------------------------


def test_first_full_commit_section_5_1_1_and_5_1_2() -> None:
    c = combined()
    out = first_full(c)
    (a, b) = c.members
    info = apq_info(a.t)
    assert info is not None and info == c.info(a.t.epoch, a.pq.epoch)  # §5.1.1: the new epochs
    for g in (a.pq, b.t, b.pq):
        assert apq_info(g) == info  # §5.1.2: both sessions, every member
    for g in (a.t, a.pq):  # §5.1: component 0x0006 of the GroupContext's app_data_dictionary
        d = app_data_dictionary_of(g.group_context.extensions)
        assert d is not None and APQ_COMPONENT_ID in d.component_ids
    assert a.t.epoch_authenticator == b.t.epoch_authenticator and a.pq.epoch_authenticator == b.pq.epoch_authenticator
    # §3.1/§5.2: the T commit carries the PSK id; the PQ commit none
    assert out.psk_id in out.t_commit and out.psk_id not in out.pq_commit


def test_partial_commits_keep_apq_info_epochs_section_3() -> None:
    """§3: the application's inactivity rule needs the time of the last FULL commit; PARTIAL
    commits advance the T session only and leave APQInfo (its epochs) as the last FULL set it."""
    c = combined()
    first_full(c)
    a, b = c.members
    info = apq_info(a.t)
    pq_epoch = a.pq.epoch
    for committer, other in ((a, b), (b, a), (a, b)):
        out = committer.t.commit()
        committer.t.merge_pending_commit()
        apply(other.t, out.commit)
    assert info is not None and apq_info(a.t) == apq_info(b.t) == info
    assert a.t.epoch - info.t_epoch == 3 and a.pq.epoch == pq_epoch == info.pq_epoch


def test_later_full_commits_update_epochs_section_5_1_1() -> None:
    c = combined()
    first_full(c)
    a, b = c.members
    # PARTIAL in between, then FULL with the epoch-only form, then with a full_update, from each member
    out = b.t.commit()
    b.t.merge_pending_commit()
    apply(a.t, out.commit)
    for committer, other, form in ((b, a, "epochs"), (a, b, "full")):
        te, pe = committer.t.epoch + 1, committer.pq.epoch + 1
        if form == "epochs":
            ups = [APQInfoUpdate.t_epoch(te), APQInfoUpdate.pq_epoch(pe)]
        else:
            ups = [APQInfoUpdate.full(c.info(te, pe))]
        f = full_commit(c, committer, ups)
        receive_full(c, other, f.t_commit, f.pq_commit)
        for g in (a.t, a.pq, b.t, b.pq):
            assert apq_info(g) == c.info(te, pe)
        assert (a.t.epoch, a.pq.epoch) == (te, pe)


@pytest.mark.parametrize(
    "change",
    [{"t_session_group_id": b"other-t"}, {"pq_session_group_id": b"other-pq"}, {"mode": True},
     {"t_cipher_suite": 0x0003}, {"pq_cipher_suite": 0xF00A}],
    ids=["t_group_id", "pq_group_id", "mode", "t_suite", "pq_suite"],
)
def test_immutable_field_change_rejected_section_5_1_1(change: dict[str, object]) -> None:
    """§5.1.1 "Recipients MUST reject an AppDataUpdate proposal that modifies any field of an
    existing APQInfo other than the two epoch fields"; §7.1: suites and mode not modified."""
    c = combined()
    first_full(c)
    a, b = c.members
    bad = c.info(a.t.epoch + 1, a.pq.epoch + 1, **change)
    data = t_commit_lax(c, a, [APQInfoUpdate.full(bad)], psks=[lax_apq_psk(c, a)])
    rejected(b.t, data, r"other than the two epochs.*combiner §5\.1\.1")
    # a compliant committer cannot even build it
    with pytest.raises(DraftValidationError, match=r"§5\.1\.1"):
        full_commit(c, a, [APQInfoUpdate.full(bad)])
    assert not a.t.has_pending_commit and not a.pq.has_pending_commit


def test_apq_info_remove_rejected_section_5_1_1() -> None:
    """Removing APQInfo (an AppDataUpdate ``remove``) changes an immutable field (§5.1.1) and
    downgrades the session to a lone traditional group (§5.1)."""
    c = combined()
    first_full(c)
    a, b = c.members
    rejected(b.t, t_commit_lax(c, a, remove_apq_info=True), r"removes APQInfo.*§5\.1\.1")


def test_epoch_only_update_needs_existing_apq_info_section_5_1_1() -> None:
    """The first FULL commit MUST use full_update; the epoch-only form needs an existing APQInfo."""
    c = combined()
    a, b = c.members
    ups = [APQInfoUpdate.t_epoch(a.t.epoch + 1), APQInfoUpdate.pq_epoch(a.pq.epoch + 1)]
    data = t_commit_lax(c, a, ups, psks=[lax_apq_psk(c, a)])
    rejected(b.t, data, r"without an existing APQInfo.*§5\.1\.1")


@pytest.mark.parametrize("which", ["t_epoch", "pq_epoch"])
def test_wrong_epoch_rejected_section_5_1_1(which: str) -> None:
    """§5.1.1: the epochs of the APQInfo MUST be those of the new epochs; each session checks its own."""
    c = combined()
    a, b = c.members
    good = {"t_epoch": a.t.epoch + 1, "pq_epoch": a.pq.epoch + 1}
    bad = c.info(**{**good, which: good[which] + 1})
    if which == "t_epoch":
        data = t_commit_lax(c, a, [APQInfoUpdate.full(bad)], psks=[lax_apq_psk(c, a)])
        rejected(b.t, data, r"t_epoch is .*§5\.1\.1")
    else:
        use(a.pq, LAX)
        out = a.pq.commit(proposals=props([APQInfoUpdate.full(bad)]))
        a.pq.discard_pending_commit()
        rejected(b.pq, out.commit, r"pq_epoch is .*§5\.1\.1")


def test_apq_info_must_name_this_session_section_5_1() -> None:
    """An APQInfo whose group ids / suites do not name the receiving session is rejected (§5.1,
    §5.1.1: suites matching those of the new epochs)."""
    c = combined()
    a, b = c.members
    swapped = c.info(a.t.epoch + 1, a.pq.epoch + 1, t_session_group_id=PQ_GID, pq_session_group_id=T_GID)
    data = t_commit_lax(c, a, [APQInfoUpdate.full(swapped)], psks=[lax_apq_psk(c, a)])
    rejected(b.t, data, r"pq_cipher_suite is not the PQ session's suite.*§5\.1")


# ---- §5.2, §8.3: the key schedule link -----------------------------------------------------------


def _hkdf_expand(hash_name: str, prk: bytes, info: bytes, length: int) -> bytes:
    out, t, i = b"", b"", 1
    while len(out) < length:
        t = hmac.new(prk, t + info + bytes([i]), hash_name).digest()
        out, i = out + t, i + 1
    return out[:length]


def _vec(b: bytes) -> bytes:  # RFC 9420 §2.1.2 variable-size vector, short lengths
    assert len(b) < 64
    return bytes([len(b)]) + b


def _expand_with_label(hash_name: str, secret: bytes, label: bytes, context: bytes, length: int) -> bytes:
    info = length.to_bytes(2, "big") + _vec(b"MLS 1.0 " + label) + _vec(context)
    return _hkdf_expand(hash_name, secret, info, length)


def _derive_secret(hash_name: str, secret: bytes, label: bytes) -> bytes:
    return _expand_with_label(hash_name, secret, label, b"", hashlib.new(hash_name).digest_size)


def _safe_export_secret(hash_name: str, epoch_secret: bytes, component_id: int) -> bytes:
    """draft-ietf-mls-extensions §4.4 from its formulas, RFC 9420 tree math (Appendix C)."""
    n = hashlib.new(hash_name).digest_size
    secret = _derive_secret(hash_name, epoch_secret, b"application_export")
    x, leaf = (1 << 16) - 1, 2 * component_id
    while x != leaf:
        k = (~x & (x + 1)).bit_length() - 1  # level: trailing one bits
        left, right = x ^ (1 << (k - 1)), x ^ (3 << (k - 1))
        x, side = (left, b"left") if leaf < x else (right, b"right")
        secret = _expand_with_label(hash_name, secret, b"tree", side, n)
    return secret


HASH = {0x0001: "sha256", 0x0007: "sha384", 0xF006: "sha384", 0xF00A: "sha384", 0xF008: "sha384"}


@pytest.fixture
def epoch_secrets(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[GroupContext, EpochSecrets]]]:
    """Spy on the key schedule: every (new GroupContext, EpochSecrets) a commit derives."""
    seen: list[tuple[GroupContext, EpochSecrets]] = []

    def spy(suite: CipherSuite, init: bytes, commit_secret: bytes, psk: bytes | None, ctx: bytes) -> EpochSecrets:
        out = advance(suite, init, commit_secret, psk, ctx)
        seen.append((GroupContext.from_bytes(ctx), out))
        return out

    monkeypatch.setattr("mls_pq.group.commit.advance", spy)  # the key schedule of commits
    yield seen


@pytest.mark.parametrize(("t", "pq"), [(0x0001, 0xF006), (0x0007, 0xF008)])
def test_apq_exporter_independent_derivation_section_5_2(
    epoch_secrets: list[tuple[GroupContext, EpochSecrets]], t: int, pq: int
) -> None:
    """§5.2/§8.3: apq_exporter = SafeExportSecret(0x0006) of the PQ epoch (from its epoch_secret,
    PQ KDF, not the extension/exporter secret); apq_psk_id, apq_psk = DeriveSecret(apq_exporter,
    "psk_id"/"psk") with the T KDF; the T commit's PSK proposal is application(3), component
    0x0006, psk_id = apq_psk_id. Computed here from the drafts' formulas with hmac/hashlib."""
    c = combined(t, pq)
    a, b = c.members
    out = first_full(c)
    pq_new = [s for ctx, s in epoch_secrets if ctx.group_id == PQ_GID and ctx.epoch == a.pq.epoch]
    assert pq_new and all(s.epoch_secret == pq_new[0].epoch_secret for s in pq_new)  # committer and receiver
    exporter = _safe_export_secret(HASH[pq], pq_new[0].epoch_secret, APQ_COMPONENT_ID)
    assert exporter not in (pq_new[0].exporter_secret, pq_new[0].epoch_secret)
    th = HASH[t]
    assert out.psk_id == _derive_secret(th, exporter, b"psk_id")
    assert out.psk == _derive_secret(th, exporter, b"psk")
    assert len(out.psk_id) == c.t_suite.n_h
    # what the receiver injected and the PSK proposal on the wire
    assert b.t.application_psks[(APQ_COMPONENT_ID, out.psk_id)] == out.psk
    proposal = PreSharedKeyID(PSK_APPLICATION, b"", psk_id=out.psk_id, component_id=APQ_COMPONENT_ID).to_bytes()
    assert proposal[:-1] in out.t_commit  # psktype 3, component 0x0006, psk_id<V> (then the nonce)
    assert proposal[:3] == b"\x03\x00\x06"


def test_apq_exporter_consumed_section_5_2() -> None:
    """§5.2 "The apq_exporter MUST be deleted after both the apq_psk_id and the apq_psk were
    derived" — SafeExportSecret consumes it (extensions §4.4): a second export fails."""
    c = combined()
    first_full(c)
    a, b = c.members
    for g in (a.pq, b.pq):
        with pytest.raises(SecretConsumedError):
            g.safe_export_secret(APQ_COMPONENT_ID)


def test_missing_psk_proposal_rejected_section_5_2() -> None:
    """§5.2: a T commit that is part of a FULL commit (it updates APQInfo) MUST include the
    PreSharedKey proposal (application, component 0x0006)."""
    c = combined()
    first_full(c)
    a, b = c.members
    ups = [APQInfoUpdate.t_epoch(a.t.epoch + 1), APQInfoUpdate.pq_epoch(a.pq.epoch + 1)]
    rejected(b.t, t_commit_lax(c, a, ups), r"no PreSharedKey proposal.*§5\.2")
    # another component's application PSK does not count
    other = PreSharedKeyID.application(0x0007, b"x" * 32, os.urandom(32))
    a.t.application_psks[(0x0007, b"x" * 32)] = os.urandom(32)
    rejected(b.t, t_commit_lax(c, a, ups, psks=[other]), r"§5\.2")
    with pytest.raises(DraftValidationError, match=r"§5\.2"):
        full_commit(c, a, ups, with_psk=False)
    assert not a.t.has_pending_commit and not a.pq.has_pending_commit


def test_wrong_apq_psk_id_rejected_section_5_2() -> None:
    """A T commit whose application PSK is not the apq_psk of the PQ epoch fails the key schedule
    at the receiver (it has no such PSK): the PSK binds the T epoch to the PQ epoch."""
    c = combined()
    first_full(c)
    a, b = c.members
    ups = [APQInfoUpdate.t_epoch(a.t.epoch + 1), APQInfoUpdate.pq_epoch(a.pq.epoch + 1)]
    out = full_commit(c, a, ups, psk_id_override=os.urandom(c.t_suite.n_h))
    apply(b.pq, out.pq_commit)
    psk_id, psk = apq_psk_from_exporter(c.t_suite, b.pq.safe_export_secret(APQ_COMPONENT_ID))
    b.t.application_psks[(APQ_COMPONENT_ID, psk_id)] = psk
    assert psk_id != out.psk_id
    rejected(b.t, out.t_commit, r"PreSharedKey.*not available", ValidationError)


# ---- §7.1, §7.1.1, §7.1.2: suite classes -----------------------------------------------------


@pytest.mark.parametrize(
    ("t", "pq", "mode", "match"),
    [
        (0x0001, 0xF001, False, r"hybrid.*§7\.1\.1"),  # X25519+ML-KEM hybrid in the PQ session
        (0x0001, 0x0003, False, r"classical KEM.*§7\.1\.1"),  # two traditional suites
        (0x0001, 0x0001, False, r"same cipher suite.*§7\.1\)"),  # duplicate suite
        (0xF006, 0xF00A, False, r"not purely classical.*§7\.1\)"),  # PQ suite as the T session
        (0x0001, 0xF006, True, r"mode 1 needs a PQ signature.*§7\.1\.2"),  # Ed25519 PQ session in mode 1
    ],
    ids=["hybrid-kem", "classical-kem", "duplicate", "pq-as-t", "mode1-ed25519"],
)
def test_pq_session_suite_classes_section_7_1(t: int, pq: int, mode: bool, match: str) -> None:
    """§3 "PQ group MUST be instantiated with an approved PQ ciphersuite", §4/§4.2 mode 1 needs a
    PQ DSA, §7.1 invalid or duplicate suites rejected, §7.1.1 pure standardized PQ KEM only,
    §7.1.2 mode 1: standardized PQ signature. Both sessions' receivers and the committer reject."""
    c = combined(t, pq, mode)
    a, b = c.members
    info = c.info(a.t.epoch + 1, a.pq.epoch + 1)
    rejected(b.t, t_commit_lax(c, a, [APQInfoUpdate.full(info)], psks=[lax_apq_psk(c, a)]), match)
    use(a.pq, LAX)
    pq_commit = a.pq.commit(proposals=props([APQInfoUpdate.full(info)])).commit
    a.pq.discard_pending_commit()
    use(a.pq, REAL)
    rejected(b.pq, pq_commit, match)
    with pytest.raises(DraftValidationError, match=match):
        full_commit(c, a, [APQInfoUpdate.full(info)])


def test_valid_mode_1_session_section_4_2() -> None:
    """Mode 1 with an ML-DSA PQ suite is accepted and runs (§4.2, §7.1.2)."""
    c = combined(0x0001, 0xF00A, True)
    first_full(c)
    a, b = c.members
    info = apq_info(b.pq)
    assert info is not None and info.mode and info.pq_cipher_suite == 0xF00A
    assert a.pq.epoch_authenticator == b.pq.epoch_authenticator


# ---- §6 and draft-ietf-mls-extensions §5: wire formats ------------------------------------------


def test_required_wire_formats_section_6() -> None:
    """§6: both GroupContexts list apq_message_pair in required_wire_formats; extensions §5: a
    member that does not support it cannot be added to either session."""
    c = combined()
    a, _ = c.members
    for g in (a.t, a.pq):
        wf = wire_formats_of(g.group_context.extensions, cp.REQUIRED_WIRE_FORMATS)
        assert wf is not None and APQ_MESSAGE_PAIR in wf.wire_formats
    for g, suite in ((a.t, c.t_suite), (a.pq, c.pq_suite)):
        cl = Client.generate(suite, b"no-pairs")
        caps = default_capabilities(suite, cl.credential, extensions=CAPS_EXT, proposals=[cp.APP_DATA_UPDATE])
        kp, _ = cl.key_package(capabilities=caps, leaf_extensions=leaf_exts(wire_formats=()))
        with pytest.raises(DraftValidationError, match="required wire formats.*0x0007"):
            g.commit(add=[kp])
        assert not g.has_pending_commit


def test_pair_of_a_full_commit_reject_rules_section_6() -> None:
    """A real FULL commit pair round-trips; edits breaking a §6 rule are rejected on decoding."""
    c = combined()
    out = first_full(c)
    data = out.pair()
    pair = APQMessagePair.from_mls_message(data)
    assert pair.t_message.to_bytes() == out.t_commit and pair.pq_message.to_bytes() == out.pq_commit
    assert data[4:6] == int(WireFormat.PUBLIC_MESSAGE).to_bytes(2, "big")
    # the pair's wire_format says private, the messages are public
    with pytest.raises(DraftValidationError, match=r"t_message has wire format.*§6"):
        APQMessagePair.from_mls_message(data[:4] + b"\x00\x02" + data[6:])
    # apq_message_pair as the inner wire format
    with pytest.raises(DraftValidationError, match=r"apq_message_pair.*§6"):
        APQMessagePair.from_mls_message(data[:4] + b"\x00\x07" + data[6:])
    # an application message as one of the two: content type application (§6)
    a = c.members[0]
    app = MLSMessage.from_bytes(a.t.encrypt(b"hi"))
    priv = Writer().uint16(2).raw(app.to_bytes()).raw(app.to_bytes()).getvalue()
    with pytest.raises(DraftValidationError, match=r"content type application.*§6"):
        APQMessagePair.from_bytes(priv)


# ---- §3.2.1, §3.2.2, §3.3: joins and removals ------------------------------------------------------


def test_joiner_sees_apq_info_in_welcome_section_3_2_1() -> None:
    """§3.2.1: the APQInfo is in the GroupContext the Welcome carries (both sessions): a joiner of
    either session learns the other session's group id and suite."""
    c = combined()
    first_full(c)
    a, _ = c.members
    joined = []
    for g, suite in ((a.t, c.t_suite), (a.pq, c.pq_suite)):
        cl = Client.generate(suite, b"carol")
        caps = default_capabilities(suite, cl.credential, extensions=CAPS_EXT, proposals=[cp.APP_DATA_UPDATE])
        kp, bundle = cl.key_package(capabilities=caps, leaf_extensions=leaf_exts())
        if g is a.t:  # adds are FULL commits; here only the Welcome's content matters
            pid = lax_apq_psk(c, a)
            out = g.commit(add=[kp], psks=[pid])
        else:
            out = g.commit(add=[kp])
        g.merge_pending_commit()
        assert out.welcome is not None
        joined.append(Group.join(out.welcome, bundle, application_psks=dict(a.t.application_psks)))
    infos = [apq_info(g) for g in joined]
    assert infos[0] is not None and infos[0].immutable_fields() == c.info(0, 0).immutable_fields()
    assert infos[1] is not None and infos[1].immutable_fields() == infos[0].immutable_fields()


def test_receiver_without_combiner_rejects_section_ext_4_7() -> None:
    """extensions §4.7: an AppDataUpdate for a component unknown to the application is invalid —
    a client that does not run the combiner cannot silently accept APQInfo updates."""
    c = combined()
    a, b = c.members
    use(b.t, ComponentRegistry())
    info = c.info(a.t.epoch + 1, a.pq.epoch + 1)
    rejected(b.t, t_commit_lax(c, a, [APQInfoUpdate.full(info)], psks=[lax_apq_psk(c, a)]),
             r"unknown to the application.*§4\.7")


# ---- the combined group object (APQGroup): cross-session rules ------------------------------------


def apq_pair() -> tuple[APQGroup, APQGroup]:
    """alice and bob in a combined group (0x0001 + 0xF006), bob's first FULL commit done."""
    a = APQGroup.create(APQClient.generate(0x0001, 0xF006, b"alice"))
    kp, bundle = APQClient.generate(0x0001, 0xF006, b"bob").key_packages()
    out = a.commit(True, add=[kp])
    a.merge_pending_commit()
    assert out.welcome is not None
    b = APQGroup.join(out.welcome, bundle)
    first = b.commit(True)
    b.merge_pending_commit()
    a.process(first.commit)
    return a, b


def snapshot(g: APQGroup) -> tuple[bytes, bytes]:
    return g.t.to_bytes(), g.pq.to_bytes()


def crafted_full(g: APQGroup, *, t_kw: dict[str, object] | None = None, pq_kw: dict[str, object] | None = None,
                 t_ups: Sequence[APQInfoUpdate] | None = None, pq_ups: Sequence[APQInfoUpdate] | None = None) -> bytes:
    """A FULL commit pair built from ``g``'s two sessions directly (bypassing APQGroup's sender
    checks; each session's component handler still applies), then discarded by ``g``."""
    te, pe = g.t.epoch + 1, g.pq.epoch + 1
    ups = [APQInfoUpdate.t_epoch(te), APQInfoUpdate.pq_epoch(pe)]
    pq_out = g.pq.commit(proposals=props(ups if pq_ups is None else pq_ups), **(pq_kw or {}))  # type: ignore[arg-type]
    psk_id, psk = apq_psk_from_exporter(g.t.suite, g.pq.pending_safe_export_secret(APQ_COMPONENT_ID))
    g.t.application_psks[(APQ_COMPONENT_ID, psk_id)] = psk
    t_out = g.t.commit(psks=[apq_psk_id(psk_id, os.urandom(g.t.suite.n_h))],
                       proposals=props(ups if t_ups is None else t_ups), **(t_kw or {}))  # type: ignore[arg-type]
    g.t.discard_pending_commit()
    g.pq.discard_pending_commit()
    return APQMessagePair.of(MLSMessage.from_bytes(t_out.commit), MLSMessage.from_bytes(pq_out.commit)).to_mls_message()


def rejected_apq(g: APQGroup, data: bytes, match: str, exc: type[Exception] = DraftValidationError) -> None:
    """``g`` rejects ``data`` and neither session changes (byte for byte)."""
    before = snapshot(g)
    with pytest.raises(exc, match=match):
        g.process(data)
    assert snapshot(g) == before


def test_membership_divergence_rejected_section_3_2_1_and_3_3() -> None:
    """§3.2.1/§3.3 "Members MUST verify group membership is consistent in both sessions after a
    join / a removal": a FULL commit adding (or removing) in one session only is rejected."""
    a, b = apq_pair()
    kp, _ = APQClient.generate(0x0001, 0xF006, b"carol").key_packages()
    rejected_apq(b, crafted_full(a, t_kw={"add": [kp.t]}), r"memberships differ.*§3\.2\.1")
    rejected_apq(b, crafted_full(a, pq_kw={"add": [kp.pq]}), r"memberships differ.*§3\.2\.1")
    a2, b2 = apq_pair()
    kp_c, _ = APQClient.generate(0x0001, 0xF006, b"carol").key_packages()
    out = a2.commit(True, add=[kp_c])
    a2.merge_pending_commit()
    b2.process(out.commit)
    # remove carol from the T session only; then remove carol (T) but bob (PQ)
    carol_t = next(m.leaf_index for m in a2.t.members() if m.credential.identity == b"carol")
    bob_pq = next(m.leaf_index for m in a2.pq.members() if m.credential.identity == b"bob")
    carol_pq = next(m.leaf_index for m in a2.pq.members() if m.credential.identity == b"carol")
    rejected_apq(b2, crafted_full(a2, t_kw={"remove": [carol_t]}), r"memberships differ.*§3\.2\.1")
    assert carol_pq != bob_pq
    before = snapshot(b2)
    with pytest.raises(MLSError):  # bob removed from the PQ session: b2 cannot follow it at all
        b2.process(crafted_full(a2, t_kw={"remove": [carol_t]}, pq_kw={"remove": [bob_pq]}))
    assert snapshot(b2) == before


def test_epochs_mismatch_after_full_rejected_section_5_1_2() -> None:
    """§5.1.1/§5.1.2: after a FULL commit both APQInfos match and carry both new epochs. Each
    session's handler checks only its own epoch; the combined group checks the other one."""
    a, b = apq_pair()
    te, pe = a.t.epoch + 1, a.pq.epoch + 1
    wrong_pq = [APQInfoUpdate.t_epoch(te), APQInfoUpdate.pq_epoch(pe + 5)]  # T session: other epoch wrong
    rejected_apq(b, crafted_full(a, t_ups=wrong_pq), r"§5\.1\.[12]")
    wrong_t = [APQInfoUpdate.t_epoch(te + 5), APQInfoUpdate.pq_epoch(pe)]  # PQ session: other epoch wrong
    rejected_apq(b, crafted_full(a, pq_ups=wrong_t), r"§5\.1\.[12]")
    # the PQ half does not update APQInfo at all: "MUST be updated in both groups" (§5.1.2)
    rejected_apq(b, crafted_full(a, pq_ups=[]), r"§5\.1\.[12]")


def test_pair_rules_through_process_section_6() -> None:
    """§6 reject rules on received bytes: inner wire formats differing from the pair's,
    apq_message_pair as the pair's wire format, application content; none changes a session."""
    a, b = apq_pair()
    good = a.commit(True)
    data = good.commit
    for bad, match in (
        (data[:4] + b"\x00\x02" + data[6:], r"wire format.*§6"),
        (data[:4] + b"\x00\x07" + data[6:], r"apq_message_pair.*§6"),
    ):
        rejected_apq(b, bad, match)
    a.discard_pending_commit()
    app_t = a.encrypt(b"one")
    app_t2 = a.encrypt(b"two")
    pair = Writer().uint16(1).uint16(7).uint16(2).raw(app_t).raw(app_t2).getvalue()
    rejected_apq(b, pair, r"content type application.*§6")


def test_welcome_pair_apq_info_mismatch_rejected_section_3_2_1() -> None:
    """§3.2.1/§5.1.2: a joiner validates that the APQInfos of both sessions match: here the T
    session records mode 0 and the PQ session mode 1 (each valid alone)."""
    c = combined(0x0001, 0xF00A, False)
    a, _ = c.members
    t_info = c.info(a.t.epoch + 1, a.pq.epoch + 1)
    pq_info = c.info(a.t.epoch + 1, a.pq.epoch + 1, mode=True)
    full_commit(c, a, [APQInfoUpdate.full(t_info)], [APQInfoUpdate.full(pq_info)])
    joiner = APQClient.generate(0x0001, 0xF00A, b"joiner")
    kp, bundle = joiner.key_packages()
    pq_out = a.pq.commit(add=[kp.pq])
    psk_id, psk = apq_psk_from_exporter(c.t_suite, a.pq.pending_safe_export_secret(APQ_COMPONENT_ID))
    a.t.application_psks[(APQ_COMPONENT_ID, psk_id)] = psk
    t_out = a.t.commit(add=[kp.t], psks=[apq_psk_id(psk_id, os.urandom(32))],
                       proposals=props([APQInfoUpdate.t_epoch(a.t.epoch + 1), APQInfoUpdate.pq_epoch(a.pq.epoch + 1)]))
    assert t_out.welcome is not None and pq_out.welcome is not None
    welcome = APQMessagePair(int(WireFormat.WELCOME), MLSMessage.from_bytes(t_out.welcome),
                             MLSMessage.from_bytes(pq_out.welcome)).to_mls_message()
    with pytest.raises(DraftValidationError, match=r"APQInfos of the two sessions differ|§5\.1\.[12]"):
        APQGroup.join(welcome, bundle)


def test_welcome_pair_without_apq_info_or_wire_formats_rejected_section_3_2_1_and_6() -> None:
    """§3.2.1: APQInfo MUST be in the GroupContext the Welcome carries; §6: required_wire_formats
    MUST list apq_message_pair. A Welcome pair of two plain sessions is rejected on both counts."""
    joiner = APQClient.generate(0x0001, 0xF006, b"joiner")
    kp, bundle = joiner.key_packages()
    welcomes = []
    for suite, gid, key in ((0x0001, b"plain-t", kp.t), (0xF006, b"plain-pq", kp.pq)):
        cl = Client.generate(suite, b"alice")
        caps = default_capabilities(get_suite(suite), cl.credential, extensions=CAPS_EXT, proposals=[cp.APP_DATA_UPDATE])
        g = Group.create(suite, gid, cl.credential, cl.signature_priv, capabilities=caps, leaf_extensions=leaf_exts())
        out = g.commit(add=[key])
        assert out.welcome is not None
        welcomes.append(MLSMessage.from_bytes(out.welcome))
    welcome = APQMessagePair(int(WireFormat.WELCOME), welcomes[0], welcomes[1]).to_mls_message()
    with pytest.raises(DraftValidationError, match=r"APQInfo|required_wire_formats"):
        APQGroup.join(welcome, bundle)


# ---- §3.2.2: external joins -------------------------------------------------------------------------


def external_pair(a: APQGroup, joiner: APQClient, *, t_psk: bool = True, t_updates: bool = True,
                  pq_updates: bool = True) -> bytes:
    """The two external commits of ``joiner`` from ``a``'s GroupInfo pair, built with a lax
    handler (so that the joiner's own side does not refuse a broken pair)."""
    from mls_pq.apq.client import session_capabilities, session_leaf_extensions
    from mls_pq.group.config import GroupConfig
    from mls_pq.messages.welcome import GroupInfo

    gi = APQMessagePair.from_mls_message(a.group_info())
    t_gi, pq_gi = gi.t_message.body, gi.pq_message.body
    assert isinstance(t_gi, GroupInfo) and isinstance(pq_gi, GroupInfo)
    ups = [AppDataUpdate.make_update(APQ_COMPONENT_ID, u.to_bytes()) for u in
           (APQInfoUpdate.t_epoch(t_gi.group_context.epoch + 1), APQInfoUpdate.pq_epoch(pq_gi.group_context.epoch + 1))]
    cfg = GroupConfig(components=LAX)
    exts = session_leaf_extensions(REAL)
    pq, pq_commit = Group.join_external(
        gi.pq_message.to_bytes(), joiner.pq.credential, joiner.pq.signature_priv, config=cfg,
        capabilities=session_capabilities(joiner.pq), leaf_extensions=exts, app_data_updates=ups if pq_updates else ())
    psk_id, psk = apq_psk_from_exporter(a.t.suite, pq.safe_export_secret(APQ_COMPONENT_ID))
    _, t_commit = Group.join_external(
        gi.t_message.to_bytes(), joiner.t.credential, joiner.t.signature_priv, config=cfg,
        capabilities=session_capabilities(joiner.t), leaf_extensions=exts,
        psks=[apq_psk_id(psk_id, os.urandom(a.t.suite.n_h))] if t_psk else [],
        app_data_updates=ups if t_updates else (), application_psks={(APQ_COMPONENT_ID, psk_id): psk})
    return APQMessagePair.of(MLSMessage.from_bytes(t_commit), MLSMessage.from_bytes(pq_commit)).to_mls_message()


def test_external_join_accepted_section_3_2_2() -> None:
    """The well-formed pair (PQ external commit, apq_psk, T external commit with the PSK
    proposal, both updating APQInfo) is accepted: the reference for the negative tests below."""
    a, b = apq_pair()
    dave = APQClient.generate(0x0001, 0xF006, b"dave")
    res = b.process(external_pair(a, dave))
    assert res.full and b"dave" in b.members()
    info = apq_info(b.t)
    assert info is not None and (info.t_epoch, info.pq_epoch) == b.epochs


def test_external_commit_without_apq_psk_rejected_section_3_2_2() -> None:
    """§3.2.2: the traditional external commit "MUST include a PreSharedKey proposal with
    psk_type = application, component_id = 0x0006 and psk_id = apq_psk_id"."""
    a, b = apq_pair()
    dave = APQClient.generate(0x0001, 0xF006, b"dave")
    rejected_apq(b, external_pair(a, dave, t_psk=False), r"no PreSharedKey proposal.*§5\.2")
    # the compliant joiner cannot build it either
    with pytest.raises(DraftValidationError, match=r"§5\.2"):
        external_pair_strict(a, dave)


def external_pair_strict(a: APQGroup, joiner: APQClient) -> None:
    """The T external commit without the PSK, built with the real handler (refused)."""
    from mls_pq.apq.client import session_capabilities, session_leaf_extensions
    from mls_pq.group.config import GroupConfig
    from mls_pq.messages.welcome import GroupInfo

    gi = APQMessagePair.from_mls_message(a.group_info())
    t_gi = gi.t_message.body
    assert isinstance(t_gi, GroupInfo)
    ups = [AppDataUpdate.make_update(APQ_COMPONENT_ID, u.to_bytes()) for u in
           (APQInfoUpdate.t_epoch(t_gi.group_context.epoch + 1), APQInfoUpdate.pq_epoch(a.pq.epoch + 1))]
    Group.join_external(gi.t_message.to_bytes(), joiner.t.credential, joiner.t.signature_priv,
                        config=GroupConfig(components=REAL), capabilities=session_capabilities(joiner.t),
                        leaf_extensions=session_leaf_extensions(REAL), app_data_updates=ups)


@pytest.mark.parametrize("half", ["t", "pq"])
def test_external_commit_updates_apq_info_section_3_2_2(half: str) -> None:
    """§3.2.2 "Both external Commits MUST include the AppDataUpdate proposals updating the APQInfo
    struct": a pair where one external commit leaves APQInfo alone is rejected (the two
    sessions' APQInfos then differ, §5.1.2)."""
    a, b = apq_pair()
    dave = APQClient.generate(0x0001, 0xF006, b"dave")
    kw = {"t_updates": False} if half == "t" else {"pq_updates": False}
    rejected_apq(b, external_pair(a, dave, **kw), r"§5\.1\.[12]")


def test_external_join_needs_apq_info_in_group_info_section_3_2_2() -> None:
    """§3.2.2 "the GroupInfo used to create each external Commit MUST contain the APQInfo
    struct": a GroupInfo pair of two plain sessions is refused by the joiner."""
    infos = []
    for suite, gid in ((0x0001, b"plain-t"), (0xF006, b"plain-pq")):
        cl = Client.generate(suite, b"alice")
        g = Group.create(suite, gid, cl.credential, cl.signature_priv)
        infos.append(MLSMessage.from_bytes(g.group_info(ratchet_tree=True, external_pub=True)))
    pair = APQMessagePair(int(WireFormat.GROUP_INFO), infos[0], infos[1]).to_mls_message()
    with pytest.raises(DraftValidationError, match=r"MUST contain APQInfo.*§3\.2\.2"):
        APQGroup.join_external(pair, APQClient.generate(0x0001, 0xF006, b"dave"))


def test_required_wire_formats_cannot_be_dropped_section_6() -> None:
    """§6: both GroupContexts MUST keep listing apq_message_pair in required_wire_formats: a
    PARTIAL commit whose GroupContextExtensions drops it is rejected by the combined group."""
    a, b = apq_pair()
    exts = [e for e in a.t.group_context.extensions if e.extension_type != cp.REQUIRED_WIRE_FORMATS]
    assert len(exts) == len(a.t.group_context.extensions) - 1
    out = a.t.commit(group_context_extensions=exts)
    a.t.discard_pending_commit()
    rejected_apq(b, out.commit, r"required_wire_formats.*§6")


def test_joiner_first_commit_must_be_full_section_3_2() -> None:
    """§3.2/§3.2.1: "The joiner MUST issue a FULL Commit as soon as possible after joining"."""
    a = APQGroup.create(APQClient.generate(0x0001, 0xF006, b"alice"))
    kp, bundle = APQClient.generate(0x0001, 0xF006, b"bob").key_packages()
    out = a.commit(True, add=[kp])
    a.merge_pending_commit()
    assert out.welcome is not None
    b = APQGroup.join(out.welcome, bundle)
    with pytest.raises(StateError, match=r"first commit must be a FULL commit.*§3\.2"):
        b.commit(False)
    assert not b.has_pending_commit
    a.process(b.commit(True).commit)
    b.merge_pending_commit()
    assert a.t.epoch_authenticator == b.t.epoch_authenticator


@pytest.mark.parametrize("only", ["t_epoch", "pq_epoch"])
def test_epoch_form_needs_both_updates_section_5_1_1(only: str) -> None:
    """§5.1.1 "A Commit can include either a single AppDataUpdate with a full_update or two
    proposals; one with new_t_epoch and one with new_pq_epoch": one epoch update alone is rejected."""
    c = combined()
    first_full(c)
    a, b = c.members
    up = APQInfoUpdate.t_epoch(a.t.epoch + 1) if only == "t_epoch" else APQInfoUpdate.pq_epoch(a.pq.epoch + 1)
    rejected(b.t, t_commit_lax(c, a, [up], psks=[lax_apq_psk(c, a)]), r"one full_update or one new_t_epoch.*§5\.1\.1")


def test_components_advertised_and_required_section_ext_4_6_and_5() -> None:
    """extensions §4.6: a leaf advertising app_data_dictionary advertises app_components; §5: the
    combined group requires component 0x0006, so a KeyPackage not supporting it cannot be added."""
    from mls_pq.components import required_components
    from mls_pq.messages.app_data import components_list_of

    a, _ = apq_pair()
    for g in (a.t, a.pq):
        assert APQ_COMPONENT_ID in required_components(g.group_context.extensions)
        leaf = g.state.own_leaf
        cl = components_list_of(app_data_dictionary_of(leaf.extensions))
        assert cl is not None and {cp.COMPONENT_APP_COMPONENTS, APQ_COMPONENT_ID} <= set(cl.component_ids)
    cl_ = Client.generate(0x0001, b"no-combiner")
    caps = default_capabilities(get_suite(0x0001), cl_.credential, extensions=CAPS_EXT, proposals=[cp.APP_DATA_UPDATE])
    no_apq = [WireFormats((APQ_MESSAGE_PAIR,)).supported_extension(), leaf_app_data_extension(ComponentRegistry())]
    kp, _ = cl_.key_package(capabilities=caps, leaf_extensions=no_apq)
    with pytest.raises(DraftValidationError, match=r"required components.*0x0006"):
        a.t.commit(add=[kp])
    assert not a.t.has_pending_commit


@pytest.mark.parametrize(
    ("kem", "sig", "mode", "match"),
    [
        ("FrodoKEM-640-SHAKE", "ed25519", False, r"hybrid or non-standardized KEM.*§7\.1\.1"),
        ("ML-KEM-768", "mldsa44-ed25519-composite", True, r"mode 1 needs a PQ signature.*§7\.1\.2"),
        ("ML-KEM-768", "falcon512", False, r"non-standardized scheme.*§7\.1\.2"),
    ],
    ids=["experimental-kem", "hybrid-signature-mode1", "experimental-signature-mode0"],
)
def test_experimental_or_hybrid_primitives_rejected_section_7_1_1_and_7_1_2(
    kem: str, sig: str, mode: bool, match: str
) -> None:
    """§7.1.1 "experimental, non-standardized, or hybrid KEMs" and §7.1.2 "experimental,
    non-standardized, or hybrid signature algorithms" in the PQ session MUST be rejected: no
    such suite is registered, so a suite an application might register is classified by its
    primitives' names (here stand-ins) and rejected."""
    from types import SimpleNamespace

    from mls_pq.apq.suites import check_suite_pair

    fake = SimpleNamespace(id=0xFFF0, name="experimental", kem=SimpleNamespace(name=kem),
                           signature=SimpleNamespace(name=sig))

    def get(i: int) -> object:
        return fake if i == 0xFFF0 else get_suite(i)

    with pytest.raises(DraftValidationError, match=match):
        check_suite_pair(0x0001, 0xFFF0, mode, get=get)  # type: ignore[arg-type]


def test_joiner_checks_membership_consistency_section_3_2_1() -> None:
    """§3.2.1 "All members MUST verify group membership is consistent in both sessions after a
    join": a Welcome pair into a T session of three members and a PQ session of two is refused."""
    c = Combined(get_suite(0x0001), get_suite(0xF006), False)
    c.members = [Member(t, pq) for t, pq in zip(session(c.t_suite, T_GID, 3), session(c.pq_suite, PQ_GID, 2))]
    a = c.members[0]
    full_commit(c, a, [APQInfoUpdate.full(c.info(a.t.epoch + 1, a.pq.epoch + 1))])
    kp, bundle = APQClient.generate(0x0001, 0xF006, b"joiner").key_packages()
    pq_out = a.pq.commit(add=[kp.pq], proposals=props([APQInfoUpdate.t_epoch(a.t.epoch + 1),
                                                        APQInfoUpdate.pq_epoch(a.pq.epoch + 1)]))
    psk_id, psk = apq_psk_from_exporter(c.t_suite, a.pq.pending_safe_export_secret(APQ_COMPONENT_ID))
    a.t.application_psks[(APQ_COMPONENT_ID, psk_id)] = psk
    t_out = a.t.commit(add=[kp.t], psks=[apq_psk_id(psk_id, os.urandom(32))],
                       proposals=props([APQInfoUpdate.t_epoch(a.t.epoch + 1), APQInfoUpdate.pq_epoch(a.pq.epoch + 1)]))
    assert t_out.welcome is not None and pq_out.welcome is not None
    welcome = APQMessagePair(int(WireFormat.WELCOME), MLSMessage.from_bytes(t_out.welcome),
                             MLSMessage.from_bytes(pq_out.welcome)).to_mls_message()
    with pytest.raises(DraftValidationError, match=r"memberships differ.*§3\.2\.1"):
        APQGroup.join(welcome, bundle)
