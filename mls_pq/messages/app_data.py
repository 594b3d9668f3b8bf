"""Wire structs of the safe application interface of draft-ietf-mls-extensions (editors' copy
2026-07-01): ``ComponentID`` and ``ComponentOperationLabel`` (§4.1), ``ComponentData`` and
``AppDataDictionary`` (§4.6), ``AppDataUpdate`` (§4.7), ``WireFormats`` and ``ComponentsList``
(§5), plus helpers to find / replace the ``app_data_dictionary`` extension in an extension list.

Written by hand: no Python library implements this draft. Code points live in
:mod:`mls_pq.ext_codepoints`. Every rejection is a :class:`~mls_pq.errors.DraftValidationError`
(or a :class:`~mls_pq.errors.DecodeError` for malformed bytes) naming the draft section.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar, Self

import mls_pq.ext_codepoints as cp

from ..codec import Reader, Struct, Writer
from ..errors import DecodeError, DraftValidationError
from ..extensions import Extension

#: ``uint16 ComponentID`` (§4.1)
ComponentID = int


def check_component_id(component_id: int) -> int:
    """A ComponentID is a two-byte value (§4.1)."""
    if not isinstance(component_id, int) or not 0 <= component_id <= 0xFFFF:
        raise DraftValidationError(f"component id {component_id!r} is not a uint16", "4.1")
    return component_id


@dataclass(frozen=True)
class ComponentOperationLabel(Struct):
    """``struct { opaque base_label<V>; ComponentID component_id; opaque label<V>; }`` (§4.1);
    ``base_label`` is always "MLS Component". Its encoding is the label the Safe* operations
    pass to the RFC 9420 ``*WithLabel`` functions (§4.2, §4.3)."""

    wire_name: ClassVar[str] = "ComponentOperationLabel"
    component_id: int
    label: bytes

    def __post_init__(self) -> None:
        check_component_id(self.component_id)

    def encode(self, w: Writer) -> None:
        w.opaque(cp.COMPONENT_BASE_LABEL).uint16(self.component_id).opaque(self.label)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        base = r.opaque()
        if base != cp.COMPONENT_BASE_LABEL:
            raise DraftValidationError('ComponentOperationLabel.base_label is not "MLS Component"', "4.1")
        return cls(r.uint16(), r.opaque())


@dataclass(frozen=True)
class ComponentData(Struct):
    """``struct { ComponentID component_id; opaque data<V>; } ComponentData`` (§4.6)."""

    wire_name: ClassVar[str] = "ComponentData"
    component_id: int
    data: bytes

    def __post_init__(self) -> None:
        check_component_id(self.component_id)

    def __repr__(self) -> str:
        return f"ComponentData(component_id=0x{self.component_id:04x}, data=<{len(self.data)} bytes>)"

    def encode(self, w: Writer) -> None:
        w.uint16(self.component_id).opaque(self.data)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(r.uint16(), r.opaque())


@dataclass(frozen=True)
class AppDataDictionary(Struct):
    """``struct { ComponentData component_data<V>; } AppDataDictionary`` (§4.6): the content of
    the ``app_data_dictionary`` extension. Entries MUST be sorted by ``component_id`` with at
    most one entry per id — construction and decoding reject anything else. Unknown (and
    GREASE) component ids are kept as opaque entries (§5.1: receivers ignore them)."""

    wire_name: ClassVar[str] = "AppDataDictionary"
    component_data: tuple[ComponentData, ...] = ()

    def __post_init__(self) -> None:
        ids = [c.component_id for c in self.component_data]
        for a, b in zip(ids, ids[1:]):
            if a == b:
                raise DraftValidationError(f"AppDataDictionary holds component 0x{a:04x} twice", "4.6")
            if a > b:
                raise DraftValidationError("AppDataDictionary entries are not sorted by component_id", "4.6")

    def encode(self, w: Writer) -> None:
        w.structs(self.component_data)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(tuple(r.structs(ComponentData)))

    # ---- lookups and (pure) edits ------------------------------------------------------
    def get(self, component_id: int) -> bytes | None:
        """The data of ``component_id``, or None when the dictionary has no entry for it."""
        for c in self.component_data:
            if c.component_id == component_id:
                return c.data
        return None

    def __contains__(self, component_id: object) -> bool:
        return any(c.component_id == component_id for c in self.component_data)

    @property
    def component_ids(self) -> tuple[int, ...]:
        return tuple(c.component_id for c in self.component_data)

    def with_data(self, component_id: int, data: bytes) -> AppDataDictionary:
        """A copy with ``component_id`` set to ``data``: replaced in place, or inserted at the
        point that keeps the vector sorted (§4.7)."""
        entry = ComponentData(component_id, data)
        out = [c for c in self.component_data if c.component_id != component_id]
        i = 0
        while i < len(out) and out[i].component_id < component_id:
            i += 1
        out.insert(i, entry)
        return AppDataDictionary(tuple(out))

    def without(self, component_id: int) -> AppDataDictionary:
        """A copy without the entry of ``component_id`` (§4.7 ``remove``); it must exist."""
        if component_id not in self:
            raise DraftValidationError(f"no state to remove for component 0x{component_id:04x}", "4.7")
        return AppDataDictionary(tuple(c for c in self.component_data if c.component_id != component_id))

    def to_extension(self) -> Extension:
        return Extension(cp.APP_DATA_DICTIONARY, self.to_bytes())


class AppDataUpdateOperation(IntEnum):
    """``enum { invalid(0), update(1), remove(2), (255) } AppDataUpdateOperation`` (§4.7)."""

    INVALID = 0
    UPDATE = 1
    REMOVE = 2


@dataclass(frozen=True)
class AppDataUpdate(Struct):
    """The AppDataUpdate proposal body (§4.7, proposal type 0x0008 suggested)::

        struct { ComponentID component_id; AppDataUpdateOperation op;
                 select (op) { case update: opaque update<V>; case remove: struct{}; }; }

    ``op`` invalid(0) and unknown values are rejected; a ``remove`` carries no payload."""

    wire_name: ClassVar[str] = "AppDataUpdate"
    proposal_type: ClassVar[int] = cp.APP_DATA_UPDATE
    component_id: int
    op: AppDataUpdateOperation
    update: bytes = b""

    def __post_init__(self) -> None:
        check_component_id(self.component_id)
        if self.op not in (AppDataUpdateOperation.UPDATE, AppDataUpdateOperation.REMOVE):
            raise DraftValidationError(f"AppDataUpdate op {self.op!r} is not update(1) or remove(2)", "4.7")
        object.__setattr__(self, "op", AppDataUpdateOperation(self.op))
        if self.op == AppDataUpdateOperation.REMOVE and self.update:
            raise DraftValidationError("an AppDataUpdate remove carries no update payload", "4.7")

    def __repr__(self) -> str:
        return f"AppDataUpdate(component_id=0x{self.component_id:04x}, op={self.op.name}, update=<{len(self.update)} bytes>)"

    @classmethod
    def make_update(cls, component_id: int, update: bytes) -> AppDataUpdate:
        return cls(component_id, AppDataUpdateOperation.UPDATE, update)

    @classmethod
    def make_remove(cls, component_id: int) -> AppDataUpdate:
        return cls(component_id, AppDataUpdateOperation.REMOVE)

    def encode(self, w: Writer) -> None:
        w.uint16(self.component_id).uint8(self.op)
        if self.op == AppDataUpdateOperation.UPDATE:
            w.opaque(self.update)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        cid, op = r.uint16(), r.uint8()
        if op == AppDataUpdateOperation.UPDATE:
            return cls(cid, AppDataUpdateOperation.UPDATE, r.opaque())
        if op == AppDataUpdateOperation.REMOVE:
            return cls(cid, AppDataUpdateOperation.REMOVE)
        raise DecodeError(f"AppDataUpdate op {op} is not update(1) or remove(2) ({cp.DRAFT} §4.7)")


def _uint16_list(values: Iterable[int], what: str, section: str) -> tuple[int, ...]:
    out = tuple(values)
    for v in out:
        if not isinstance(v, int) or not 0 <= v <= 0xFFFF:
            raise DraftValidationError(f"{what} {v!r} is not a uint16", section)
    return out


@dataclass(frozen=True)
class WireFormats(Struct):
    """``struct { WireFormat wire_formats<V>; } WireFormats`` (§5): the content of the
    ``supported_wire_formats`` (LeafNode, 0x0007) and ``required_wire_formats`` (GroupContext,
    0x0008) extensions."""

    wire_name: ClassVar[str] = "WireFormats"
    wire_formats: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        _uint16_list(self.wire_formats, "wire format", "5")

    def encode(self, w: Writer) -> None:
        w.vector(self.wire_formats, lambda ww, v: ww.uint16(v))

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(tuple(r.vector(lambda rr: rr.uint16())))

    def supported_extension(self) -> Extension:
        return Extension(cp.SUPPORTED_WIRE_FORMATS, self.to_bytes())

    def required_extension(self) -> Extension:
        return Extension(cp.REQUIRED_WIRE_FORMATS, self.to_bytes())


@dataclass(frozen=True)
class ComponentsList(Struct):
    """``struct { ComponentID component_ids<V>; } ComponentsList`` (§5): the data of the
    ``app_components`` (0x0001) and ``safe_aad`` (0x0002) components — supported in a
    LeafNode, required in the GroupContext."""

    wire_name: ClassVar[str] = "ComponentsList"
    component_ids: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        _uint16_list(self.component_ids, "component id", "5")

    def encode(self, w: Writer) -> None:
        w.vector(self.component_ids, lambda ww, v: ww.uint16(v))

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(tuple(r.vector(lambda rr: rr.uint16())))


# ---- extension-list helpers ----------------------------------------------------------------


def find_extension(extensions: Sequence[Extension], extension_type: int) -> Extension | None:
    for e in extensions:
        if e.extension_type == extension_type:
            return e
    return None


def app_data_dictionary_of(extensions: Sequence[Extension]) -> AppDataDictionary | None:
    """The decoded ``app_data_dictionary`` extension of an extension list, or None (§4.6)."""
    ext = find_extension(extensions, cp.APP_DATA_DICTIONARY)
    return None if ext is None else AppDataDictionary.from_bytes(ext.extension_data)


def with_app_data_dictionary(extensions: Sequence[Extension], dictionary: AppDataDictionary) -> tuple[Extension, ...]:
    """``extensions`` with its ``app_data_dictionary`` replaced in place, or appended at the end
    of the list when absent (§4.7)."""
    new = dictionary.to_extension()
    out = list(extensions)
    for i, e in enumerate(out):
        if e.extension_type == cp.APP_DATA_DICTIONARY:
            out[i] = new
            return tuple(out)
    out.append(new)
    return tuple(out)


def wire_formats_of(extensions: Sequence[Extension], extension_type: int) -> WireFormats | None:
    """The decoded ``supported_wire_formats`` / ``required_wire_formats`` extension, or None (§5)."""
    ext = find_extension(extensions, extension_type)
    return None if ext is None else WireFormats.from_bytes(ext.extension_data)


def components_list_of(dictionary: AppDataDictionary | None, component_id: int = cp.COMPONENT_APP_COMPONENTS) -> ComponentsList | None:
    """The ``app_components`` (or ``safe_aad``) ComponentsList in a dictionary, or None (§5)."""
    if dictionary is None:
        return None
    data = dictionary.get(component_id)
    return None if data is None else ComponentsList.from_bytes(data)
