"""Smoke test of the foundation the APQGroup will stand on: two members run a traditional and a
PQ session side by side and perform FULL commits by hand (draft-ietf-mls-combiner §3.1, §5.1.1,
§5.2, §6) with the engine's generic extension machinery (draft-ietf-mls-extensions)."""

from __future__ import annotations

import os

from mls_pq import ext_codepoints as cp
from mls_pq.apq.component import APQInfoHandler
from mls_pq.apq.key_schedule import apq_psk_from_exporter, apq_psk_id
from mls_pq.apq.structs import APQ_COMPONENT_ID, APQ_MESSAGE_PAIR, APQInfo, APQInfoUpdate, APQMessagePair
from mls_pq.apq.suites import suite_policy
from mls_pq.client import Client, default_capabilities
from mls_pq.components import ComponentRegistry, leaf_app_data_extension
from mls_pq.group import Group, GroupConfig
from mls_pq.messages.app_data import AppDataUpdate, ComponentsList, WireFormats, app_data_dictionary_of
from mls_pq.messages.framing_structs import MLSMessage
from mls_pq.messages.proposals import Proposal
from mls_pq.suites import CipherSuite, get_suite
from tests.group._helpers import apply

T, PQ = get_suite(0x0001), get_suite(0xF006)
REG = ComponentRegistry({APQ_COMPONENT_ID: APQInfoHandler(suite_policy)})
CAPS_EXT = [cp.APP_DATA_DICTIONARY, cp.SUPPORTED_WIRE_FORMATS, cp.REQUIRED_WIRE_FORMATS]
LEAF_EXTS = [WireFormats((APQ_MESSAGE_PAIR,)).supported_extension(), leaf_app_data_extension(REG)]
GROUP_EXTS = [WireFormats((APQ_MESSAGE_PAIR,)).required_extension()]  # §6: MUST list apq_message_pair


def session(suite: CipherSuite, gid: bytes, names: list[bytes]) -> list[Group]:
    clients = [Client.generate(suite, n) for n in names]
    caps = [default_capabilities(suite, c.credential, extensions=CAPS_EXT, proposals=[cp.APP_DATA_UPDATE]) for c in clients]
    first = Group.create(suite, gid, clients[0].credential, clients[0].signature_priv, capabilities=caps[0],
                         extensions=GROUP_EXTS, leaf_extensions=LEAF_EXTS, config=GroupConfig(components=REG))
    kps = [c.key_package(capabilities=cp_, leaf_extensions=LEAF_EXTS) for c, cp_ in zip(clients[1:], caps[1:])]
    out = first.commit(add=[kp for kp, _ in kps])
    first.merge_pending_commit()
    assert out.welcome is not None
    return [first, *(Group.join(out.welcome, b, config=GroupConfig(components=REG)) for _, b in kps)]


def full_commit(t: Group, pq: Group, update: APQInfoUpdate | list[APQInfoUpdate]) -> bytes:
    """The committer's side of a FULL commit: PQ commit, apq_psk from its new epoch, T commit
    with the application PSK proposal, both in one APQMessagePair."""
    ups = update if isinstance(update, list) else [update]
    props = [Proposal(AppDataUpdate.make_update(APQ_COMPONENT_ID, u.to_bytes())) for u in ups]
    pq_out = pq.commit(proposals=props)
    psk_id, psk = apq_psk_from_exporter(T, pq.pending_safe_export_secret(APQ_COMPONENT_ID))
    t.application_psks[(APQ_COMPONENT_ID, psk_id)] = psk
    t_out = t.commit(psks=[apq_psk_id(psk_id, os.urandom(T.n_h))], proposals=props)
    pq.merge_pending_commit()
    t.merge_pending_commit()
    return APQMessagePair.of(MLSMessage.from_bytes(t_out.commit), MLSMessage.from_bytes(pq_out.commit)).to_mls_message()


def receive(t: Group, pq: Group, data: bytes) -> None:
    pair = APQMessagePair.from_mls_message(data)
    apply(pq, pair.pq_message.to_bytes())
    psk_id, psk = apq_psk_from_exporter(T, pq.safe_export_secret(APQ_COMPONENT_ID))
    t.application_psks[(APQ_COMPONENT_ID, psk_id)] = psk
    apply(t, pair.t_message.to_bytes())


def apq_info(g: Group) -> APQInfo:
    d = app_data_dictionary_of(g.group_context.extensions)
    assert d is not None
    return APQInfo.from_bytes(d.get(APQ_COMPONENT_ID) or b"")


def test_full_and_partial_commits_by_hand() -> None:
    ts = session(T, b"t-session", [b"alice", b"bob"])
    pqs = session(PQ, b"pq-session", [b"alice", b"bob"])
    (ta, tb), (pa, pb) = ts, pqs
    first = APQInfo(b"t-session", b"pq-session", False, T.id, PQ.id, ta.epoch + 1, pa.epoch + 1)
    receive(tb, pb, full_commit(ta, pa, APQInfoUpdate.full(first)))
    for g in (ta, tb, pa, pb):
        assert apq_info(g) == first  # §5.1.2: both sessions agree
    assert (ta.epoch, pa.epoch) == (first.t_epoch, first.pq_epoch)
    assert ta.epoch_authenticator == tb.epoch_authenticator and pa.epoch_authenticator == pb.epoch_authenticator
    # PARTIAL commits: the traditional session only; APQInfo unchanged
    for committer, other in ((tb, ta), (ta, tb)):
        out = committer.commit()
        committer.merge_pending_commit()
        apply(other, out.commit)
    assert apq_info(ta) == first and ta.epoch == first.t_epoch + 2
    # second FULL commit with the epoch-only updates (§5.1.1), from bob
    data = full_commit(tb, pb, [APQInfoUpdate.t_epoch(tb.epoch + 1), APQInfoUpdate.pq_epoch(pb.epoch + 1)])
    receive(ta, pa, data)
    info = apq_info(ta)
    assert info == apq_info(tb) == apq_info(pa) == apq_info(pb)
    assert (info.t_epoch, info.pq_epoch) == (ta.epoch, pa.epoch)
    assert ta.epoch_authenticator == tb.epoch_authenticator and pa.epoch_authenticator == pb.epoch_authenticator
    assert ComponentsList((1, APQ_COMPONENT_ID)) == REG.supported_components()
