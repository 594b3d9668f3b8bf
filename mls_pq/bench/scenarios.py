"""Benchmark scenarios over the real group engine (RFC 9420 §7, §12): never a model.

A :class:`GroupScenario` builds a group of ``n`` members quickly and then exposes every
measured operation as an :class:`Op` that runs *from a fixed state*: each run starts from
the same immutable :class:`~mls_pq.group.state.GroupState` (``Group(state)`` is a fresh
handle on it), so repetitions are independent and identical in work.

Building a group of N members
-----------------------------
The creator (leaf 0, "the committer") bulk-adds N-1 KeyPackages in one commit (adds only,
no UpdatePath, the tree out of band). Only the members the benchmark acts as join from that
Welcome (one really, the others by :func:`joined_state`):

* ``near``: leaf 1, the committer's sibling;
* ``far``: leaf N-1, in the other half of the tree;
* for the populated shape also every leaf ``2^k < N`` (see below).

Tree shapes
-----------
``sparse``
    Right after the bulk add every parent node is blank, so each copath node's resolution
    is all the members under it: an UpdatePath from leaf 0 carries N-1 HPKE ciphertexts.
``populated``
    The copath of leaf 0 is made entirely non-blank: for ``k`` from high to low, the member
    at leaf ``2^k`` (the leftmost leaf of the copath subtree at level ``k``) commits an
    empty commit with an UpdatePath and every acting member processes it. Its path sets the
    root of its subtree (leaf 0's copath node at level ``k``) and nodes above it, which are
    on leaf 0's direct path, never on its copath: later commits cannot blank an earlier
    copath node. After these ``ceil(log2 N)`` commits every copath node of leaf 0 is a
    non-blank parent with no unmerged leaves (or a leaf, at level 0), so leaf 0's UpdatePath
    has exactly one ciphertext per filtered direct path node. :meth:`GroupScenario.copath_resolution_sizes`
    checks this on the engine's own tree.

Measured operations all use the committer's state (leaf 0) unless named otherwise; the
committer's measured commits are never merged (each repetition starts from the snapshot).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..client import Client
from ..group import Group, GroupConfig, GroupOptions, GroupState
from ..group.results import ApplicationMessage, StagedCommit
from ..group.welcome import KeyPackageBundle
from ..messages.framing_structs import WireFormat
from ..suites import CipherSuite
from ..treekem import PrivateTree
from .config import DEFAULT_PAYLOAD, GROUP_ID, IDENTITY_LEN, SHAPES, SIZE_METRICS, TIME_OPS


def identity(i: int) -> bytes:
    """The fixed-length identity of member ``i`` (``m0000042``); external joiners use ``x``."""
    return b"m%07d" % i


EXTERNAL_IDENTITY = b"x0000000"
NEW_MEMBER_IDENTITY = b"n0000000"


@dataclass
class Op:
    """One measured operation: ``run()`` performs it once from a fixed state and returns
    its result; ``check(result)`` raises if the result is not what the engine should give."""

    name: str
    run: Callable[[], Any]
    check: Callable[[Any], None] = lambda _r: None
    description: str = ""


@dataclass
class GroupScenario:
    """A group of ``n`` members over ``suite`` with a few acting members (see module doc)."""

    suite: CipherSuite
    n: int
    payload: int = DEFAULT_PAYLOAD
    options: GroupOptions = field(default_factory=GroupOptions)
    shape: str = "sparse"
    committer: Group = field(init=False)
    actors: dict[int, Group] = field(init=False, default_factory=dict)
    clients: dict[int, Client] = field(init=False, default_factory=dict)
    #: the KeyPackages (MLSMessage bytes, private bundle) of members 1..n-1
    key_packages: list[tuple[bytes, KeyPackageBundle]] = field(init=False, default_factory=list)
    #: artefacts kept for inspection (e.g. by the size-model tests)
    artefacts: dict[str, bytes] = field(init=False, default_factory=dict)

    # ---- building ---------------------------------------------------------------------------
    @classmethod
    def build(
        cls,
        suite: CipherSuite,
        n: int,
        *,
        shape: str = "sparse",
        payload: int = DEFAULT_PAYLOAD,
        options: GroupOptions | None = None,
        populate_later: bool = False,
        key_packages: Sequence[tuple[bytes, KeyPackageBundle]] | None = None,
    ) -> GroupScenario:
        """Build the group. With ``shape="populated"`` the extra members are joined and
        (unless ``populate_later``) the copath is populated right away. ``key_packages``
        (members 1..n-1, e.g. another scenario's :attr:`key_packages`) saves generating them."""
        if n < 2:
            raise ValueError("a benchmark group needs at least 2 members")
        if shape not in SHAPES:
            raise ValueError(f"shape must be one of {SHAPES}")
        sc = cls(suite, n, payload, options or GroupOptions())
        c0 = sc._client(0)
        config = GroupConfig(options=sc.options)
        sc.committer = Group.create(suite, GROUP_ID, c0.credential, c0.signature_priv, config=config)
        if key_packages is not None and len(key_packages) != n - 1:
            raise ValueError(f"need {n - 1} key packages, got {len(key_packages)}")
        kps = list(key_packages) if key_packages is not None else [sc._client(i).key_package() for i in range(1, n)]
        sc.key_packages = kps
        # The tree goes out of band (§12.4.3.3): with the ratchet_tree extension the bulk
        # Welcome's encrypted GroupInfo would hold the whole tree, and every one of its N-1
        # EncryptWithLabel calls hashes that GroupInfo as HPKE info: O(N^2) octets hashed
        # (minutes at N = 1024 for ML-DSA suites). The measured Welcomes keep the extension.
        out = sc.committer.commit(add=[kp for kp, _ in kps], ratchet_tree_extension=False)
        sc.committer.merge_pending_commit()
        assert out.welcome is not None
        tree = sc.committer.ratchet_tree()
        bundles: dict[int, KeyPackageBundle] = {i: b for i, (_, b) in enumerate(kps, start=1)}
        want = [i for i in sc.acting_leaves("populated" if shape == "populated" else "sparse") if i != 0]
        # One acting member really joins (full §12.4.3.1 processing and tree validation); the
        # others' states are that state with their own leaf's private keys (joined_state):
        # byte-for-byte what their own Group.join would return (tests/bench/test_scenarios.py),
        # without validating the N-leaf tree ~log2(N) more times.
        first = Group.join(out.welcome, bundles[want[0]], ratchet_tree=tree, suite=suite, config=config)
        sc.actors[want[0]] = first
        for i in want[1:]:
            sc.actors[i] = Group(joined_state(first.state, i, bundles[i]))
        sc.actors[0] = sc.committer
        sc.artefacts["bulk_welcome"], sc.artefacts["bulk_tree"] = out.welcome, tree
        if shape == "populated" and not populate_later:
            sc.populate()
        return sc

    def warm(self) -> None:
        """Fill the per-tree caches (tree hash and resolution of every node) of every acting
        member's tree, as a member that has processed the epoch's commit has them. Every
        measured run starts from such a tree, whether the scenario was built here, restored
        (:meth:`restore`) or recast (:meth:`recast`): otherwise a freshly decoded tree makes
        each run recompute all 2N-1 tree hashes."""
        for g in self.actors.values():
            tree = g.state.tree
            tree.tree_hash()
            for x in range(tree.n_nodes):
                tree.resolution(x)

    # ---- moving a built scenario between objects and processes ----------------------------------
    def measured_leaves(self) -> list[int]:
        """The members the measured operations act as: committer, near and far."""
        return sorted({0, 1, self.n - 1})

    def portable(self) -> dict[str, Any]:
        """Picklable bytes of what the measurements need (the committer's, near and far
        members' states and member 0's signature key), for :meth:`restore`."""
        return {
            "suite": self.suite.id,
            "n": self.n,
            "payload": self.payload,
            "shape": self.shape,
            "states": {i: self.actors[i].to_bytes() for i in self.measured_leaves()},
            "signature_priv": self.clients[0].signature_priv,
        }

    @classmethod
    def restore(cls, suite: CipherSuite, snap: dict[str, Any]) -> GroupScenario:
        """A scenario over ``suite`` from :meth:`portable` (e.g. built in another process).
        It can run every operation and size metric but not :meth:`populate` or :meth:`recast`
        to a populated shape it was not snapshotted in."""
        if snap["suite"] != suite.id:
            raise ValueError(f"snapshot of suite 0x{snap['suite']:04x}, not 0x{suite.id:04x}")
        sc = cls(suite, snap["n"], snap["payload"], shape=snap["shape"])
        for i, data in snap["states"].items():
            sc.actors[int(i)] = Group.from_bytes(data, suite=suite)
        sc.committer = sc.actors[0]
        sc.options = sc.committer.state.options
        sc.clients[0] = Client(suite, sc.committer.state.own_leaf.credential, snap["signature_priv"])
        return sc

    def recast(self, suite: CipherSuite) -> GroupScenario:
        """The same scenario (same members, keys, tree and epoch) over another object for the
        same suite, e.g. one wrapped in counting adapters: every acting member's state is
        serialised and restored with ``suite`` (:meth:`Group.from_bytes`), so nothing is built
        or joined again. Only member 0's client (the ``kp_gen`` operation) is carried over."""
        if suite.id != self.suite.id:
            raise ValueError(f"cannot recast a 0x{self.suite.id:04x} scenario to suite 0x{suite.id:04x}")
        sc = GroupScenario(suite, self.n, self.payload, self.options, self.shape)
        for i, g in self.actors.items():
            sc.actors[i] = Group.from_bytes(g.to_bytes(), suite=suite)
        sc.committer = sc.actors[0]
        c0 = self.clients[0]
        sc.clients[0] = Client(suite, c0.credential, c0.signature_priv)
        sc.key_packages = self.key_packages
        return sc

    def _client(self, i: int) -> Client:
        c = self.clients.get(i)
        if c is None:
            c = Client.generate(self.suite, identity(i))
            self.clients[i] = c
        return c

    def acting_leaves(self, shape: str) -> list[int]:
        """Leaves joined as real members: near (1), far (n-1), and for ``populated`` every 2^k < n."""
        leaves = {1, self.n - 1}
        if shape == "populated":
            leaves.update(populating_leaves(self.n))
        return sorted(leaves)

    def populate(self) -> None:
        """Make the committer's copath non-blank (module docstring): commits from leaves
        2^k, largest k first, processed by every acting member."""
        missing = [i for i in populating_leaves(self.n) if i not in self.actors]
        if missing:
            raise RuntimeError(f"leaves {missing} were not joined; build with shape='populated'")
        for leaf in populating_leaves(self.n):
            g = self.actors[leaf]
            out = g.commit(path=True)
            for j, other in self.actors.items():
                if j != leaf:
                    res = other.process(out.commit)
                    assert isinstance(res, StagedCommit)
                    res.merge()
            g.merge_pending_commit()
        self.shape = "populated"
        sizes = self.copath_resolution_sizes()
        if any(s != 1 for s in sizes):
            raise RuntimeError(f"copath not populated: resolution sizes {sizes}")

    # ---- tree facts -------------------------------------------------------------------------
    def copath_resolution_sizes(self, leaf: int = 0) -> list[int]:
        """Resolution size of each copath node of ``leaf`` on the committer's tree (filtered:
        empty resolutions are left out), i.e. the ciphertext count per UpdatePath node."""
        tree = self.committer.state.tree
        return [len(tree.resolution(s)) for _, s in tree.filtered_direct_path_pairs(leaf)]

    # ---- states -----------------------------------------------------------------------------
    @property
    def near(self) -> Group:
        return self.actors[1]

    @property
    def far(self) -> Group:
        return self.actors[self.n - 1]

    def snapshot(self) -> dict[str, GroupState]:
        return {"committer": self.committer.state, "near": self.near.state, "far": self.far.state}

    # ---- operations ---------------------------------------------------------------------------
    def ops(self) -> dict[str, Op]:
        """The timed operations, each running from this scenario's current states."""
        suite = self.suite
        st0 = self.committer.state
        st_near, st_far = self.near.state, self.far.state
        c_new = Client.generate(suite, NEW_MEMBER_IDENTITY)
        kp_new, bundle_new = c_new.key_package()
        c_ext = Client.generate(suite, EXTERNAL_IDENTITY)
        payload = bytes(self.payload)

        add_out = Group(st0).commit(add=[kp_new])
        assert add_out.welcome is not None
        welcome = add_out.welcome
        upd = Group(st0).commit(path=True).commit
        group_info = Group(st0).group_info()

        # application messages: one message first so that the steady state (ratchets of
        # both sender and receiver initialised) is what is timed
        sender = Group(st0)
        receiver = Group(st_far)
        receiver.process(sender.encrypt(payload))
        st_send, st_recv = sender.state, receiver.state
        app_msg = Group(st_send).encrypt(payload)

        def process_commit(st: GroupState) -> StagedCommit:
            # receiving a commit = process (verify, stage) + merge (RFC 9420 §12.4.2)
            r = Group(st).process(upd)
            assert isinstance(r, StagedCommit), r
            r.merge()
            return r

        def check_commit(r: Any) -> None:
            assert isinstance(r, StagedCommit) and r.status == "merged", r

        def check_join(g: Any) -> None:
            assert isinstance(g, Group) and g.epoch == st0.epoch + 1

        def check_app(r: Any) -> None:
            assert isinstance(r, ApplicationMessage) and r.data == payload

        return {
            "kp_gen": Op("kp_gen", lambda: self.clients[0].key_package()),
            "add_commit": Op("add_commit", lambda: Group(st0).commit(add=[kp_new])),
            "update_commit": Op("update_commit", lambda: Group(st0).commit(path=True)),
            "process_near": Op("process_near", lambda: process_commit(st_near), check_commit),
            "process_far": Op("process_far", lambda: process_commit(st_far), check_commit),
            "join": Op("join", lambda: Group.join(welcome, bundle_new, suite=suite), check_join),
            "external_join": Op(
                "external_join",
                lambda: Group.join_external(group_info, c_ext.credential, c_ext.signature_priv, suite=suite),
            ),
            "app_encrypt": Op("app_encrypt", lambda: Group(st_send).encrypt(payload)),
            "app_decrypt": Op("app_decrypt", lambda: Group(st_recv).process(app_msg), check_app),
        }

    def sizes(self) -> dict[str, int]:
        """Every size metric (octets) from the current states; artefacts are kept."""
        suite = self.suite
        st0 = self.committer.state
        kp_new, _ = Client.generate(suite, NEW_MEMBER_IDENTITY).key_package()
        add_pub = Group(st0).commit(add=[kp_new], wire_format=int(WireFormat.PUBLIC_MESSAGE))
        add_priv = Group(st0).commit(add=[kp_new], wire_format=int(WireFormat.PRIVATE_MESSAGE))
        add_notree = Group(st0).commit(add=[kp_new], ratchet_tree_extension=False)
        upd_pub = Group(st0).commit(path=True, wire_format=int(WireFormat.PUBLIC_MESSAGE))
        upd_priv = Group(st0).commit(path=True, wire_format=int(WireFormat.PRIVATE_MESSAGE))
        gi = Group(st0).group_info(ratchet_tree=True, external_pub=True)
        tree = Group(st0).ratchet_tree()
        app = Group(st0).encrypt(bytes(self.payload))
        c_ext = Client.generate(suite, EXTERNAL_IDENTITY)
        _, ext_commit = Group.join_external(gi, c_ext.credential, c_ext.signature_priv, suite=suite)
        assert add_pub.welcome is not None and add_notree.welcome is not None
        art = {
            "key_package": kp_new,
            "add_commit_public": add_pub.commit,
            "add_commit_private": add_priv.commit,
            "welcome_tree": add_pub.welcome,
            "welcome_tree.group_info": add_pub.group_info,
            "welcome_notree": add_notree.welcome,
            "welcome_notree.group_info": add_notree.group_info,
            "update_commit_public": upd_pub.commit,
            "update_commit_private": upd_priv.commit,
            "group_info": gi,
            "ratchet_tree": tree,
            "app_message": app,
            "external_commit": ext_commit,
        }
        self.artefacts = art
        return {k: len(art[k]) for k in SIZE_METRICS}


def joined_state(joined: GroupState, leaf: int, bundle: KeyPackageBundle) -> GroupState:
    """The state the member at ``leaf`` reaches by joining from the same Welcome as the
    member whose state is ``joined``, for a Welcome without path secrets (a commit with no
    UpdatePath): everything but the own leaf's private keys is shared by all joiners
    (§12.4.3.1), and states are immutable, so the tree and secret tree objects are shared."""
    if joined.tree.find_leaf(bundle.key_package.leaf_node) != leaf:
        raise ValueError(f"the KeyPackage is not at leaf {leaf}")
    if joined.private.path_keys:
        raise ValueError("the joined state holds path secrets: join each member from the Welcome")
    return replace(joined, private=PrivateTree(leaf, bundle.encryption_priv, bundle.signature_priv))


def populating_leaves(n: int) -> list[int]:
    """Leaves 2^k < n, largest first: the members whose commits populate leaf 0's copath."""
    out = []
    k = 1
    while k < n:
        out.append(k)
        k *= 2
    return out[::-1]


def build_both(suite: CipherSuite, n: int, **kw: Any) -> GroupScenario:
    """A scenario able to serve both shapes: measure sparse first, then call ``populate()``."""
    return GroupScenario.build(suite, n, shape="populated", populate_later=True, **kw)


__all__: Sequence[str] = [
    "DEFAULT_PAYLOAD",
    "GROUP_ID",
    "IDENTITY_LEN",
    "SHAPES",
    "SIZE_METRICS",
    "TIME_OPS",
    "GroupScenario",
    "Op",
    "build_both",
    "identity",
    "joined_state",
    "populating_leaves",
]
