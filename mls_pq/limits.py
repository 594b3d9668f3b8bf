"""Resource limits: how much work and memory one input may cost (issue 8).

RFC 9420 bounds little: vectors up to 2^30 - 1 octets (§2.1.2), leaf indices up to 2^32.
An implementation must choose its own bounds, so every bound of this engine is named,
documented and configurable here or in :class:`~mls_pq.group.state.GroupOptions`.

ALL resource limits of the engine, and where each is set:

=============================  ===========================================  ====================
limit                          what it bounds                               where
=============================  ===========================================  ====================
``max_message_size``           octets of one ``MLSMessage`` accepted by     :class:`Limits`
                               ``Group.process``/``join``/``join_external``
``max_group_size``             leaves of a ratchet tree we decode, accept   :class:`Limits`
                               (Welcome, GroupInfo, out-of-band tree,
                               loaded state) or build by a commit: leaves
                               up to the rightmost non-blank one
``max_proposals_per_commit``   proposals a commit covers, by value plus     :class:`Limits`
                               by reference (created or received)
``max_pending_proposals``      proposals cached in one epoch (sent or       :class:`Limits`
                               received by reference, §12.1)
``max_skip``                   forward ratchet distance: how far ahead of   ``GroupOptions``
                               a sender's ratchet a PrivateMessage's        (group/state.py)
                               generation may be (RFC 9420 §9.2)
``window``                     out-of-order message keys kept per sender    ``GroupOptions``
                               ratchet (§9.2)
``max_past_epochs``            past epochs whose secret trees are kept to   ``GroupOptions``
                               read late application messages (§9.2)
``resumption_epochs``          past epochs' resumption PSKs kept (§8.6)     ``GroupOptions``
``padding_block``              PrivateMessage padding granularity, at most  ``GroupOptions``
                               ``MAX_PADDING_BLOCK`` (§6.3.1)
max_lifetime                   total lifetime of a LeafNode we accept       ``GroupConfig``
                               (§7.2; not a resource, an application rule)
vector length < 2^30           any one TLS vector (RFC 9420 §2.1.2)         :mod:`mls_pq.codec`
HPKE sequence number           messages of one HPKE context (RFC 9180)      ``MessageLimitError``
=============================  ===========================================  ====================

Work per input: every validation is linear in its input (capability checks are set
lookups, one pass per list), so with these bounds one message costs at most a constant
times ``max_message_size`` (and a tree at most a constant times ``max_group_size`` nodes).
A decoded ratchet tree is refused as soon as its node count passes ``2 * max_group_size - 1``,
before more nodes are allocated. ``scripts/resource_limits.py`` measures input size ->
time and peak memory for hostile inputs.

Exceeding a limit raises :class:`~mls_pq.errors.DecodeError` (a message too large to
decode) or :class:`~mls_pq.errors.ValidationError` (a tree or commit too large); the
group is left unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from .errors import DecodeError, ValidationError

#: RFC 9420 §2.1.2: a vector holds at most 2^30 - 1 octets
MAX_VECTOR = (1 << 30) - 1
#: leaf indices are uint32 and node indices (2 * leaf) must fit too
MAX_LEAVES = 1 << 31


class SizedTree(Protocol):
    """What :meth:`Limits.check_tree` needs of a ratchet tree."""

    @property
    def n_leaves(self) -> int: ...

    def leaf_span(self) -> int: ...


@dataclass(frozen=True)
class Limits:
    """Bounds on the input one call may make us process (see the module docstring for the
    full list of the engine's limits, including those in ``GroupOptions``).

    - ``max_message_size`` (default 128 MiB): octets of one MLSMessage given to
      ``Group.process``, ``Group.join`` or ``Group.join_external``. Large enough for a
      Welcome carrying the ratchet tree of ~8 000 members of the largest post-quantum
      suites; bigger groups send the tree out of band (bounded by ``max_group_size``).
    - ``max_group_size`` (default 65 536): leaves of a ratchet tree, counted up to the
      rightmost non-blank leaf (the width its truncated encoding needs, RFC 9420 §7.7,
      §12.4.3.3). Applies to trees we decode (Welcome, GroupInfo, out of band), load, and
      build by a commit (adds beyond it are refused).
    - ``max_proposals_per_commit`` (default 65 536): proposals one commit covers, by value
      plus by reference. The default lets a group of ``max_group_size`` be built by one
      commit; lower it when commits come from members you do not control.
    - ``max_pending_proposals`` (default 10 000): proposals cached in one epoch, sent by
      us or received by reference (RFC 9420 §12.1), until a commit starts the next epoch.
      Each is kept (and stored) until then, so this bounds the memory and the commit-time
      work one epoch's proposals can cost; a proposal beyond it is refused (the group
      unchanged) and may be sent again in the next epoch.
    """

    max_message_size: int = 128 * 1024 * 1024
    max_group_size: int = 1 << 16
    max_proposals_per_commit: int = 1 << 16
    max_pending_proposals: int = 10_000

    def __post_init__(self) -> None:
        for name in ("max_message_size", "max_group_size", "max_proposals_per_commit", "max_pending_proposals"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"Limits.{name} must be a positive integer, not {value!r}")
        if self.max_group_size > MAX_LEAVES:
            raise ValueError(
                f"Limits.max_group_size cannot exceed 2^31 leaves (uint32 node indices), got {self.max_group_size}"
            )

    @property
    def max_tree_nodes(self) -> int:
        """Nodes of the largest truncated tree encoding accepted (``2 * max_group_size - 1``)."""
        return 2 * self.max_group_size - 1

    # ---- checks ---------------------------------------------------------------------------
    def check_message_size(self, data: bytes | bytearray | memoryview, what: str = "MLSMessage") -> None:
        """DecodeError if ``data`` is longer than ``max_message_size``."""
        if len(data) > self.max_message_size:
            raise DecodeError(f"{what} of {len(data)} octets exceeds Limits.max_message_size ({self.max_message_size})")

    def check_group_size(self, leaves: int, what: str = "the ratchet tree") -> None:
        """ValidationError if a tree needs more than ``max_group_size`` leaves."""
        if leaves > self.max_group_size:
            raise ValidationError(
                f"{what} has {leaves} leaves, more than Limits.max_group_size ({self.max_group_size})"
            )

    def check_tree(self, tree: SizedTree, what: str = "the ratchet tree") -> None:
        """:meth:`check_group_size` of a tree's leaves up to its rightmost member; O(1)
        unless the tree is wider than the limit (only then are its leaves scanned)."""
        if tree.n_leaves > self.max_group_size:
            self.check_group_size(tree.leaf_span(), what)

    def check_proposal_count(self, count: int) -> None:
        """ValidationError if a commit covers more than ``max_proposals_per_commit`` proposals."""
        if count > self.max_proposals_per_commit:
            raise ValidationError(
                f"the commit covers {count} proposals, more than Limits.max_proposals_per_commit "
                f"({self.max_proposals_per_commit})"
            )

    def check_pending_proposals(self, cached: int) -> None:
        """ValidationError if an epoch that already caches ``cached`` proposals cannot cache
        one more (``max_pending_proposals``)."""
        if cached >= self.max_pending_proposals:
            raise ValidationError(
                f"{cached} proposals are already cached in this epoch, the most Limits.max_pending_proposals "
                f"({self.max_pending_proposals}) allows"
            )


#: the limits used when none are given
DEFAULT_LIMITS = Limits()

__all__ = ["DEFAULT_LIMITS", "MAX_LEAVES", "MAX_VECTOR", "Limits"]
