"""Generators for the group vector kinds ``welcome``, ``passive-client-welcome``,
``passive-client-handling-commit`` and ``passive-client-random`` (mlswg test-vectors.md
"Welcome" and "Passive Client Scenarios"), for any registered suite.

Every value comes from real groups driven through the engine (:class:`~mls_pq.group.Group`):
members are created, add each other by Welcome or join by external Commit, send proposals
and commits, and process everything they receive; nothing is framed by hand. The passive
client is a real member too: it joins from the recorded Welcome with the KeyPackage whose
private keys (``init_priv``, ``encryption_priv``, ``signature_priv``) the vector exports,
processes every recorded message, and its epoch authenticator (RFC 9420 §8.7) is checked
against every other member's before it is written down.

The scenarios (:class:`_Sim` drives them; "compact" is the variant for suites with large
signatures, see :func:`budget`):

* ``welcome``: a Welcome (no PSKs, tree not included) from a one-member group (no path
  secret in the GroupSecrets; not in compact) and from a three-member group whose commit
  has a path (a path secret for the joiner). ``signer_pub`` is the committer's key.
* ``passive-client-welcome``: joining a one-member group with the tree in the Welcome, no
  PSK (not in compact); filling the blank leaf of a three-member group, tree out of band
  (``ratchet_tree``), an external PSK and a path secret in the Welcome, PrivateMessage
  handshakes. No epochs, as in the mlswg file.
* ``passive-client-handling-commit``: one history (tree out of band, an external PSK in
  the Welcome) in which each kind of commit has its own epoch. By value, PublicMessage:
  Add (no path); Remove; external PSK; resumption PSK; GroupContextExtensions; an empty
  commit (the committer updates its own leaf through the UpdatePath — the only "update by
  value" RFC 9420 allows, §12.2: an Update proposal from the committer is invalid). By
  reference, PrivateMessage: Add; Update; Remove; external PSK; resumption PSK (with an
  optional path); GCE; an Add from a ``new_member_proposal`` sender (a PublicMessage,
  §12.1.8). Then an external Commit of a new member (§12.4.3.2) and a commit covering
  Add/Update/Remove/PSK/GCE by reference plus a PSK by value. Compact: the same proposal
  types by value and by reference, paired in 9 epochs, the external Commit a resync.
* ``passive-client-random``: a seeded random history: each epoch either an external join
  (new member, or resync of an existing one) or a commit by a random member covering 0–3
  proposals drawn from Add/Update/Remove/PSK (external or resumption)/GCE, each by value or
  by reference (Updates only by reference, from another member), in PublicMessage or
  PrivateMessage, with an optional path when none is required.

PQ keys and signatures are large and these files are committed for every suite, so the
groups stay small (at most :attr:`Budget.members` members besides the passive client in
the random history) and ML-DSA suites get the compact variants and fewer random epochs.

KeyPackages are valid forever (``Lifetime(0, 2**64 - 1)``) and the creator's own leaf
(dated by the clock) is replaced by an UpdatePath before anyone joins, so every recorded
leaf lifetime stays valid. Choices come from the generator's seeded DRBG; keys, nonces,
signatures and encapsulations come from the engine's randomness, so the files differ from
run to run and are checked by verification, not by value.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..client import make_key_package
from ..codec import Writer
from ..extensions import REQUIRED_CAPABILITIES, Extension
from ..group.commit import CommitEffects
from ..group.member import Group
from ..group.results import ProposalMessage, StagedCommit
from ..group.welcome import KeyPackageBundle
from ..messages.credential import BASIC, Credential
from ..messages.framing_structs import MLSMessage, WireFormat
from ..messages.leaf_node import Lifetime
from ..messages.welcome import Welcome
from ..psk import PreSharedKeyID
from ..suites import CipherSuite

Case = dict[str, Any]
Generator = Callable[[CipherSuite, random.Random], list[Case]]
Register = Callable[[str], Callable[[Generator], Generator]]

PUBLIC = int(WireFormat.PUBLIC_MESSAGE)
PRIVATE = int(WireFormat.PRIVATE_MESSAGE)
#: generated KeyPackages never expire
FOREVER = Lifetime(0, (1 << 64) - 1)


class GenerationError(AssertionError):
    """The engine's members disagreed while a scenario was generated (a bug, never bad input)."""


@dataclass(frozen=True)
class Budget:
    """Sizes of the generated scenarios for one suite."""

    #: most members besides the passive client in the random history
    members: int
    #: epochs of the passive-client-random history
    random_epochs: int
    #: fewer, combined scenarios (see :func:`gen_passive_client_handling_commit`) and one
    #: case each of welcome and passive-client-welcome
    compact: bool


def budget(s: CipherSuite) -> Budget:
    """The scenarios are the same for every suite, but suites whose signatures are large
    (ML-DSA: kilobytes in every message and every leaf) get the compact variants and a
    shorter random history, to keep the committed files small."""
    if s.signature.sig_size > 1024:
        return Budget(members=3, random_epochs=10, compact=True)
    return Budget(members=3, random_epochs=20, compact=False)


def required_capabilities(credential_types: Sequence[int]) -> Extension:
    """A ``required_capabilities`` GroupContext extension (RFC 9420 §11.1) requiring only
    credential types: every generated member supports it."""
    w = Writer()
    w.vector((), lambda ww, x: ww.uint16(x))  # extension_types
    w.vector((), lambda ww, x: ww.uint16(x))  # proposal_types
    w.vector(tuple(credential_types), lambda ww, x: ww.uint16(x))
    return Extension(REQUIRED_CAPABILITIES, w.getvalue())


def _merge_commit(g: Group, data: bytes, what: str) -> None:
    """``g`` processes ``data``, which must be a commit, and merges it (RFC 9420 §12.4.2)."""
    res = g.process(data)
    if not isinstance(res, StagedCommit):
        raise GenerationError(f"{what} was processed as a {type(res).__name__}")
    res.merge()


def _welcome(data: bytes) -> Welcome:
    body = MLSMessage.from_bytes(data).body
    assert isinstance(body, Welcome)
    return body


class _Sim:
    """A live group of engine members, optionally followed by a passive client whose view
    is recorded in the passive-client schema."""

    def __init__(self, s: CipherSuite, rng: random.Random) -> None:
        self.s, self.rng = s, rng
        #: every external PSK any member knows (shared by all members; exported in the vector)
        self.psks: dict[bytes, bytes] = {}
        #: active members other than the passive client, by leaf index
        self.members: dict[int, Group] = {}
        self.passive: Group | None = None
        self.header: Case = {}
        self.epochs: list[Case] = []
        #: proposal messages of the current epoch (recorded once the passive client is in)
        self._proposals: list[bytes] = []
        #: their ProposalRefs: the next commit covers exactly these by reference
        self._refs: list[bytes] = []
        #: KeyPackage bundles proposed for addition, not yet added
        self._waiting: list[KeyPackageBundle] = []
        self._count = 0
        self._gce = 0
        sig_priv, _ = s.signature.generate()
        self.members[0] = Group.create(
            s, rng.randbytes(16), Credential.basic(b"member-0"), sig_priv, psk_store=self.psks
        )

    # ---- helpers ------------------------------------------------------------------------
    def key_package(self, identity: bytes | None = None) -> tuple[bytes, KeyPackageBundle]:
        """A fresh KeyPackage (MLSMessage bytes) with a never-expiring lifetime."""
        self._count += 1
        sig_priv, _ = self.s.signature.generate()
        cred = Credential.basic(identity or b"member-%d" % self._count)
        return make_key_package(self.s, cred, sig_priv, lifetime=FOREVER)

    def external_psk(self) -> bytes:
        """A new external PSK known to every member; returns its psk_id."""
        pid = b"psk-%d-" % len(self.psks) + self.rng.randbytes(8)
        self.psks[pid] = self.rng.randbytes(self.s.n_h)
        return pid

    def resumption_psk(self, committer: int) -> PreSharedKeyID:
        """A resumption PSK (usage application) of the current epoch or, sometimes, of the
        previous one when every member (the passive client included) was in it."""
        g = self.members[committer]
        everyone = self.others(None)
        back = self.rng.choice((0, 0, 1))
        if back and not all(m.state.resumption_psk(g.epoch - back) is not None for m in everyone):
            back = 0
        return g.resumption_psk_id(epoch=g.epoch - back)

    def gce(self) -> list[Extension]:
        """GroupContextExtensions alternating between two required_capabilities values."""
        self._gce += 1
        return [required_capabilities((int(BASIC),) if self._gce % 2 else ())]

    def others(self, leaf: int | None) -> list[Group]:
        out = [g for i, g in self.members.items() if i != leaf]
        return out + ([self.passive] if self.passive is not None else [])

    def pick(self, exclude: Sequence[int] = ()) -> int:
        return self.rng.choice(sorted(set(self.members) - set(exclude)))

    # ---- sending ------------------------------------------------------------------------
    def propose(self, sender: int | None, make: Callable[[Group], bytes]) -> bytes:
        """A proposal by reference from member ``sender`` (``None``: ``make`` builds a
        non-member proposal itself), processed by everyone else."""
        msg = make(self.members[sender]) if sender is not None else make(self.members[self.pick()])
        refs = set()
        for g in self.others(sender):
            res = g.process(msg)
            if not isinstance(res, ProposalMessage):
                raise GenerationError(f"a proposal was processed as a {type(res).__name__}")
            refs.add(res.proposal_ref)
        if len(refs) != 1:
            raise GenerationError("the members disagree on a ProposalRef")
        self._refs.append(refs.pop())
        if self.passive is not None:
            self._proposals.append(msg)
        return msg

    def propose_add(self, sender: int, wire_format: int) -> None:
        kp, bundle = self.key_package()
        self._waiting.append(bundle)
        self.propose(sender, lambda g: g.propose_add(kp, wire_format=wire_format))

    def propose_update(self, sender: int, wire_format: int) -> None:
        self.propose(sender, lambda g: g.propose_update(wire_format=wire_format))

    def propose_remove(self, sender: int, target: int, wire_format: int) -> None:
        self.propose(sender, lambda g: g.propose_remove(target, wire_format=wire_format))

    def propose_psk(self, sender: int, psk: PreSharedKeyID | bytes, wire_format: int) -> None:
        self.propose(sender, lambda g: g.propose_psk(psk, wire_format=wire_format))

    def propose_gce(self, sender: int, extensions: list[Extension], wire_format: int) -> None:
        self.propose(sender, lambda g: g.propose_group_context_extensions(extensions, wire_format=wire_format))

    def propose_new_member_add(self) -> None:
        """An Add of a joiner by itself (sender ``new_member_proposal``, §12.1.8)."""
        from ..group.external import new_member_add_proposal

        _, bundle = self.key_package()
        self._waiting.append(bundle)
        anyone = self.members[self.pick()]
        msg = new_member_add_proposal(self.s, anyone.group_id, anyone.epoch, bundle.key_package, bundle.signature_priv)
        self.propose(None, lambda _g: msg)

    def commit(self, committer: int, *, tree_in_welcome: bool = False, **kw: Any) -> CommitEffects:
        """``committer`` commits (``kw`` as for :meth:`Group.commit`); everyone processes it,
        added members join from the Welcome."""
        g = self.members[committer]
        out = g.commit(ratchet_tree_extension=tree_in_welcome, references=list(self._refs), **kw)
        g.merge_pending_commit()
        for info in out.effects.removed:
            self.members.pop(info.leaf_index, None)
        for g2 in self.others(committer):
            _merge_commit(g2, out.commit, "a commit")
        if out.welcome is not None:
            self._admit(out.welcome, None if tree_in_welcome else g.ratchet_tree())
        self._record(out.commit)
        return out.effects

    def _admit(self, welcome: bytes, tree: bytes | None) -> None:
        w = _welcome(welcome)
        for bundle in list(self._waiting):
            if w.find(bundle.key_package.ref(self.s)) is None:
                continue
            self._waiting.remove(bundle)
            j = Group.join(welcome, bundle, ratchet_tree=tree, psk_store=self.psks, suite=self.s)
            self.members[j.leaf_index] = j

    def add_by_value(self, committer: int, n: int = 1, **kw: Any) -> CommitEffects:
        kps = []
        for _ in range(n):
            kp, bundle = self.key_package()
            self._waiting.append(bundle)
            kps.append(kp)
        return self.commit(committer, add=kps, **kw)

    def external_join(self, via: int, *, resync: int | None = None, psk: bool = False) -> None:
        """A new member (or member ``resync`` rejoining) joins by external Commit from the
        GroupInfo that member ``via`` publishes (§12.4.3.2)."""
        if self._refs:
            raise GenerationError("an external commit cannot cover proposals by reference")
        gi = self.members[via].group_info(ratchet_tree=True, external_pub=True)
        if resync is not None:
            old = self.members.pop(resync)
            cred = old.state.own_leaf.credential
            sig_priv = old.state.private.signature_priv
        else:
            self._count += 1
            cred = Credential.basic(b"member-%d" % self._count)
            sig_priv, _ = self.s.signature.generate()
        psks = [PreSharedKeyID.external(pid, self.rng.randbytes(self.s.n_h)) for pid in [self.external_psk()] if psk]
        g, msg = Group.join_external(
            gi, cred, sig_priv, remove_leaf=resync, psks=psks, psk_store=self.psks, suite=self.s
        )
        for g2 in self.others(None):
            _merge_commit(g2, msg, "an external commit")
        self.members[g.leaf_index] = g
        self._record(msg)

    def _record(self, commit: bytes) -> None:
        self._refs.clear()
        if self.passive is None:
            self._proposals.clear()
            return
        auth = self.passive.epoch_authenticator
        for leaf, g in self.members.items():
            if g.epoch_authenticator != auth or g.epoch != self.passive.epoch:
                raise GenerationError(f"member {leaf} disagrees with the passive client after epoch {g.epoch}")
        self.epochs.append(
            {"proposals": [p.hex() for p in self._proposals], "commit": commit.hex(), "epoch_authenticator": auth.hex()}
        )
        self._proposals.clear()

    # ---- the passive client ---------------------------------------------------------------
    def join_passive(
        self,
        committer: int,
        *,
        tree_in_welcome: bool,
        psks: int = 0,
        path: bool | None = None,
        wire_format: int = PUBLIC,
    ) -> None:
        """``committer`` adds the passive client by value (with ``psks`` new external PSKs
        by value); the passive client joins from the Welcome."""
        kp, bundle = self.key_package(b"passive-client")
        g = self.members[committer]
        out = g.commit(
            add=[kp],
            psks=[self.external_psk() for _ in range(psks)],
            path=path,
            ratchet_tree_extension=tree_in_welcome,
            wire_format=wire_format,
            references=list(self._refs),
        )
        g.merge_pending_commit()
        for g2 in self.others(committer):
            _merge_commit(g2, out.commit, "the passive client's Add")
        assert out.welcome is not None
        tree = None if tree_in_welcome else g.ratchet_tree()
        self.passive = Group.join(out.welcome, bundle, ratchet_tree=tree, psk_store=self.psks, suite=self.s)
        if self.passive.epoch_authenticator != g.epoch_authenticator:
            raise GenerationError("the passive client disagrees with the committer after joining")
        self.header = {
            "cipher_suite": self.s.id,
            "key_package": kp.hex(),
            "signature_priv": bundle.signature_priv.hex(),
            "encryption_priv": bundle.encryption_priv.hex(),
            "init_priv": bundle.init_priv.hex(),
            "welcome": out.welcome.hex(),
            "ratchet_tree": tree.hex() if tree is not None else None,
            "initial_epoch_authenticator": self.passive.epoch_authenticator.hex(),
        }
        self._proposals.clear()
        self._refs.clear()

    @property
    def passive_leaf(self) -> int:
        assert self.passive is not None
        return self.passive.leaf_index

    def case(self) -> Case:
        """The recorded scenario in the passive-client schema (field order of test-vectors.md)."""
        h = self.header
        return {
            "cipher_suite": h["cipher_suite"],
            "external_psks": [{"psk_id": pid.hex(), "psk": psk.hex()} for pid, psk in self.psks.items()],
            **{k: v for k, v in h.items() if k != "cipher_suite"},
            "epochs": list(self.epochs),
        }


def _grow(s: CipherSuite, rng: random.Random, n: int) -> _Sim:
    """A group of ``n`` members whose creator already replaced its clock-dated leaf by a
    commit with a path (so every leaf the passive client sees has a valid lifetime)."""
    sim = _Sim(s, rng)
    if n > 1:
        sim.add_by_value(0, n - 1, path=True)
    else:
        sim.commit(0)  # empty commit: an UpdatePath
    return sim


# ---- welcome ---------------------------------------------------------------------------------


def _welcome_case(s: CipherSuite, rng: random.Random, members: int) -> Case:
    sim = _grow(s, rng, members)
    committer = sim.pick()
    g = sim.members[committer]
    kp, bundle = sim.key_package(b"joiner")
    out = g.commit(add=[kp], path=members > 1, ratchet_tree_extension=False)
    g.merge_pending_commit()
    assert out.welcome is not None
    joiner = Group.join(out.welcome, bundle, ratchet_tree=g.ratchet_tree(), suite=s)
    if joiner.epoch_authenticator != g.epoch_authenticator:
        raise GenerationError("the joiner disagrees with the committer")
    return {
        "cipher_suite": s.id,
        "init_priv": bundle.init_priv.hex(),
        "key_package": kp.hex(),
        "signer_pub": g.state.own_leaf.signature_key.hex(),
        "welcome": out.welcome.hex(),
    }


def gen_welcome(s: CipherSuite, rng: random.Random) -> list[Case]:
    """A Welcome without and one with a path secret (test-vectors.md "Welcome"); compact:
    only the latter."""
    if budget(s).compact:
        return [_welcome_case(s, rng, 3)]
    return [_welcome_case(s, rng, 1), _welcome_case(s, rng, 3)]


# ---- passive-client-welcome ------------------------------------------------------------------


def gen_passive_client_welcome(s: CipherSuite, rng: random.Random) -> list[Case]:
    """Joining a one-member group, tree in the Welcome, no PSK, no path secret; and filling
    the blank leaf of a three-member group, tree out of band, an external PSK, a path
    secret, PrivateMessage handshakes. Compact: only the latter."""
    out: list[Case] = []
    if not budget(s).compact:
        sim = _grow(s, rng, 1)
        sim.join_passive(0, tree_in_welcome=True)
        out.append(sim.case())

    sim = _grow(s, rng, 4)
    sim.commit(0, remove=[2])  # a blank leaf with parent hashes around it
    sim.join_passive(sim.pick(), tree_in_welcome=False, psks=1, path=True, wire_format=PRIVATE)
    out.append(sim.case())
    return out


# ---- passive-client-handling-commit -----------------------------------------------------------


def gen_passive_client_handling_commit(s: CipherSuite, rng: random.Random) -> list[Case]:
    """One history per suite in which each kind of commit has its own epoch (the compact
    variant combines some of them, see :func:`_handling_commit_compact`): proposals by
    value in PublicMessages, then by reference in PrivateMessages, an external Commit and a
    commit covering everything at once."""
    if budget(s).compact:
        return [_handling_commit_compact(s, rng)]
    sim = _grow(s, rng, 3)
    sim.join_passive(0, tree_in_welcome=False, psks=1)
    a, b, c = sorted(sim.members)[:3]
    # -- by value, PublicMessage
    added = sim.add_by_value(a, wire_format=PUBLIC).added[0].leaf_index  # Add (no path)
    sim.commit(b, remove=[added], wire_format=PUBLIC)  # Remove (path required)
    sim.commit(c, psks=[sim.external_psk()], wire_format=PUBLIC)  # external PSK (no path)
    sim.commit(a, psks=[sim.resumption_psk(a)], wire_format=PUBLIC)  # resumption PSK (no path)
    sim.commit(b, group_context_extensions=sim.gce(), wire_format=PUBLIC)  # GCE (path required)
    sim.commit(c, wire_format=PUBLIC)  # empty commit: the committer's own leaf updated by value, in its path
    # -- by reference, PrivateMessage
    sim.propose_add(a, PRIVATE)  # Add
    sim.commit(b, wire_format=PRIVATE)
    x = max(set(sim.members) - {a, b, c})
    sim.propose_update(x, PRIVATE)  # Update
    sim.commit(c, wire_format=PRIVATE)
    sim.propose_remove(a, x, PRIVATE)  # Remove
    sim.commit(b, wire_format=PRIVATE)
    pid = sim.external_psk()
    sim.propose_psk(c, pid, PRIVATE)  # external PSK
    sim.commit(a, wire_format=PRIVATE)
    res = sim.resumption_psk(b)
    sim.propose_psk(b, res, PRIVATE)  # resumption PSK
    sim.commit(c, path=True, wire_format=PRIVATE)  # with an optional path
    ext = sim.gce()
    sim.propose_gce(a, ext, PRIVATE)  # GCE
    sim.commit(b, wire_format=PRIVATE)
    sim.propose_new_member_add()  # Add from a new_member_proposal sender (a PublicMessage)
    z = sim.commit(c, wire_format=PRIVATE).added[0].leaf_index
    # -- an external Commit (PublicMessage), then everything at once
    sim.external_join(a)
    y = max(set(sim.members) - {a, b, c, z})  # the external joiner
    sim.propose_add(a, PRIVATE)
    sim.propose_update(b, PRIVATE)
    sim.propose_remove(y, z, PRIVATE)
    pid = sim.external_psk()
    sim.propose_psk(a, pid, PRIVATE)
    ext = sim.gce()
    sim.propose_gce(y, ext, PRIVATE)
    sim.commit(c, psks=[sim.external_psk()], wire_format=PRIVATE)  # all of them by reference, a PSK by value
    return [sim.case()]


def _handling_commit_compact(s: CipherSuite, rng: random.Random) -> Case:
    """The same proposal types, by value and by reference, in fewer epochs (and so fewer
    UpdatePaths): Add; Remove + GCE; external + resumption PSK; empty commit (by value,
    PublicMessage); Add + external PSK; Update + Remove; resumption PSK + GCE; an Add from
    a new_member_proposal sender (by reference, PrivateMessage commits); an external
    Commit."""
    sim = _grow(s, rng, 3)
    sim.join_passive(0, tree_in_welcome=False, psks=1)
    a, b, c = sorted(sim.members)[:3]
    added = sim.add_by_value(a, wire_format=PUBLIC).added[0].leaf_index
    sim.commit(b, remove=[added], group_context_extensions=sim.gce(), wire_format=PUBLIC)
    sim.commit(c, psks=[sim.external_psk(), sim.resumption_psk(c)], wire_format=PUBLIC)
    sim.commit(a, wire_format=PUBLIC)
    sim.propose_add(b, PRIVATE)
    pid = sim.external_psk()
    sim.propose_psk(c, pid, PRIVATE)
    sim.commit(a, wire_format=PRIVATE)
    x = max(set(sim.members) - {a, b, c})
    sim.propose_update(a, PRIVATE)
    sim.propose_remove(b, x, PRIVATE)
    sim.commit(c, wire_format=PRIVATE)
    res = sim.resumption_psk(a)
    sim.propose_psk(a, res, PRIVATE)
    ext = sim.gce()
    sim.propose_gce(c, ext, PRIVATE)
    sim.commit(b, wire_format=PRIVATE)
    sim.propose_new_member_add()
    z = sim.commit(c, wire_format=PRIVATE).added[0].leaf_index
    sim.external_join(a, resync=z)  # the new member rejoins by external Commit (resync)
    return sim.case()


# ---- passive-client-random ---------------------------------------------------------------------


def _random_epoch(sim: _Sim, max_members: int) -> None:
    """One random epoch: an external join (10%), or a commit by a random member covering
    0-3 random proposals, each by value or by reference."""
    rng = sim.rng
    if rng.random() < 0.1:
        if len(sim.members) < max_members:
            sim.external_join(sim.pick(), psk=rng.random() < 0.3)
        else:
            resync = sim.pick()
            sim.external_join(sim.pick(exclude=[resync]), resync=resync)
        return
    wf = rng.choice((PUBLIC, PRIVATE))
    committer = sim.pick()
    adds: list[bytes] = []
    removes: list[int] = []
    psks: list[PreSharedKeyID | bytes] = []
    gce: list[Extension] | None = None
    used: set[str] = set()
    #: members that sent a proposal this epoch or are removed by it (neither is picked again)
    busy: set[int] = set()
    size = len(sim.members)
    for _ in range(rng.choice((0, 1, 1, 1, 1, 1, 2, 2, 2, 3))):
        what = rng.choices(("add", "remove", "update", "psk", "resumption", "gce"), (4, 3, 2, 4, 2, 1))[0]
        by_ref = rng.random() < 0.5
        free = sorted(set(sim.members) - busy)
        proposer = rng.choice(free) if by_ref and free else committer
        if what == "add" and size < max_members and "resumption" not in used:
            # (joiners cannot know a resumption PSK of the group, §12.4.3.1)
            size += 1
            used.add("add")
            if proposer != committer or by_ref:
                busy.add(proposer)
                sim.propose_add(proposer, wf)
            else:
                kp, bundle = sim.key_package()
                sim._waiting.append(bundle)
                adds.append(kp)
        elif what == "remove" and size > 2:
            targets = sorted(set(sim.members) - busy - {committer, proposer})
            if not targets:
                continue
            target = rng.choice(targets)
            size -= 1
            busy.add(target)
            if by_ref:
                busy.add(proposer)
                sim.propose_remove(proposer, target, wf)
            else:
                removes.append(target)
        elif what == "update":
            # only by reference, and never from the committer (§12.2)
            updaters = sorted(set(sim.members) - busy - {committer})
            if not updaters:
                continue
            u = rng.choice(updaters)
            busy.add(u)
            sim.propose_update(u, wf)
        elif what == "psk" or (what == "resumption" and "add" not in used):
            used.add(what)
            pid: PreSharedKeyID | bytes = sim.external_psk() if what == "psk" else sim.resumption_psk(committer)
            if by_ref:
                busy.add(proposer)
                sim.propose_psk(proposer, pid, wf)
            else:
                psks.append(pid)
        elif what == "gce" and "gce" not in used:
            used.add("gce")
            ext = sim.gce()
            if by_ref:
                busy.add(proposer)
                sim.propose_gce(proposer, ext, wf)
            else:
                gce = ext
    sim.commit(
        committer,
        add=adds,
        remove=removes,
        psks=psks,
        group_context_extensions=gce,
        path=True if rng.random() < 0.1 else None,
        wire_format=wf,
    )


def gen_passive_client_random(s: CipherSuite, rng: random.Random) -> list[Case]:
    b = budget(s)
    sim = _grow(s, rng, 3)
    sim.join_passive(sim.pick(), tree_in_welcome=rng.random() < 0.5, psks=rng.choice((0, 1)))
    while len(sim.epochs) < b.random_epochs:
        _random_epoch(sim, b.members)
    return [sim.case()]


def register_generators(generator: Register) -> None:
    """Hook for :func:`mls_pq.vectors.generate._load_generators`."""
    generator("welcome")(gen_welcome)
    generator("passive-client-welcome")(gen_passive_client_welcome)
    generator("passive-client-handling-commit")(gen_passive_client_handling_commit)
    generator("passive-client-random")(gen_passive_client_random)
