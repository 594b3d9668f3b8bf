"""Argument checks at the public boundary: one home for "is this the Python type the API takes".

The wire is checked by the decoders (:class:`~mls_pq.errors.DecodeError`) and the protocol by
the validators (:class:`~mls_pq.errors.ValidationError`); this module answers the question that
comes before both — did the caller hand us the right *kind* of Python object — with a plain
:class:`TypeError` naming the parameter, what it expected and what it got, instead of an error
from deep inside the codec (``memoryview: a bytes-like object is required``) or a
``struct.error``. Values out of range for an integer parameter are a
:class:`~mls_pq.errors.ValidationError` (the type was right; the value is not allowed).

Bytes parameters accept ``bytes`` only: a ``bytearray`` or ``memoryview`` is mutable or a view
the caller may change while we work, so it is refused too (call ``bytes(x)`` first).
"""

from __future__ import annotations

from collections.abc import Iterable

from .errors import ValidationError

__all__ = ["require_bytes", "require_int", "require_ints", "require_optional_bytes", "require_str_or_bytes"]


def _what(value: object) -> str:
    return type(value).__name__


def require_bytes(value: object, name: str) -> bytes:
    """``value`` if it is ``bytes``; else TypeError naming ``name``."""
    if not isinstance(value, bytes):
        raise TypeError(f"{name} must be bytes, not {_what(value)}")
    return value


def require_optional_bytes(value: object, name: str) -> bytes | None:
    """``value`` if it is ``bytes`` or None; else TypeError naming ``name``."""
    return None if value is None else require_bytes(value, name)


def require_str_or_bytes(value: object, name: str) -> str | bytes:
    """``value`` if it is ``str`` or ``bytes`` (e.g. an exporter label); else TypeError."""
    if not isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be str or bytes, not {_what(value)}")
    return value


def require_int(value: object, name: str, *, low: int = 0, high: int | None = None, section: str = "") -> int:
    """``value`` if it is an ``int`` (not a bool) in ``[low, high]``; TypeError for another type,
    :class:`~mls_pq.errors.ValidationError` (citing ``section`` if given) for a value out of range."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {_what(value)}")
    if value < low or (high is not None and value > high):
        bound = f"[{low}, {high}]" if high is not None else f">= {low}"
        raise ValidationError(f"{name} must be {bound}, got {value}", section)
    return value


def require_ints(values: Iterable[object], name: str, *, low: int = 0, high: int | None = None) -> list[int]:
    """Every element through :func:`require_int`; a str or bytes is refused as a whole (it is
    iterable, but never meant as a list of ints)."""
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{name} must be an iterable of ints, not {_what(values)}")
    return [require_int(v, f"{name}[{i}]", low=low, high=high) for i, v in enumerate(values)]
