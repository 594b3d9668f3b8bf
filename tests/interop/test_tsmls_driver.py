"""Self-interop smoke test of the ts-mls driver: two ts-mls members talk through it.

Checks the driver and installer (mls_pq.interop.tsmls) before mls-pq itself talks to
ts-mls: every message crosses the pipe as RFC 9420 MLSMessage bytes, and agreement is
asserted on values the two members derive independently (exporter secrets, epoch
authenticators, tree hashes, decrypted application data).

Skipped only when Node.js is absent; the first run installs ts-mls from npm into the
cache directory (see mls_pq/interop/tsmls.py), later runs reuse it.
"""

from __future__ import annotations

import os
import shutil
import struct
from collections.abc import Callable, Iterator

import pytest

from mls_pq.errors import MLSError
from mls_pq.interop.tsmls import PeerError, TsMlsPeer, find_node

if not (os.environ.get("MLS_PQ_NODE") or shutil.which("node")):
    pytest.skip("Node.js (node) is not installed: the ts-mls interop peer cannot run", allow_module_level=True)

RFC_SUITES = list(range(1, 8))
TSMLS_PQ_SUITES = list(range(77, 89))  # ts-mls 1.6 private numbering, see mls_pq/suites/registry.py

# RFC 9420 §6: WireFormat values
PUBLIC_MESSAGE, PRIVATE_MESSAGE, WELCOME, GROUP_INFO, KEY_PACKAGE = 1, 2, 3, 4, 5


def header(msg: bytes) -> tuple[int, int]:
    """(version, wire_format) of an MLSMessage."""
    version, wire_format = struct.unpack(">HH", msg[:4])
    return version, wire_format


@pytest.fixture(scope="module")
def peer() -> Iterator[TsMlsPeer]:
    find_node()  # a too-old node fails here with a clear message
    with TsMlsPeer() as p:
        yield p


def test_driver_reports_version_and_all_suites(peer: TsMlsPeer) -> None:
    assert peer.info["ts_mls"].startswith("1.6.")
    assert peer.info["node"].startswith("v")
    supported = peer.suites()
    # every optional crypto peer dependency is pinned in package.json, so all load
    assert supported == RFC_SUITES + TSMLS_PQ_SUITES
    names = peer.suite_names()
    assert names[1] == "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519"
    assert names[87] == "MLS_256_XWING_AES256GCM_SHA512_MLDSA87"


def _agree(peer: TsMlsPeer, a: str, b: str, epoch: int) -> bytes:
    """Both members are in ``epoch`` and derived the same epoch secrets; returns the authenticator."""
    auth_a, ep_a = peer.epoch_authenticator(a)
    auth_b, ep_b = peer.epoch_authenticator(b)
    assert ep_a == ep_b == epoch
    assert auth_a == auth_b
    ctx = b"interop context"
    exp_a = peer.export(a, "mls-pq interop", ctx, 42)
    assert len(exp_a) == 42
    assert exp_a == peer.export(b, "mls-pq interop", ctx, 42)
    assert exp_a != peer.export(a, "mls-pq interop", b"other context", 42)
    sa, sb = peer.state(a), peer.state(b)
    assert sa["tree_hash"] == sb["tree_hash"]
    assert sa["confirmed_transcript_hash"] == sb["confirmed_transcript_hash"]
    return auth_a


def _two_member_session(peer: TsMlsPeer, suite: int, *, wire_format: str, ratchet_tree_extension: bool) -> None:
    expected_handshake = PRIVATE_MESSAGE if wire_format == "private" else PUBLIC_MESSAGE
    group_id = f"mls-pq/tsmls/{suite}/{wire_format}".encode()

    kp_bob, kp_handle = peer.key_package(suite, b"bob")
    assert header(kp_bob) == (1, KEY_PACKAGE)
    assert struct.unpack(">HH", kp_bob[4:8]) == (1, suite)  # KeyPackage.version, .cipher_suite (§10)

    alice = peer.create_group(suite, group_id, b"alice", wire_format=wire_format)
    added = peer.add(alice, kp_bob, ratchet_tree_extension=ratchet_tree_extension, group_info=True)
    assert added.epoch == 1
    assert header(added.commit) == (1, expected_handshake)
    assert header(added.welcome) == (1, WELCOME)
    assert added.group_info is not None and header(added.group_info) == (1, GROUP_INFO)
    assert struct.unpack(">H", added.welcome[4:6])[0] == suite  # Welcome.cipher_suite (§12.4.3.1)

    bob = peer.join(
        kp_handle, added.welcome, None if ratchet_tree_extension else added.ratchet_tree, wire_format=wire_format
    )
    st = peer.state(bob)
    assert st["leaf_index"] == 1 and st["cipher_suite"] == suite and st["group_id"] == group_id.hex()
    assert [bytes.fromhex(m["identity"]) for m in st["members"]] == [b"alice", b"bob"]
    seen = {_agree(peer, alice, bob, 1)}

    # commit alice -> bob
    c1 = peer.commit(alice)
    assert header(c1) == (1, expected_handshake)
    r = peer.process(bob, c1)
    assert (r.kind, r.epoch, r.active) == ("commit", 2, True)
    seen.add(_agree(peer, alice, bob, 2))

    # commit bob -> alice
    c2 = peer.commit(bob)
    r = peer.process(alice, c2)
    assert (r.kind, r.epoch) == ("commit", 3)
    seen.add(_agree(peer, alice, bob, 3))
    assert len(seen) == 3  # a fresh epoch_authenticator per epoch

    # application messages both ways (always PrivateMessage)
    for sender, receiver, text in ((alice, bob, b"hello bob"), (bob, alice, b"hello alice")):
        msg = peer.protect(sender, text)
        assert header(msg) == (1, PRIVATE_MESSAGE)
        assert text not in msg
        r = peer.process(receiver, msg)
        assert (r.kind, r.data, r.epoch) == ("application", text, 3)


@pytest.mark.parametrize("suite", RFC_SUITES + TSMLS_PQ_SUITES)
def test_two_members_private_handshake(peer: TsMlsPeer, suite: int) -> None:
    _two_member_session(peer, suite, wire_format="private", ratchet_tree_extension=True)


@pytest.mark.parametrize("suite", [1, 81, 87])
def test_two_members_public_handshake_explicit_tree(peer: TsMlsPeer, suite: int) -> None:
    _two_member_session(peer, suite, wire_format="public", ratchet_tree_extension=False)


def test_remove_and_proposal_flow(peer: TsMlsPeer) -> None:
    suite = 83
    alice = peer.create_group(suite, b"remove-flow", b"alice")
    kp_b, hb = peer.key_package(suite, b"bob")
    kp_c, hc = peer.key_package(suite, b"carol")
    added = peer.add(alice, [kp_b, kp_c])
    bob = peer.join(hb, added.welcome)
    carol = peer.join(hc, added.welcome)
    _agree(peer, bob, carol, 1)

    # bob proposes removing carol, alice commits it
    proposal = peer.propose_remove(bob, 2)
    assert peer.process(alice, proposal).kind == "proposal"
    assert peer.process(carol, proposal).kind == "proposal"
    commit = peer.commit(alice)
    assert peer.process(bob, commit).kind == "commit"
    gone = peer.process(carol, commit)
    assert (gone.kind, gone.active) == ("commit", False)
    _agree(peer, alice, bob, 2)
    assert [m["leaf_index"] for m in peer.state(alice)["members"]] == [0, 1]

    # direct remove commit; bob learns he is out
    out = peer.process(bob, peer.remove(alice, 1))
    assert out.active is False
    assert [m["leaf_index"] for m in peer.state(alice)["members"]] == [0]


def test_pending_commit_merge_and_discard(peer: TsMlsPeer) -> None:
    alice = peer.create_group(1, b"pending", b"alice")
    kp_b, hb = peer.key_package(1, b"bob")
    added = peer.add(alice, kp_b)
    bob = peer.join(hb, added.welcome)
    peer.commit(alice, pending=True)
    with pytest.raises(PeerError, match="pending"):
        peer.protect(alice, b"x")
    assert peer.discard_pending(alice) == 1
    commit = peer.commit(alice, pending=True)
    assert peer.merge_pending(alice) == 2
    assert peer.process(bob, commit).epoch == 2
    _agree(peer, alice, bob, 2)


def test_bad_requests_return_errors_and_driver_survives(peer: TsMlsPeer) -> None:
    alice = peer.create_group(1, b"errors", b"alice")
    cases: list[tuple[Callable[[], object], str]] = [
        (lambda: peer.raw("no_such_op"), "DriverError"),
        (lambda: peer.raw("export", handle="nope", label="x", context="", length=4), "DriverError"),
        (lambda: peer.raw("protect", handle=alice, data="zz"), "DriverError"),
        (lambda: peer.process(alice, b"\x00\x01\x00\x02garbage"), "DriverError"),
        (lambda: peer.key_package(0x0A0A, b"x"), "DriverError"),
        (lambda: peer.commit(alice, update_path=False), "DriverError"),
    ]
    for call, error_type in cases:
        with pytest.raises(PeerError) as info:
            call()
        assert info.value.error_type == error_type
        assert isinstance(info.value, MLSError)
    # a forged commit from a stranger is refused by ts-mls itself
    other = peer.create_group(1, b"errors", b"mallory")
    kp, _ = peer.key_package(1, b"x")
    forged = peer.add(other, kp).commit
    with pytest.raises(PeerError) as info:
        peer.process(alice, forged)
    assert info.value.error_type != "DriverError"
    # still alive and consistent
    assert peer.epoch_authenticator(alice)[1] == 0
