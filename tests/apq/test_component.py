"""The apq_mls_info component handler: APQInfo update rules of draft-ietf-mls-combiner §5.1.1
for one session, on the component registry of draft-ietf-mls-extensions §4.7."""

from __future__ import annotations

import pytest

from mls_pq.apq.component import APQInfoHandler, session_side
from mls_pq.apq.structs import APQ_COMPONENT_ID, APQInfo, APQInfoUpdate
from mls_pq.components import ComponentRegistry, UpdateContext, apply_app_data_updates
from mls_pq.errors import DecodeError, DraftValidationError, ValidationError
from mls_pq.messages.app_data import AppDataUpdate, app_data_dictionary_of
from mls_pq.psk import PreSharedKeyID

T_GID, PQ_GID = b"t-session", b"pq-session"
INFO = APQInfo(T_GID, PQ_GID, False, 0x0001, 0xF006, 1, 1)
# the traditional session at epoch 4 (next epoch 5); the PQ session at epoch 2 (next 3)
# a traditional commit updating APQInfo injects the apq_psk (§5.2)
APQ_PSK = (PreSharedKeyID.application(APQ_COMPONENT_ID, b"\x01" * 32, b"\x02" * 32),)
T_CTX = UpdateContext(T_GID, 4, 0x0001, psks=APQ_PSK)
PQ_CTX = UpdateContext(PQ_GID, 2, 0xF006)
H = APQInfoHandler()


def full(**kw: object) -> bytes:
    fields = {**INFO.__dict__, "t_epoch": 5, "pq_epoch": 3, **kw}
    return APQInfoUpdate.full(APQInfo(**fields)).to_bytes()


def test_first_full_update_section_5_1_1() -> None:
    out = APQInfo.from_bytes(H.apply_updates(None, [full()], T_CTX))
    assert (out.t_epoch, out.pq_epoch) == (5, 3)
    assert APQInfo.from_bytes(H.apply_updates(None, [full()], PQ_CTX)) == out


def test_epoch_updates_section_5_1_1() -> None:
    ups = [APQInfoUpdate.pq_epoch(3).to_bytes(), APQInfoUpdate.t_epoch(5).to_bytes()]  # any order
    out = APQInfo.from_bytes(H.apply_updates(INFO.to_bytes(), ups, T_CTX))
    assert out == APQInfo(T_GID, PQ_GID, False, 0x0001, 0xF006, 5, 3)


def test_epoch_updates_need_existing_apq_info_section_5_1_1() -> None:
    ups = [APQInfoUpdate.t_epoch(5).to_bytes(), APQInfoUpdate.pq_epoch(3).to_bytes()]
    with pytest.raises(DraftValidationError, match="without an existing APQInfo.*combiner §5.1.1"):
        H.apply_updates(None, ups, T_CTX)


@pytest.mark.parametrize(
    "ups",
    [
        [APQInfoUpdate.t_epoch(5)],
        [APQInfoUpdate.t_epoch(5), APQInfoUpdate.t_epoch(5)],
        [APQInfoUpdate.t_epoch(5), APQInfoUpdate.pq_epoch(3), APQInfoUpdate.pq_epoch(3)],
        [APQInfoUpdate.full(INFO), APQInfoUpdate.t_epoch(5)],
        [APQInfoUpdate.full(INFO), APQInfoUpdate.full(INFO)],
    ],
)
def test_only_one_full_or_the_two_epochs_section_5_1_1(ups: list[APQInfoUpdate]) -> None:
    with pytest.raises(DraftValidationError, match="combiner §5.1.1"):
        H.apply_updates(INFO.to_bytes(), [u.to_bytes() for u in ups], T_CTX)


@pytest.mark.parametrize(
    "change",
    [
        {"t_session_group_id": b"other"},
        {"pq_session_group_id": b"other"},
        {"mode": True},
        {"t_cipher_suite": 0x0003},
        {"pq_cipher_suite": 0xF007},
    ],
)
def test_full_update_cannot_change_immutable_fields_section_5_1_1(change: dict[str, object]) -> None:
    with pytest.raises(DraftValidationError, match="other than the two epochs.*§5.1.1"):
        H.apply_updates(INFO.to_bytes(), [full(**change)], T_CTX)
    # the same full_update as the first APQInfo is fine as far as immutability goes
    assert H.apply_updates(INFO.to_bytes(), [full()], T_CTX)


def test_own_epoch_must_be_the_new_epoch_section_5_1_1() -> None:
    with pytest.raises(DraftValidationError, match="t_epoch is 4.*epoch 5.*§5.1.1"):
        H.apply_updates(None, [full(t_epoch=4)], T_CTX)
    with pytest.raises(DraftValidationError, match="pq_epoch is 9.*epoch 3.*§5.1.1"):
        H.apply_updates(None, [full(pq_epoch=9)], PQ_CTX)
    ups = [APQInfoUpdate.t_epoch(6).to_bytes(), APQInfoUpdate.pq_epoch(3).to_bytes()]
    with pytest.raises(DraftValidationError, match="§5.1.1"):
        H.apply_updates(INFO.to_bytes(), ups, T_CTX)


def test_apq_info_must_name_this_session_section_5_1() -> None:
    assert session_side(INFO, T_CTX) == "t" and session_side(INFO, PQ_CTX) == "pq"
    with pytest.raises(DraftValidationError, match="either session.*§5.1"):
        H.validate(INFO.to_bytes(), UpdateContext(b"third", 0, 1))
    with pytest.raises(DraftValidationError, match="t_cipher_suite.*§5.1"):
        H.validate(INFO.to_bytes(), UpdateContext(T_GID, 0, 0x0002))
    with pytest.raises(DraftValidationError, match="pq_cipher_suite.*§5.1"):
        H.validate(INFO.to_bytes(), UpdateContext(PQ_GID, 0, 0x0001))
    same = APQInfo(T_GID, T_GID, False, 1, 0xF006, 0, 0)
    with pytest.raises(DraftValidationError, match="same group id.*§5.1"):
        H.validate(same.to_bytes(), T_CTX)


def test_traditional_full_update_needs_the_apq_psk_section_5_2() -> None:
    bare = UpdateContext(T_GID, 4, 0x0001)
    with pytest.raises(DraftValidationError, match="no PreSharedKey proposal.*§5.2"):
        H.apply_updates(None, [full()], bare)
    other = (PreSharedKeyID.application(0x0007, b"x", b"n"), PreSharedKeyID.external(b"x", b"n"))
    with pytest.raises(DraftValidationError, match="§5.2"):
        H.apply_updates(None, [full()], UpdateContext(T_GID, 4, 0x0001, psks=other))
    assert H.apply_updates(None, [full()], PQ_CTX)  # the PQ half injects no PSK


def test_malformed_payloads_are_typed_errors() -> None:
    with pytest.raises(DecodeError):
        H.apply_updates(None, [b"\x00\x01"], T_CTX)
    with pytest.raises(DraftValidationError, match="malformed APQInfo.*§5.1"):
        H.validate(b"\x01", T_CTX)


def test_suite_policy_hook_section_7_1() -> None:
    def policy(info: APQInfo) -> None:
        if info.mode:
            raise ValidationError("mode 1 needs an ML-DSA PQ suite")

    h = APQInfoHandler(policy)
    h.validate(INFO.to_bytes(), T_CTX)
    with pytest.raises(ValidationError, match="ML-DSA"):
        h.validate(APQInfo(T_GID, PQ_GID, True, 1, 0xF006, 0, 0).to_bytes(), T_CTX)


def test_through_the_registry_section_4_7() -> None:
    reg = ComponentRegistry({APQ_COMPONENT_ID: APQInfoHandler()})
    exts = apply_app_data_updates((), [AppDataUpdate.make_update(APQ_COMPONENT_ID, full())], reg, T_CTX)
    d = app_data_dictionary_of(exts)
    assert d is not None and APQInfo.from_bytes(d.get(APQ_COMPONENT_ID) or b"").t_epoch == 5
    ctx2 = UpdateContext(T_GID, 7, 0x0001, psks=APQ_PSK)
    ups = [AppDataUpdate.make_update(APQ_COMPONENT_ID, APQInfoUpdate.t_epoch(8).to_bytes()),
           AppDataUpdate.make_update(APQ_COMPONENT_ID, APQInfoUpdate.pq_epoch(4).to_bytes())]
    d2 = app_data_dictionary_of(apply_app_data_updates(exts, ups, reg, ctx2))
    assert d2 is not None and APQInfo.from_bytes(d2.get(APQ_COMPONENT_ID) or b"") == APQInfo(T_GID, PQ_GID, False, 1, 0xF006, 8, 4)
