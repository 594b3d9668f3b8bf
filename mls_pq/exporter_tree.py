"""The Exporter Tree and ``SafeExportSecret(ComponentID)`` (draft-ietf-mls-extensions §4.4).

The Exporter Tree has the structure of the secret tree of RFC 9420 §9 with 2^16 leaves, one per
ComponentID, rooted at ``application_export_secret`` (:func:`mls_pq.key_schedule.application_export_secret`)::

    tree_node_[left(x)]_secret  = ExpandWithLabel(tree_node_[x]_secret, "tree", "left",  Nh)
    tree_node_[right(x)]_secret = ExpandWithLabel(tree_node_[x]_secret, "tree", "right", Nh)
    SafeExportSecret(ComponentID) = tree_node_[LeafIndex(ComponentID)]_secret

Nodes are derived on demand. Deletion (§4.4 with RFC 9420 §9.2): exporting a component's secret
*consumes* it — on the way down each node's secret is replaced by its two children's, and the
leaf secret is handed out and not kept — so at most 16 secrets per exported component stay live
and a second export of the same component raises :class:`~mls_pq.errors.SecretConsumedError`.
Invariant: every leaf not yet consumed has exactly one live ancestor-or-self.

:class:`ExporterTree` is an immutable value: :meth:`ExporterTree.export` returns the secret *and*
the new tree, so a group can keep the old tree until the operation that uses the secret succeeds.
The draft gives no test vectors for this tree; tests check structural properties.

Serialisation (:meth:`ExporterTree.to_bytes`, written by hand, no MLS wire format exists) is
``struct { uint32 node; opaque secret<V>; } nodes<V>`` in ascending node order. It contains
secrets: store it encrypted.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Final

from .codec import Reader, Writer, decode_exact
from .errors import DecodeError, DraftValidationError, SecretConsumedError
from .suites import CipherSuite

#: §4.4: 2^16 leaves (one per ComponentID); the full tree has 2^17 - 1 nodes
DEPTH: Final = 16
N_LEAVES: Final = 1 << DEPTH
ROOT: Final = N_LEAVES - 1
WIDTH: Final = 2 * N_LEAVES - 1


def _path(component_id: int) -> list[int]:
    """Node indices from the root down to the leaf of ``component_id`` (leaf node = 2 * id)."""
    target = 2 * component_id
    x, out = ROOT, [ROOT]
    for level in range(DEPTH, 0, -1):
        step = 1 << (level - 1)
        x = x - step if target < x else x + step
        out.append(x)
    return out


class ExporterTree:
    """The live node secrets of one epoch's Exporter Tree (immutable)."""

    __slots__ = ("_nodes", "suite")

    def __init__(self, suite: CipherSuite, application_export_secret: bytes) -> None:
        if len(application_export_secret) != suite.n_h:
            raise DraftValidationError("application_export_secret is not Nh bytes", "4.4")
        self.suite = suite
        self._nodes: Mapping[int, bytes] = MappingProxyType({ROOT: application_export_secret})

    @classmethod
    def _from_nodes(cls, suite: CipherSuite, nodes: dict[int, bytes]) -> ExporterTree:
        t = cls.__new__(cls)
        t.suite = suite
        t._nodes = MappingProxyType(nodes)
        return t

    def __repr__(self) -> str:
        return f"<ExporterTree live_nodes={len(self._nodes)}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ExporterTree) and self.suite.id == other.suite.id and dict(self._nodes) == dict(other._nodes)

    __hash__ = None  # type: ignore[assignment]

    def node_secrets(self) -> Iterator[tuple[int, bytes]]:
        """The live node secrets, ascending by node index."""
        return iter(sorted(self._nodes.items()))

    def is_consumed(self, component_id: int) -> bool:
        """True once :meth:`export` handed out this component's secret in this epoch."""
        return not any(x in self._nodes for x in _path(_check_id(component_id)))

    def export(self, component_id: int) -> tuple[bytes, ExporterTree]:
        """``SafeExportSecret(component_id)`` and the tree with that secret consumed (§4.4).
        :class:`~mls_pq.errors.SecretConsumedError` if it was exported before."""
        path = _path(_check_id(component_id))
        start = next((i for i in range(len(path) - 1, -1, -1) if path[i] in self._nodes), None)
        if start is None:
            raise SecretConsumedError(
                f"SafeExportSecret(0x{component_id:04x}) was already consumed in this epoch "
                "(draft-ietf-mls-extensions §4.4)"
            )
        nodes = dict(self._nodes)
        secret = nodes.pop(path[start])
        expand = self.suite.expand_with_label
        n_h = self.suite.n_h
        for i in range(start, len(path) - 1):
            x, nxt = path[i], path[i + 1]
            left = expand(secret, "tree", b"left", n_h)
            right = expand(secret, "tree", b"right", n_h)
            if nxt < x:
                nodes[2 * x - nxt] = right  # the sibling subtree stays derivable
                secret = left
            else:
                nodes[2 * x - nxt] = left
                secret = right
        return secret, ExporterTree._from_nodes(self.suite, nodes)

    # ---- serialisation -------------------------------------------------------------------
    def encode(self, w: Writer) -> None:
        w.vector(sorted(self._nodes.items()), lambda ww, kv: ww.uint32(kv[0]).opaque(kv[1]))

    def to_bytes(self) -> bytes:
        w = Writer()
        self.encode(w)
        return w.getvalue()

    @classmethod
    def decode(cls, r: Reader, suite: CipherSuite) -> ExporterTree:
        """Inverse of :meth:`encode`; DecodeError for nodes outside the tree, wrong sizes,
        unsorted entries or two live nodes where one is an ancestor of the other."""
        items = r.vector(lambda rr: (rr.uint32(), rr.opaque()))
        nodes: dict[int, bytes] = {}
        prev = -1
        for x, secret in items:
            if x >= WIDTH or x <= prev or len(secret) != suite.n_h:
                raise DecodeError("exporter tree node outside the tree, unsorted or of the wrong size")
            nodes[x] = secret
            prev = x
        for x in nodes:
            y = x
            while y != ROOT:
                y = _parent(y)
                if y in nodes:
                    raise DecodeError("exporter tree holds a node and one of its ancestors")
        return cls._from_nodes(suite, nodes)

    @classmethod
    def from_bytes(cls, suite: CipherSuite, data: bytes) -> ExporterTree:
        return decode_exact(data, lambda r: cls.decode(r, suite))


def _level(x: int) -> int:
    """Number of trailing one bits of a node index (its height in the tree, RFC 9420 Appendix C)."""
    k = 0
    while (x >> k) & 1:
        k += 1
    return k


def _parent(x: int) -> int:
    """Parent of node ``x`` in the full tree (RFC 9420 Appendix C)."""
    k = _level(x)
    return x + (1 << k) if (x >> (k + 1)) & 1 == 0 else x - (1 << k)


def _check_id(component_id: int) -> int:
    if not isinstance(component_id, int) or not 0 <= component_id < N_LEAVES:
        raise DraftValidationError(f"component id {component_id!r} is not a uint16", "4.1")
    return component_id


def safe_export_secret(tree: ExporterTree, component_id: int) -> tuple[bytes, ExporterTree]:
    """``SafeExportSecret(ComponentID)`` (§4.4): the secret and the tree with it consumed."""
    return tree.export(component_id)
