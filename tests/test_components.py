"""Component registry, AppDataUpdate list rules and application (draft-ietf-mls-extensions
§4.7), GroupContextExtensions restriction (§4.7) and negotiation of components and wire
formats (§5)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from mls_pq import ext_codepoints as cp
from mls_pq.components import (
    ComponentRegistry,
    UpdateContext,
    apply_app_data_updates,
    check_gce_keeps_app_data,
    check_leaf_supports,
    check_required_components,
    check_update_list,
    leaf_app_data_extension,
    validate_app_data,
)
from mls_pq.errors import DraftValidationError, ValidationError
from mls_pq.extensions import Extension
from mls_pq.messages.app_data import (
    AppDataDictionary,
    AppDataUpdate,
    ComponentData,
    ComponentsList,
    WireFormats,
    app_data_dictionary_of,
)

CTX = UpdateContext(b"g", 3, 1)
COUNTER = 0x8001  # private-use component ids (§7.5)
LOG = 0x8002


class Counter:
    """A one-byte counter: each update adds its one-byte payload; never above 100."""

    def __init__(self) -> None:
        self.calls: list[tuple[bytes | None, list[bytes]]] = []

    def apply_updates(self, current: bytes | None, updates: Sequence[bytes], context: UpdateContext) -> bytes:
        self.calls.append((current, list(updates)))
        value = current[0] if current else 0
        for u in updates:
            if len(u) != 1:
                raise ValidationError("counter update is one byte")
            value += u[0]
        return bytes([value]) if value < 256 else b"\xff\xff"

    def validate(self, data: bytes, context: UpdateContext) -> None:
        if len(data) != 1 or data[0] > 100:
            raise ValidationError("counter above 100")


class Log:
    """Appends payloads; refuses updates in external commits (§4.7 allows such restrictions)."""

    def apply_updates(self, current: bytes | None, updates: Sequence[bytes], context: UpdateContext) -> bytes:
        if context.external:
            raise ValidationError("no log updates in external commits")
        return (current or b"") + b"".join(updates)

    def validate(self, data: bytes, context: UpdateContext) -> None:
        return None


class Buggy:
    def apply_updates(self, current: bytes | None, updates: Sequence[bytes], context: UpdateContext) -> bytes:
        return updates[5]  # IndexError on short lists

    def validate(self, data: bytes, context: UpdateContext) -> None:
        return None


def registry() -> tuple[ComponentRegistry, Counter]:
    c = Counter()
    return ComponentRegistry({COUNTER: c}).with_handler(LOG, Log()), c


def up(cid: int, payload: bytes) -> AppDataUpdate:
    return AppDataUpdate.make_update(cid, payload)


OTHER = Extension(0x0003, b"\x00\x00\x00")


def test_registry_is_an_immutable_value() -> None:
    reg, _ = registry()
    reg2 = reg.with_handler(0x8003, Log())
    assert list(reg) == [COUNTER, LOG] and list(reg2) == [COUNTER, LOG, 0x8003]
    with pytest.raises(DraftValidationError, match="already registered"):
        reg.with_handler(COUNTER, Log())
    with pytest.raises(DraftValidationError, match="§7.5"):
        ComponentRegistry({0: Log()})
    with pytest.raises(DraftValidationError, match="§4.1"):
        ComponentRegistry({0x10000: Log()})
    assert reg.supported_components() == ComponentsList((1, COUNTER, LOG))


def test_updates_applied_in_order_and_inserted_sorted_section_4_7() -> None:
    reg, counter = registry()
    exts = (OTHER,)
    out = apply_app_data_updates(exts, [up(LOG, b"a"), up(COUNTER, b"\x02"), up(LOG, b"b"), up(COUNTER, b"\x03")], reg, CTX)
    # no dictionary before: one is appended at the end of the extensions list
    assert out[0] == OTHER and out[1].extension_type == cp.APP_DATA_DICTIONARY
    d = app_data_dictionary_of(out)
    assert d == AppDataDictionary((ComponentData(COUNTER, b"\x05"), ComponentData(LOG, b"ab")))
    assert counter.calls == [(None, [b"\x02", b"\x03"])]
    # second commit: the handler gets the current data; the input tuple is not modified
    out2 = apply_app_data_updates(out, [up(COUNTER, b"\x01")], reg, CTX)
    assert app_data_dictionary_of(out2).get(COUNTER) == b"\x06"  # type: ignore[union-attr]
    assert app_data_dictionary_of(out) == d
    assert apply_app_data_updates(out, [], reg, CTX) == out


def test_remove_section_4_7() -> None:
    reg, _ = registry()
    out = apply_app_data_updates((), [up(COUNTER, b"\x01"), up(LOG, b"x")], reg, CTX)
    out2 = apply_app_data_updates(out, [AppDataUpdate.make_remove(COUNTER)], reg, CTX)
    assert app_data_dictionary_of(out2) == AppDataDictionary((ComponentData(LOG, b"x"),))


def test_remove_of_absent_state_invalid_section_4_7() -> None:
    reg, _ = registry()
    with pytest.raises(DraftValidationError, match="removes absent state.*§4.7"):
        apply_app_data_updates((OTHER,), [AppDataUpdate.make_remove(COUNTER)], reg, CTX)


def test_unknown_component_invalid_section_4_7() -> None:
    reg, _ = registry()
    with pytest.raises(DraftValidationError, match="unknown to the application.*§4.7"):
        check_update_list([up(0x8009, b"")], None, reg)


def test_two_removes_or_update_and_remove_invalid_section_4_7() -> None:
    reg, _ = registry()
    d = AppDataDictionary((ComponentData(COUNTER, b"\x01"),))
    rm = AppDataUpdate.make_remove(COUNTER)
    with pytest.raises(DraftValidationError, match="several removes.*§4.7"):
        check_update_list([rm, rm], d, reg)
    for lst in ([rm, up(COUNTER, b"\x01")], [up(COUNTER, b"\x01"), rm]):
        with pytest.raises(DraftValidationError, match="both update and remove.*§4.7"):
            check_update_list(lst, d, reg)
    # valid: one remove, or several updates, per component
    assert check_update_list([rm, up(LOG, b"1"), up(LOG, b"2")], d, reg) == {COUNTER: [rm], LOG: [up(LOG, b"1"), up(LOG, b"2")]}


def test_handler_rejection_makes_list_invalid_and_changes_nothing_section_4_7() -> None:
    reg, _ = registry()
    exts = apply_app_data_updates((OTHER,), [up(COUNTER, b"\x01")], reg, CTX)
    before = tuple(exts)
    with pytest.raises(ValidationError, match="one byte"):
        apply_app_data_updates(exts, [up(LOG, b"ok"), up(COUNTER, b"\x01\x02")], reg, CTX)
    with pytest.raises(ValidationError, match="counter above 100"):  # validate() after apply
        apply_app_data_updates(exts, [up(COUNTER, b"\x64")], reg, CTX)
    with pytest.raises(ValidationError, match="external"):
        apply_app_data_updates(exts, [up(LOG, b"x")], reg, UpdateContext(b"g", 3, 1, external=True))
    assert exts == before


def test_handler_bug_is_a_typed_error_section_4_7() -> None:
    reg = ComponentRegistry({COUNTER: Buggy()})
    with pytest.raises(DraftValidationError, match="IndexError.*§4.7"):
        apply_app_data_updates((), [up(COUNTER, b"")], reg, CTX)


def test_validate_received_dictionary() -> None:
    reg, _ = registry()
    validate_app_data(AppDataDictionary((ComponentData(COUNTER, b"\x05"), ComponentData(0x8555, b"?"))), reg, CTX)
    with pytest.raises(ValidationError, match="above 100"):
        validate_app_data(AppDataDictionary((ComponentData(COUNTER, b"\xc8"),)), reg, CTX)


def test_gce_must_not_touch_app_data_when_appdataupdate_required_section_4_7() -> None:
    d1 = AppDataDictionary((ComponentData(COUNTER, b"\x01"),)).to_extension()
    d2 = AppDataDictionary((ComponentData(COUNTER, b"\x02"),)).to_extension()
    required = [cp.APP_DATA_UPDATE]
    for old, new in (((d1,), (d2,)), ((d1,), ()), ((), (d1,))):
        with pytest.raises(DraftValidationError, match="§4.7"):
            check_gce_keeps_app_data(old, new, required)
        check_gce_keeps_app_data(old, new, [])  # not required: allowed
    check_gce_keeps_app_data((OTHER, d1), (d1,), required)  # other extensions may change


def test_required_components_negotiation_section_5() -> None:
    reg, _ = registry()
    group = (AppDataDictionary((ComponentData(cp.COMPONENT_APP_COMPONENTS, ComponentsList((1, COUNTER)).to_bytes()),)).to_extension(),)
    check_required_components(group, reg)
    with pytest.raises(DraftValidationError, match="0x8001.*§5"):
        check_required_components(group, ComponentRegistry({LOG: Log()}))
    leaf_ok = (leaf_app_data_extension(reg, [ComponentData(0x0A0A, b"grease")]),)
    assert app_data_dictionary_of(leaf_ok).component_ids == (1, 0x0A0A)  # type: ignore[union-attr]
    check_leaf_supports(group, leaf_ok)
    leaf_bad = (leaf_app_data_extension(ComponentRegistry({LOG: Log()})),)
    with pytest.raises(DraftValidationError, match="required components.*0x8001.*§5"):
        check_leaf_supports(group, leaf_bad)
    with pytest.raises(DraftValidationError, match="§5"):
        check_leaf_supports(group, ())


def test_required_wire_formats_negotiation_section_5() -> None:
    group = (WireFormats((7,)).required_extension(),)
    check_leaf_supports(group, (WireFormats((7, 9)).supported_extension(),))
    with pytest.raises(DraftValidationError, match="wire formats.*0x0007.*§5"):
        check_leaf_supports(group, (WireFormats((9,)).supported_extension(),))
    with pytest.raises(DraftValidationError, match="§5"):
        check_leaf_supports(group, ())
    check_leaf_supports((), ())
