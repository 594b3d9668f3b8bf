"""Fuzzing worlds: a small real group per cipher suite and the real messages it exchanges.

A *world* is everything a fuzz target needs to run one entry point against real data of one
suite: the serialised receiver (``bob``, leaf 1 of a three-member group at epoch 2), the
messages the other members sent him in that epoch (application data, proposals and commits as
PublicMessage and PrivateMessage, an external commit and a ``new_member_proposal``), a Welcome
with the joiner's private bundle, a GroupInfo with its ratchet tree, KeyPackages, and the
state blob stored by :class:`~mls_pq.storage.SQLiteStorage`.

Worlds are built by :func:`build_world` (used by ``make_corpus.py``) and written as JSON with
hex strings next to the corpus; :func:`load_worlds` reads them back. Building is
deterministic for a given seed wherever the library draws randomness from ``os.urandom``
(all key generation, path secrets, reuse guards, PSK nonces); backends that draw from
OpenSSL directly (ECDSA signatures, hedged ML-DSA signatures) still vary between runs.
All lifetimes are relative to :data:`FIXED_NOW`, and every target runs with that clock, so
a corpus never expires.

Written by hand: a test fixture, nothing a library provides.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mls_pq.client import Client
from mls_pq.group import Group, GroupConfig, GroupOptions, StagedCommit
from mls_pq.group.external import new_member_add_proposal
from mls_pq.messages.credential import Credential
from mls_pq.messages.framing_structs import MLSMessage
from mls_pq.messages.key_package import KeyPackage

#: 2026-01-01T00:00:00Z: the clock of every group and KeyPackage of the corpus and the targets
FIXED_NOW = 1_767_225_600

#: one or more suites of every family (default code-point profile)
SUITE_FAMILIES: dict[int, str] = {
    0x0001: "classical X25519/Ed25519",
    0x0002: "classical P-256/ECDSA",
    0xF001: "hybrid X-Wing (ML-KEM-768+X25519)",
    0xF003: "hybrid ML-KEM-768+P-256",
    0xF006: "pure ML-KEM-768",
    0xF008: "pure ML-KEM-1024/P-384",
    0xF009: "X-Wing + ML-DSA-44",
    0xF00A: "pure ML-KEM-768 + ML-DSA-65",
}

GROUP_ID = b"mls-pq fuzz group"


def clock() -> int:
    return FIXED_NOW


@contextlib.contextmanager
def seeded_urandom(seed: int) -> Iterator[None]:
    """Replace ``os.urandom`` by a seeded PRNG for the duration (corpus generation only)."""
    import mls_pq.grease as client_module  # the GREASE choices (moved from mls_pq.client)

    rng = random.Random(seed)
    real, real_rng = os.urandom, getattr(client_module, "_RNG", None)

    def fake(n: int) -> bytes:
        return rng.randbytes(n)

    os.urandom = fake
    if real_rng is not None:  # the GREASE picks (random.SystemRandom in the library)
        client_module._RNG = random.Random(rng.getrandbits(64))  # type: ignore[assignment]
    try:
        yield
    finally:
        os.urandom = real
        if real_rng is not None:
            client_module._RNG = real_rng  # type: ignore[assignment]


@dataclass
class World:
    """Real inputs of one suite (see the module docstring). Byte strings throughout."""

    suite: int
    #: Group.to_bytes() of the receiver bob, before any message of ``messages``
    receiver: bytes
    #: name -> MLSMessage bytes bob can process from ``receiver`` (each on its own)
    messages: dict[str, bytes]
    #: the message a target processes to prove the receiver still works (a commit)
    valid_next: str
    #: Welcome (MLSMessage) and the joiner's KeyPackageBundle.to_bytes()
    welcome: bytes
    joiner_bundle: bytes
    #: GroupInfo (MLSMessage, with ratchet_tree extension) for an external join
    group_info: bytes
    ratchet_tree: bytes
    #: credential (encoded) and signature private key of a would-be external joiner
    outsider_credential: bytes
    outsider_signature_priv: bytes
    #: KeyPackages (MLSMessage bytes) bob can commit with ``commit(add=...)``
    key_packages: list[bytes]
    #: Group.to_bytes() of alice with a pending commit
    committer: bytes
    #: GroupState.to_bytes() of bob: the blob SQLiteStorage keeps
    state_blob: bytes
    extra: dict[str, bytes] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {}
        for k, v in self.__dict__.items():
            if isinstance(v, bytes):
                d[k] = v.hex()
            elif isinstance(v, dict):
                d[k] = {kk: vv.hex() for kk, vv in v.items()}
            elif isinstance(v, list):
                d[k] = [x.hex() for x in v]
            elif k == "valid_next":
                d[k] = v
            else:
                d[k] = v
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> World:
        kw: dict[str, Any] = {}
        for k, v in d.items():
            if k in ("suite", "valid_next"):
                kw[k] = v
            elif isinstance(v, dict):
                kw[k] = {kk: bytes.fromhex(vv) for kk, vv in v.items()}
            elif isinstance(v, list):
                kw[k] = [bytes.fromhex(x) for x in v]
            else:
                kw[k] = bytes.fromhex(v)
        return cls(**kw)

    # ---- live objects --------------------------------------------------------------------
    def receiver_group(self) -> Group:
        return Group.from_bytes(self.receiver, config=GroupConfig(clock=clock))

    def committer_group(self) -> Group:
        return Group.from_bytes(self.committer, config=GroupConfig(clock=clock))

    def outsider(self) -> tuple[Credential, bytes]:
        return Credential.from_bytes(self.outsider_credential), self.outsider_signature_priv


def _client(suite: int, name: bytes) -> Client:
    return Client.generate(suite, name)


def build_world(suite: int, seed: int = 0) -> World:
    """Build the world of ``suite`` (deterministic where randomness comes from os.urandom)."""
    with seeded_urandom(seed * 0x1_0000 + suite):
        return _build(suite)


def _build(suite: int) -> World:
    pub = GroupOptions(handshake_wire_format=1)
    alice_c, bob_c, carol_c = (_client(suite, n) for n in (b"alice", b"bob", b"carol"))
    config = GroupConfig(options=pub, clock=clock)
    alice = Group.create(suite, GROUP_ID, alice_c.credential, alice_c.signature_priv, config=config)
    kps = [c.key_package(now=FIXED_NOW) for c in (bob_c, carol_c)]
    out = alice.commit(add=[kp for kp, _ in kps])
    alice.merge_pending_commit()
    assert out.welcome is not None
    bob = Group.join(out.welcome, kps[0][1], config=config)
    carol = Group.join(out.welcome, kps[1][1], config=config)
    # epoch 2: a path commit by carol, so the tree has parent nodes with keys
    up = carol.commit(path=True)
    carol.merge_pending_commit()
    for member in (alice, bob):
        staged = member.process(up.commit)
        assert isinstance(staged, StagedCommit)
        staged.merge()
    assert alice.epoch == bob.epoch == carol.epoch == 2

    receiver = bob.to_bytes()
    state_blob = bob.state.to_bytes()
    ratchet_tree = bob.ratchet_tree()
    msgs: dict[str, bytes] = {}

    # application data (PrivateMessage), from alice and carol
    msgs["app_alice"] = alice.encrypt(b"hello bob", authenticated_data=b"ad")
    msgs["app_carol"] = carol.encrypt(b"")
    # proposals by carol: PublicMessage and PrivateMessage
    dave_c = _client(suite, b"dave")
    dave_kp, _ = dave_c.key_package(now=FIXED_NOW)
    msgs["prop_update_pub"] = carol.propose_update()
    msgs["prop_remove_priv"] = carol.propose_remove(0, wire_format=2)
    msgs["prop_add_pub"] = carol.propose_add(dave_kp)
    # a new_member_proposal (external Add of oneself)
    erin_c = _client(suite, b"erin")
    erin_kp, _ = erin_c.key_package(now=FIXED_NOW)
    kp_obj = MLSMessage.from_bytes(erin_kp).body
    assert isinstance(kp_obj, KeyPackage)
    msgs["prop_new_member"] = new_member_add_proposal(
        bob.suite, GROUP_ID, bob.epoch, kp_obj, erin_c.signature_priv
    )
    # an external commit by frank, against alice's GroupInfo
    frank_c = _client(suite, b"frank")
    gi = alice.group_info(ratchet_tree=True)
    _, ext_commit = Group.join_external(gi, frank_c.credential, frank_c.signature_priv, config=GroupConfig(clock=clock))
    msgs["commit_external"] = ext_commit
    # alice's commit: Add grace + path (PublicMessage); the Welcome for grace
    grace_c = _client(suite, b"grace")
    grace_kp, grace_bundle = grace_c.key_package(now=FIXED_NOW)
    c = alice.commit(add=[grace_kp], path=True, include_pending=False)
    msgs["commit_add_pub"] = c.commit
    assert c.welcome is not None
    committer = alice.to_bytes()
    # a PrivateMessage commit by carol (Remove alice, by value; carol's own proposals left out)
    c2 = carol.commit(remove=[0], include_pending=False, wire_format=2)
    msgs["commit_remove_priv"] = c2.commit

    # KeyPackages bob could add: plain, GREASEd, another client's
    henry_c = _client(suite, b"henry")
    key_packages = [henry_c.key_package(now=FIXED_NOW)[0], henry_c.key_package(now=FIXED_NOW, grease=True)[0], dave_kp]

    outsider = _client(suite, b"outsider")
    return World(
        suite=suite,
        receiver=receiver,
        messages=msgs,
        valid_next="commit_add_pub",
        welcome=c.welcome,
        joiner_bundle=grace_bundle.to_bytes(),
        group_info=gi,
        ratchet_tree=ratchet_tree,
        outsider_credential=outsider.credential.to_bytes(),
        outsider_signature_priv=outsider.signature_priv,
        key_packages=key_packages,
        committer=committer,
        state_blob=state_blob,
        extra={"leaf_node": kp_obj.leaf_node.to_bytes(), "key_package_raw": kp_obj.to_bytes()},
    )


# ---- files ---------------------------------------------------------------------------------

FUZZ_DIR = Path(__file__).resolve().parent
DEFAULT_CORPUS = FUZZ_DIR / "corpus"


def corpus_dir() -> Path:
    """``$MLS_PQ_FUZZ_CORPUS`` or ``fuzz/corpus``."""
    return Path(os.environ.get("MLS_PQ_FUZZ_CORPUS", DEFAULT_CORPUS))


def write_worlds(worlds: list[World], root: Path) -> None:
    (root / "worlds").mkdir(parents=True, exist_ok=True)
    for w in worlds:
        (root / "worlds" / f"{w.suite:04x}.json").write_text(json.dumps(w.to_json(), indent=0, sort_keys=True))


def load_worlds(root: Path | None = None) -> list[World]:
    """The worlds under ``root/worlds`` (sorted by suite). Run ``make_corpus.py`` first."""
    d = (root or corpus_dir()) / "worlds"
    files = sorted(d.glob("*.json"))
    if not files:
        raise SystemExit(f"no worlds in {d}: run `python fuzz/make_corpus.py` first")
    worlds = [World.from_json(json.loads(f.read_text())) for f in files]
    from mls_pq.errors import MLSError

    try:
        worlds[0].receiver_group()
    except MLSError as e:  # serialised states follow the library's own versioned format
        raise SystemExit(f"the worlds in {d} do not load with this mls-pq ({e}): run `python fuzz/make_corpus.py`")
    return worlds


def pick(worlds: list[World], data: bytes) -> tuple[World, bytes]:
    """Split a fuzz input: its first two octets choose the world (by suite id, else modulo),
    the rest is the payload."""
    if len(data) < 2:
        return worlds[0], b""
    sid = int.from_bytes(data[:2], "big")
    for w in worlds:
        if w.suite == sid:
            return w, data[2:]
    return worlds[sid % len(worlds)], data[2:]


def framed(suite: int, payload: bytes) -> bytes:
    """A corpus entry: the suite id then the payload (the inverse of :func:`pick`)."""
    return suite.to_bytes(2, "big") + payload



# ---- SQLite storage files ------------------------------------------------------------------------

#: the tables and blob columns the SQLite target overwrites (storage/sqlite.py schema)
STATE_SQL = "UPDATE group_states SET state = ?"
PENDING_SQL = "UPDATE pending_commits SET commit_blob = ?"


def sqlite_files(world: World, directory: Path) -> tuple[Path, Path]:
    """Two SQLite storage files of ``world``: bob's (current epoch only) and alice's (with a
    pending commit), written by the library itself (``Group.save``)."""
    from mls_pq.storage import SQLiteStorage

    out = []
    for name, group in (("bob", world.receiver_group()), ("alice", world.committer_group())):
        path = directory / f"{name}-{world.suite:04x}.db"
        if path.exists():
            path.unlink()
        storage = SQLiteStorage(path)
        try:
            group.save(storage)
        finally:
            storage.close()
        out.append(path)
    return out[0], out[1]


def stored_blobs(path: Path) -> list[tuple[str, bytes]]:
    """The (table, blob) values the storage wrote to ``path``, as it wrote them."""
    import sqlite3

    conn = sqlite3.connect(path)
    try:
        rows = [("state", bytes(r[0])) for r in conn.execute("SELECT state FROM group_states")]
        rows += [("pending", bytes(r[0])) for r in conn.execute("SELECT commit_blob FROM pending_commits")]
    finally:
        conn.close()
    return rows


# ---- insider framing: alice signs, MACs and encrypts whatever content she is given -------------


def insider_contents(world: World) -> dict[str, bytes]:
    """The FramedContent encodings of the world's member messages, with alice (leaf 0) as the
    sender: seeds of the insider target (PrivateMessages opened with bob's state)."""
    from dataclasses import replace

    from mls_pq.framing import unprotect_private
    from mls_pq.messages.framing_structs import PrivateMessage, PublicMessage, Sender

    st = world.receiver_group().state
    out: dict[str, bytes] = {}
    for name, data in world.messages.items():
        body = MLSMessage.from_bytes(data).body
        if isinstance(body, PublicMessage):
            content = body.content
        elif isinstance(body, PrivateMessage):
            ac = unprotect_private(
                st.suite, body, st.context, st.secret_tree.copy(), st.secrets.sender_data_secret, st.member_key()
            )
            content = ac.content
        else:
            continue
        if content.sender.is_member:
            out[name] = replace(content, sender=Sender.member(0)).to_bytes()
    return out


def insider_frame(alice_state: Any, content: Any, private: bool) -> bytes | None:
    """``content`` framed by alice with her own keys: signed, with the epoch's membership tag
    (PublicMessage) or encrypted under her next ratchet key (PrivateMessage); a commit gets
    an all-zero confirmation tag (checked last by the receiver). None if it cannot be framed."""
    from mls_pq.errors import MLSError
    from mls_pq.framing import authenticate, membership_tag, private_message
    from mls_pq.messages.framing_structs import ContentType, PublicMessage, WireFormat

    st = alice_state
    suite = st.suite
    tag = bytes(suite.n_h) if content.content_type == ContentType.COMMIT else None
    try:
        if private and content.sender.is_member:
            wf = WireFormat.PRIVATE_MESSAGE
            ac = authenticate(suite, wf, content, st.private.signature_priv, st.context, tag)
            return MLSMessage(private_message(suite, ac, st.secret_tree.copy(), st.secrets.sender_data_secret)).to_bytes()
        if content.content_type == ContentType.APPLICATION:
            return None
        wf = WireFormat.PUBLIC_MESSAGE
        ac = authenticate(suite, wf, content, st.private.signature_priv, st.context, tag)
        mtag = membership_tag(suite, st.secrets.membership_key, ac, st.context) if content.sender.is_member else None
        return MLSMessage(PublicMessage(content, ac.auth, mtag)).to_bytes()
    except MLSError:
        return None


# ---- integrity digests of stored state (mls_pq.group.state: SHA-256(label || body), no key) ------

STATE_LABEL = b"MLSPQ-GROUP-STATE"
GROUP_LABEL = b"MLSPQ-GROUP"


def seal(body: bytes, label: bytes) -> bytes:
    """``body`` with the trailing SHA-256 digest the library checks first on load: lets a
    target get a mutated state past the digest to the field-by-field validation behind it."""
    import hashlib

    return body + hashlib.sha256(label + body).digest()


def unseal(blob: bytes, label: bytes) -> bytes | None:
    """The body of a sealed blob, or None if ``blob`` does not end with its digest."""
    body = blob[:-32]
    return body if len(blob) >= 32 and seal(body, label) == blob else None


def group_bytes(state_body: bytes) -> bytes:
    """A ``Group.to_bytes()`` (no pending commit) around a GroupState body, both sealed."""
    from mls_pq.codec import Writer

    w = Writer().opaque(GROUP_LABEL).opaque(seal(state_body, STATE_LABEL)).uint8(0)
    return seal(w.getvalue(), GROUP_LABEL)
