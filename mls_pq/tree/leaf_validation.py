"""Leaf node and ratchet tree policy (RFC 9420 §7.3, §11.1, §12.4.3.1): one validator, one
context.

§7.3 names the stages at which a LeafNode is validated — downloaded in a KeyPackage (and so
received in an Add), received in an Update, received as the ``leaf_node`` of a Commit's
UpdatePath, and as a leaf of a ratchet tree a client joins with (§12.4.3.1). The checks are
the same at every stage but for what the stage fixes: the required ``leaf_node_source``, the
signature context (group_id and leaf index for ``update``/``commit`` leaves, §7.2), and
whether a clock applies. :class:`LeafContext` carries exactly that (one constructor per
stage, like mls-rs's ``ValidationContext``) and :func:`validate_leaf_node` is the one check
of a leaf on its own that every entry point calls.

The member-wide rules of §7.3 — credential types supported by every member and vice versa,
encryption and signature keys unique in the tree — are :class:`CapSummary` and
:func:`check_new_leaf_in_tree`; :func:`validate_ratchet_tree` runs everything a joiner
checks on a received tree (§12.4.3.1) but the tree hash. :func:`required_capabilities` is
the one parser of the ``required_capabilities`` extension (§11.1) and
:func:`check_capabilities_support` the one check of a leaf's capabilities against the
GroupContext extensions.

Written by hand: these are protocol rules of RFC 9420 that no library implements.
"""

from __future__ import annotations

import enum
import struct
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from ..codec import Reader
from ..credentials import check_credential_key
from ..errors import DecodeError, ValidationError
from ..extensions import DEFAULT_EXTENSION_TYPES, REQUIRED_CAPABILITIES, Extension, check_unique_types
from ..messages.leaf_node import Capabilities, LeafNode, LeafNodeSource
from ..messages.proposals import DEFAULT_PROPOSAL_TYPES
from ..messages.version import PROTOCOL_VERSION_MLS10
from .ratchet_tree import RatchetTree

if TYPE_CHECKING:
    from ..suites import CipherSuite

# ---- required capabilities (§11.1) ---------------------------------------------------------


@dataclass(frozen=True)
class RequiredCapabilities:
    """``struct { ExtensionType extension_types<V>; ProposalType proposal_types<V>;
    CredentialType credential_types<V>; } RequiredCapabilities`` (RFC 9420 §11.1), as sets."""

    extension_types: frozenset[int] = frozenset()
    proposal_types: frozenset[int] = frozenset()
    credential_types: frozenset[int] = frozenset()


@lru_cache(maxsize=2)
def required_capabilities(data: bytes) -> RequiredCapabilities:
    """Decode a ``required_capabilities`` extension value (RFC 9420 §11.1); DecodeError if
    malformed. Parsed once per value (cached: every member's leaf is checked against the
    same group extensions; two entries, the current and a proposed value, so a hostile
    list is not kept around), so each check is O(1) per required type."""
    r = Reader(data)

    def u16s() -> frozenset[int]:
        body = r.opaque()
        if len(body) % 2:
            raise DecodeError(f"malformed required_capabilities: a uint16 vector of {len(body)} bytes")
        return frozenset(struct.unpack(f">{len(body) // 2}H", body))

    try:
        out = RequiredCapabilities(u16s(), u16s(), u16s())
        r.done()
    except (IndexError, ValueError) as e:
        raise DecodeError(f"malformed required_capabilities: {e}") from None
    return out


def find_required_capabilities(extensions: Sequence[Extension]) -> RequiredCapabilities | None:
    """The parsed ``required_capabilities`` among GroupContext ``extensions``, or None."""
    for ext in extensions:
        if ext.extension_type == REQUIRED_CAPABILITIES:
            return required_capabilities(ext.extension_data)
    return None


def _first_missing(required: frozenset[int], supported: frozenset[int], defaults: frozenset[int]) -> int | None:
    """The smallest type of ``required`` neither in ``supported`` nor in ``defaults``."""
    missing = required - supported - defaults
    return min(missing) if missing else None


def check_capabilities_support(
    caps: Capabilities, group_extensions: Sequence[Extension], who: str, section: str | None = None
) -> None:
    """``caps`` support every non-default GroupContext extension (§12.1.7) and every type
    listed in ``required_capabilities`` (§11.1), as §7.3 asks of every leaf. ``section``:
    the section to name instead (``"7.3"`` when a leaf is validated). Linear in the
    extension list; each membership test is a set lookup."""
    for ext in group_extensions:
        t = ext.extension_type
        if t == REQUIRED_CAPABILITIES:
            req = required_capabilities(ext.extension_data)
            e = _first_missing(req.extension_types, caps.extension_set, DEFAULT_EXTENSION_TYPES)
            if e is not None:
                raise ValidationError(f"{who} does not support required extension 0x{e:04x}", section or "11.1")
            p = _first_missing(req.proposal_types, caps.proposal_set, DEFAULT_PROPOSAL_TYPES)
            if p is not None:
                raise ValidationError(f"{who} does not support required proposal type 0x{p:04x}", section or "11.1")
            c = _first_missing(req.credential_types, caps.credential_set, frozenset())
            if c is not None:
                raise ValidationError(f"{who} does not support required credential type {c}", section or "11.1")
        elif t not in DEFAULT_EXTENSION_TYPES and t not in caps.extension_set:
            raise ValidationError(f"{who} does not support group context extension 0x{t:04x}", section or "12.1.7")


# ---- the context of a validation (§7.3) ------------------------------------------------------


class LeafStage(enum.Enum):
    """Where a LeafNode is being validated (RFC 9420 §7.3's list of stages)."""

    #: in a KeyPackage: downloaded, or received in an Add proposal (§10.1, §12.1.1)
    KEY_PACKAGE = "key_package"
    #: in an Update proposal (§12.1.2)
    UPDATE = "update"
    #: the ``leaf_node`` of a Commit's UpdatePath (§12.4.1, §12.4.2)
    COMMIT = "commit"
    #: a leaf of a ratchet tree received to join a group (Welcome or GroupInfo, §12.4.3.1)
    TREE = "tree"


_SOURCE: dict[LeafStage, LeafNodeSource | None] = {
    LeafStage.KEY_PACKAGE: LeafNodeSource.KEY_PACKAGE,
    LeafStage.UPDATE: LeafNodeSource.UPDATE,
    LeafStage.COMMIT: LeafNodeSource.COMMIT,
    LeafStage.TREE: None,  # a tree holds leaves of every source
}


@dataclass(frozen=True)
class LeafContext:
    """What the stage of a leaf validation fixes (RFC 9420 §7.3). Build it with the
    constructor of the stage: :meth:`key_package`, :meth:`update`, :meth:`commit`,
    :meth:`tree`.

    - ``group_id``/``leaf_index``: the signature context of ``update``/``commit`` leaves (§7.2).
    - ``group_extensions``: the GroupContext extensions the leaf must support (§7.3, §11.1).
    - ``now``: seconds since the epoch to check a ``key_package`` leaf's lifetime (None: not
      checked); ``max_lifetime``: the application's maximum total lifetime (§7.2).
    - ``require_suite_listed``: also demand the group's cipher suite in
      ``capabilities.cipher_suites``. §7.2 says clients MUST list what they support, but §7.3
      does not make it a receiver check and the official treekem vectors for suite 7 omit
      it, so it is off by default (use it for leaves this client creates).
    """

    stage: LeafStage
    group_id: bytes | None = None
    leaf_index: int | None = None
    group_extensions: tuple[Extension, ...] = ()
    now: int | None = None
    max_lifetime: int | None = None
    require_suite_listed: bool = False

    def __post_init__(self) -> None:
        if self.stage in (LeafStage.UPDATE, LeafStage.COMMIT, LeafStage.TREE) and (
            self.group_id is None or self.leaf_index is None
        ):
            raise TypeError(f"a {self.stage.value} leaf context needs group_id and leaf_index")

    @classmethod
    def key_package(
        cls,
        group_extensions: Sequence[Extension] = (),
        *,
        now: int | None = None,
        max_lifetime: int | None = None,
        require_suite_listed: bool = False,
    ) -> LeafContext:
        """A KeyPackage's leaf (source ``key_package``, no group signature context), against
        the ``group_extensions`` of the group it is added to (none: downloaded on its own)."""
        return cls(
            LeafStage.KEY_PACKAGE,
            group_extensions=tuple(group_extensions),
            now=now,
            max_lifetime=max_lifetime,
            require_suite_listed=require_suite_listed,
        )

    @classmethod
    def update(cls, group_id: bytes, leaf_index: int, group_extensions: Sequence[Extension] = ()) -> LeafContext:
        """The leaf of an Update proposal from member ``leaf_index`` (source ``update``)."""
        return cls(LeafStage.UPDATE, group_id, leaf_index, tuple(group_extensions))

    @classmethod
    def commit(
        cls,
        group_id: bytes,
        leaf_index: int,
        group_extensions: Sequence[Extension] = (),
        *,
        require_suite_listed: bool = False,
    ) -> LeafContext:
        """The UpdatePath leaf of the committer at ``leaf_index`` (source ``commit``)."""
        return cls(
            LeafStage.COMMIT, group_id, leaf_index, tuple(group_extensions), require_suite_listed=require_suite_listed
        )

    @classmethod
    def tree(
        cls,
        group_id: bytes,
        leaf_index: int,
        group_extensions: Sequence[Extension] = (),
        *,
        now: int | None = None,
        max_lifetime: int | None = None,
    ) -> LeafContext:
        """Leaf ``leaf_index`` of a tree we join (any source; §12.4.3.1)."""
        return cls(LeafStage.TREE, group_id, leaf_index, tuple(group_extensions), now, max_lifetime)

    @property
    def source(self) -> LeafNodeSource | None:
        """The ``leaf_node_source`` this stage requires (None: any)."""
        return _SOURCE[self.stage]


def validate_leaf_node(suite: CipherSuite, leaf: LeafNode, context: LeafContext) -> None:
    """The checks of RFC 9420 §7.3 on ``leaf`` alone, at the stage ``context`` names: its
    ``leaf_node_source``, capabilities (mls10, its own credential type and extensions, §7.2),
    support of the group's extensions and required capabilities (§11.1), a ``key_package``
    leaf's lifetime (given a clock) and the application's maximum lifetime (§7.2), its
    signature, and the part of "the credential is valid" the protocol can check itself: an
    X.509 credential carries ``signature_key``, which is a valid key of the suite (§5.3,
    :func:`~mls_pq.credentials.check_credential_key`). Raises :class:`ValidationError` (or
    :class:`~mls_pq.errors.InvalidKeyError` for an unusable signature key).

    The member-wide checks need the group: :func:`check_new_leaf_in_tree`. Credential
    validation against an authentication service is the application's (§5.3.1)."""
    caps = leaf.capabilities
    source = context.source
    if source is not None and leaf.leaf_node_source != source:
        raise ValidationError(f"leaf_node_source is {leaf.leaf_node_source}, expected {source.name.lower()}", "7.3")
    if PROTOCOL_VERSION_MLS10 not in caps.version_set:
        raise ValidationError("capabilities do not list protocol version mls10", "7.2")
    if context.require_suite_listed and suite.id not in caps.cipher_suite_set:
        raise ValidationError(f"capabilities do not list the group's cipher suite 0x{suite.id:04x}", "7.2")
    if leaf.credential.credential_type not in caps.credential_set:
        raise ValidationError("the leaf's credential type is not listed in its capabilities", "7.2")
    check_unique_types(leaf.extensions, "the LeafNode extensions")  # §13.5
    supported_ext = caps.extension_set
    for ext in leaf.extensions:
        if ext.extension_type not in DEFAULT_EXTENSION_TYPES and ext.extension_type not in supported_ext:
            raise ValidationError(f"leaf extension 0x{ext.extension_type:04x} is not in its capabilities", "7.3")
    check_capabilities_support(caps, context.group_extensions, "the leaf", "7.3")
    if leaf.leaf_node_source == LeafNodeSource.KEY_PACKAGE:
        lt = leaf.lifetime
        assert lt is not None
        if context.max_lifetime is not None and lt.not_after - lt.not_before > context.max_lifetime:
            raise ValidationError("leaf lifetime exceeds the application's maximum", "7.2")
        if context.now is not None and not lt.contains(context.now):
            raise ValidationError("the current time is outside the leaf's lifetime", "7.3")
    if not leaf.verify(suite, context.group_id, context.leaf_index):
        raise ValidationError("leaf node signature does not verify", "7.3")
    check_credential_key(suite, leaf.credential, leaf.signature_key)


# ---- member-wide checks (§7.3) ---------------------------------------------------------------


@dataclass
class CapSummary:
    """Counts over the members: how many use each credential type and how many support it.
    Lets the §7.3 rule "the credential type is supported by all members, and the leaf
    supports every credential type in use" be checked in O(#credential types) without
    walking the tree."""

    members: int = 0
    in_use: Counter[int] = field(default_factory=Counter)
    supported: Counter[int] = field(default_factory=Counter)

    @classmethod
    def of(cls, tree: RatchetTree) -> CapSummary:
        s = cls()
        for _, leaf in tree.leaves():
            s.add(leaf)
        return s

    def copy(self) -> CapSummary:
        return CapSummary(self.members, Counter(self.in_use), Counter(self.supported))

    def add(self, leaf: LeafNode) -> None:
        self.members += 1
        self.in_use[leaf.credential.credential_type] += 1
        for t in leaf.capabilities.credential_set:
            self.supported[t] += 1

    def remove(self, leaf: LeafNode) -> None:
        self.members -= 1
        self.in_use[leaf.credential.credential_type] -= 1
        for t in leaf.capabilities.credential_set:
            self.supported[t] -= 1

    def check(self, leaf: LeafNode, replaces: LeafNode | None = None) -> None:
        """§7.3: ``leaf``'s credential type is supported by every other member and ``leaf``
        supports every credential type the other members use; ``replaces``: the member's
        leaf it replaces (not counted)."""
        t = leaf.credential.credential_type
        others = self.members
        supporting = self.supported[t]
        old_type: int | None = None
        if replaces is not None:
            others -= 1
            if t in replaces.capabilities.credential_set:
                supporting -= 1
            old_type = replaces.credential.credential_type
        if supporting != others:
            raise ValidationError(f"credential type {t} is not supported by all members", "7.3")
        mine = leaf.capabilities.credential_set
        for used, count in self.in_use.items():
            if used == old_type:
                count -= 1
            if count > 0 and used not in mine:
                raise ValidationError(f"the leaf does not support credential type {used} used in the group", "7.3")


def check_new_leaf_in_tree(
    tree: RatchetTree, summary: CapSummary, leaf: LeafNode, replaces: int | None, section: str = "7.3"
) -> None:
    """The member-wide checks of §7.3 for ``leaf`` entering ``tree`` (``summary`` its
    capability summary), replacing leaf ``replaces`` if given (an Update or a commit's
    UpdatePath): credential compatibility, an encryption key found nowhere in the tree (not
    even in the replaced leaf, §12.1.2), and a signature key no other member holds."""
    old = tree.leaf(replaces) if replaces is not None else None
    summary.check(leaf, old)
    x = tree.node_with_encryption_key(leaf.encryption_key)
    if x is not None:
        what = "the leaf it replaces" if replaces is not None and x == 2 * replaces else f"node {x}"
        raise ValidationError(f"the leaf's encryption key is already used by {what}", section)
    j = tree.leaf_with_signature_key(leaf.signature_key)
    if j is not None and j != replaces:
        raise ValidationError(f"the leaf's signature key is already used by member {j}", section)


# ---- a received tree (§12.4.3.1) -------------------------------------------------------------


def validate_ratchet_tree(
    tree: RatchetTree,
    group_id: bytes,
    group_extensions: Sequence[Extension] = (),
    *,
    now: int | None = None,
    max_lifetime: int | None = None,
) -> None:
    """All checks a joiner runs on a received tree (RFC 9420 §12.4.3.1) except the tree
    hash comparison: key uniqueness, unmerged leaves, every leaf valid (§7.3, stage
    :attr:`LeafStage.TREE`) and compatible with the other members' credential types,
    parent-hash validity. ``now`` enables the lifetime check."""
    if tree.n_nodes == 0 or tree.member_count() == 0:
        raise ValidationError("the tree has no members", "12.4.3.1")
    tree.verify_key_uniqueness()
    tree.verify_unmerged_leaves()
    summary = CapSummary.of(tree)
    extensions = tuple(group_extensions)
    for i, leaf in tree.leaves():
        validate_leaf_node(
            tree.suite, leaf, LeafContext.tree(group_id, i, extensions, now=now, max_lifetime=max_lifetime)
        )
        summary.check(leaf, replaces=leaf)
    tree.verify_parent_hashes()
