"""Secret trees of past epochs, kept to decrypt late application messages (RFC 9420 §9.2,
§12.4.2: "a client might keep the secret tree for a short time to decrypt late messages in
the previous epoch").

A delivery service may hand a member an application message of epoch n after the Commit
that moved the group to epoch n+1. A member keeps, for each of the last
``GroupOptions.max_past_epochs`` epochs, a :class:`PastEpoch`: that epoch's GroupContext
(the signature's FramedContentTBS covers it, §6.1), its ``sender_data_secret`` (§6.3.2),
its secret tree (with the ratchet positions reached), and the member leaves that differ
from the current tree — so a past epoch costs O(changes since), not O(N). Nothing else of
the epoch is kept: its ``init_secret``, ``epoch_secret`` etc. are deleted on the §9.2
schedule as before.

Deletion (§9.2): consumed keys of a past tree are deleted when used, exactly as in the
current epoch (a replay is rejected); a past epoch is deleted as a whole when it falls out
of the window, i.e. in the same state transition that installs the epoch
``max_past_epochs`` later. Only application messages are accepted from a past epoch: a
proposal or commit is only valid in its own epoch (§12.1, §12.4).

Serialisation (inside :meth:`~mls_pq.group.state.GroupState.to_bytes`, written by hand for
this package)::

    struct {
        GroupContext context;
        opaque sender_data_secret<V>;
        SecretTree secret_tree;                      /* see mls_pq.secret_tree */
        struct { uint32 leaf; optional<LeafNode> node; } leaves<V>;   /* ascending leaf */
    } PastEpoch;
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..codec import Reader, Writer
from ..errors import DecodeError
from ..group_context import GroupContext
from ..messages.leaf_node import LeafNode
from ..secret_tree import SecretTree
from ..suites import CipherSuite
from ..tree.ratchet_tree import RatchetTree


@dataclass(frozen=True)
class PastEpoch:
    """What a member keeps of one past epoch (see the module docstring)."""

    context: GroupContext
    sender_data_secret: bytes
    secret_tree: SecretTree
    #: (leaf index, that leaf in this epoch or None if blank) for every leaf that differs
    #: from the current epoch's tree, ascending
    leaves: tuple[tuple[int, LeafNode | None], ...] = ()

    def __repr__(self) -> str:
        return f"<PastEpoch epoch={self.context.epoch} changed_leaves={len(self.leaves)}>"

    @property
    def epoch(self) -> int:
        return self.context.epoch

    def leaf(self, index: int, current: RatchetTree) -> LeafNode | None:
        """Leaf ``index`` as it was in this epoch (``current``: the current epoch's tree)."""
        if not 0 <= index < self.secret_tree.n_leaves:
            return None
        for i, node in self.leaves:  # short: the leaves changed by a few commits
            if i == index:
                return node
        return current.leaf(index) if index < current.n_leaves else None

    def member_key(self, current: RatchetTree) -> Callable[[int], bytes | None]:
        """leaf index -> signature key in this epoch (None: blank or outside the tree)."""

        def key(i: int) -> bytes | None:
            leaf = self.leaf(i, current)
            return None if leaf is None else leaf.signature_key

        return key

    def with_secret_tree(self, tree: SecretTree) -> PastEpoch:
        return PastEpoch(self.context, self.sender_data_secret, tree, self.leaves)

    def rebased(self, diff: dict[int, LeafNode | None]) -> PastEpoch:
        """This epoch seen from a newer current tree: ``diff`` holds the leaves the newest
        commit changed, as they were before it; leaves already recorded stay as they are."""
        mine = dict(self.leaves)
        n = self.secret_tree.n_leaves
        for i, old in diff.items():
            if i < n:  # leaves beyond this epoch's tree did not exist in it
                mine.setdefault(i, old)
        return PastEpoch(self.context, self.sender_data_secret, self.secret_tree, tuple(sorted(mine.items())))

    # ---- serialisation -----------------------------------------------------------------
    def encode(self, w: Writer) -> None:
        self.context.encode(w)
        w.opaque(self.sender_data_secret)
        self.secret_tree.encode(w)
        w.vector(self.leaves, lambda ww, kv: ww.uint32(kv[0]).optional(kv[1], lambda w3, leaf: leaf.encode(w3)))

    @classmethod
    def decode(cls, r: Reader, suite: CipherSuite) -> PastEpoch:
        context = GroupContext.decode(r)
        sds = r.opaque()
        if len(sds) != suite.n_h:
            raise DecodeError("past epoch sender_data_secret of the wrong size")
        tree = SecretTree.decode(r, suite)
        leaves = tuple(r.vector(lambda rr: (rr.uint32(), rr.optional(LeafNode.decode))))
        idx = [i for i, _ in leaves]
        if any(a >= b for a, b in zip(idx, idx[1:])) or any(i >= tree.n_leaves for i in idx):
            raise DecodeError("past epoch leaves not ascending inside the tree")
        return cls(context, sds, tree, leaves)


def leaf_diff(before: RatchetTree, after: RatchetTree, changed: Iterable[int]) -> dict[int, LeafNode | None]:
    """The leaves among ``changed`` that differ between two trees, with their old value."""
    out: dict[int, LeafNode | None] = {}
    for i in changed:
        old = before.leaf(i) if 0 <= i < before.n_leaves else None
        new = after.leaf(i) if 0 <= i < after.n_leaves else None
        if old is not new and old != new:
            out[i] = old
    return out


def push_past_epoch(
    history: tuple[PastEpoch, ...],
    context: GroupContext,
    sender_data_secret: bytes,
    secret_tree: SecretTree,
    diff: dict[int, LeafNode | None],
    keep: int,
) -> tuple[PastEpoch, ...]:
    """The past epochs after a commit: the older ones rebased on ``diff``, the epoch just
    left appended, and only the newest ``keep`` kept (§9.2: the rest is deleted now)."""
    if keep <= 0:
        return ()
    older = [p.rebased(diff) for p in history[-(keep - 1) :]] if keep > 1 else []
    n = secret_tree.n_leaves
    left = PastEpoch(context, sender_data_secret, secret_tree, tuple(sorted(kv for kv in diff.items() if kv[0] < n)))
    return (*older, left)


__all__ = ["PastEpoch", "leaf_diff", "push_past_epoch"]
