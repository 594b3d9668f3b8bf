"""The registry of vector kinds: each kind module registers its verifier with :func:`kind`;
a verifier raises :class:`Mismatch` naming the first differing field, or :class:`SkipCase`,
and may qualify a case with :func:`note`.

This module sits below both the kind modules (which register here) and
:mod:`mls_pq.vectors.runner` (which loads them and runs their verifiers), so that data flows
one way: runner -> kind modules -> this registry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextvars import ContextVar
from typing import Any

from ..errors import MLSError


class Mismatch(MLSError):
    """A computed value differs from the vector's. ``field`` names the first differing field."""

    def __init__(self, field_name: str, detail: str = "") -> None:
        self.field = field_name
        super().__init__(f"mismatch in {field_name}" + (f": {detail}" if detail else ""))


class SkipCase(Exception):
    """A case that cannot be checked here; the reason is reported and counted."""


Verifier = Callable[[dict[str, Any]], None]

#: kind name -> verifier; populated by the kind modules on import
KINDS: dict[str, Verifier] = {}

#: kind name -> notes reported with every file verified as that kind
NOTES: dict[str, tuple[str, ...]] = {}

#: file-name stem -> kind, for inference
ALIASES: dict[str, str] = {}

#: notes added by the verifier of the case being run (see :func:`note`)
CASE_NOTES: ContextVar[list[str] | None] = ContextVar("CASE_NOTES", default=None)


def kind(name: str, *aliases: str, notes: Iterable[str] = ()) -> Callable[[Verifier], Verifier]:
    """Register a verifier for ``name`` (and file-name ``aliases``); ``notes`` are reported
    with every file verified as this kind (e.g. a check the kind relaxes)."""

    def deco(fn: Verifier) -> Verifier:
        KINDS[name] = fn
        NOTES[name] = tuple(notes)
        for a in (name, *aliases):
            ALIASES[a] = name
        return fn

    return deco


def note(text: str) -> None:
    """Attach a note to the case being verified (reported once per file). Outside
    :func:`verify_case` this does nothing."""
    sink = CASE_NOTES.get()
    if sink is not None and text not in sink:
        sink.append(text)


__all__ = ["KINDS", "NOTES", "Mismatch", "SkipCase", "Verifier", "kind", "note"]
