"""The secret tree and its per-sender hash ratchets (RFC 9420 §9), with the §9.2 deletion
schedule and a bounded window for out-of-order messages.

Deletion (§9.2): a node's secret is dropped as soon as both children are derived; a
leaf's secret once its two ratchets exist; a ratchet secret once the next generation is
derived; a key/nonce as soon as it has been used. Keys of skipped generations are kept
(up to ``max_skip`` ahead, at most ``window`` of them) so late messages can be read, and
are deleted when used, so a replayed generation is rejected.

State changes only after the caller reports success (:meth:`SecretTree.commit_use`), so a
message that fails to decrypt leaves the tree exactly as it was.

Serialisation (:meth:`SecretTree.to_bytes` / :meth:`SecretTree.from_bytes`, or
:meth:`SecretTree.encode` / :meth:`SecretTree.decode` inside a larger structure) is a
TLS-style encoding written by hand for this package (no MLS wire format exists for it):
the live node secrets and ratchets in sorted order, so encoding is deterministic. It
contains secrets: store it encrypted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .codec import Reader, Writer
from .errors import DecodeError, ValidationError
from .suites import CipherSuite
from .tree import math as tm

HANDSHAKE = "handshake"
APPLICATION = "application"

#: ratchet kind <-> its code in the serialisation
_KIND_CODES = {HANDSHAKE: 1, APPLICATION: 2}
_KIND_NAMES = {code: name for name, code in _KIND_CODES.items()}


@dataclass
class HashRatchet:
    """One sender's ratchet of one content type (RFC 9420 §9.1)."""

    secret: bytes
    generation: int = 0
    skipped: dict[int, tuple[bytes, bytes]] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"<HashRatchet generation={self.generation} skipped={sorted(self.skipped)}>"


@dataclass(frozen=True)
class KeyUse:
    """A derived key/nonce and the ratchet state to install if its use succeeds."""

    leaf: int
    kind: str
    generation: int
    key: bytes
    nonce: bytes
    new_state: HashRatchet

    def __repr__(self) -> str:
        return f"<KeyUse leaf={self.leaf} {self.kind} generation={self.generation}>"


def ratchet_key_nonce(suite: CipherSuite, secret: bytes, generation: int) -> tuple[bytes, bytes]:
    return (
        suite.derive_tree_secret(secret, "key", generation, suite.aead.n_k),
        suite.derive_tree_secret(secret, "nonce", generation, suite.aead.n_n),
    )


class SecretTree:
    """The secret tree of one epoch, rooted at ``encryption_secret``."""

    def __init__(
        self, suite: CipherSuite, encryption_secret: bytes, n_leaves: int, max_skip: int = 1000, window: int = 128
    ) -> None:
        self.suite = suite
        self.n_leaves = n_leaves
        self.max_skip = max_skip
        self.window = window
        self._nodes: dict[int, bytes] = {tm.root(n_leaves): encryption_secret}
        self._ratchets: dict[tuple[int, str], HashRatchet] = {}

    def __repr__(self) -> str:
        return f"<SecretTree leaves={self.n_leaves} live_nodes={len(self._nodes)} ratchets={len(self._ratchets)}>"

    def copy(self) -> SecretTree:
        other = SecretTree.__new__(SecretTree)
        other.suite, other.n_leaves, other.max_skip, other.window = self.suite, self.n_leaves, self.max_skip, self.window
        other._nodes = dict(self._nodes)
        other._ratchets = {
            k: HashRatchet(r.secret, r.generation, dict(r.skipped)) for k, r in self._ratchets.items()
        }
        return other

    # ---- serialisation -----------------------------------------------------------------
    def encode(self, w: Writer) -> None:
        """Append the tree's state: ``n_leaves``, ``max_skip``, ``window``, the live node
        secrets by node index, and every ratchet (leaf, kind, secret, generation, skipped
        keys) in (leaf, kind) order."""
        w.uint32(self.n_leaves).uint32(self.max_skip).uint32(self.window)
        w.vector(sorted(self._nodes.items()), lambda ww, kv: ww.uint32(kv[0]).opaque(kv[1]))

        def enc_ratchet(ww: Writer, item: tuple[tuple[int, str], HashRatchet]) -> None:
            (leaf, kind), r = item
            ww.uint32(leaf).uint8(_KIND_CODES[kind]).opaque(r.secret).uint32(r.generation)
            ww.vector(sorted(r.skipped.items()), lambda w3, g: w3.uint32(g[0]).opaque(g[1][0]).opaque(g[1][1]))

        w.vector(sorted(self._ratchets.items(), key=lambda kv: (kv[0][0], _KIND_CODES[kv[0][1]])), enc_ratchet)

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

        def dec_skipped(rr: Reader) -> tuple[int, tuple[bytes, bytes]]:
            g, key, nonce = rr.uint32(), rr.opaque(), rr.opaque()
            if len(key) != n_k or len(nonce) != n_n:
                raise DecodeError("skipped key/nonce of the wrong size")
            return g, (key, nonce)

        def dec_ratchet(rr: Reader) -> tuple[tuple[int, str], HashRatchet]:
            leaf = rr.uint32()
            kind = _KIND_NAMES.get(rr.uint8())
            if kind is None or leaf >= n_leaves:
                raise DecodeError("unknown ratchet kind or leaf outside the tree")
            secret, gen = rr.opaque(), rr.uint32()
            if len(secret) != n_h:
                raise DecodeError("ratchet secret of the wrong size")
            skipped = dict(rr.vector(dec_skipped))
            if any(g >= gen for g in skipped):
                raise DecodeError("skipped generation not below the ratchet's generation")
            return (leaf, kind), HashRatchet(secret, gen, skipped)

        nodes = r.vector(dec_node)
        ratchets = r.vector(dec_ratchet)
        out = cls.__new__(cls)
        out.suite, out.n_leaves, out.max_skip, out.window = suite, n_leaves, max_skip, window
        out._nodes = dict(nodes)
        out._ratchets = dict(ratchets)
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
        r = Reader(data)
        out = cls.decode(r, suite)
        r.done()
        return out

    # ---- tree descent ------------------------------------------------------------------
    def _leaf_secret(self, leaf: int) -> bytes:
        if not 0 <= leaf < self.n_leaves:
            raise ValidationError(f"leaf index {leaf} is outside the tree of {self.n_leaves} leaves", "9")
        target = tm.leaf_to_node(leaf)
        if target in self._nodes:
            return self._nodes.pop(target)
        # walk down from the nearest stored ancestor, deriving both children and deleting the parent
        path = [target] + tm.direct_path(target, self.n_leaves)
        start = next(i for i, x in enumerate(path) if x in self._nodes)
        for i in range(start, 0, -1):
            node = path[i]
            secret = self._nodes.pop(node)
            self._nodes[tm.left(node)] = self.suite.expand_with_label(secret, "tree", b"left", self.suite.n_h)
            self._nodes[tm.right(node)] = self.suite.expand_with_label(secret, "tree", b"right", self.suite.n_h)
        return self._nodes.pop(target)

    def _ratchet(self, leaf: int, kind: str) -> HashRatchet:
        r = self._ratchets.get((leaf, kind))
        if r is None:
            if (leaf, HANDSHAKE) in self._ratchets or (leaf, APPLICATION) in self._ratchets:
                raise ValidationError(f"ratchet of leaf {leaf} is gone", "9.2")  # cannot happen: both made together
            secret = self._leaf_secret(leaf)
            for k in (HANDSHAKE, APPLICATION):
                self._ratchets[(leaf, k)] = HashRatchet(self.suite.expand_with_label(secret, k, b"", self.suite.n_h))
            r = self._ratchets[(leaf, kind)]
        return r

    # ---- key access --------------------------------------------------------------------
    def next_key(self, leaf: int, kind: str) -> KeyUse:
        """The key/nonce for sending the next message of ``kind`` from ``leaf``."""
        r = self._ratchet(leaf, kind)
        return self._derive(leaf, kind, r, r.generation)

    def key_for(self, leaf: int, kind: str, generation: int) -> KeyUse:
        """The key/nonce of a received message's generation; raises on replay or too far ahead."""
        r = self._ratchet(leaf, kind)
        if generation < r.generation:
            if generation in r.skipped:
                key, nonce = r.skipped[generation]
                skipped = dict(r.skipped)
                del skipped[generation]
                return KeyUse(leaf, kind, generation, key, nonce, HashRatchet(r.secret, r.generation, skipped))
            raise ValidationError(
                f"generation {generation} of leaf {leaf} ({kind}) was already used or has expired", "9.2"
            )
        if generation - r.generation > self.max_skip:
            raise ValidationError(
                f"generation {generation} is more than {self.max_skip} ahead of {r.generation}", "9.2"
            )
        return self._derive(leaf, kind, r, generation)

    def _derive(self, leaf: int, kind: str, r: HashRatchet, generation: int) -> KeyUse:
        suite = self.suite
        secret, gen = r.secret, r.generation
        skipped = dict(r.skipped)
        while gen < generation:
            skipped[gen] = ratchet_key_nonce(suite, secret, gen)
            secret = suite.derive_tree_secret(secret, "secret", gen, suite.n_h)
            gen += 1
        key, nonce = ratchet_key_nonce(suite, secret, gen)
        next_secret = suite.derive_tree_secret(secret, "secret", gen, suite.n_h)
        while len(skipped) > self.window:
            del skipped[min(skipped)]
        return KeyUse(leaf, kind, generation, key, nonce, HashRatchet(next_secret, gen + 1, skipped))

    def commit_use(self, use: KeyUse) -> None:
        """Install the ratchet state after a successful use; the used key is thereby deleted."""
        self._ratchets[(use.leaf, use.kind)] = use.new_state

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
