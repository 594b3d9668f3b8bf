"""Application components (draft-ietf-mls-extensions §4, §4.7, §5): the registry an application
passes to its groups, the AppDataUpdate list rules and their application to the GroupContext's
``app_data_dictionary``, and the component / wire-format negotiation checks.

The engine stays component-agnostic: an application registers, per component id, a
:class:`ComponentHandler` that turns the ``update`` payloads of the AppDataUpdate proposals of one
Commit into the component's new data (or rejects them) and validates component data received in
a GroupContext. A :class:`ComponentRegistry` is an immutable value the application owns and
hands to each group; nothing here is global mutable state.

Everything here is pure: functions return new extension lists and never change their inputs, so
a rejected proposal list leaves the group untouched. Written by hand (no library implements the
draft). Rejections are :class:`~mls_pq.errors.DraftValidationError` naming the draft section; a
handler that fails with anything else than an :class:`~mls_pq.errors.MLSError` is reported as one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Protocol

import mls_pq.ext_codepoints as cp

from .errors import DraftValidationError, MLSError
from .extensions import Extension
from .messages.app_data import (
    AppDataDictionary,
    AppDataUpdate,
    AppDataUpdateOperation,
    ComponentData,
    ComponentsList,
    app_data_dictionary_of,
    check_component_id,
    components_list_of,
    wire_formats_of,
    with_app_data_dictionary,
)

if TYPE_CHECKING:
    from .psk import PreSharedKeyID


@dataclass(frozen=True)
class UpdateContext:
    """What a handler may want to know about the Commit being applied (§4.7: applications can
    restrict updates, e.g. refuse them in external Commits or from external proposers)."""

    group_id: bytes
    epoch: int  #: the epoch the Commit is applied to (the old epoch)
    cipher_suite: int
    external: bool = False  #: an external Commit, or a proposal from an external sender
    #: the PreSharedKeyIDs the Commit injects (its PreSharedKey proposals, RFC 9420 §12.1.4),
    #: for components whose updates must come with their own application PSK (§4.5)
    psks: tuple[PreSharedKeyID, ...] = ()


class ComponentHandler(Protocol):
    """The application logic registered to one component id (§4.7)."""

    def apply_updates(self, current: bytes | None, updates: Sequence[bytes], context: UpdateContext) -> bytes:
        """Turn the ``update`` payloads of one Commit's AppDataUpdate proposals for this
        component (in Commit order) and the current data (None: no entry yet) into the new
        data, or raise an :class:`~mls_pq.errors.MLSError` to make the proposal list invalid."""
        ...

    def validate(self, data: bytes, context: UpdateContext) -> None:
        """Raise an :class:`~mls_pq.errors.MLSError` if ``data`` is not acceptable component
        data (called on the result of :meth:`apply_updates` and on data received in a
        GroupContext, e.g. when joining)."""
        ...


class ComponentRegistry:
    """Component id -> handler, owned by the application and passed to its groups.
    Immutable: :meth:`with_handler` returns a new registry."""

    __slots__ = ("_handlers",)

    def __init__(self, handlers: Mapping[int, ComponentHandler] | None = None) -> None:
        hs = dict(handlers or {})
        for cid in hs:
            check_component_id(cid)
            if cid == cp.COMPONENT_RESERVED:
                raise DraftValidationError("component id 0x0000 is reserved", "7.5")
        self._handlers: Mapping[int, ComponentHandler] = MappingProxyType(hs)

    def with_handler(self, component_id: int, handler: ComponentHandler) -> ComponentRegistry:
        if component_id in self._handlers:
            raise DraftValidationError(f"component 0x{component_id:04x} is already registered", "4.1")
        return ComponentRegistry({**self._handlers, component_id: handler})

    def handler(self, component_id: int) -> ComponentHandler | None:
        return self._handlers.get(component_id)

    def __contains__(self, component_id: object) -> bool:
        return component_id in self._handlers

    def __iter__(self) -> Iterator[int]:
        return iter(sorted(self._handlers))

    def __repr__(self) -> str:
        return f"ComponentRegistry({', '.join(f'0x{c:04x}' for c in self)})"

    def supported_components(self) -> ComponentsList:
        """The ``app_components`` list to advertise in a LeafNode (§5): ``app_components``
        itself (every implementation of app_data_dictionary understands it, §4.6) and every
        registered component."""
        return ComponentsList(tuple(sorted({cp.COMPONENT_APP_COMPONENTS, *self._handlers})))


EMPTY_REGISTRY = ComponentRegistry()


def _call(what: str, component_id: int, fn: object, *args: object) -> object:
    try:
        return fn(*args)  # type: ignore[operator]
    except MLSError:
        raise
    except Exception as e:  # a handler bug or hostile payload must not escape untyped
        raise DraftValidationError(
            f"component 0x{component_id:04x} handler failed to {what}: {type(e).__name__}", "4.7"
        ) from None


def group_updates(updates: Iterable[AppDataUpdate]) -> dict[int, list[AppDataUpdate]]:
    """The AppDataUpdate proposals of a Commit by component id, each list in Commit order (§4.7)."""
    out: dict[int, list[AppDataUpdate]] = {}
    for u in updates:
        out.setdefault(u.component_id, []).append(u)
    return out


def check_update_list(
    updates: Sequence[AppDataUpdate], dictionary: AppDataDictionary | None, registry: ComponentRegistry
) -> dict[int, list[AppDataUpdate]]:
    """The §4.7 validity rules of a proposal list's AppDataUpdate proposals, against the
    current ``app_data_dictionary``: every component id known to the application; per id
    either one ``remove`` (of present state) or one or more ``update``\\ s."""
    grouped = group_updates(updates)
    for cid, lst in grouped.items():
        if cid not in registry:
            raise DraftValidationError(f"AppDataUpdate for component 0x{cid:04x} unknown to the application", "4.7")
        removes = sum(1 for u in lst if u.op == AppDataUpdateOperation.REMOVE)
        if removes and len(lst) > 1:
            kind = "several removes" if removes == len(lst) else "both update and remove"
            raise DraftValidationError(f"proposal list has {kind} for component 0x{cid:04x}", "4.7")
        if removes and (dictionary is None or cid not in dictionary):
            raise DraftValidationError(f"AppDataUpdate removes absent state of component 0x{cid:04x}", "4.7")
    return grouped


def apply_app_data_updates(
    extensions: Sequence[Extension],
    updates: Sequence[AppDataUpdate],
    registry: ComponentRegistry,
    context: UpdateContext,
) -> tuple[Extension, ...]:
    """The GroupContext extensions after a Commit's AppDataUpdate proposals (§4.7), processed
    after the default proposals (so ``extensions`` already reflects a GroupContextExtensions
    proposal of the same Commit). Pure: raises DraftValidationError (or the handler's
    MLSError) for an invalid list and returns a new tuple otherwise; with no updates the
    input is returned unchanged."""
    if not updates:
        return tuple(extensions)
    current = app_data_dictionary_of(extensions)
    grouped = check_update_list(updates, current, registry)
    new = current if current is not None else AppDataDictionary()
    for cid in sorted(grouped):
        lst = grouped[cid]
        if lst[0].op == AppDataUpdateOperation.REMOVE:
            # optional hook: a component may refuse the removal of its state (§4.7: "more
            # restrictive validity rules"), e.g. one whose data is immutable for the session
            check_remove = getattr(registry.handler(cid), "check_remove", None)
            if check_remove is not None:
                _call("accept the remove", cid, check_remove, new.get(cid), context)
            new = new.without(cid)
            continue
        handler = registry.handler(cid)
        assert handler is not None  # check_update_list
        data = _call("apply the update", cid, handler.apply_updates, new.get(cid), [u.update for u in lst], context)
        if not isinstance(data, bytes):
            raise DraftValidationError(f"component 0x{cid:04x} handler returned no data", "4.7")
        _call("validate", cid, handler.validate, data, context)
        new = new.with_data(cid, data)
    return with_app_data_dictionary(extensions, new)


def validate_app_data(dictionary: AppDataDictionary | None, registry: ComponentRegistry, context: UpdateContext) -> None:
    """Validate every registered component's data in a received GroupContext dictionary
    (e.g. when joining); unregistered entries are left to :func:`check_required_components`."""
    if dictionary is None:
        return
    for entry in dictionary.component_data:
        handler = registry.handler(entry.component_id)
        if handler is not None:
            _call("validate", entry.component_id, handler.validate, entry.data, context)


def check_gce_keeps_app_data(
    old_extensions: Sequence[Extension], new_extensions: Sequence[Extension], required_proposal_types: Iterable[int]
) -> None:
    """§4.7: when AppDataUpdate is in the group's ``required_capabilities.proposal_types``, a
    GroupContextExtensions proposal MUST NOT add, remove or modify ``app_data_dictionary``."""
    if cp.APP_DATA_UPDATE not in set(required_proposal_types):
        return
    old = [e for e in old_extensions if e.extension_type == cp.APP_DATA_DICTIONARY]
    new = [e for e in new_extensions if e.extension_type == cp.APP_DATA_DICTIONARY]
    if old != new:
        raise DraftValidationError(
            "GroupContextExtensions changes app_data_dictionary while AppDataUpdate is required", "4.7"
        )


# ---- negotiation (§5) ----------------------------------------------------------------------


def required_components(group_extensions: Sequence[Extension]) -> tuple[int, ...]:
    """The ``app_components`` list of the GroupContext's dictionary: the required components."""
    cl = components_list_of(app_data_dictionary_of(group_extensions))
    return () if cl is None else cl.component_ids


def check_required_components(group_extensions: Sequence[Extension], registry: ComponentRegistry) -> None:
    """This client understands every component the group requires (§5) — to check before
    joining or accepting a GroupContext change."""
    for cid in required_components(group_extensions):
        if cid != cp.COMPONENT_APP_COMPONENTS and cid not in registry:
            raise DraftValidationError(f"the group requires component 0x{cid:04x}, not registered here", "5")


def check_leaf_supports(group_extensions: Sequence[Extension], leaf_extensions: Sequence[Extension]) -> None:
    """A LeafNode (its ``extensions``) supports what the GroupContext requires (§5): every
    wire format of ``required_wire_formats`` is in its ``supported_wire_formats`` and every
    component of the group's ``app_components`` is in the leaf's ``app_components``."""
    req_wf = wire_formats_of(group_extensions, cp.REQUIRED_WIRE_FORMATS)
    if req_wf is not None and req_wf.wire_formats:
        sup = wire_formats_of(leaf_extensions, cp.SUPPORTED_WIRE_FORMATS)
        missing = set(req_wf.wire_formats) - set(sup.wire_formats if sup is not None else ())
        if missing:
            raise DraftValidationError(
                f"leaf does not support required wire formats {sorted(f'0x{w:04x}' for w in missing)}", "5"
            )
    req = set(required_components(group_extensions))
    if req:
        leaf_list = components_list_of(app_data_dictionary_of(leaf_extensions))
        missing = req - set(leaf_list.component_ids if leaf_list is not None else ())
        if missing:
            raise DraftValidationError(
                f"leaf does not support required components {sorted(f'0x{c:04x}' for c in missing)}", "5"
            )


def leaf_app_data_extension(registry: ComponentRegistry, extra: Iterable[ComponentData] = ()) -> Extension:
    """A LeafNode/KeyPackage ``app_data_dictionary`` advertising the registry's components in
    ``app_components`` (§4.6, §5), plus ``extra`` entries (e.g. GREASE, §5.1)."""
    d = AppDataDictionary().with_data(cp.COMPONENT_APP_COMPONENTS, registry.supported_components().to_bytes())
    for e in extra:
        d = d.with_data(e.component_id, e.data)
    return d.to_extension()
