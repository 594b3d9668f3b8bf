"""A persistent (immutable) map from small non-negative integers to values.

Written by hand for this package: the standard library has no persistent map, and the
secret tree (RFC 9420 §9) needs one so that every message can produce a *new* tree in
O(log N) instead of copying O(N) ratchets. The map is a 32-way radix trie of tuples of a
fixed depth chosen from the key capacity; an update copies the one root-to-leaf path
(``depth`` tuples of 32 slots: 3 tuples for up to 32 768 keys) and shares everything else
with the old version, which stays valid and unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Generic, TypeVar

V = TypeVar("V")

_BITS = 5
_FAN = 1 << _BITS
_MASK = _FAN - 1
_EMPTY: tuple[Any, ...] = (None,) * _FAN


class IntMap(Generic[V]):
    """Immutable map ``int -> V`` for keys in ``[0, capacity)``; ``None`` is not a value.

    :meth:`set` and :meth:`delete` return a new map and leave this one as it was.
    Iteration (:meth:`items`) is in ascending key order.
    """

    __slots__ = ("_root", "_shift", "_len", "_limit")

    def __init__(self, capacity: int) -> None:
        depth = 1
        while (1 << (_BITS * depth)) < capacity:
            depth += 1
        self._root: tuple[Any, ...] | None = None
        self._shift = _BITS * (depth - 1)
        self._len = 0
        self._limit = 1 << (_BITS * depth)

    def _with(self, root: tuple[Any, ...] | None, length: int) -> IntMap[V]:
        out: IntMap[V] = IntMap.__new__(IntMap)
        out._root, out._shift, out._len, out._limit = root, self._shift, length, self._limit
        return out

    def __len__(self) -> int:
        return self._len

    def __contains__(self, key: int) -> bool:
        return self.get(key) is not None

    def __repr__(self) -> str:
        return f"<IntMap {self._len} entries>"

    def get(self, key: int) -> V | None:
        """The value under ``key``, or None (also for keys outside the capacity)."""
        if not 0 <= key < self._limit:
            return None
        node = self._root
        shift = self._shift
        while node is not None:
            if shift == 0:
                return node[key & _MASK]  # type: ignore[no-any-return]
            node = node[(key >> shift) & _MASK]
            shift -= _BITS
        return None

    def set(self, key: int, value: V | None) -> IntMap[V]:
        """A map with ``key`` bound to ``value`` (``None``: removed)."""
        if not 0 <= key < self._limit:
            raise ValueError(f"key {key} outside the map's capacity")
        root, old = _set(self._root, self._shift, key, value)
        length = self._len + (value is not None) - (old is not None)
        return self._with(root, length)

    def delete(self, key: int) -> IntMap[V]:
        return self.set(key, None)

    def update(self, changes: Iterable[tuple[int, V | None]]) -> IntMap[V]:
        """A map with every (key, value) of ``changes`` applied in order (None: removed)."""
        out = self
        for k, val in changes:
            out = out.set(k, val)
        return out

    def items(self) -> Iterator[tuple[int, V]]:
        """(key, value) pairs in ascending key order."""
        if self._root is not None:
            yield from _items(self._root, self._shift, 0)


def _set(node: tuple[Any, ...] | None, shift: int, key: int, value: Any) -> tuple[tuple[Any, ...] | None, Any]:
    slots = list(node if node is not None else _EMPTY)
    i = (key >> shift) & _MASK
    if shift == 0:
        old = slots[i]
        slots[i] = value
    else:
        slots[i], old = _set(slots[i], shift - _BITS, key, value)
    if value is None and slots[i] is None and not any(s is not None for s in slots):
        return None, old
    return tuple(slots), old


def _items(node: tuple[Any, ...], shift: int, base: int) -> Iterator[tuple[int, Any]]:
    for i, child in enumerate(node):
        if child is None:
            continue
        if shift == 0:
            yield base | i, child
        else:
            yield from _items(child, shift - _BITS, (base | i) << _BITS)


__all__ = ["IntMap"]
