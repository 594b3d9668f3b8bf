"""The public ratchet tree (RFC 9420 §4, §7): an array of optional nodes with cached hashes.

Layout: node ``x`` of the array-based tree (Appendix C) is ``_nodes[x]``; leaves sit at even
indices, parents at odd ones; a tree with ``n`` leaves (``n`` a power of two) has ``2n - 1``
entries. Blank nodes are ``None``.

Performance: tree hashes and resolutions are cached per node. Changing node ``x``
invalidates only ``x`` and its direct path, so applying a commit (one leaf path plus a few
proposals) re-hashes O(log N) nodes. :meth:`RatchetTree.copy` shares the immutable node
objects and copies the flat caches, so the next epoch's tree can be built without touching
the current one. Encryption and signature keys are indexed for O(1) uniqueness checks.
"""

from __future__ import annotations

import bisect
import hmac
import itertools
import math
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from ..codec import Reader
from ..errors import ValidationError
from ..extensions import RATCHET_TREE, Extension
from ..limits import DEFAULT_LIMITS, Limits
from ..messages.leaf_node import LeafNode
from . import math as tm
from .hashes import leaf_hash_input, parent_hash_input, parent_hash_input_for_tree
from .nodes import Node, ParentNode, decode_ratchet_tree, encode_ratchet_tree

if TYPE_CHECKING:
    from ..suites import CipherSuite


def system_clock() -> int:
    """Seconds since the Unix epoch: the default clock for lifetime checks (RFC 9420 §7.2)."""
    return int(time.time())


def _leaf_range(x: int) -> tuple[int, int]:
    """Leaf indices ``[lo, hi)`` of the subtree under node ``x``."""
    span = (1 << tm.level(x)) - 1
    return (x - span) // 2, (x + span) // 2 + 1


_GONE = -1  # _KeyIndex tombstone: node indices are never negative


class _KeyIndex:
    """A ``key -> node index`` map whose :meth:`copy` costs O(changes), not O(N).

    A flat ``_base`` dict, never mutated once built (copies share it), plus a per-tree
    ``_delta`` of changes since (``_GONE`` marks a removal). ``copy`` copies only the delta
    and folds it into a new base once it outgrows ~sqrt(N): each new epoch's tree then
    costs O(sqrt N) amortised instead of copying an N-entry dict (mls-pq performance
    measure; behaviour is that of a plain dict restricted to get/set/delete)."""

    __slots__ = ("_base", "_delta")

    def __init__(self) -> None:
        self._base: dict[bytes, int] = {}
        self._delta: dict[bytes, int] = {}

    def get(self, key: bytes) -> int | None:
        v = self._delta.get(key)
        if v is None:
            return self._base.get(key)
        return None if v == _GONE else v

    def __setitem__(self, key: bytes, x: int) -> None:
        self._delta[key] = x

    def __delitem__(self, key: bytes) -> None:
        if self.get(key) is None:
            raise KeyError(key)
        if key in self._base:
            self._delta[key] = _GONE
        else:
            del self._delta[key]

    def flatten(self) -> None:
        """Fold the delta into a new base dict (the old base may be shared: not touched)."""
        if not self._delta:
            return
        merged = self._base.copy()
        for k, v in self._delta.items():
            if v == _GONE:
                merged.pop(k, None)
            else:
                merged[k] = v
        self._base = merged
        self._delta = {}

    def copy(self) -> _KeyIndex:
        if len(self._delta) > max(64, 8 * math.isqrt(len(self._base))):
            self.flatten()
        t = _KeyIndex.__new__(_KeyIndex)
        t._base = self._base
        t._delta = self._delta.copy()
        return t


class RatchetTree:
    """A ratchet tree for one cipher suite (the suite's hash is used for tree/parent hashes)."""

    __slots__ = ("_blank", "_enc", "_nodes", "_res", "_sig", "_th", "suite")

    def __init__(self, suite: CipherSuite, nodes: Sequence[Node | None] = ()) -> None:
        width = len(nodes)
        if width and (width + 1) & width:  # width + 1 must be a power of two
            raise ValidationError(f"a full tree has 2^(d+1)-1 nodes, not {width}", "4.1")
        self.suite = suite
        self._nodes: list[Node | None] = list(nodes)
        #: every leaf below this index is non-blank (a hint for leftmost_blank_leaf, so a bulk
        #: add of K members does not rescan the tree K times)
        self._blank = 0
        self._th: list[bytes | None] = [None] * width
        self._res: list[tuple[int, ...] | None] = [None] * width
        self._enc = _KeyIndex()
        self._sig = _KeyIndex()
        for x, n in enumerate(self._nodes):
            if n is not None:
                if (x % 2 == 0) != isinstance(n, LeafNode):
                    raise ValidationError(f"node {x} cannot hold a {type(n).__name__}", "4.1")
                self._index(x, n)
        self._enc.flatten()
        self._sig.flatten()

    # ---- construction / encoding -------------------------------------------------------
    @classmethod
    def from_bytes(cls, suite: CipherSuite, data: bytes, *, limits: Limits = DEFAULT_LIMITS) -> RatchetTree:
        """Decode the ``ratchet_tree`` extension value (RFC 9420 §12.4.3.3). The tree must be
        truncated (§7.7) and have at most ``limits.max_group_size`` leaves: decoding stops as
        soon as the node count passes ``limits.max_tree_nodes``, so the memory it takes is
        bounded by the limit, not by the input length (ValidationError)."""
        return cls(suite, decode_ratchet_tree(data, limits.max_tree_nodes))

    @classmethod
    def decode(cls, suite: CipherSuite, r: Reader) -> RatchetTree:
        """Decode a ``ratchet_tree`` value from a reader (consumes one vector)."""
        start = r.pos
        body = r.sub()
        return cls.from_bytes(suite, bytes(r.data[start : body.end]))

    def to_bytes(self) -> bytes:
        """``optional<Node> ratchet_tree<V>`` without trailing blanks (RFC 9420 §12.4.3.3)."""
        return encode_ratchet_tree(self._nodes)

    def to_extension(self) -> Extension:
        return Extension(RATCHET_TREE, self.to_bytes())

    def copy(self) -> RatchetTree:
        """An independent tree sharing the (immutable) node objects and the cached hashes."""
        t = RatchetTree.__new__(RatchetTree)
        t.suite = self.suite
        t._nodes = self._nodes.copy()
        t._blank = self._blank
        t._th = self._th.copy()
        t._res = self._res.copy()
        t._enc = self._enc.copy()
        t._sig = self._sig.copy()
        return t

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RatchetTree) and self._nodes == other._nodes

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<RatchetTree {self.n_leaves} leaves, {self.member_count()} members>"

    # ---- shape -------------------------------------------------------------------------
    @property
    def n_leaves(self) -> int:
        return (len(self._nodes) + 1) // 2

    @property
    def n_nodes(self) -> int:
        return len(self._nodes)

    @property
    def root(self) -> int:
        if not self._nodes:
            raise ValidationError("the tree is empty", "4.1")
        return tm.root(self.n_leaves)

    @property
    def nodes(self) -> tuple[Node | None, ...]:
        return tuple(self._nodes)

    def node(self, x: int) -> Node | None:
        self._check_node(x)
        return self._nodes[x]

    def parent_node(self, x: int) -> ParentNode | None:
        n = self.node(x)
        if n is not None and not isinstance(n, ParentNode):
            raise ValidationError(f"node {x} is not a parent node", "4.1")
        return n

    def leaf(self, i: int) -> LeafNode | None:
        self._check_leaf(i)
        n = self._nodes[2 * i]
        assert n is None or isinstance(n, LeafNode)
        return n

    def leaves(self) -> Iterator[tuple[int, LeafNode]]:
        """(leaf index, LeafNode) for every non-blank leaf, left to right."""
        for x in range(0, len(self._nodes), 2):
            n = self._nodes[x]
            if n is not None:
                assert isinstance(n, LeafNode)
                yield x // 2, n

    def leaf_span(self) -> int:
        """Leaves up to and including the rightmost non-blank one: the width the truncated
        tree needs (RFC 9420 §7.7), what :class:`~mls_pq.limits.Limits` ``max_group_size``
        bounds. O(1) for a truncated tree whose last leaf is set."""
        nodes = self._nodes
        for x in range(len(nodes) - 1 - (len(nodes) - 1) % 2, -1, -2):
            if nodes[x] is not None:
                return x // 2 + 1
        return 0

    def member_count(self) -> int:
        return sum(1 for n in self._nodes[0::2] if n is not None)

    def leftmost_blank_leaf(self) -> int | None:
        # identity test: list.index(None) would call the node classes' __eq__ on every leaf;
        # the scan starts at the hint (all leaves below it are known to be non-blank)
        nodes = self._nodes
        for x in range(2 * self._blank, len(nodes), 2):
            if nodes[x] is None:
                self._blank = x // 2
                return x // 2
        self._blank = (len(nodes) + 1) // 2
        return None

    def find_leaf(self, leaf: LeafNode) -> int | None:
        """The index of the leaf equal to ``leaf`` (by encoding), or None."""
        x = self._enc.get(leaf.encryption_key)
        if x is not None and x % 2 == 0 and self._nodes[x] == leaf:
            return x // 2
        for i, n in self.leaves():
            if n == leaf:
                return i
        return None

    def leaf_with_encryption_key(self, key: bytes) -> int | None:
        x = self._enc.get(key)
        return x // 2 if x is not None and x % 2 == 0 else None

    def leaf_with_signature_key(self, key: bytes) -> int | None:
        x = self._sig.get(key)
        return x // 2 if x is not None else None

    def node_with_encryption_key(self, key: bytes) -> int | None:
        """The node index holding ``key`` as its encryption key, or None."""
        return self._enc.get(key)

    def _check_node(self, x: int) -> None:
        if not 0 <= x < len(self._nodes):
            raise ValidationError(f"node index {x} outside a tree of {len(self._nodes)} nodes", "4.1")

    def _check_leaf(self, i: int) -> None:
        if not 0 <= i < self.n_leaves:
            raise ValidationError(f"leaf index {i} outside a tree of {self.n_leaves} leaves", "4.1")

    # ---- low-level mutation --------------------------------------------------------------
    def _index(self, x: int, n: Node) -> None:
        self._enc[n.encryption_key] = x
        if isinstance(n, LeafNode):
            self._sig[n.signature_key] = x

    def _unindex(self, x: int, n: Node) -> None:
        if self._enc.get(n.encryption_key) == x:
            del self._enc[n.encryption_key]
        if isinstance(n, LeafNode) and self._sig.get(n.signature_key) == x:
            del self._sig[n.signature_key]

    def _invalidate(self, x: int) -> None:
        """Drop cached hash/resolution of ``x`` and of every node on its direct path."""
        th, res = self._th, self._res
        th[x] = None
        res[x] = None
        for p in tm.direct_path_tuple(x, self.n_leaves):
            th[p] = None
            res[p] = None

    def set_node(self, x: int, node: Node | None) -> None:
        """Replace node ``x`` (no protocol checks); caches along its path are invalidated."""
        self._check_node(x)
        if node is not None and (x % 2 == 0) != isinstance(node, LeafNode):
            raise ValidationError(f"node {x} cannot hold a {type(node).__name__}", "4.1")
        old = self._nodes[x]
        if old is node:
            return
        if old is not None:
            self._unindex(x, old)
        self._nodes[x] = node
        if node is not None:
            self._index(x, node)
        elif x % 2 == 0 and x // 2 < self._blank:
            self._blank = x // 2
        self._invalidate(x)

    def set_leaf(self, i: int, leaf: LeafNode | None) -> None:
        self._check_leaf(i)
        self.set_node(2 * i, leaf)

    def blank_path(self, i: int) -> None:
        """Blank the direct path of leaf ``i`` (not the leaf itself)."""
        self._check_leaf(i)
        for p in tm.direct_path_tuple(2 * i, self.n_leaves):
            if self._nodes[p] is not None:
                self.set_node(p, None)

    def extend(self) -> None:
        """Double the number of leaves: new blank root and blank right subtree (RFC 9420 §7.7)."""
        if not self._nodes:
            self._nodes.append(None)
            self._th.append(None)
            self._res.append(None)
            return
        grow = len(self._nodes) + 1
        self._nodes.extend([None] * grow)
        self._th.extend([None] * grow)
        self._res.extend([None] * grow)

    def truncate(self) -> None:
        """Halve the tree while the right subtree has no non-blank leaf (RFC 9420 §7.7, §12.1.3)."""
        nodes = self._nodes
        while len(nodes) > 1:
            half = (len(nodes) - 1) // 2
            if any(n is not None for n in nodes[half + 1 :: 2]):
                break
            for x in range(half, len(nodes)):
                n = nodes[x]
                if n is not None:
                    self._unindex(x, n)
            del nodes[half:]
            del self._th[half:]
            del self._res[half:]

    # ---- protocol operations (RFC 9420 §12.1) --------------------------------------------
    def reserve_leaf(self) -> int:
        """The leftmost blank leaf, extending the tree if there is none; the leaf stays blank
        (an external joiner's position, RFC 9420 §12.4.3.2)."""
        i = self.leftmost_blank_leaf()
        if i is None:
            i = self.n_leaves
            self.extend()
        return i

    def add_leaf(self, leaf: LeafNode) -> int:
        """Add: leftmost blank leaf (extending if none), mark it unmerged in every non-blank
        parent on its direct path, and set it (RFC 9420 §12.1.1). Returns the leaf index."""
        i = self.reserve_leaf()
        x = 2 * i
        for p in tm.direct_path_tuple(x, self.n_leaves):
            n = self._nodes[p]
            if n is not None:
                assert isinstance(n, ParentNode)
                if i not in n.unmerged_leaves:
                    self.set_node(
                        p, ParentNode(n.encryption_key, n.parent_hash, tuple(sorted((*n.unmerged_leaves, i))))
                    )
        self.set_node(x, leaf)
        return i

    def update_leaf(self, i: int, leaf: LeafNode) -> None:
        """Update: replace leaf ``i`` and blank its direct path (RFC 9420 §12.1.2)."""
        if self.leaf(i) is None:
            raise ValidationError(f"update of blank leaf {i}", "12.1.2")
        self.set_leaf(i, leaf)
        self.blank_path(i)

    def blank_leaf(self, i: int) -> None:
        """Blank leaf ``i`` and its direct path, without truncating."""
        self.set_leaf(i, None)
        self.blank_path(i)

    def remove_leaf(self, i: int) -> None:
        """Remove: blank leaf ``i`` and its direct path, then truncate (RFC 9420 §12.1.3)."""
        if self.leaf(i) is None:
            raise ValidationError(f"remove of blank leaf {i}", "12.1.3")
        self.blank_leaf(i)
        self.truncate()

    # ---- resolution and paths (RFC 9420 §4.1.2) ------------------------------------------
    def resolution(self, x: int) -> tuple[int, ...]:
        """Resolution of node ``x`` as node indices (RFC 9420 §4.1.2), cached."""
        r = self._res[x]
        if r is not None:
            return r
        n = self._nodes[x]
        if n is not None:
            if isinstance(n, ParentNode):
                r = (x, *(2 * leaf for leaf in n.unmerged_leaves))
            else:
                r = (x,)
        elif x % 2 == 0:
            r = ()
        else:
            r = self.resolution(tm.left(x)) + self.resolution(tm.right(x))
        self._res[x] = r
        return r

    def direct_path(self, i: int) -> list[int]:
        self._check_leaf(i)
        return tm.direct_path(2 * i, self.n_leaves)

    def copath(self, i: int) -> list[int]:
        self._check_leaf(i)
        return tm.copath(2 * i, self.n_leaves)

    def filtered_direct_path_pairs(self, i: int) -> list[tuple[int, int]]:
        """(parent, copath child) for each node of the filtered direct path of leaf ``i``,
        leaf to root (RFC 9420 §4.1.2)."""
        self._check_leaf(i)
        resolution = self.resolution
        return [ps for ps in tm.direct_path_pairs(2 * i, self.n_leaves) if resolution(ps[1])]

    def filtered_direct_path(self, i: int) -> list[int]:
        return [p for p, _ in self.filtered_direct_path_pairs(i)]

    # ---- tree hash (RFC 9420 §7.8) -------------------------------------------------------
    def tree_hash(self, x: int | None = None) -> bytes:
        """Tree hash of node ``x`` (default: the root), cached per node."""
        if x is None:
            x = self.root
        h = self._th[x]
        if h is not None:
            return h
        self._check_node(x)
        th, nodes, digest = self._th, self._nodes, self.suite.digest

        # one closure over the flat arrays: a joiner hashes all 2N-1 nodes at once, so
        # the per-node cost is one call and two digest inputs built from cached encodings
        def rec(x: int, k: int) -> bytes:
            h = th[x]
            if h is not None:
                return h
            n = nodes[x]
            if k == 0:
                assert n is None or isinstance(n, LeafNode)
                h = digest(leaf_hash_input(x >> 1, n))
            else:
                assert n is None or isinstance(n, ParentNode)
                half = 1 << (k - 1)  # children of x sit at x -+ 2^(k-1) (Appendix C)
                h = digest(parent_hash_input_for_tree(n, rec(x - half, k - 1), rec(x + half, k - 1)))
            th[x] = h
            return h

        return rec(x, tm.level(x))

    def tree_hashes(self) -> list[bytes]:
        """Tree hash of every node, by node index."""
        if self._nodes:
            self.tree_hash()
        return [self.tree_hash(x) for x in range(len(self._nodes))]

    # ---- parent hash (RFC 9420 §7.9) -----------------------------------------------------
    def _tree_hash_without(self, x: int, excluded: frozenset[int], ordered: Sequence[int]) -> bytes:
        """Tree hash of ``x`` with the ``excluded`` leaves blanked and removed from every
        unmerged_leaves list (the "original" tree of RFC 9420 §7.9). ``ordered``: the
        excluded leaves sorted, so "does this subtree hold one" is a binary search (a scan
        made a parent with U unmerged leaves cost O(U^2) to verify)."""
        lo, hi = _leaf_range(x)
        i = bisect.bisect_left(ordered, lo)
        if i == len(ordered) or ordered[i] >= hi:
            return self.tree_hash(x)
        n = self._nodes[x]
        if x % 2 == 0:
            return self.suite.digest(leaf_hash_input(x // 2, None))
        assert n is None or isinstance(n, ParentNode)
        if n is not None and n.unmerged_leaves:
            n = ParentNode(n.encryption_key, n.parent_hash, tuple(u for u in n.unmerged_leaves if u not in excluded))
        lh = self._tree_hash_without(tm.left(x), excluded, ordered)
        rh = self._tree_hash_without(tm.right(x), excluded, ordered)
        return self.suite.digest(parent_hash_input_for_tree(n, lh, rh))

    def original_sibling_tree_hash(self, p: int, s: int) -> bytes:
        node = self._nodes[p]
        if not isinstance(node, ParentNode):
            raise ValidationError(f"parent hash of blank node {p}", "7.9")
        excluded = frozenset(node.unmerged_leaves)
        return self._tree_hash_without(s, excluded, sorted(excluded))

    def parent_hash(self, p: int, s: int) -> bytes:
        """Parent hash of parent node ``p`` with copath child ``s`` (RFC 9420 §7.9)."""
        node = self._nodes[p]
        if not isinstance(node, ParentNode):
            raise ValidationError(f"parent hash of blank node {p}", "7.9")
        osth = self.original_sibling_tree_hash(p, s)
        return self.suite.digest(parent_hash_input(node.encryption_key, node.parent_hash, osth))

    def set_path_parent_hashes(self, i: int) -> bytes:
        """Set ``parent_hash`` on the filtered direct path of leaf ``i``, root first, and
        return the parent hash the leaf must carry (RFC 9420 §7.9, §7.5 step 3)."""
        ph = b""
        for p, s in reversed(self.filtered_direct_path_pairs(i)):
            n = self._nodes[p]
            if not isinstance(n, ParentNode):
                raise ValidationError(f"filtered direct path node {p} is blank", "7.9")
            if n.parent_hash != ph:
                self.set_node(p, ParentNode(n.encryption_key, ph, n.unmerged_leaves))
            ph = self.parent_hash(p, s)
        return ph

    def set_path(self, i: int, path: Sequence[tuple[int, int, bytes]]) -> bytes:
        """Merge an UpdatePath's public keys (RFC 9420 §7.5): blank the direct path of leaf
        ``i``, then give each node ``p`` of ``path`` = ``(p, copath child s, encryption_key)``
        (its filtered direct path, leaf to root) a fresh ParentNode with no unmerged leaves
        and the parent hash of §7.9, set root first. Returns the parent hash the leaf must
        carry. Same result as :meth:`blank_path`, :meth:`set_node` per node and
        :meth:`set_path_parent_hashes`, with each node set once and the direct path's caches
        invalidated once: a fresh node has no unmerged leaves, so its original sibling tree
        hash is the (cached, unchanged: off the path) tree hash of ``s``."""
        self._check_leaf(i)
        nodes = self._nodes
        direct = tm.direct_path_tuple(2 * i, self.n_leaves)
        on_path = frozenset(direct)
        digest = self.suite.digest
        tree_hash = self.tree_hash
        new: dict[int, ParentNode] = {}
        ph = b""
        for p, s, key in reversed(path):
            if p not in on_path or s in on_path:
                raise ValidationError(f"node {p} is not on the direct path of leaf {i}", "7.5")
            new[p] = ParentNode(key, ph, ())
            ph = digest(parent_hash_input(key, ph, tree_hash(s)))
        for p in direct:
            old = nodes[p]
            if old is not None:
                self._unindex(p, old)
        th, res = self._th, self._res
        for p in direct:
            n = new.get(p)
            nodes[p] = n
            if n is not None:
                self._index(p, n)
            th[p] = None
            res[p] = None
        return ph

    def _parent_hash_candidate(self, p: int, c: int, node: ParentNode) -> int | None:
        """The node D below child ``c`` that could carry P's parent hash (RFC 9420 §7.9.2):
        the unique member of resolution(c) not among P's unmerged leaves under ``c``."""
        res = self.resolution(c)
        lo, hi = _leaf_range(c)
        unmerged = {2 * u for u in node.unmerged_leaves if lo <= u < hi}
        rest = [d for d in res if d not in unmerged]
        if len(rest) != 1 or not unmerged.issubset(res):
            return None
        return rest[0]

    def is_parent_hash_valid(self, p: int) -> bool:
        """True iff exactly one descendant of non-blank node ``p`` links to it by parent
        hash (RFC 9420 §7.9.2, "top down")."""
        node = self._nodes[p]
        if not isinstance(node, ParentNode):
            return True
        left, right = tm.left(p), tm.right(p)
        valid = 0
        for c, s in ((left, right), (right, left)):
            d = self._parent_hash_candidate(p, c, node)
            if d is None:
                continue
            dn = self._nodes[d]
            dph = dn.parent_hash if dn is not None else None
            if dph is not None and hmac.compare_digest(dph, self.parent_hash(p, s)):
                valid += 1
        return valid == 1

    def verify_parent_hashes(self) -> None:
        """Every non-blank parent node must be parent-hash valid (RFC 9420 §7.9.2)."""
        for p in range(1, len(self._nodes), 2):
            if self._nodes[p] is not None and not self.is_parent_hash_valid(p):
                raise ValidationError(f"parent node {p} is not parent-hash valid", "7.9.2")

    # ---- structural checks of a received tree (RFC 9420 §12.4.3.1; leaf_validation.validate_tree)
    def verify_unmerged_leaves(self) -> None:
        """Unmerged leaves are sorted, name non-blank descendant leaves, and appear in
        every non-blank node between the leaf and the parent (RFC 9420 §7.1, §12.4.3.1)."""
        n_leaves = self.n_leaves
        sets: dict[int, frozenset[int]] = {}  # unmerged_leaves as sets: O(1) membership

        def unmerged_set(q: int, qn: ParentNode) -> frozenset[int]:
            got = sets.get(q)
            if got is None:
                got = sets[q] = frozenset(qn.unmerged_leaves)
            return got

        for p in range(1, len(self._nodes), 2):
            node = self._nodes[p]
            if not isinstance(node, ParentNode) or not node.unmerged_leaves:
                continue
            u = node.unmerged_leaves
            if any(a >= b for a, b in itertools.pairwise(u)):
                raise ValidationError(f"unmerged_leaves of node {p} are not strictly increasing", "7.1")
            for leaf in u:
                x = 2 * leaf
                if leaf >= n_leaves or not tm.is_in_subtree(x, p) or self._nodes[x] is None:
                    raise ValidationError(
                        f"unmerged leaf {leaf} of node {p} is not a non-blank descendant leaf", "12.4.3.1"
                    )
                for q in tm.direct_path_tuple(x, n_leaves):
                    if q == p:
                        break
                    qn = self._nodes[q]
                    if isinstance(qn, ParentNode) and leaf not in unmerged_set(q, qn):
                        raise ValidationError(
                            f"node {q} between leaf {leaf} and node {p} lacks it in unmerged_leaves", "12.4.3.1"
                        )

    def verify_key_uniqueness(self) -> None:
        """Encryption keys are distinct across all nodes, signature keys across leaves
        (RFC 9420 §7.3, §12.4.3.1, §16.8)."""
        seen_enc: set[bytes] = set()
        seen_sig: set[bytes] = set()
        for x, n in enumerate(self._nodes):
            if n is None:
                continue
            if n.encryption_key in seen_enc:
                raise ValidationError(f"encryption key of node {x} appears elsewhere in the tree", "7.3")
            seen_enc.add(n.encryption_key)
            if isinstance(n, LeafNode):
                if n.signature_key in seen_sig:
                    raise ValidationError(f"signature key of leaf {x // 2} appears in another leaf", "7.3")
                seen_sig.add(n.signature_key)
