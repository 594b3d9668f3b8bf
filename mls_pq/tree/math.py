"""Array-based left-balanced binary tree math (RFC 9420 §4.1.1, Appendix C).

Nodes are numbered in-order: leaves at even indices, parents at odd indices. A tree with
``n`` leaves (``n`` a power of two in MLS, since the tree is always full) has ``2n - 1``
nodes. All functions are O(1) or O(log n) and never touch the tree contents.
"""

from __future__ import annotations

from functools import lru_cache

from ..errors import ValidationError


def log2(x: int) -> int:
    """floor(log2(x)), 0 for x == 0."""
    return x.bit_length() - 1 if x > 0 else 0


def level(x: int) -> int:
    """Level of node ``x``: the number of trailing one bits (leaves are level 0).

    O(1): ``(x + 1) & ~x`` isolates the lowest zero bit of ``x``, whose position is the
    count of trailing ones."""
    return ((x + 1) & ~x).bit_length() - 1


def node_width(n_leaves: int) -> int:
    return 0 if n_leaves == 0 else 2 * (n_leaves - 1) + 1


def root(n_leaves: int) -> int:
    w = node_width(n_leaves)
    return (1 << log2(w)) - 1


def is_leaf(x: int) -> bool:
    return x & 1 == 0


def leaf_to_node(leaf: int) -> int:
    return 2 * leaf


def node_to_leaf(x: int) -> int:
    return x >> 1


def left(x: int) -> int:
    k = level(x)
    if k == 0:
        raise ValidationError(f"leaf node {x} has no children", "4.1.1")
    return x ^ (0x01 << (k - 1))


def right(x: int) -> int:
    k = level(x)
    if k == 0:
        raise ValidationError(f"leaf node {x} has no children", "4.1.1")
    return x ^ (0x03 << (k - 1))


def _parent_step(x: int) -> int:
    k = level(x)
    b = (x >> (k + 1)) & 0x01
    return (x | (1 << k)) ^ (b << (k + 1))


def parent(x: int, n_leaves: int) -> int:
    if x == root(n_leaves):
        raise ValidationError(f"root node {x} has no parent", "4.1.1")
    return _parent_step(x)


def sibling(x: int, n_leaves: int) -> int:
    p = parent(x, n_leaves)
    return right(p) if x < p else left(p)


@lru_cache(maxsize=65536)
def direct_path_pairs(x: int, n_leaves: int) -> tuple[tuple[int, int], ...]:
    """(parent, sibling of the child on the path) for each node of the direct path of
    ``x``, leaf to root: the direct path and the copath at once. Memoised per
    ``(x, n_leaves)`` (an immutable tuple: callers share it), so the O(log n) walk runs
    once per node and tree size rather than on every commit."""
    r = root(n_leaves)
    out: list[tuple[int, int]] = []
    while x != r:
        k = level(x)
        b = (x >> (k + 1)) & 0x01
        p = (x | (1 << k)) ^ (b << (k + 1))
        # sibling: the other child of p (children of p sit at p -+ 2^(k))
        out.append((p, p + (1 << k) if x < p else p - (1 << k)))
        x = p
    return tuple(out)


def direct_path_tuple(x: int, n_leaves: int) -> tuple[int, ...]:
    """:func:`direct_path` as a shared immutable (memoised) tuple."""
    return _direct_path_tuple(x, n_leaves)


@lru_cache(maxsize=65536)
def _direct_path_tuple(x: int, n_leaves: int) -> tuple[int, ...]:
    return tuple(p for p, _ in direct_path_pairs(x, n_leaves))


def direct_path(x: int, n_leaves: int) -> list[int]:
    """Parents of ``x`` up to and including the root (RFC 9420 §4.1.2)."""
    return list(_direct_path_tuple(x, n_leaves))


def copath(x: int, n_leaves: int) -> list[int]:
    """Siblings of ``x`` and of each node of its direct path, excluding the root."""
    return [s for _, s in direct_path_pairs(x, n_leaves)]


def is_in_subtree(x: int, ancestor: int) -> bool:
    """True if node ``x`` is ``ancestor`` or lies below it."""
    k = level(ancestor)
    return (x >> (k + 1)) == (ancestor >> (k + 1))


def common_ancestor(x: int, y: int) -> int:
    """Lowest common ancestor of two nodes (RFC 9420 Appendix C)."""
    if level(x) == 0 and level(y) == 0 and x == y:
        return x
    xn, yn, k = x, y, 0
    while xn != yn:
        xn >>= 1
        yn >>= 1
        k += 1
    return (xn << k) + (1 << (k - 1)) - 1 if k > 0 else xn
