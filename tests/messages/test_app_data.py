"""Wire structs of draft-ietf-mls-extensions: ComponentOperationLabel (§4.1), ComponentData and
AppDataDictionary (§4.6), AppDataUpdate (§4.7), WireFormats / ComponentsList (§5), code points (§7)."""

from __future__ import annotations

import pytest

from mls_pq import ext_codepoints as cp
from mls_pq.codec import Writer
from mls_pq.errors import DecodeError, DraftValidationError, MLSError
from mls_pq.extensions import Extension
from mls_pq.messages.app_data import (
    AppDataDictionary,
    AppDataUpdate,
    AppDataUpdateOperation,
    ComponentData,
    ComponentOperationLabel,
    ComponentsList,
    WireFormats,
    app_data_dictionary_of,
    components_list_of,
    wire_formats_of,
    with_app_data_dictionary,
)


def test_iana_code_points_section_7() -> None:
    """§7.1/§7.2/§7.5 suggested values."""
    assert (cp.APP_DATA_DICTIONARY, cp.SUPPORTED_WIRE_FORMATS, cp.REQUIRED_WIRE_FORMATS) == (6, 7, 8)
    assert (cp.APP_DATA_UPDATE, cp.APP_EPHEMERAL, cp.SELF_REMOVE) == (8, 9, 10)
    assert cp.COMPONENT_APP_COMPONENTS == 1 and cp.COMPONENT_SAFE_AAD == 2
    assert sorted(cp.COMPONENT_GREASE) == [0x0A0A, 0x1A1A, 0x2A2A, 0x3A3A, 0x4A4A, 0x5A5A, 0x6A6A, 0x7A7A]
    assert AppDataUpdate.proposal_type == 0x0008


def test_component_operation_label_encoding_section_4_1() -> None:
    lab = ComponentOperationLabel(0x0006, b"psk")
    # opaque "MLS Component"<V> (13 bytes), uint16 component_id, opaque label<V>
    assert lab.to_bytes() == b"\x0dMLS Component" + b"\x00\x06" + b"\x03psk"
    assert ComponentOperationLabel.from_bytes(lab.to_bytes()) == lab


def test_component_operation_label_wrong_base_label_rejected_section_4_1() -> None:
    bad = Writer().opaque(b"MLS Componenx").uint16(1).opaque(b"x").getvalue()
    with pytest.raises(DraftValidationError, match="§4.1"):
        ComponentOperationLabel.from_bytes(bad)


@pytest.mark.parametrize("cid", [-1, 0x10000])
def test_component_id_is_uint16_section_4_1(cid: int) -> None:
    with pytest.raises(DraftValidationError, match="§4.1"):
        ComponentData(cid, b"")


def test_component_data_and_dictionary_round_trip_section_4_6() -> None:
    d = AppDataDictionary((ComponentData(1, b"\x00"), ComponentData(6, b"apq"), ComponentData(0x8001, b"")))
    enc = d.to_bytes()
    # outer vector length 13 = (2+1+1) + (2+1+3) + (2+1+0)
    assert enc[0] == 13
    assert enc[1:5] == b"\x00\x01\x01\x00"
    assert AppDataDictionary.from_bytes(enc) == d
    assert d.get(6) == b"apq" and d.get(7) is None and 0x8001 in d
    assert d.component_ids == (1, 6, 0x8001)


def _dict_bytes(*entries: tuple[int, bytes]) -> bytes:
    return Writer().vector(entries, lambda w, e: w.uint16(e[0]).opaque(e[1])).getvalue()


def test_dictionary_must_be_sorted_section_4_6() -> None:
    with pytest.raises(DraftValidationError, match="sorted.*§4.6"):
        AppDataDictionary.from_bytes(_dict_bytes((6, b""), (1, b"")))
    with pytest.raises(DraftValidationError, match="§4.6"):
        AppDataDictionary((ComponentData(2, b""), ComponentData(1, b"")))


def test_dictionary_at_most_one_entry_per_id_section_4_6() -> None:
    with pytest.raises(DraftValidationError, match="twice.*§4.6"):
        AppDataDictionary.from_bytes(_dict_bytes((6, b"a"), (6, b"b")))


def test_dictionary_truncated_is_decode_error() -> None:
    enc = AppDataDictionary((ComponentData(6, b"abc"),)).to_bytes()
    with pytest.raises(DecodeError):
        AppDataDictionary.from_bytes(enc[:-1])


def test_dictionary_edits_keep_order_section_4_7() -> None:
    d = AppDataDictionary().with_data(6, b"x").with_data(1, b"a").with_data(0x9000, b"p").with_data(3, b"m")
    assert d.component_ids == (1, 3, 6, 0x9000)
    d2 = d.with_data(3, b"new")
    assert d2.component_ids == d.component_ids and d2.get(3) == b"new"
    assert d2.without(3).component_ids == (1, 6, 0x9000)
    with pytest.raises(DraftValidationError, match="no state to remove.*§4.7"):
        d2.without(4)


def test_dictionary_unknown_and_grease_ids_kept_section_5_1() -> None:
    """§5.1: unknown/GREASE component ids are ignored by receivers, not rejected."""
    d = AppDataDictionary.from_bytes(_dict_bytes((0x0A0A, b"\xff"), (0x7A7A, b"")))
    assert d.component_ids == (0x0A0A, 0x7A7A)


def test_extension_helpers_section_4_7() -> None:
    other = Extension(0x0003, b"\x00\x00\x00")
    d = AppDataDictionary((ComponentData(6, b"v"),))
    exts = with_app_data_dictionary((other,), d)
    # absent: appended at the end of the extensions list (§4.7)
    assert exts[0] == other and exts[1] == Extension(0x0006, d.to_bytes())
    assert app_data_dictionary_of(exts) == d
    d2 = d.with_data(1, b"")
    exts2 = with_app_data_dictionary((exts[1], other), d2)
    assert exts2 == (Extension(0x0006, d2.to_bytes()), other)  # replaced in place
    assert app_data_dictionary_of((other,)) is None


def test_app_data_update_encoding_section_4_7() -> None:
    up = AppDataUpdate.make_update(6, b"\x01\x02")
    assert up.to_bytes() == b"\x00\x06\x01\x02\x01\x02"
    rm = AppDataUpdate.make_remove(0x0102)
    assert rm.to_bytes() == b"\x01\x02\x02"
    for v in (up, rm):
        assert AppDataUpdate.from_bytes(v.to_bytes()) == v
    assert rm.op is AppDataUpdateOperation.REMOVE


@pytest.mark.parametrize("op", [0, 3, 255])
def test_app_data_update_invalid_op_rejected_section_4_7(op: int) -> None:
    with pytest.raises(DecodeError, match="§4.7"):
        AppDataUpdate.from_bytes(b"\x00\x06" + bytes([op]) + b"\x00")
    with pytest.raises(DraftValidationError, match="§4.7"):
        AppDataUpdate(6, op)  # type: ignore[arg-type]


def test_app_data_update_remove_has_no_payload_section_4_7() -> None:
    with pytest.raises(DraftValidationError, match="§4.7"):
        AppDataUpdate(6, AppDataUpdateOperation.REMOVE, b"x")
    # remove followed by a payload: trailing bytes
    with pytest.raises(DecodeError):
        AppDataUpdate.from_bytes(b"\x00\x06\x02\x00")


def test_app_data_update_repr_has_no_payload() -> None:
    assert "secret" not in repr(AppDataUpdate.make_update(6, b"secret"))
    assert "secret" not in repr(ComponentData(6, b"secret"))


def test_wire_formats_section_5() -> None:
    wf = WireFormats((1, 2, 7))
    assert wf.to_bytes() == b"\x06\x00\x01\x00\x02\x00\x07"
    assert WireFormats.from_bytes(wf.to_bytes()) == wf
    assert wf.supported_extension() == Extension(0x0007, wf.to_bytes())
    assert wf.required_extension() == Extension(0x0008, wf.to_bytes())
    assert wire_formats_of((wf.required_extension(),), cp.REQUIRED_WIRE_FORMATS) == wf
    assert wire_formats_of((wf.required_extension(),), cp.SUPPORTED_WIRE_FORMATS) is None
    with pytest.raises(DecodeError):
        WireFormats.from_bytes(b"\x03\x00\x01\x00")  # odd-length vector body
    with pytest.raises(DraftValidationError, match="§5"):
        WireFormats((0x10000,))


def test_components_list_section_5() -> None:
    cl = ComponentsList((1, 6))
    assert cl.to_bytes() == b"\x04\x00\x01\x00\x06"
    d = AppDataDictionary((ComponentData(cp.COMPONENT_APP_COMPONENTS, cl.to_bytes()),))
    assert components_list_of(d) == cl
    assert components_list_of(d, cp.COMPONENT_SAFE_AAD) is None
    assert components_list_of(None) is None


def test_every_rejection_is_an_mls_error() -> None:
    for bad in (b"", b"\x05\x00", b"\x02\x00\x06\x05"):
        with pytest.raises(MLSError):
            AppDataDictionary.from_bytes(bad)
        with pytest.raises(MLSError):
            AppDataUpdate.from_bytes(bad)
