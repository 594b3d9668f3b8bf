"""The APQ-MLS combiner as a component (id 0x0006) of draft-ietf-mls-extensions: the handler
an application registers in its :class:`~mls_pq.components.ComponentRegistry` for both the
traditional and the PQ session, implementing the APQInfo update and validation rules of
draft-ietf-mls-combiner §5.1.1 for *one* session. The cross-session checks (both APQInfos equal,
the other session's epoch and suite, §5.1.2, §3.2.1) need both sessions and belong to the
combined group object.

Rules enforced (each a :class:`~mls_pq.errors.DraftValidationError` naming the combiner section):

* a Commit carries either one ``full_update`` or exactly two updates, one ``new_t_epoch`` and one
  ``new_pq_epoch`` (§5.1.1);
* the epoch-only form needs an existing APQInfo (§5.1.1);
* a ``full_update`` of an existing APQInfo changes no field but the two epochs; nor, of course,
  does the epoch-only form (§5.1.1, §7.1: suites and mode are immutable);
* the APQInfo names this session: its group id is ``t_session_group_id`` (with
  ``t_cipher_suite`` the session's suite) or ``pq_session_group_id`` (with ``pq_cipher_suite``),
  and the two group ids differ (§5.1);
* in the traditional session, a Commit updating APQInfo (i.e. the traditional half of a FULL
  commit) carries a PreSharedKey proposal with ``psk_type = application`` and
  ``component_id = 0x0006`` (§5.2, §3.2.2); the PSK's value binds it to the PQ epoch (a wrong
  ``psk_id`` has no PSK and fails the key schedule);
* an AppDataUpdate ``remove`` of APQInfo is rejected (§5.1.1: immutable; §5.1: downgrade);
* after the Commit, this session's epoch field equals the new epoch (§5.1.1: "for any FULL
  Commit, recipients MUST verify that the epoch fields ... match those of the two new epochs").
  APQInfo is only updated by FULL commits, so a PARTIAL commit leaves it (and its epochs) alone.

``suite_policy``: an optional check of the suite pair and mode (§7.1), called on every APQInfo
the handler accepts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..components import UpdateContext
from ..errors import DecodeError
from ..psk import PSK_APPLICATION
from .structs import APQ_COMPONENT_ID, APQInfo, APQInfoUpdate, APQUpdateType, combiner_error

SuitePolicy = Callable[[APQInfo], None]


def _decode_info(data: bytes) -> APQInfo:
    try:
        return APQInfo.from_bytes(data)
    except DecodeError as e:
        raise combiner_error(f"malformed APQInfo: {e}", "5.1") from None


def session_side(info: APQInfo, context: UpdateContext) -> str:
    """"t" or "pq": which session of ``info`` the group of ``context`` is (§5.1)."""
    if info.t_session_group_id == info.pq_session_group_id:
        raise combiner_error("APQInfo names the same group id for both sessions", "5.1")
    if context.group_id == info.t_session_group_id:
        if context.cipher_suite != info.t_cipher_suite:
            raise combiner_error("APQInfo.t_cipher_suite is not the traditional session's suite", "5.1")
        return "t"
    if context.group_id == info.pq_session_group_id:
        if context.cipher_suite != info.pq_cipher_suite:
            raise combiner_error("APQInfo.pq_cipher_suite is not the PQ session's suite", "5.1")
        return "pq"
    raise combiner_error("APQInfo does not name this group as either session", "5.1")


class APQInfoHandler:
    """:class:`~mls_pq.components.ComponentHandler` for component 0x0006 (apq_mls_info)."""

    component_id = APQ_COMPONENT_ID

    def __init__(self, suite_policy: SuitePolicy | None = None) -> None:
        self.suite_policy = suite_policy

    def apply_updates(self, current: bytes | None, updates: Sequence[bytes], context: UpdateContext) -> bytes:
        ups = [APQInfoUpdate.from_bytes(u) for u in updates]
        old = _decode_info(current) if current is not None else None
        types = sorted(u.update_type for u in ups)
        if types == [APQUpdateType.FULL_UPDATE]:
            new = ups[0].new_apq_info
            assert new is not None
            if old is not None and new.immutable_fields() != old.immutable_fields():
                raise combiner_error("a full_update changes an APQInfo field other than the two epochs", "5.1.1")
        elif types == [APQUpdateType.NEW_T_EPOCH, APQUpdateType.NEW_PQ_EPOCH]:
            if old is None:
                raise combiner_error("new_t_epoch/new_pq_epoch without an existing APQInfo", "5.1.1")
            t = next(u.new_epoch for u in ups if u.update_type == APQUpdateType.NEW_T_EPOCH)
            pq = next(u.new_epoch for u in ups if u.update_type == APQUpdateType.NEW_PQ_EPOCH)
            new = APQInfo(*old.immutable_fields(), t_epoch=t, pq_epoch=pq)
        else:
            raise combiner_error(
                "a Commit carries one full_update or one new_t_epoch and one new_pq_epoch update", "5.1.1"
            )
        side = session_side(new, context)
        if side == "t" and not any(
            p.psktype == PSK_APPLICATION and p.component_id == APQ_COMPONENT_ID for p in context.psks
        ):
            # APQInfo changes only in FULL commits (§5.1.2), and the traditional commit of a FULL
            # commit injects the apq_psk (§5.2; §3.2.2 for external commits)
            raise combiner_error(
                "a traditional commit updating APQInfo (a FULL commit) has no PreSharedKey proposal"
                " with psk_type = application, component_id = 0x0006",
                "5.2",
            )
        own_epoch = new.t_epoch if side == "t" else new.pq_epoch
        if own_epoch != context.epoch + 1:
            raise combiner_error(
                f"APQInfo.{side}_epoch is {own_epoch}, the commit creates epoch {context.epoch + 1}", "5.1.1"
            )
        return new.to_bytes()

    def check_remove(self, current: bytes | None, context: UpdateContext) -> None:
        """An AppDataUpdate ``remove`` of APQInfo is rejected: its fields are immutable for
        the session's lifetime and its presence is what stops a downgrade to one of the two
        sessions (§5.1, §5.1.1, §7.1); ending the combination takes a reinitialisation."""
        raise combiner_error("an AppDataUpdate removes APQInfo, which is immutable for the session", "5.1.1")

    def validate(self, data: bytes, context: UpdateContext) -> None:
        info = _decode_info(data)
        session_side(info, context)
        if self.suite_policy is not None:
            self.suite_policy(info)
