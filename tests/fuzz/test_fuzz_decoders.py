"""Bounded fuzz of the decoders (issue 8): MLSMessage, KeyPackage, LeafNode, GroupInfo,
Welcome and the ratchet tree, each with the validation that follows decoding (§7.3, §10.1,
§12.4.3.1), on mutations of real encodings of three suite families. Asserts: only
``mls_pq.errors`` exceptions, and whatever decodes re-encodes to exactly its input (one
encoding per value, RFC 9420 §2.1.2)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mls_pq.client import parse_key_package
from mls_pq.errors import DecodeError, MLSError
from mls_pq.group.validation import check_key_package
from mls_pq.group.welcome import tree_for_group_info, verify_group_info
from mls_pq.messages.framing_structs import MLSMessage
from mls_pq.messages.key_package import KeyPackage
from mls_pq.messages.leaf_node import LeafNode
from mls_pq.messages.welcome import GroupInfo, Welcome
from mls_pq.suites import CipherSuite, get_suite
from mls_pq.tree.leaf_validation import LeafContext, validate_leaf_node, validate_ratchet_tree
from mls_pq.tree.ratchet_tree import RatchetTree

from ._world import FUZZ, GROUP_ID, NOW, SUITES, World, count, mutate_bytes, world

EDITS = st.lists(st.tuples(st.integers(0, 5), st.integers(0, 1 << 16), st.integers(0, 255)), min_size=1, max_size=4)


def _message(cs: CipherSuite, data: bytes) -> None:
    msg = MLSMessage.from_bytes(data)
    assert msg.to_bytes() == data, "MLSMessage does not re-encode to its input"


def _key_package(cs: CipherSuite, data: bytes) -> None:
    kp = parse_key_package(data)
    assert data in (kp.to_bytes(), MLSMessage(kp).to_bytes()), "KeyPackage does not re-encode to its input"
    check_key_package(cs, kp, (), NOW)


def _leaf_node(cs: CipherSuite, data: bytes) -> None:
    leaf = LeafNode.from_bytes(data)
    assert leaf.to_bytes() == data, "LeafNode does not re-encode to its input"
    validate_leaf_node(cs, leaf, LeafContext.tree(GROUP_ID, 0, now=NOW))


def _group_info(cs: CipherSuite, data: bytes) -> None:
    msg = MLSMessage.from_bytes(data)
    if not isinstance(msg.body, GroupInfo):
        raise DecodeError("not a GroupInfo")
    assert msg.to_bytes() == data, "GroupInfo does not re-encode to its input"
    verify_group_info(cs, msg.body, tree_for_group_info(cs, msg.body, None), now=NOW)


def _welcome(cs: CipherSuite, data: bytes) -> None:
    msg = MLSMessage.from_bytes(data)
    if not isinstance(msg.body, Welcome):
        raise DecodeError("not a Welcome")
    assert msg.to_bytes() == data, "Welcome does not re-encode to its input"


def _ratchet_tree(cs: CipherSuite, data: bytes) -> None:
    tree = RatchetTree.from_bytes(cs, data)
    tree.tree_hash()
    validate_ratchet_tree(tree, GROUP_ID, (), now=NOW)


def _leaf_of(w: World) -> bytes:
    kp = MLSMessage.from_bytes(w.key_package).body
    assert isinstance(kp, KeyPackage)
    return kp.leaf_node.to_bytes()


DECODERS: dict[str, tuple[Callable[[CipherSuite, bytes], None], Callable[[World], bytes]]] = {
    "MLSMessage": (_message, lambda w: w.messages["commit"]),
    "KeyPackage": (_key_package, lambda w: w.key_package),
    "LeafNode": (_leaf_node, _leaf_of),
    "GroupInfo": (_group_info, lambda w: w.group_info),
    "Welcome": (_welcome, lambda w: w.welcome),
    "ratchet_tree": (_ratchet_tree, lambda w: w.fresh_bob().ratchet_tree()),
}


@pytest.mark.parametrize("decoder", sorted(DECODERS))
@pytest.mark.parametrize("suite", SUITES, ids=lambda s: f"0x{s:04x}")
@settings(FUZZ, max_examples=50)
@given(edits=EDITS)
def test_decoder(decoder: str, suite: int, edits: list[tuple[int, int, int]]) -> None:
    check, seed = DECODERS[decoder]
    w = world(suite)
    cs = get_suite(suite)
    original = seed(w)
    check(cs, original)  # the unmutated input is valid: the fixture is real
    try:
        check(cs, mutate_bytes(original, edits))
    except MLSError:
        count(f"decode {decoder}", True)
    else:
        count(f"decode {decoder}", False)
