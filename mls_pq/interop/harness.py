"""Interop harness: mls-pq and ts-mls run one group together over real wire bytes.

Every message crosses between the two implementations as RFC 9420 ``MLSMessage`` bytes
(§6): KeyPackages, Welcomes, GroupInfos, commits and application messages. Nothing else is shared;
in particular each side derives its own secrets, and agreement is checked on values each
side computes independently.

One *scenario* runs per (cipher suite, direction). The *direction* names the
implementation that creates the group ("creator") and the one whose KeyPackage is
added first ("joiner"): ``mls-pq>ts-mls`` means mls-pq creates, ts-mls joins. With ``A``
the creator's implementation and ``B`` the joiner's, the scenario is:

====  ==========================================================================  ======
step  action (alice=A, bob=B, carol=A, dave=B, erin=B, frank=B, grace=A)          epoch
====  ==========================================================================  ======
1     alice creates the group; adds bob (B KeyPackage); Welcome **with** the          1
      ``ratchet_tree`` extension; commit as PublicMessage
2     bob commits (empty commit, UpdatePath) as PrivateMessage; alice processes      2
3     alice commits (UpdatePath) as PublicMessage; bob processes                     3
4     application messages alice→bob and bob→alice (with authenticated data)         3
5     bob adds carol (an A KeyPackage) as PublicMessage; Welcome **without** the      4
      extension (tree out of band); alice processes, carol joins
6     carol commits (UpdatePath) as PrivateMessage; alice and bob process; carol      5
      and bob send application messages to everyone
7     alice adds dave (a B KeyPackage) as PrivateMessage; Welcome without the         6
      extension; bob and carol process, dave joins
8     bob removes carol as PublicMessage; alice, carol (removed), dave process        7
9     alice removes dave as PrivateMessage; bob and dave (removed) process            8
10    application messages alice↔bob                                                 8
11    bob *proposes* adding erin (B KeyPackage, PublicMessage); alice commits the     9
      proposal by reference (PrivateMessage, Welcome with the extension); bob
      processes, erin joins
12    alice *proposes* removing erin (PrivateMessage); bob commits it by reference   10
      (PublicMessage); alice and erin (removed) process; application messages

13    alice and bob hold the same external PSK; alice commits a PreSharedKey       11
      proposal by value (PublicMessage, no UpdatePath); bob processes
14    bob commits a PreSharedKey proposal by value (PrivateMessage); alice           12
      processes
15    external join: frank (B) joins by an external commit (§12.4.3.2) from          13
      alice's GroupInfo (``external_pub`` + ``ratchet_tree`` extensions); alice
      and bob process; frank sends an application message to everyone
16    frank commits an UpdatePath (PublicMessage); alice and bob process             14
17    external join: grace (A) joins from bob's GroupInfo; alice, bob and frank      15
      process; grace sends an application message to everyone
18    grace commits an UpdatePath (PrivateMessage); the others process               16
====  ==========================================================================  ======

Steps 1–12 form the *core* (parts ``welcome``, ``commits``, ``app``), 13–14 the part
``psk``, and 15–16 / 17–18 the two external-join parts, named after the joiner:
``ext_join_tsmls`` (a ts-mls client joins from mls-pq's GroupInfo) and ``ext_join_mlspq``
(an mls-pq client joins from ts-mls's GroupInfo); in each direction both run, once with
the creator's and once with the first joiner's GroupInfo. Each part has a status in
:attr:`ScenarioResult.parts`: ``passed``; ``failed``; ``partial`` (some of its steps passed,
then another part's step failed); ``not run``; or ``deviation`` for an external join that
fails with the RFC 9420 GroupInfo and passes with the peer's own deviating encoding (see
below). A failure stops the scenario (later parts: ``not run``).

ts-mls 1.6.4 writes the ``external_pub`` extension (§12.4.3.2, ``struct { HPKEPublicKey
external_pub; }``) as the bare public key without the ``HPKEPublicKey`` length prefix, and
reads only that form. mls-pq reads ts-mls's form under the ``ts-mls-1.6`` profile only
(the profile's :data:`~mls_pq.suites.cipher_suite.BARE_EXTERNAL_PUB` quirk, :data:`mls_pq.suites.registry.PROFILE_QUIRKS`; the default profile is strict) and
always writes the RFC form, which ts-mls cannot read. So when a ts-mls client joins from
mls-pq's GroupInfo and ts-mls refuses it, the harness retries with a GroupInfo mls-pq signs
with ts-mls's bare-key ``external_pub`` (built here, not by the library): if the rest then
interoperates, the part is ``deviation``: :attr:`ScenarioResult.details` says why, and
ts-mls's refusal of the RFC form is in :attr:`ScenarioResult.log`.

So in each direction both implementations send commits in both wire formats (§6.1,
§6.3), each processes the other's commits and commits the other's proposals by reference
(§12.1, §12.4), Welcomes cross both ways, and over the two
directions each implementation builds Welcomes with and without the ``ratchet_tree``
extension (§12.4.3.3). Every KeyPackage carries GREASE values (§13.5): mls-pq's in all
four capability lists plus a GREASE KeyPackage extension and a GREASE leaf extension;
ts-mls adds random GREASE values to its capabilities by itself, so the harness draws
ts-mls KeyPackages until one has some.

After every epoch change all active members are compared, field by field, in this order:
``epoch``, ``group_id``, ``cipher_suite``, ``members`` (leaf index, identity, signature
key), ``tree_hash``, ``confirmed_transcript_hash``, ``epoch_authenticator`` (§8.7) and an
``exporter`` secret (§8.5). The first difference stops the scenario and is reported with
both values. Epoch authenticators must also differ from epoch to epoch.

mls-pq runs under the ``ts-mls-1.6`` code-point profile (:mod:`mls_pq.suites.registry`),
which holds ts-mls's constructions for its suites 77–88 and its ECDSA key encoding.
Hand-written glue (no library does this); the MLS work is mls-pq's and ts-mls's.
"""

from __future__ import annotations

import hashlib
import os
import random
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from dataclasses import field as _field
from typing import Any

from ..client import parse_key_package
from ..errors import MLSError
from ..extensions import EXTERNAL_PUB, GREASE_VALUES, RATCHET_TREE, Extension, is_grease
from ..group.results import ApplicationMessage, StagedCommit
from ..messages.credential import BASIC, X509, Credential
from ..messages.framing_structs import MLSMessage, WireFormat
from ..messages.leaf_node import Capabilities
from ..messages.version import PROTOCOL_VERSION_MLS10
from ..messages.welcome import GroupInfo
from ..psk import PSK_EXTERNAL
from ..suites import CipherSuite, get_suite
from .tsmls import TsMlsPeer

__all__ = [
    "DIRECTIONS",
    "PARTS",
    "PROFILE",
    "Disagreement",
    "ScenarioResult",
    "run_matrix",
    "run_scenario",
    "shared_suites",
]

#: code-point profile mls-pq uses towards ts-mls
PROFILE = "ts-mls-1.6"
MLSPQ, TSMLS = "mls-pq", "ts-mls"
#: "<creator>><first joiner>"
DIRECTIONS = (f"{MLSPQ}>{TSMLS}", f"{TSMLS}>{MLSPQ}")
#: the suites both implement: RFC 9420 1–7 and ts-mls's 77–88 (under :data:`PROFILE`)
CANDIDATE_SUITES = (*range(1, 8), *range(77, 89))

PUBLIC, PRIVATE = int(WireFormat.PUBLIC_MESSAGE), int(WireFormat.PRIVATE_MESSAGE)
_WF_NAME = {PUBLIC: "PublicMessage", PRIVATE: "PrivateMessage"}
EXPORTER_LABEL = "mls-pq interop"
_GREASE = sorted(GREASE_VALUES)
_TSMLS_GREASE_TRIES = 12

#: scenario parts, in order (see the module docstring)
CORE_PARTS = ("welcome", "commits", "app")
EXT_JOIN = {MLSPQ: "ext_join_mlspq", TSMLS: "ext_join_tsmls"}  #: by the joiner's implementation
PARTS = (*CORE_PARTS, "psk", EXT_JOIN[TSMLS], EXT_JOIN[MLSPQ])
#: part statuses; "deviation": fails as RFC 9420 says, passes with the peer's deviating encoding
PART_STATUSES = ("passed", "deviation", "partial", "failed", "not run")
EXTERNAL_PUB_DEVIATION = (
    "ts-mls cannot read mls-pq's RFC 9420 external_pub (HPKEPublicKey with its length prefix, "
    "§12.4.3.2): it takes the whole extension data as the key; with the bare key, as ts-mls "
    "writes it, the external join interoperates"
)


#: compared values that are secrets: shown only as fingerprints
_SECRET_FIELDS = frozenset({"epoch_authenticator", "exporter"})


class Disagreement(MLSError):
    """Two members disagree on a field after an epoch change (values in ``values``)."""

    def __init__(self, field_name: str, epoch: int, a: tuple[str, Any], b: tuple[str, Any]) -> None:
        self.field = field_name
        self.epoch = epoch
        self.values = (a, b)
        shown_a, shown_b = _show(field_name, a[1], b[1])
        super().__init__(f"{field_name} differs in epoch {epoch}: {a[0]}={shown_a} vs {b[0]}={shown_b}")


class StepFailed(MLSError):
    """An implementation refused or mishandled a message in a step."""


def _short(v: bytes) -> str:
    return v.hex() if len(v) <= 24 else v[:16].hex() + f"...({len(v)} bytes)"


def _show(field_name: str, a: Any, b: Any) -> tuple[str, str]:
    """Readable forms of two differing values: secrets as SHA-256 fingerprints, member
    lists by their first differing entry, long byte strings shortened."""

    def one(x: Any) -> str:
        if field_name in _SECRET_FIELDS and isinstance(x, bytes):
            return f"<{len(x)} bytes, sha256 {hashlib.sha256(x).hexdigest()[:16]}>"
        return _short(x) if isinstance(x, bytes) else repr(x)

    def entry(i: int, e: Any) -> str:
        return "<missing>" if e is None else f"[{i}] leaf {e[0]} {e[1]!r} key {_short(e[2])}"

    if field_name == "members":
        for i in range(max(len(a), len(b))):
            ea, eb = (a[i] if i < len(a) else None), (b[i] if i < len(b) else None)
            if ea != eb:
                return entry(i, ea), entry(i, eb)
    return one(a), one(b)


# ---------------------------------------------------------------- members


@dataclass
class View:
    """What a member says about its current epoch (the compared fields, in order)."""

    epoch: int
    group_id: bytes
    cipher_suite: int
    members: tuple[tuple[int, bytes, bytes], ...]
    tree_hash: bytes
    confirmed_transcript_hash: bytes
    epoch_authenticator: bytes
    exporter: bytes


FIELDS = tuple(View.__dataclass_fields__)


def exporter_context(epoch: int) -> bytes:
    return b"mls-pq interop epoch " + str(epoch).encode()


class Member(ABC):
    """One group member, behind a uniform interface over either implementation."""

    impl: str
    name: str

    @property
    def label(self) -> str:
        return f"{self.name}({self.impl})"

    @abstractmethod
    def commit_update(self, wire_format: int) -> bytes: ...

    @abstractmethod
    def add(self, key_package: bytes, wire_format: int, ratchet_tree_extension: bool) -> tuple[bytes, bytes, bytes]:
        """-> (commit, welcome, ratchet_tree of the new epoch)"""

    @abstractmethod
    def remove(self, leaf_index: int, wire_format: int) -> bytes: ...

    @abstractmethod
    def propose_add(self, key_package: bytes, wire_format: int) -> bytes: ...

    @abstractmethod
    def propose_remove(self, leaf_index: int, wire_format: int) -> bytes: ...

    @abstractmethod
    def commit_pending(self, wire_format: int, ratchet_tree_extension: bool) -> tuple[bytes, bytes | None]:
        """Commit every received proposal by reference -> (commit, welcome or None)."""

    @abstractmethod
    def process(self, message: bytes) -> tuple[str, int, bool, bytes | None]:
        """-> (kind, epoch after, still active, application data)"""

    @abstractmethod
    def protect(self, data: bytes, aad: bytes) -> bytes: ...

    @abstractmethod
    def view(self) -> View: ...

    @abstractmethod
    def leaf_index(self) -> int: ...

    @abstractmethod
    def add_external_psk(self, psk_id: bytes, psk: bytes) -> None:
        """Make an external PSK (§8.4) available to this member's commits and processing."""

    @abstractmethod
    def commit_psk(self, psk_id: bytes, wire_format: int) -> bytes:
        """Commit a PreSharedKey proposal for the external PSK ``psk_id`` by value."""

    @abstractmethod
    def group_info(self) -> bytes:
        """A GroupInfo (MLSMessage) with the ``external_pub`` and ``ratchet_tree`` extensions."""


class MlsPqMember(Member):
    impl = MLSPQ

    def __init__(self, name: str, group: Any) -> None:
        self.name = name
        self.group = group
        #: CommitEffects of the last commit this member processed (None before)
        self.last_commit: Any = None

    def _commit(self, **kw: Any) -> Any:
        out = self.group.commit(**kw)
        self.group.merge_pending_commit()  # like ts-mls, adopt the own commit at once
        return out

    def commit_update(self, wire_format: int) -> bytes:
        return bytes(self._commit(path=True, wire_format=wire_format).commit)

    def add(self, key_package: bytes, wire_format: int, ratchet_tree_extension: bool) -> tuple[bytes, bytes, bytes]:
        out = self._commit(add=[key_package], wire_format=wire_format, ratchet_tree_extension=ratchet_tree_extension)
        if out.welcome is None:
            raise StepFailed("mls-pq made no Welcome for an Add")
        # the Welcome encrypts this same GroupInfo (§12.4.3): check the extension is as asked
        gi = MLSMessage.from_bytes(out.group_info).body
        has_tree = isinstance(gi, GroupInfo) and any(e.extension_type == RATCHET_TREE for e in gi.extensions)
        if has_tree != ratchet_tree_extension:
            raise StepFailed(f"mls-pq's GroupInfo has ratchet_tree={has_tree}, asked for {ratchet_tree_extension}")
        return out.commit, out.welcome, self.group.ratchet_tree()

    def remove(self, leaf_index: int, wire_format: int) -> bytes:
        return bytes(self._commit(remove=[leaf_index], wire_format=wire_format).commit)

    def propose_add(self, key_package: bytes, wire_format: int) -> bytes:
        return bytes(self.group.propose_add(key_package, wire_format=wire_format))

    def propose_remove(self, leaf_index: int, wire_format: int) -> bytes:
        return bytes(self.group.propose_remove(leaf_index, wire_format=wire_format))

    def commit_pending(self, wire_format: int, ratchet_tree_extension: bool) -> tuple[bytes, bytes | None]:
        out = self._commit(wire_format=wire_format, ratchet_tree_extension=ratchet_tree_extension)
        return out.commit, out.welcome

    def process(self, message: bytes) -> tuple[str, int, bool, bytes | None]:
        r = self.group.process(message)
        if isinstance(r, StagedCommit):
            self.last_commit = r.merge()  # the harness accepts every valid commit (RFC 9420 §12.4.2)
            return "commit", self.group.epoch, self.group.active, None
        if isinstance(r, ApplicationMessage):
            return "application", self.group.epoch, self.group.active, r.data
        return "proposal", self.group.epoch, self.group.active, None

    def protect(self, data: bytes, aad: bytes) -> bytes:
        return bytes(self.group.encrypt(data, authenticated_data=aad))

    def view(self) -> View:
        g = self.group
        ctx = g.group_context
        members = tuple((m.leaf_index, bytes(m.credential.identity), bytes(m.signature_key)) for m in g.members())
        return View(
            epoch=g.epoch,
            group_id=bytes(ctx.group_id),
            cipher_suite=ctx.cipher_suite,
            members=members,
            tree_hash=bytes(ctx.tree_hash),
            confirmed_transcript_hash=bytes(ctx.confirmed_transcript_hash),
            epoch_authenticator=bytes(g.epoch_authenticator),
            exporter=bytes(g.export_secret(EXPORTER_LABEL, exporter_context(g.epoch), 32)),
        )

    def leaf_index(self) -> int:
        return int(self.group.leaf_index)

    def add_external_psk(self, psk_id: bytes, psk: bytes) -> None:
        self.group.psk_store[psk_id] = psk

    def commit_psk(self, psk_id: bytes, wire_format: int) -> bytes:
        return bytes(self._commit(psks=[psk_id], wire_format=wire_format).commit)

    def group_info(self) -> bytes:
        return bytes(self.group.group_info(ratchet_tree=True, external_pub=True))

    def group_info_bare_external_pub(self) -> bytes:
        """A GroupInfo whose ``external_pub`` is the bare key, as ts-mls 1.6.4 writes and reads
        it (no ``HPKEPublicKey`` length prefix, against §12.4.3.2); signed by this member.
        Built here from the library's parts: mls-pq itself only writes the RFC form."""
        bare = self.group.state.secrets.external_key_pair()[1]
        return bytes(
            self.group.group_info(ratchet_tree=True, external_pub=False, extensions=[Extension(EXTERNAL_PUB, bare)])
        )


class TsMlsMember(Member):
    impl = TSMLS

    def __init__(self, name: str, peer: TsMlsPeer, handle: str) -> None:
        self.name = name
        self.peer = peer
        self.handle = handle

    @staticmethod
    def _wf(wire_format: int) -> str:
        return "public" if wire_format == PUBLIC else "private"

    def commit_update(self, wire_format: int) -> bytes:
        return self.peer.commit(self.handle, wire_format=self._wf(wire_format))

    def add(self, key_package: bytes, wire_format: int, ratchet_tree_extension: bool) -> tuple[bytes, bytes, bytes]:
        r = self.peer.add(
            self.handle, key_package, ratchet_tree_extension=ratchet_tree_extension, wire_format=self._wf(wire_format)
        )
        return r.commit, r.welcome, r.ratchet_tree

    def remove(self, leaf_index: int, wire_format: int) -> bytes:
        return self.peer.remove(self.handle, leaf_index, wire_format=self._wf(wire_format))

    def propose_add(self, key_package: bytes, wire_format: int) -> bytes:
        return self.peer.propose_add(self.handle, key_package, wire_format=self._wf(wire_format))

    def propose_remove(self, leaf_index: int, wire_format: int) -> bytes:
        return self.peer.propose_remove(self.handle, leaf_index, wire_format=self._wf(wire_format))

    def commit_pending(self, wire_format: int, ratchet_tree_extension: bool) -> tuple[bytes, bytes | None]:
        # TsMlsPeer.commit returns only the commit; the driver also answers the Welcome
        r = self.peer.raw(
            "commit",
            handle=self.handle,
            wire_format=self._wf(wire_format),
            ratchet_tree_extension=ratchet_tree_extension,
        )
        welcome = r.get("welcome")
        return bytes.fromhex(r["commit"]), bytes.fromhex(welcome) if welcome else None

    def process(self, message: bytes) -> tuple[str, int, bool, bytes | None]:
        r = self.peer.process(self.handle, message)
        return r.kind, r.epoch, r.active, r.data

    def protect(self, data: bytes, aad: bytes) -> bytes:
        return self.peer.protect(self.handle, data, authenticated_data=aad)

    def view(self) -> View:
        st = self.peer.state(self.handle)
        auth, epoch = self.peer.epoch_authenticator(self.handle)
        members = tuple(
            (int(m["leaf_index"]), bytes.fromhex(m["identity"] or ""), bytes.fromhex(m["signature_key"]))
            for m in st["members"]
        )
        return View(
            epoch=epoch,
            group_id=bytes.fromhex(st["group_id"]),
            cipher_suite=int(st["cipher_suite"]),
            members=members,
            tree_hash=bytes.fromhex(st["tree_hash"]),
            confirmed_transcript_hash=bytes.fromhex(st["confirmed_transcript_hash"]),
            epoch_authenticator=auth,
            exporter=self.peer.export(self.handle, EXPORTER_LABEL, exporter_context(epoch), 32),
        )

    def leaf_index(self) -> int:
        return int(self.peer.state(self.handle)["leaf_index"])

    def add_external_psk(self, psk_id: bytes, psk: bytes) -> None:
        self.peer.external_psk(self.handle, psk_id, psk)

    def commit_psk(self, psk_id: bytes, wire_format: int) -> bytes:
        return self.peer.commit_psk(self.handle, psk_id, wire_format=self._wf(wire_format))[0]

    def group_info(self) -> bytes:
        return self.peer.group_info(self.handle)


# ---------------------------------------------------------------- implementations


@dataclass
class KeyPackageInfo:
    """A KeyPackage on the wire and what joining with it needs on its owner's side."""

    message: bytes
    secret: Any  # KeyPackageBundle (mls-pq) or driver handle (ts-mls)
    grease: dict[str, list[str]]


def grease_in(kp_message: bytes) -> dict[str, list[str]]:
    """The GREASE values (§13.5) a KeyPackage carries, by where they are."""
    kp = parse_key_package(kp_message)
    caps = kp.leaf_node.capabilities
    found = {
        "cipher_suites": [v for v in caps.cipher_suites if is_grease(v)],
        "extensions": [v for v in caps.extensions if is_grease(v)],
        "proposals": [v for v in caps.proposals if is_grease(v)],
        "credentials": [v for v in caps.credentials if is_grease(v)],
        "key_package_extensions": [e.extension_type for e in kp.extensions if is_grease(e.extension_type)],
        "leaf_extensions": [e.extension_type for e in kp.leaf_node.extensions if is_grease(e.extension_type)],
    }
    return {k: [f"0x{x:04x}" for x in v] for k, v in found.items() if v}


class Impl(ABC):
    name: str

    @abstractmethod
    def key_package(self, identity: bytes) -> KeyPackageInfo: ...

    @abstractmethod
    def create(self, group_id: bytes, identity: bytes) -> Member: ...

    @abstractmethod
    def join(self, name: str, kp: KeyPackageInfo, welcome: bytes, ratchet_tree: bytes | None) -> Member: ...

    @abstractmethod
    def join_external(self, name: str, group_info: bytes) -> tuple[Member, bytes]:
        """Join by an external commit from ``group_info`` -> (member, the commit to send)."""


class MlsPqImpl(Impl):
    """mls-pq with GREASE-carrying KeyPackages and leaves."""

    name = MLSPQ

    def __init__(self, suite: CipherSuite, rng: random.Random) -> None:
        self.suite = suite
        self.rng = rng

    def _greased(self, credential: Credential) -> tuple[Capabilities, Extension]:
        g = self.rng.sample(_GREASE, 5)
        caps = Capabilities(
            versions=(PROTOCOL_VERSION_MLS10,),
            cipher_suites=(self.suite.id, g[0]),
            extensions=(g[1],),  # the GREASE leaf extension below must be listed (§7.2)
            proposals=(g[2],),
            credentials=tuple(sorted({int(BASIC), int(X509), credential.credential_type})) + (g[3],),
        )
        return caps, Extension(g[1], os.urandom(self.rng.randrange(0, 9)))

    def key_package(self, identity: bytes) -> KeyPackageInfo:
        from ..client import make_key_package

        cred = Credential.basic(identity)
        sk, _ = self.suite.signature.generate()
        caps, leaf_ext = self._greased(cred)
        kp_ext = Extension(self.rng.choice(_GREASE), os.urandom(4))
        msg, bundle = make_key_package(
            self.suite, cred, sk, capabilities=caps, extensions=[kp_ext], leaf_extensions=[leaf_ext]
        )
        return KeyPackageInfo(msg, bundle, grease_in(msg))

    def create(self, group_id: bytes, identity: bytes) -> Member:
        from ..group import Group

        cred = Credential.basic(identity)
        sk, _ = self.suite.signature.generate()
        caps, leaf_ext = self._greased(cred)
        g = Group.create(self.suite, group_id, cred, sk, capabilities=caps, leaf_extensions=[leaf_ext])
        return MlsPqMember(identity.decode(), g)

    def join(self, name: str, kp: KeyPackageInfo, welcome: bytes, ratchet_tree: bytes | None) -> Member:
        from ..group import Group

        if ratchet_tree is not None:
            # the tree comes out of band: the Welcome must really lack the extension, so
            # that joining without the tree fails (§12.4.3.3)
            try:
                Group.join(welcome, [kp.secret], suite=self.suite)
            except MLSError:
                pass
            else:
                raise StepFailed("the Welcome carries a ratchet_tree extension although it was asked without")
        g = Group.join(welcome, [kp.secret], ratchet_tree=ratchet_tree, suite=self.suite)
        return MlsPqMember(name, g)

    def join_external(self, name: str, group_info: bytes) -> tuple[Member, bytes]:
        from ..group import Group

        cred = Credential.basic(name.encode())
        sk, _ = self.suite.signature.generate()
        caps, leaf_ext = self._greased(cred)
        g, commit = Group.join_external(
            group_info, cred, sk, suite=self.suite, capabilities=caps, leaf_extensions=[leaf_ext]
        )
        return MlsPqMember(name, g), commit


class TsMlsImpl(Impl):
    name = TSMLS

    def __init__(self, peer: TsMlsPeer, suite_id: int) -> None:
        self.peer = peer
        self.suite_id = suite_id

    def key_package(self, identity: bytes) -> KeyPackageInfo:
        # ts-mls puts each GREASE value in each capability list with probability 0.1;
        # draw until this KeyPackage carries some (almost always the first one).
        for _ in range(_TSMLS_GREASE_TRIES):
            msg, handle = self.peer.key_package(self.suite_id, identity)
            grease = grease_in(msg)
            if grease:
                return KeyPackageInfo(msg, handle, grease)
            self.peer.free(handle)
        return KeyPackageInfo(msg, handle, grease)

    def create(self, group_id: bytes, identity: bytes) -> Member:
        return TsMlsMember(identity.decode(), self.peer, self.peer.create_group(self.suite_id, group_id, identity))

    def join(self, name: str, kp: KeyPackageInfo, welcome: bytes, ratchet_tree: bytes | None) -> Member:
        return TsMlsMember(name, self.peer, self.peer.join(str(kp.secret), welcome, ratchet_tree))

    def join_external(self, name: str, group_info: bytes) -> tuple[Member, bytes]:
        handle, commit = self.peer.join_external(self.suite_id, name.encode(), group_info)
        return TsMlsMember(name, self.peer, handle), commit


# ---------------------------------------------------------------- results


@dataclass
class ScenarioResult:
    """Outcome of one (suite, direction) scenario."""

    suite: int
    suite_name: str
    direction: str
    status: str = "passed"  #: "passed", "failed" or "skipped"
    step: str = ""  #: the step that failed
    detail: str = ""  #: what failed: the first differing field with both values, or the refusal
    field: str = ""  #: the first differing field, if the failure is a disagreement
    epochs: int = 0  #: epochs both sides agreed on
    checks: int = 0  #: field comparisons that passed
    seconds: float = 0.0
    log: list[str] = _field(default_factory=list)
    #: deviations from RFC 9420 seen on the wire (tolerated by the ts-mls profile)
    observations: list[str] = _field(default_factory=list)
    grease: dict[str, dict[str, list[str]]] = _field(default_factory=dict)
    #: status of each scenario part (:data:`PARTS`; one of :data:`PART_STATUSES`)
    parts: dict[str, str] = _field(default_factory=dict)
    #: per part, what its "deviation" is, or why it failed (the refusal itself is in ``log``)
    details: dict[str, str] = _field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @property
    def deviations(self) -> list[str]:
        """Parts that passed only with the peer's deviating encoding."""
        return [p for p in PARTS if self.parts.get(p) == "deviation"]

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["suite_hex"] = f"0x{self.suite:04x}"
        return d


# ---------------------------------------------------------------- scenario


class _Run:
    def __init__(self, result: ScenarioResult) -> None:
        self.result = result
        self.seen_authenticators: dict[bytes, int] = {}
        self.step = ""
        self.part = ""

    def at(self, step: str, part: str | None = None) -> None:
        """Start ``step``, which belongs to ``part`` (default: the current part)."""
        if part is not None:
            self.part = part
        self.step = step
        self.result.log.append(step)
        self.result.parts.setdefault(self.part, "running")

    def finish(self, *parts: str, status: str = "passed") -> None:
        for p in parts:
            self.result.parts[p] = status

    def settle(self, failed: bool) -> None:
        """Final part statuses: the running part failed (or passed), other unfinished parts
        are partial, parts never reached not run."""
        parts = self.result.parts
        for p in list(parts):
            if parts[p] == "running":
                parts[p] = "failed" if failed and p == self.part else ("partial" if failed else "passed")
        for p in PARTS:
            parts.setdefault(p, "not run")
        self.result.parts = {p: parts[p] for p in PARTS}

    def deliver(self, message: bytes, receivers: Sequence[Member], epoch: int, removed: Sequence[Member] = ()) -> None:
        """Hand a commit to ``receivers``; they must reach ``epoch`` (and ``removed`` go inactive)."""
        for m in receivers:
            try:
                kind, ep, active, _ = m.process(message)
            except MLSError as e:
                raise StepFailed(f"{m.label} refused the commit: {e}") from e
            want_active = m not in removed
            if kind != "commit":
                raise StepFailed(f"{m.label} saw a {kind}, expected a commit")
            if active != want_active:
                raise StepFailed(f"{m.label}: active={active} after the commit, expected {want_active}")
            if want_active and ep != epoch:
                raise StepFailed(f"{m.label} is in epoch {ep} after the commit, expected {epoch}")

    def deliver_proposal(self, message: bytes, receivers: Sequence[Member]) -> None:
        for m in receivers:
            try:
                kind, _, _, _ = m.process(message)
            except MLSError as e:
                raise StepFailed(f"{m.label} refused the proposal: {e}") from e
            if kind != "proposal":
                raise StepFailed(f"{m.label} saw a {kind}, expected a proposal")

    def send_app(self, sender: Member, receivers: Sequence[Member], text: bytes, aad: bytes = b"") -> None:
        try:
            msg = sender.protect(text, aad)
        except MLSError as e:
            raise StepFailed(f"{sender.label} could not protect an application message: {e}") from e
        if text in msg:
            raise StepFailed(f"{sender.label}'s application message carries the plaintext")
        for m in receivers:
            try:
                kind, _, _, data = m.process(msg)
            except MLSError as e:
                raise StepFailed(f"{m.label} refused {sender.label}'s application message: {e}") from e
            if kind != "application" or data != text:
                raise StepFailed(f"{m.label} decrypted {sender.label}'s application message to {kind} {data!r}")
            self.result.checks += 1

    def agree(self, members: Sequence[Member], epoch: int) -> None:
        """All members' views are equal field by field; the first difference raises."""
        views = []
        for m in members:
            try:
                views.append((m, m.view()))
            except MLSError as e:
                raise StepFailed(f"{m.label} could not report its state: {e}") from e
        first_m, first = views[0]
        if first.epoch != epoch:
            raise Disagreement("epoch", epoch, ("expected", epoch), (first_m.label, first.epoch))
        for name in FIELDS:
            a = getattr(first, name)
            for m, v in views[1:]:
                b = getattr(v, name)
                if a != b:
                    raise Disagreement(name, epoch, (first_m.label, a), (m.label, b))
                self.result.checks += 1
        prev = self.seen_authenticators.get(first.epoch_authenticator)
        if prev is not None:
            raise StepFailed(f"epoch {epoch} repeats the epoch_authenticator of epoch {prev} (RFC 9420 §8.7)")
        self.seen_authenticators[first.epoch_authenticator] = epoch
        self.result.epochs = epoch


def run_scenario(
    peer: TsMlsPeer,
    suite_id: int,
    direction: str,
    *,
    seed: int | None = None,
    suite: CipherSuite | None = None,
) -> ScenarioResult:
    """Run the scenario of the module docstring for one suite and direction.

    ``suite`` replaces mls-pq's suite (default: ``suite_id`` in :data:`PROFILE`), e.g. to
    show that a construction other than ts-mls's fails.
    """
    if direction not in DIRECTIONS:
        raise MLSError(f"unknown direction {direction!r}; use one of {', '.join(DIRECTIONS)}")
    suite = suite or get_suite(suite_id, PROFILE)
    result = ScenarioResult(suite_id, suite.name, direction)
    t0 = time.perf_counter()
    rng = random.Random(seed)
    mlspq, tsmls = MlsPqImpl(suite, rng), TsMlsImpl(peer, suite_id)
    a, b = (mlspq, tsmls) if direction == DIRECTIONS[0] else (tsmls, mlspq)
    run = _Run(result)
    group_id = f"mls-pq interop {suite_id} {direction} ".encode() + os.urandom(8).hex().encode()
    try:
        _scenario(run, a, b, group_id)
    except Disagreement as e:
        result.status, result.step, result.field, result.detail = "failed", run.step, e.field, str(e)
    except MLSError as e:  # StepFailed, PeerError (ts-mls refused), mls-pq errors
        result.status, result.step, result.detail = "failed", run.step, f"{type(e).__name__}: {e}"
    except Exception as e:  # noqa: BLE001 - a crash (not an MLSError) is a finding too; go on with the matrix
        result.status, result.step = "failed", run.step
        result.detail = f"unexpected {type(e).__name__} (not an MLSError): {e}"
    run.settle(result.status == "failed")
    if result.status == "failed" and run.part:
        result.details.setdefault(run.part, result.detail)
    result.seconds = round(time.perf_counter() - t0, 3)
    return result


def _wf(x: int) -> str:
    return _WF_NAME[x]


def _scenario(run: _Run, a: Impl, b: Impl, group_id: bytes) -> None:
    res = run.result

    def kp(impl: Impl, who: bytes) -> KeyPackageInfo:
        info = impl.key_package(who)
        res.grease[f"{who.decode()}({impl.name})"] = info.grease
        note = _signature_key_note(info.message, impl.name)
        if note and note not in res.observations:
            res.observations.append(note)
        if not info.grease:
            raise StepFailed(f"{impl.name}'s KeyPackage for {who.decode()} carries no GREASE value")
        return info

    def add(
        adder: Member, impl: Impl, who: bytes, wf: int, tree_ext: bool, others: Sequence[Member], epoch: int
    ) -> Member:
        info = kp(impl, who)
        commit, welcome, tree = adder.add(info.message, wf, tree_ext)
        _check_wire(commit, wf, adder)
        run.deliver(commit, others, epoch)
        run.at(
            f"{who.decode()}({impl.name}) joins from {adder.label}'s Welcome "
            f"{'with' if tree_ext else 'without'} ratchet_tree extension",
            "welcome",
        )
        return impl.join(who.decode(), info, welcome, None if tree_ext else tree)

    run.at(f"alice({a.name}) creates the group", "welcome")
    alice = a.create(group_id, b"alice")

    run.at(f"alice({a.name}) adds bob({b.name}); commit {_wf(PUBLIC)}", "commits")
    bob = add(alice, b, b"bob", PUBLIC, True, [], 1)
    run.agree([alice, bob], 1)

    run.at(f"bob({b.name}) commits an UpdatePath as {_wf(PRIVATE)}; alice({a.name}) processes", "commits")
    c = bob.commit_update(PRIVATE)
    _check_wire(c, PRIVATE, bob)
    run.deliver(c, [alice], 2)
    run.agree([alice, bob], 2)

    run.at(f"alice({a.name}) commits an UpdatePath as {_wf(PUBLIC)}; bob({b.name}) processes", "commits")
    c = alice.commit_update(PUBLIC)
    _check_wire(c, PUBLIC, alice)
    run.deliver(c, [bob], 3)
    run.agree([alice, bob], 3)

    run.at("application messages alice<->bob", "app")
    run.send_app(alice, [bob], b"hello bob, from alice")
    run.send_app(bob, [alice], b"hello alice, from bob", aad=b"bob's authenticated data")

    run.at(f"bob({b.name}) adds carol({a.name}); commit {_wf(PUBLIC)}; alice({a.name}) processes", "commits")
    carol = add(bob, a, b"carol", PUBLIC, False, [alice], 4)
    run.agree([alice, bob, carol], 4)

    run.at(f"carol({a.name}) commits an UpdatePath as {_wf(PRIVATE)}; alice, bob process", "commits")
    c = carol.commit_update(PRIVATE)
    _check_wire(c, PRIVATE, carol)
    run.deliver(c, [alice, bob], 5)
    run.agree([alice, bob, carol], 5)
    run.at("application messages carol->all, bob->all", "app")
    run.send_app(carol, [alice, bob], b"hi all, carol here")
    run.send_app(bob, [alice, carol], b"hi all, bob here", aad=b"aad")

    run.at(f"alice({a.name}) adds dave({b.name}); commit {_wf(PRIVATE)}; bob, carol process", "commits")
    dave = add(alice, b, b"dave", PRIVATE, False, [bob, carol], 6)
    run.agree([alice, bob, carol, dave], 6)

    run.at(f"bob({b.name}) removes carol({a.name}); commit {_wf(PUBLIC)}; alice, carol, dave process", "commits")
    c = bob.remove(carol.leaf_index(), PUBLIC)
    _check_wire(c, PUBLIC, bob)
    run.deliver(c, [alice, carol, dave], 7, removed=[carol])
    run.agree([alice, bob, dave], 7)

    run.at(f"alice({a.name}) removes dave({b.name}); commit {_wf(PRIVATE)}; bob, dave process", "commits")
    c = alice.remove(dave.leaf_index(), PRIVATE)
    _check_wire(c, PRIVATE, alice)
    run.deliver(c, [bob, dave], 8, removed=[dave])
    run.agree([alice, bob], 8)

    run.at("application messages alice<->bob", "app")
    run.send_app(alice, [bob], b"bob, alice again")
    run.send_app(bob, [alice], b"alice, bob again")

    # proposals by reference (§12.1, ProposalRef = RefHash with the suite's hash, §5.2)
    run.at(f"bob({b.name}) proposes to add erin({b.name}) as {_wf(PUBLIC)}; alice({a.name}) processes", "commits")
    erin_kp = kp(b, b"erin")
    prop = bob.propose_add(erin_kp.message, PUBLIC)
    _check_wire(prop, PUBLIC, bob)
    run.deliver_proposal(prop, [alice])
    run.at(f"alice({a.name}) commits bob's proposal by reference as {_wf(PRIVATE)}; bob processes", "commits")
    c, welcome = alice.commit_pending(PRIVATE, True)
    _check_wire(c, PRIVATE, alice)
    if welcome is None:
        raise StepFailed(f"{alice.label} committed the Add proposal but made no Welcome")
    run.deliver(c, [bob], 9)
    run.at(f"erin({b.name}) joins from alice({a.name})'s Welcome with ratchet_tree extension", "welcome")
    erin = b.join("erin", erin_kp, welcome, None)
    run.agree([alice, bob, erin], 9)

    run.at(f"alice({a.name}) proposes to remove erin({b.name}) as {_wf(PRIVATE)}; bob({b.name}) processes", "commits")
    prop = alice.propose_remove(erin.leaf_index(), PRIVATE)
    _check_wire(prop, PRIVATE, alice)
    run.deliver_proposal(prop, [bob, erin])
    run.at(f"bob({b.name}) commits alice's proposal by reference as {_wf(PUBLIC)}; alice, erin process", "commits")
    c, _ = bob.commit_pending(PUBLIC, False)
    _check_wire(c, PUBLIC, bob)
    run.deliver(c, [alice, erin], 10, removed=[erin])
    run.agree([alice, bob], 10)

    run.at("application messages alice<->bob", "app")
    run.send_app(alice, [bob], b"bye bob")
    run.send_app(bob, [alice], b"bye alice")
    run.finish(*CORE_PARTS)

    _psk_part(run, alice, bob)
    members: list[Member] = [alice, bob]
    # a B client joins from A's GroupInfo, then an A client from B's (module docstring)
    _ext_join_part(run, b, "frank", alice, members, PUBLIC)
    _ext_join_part(run, a, "grace", bob, members, PRIVATE)
    run.at("done")


def _psk_part(run: _Run, alice: Member, bob: Member) -> None:
    """Steps 13-14: each side commits a PreSharedKey proposal (external PSK, §8.4) by value."""
    res = run.result
    psk_id = f"mls-pq interop psk {res.suite}".encode()
    psk = os.urandom(32)
    run.at(f"alice({alice.impl}) and bob({bob.impl}) store the external PSK {psk_id.decode()!r}", "psk")
    for m in (alice, bob):
        m.add_external_psk(psk_id, psk)
    epoch = res.epochs
    for committer, receiver, wf in ((alice, bob, PUBLIC), (bob, alice, PRIVATE)):
        epoch += 1
        run.at(f"{committer.label} commits a PreSharedKey proposal by value as {_wf(wf)}; {receiver.label} processes")
        c = committer.commit_psk(psk_id, wf)
        _check_wire(c, wf, committer)
        run.deliver(c, [receiver], epoch)
        _check_psk_commit(receiver, psk_id)
        run.agree([alice, bob], epoch)
    run.finish("psk")


def _check_psk_commit(receiver: Member, psk_id: bytes) -> None:
    """An mls-pq receiver saw exactly the PSK that was sent (ts-mls exposes no commit details)."""
    if isinstance(receiver, MlsPqMember):
        fx = receiver.last_commit
        got = [(p.psktype, bytes(p.psk_id)) for p in fx.psks] if fx is not None else []
        if got != [(PSK_EXTERNAL, psk_id)]:
            raise StepFailed(f"{receiver.label} saw PSKs {got!r}, expected the one external PSK {psk_id!r}")


def _ext_join_part(run: _Run, impl: Impl, name: str, provider: Member, members: list[Member], wf: int) -> None:
    """Steps 15-16 / 17-18: ``name`` (of ``impl``) joins by an external commit (§12.4.3.2)
    from ``provider``'s GroupInfo; the group processes it; the newcomer sends an application
    message and commits an UpdatePath as ``wf``. Appends the newcomer to ``members``."""
    res = run.result
    part = EXT_JOIN[impl.name]
    epoch = res.epochs + 1
    run.at(f"{provider.label} publishes a GroupInfo with external_pub and ratchet_tree extensions", part)
    gi = provider.group_info()
    note = _external_pub_note(gi, provider.impl)
    if note and note not in res.observations:
        res.observations.append(note)
    run.at(f"{name}({impl.name}) joins by an external commit from {provider.label}'s GroupInfo")
    deviation = ""
    try:
        joiner, commit = impl.join_external(name, gi)
    except MLSError as e:
        if not (isinstance(provider, MlsPqMember) and impl.name == TSMLS):
            raise
        # ts-mls reads only its own bare-key external_pub: retry with one (module docstring)
        deviation = EXTERNAL_PUB_DEVIATION
        res.log.append(f"{impl.name} refused {provider.label}'s GroupInfo: {type(e).__name__}: {e}")
        run.at(
            f"{name}({impl.name}) joins by an external commit from {provider.label}'s GroupInfo "
            "with a bare-key external_pub (as ts-mls writes it)"
        )
        gi = provider.group_info_bare_external_pub()
        joiner, commit = impl.join_external(name, gi)
    _check_wire(commit, PUBLIC, joiner)
    run.at(f"{', '.join(m.label for m in members)} process {joiner.label}'s external commit")
    run.deliver(commit, members, epoch)
    for m in members:
        if isinstance(m, MlsPqMember) and (m.last_commit is None or m.last_commit.external_join is None):
            raise StepFailed(f"{m.label} did not see {joiner.label}'s commit as an external join")
    members.append(joiner)
    run.agree(members, epoch)
    run.at(f"{joiner.label} sends an application message to everyone")
    run.send_app(joiner, members[:-1], f"hello from {name}, who joined externally".encode())
    run.at(f"{joiner.label} commits an UpdatePath as {_wf(wf)}; the others process")
    c = joiner.commit_update(wf)
    _check_wire(c, wf, joiner)
    run.deliver(c, members[:-1], epoch + 1)
    run.agree(members, epoch + 1)
    if deviation:
        res.details[part] = deviation
    run.finish(part, status="deviation" if deviation else "passed")


def _external_pub_note(group_info: bytes, impl: str) -> str:
    """A note if a GroupInfo's external_pub is the bare key (RFC 9420 §12.4.3.2 has
    ``HPKEPublicKey external_pub``, a length-prefixed ``opaque<V>``)."""
    gi = MLSMessage.from_bytes(group_info).body
    if not isinstance(gi, GroupInfo):
        raise StepFailed(f"{impl} published a {type(gi).__name__}, not a GroupInfo")
    ext = gi.extension(EXTERNAL_PUB)
    if ext is None:
        raise StepFailed(f"{impl}'s GroupInfo has no external_pub extension")
    if len(ext.extension_data) == get_suite(gi.group_context.cipher_suite, PROFILE).kem.n_pk:
        return (
            f"{impl} writes the external_pub extension as the bare public key, without the "
            "HPKEPublicKey length prefix (RFC 9420 §12.4.3.2)"
        )
    return ""


def _signature_key_note(kp_message: bytes, impl: str) -> str:
    """A note if a KeyPackage's signature key is a compressed SEC1 point (RFC 9420 §5.1.1
    asks ECDSA keys as uncompressed points)."""
    kp = parse_key_package(kp_message)
    key = kp.leaf_node.signature_key
    sig = get_suite(kp.cipher_suite, PROFILE).signature if kp.cipher_suite in range(2, 8) else None
    if sig is not None and sig.name.startswith("ecdsa") and key[:1] in (b"\x02", b"\x03"):
        return f"{impl} sends compressed ECDSA signature keys ({len(key)} bytes; RFC 9420 §5.1.1: uncompressed)"
    return ""


def _check_wire(message: bytes, wire_format: int, sender: Member) -> None:
    """The commit really is framed as asked (RFC 9420 §6: MLSMessage.wire_format)."""
    got = int.from_bytes(message[2:4], "big") if len(message) >= 4 else -1
    if got != wire_format:
        raise StepFailed(f"{sender.label} framed its commit as wire format {got}, asked for {wire_format}")


# ---------------------------------------------------------------- matrix


def shared_suites(peer: TsMlsPeer) -> list[int]:
    """Suite ids both sides implement: ts-mls's loadable suites among 1–7 and 77–88."""
    loadable = set(peer.suites())
    return [s for s in CANDIDATE_SUITES if s in loadable]


def run_matrix(
    peer: TsMlsPeer,
    suites: Iterable[int] | None = None,
    directions: Iterable[str] = DIRECTIONS,
    *,
    progress: Callable[[ScenarioResult], None] | None = None,
) -> list[ScenarioResult]:
    """Run every (suite, direction); suites ts-mls cannot load are reported as skipped."""
    loadable = set(peer.suites())
    out = []
    for sid in suites if suites is not None else shared_suites(peer):
        for d in directions:
            if sid not in loadable:
                try:
                    name = get_suite(sid, PROFILE).name
                except MLSError:
                    name = "?"
                r = ScenarioResult(sid, name, d, status="skipped", detail="ts-mls cannot load this suite")
            else:
                r = run_scenario(peer, sid, d)
            out.append(r)
            if progress is not None:
                progress(r)
    return out
