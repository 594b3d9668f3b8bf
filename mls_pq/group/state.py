"""The per-epoch group state (RFC 9420 §8, §9, §11, §12) and its byte serialisation.

A :class:`GroupState` is a frozen snapshot of everything one member knows about one epoch
of a group: the suite, the GroupContext, the public ratchet tree, the epoch's secrets,
the secret tree (with the ratchet positions reached so far), the interim transcript hash,
the member's own leaf index and private keys, the proposals cached during the epoch
(by ProposalRef) and the resumption PSKs of recent epochs.

Immutability: a GroupState is never changed in place. The mutable helpers it holds
(:class:`~mls_pq.tree.ratchet_tree.RatchetTree`, :class:`~mls_pq.secret_tree.SecretTree`,
:class:`~mls_pq.treekem.PrivateTree`) are treated as read-only; every operation that needs
to change them works on a copy and builds a new GroupState, which the caller swaps in only
once every check has passed. Hence a rejected message leaves ``state.to_bytes()`` unchanged.

Serialisation (:meth:`GroupState.to_bytes`) is a versioned TLS-style encoding written by
hand for this package (no MLS wire format exists for it); maps are written in sorted key
order so that ``from_bytes(x).to_bytes() == x``. It contains secrets: store it encrypted.

Restored state is never trusted blindly (:meth:`GroupState.from_bytes`): the encoding ends
with a SHA-256 digest of everything before it, checked first (a flipped bit anywhere is
:class:`~mls_pq.errors.CorruptStateError`), and then every field is decoded with bounds and
cross-checked (sizes of secrets, indices inside the tree, epochs, option limits), so a
malformed state is one typed ``CorruptStateError`` (a ``StateError`` and a ``DecodeError``),
never an IndexError, StopIteration or MemoryError. The digest detects accidental
corruption (storage faults, truncation, bit rot); it has no key, so it does NOT stop someone
who can write the stored bytes from forging a consistent state: protect the storage itself.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
import hashlib
import hmac
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from ..codec import Reader, Writer
from ..errors import CorruptStateError, DecodeError, MLSError, UnsupportedCipherSuite, ValidationError
from ..group_context import GroupContext
from ..key_schedule import EpochSecrets
from ..messages.framing_structs import Sender, SenderType, WireFormat
from ..messages.leaf_node import LeafNode
from ..messages.proposals import Proposal, ReInit
from ..secret_tree import SecretTree
from ..suites import CipherSuite, get_suite
from ..tree.ratchet_tree import RatchetTree
from ..treekem import PrivateTree
from .past_epochs import PastEpoch
from .proposal_index import IndexCache, appended, index_for
from .validation import CapSummary

if TYPE_CHECKING:
    from collections.abc import Callable

STATE_MAGIC = b"MLSPQ-GROUP-STATE"
STATE_VERSION = 2  # 2: trailing SHA-256 digest
#: largest ``padding_block`` (RFC 9420 §6.3.1 padding is at most ``padding_block - 1`` zeros)
MAX_PADDING_BLOCK = 1 << 16
_DIGEST_SIZE = 32


def seal_digest(body: bytes, label: bytes) -> bytes:
    """``body`` followed by SHA-256(``label`` || ``body``): an integrity check against
    corruption (no key: not against deliberate forgery)."""
    return body + hashlib.sha256(label + body).digest()


def open_digest(data: object, label: bytes, what: str) -> bytes:
    """The body of :func:`seal_digest` output; CorruptStateError if the digest is wrong."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise CorruptStateError(f"{what} must be bytes, not {type(data).__name__}")
    raw = bytes(data)
    if len(raw) < _DIGEST_SIZE:
        raise CorruptStateError(f"{what} is truncated")
    body, digest = raw[:-_DIGEST_SIZE], raw[-_DIGEST_SIZE:]
    if not hmac.compare_digest(digest, hashlib.sha256(label + body).digest()):
        raise CorruptStateError(f"{what} failed its integrity check (corrupted)")
    return body

#: the EpochSecrets fields a member keeps after the epoch is set up (RFC 9420 §8, §9.2:
#: joiner/welcome/epoch/encryption secrets are deleted once used)
_KEPT_SECRETS = (
    "sender_data_secret",
    "exporter_secret",
    "external_secret",
    "confirmation_key",
    "membership_key",
    "resumption_psk",
    "epoch_authenticator",
    "init_secret",
)
_DROPPED_SECRETS = ("joiner_secret", "welcome_secret", "epoch_secret", "encryption_secret")


def forget_used_secrets(secrets: EpochSecrets) -> EpochSecrets:
    """A copy without the secrets that are only needed while the epoch is set up (§9.2)."""
    return replace(secrets, **{name: b"" for name in _DROPPED_SECRETS})  # type: ignore[arg-type]


@dataclass(frozen=True)
class GroupOptions:
    """Per-member policy (not part of the protocol, but saved with the state).

    - ``handshake_wire_format``: PublicMessage (1) or PrivateMessage (2) for proposals/commits.
    - ``padding_block``: pad PrivateMessage plaintexts to a multiple of this many octets (0: none), §6.3.1.
    - ``max_skip``: the maximum forward distance (OpenMLS: ``maximum_forward_distance``):
      a PrivateMessage more than this many generations ahead of its sender's ratchet is
      rejected with :class:`~mls_pq.errors.ForwardDistanceError` before any key is derived
      (§9.2; bounds what one sender can make every receiver compute). Default 1000.
    - ``window``: how many skipped generations' keys a ratchet keeps for out-of-order
      messages (the newest ones; §9.2). Default 128.
    - ``ratchet_tree_extension``: put the ``ratchet_tree`` extension in GroupInfos we build (§12.4.3.3).
    - ``external_pub``: put the ``external_pub`` extension in GroupInfos we build (§12.4.3.2).
    - ``resumption_epochs``: how many past epochs' resumption PSKs are kept (§8.6).
    - ``max_past_epochs`` (OpenMLS: ``max_past_epochs``): how many past epochs' secret trees
      are kept to decrypt late application messages (§9.2, §12.4.2; see
      :mod:`mls_pq.group.past_epochs`). Default 1: a message sent just before a commit and
      delivered after it is still readable, while the unconsumed secrets of only one past
      epoch stay exposed to a state compromise (forward secrecy, §16.4) — each further
      epoch widens that window. 0 disables it.
    """

    handshake_wire_format: int = int(WireFormat.PUBLIC_MESSAGE)
    padding_block: int = 0
    max_skip: int = 1000
    window: int = 128
    ratchet_tree_extension: bool = True
    external_pub: bool = True
    resumption_epochs: int = 8
    max_past_epochs: int = 1

    def __post_init__(self) -> None:
        if self.handshake_wire_format not in (WireFormat.PUBLIC_MESSAGE, WireFormat.PRIVATE_MESSAGE):
            raise ValidationError("handshake messages are PublicMessage or PrivateMessage", "6")
        if self.padding_block > MAX_PADDING_BLOCK:
            raise ValidationError(f"padding_block is at most {MAX_PADDING_BLOCK}", "6.3.1")
        if min(self.padding_block, self.max_skip, self.window, self.resumption_epochs, self.max_past_epochs) < 0:
            raise ValidationError("group options must be non-negative", "6.3.1")

    def encode(self, w: Writer) -> None:
        """The options' private serialisation (saved with the group state; not a wire struct)."""
        w.uint16(self.handshake_wire_format).uint32(self.padding_block).uint32(self.max_skip).uint32(self.window)
        w.boolean(self.ratchet_tree_extension).boolean(self.external_pub).uint32(self.resumption_epochs)
        w.uint32(self.max_past_epochs)

    @classmethod
    def decode(cls, r: Reader) -> GroupOptions:
        """Inverse of :meth:`encode`; the values are validated as by the constructor."""
        return cls(r.uint16(), r.uint32(), r.uint32(), r.uint32(), r.boolean(), r.boolean(), r.uint32(), r.uint32())


@dataclass(frozen=True, repr=False)
class OwnUpdate:
    """Private keys of a leaf we proposed in an Update (installed if it is committed)."""

    encryption_priv: bytes
    signature_priv: bytes

    def __repr__(self) -> str:
        return "OwnUpdate(<secret>)"


@dataclass(frozen=True)
class CachedProposal:
    """A proposal received (or sent) in this epoch, retrievable by its ProposalRef (§12.1)."""

    ref: bytes
    proposal: Proposal
    sender: Sender
    own: OwnUpdate | None = field(default=None, compare=False)


@dataclass(frozen=True)
class GroupState:
    """One member's view of one epoch. See the module docstring for the immutability rule."""

    suite: CipherSuite
    context: GroupContext
    tree: RatchetTree
    secrets: EpochSecrets
    secret_tree: SecretTree
    interim_transcript_hash: bytes
    confirmation_tag: bytes
    private: PrivateTree
    proposals: tuple[CachedProposal, ...] = ()
    #: (epoch, resumption_psk) of this and recent epochs, oldest first (RFC 9420 §8.6)
    resumption_psks: tuple[tuple[int, bytes], ...] = ()
    options: GroupOptions = field(default_factory=GroupOptions)
    #: False once we were removed or a ReInit was committed (§11.2, §12.4.2)
    active: bool = True
    #: the ReInit committed in the previous epoch, if any (§11.2)
    reinit: ReInit | None = None
    #: secret trees of the last ``options.max_past_epochs`` epochs, oldest first (§9.2)
    past_epochs: tuple[PastEpoch, ...] = ()
    #: (tree, its capability summary): a per-tree cache, valid while ``tree`` is this
    #: state's tree; carried over by :meth:`evolve`, never serialised
    cap_cache: tuple[RatchetTree, CapSummary] | None = field(default=None, compare=False, repr=False)
    #: ProposalRef -> position of ``proposals`` (:mod:`.proposal_index`): valid while its
    #: tuple is this state's ``proposals``; carried over by :meth:`evolve`, never serialised
    proposal_index: IndexCache | None = field(default=None, compare=False, repr=False)

    def __repr__(self) -> str:
        return (
            f"<GroupState suite=0x{self.suite.id:04x} epoch={self.context.epoch} leaf={self.private.leaf_index}"
            f" members={self.tree.member_count()}{'' if self.active else ' inactive'}>"
        )

    # ---- convenience ---------------------------------------------------------------------
    @property
    def epoch(self) -> int:
        return self.context.epoch

    @property
    def group_id(self) -> bytes:
        return self.context.group_id

    @property
    def leaf_index(self) -> int:
        return self.private.leaf_index

    @property
    def own_leaf(self) -> LeafNode:
        leaf = self.tree.leaf(self.private.leaf_index)
        if leaf is None:
            raise ValidationError("our own leaf is blank", "4.2")
        return leaf

    def member_key(self) -> Callable[[int], bytes | None]:
        """leaf index -> signature key (None for blank/out of range), for :mod:`mls_pq.framing`."""
        tree = self.tree

        def key(i: int) -> bytes | None:
            if not 0 <= i < tree.n_leaves:
                return None
            leaf = tree.leaf(i)
            return None if leaf is None else leaf.signature_key

        return key

    def proposal(self, ref: bytes) -> CachedProposal | None:
        """The cached proposal with ProposalRef ``ref`` (§12.1), or None; O(1)."""
        cache = self.proposal_index
        if cache is None or cache[0] is not self.proposals:
            cache = (self.proposals, index_for(self.proposals, None))
            object.__setattr__(self, "proposal_index", cache)  # a cache field (compare=False)
        return cache[1].find(self.proposals, ref)

    def with_proposal(self, cached: CachedProposal) -> GroupState:
        """This state with ``cached`` appended to ``proposals`` (its index extended in O(1))."""
        proposals, cache = appended(self.proposals, self.proposal_index, cached)
        return dataclasses.replace(self, proposals=proposals, proposal_index=cache)

    def resumption_psk(self, epoch: int) -> bytes | None:
        for e, psk in self.resumption_psks:
            if e == epoch:
                return psk
        return None

    def past_epoch(self, epoch: int) -> PastEpoch | None:
        for p in self.past_epochs:
            if p.epoch == epoch:
                return p
        return None

    def evolve(self, **changes: object) -> GroupState:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def with_secret_tree(self, st: SecretTree) -> GroupState:
        return dataclasses.replace(self, secret_tree=st)

    # ---- serialisation -----------------------------------------------------------------
    def to_bytes(self) -> bytes:
        """Versioned, deterministic encoding of the whole state (contains secrets)."""
        w = Writer()
        w.opaque(STATE_MAGIC).uint16(STATE_VERSION)
        w.uint16(self.suite.id).opaque(self.suite.profile.encode())
        self.context.encode(w)
        w.opaque(self.tree.to_bytes())
        for name in _KEPT_SECRETS:
            w.opaque(getattr(self.secrets, name))
        self.secret_tree.encode(w)
        w.opaque(self.interim_transcript_hash).opaque(self.confirmation_tag)
        _encode_private(w, self.private)
        w.vector(self.proposals, _encode_cached)
        w.vector(self.resumption_psks, lambda ww, ep: ww.uint64(ep[0]).opaque(ep[1]))
        self.options.encode(w)
        w.boolean(self.active)
        w.optional(self.reinit, lambda ww, ri: ri.encode(ww))
        w.vector(self.past_epochs, lambda ww, p: p.encode(ww))
        return seal_digest(w.getvalue(), STATE_MAGIC)

    @classmethod
    def from_bytes(cls, data: bytes, suite: CipherSuite | None = None) -> GroupState:
        """Decode :meth:`to_bytes` output. ``suite`` overrides the registry lookup (e.g. a
        suite built over counting adapters); its id must match. CorruptStateError if the
        digest or any field is wrong (see the module docstring)."""
        body = open_digest(data, STATE_MAGIC, "stored group state")
        try:
            r = Reader(body)
            if r.opaque() != STATE_MAGIC:
                raise DecodeError("not a serialised mls-pq group state")
            version = r.uint16()
            if version != STATE_VERSION:
                raise DecodeError(f"unsupported group state version {version}")
            suite_id = r.uint16()
            profile = r.opaque().decode()
            if suite is None:
                suite = get_suite(suite_id, profile)
            elif suite.id != suite_id:
                raise DecodeError(f"state is for suite 0x{suite_id:04x}, not 0x{suite.id:04x}")
            context = GroupContext.decode(r)
            tree = RatchetTree.from_bytes(suite, r.opaque())
            kept = {name: r.opaque() for name in _KEPT_SECRETS}
            secrets = EpochSecrets(suite=suite, **{n: b"" for n in _DROPPED_SECRETS}, **kept)
            secret_tree = SecretTree.decode(r, suite)
            interim = r.opaque()
            tag = r.opaque()
            private = _decode_private(r)
            proposals = tuple(r.vector(_decode_cached))
            psks = tuple(r.vector(lambda rr: (rr.uint64(), rr.opaque())))
            options = GroupOptions.decode(r)
            active = r.boolean()
            reinit = r.optional(ReInit.decode)
            past = tuple(r.vector(lambda rr: PastEpoch.decode(rr, suite)))
            r.done()
            out = cls(
                suite, context, tree, secrets, secret_tree, interim, tag, private, proposals, psks, options, active,
                reinit, past,
            )
            _check_loaded(out)
        except (IndexError, ValueError, UnicodeDecodeError, OverflowError, MemoryError, RecursionError) as e:
            raise CorruptStateError(f"malformed group state: {type(e).__name__}") from None
        except UnsupportedCipherSuite:
            raise  # intact, but for a suite this process has not registered
        except CorruptStateError:
            raise
        except MLSError as e:
            raise CorruptStateError(f"malformed group state: {e}") from None
        return out


# ---- helpers for the encoding ----------------------------------------------------------------


def _check_loaded(st: GroupState) -> None:
    """Cross-field checks of a decoded state (CorruptStateError): what the decoders cannot
    see on their own."""
    suite, n_h = st.suite, st.suite.n_h

    def bad(why: str) -> CorruptStateError:
        return CorruptStateError(f"inconsistent group state: {why}")

    if st.context.cipher_suite != suite.id:
        raise bad("GroupContext is for another cipher suite")
    for name in _KEPT_SECRETS:
        if len(getattr(st.secrets, name)) != n_h:
            raise bad(f"{name} is not {n_h} octets")
    if st.secret_tree.n_leaves > st.tree.n_leaves:
        raise bad("the secret tree is wider than the ratchet tree")
    if st.active:
        if st.secret_tree.n_leaves != st.tree.n_leaves:
            raise bad("the secret tree does not match the ratchet tree")
        if not 0 <= st.private.leaf_index < st.tree.n_leaves or st.tree.leaf(st.private.leaf_index) is None:
            raise bad("our own leaf is outside the tree or blank")
        if st.reinit is not None:
            raise bad("an active group with a committed ReInit")
    if not st.private.encryption_priv or not st.private.signature_priv:
        raise bad("missing private keys")
    width = 2 * st.tree.n_leaves
    if any(not 0 <= node < width for node in st.private.path_keys):
        raise bad("a path secret for a node outside the tree")
    epochs = [e for e, _ in st.resumption_psks]
    if any(a >= b for a, b in zip(epochs, epochs[1:])) or any(e > st.epoch for e in epochs):
        raise bad("resumption PSK epochs not ascending up to the current epoch")
    if any(len(psk) != n_h for _, psk in st.resumption_psks):
        raise bad("a resumption PSK of the wrong size")
    past = [p.epoch for p in st.past_epochs]
    if any(a >= b for a, b in zip(past, past[1:])) or any(e >= st.epoch for e in past):
        raise bad("past epochs not ascending below the current epoch")



def _encode_private(w: Writer, p: PrivateTree) -> None:
    w.uint32(p.leaf_index).opaque(p.encryption_priv).opaque(p.signature_priv)
    w.vector(sorted(p.path_keys.items()), lambda ww, kv: ww.uint32(kv[0]).opaque(kv[1][0]).opaque(kv[1][1]))


def _decode_private(r: Reader) -> PrivateTree:
    leaf = r.uint32()
    enc = r.opaque()
    sig = r.opaque()
    keys = dict(r.vector(lambda rr: (rr.uint32(), (rr.opaque(), rr.opaque()))))
    return PrivateTree(leaf, enc, sig, keys)


def _encode_cached(w: Writer, c: CachedProposal) -> None:
    w.opaque(c.ref)
    c.proposal.encode(w)
    c.sender.encode(w)
    w.optional(c.own, lambda ww, o: ww.opaque(o.encryption_priv).opaque(o.signature_priv))


def _decode_cached(r: Reader) -> CachedProposal:
    ref = r.opaque()
    proposal = Proposal.decode(r)
    sender = Sender.decode(r)
    own = r.optional(lambda rr: OwnUpdate(rr.opaque(), rr.opaque()))
    return CachedProposal(ref, proposal, sender, own)


def new_secret_tree(suite: CipherSuite, secrets: EpochSecrets, n_leaves: int, options: GroupOptions) -> SecretTree:
    return SecretTree(suite, secrets.encryption_secret, n_leaves, max_skip=options.max_skip, window=options.window)


def push_resumption_psk(
    history: Iterable[tuple[int, bytes]], epoch: int, psk: bytes, keep: int
) -> tuple[tuple[int, bytes], ...]:
    """Add this epoch's resumption PSK and keep only the newest ``keep`` + 1 entries."""
    out = [e for e in history if e[0] != epoch] + [(epoch, psk)]
    return tuple(out[-(keep + 1) :])


def sender_is_member(sender: Sender) -> bool:
    return sender.sender_type == SenderType.MEMBER


# ---- cached capability summary (not serialised: recomputed from the tree) --------------------


def summary_of(state: GroupState) -> CapSummary:
    """The :class:`~mls_pq.group.validation.CapSummary` of the state's tree, computed once
    per tree: the cache is a declared field keyed by the tree object, so it survives
    :meth:`GroupState.evolve` (application messages, cached proposals) and is only
    recomputed for a state whose tree it does not belong to. Treat the result as read-only."""
    c = state.cap_cache
    if c is not None and c[0] is state.tree:
        return c[1]
    s = CapSummary.of(state.tree)
    object.__setattr__(state, "cap_cache", (state.tree, s))  # a cache field (compare=False)
    return s


def attach_summary(state: GroupState, summary: CapSummary) -> GroupState:
    """``state`` with ``summary`` (built incrementally by a commit) as its tree's summary."""
    object.__setattr__(state, "cap_cache", (state.tree, summary))
    return state
