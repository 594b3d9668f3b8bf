"""The secret tree and its per-sender hash ratchets (RFC 9420 §9), with the §9.2 deletion
schedule, a bounded window for out-of-order messages and a bounded forward distance.

**Lookups are pure.** :meth:`SecretTree.next_key` and :meth:`SecretTree.key_for` never
change the tree: they return a :class:`KeyUse` (the key/nonce) carrying a
:class:`RatchetChange` (the sender's new ratchet position and, for the first message of a
sender in the epoch, the node secrets consumed on the way down). The group applies the
change only once the message is accepted (AEAD and signature checks passed), with
:meth:`SecretTree.applied`, which returns a *new* tree in O(log N): node secrets and
ratchet positions live in persistent maps (:mod:`mls_pq.persistent`), so no per-message
O(N) copy is ever made and a rejected message changes nothing. (:meth:`SecretTree.commit_use`
is the in-place form of the same step, for the test-vector code.)

Deletion (§9.2): a node's secret is dropped as soon as both children are derived; a
leaf's secret once its two ratchets exist; a ratchet secret once the next generation is
derived; a key/nonce as soon as it has been used. Keys of skipped generations are kept so
late messages can be read — at most ``window`` of them, the newest — and are deleted when
used, so a replayed generation is rejected.

**Forward distance.** A message may be at most ``max_skip`` generations ahead of the
ratchet (OpenMLS calls this ``maximum_forward_distance``; the setting is
:attr:`~mls_pq.group.state.GroupOptions.max_skip`); beyond it
:class:`~mls_pq.errors.ForwardDistanceError` is raised before any derivation. A jump of
``d`` generations costs ``d`` chain steps plus at most ``window`` key/nonce derivations
(only the keys the window keeps are derived).

**Ratchet rows.** A :class:`RatchetPosition` (generation, chain secret, kept skipped
keys) is the unit a store writes per (epoch, sender leaf, content type);
:meth:`RatchetPosition.to_bytes` is::

    uint32 generation; opaque secret<V>; struct { uint32 generation; opaque key<V>; opaque nonce<V>; } skipped<V>;

(skipped in ascending generation order, all below ``generation``) and
:meth:`RatchetChange.to_bytes` (one accepted message's change) is::

    uint32 leaf; uint8 kind;            /* 1 handshake, 2 application */
    optional<RatchetPosition> prior;    /* absent: the leaf's ratchets are created now */
    RatchetPosition position;           /* the new row for (leaf, kind) */
    optional<RatchetPosition> sibling;  /* with prior absent: the other kind's new row */
    struct { uint32 node; optional<opaque secret<V>>; } nodes<V>;  /* set / deleted */

``prior`` makes applying a compare-and-swap: :meth:`SecretTree.applied` raises
:class:`~mls_pq.errors.StateError` if the tree's row is no longer ``prior``.

Serialisation of a whole tree (:meth:`SecretTree.to_bytes` / :meth:`SecretTree.from_bytes`,
or :meth:`SecretTree.encode` / :meth:`SecretTree.decode` inside a larger structure) is a
TLS-style encoding written by hand for this package (no MLS wire format exists for it):
the live node secrets and ratchets in sorted order, so encoding is deterministic. It
contains secrets: store it encrypted.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from .codec import Reader, Writer, decode_exact
from .errors import DecodeError, ForwardDistanceError, StateError, ValidationError
from .persistent import IntMap
from .suites import CipherSuite
from .tree import math as tm

HANDSHAKE = "handshake"
APPLICATION = "application"

#: ratchet kind <-> its code in the serialisation
_KIND_CODES = {HANDSHAKE: 1, APPLICATION: 2}
_KIND_NAMES = {code: name for name, code in _KIND_CODES.items()}
_OTHER = {HANDSHAKE: APPLICATION, APPLICATION: HANDSHAKE}

Skipped = tuple[tuple[int, bytes, bytes], ...]


@dataclass(frozen=True)
class RatchetPosition:
    """One sender's ratchet of one content type (RFC 9420 §9.1): the next generation, its
    chain secret, and the kept key/nonce pairs of skipped generations (ascending)."""

    secret: bytes
    generation: int = 0
    skipped: Skipped = ()

    def __repr__(self) -> str:
        return f"<RatchetPosition generation={self.generation} skipped={[g for g, _, _ in self.skipped]}>"

    def encode(self, w: Writer) -> None:
        w.uint32(self.generation).opaque(self.secret)
        w.vector(self.skipped, lambda ww, s: ww.uint32(s[0]).opaque(s[1]).opaque(s[2]))

    @classmethod
    def decode(cls, r: Reader, suite: CipherSuite) -> RatchetPosition:
        """Inverse of :meth:`encode`; :class:`~mls_pq.errors.DecodeError` on sizes or order."""
        gen, secret = r.uint32(), r.opaque()
        n_k, n_n = suite.aead.n_k, suite.aead.n_n

        def dec(rr: Reader) -> tuple[int, bytes, bytes]:
            g, key, nonce = rr.uint32(), rr.opaque(), rr.opaque()
            if len(key) != n_k or len(nonce) != n_n:
                raise DecodeError("skipped key/nonce of the wrong size")
            return g, key, nonce

        skipped = tuple(r.vector(dec))
        if len(secret) != suite.n_h:
            raise DecodeError("ratchet secret of the wrong size")
        gens = [g for g, _, _ in skipped]
        if any(g >= gen for g in gens) or any(a >= b for a, b in zip(gens, gens[1:])):
            raise DecodeError("skipped generations not ascending below the ratchet's generation")
        return cls(secret, gen, skipped)

    def to_bytes(self) -> bytes:
        w = Writer()
        self.encode(w)
        return w.getvalue()

    @classmethod
    def from_bytes(cls, suite: CipherSuite, data: bytes) -> RatchetPosition:
        return decode_exact(data, lambda r: cls.decode(r, suite))


#: the name used before ratchet positions became immutable
HashRatchet = RatchetPosition


@dataclass(frozen=True)
class RatchetChange:
    """What accepting one message changes in the secret tree: the row of (``leaf``,
    ``kind``) goes from ``prior`` to ``position``; when ``prior`` is None the leaf's two
    ratchets are created (``sibling`` is the other kind's first row) and ``nodes`` lists
    the node secrets derived (bytes) or consumed (None) on the way down (§9.2)."""

    leaf: int
    kind: str
    prior: RatchetPosition | None
    position: RatchetPosition
    sibling: RatchetPosition | None = None
    nodes: tuple[tuple[int, bytes | None], ...] = ()

    def __repr__(self) -> str:
        return f"<RatchetChange leaf={self.leaf} {self.kind} -> generation {self.position.generation}>"

    def encode(self, w: Writer) -> None:
        w.uint32(self.leaf).uint8(_KIND_CODES[self.kind])
        w.optional(self.prior, lambda ww, p: p.encode(ww))
        self.position.encode(w)
        w.optional(self.sibling, lambda ww, p: p.encode(ww))
        w.vector(self.nodes, lambda ww, n: ww.uint32(n[0]).optional(n[1], lambda w3, s: w3.opaque(s)))

    @classmethod
    def decode(cls, r: Reader, suite: CipherSuite) -> RatchetChange:
        leaf = r.uint32()
        kind = _KIND_NAMES.get(r.uint8())
        if kind is None:
            raise DecodeError("unknown ratchet kind")
        prior = r.optional(lambda rr: RatchetPosition.decode(rr, suite))
        position = RatchetPosition.decode(r, suite)
        sibling = r.optional(lambda rr: RatchetPosition.decode(rr, suite))
        nodes = tuple(r.vector(lambda rr: (rr.uint32(), rr.optional(lambda r3: r3.opaque()))))
        if (prior is None) != (sibling is not None):
            raise DecodeError("a ratchet change creates both ratchets of a leaf or neither")
        return cls(leaf, kind, prior, position, sibling, nodes)

    def to_bytes(self) -> bytes:
        w = Writer()
        self.encode(w)
        return w.getvalue()

    @classmethod
    def from_bytes(cls, suite: CipherSuite, data: bytes) -> RatchetChange:
        return decode_exact(data, lambda r: cls.decode(r, suite))


@dataclass(frozen=True)
class KeyUse:
    """A derived key/nonce and the change to apply to the tree if its use succeeds."""

    leaf: int
    kind: str
    generation: int
    key: bytes
    nonce: bytes
    change: RatchetChange

    @property
    def new_state(self) -> RatchetPosition:
        return self.change.position

    def __repr__(self) -> str:
        return f"<KeyUse leaf={self.leaf} {self.kind} generation={self.generation}>"


@lru_cache(maxsize=64)
def _info_prefix(label: str, length: int) -> bytes:
    """KDFLabel up to its context (RFC 9420 §8): uint16 length, opaque "MLS 1.0 " + label."""
    return Writer().uint16(length).opaque(b"MLS 1.0 " + label.encode()).getvalue()


def _tree_secret(suite: CipherSuite, secret: bytes, label: str, generation: int, length: int) -> bytes:
    """DeriveTreeSecret (RFC 9420 §9) with a cached label prefix (context: uint32, 4 octets)."""
    return suite.kdf.expand(secret, _info_prefix(label, length) + b"\x04" + generation.to_bytes(4, "big"), length)


def ratchet_key_nonce(suite: CipherSuite, secret: bytes, generation: int) -> tuple[bytes, bytes]:
    return (
        _tree_secret(suite, secret, "key", generation, suite.aead.n_k),
        _tree_secret(suite, secret, "nonce", generation, suite.aead.n_n),
    )


def _rkey(leaf: int, kind: str) -> int:
    return 2 * leaf + (_KIND_CODES[kind] - 1)


class SecretTree:
    """The secret tree of one epoch, rooted at ``encryption_secret``.

    Treat it as immutable: lookups are pure and :meth:`applied` returns a new tree
    sharing structure with this one."""

    def __init__(
        self, suite: CipherSuite, encryption_secret: bytes, n_leaves: int, max_skip: int = 1000, window: int = 128
    ) -> None:
        self.suite = suite
        self.n_leaves = n_leaves
        self.max_skip = max_skip
        self.window = window
        root = tm.root(n_leaves)
        self._nodes: IntMap[bytes] = IntMap[bytes](2 * root + 1).set(root, encryption_secret)
        self._ratchets: IntMap[RatchetPosition] = IntMap[RatchetPosition](2 * n_leaves)

    def __repr__(self) -> str:
        return f"<SecretTree leaves={self.n_leaves} live_nodes={len(self._nodes)} ratchets={len(self._ratchets)}>"

    def _with(self, nodes: IntMap[bytes], ratchets: IntMap[RatchetPosition]) -> SecretTree:
        other = SecretTree.__new__(SecretTree)
        other.suite, other.n_leaves, other.max_skip, other.window = self.suite, self.n_leaves, self.max_skip, self.window
        other._nodes, other._ratchets = nodes, ratchets
        return other

    def copy(self) -> SecretTree:
        """O(1): the persistent maps are shared."""
        return self._with(self._nodes, self._ratchets)

    # ---- positions (one storage row each) ----------------------------------------------
    def position(self, leaf: int, kind: str) -> RatchetPosition | None:
        """The ratchet row of (``leaf``, ``kind``), or None if the leaf has not been used."""
        if not 0 <= leaf < self.n_leaves:
            return None
        return self._ratchets.get(_rkey(leaf, kind))

    def positions(self) -> Iterator[tuple[int, str, RatchetPosition]]:
        """Every ratchet row as (leaf, kind, position), in (leaf, kind code) order."""
        for k, r in self._ratchets.items():
            yield k >> 1, (HANDSHAKE if k & 1 == 0 else APPLICATION), r

    def node_secrets(self) -> Iterator[tuple[int, bytes]]:
        """The live node secrets as (node index, secret), ascending (§9.2: only nodes not
        yet consumed)."""
        return self._nodes.items()

    @classmethod
    def from_parts(
        cls,
        suite: CipherSuite,
        n_leaves: int,
        nodes: Iterable[tuple[int, bytes]],
        positions: Iterable[tuple[int, str, RatchetPosition]],
        *,
        max_skip: int = 1000,
        window: int = 128,
    ) -> SecretTree:
        """A tree from stored rows (the inverse of :meth:`node_secrets` and :meth:`positions`),
        for a store that keeps them as rows rather than as one :meth:`to_bytes` blob.
        :class:`~mls_pq.errors.DecodeError` for rows outside the tree or of the wrong size."""
        w = Writer()
        w.uint32(n_leaves).uint32(max_skip).uint32(window)
        w.vector(sorted(nodes), lambda ww, kv: ww.uint32(kv[0]).opaque(kv[1]))

        def enc(ww: Writer, item: tuple[int, str, RatchetPosition]) -> None:
            leaf, kind, r = item
            if kind not in _KIND_CODES:
                raise DecodeError(f"unknown ratchet kind {kind!r}")
            ww.uint32(leaf).uint8(_KIND_CODES[kind]).opaque(r.secret).uint32(r.generation)
            ww.vector(r.skipped, lambda w3, g: w3.uint32(g[0]).opaque(g[1]).opaque(g[2]))

        w.vector(sorted(positions, key=lambda p: (p[0], _KIND_CODES.get(p[1], 0))), enc)
        return cls.from_bytes(suite, w.getvalue())

    # ---- serialisation -----------------------------------------------------------------
    def encode(self, w: Writer) -> None:
        """Append the tree's state: ``n_leaves``, ``max_skip``, ``window``, the live node
        secrets by node index, and every ratchet (leaf, kind, secret, generation, skipped
        keys) in (leaf, kind) order."""
        w.uint32(self.n_leaves).uint32(self.max_skip).uint32(self.window)
        w.vector(list(self._nodes.items()), lambda ww, kv: ww.uint32(kv[0]).opaque(kv[1]))

        def enc_ratchet(ww: Writer, item: tuple[int, str, RatchetPosition]) -> None:
            leaf, kind, r = item
            ww.uint32(leaf).uint8(_KIND_CODES[kind]).opaque(r.secret).uint32(r.generation)
            ww.vector(r.skipped, lambda w3, g: w3.uint32(g[0]).opaque(g[1]).opaque(g[2]))

        w.vector(list(self.positions()), enc_ratchet)

    @classmethod
    def decode(cls, r: Reader, suite: CipherSuite) -> SecretTree:
        """Read what :meth:`encode` wrote; raises :class:`~mls_pq.errors.DecodeError` for
        malformed or inconsistent input (indices outside the tree, wrong secret sizes)."""
        n_leaves, max_skip, window = r.uint32(), r.uint32(), r.uint32()
        if n_leaves == 0:
            raise DecodeError("secret tree without leaves")
        width = 2 * tm.root(n_leaves) + 1  # nodes of the smallest full tree over the leaves
        n_h, n_k, n_n = suite.n_h, suite.aead.n_k, suite.aead.n_n

        def dec_node(rr: Reader) -> tuple[int, bytes]:
            x, secret = rr.uint32(), rr.opaque()
            if x >= width or len(secret) != n_h:
                raise DecodeError("secret tree node outside the tree or of the wrong size")
            return x, secret

        def dec_skipped(rr: Reader) -> tuple[int, bytes, bytes]:
            g, key, nonce = rr.uint32(), rr.opaque(), rr.opaque()
            if len(key) != n_k or len(nonce) != n_n:
                raise DecodeError("skipped key/nonce of the wrong size")
            return g, key, nonce

        def dec_ratchet(rr: Reader) -> tuple[int, RatchetPosition]:
            leaf = rr.uint32()
            kind = _KIND_NAMES.get(rr.uint8())
            if kind is None or leaf >= n_leaves:
                raise DecodeError("unknown ratchet kind or leaf outside the tree")
            secret, gen = rr.opaque(), rr.uint32()
            if len(secret) != n_h:
                raise DecodeError("ratchet secret of the wrong size")
            skipped = tuple(sorted(rr.vector(dec_skipped)))
            gens = [g for g, _, _ in skipped]
            if any(g >= gen for g in gens) or len(set(gens)) != len(gens):
                raise DecodeError("skipped generation repeated or not below the ratchet's generation")
            return _rkey(leaf, kind), RatchetPosition(secret, gen, skipped)

        nodes = r.vector(dec_node)
        ratchets = r.vector(dec_ratchet)
        out = cls(suite, bytes(n_h), n_leaves, max_skip, window)
        out._nodes = IntMap[bytes](width).update(nodes)
        out._ratchets = IntMap[RatchetPosition](2 * n_leaves).update(ratchets)
        if len(out._nodes) != len(nodes) or len(out._ratchets) != len(ratchets):
            raise DecodeError("secret tree repeats a node or a ratchet")
        return out

    def to_bytes(self) -> bytes:
        """The whole state as bytes (contains secrets)."""
        w = Writer()
        self.encode(w)
        return w.getvalue()

    @classmethod
    def from_bytes(cls, suite: CipherSuite, data: bytes) -> SecretTree:
        """Inverse of :meth:`to_bytes`: ``from_bytes(s, t.to_bytes()).to_bytes() == t.to_bytes()``."""
        return decode_exact(data, lambda r: cls.decode(r, suite))

    # ---- tree descent (pure) -----------------------------------------------------------
    def _descend(self, leaf: int) -> tuple[bytes, list[tuple[int, bytes | None]]]:
        """The leaf's secret and the node changes of deriving it (§9.2: each parent on the
        way is deleted once both children exist; the leaf secret is consumed)."""
        target = tm.leaf_to_node(leaf)
        nodes = self._nodes
        got = nodes.get(target)
        if got is not None:
            return got, [(target, None)]
        path = [target] + tm.direct_path(target, self.n_leaves)
        start = next((i for i, x in enumerate(path) if x in nodes), None)
        if start is None:
            raise ValidationError(f"the secret of leaf {leaf} is gone", "9.2")  # cannot happen: kept until used
        suite, n_h = self.suite, self.suite.n_h
        changes: list[tuple[int, bytes | None]] = []
        secret = nodes.get(path[start])
        assert secret is not None
        for i in range(start, 0, -1):
            node = path[i]
            left = suite.expand_with_label(secret, "tree", b"left", n_h)
            right = suite.expand_with_label(secret, "tree", b"right", n_h)
            changes.append((node, None))
            child = path[i - 1]
            if child == tm.left(node):
                changes.append((tm.right(node), right))
                secret = left
            else:
                changes.append((tm.left(node), left))
                secret = right
        changes.append((target, None))
        return secret, changes

    def _ratchet(self, leaf: int, kind: str) -> tuple[RatchetPosition | None, RatchetPosition, RatchetChange | None]:
        """(prior row, current position, creation template) of (leaf, kind), without
        changing anything; the template carries the sibling row and node changes."""
        if not 0 <= leaf < self.n_leaves:
            raise ValidationError(f"leaf index {leaf} is outside the tree of {self.n_leaves} leaves", "9")
        r = self._ratchets.get(_rkey(leaf, kind))
        if r is not None:
            return r, r, None
        if _rkey(leaf, _OTHER[kind]) in self._ratchets:
            raise ValidationError(f"ratchet of leaf {leaf} is gone", "9.2")  # cannot happen: both made together
        secret, nodes = self._descend(leaf)
        n_h = self.suite.n_h
        mine = RatchetPosition(self.suite.expand_with_label(secret, kind, b"", n_h))
        other = RatchetPosition(self.suite.expand_with_label(secret, _OTHER[kind], b"", n_h))
        return None, mine, RatchetChange(leaf, kind, None, mine, other, tuple(nodes))

    # ---- key access (pure) -------------------------------------------------------------
    def next_key(self, leaf: int, kind: str) -> KeyUse:
        """The key/nonce for sending the next message of ``kind`` from ``leaf``."""
        prior, r, created = self._ratchet(leaf, kind)
        return self._derive(leaf, kind, prior, r, r.generation, created)

    def key_for(self, leaf: int, kind: str, generation: int) -> KeyUse:
        """The key/nonce of a received message's generation; raises on replay (§9.2) or
        :class:`~mls_pq.errors.ForwardDistanceError` beyond ``max_skip`` ahead."""
        prior, r, created = self._ratchet(leaf, kind)
        if generation < r.generation:
            for i, (g, key, nonce) in enumerate(r.skipped):
                if g == generation:
                    pos = RatchetPosition(r.secret, r.generation, r.skipped[:i] + r.skipped[i + 1 :])
                    return KeyUse(leaf, kind, generation, key, nonce, RatchetChange(leaf, kind, prior, pos))
            raise ValidationError(
                f"generation {generation} of leaf {leaf} ({kind}) was already used or has expired", "9.2"
            )
        if generation - r.generation > self.max_skip:
            raise ForwardDistanceError(
                f"generation {generation} is {generation - r.generation} ahead of {r.generation}; "
                f"the maximum forward distance is {self.max_skip}",
                "9.2",
            )
        return self._derive(leaf, kind, prior, r, generation, created)

    def _derive(
        self,
        leaf: int,
        kind: str,
        prior: RatchetPosition | None,
        r: RatchetPosition,
        generation: int,
        created: RatchetChange | None,
    ) -> KeyUse:
        suite, n_h, window = self.suite, self.suite.n_h, self.window
        secret, gen = r.secret, r.generation
        keep_from = generation - window  # only generations the window keeps get a key/nonce
        new: list[tuple[int, bytes, bytes]] = []
        if gen < generation:
            expand = suite.kdf.expand  # hot loop: one HKDF-Expand per step (DeriveTreeSecret, §9)
            step = _info_prefix("secret", n_h) + b"\x04"
            while gen < generation:
                if gen >= keep_from:
                    new.append((gen, *ratchet_key_nonce(suite, secret, gen)))
                secret = expand(secret, step + gen.to_bytes(4, "big"), n_h)
                gen += 1
        key, nonce = ratchet_key_nonce(suite, secret, gen)
        skipped = r.skipped + tuple(new) if new else r.skipped
        if len(skipped) > window:
            skipped = skipped[len(skipped) - window :]
        pos = RatchetPosition(_tree_secret(suite, secret, "secret", gen, n_h), gen + 1, skipped)
        if created is not None:
            change = RatchetChange(leaf, kind, None, pos, created.sibling, created.nodes)
        else:
            change = RatchetChange(leaf, kind, prior, pos)
        return KeyUse(leaf, kind, generation, key, nonce, change)

    # ---- applying a change -------------------------------------------------------------
    def applied(self, use: KeyUse | RatchetChange) -> SecretTree:
        """A new tree with the change installed (the used key thereby deleted), in
        O(log N). :class:`~mls_pq.errors.StateError` if the change was computed on another
        position of this ratchet (compare-and-swap on ``prior``)."""
        ch = use.change if isinstance(use, KeyUse) else use
        if not 0 <= ch.leaf < self.n_leaves:
            raise StateError(f"ratchet change for leaf {ch.leaf} outside the tree")
        key = _rkey(ch.leaf, ch.kind)
        current = self._ratchets.get(key)
        if current is not ch.prior and current != ch.prior:
            raise StateError(f"stale ratchet change for leaf {ch.leaf} ({ch.kind})")
        ratchets = self._ratchets.set(key, ch.position)
        nodes = self._nodes
        if ch.prior is None:
            if ch.sibling is None:
                raise StateError("a ratchet change that creates a leaf's ratchets needs both")
            ratchets = ratchets.set(_rkey(ch.leaf, _OTHER[ch.kind]), ch.sibling)
            nodes = nodes.update(ch.nodes)
        return self._with(nodes, ratchets)

    def commit_use(self, use: KeyUse) -> None:
        """In-place form of :meth:`applied` (for code that owns the tree, e.g. vectors)."""
        new = self.applied(use)
        self._nodes, self._ratchets = new._nodes, new._ratchets

    def peek(self, leaf: int, kind: str, generation: int) -> tuple[bytes, bytes]:
        """Key/nonce of a generation without consuming (for test vectors)."""
        use = self.key_for(leaf, kind, generation)
        return use.key, use.nonce


def sender_data_key_nonce(suite: CipherSuite, sender_data_secret: bytes, ciphertext: bytes) -> tuple[bytes, bytes]:
    """sender_data_key / sender_data_nonce from the ciphertext sample (RFC 9420 §6.3.2)."""
    sample = ciphertext[: suite.n_h]
    return (
        suite.expand_with_label(sender_data_secret, "key", sample, suite.aead.n_k),
        suite.expand_with_label(sender_data_secret, "nonce", sample, suite.aead.n_n),
    )
