"""RFC 9420 §13.5: "Any field containing a list of extensions MUST NOT have more than one
extension of any given type" (fuzzing finding F2, issue 8).

One check (:func:`mls_pq.extensions.check_unique_types`) applied wherever an extension list
enters: KeyPackage, LeafNode, GroupContextExtensions and ReInit proposals (created, received,
committed), GroupInfo and its GroupContext (Welcome, external join), a group we create. The
"received" tests build the hostile message by switching the check off in the sender only
(a malicious or buggy member), then make sure the receiver refuses it and stays unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import pytest

import mls_pq.group.validation as validation_mod
import mls_pq.group.welcome as welcome_mod
from mls_pq.client import Client
from mls_pq.errors import ValidationError
from mls_pq.extensions import APPLICATION_ID, Extension, check_unique_types
from mls_pq.group import Group
from mls_pq.group.validation import check_key_package
from mls_pq.messages.framing_structs import MLSMessage
from mls_pq.messages.key_package import KeyPackage
from mls_pq.messages.welcome import GroupInfo
from mls_pq.suites import get_suite
from tests.group._helpers import apply

SUITE = 0x0001
DUP_APP_ID = [Extension(APPLICATION_ID, b"x"), Extension(APPLICATION_ID, b"y")]
DUP_PRIVATE = [Extension(0xFF00, b""), Extension(0xFF00, b"")]


def _no_check(*_: object, **__: object) -> None:
    return None


@contextmanager
def unchecked(*modules: object) -> Iterator[None]:
    """The §13.5 check switched off in ``modules`` (a sender that does not enforce it)."""
    mp = pytest.MonkeyPatch()
    for m in modules:
        mp.setattr(m, "check_unique_types", _no_check)
    try:
        yield
    finally:
        mp.undo()


def _two_members() -> tuple[Group, Group]:
    a, b = Client.generate(SUITE, b"alice"), Client.generate(SUITE, b"bob")
    ga = Group.create(SUITE, b"g-13.5", a.credential, a.signature_priv)
    kp, bundle = b.key_package()
    out = ga.commit(add=[kp])
    ga.merge_pending_commit()
    assert out.welcome is not None
    return ga, Group.join(out.welcome, bundle)


def _refused(exc: pytest.ExceptionInfo[ValidationError]) -> None:
    assert exc.value.section == "13.5"
    assert "more than one extension of type" in str(exc.value)


# ---- the check itself ----------------------------------------------------------------------


def test_check_unique_types_accepts_distinct_and_refuses_a_repeat() -> None:
    check_unique_types([], "none")
    check_unique_types([Extension(1, b""), Extension(2, b""), Extension(0xFF00, b"")], "distinct")
    check_unique_types(iter([Extension(3, b"a")]), "an iterator")
    with pytest.raises(ValidationError) as e:
        check_unique_types([Extension(2, b""), Extension(5, b""), Extension(2, b"other data")], "the list")
    _refused(e)
    assert "0x0002" in str(e.value) and "the list" in str(e.value)


def test_a_repeat_is_found_in_one_pass_over_a_long_list() -> None:
    """Linear: 60 000 distinct types pass, a repeat at the very end is still found."""
    exts = [Extension(t, b"") for t in range(60_000)]
    check_unique_types(exts, "long")
    with pytest.raises(ValidationError) as e:
        check_unique_types([*exts, Extension(59_999, b"")], "long")
    _refused(e)


def test_a_repeat_still_decodes_and_round_trips() -> None:
    """The rule is enforced at validation, not decoding: a KeyPackage repeating a type decodes
    to the same bytes (so vector round-trips are unaffected) and is refused by the one §10.1
    KeyPackage validation (check_key_package)."""
    c = Client.generate(SUITE, b"carol")
    data, bundle = c.key_package(extensions=DUP_PRIVATE)
    kp = MLSMessage.from_bytes(data).body
    assert isinstance(kp, KeyPackage)
    assert MLSMessage(kp).to_bytes() == data
    assert [e.extension_type for e in kp.extensions] == [0xFF00, 0xFF00]
    with pytest.raises(ValidationError) as e:
        check_key_package(get_suite(SUITE), kp, (), None)
    _refused(e)


# ---- GroupContext extensions: creating a group, GroupContextExtensions proposals -------------


def test_group_create_refuses_repeated_group_context_extensions() -> None:
    """§13.5 on the GroupContext extensions of a new group (§11)."""
    a = Client.generate(SUITE, b"alice")
    with pytest.raises(ValidationError) as e:
        Group.create(SUITE, b"g", a.credential, a.signature_priv, extensions=DUP_APP_ID)
    _refused(e)


def test_gce_commit_repeating_a_type_is_refused_and_the_group_is_unchanged() -> None:
    """§13.5 / §12.1.7: a GroupContextExtensions proposal repeating application_id is refused
    when the commit is created; nothing is pending, the state is byte-identical."""
    ga, _ = _two_members()
    before = ga.to_bytes()
    with pytest.raises(ValidationError) as e:
        ga.commit(group_context_extensions=DUP_APP_ID)
    _refused(e)
    assert ga.to_bytes() == before
    ga.commit(group_context_extensions=[Extension(APPLICATION_ID, b"x")])  # one of each is fine
    ga.merge_pending_commit()
    assert [x.extension_type for x in ga.group_context.extensions] == [APPLICATION_ID]


def test_gce_proposal_repeating_a_type_is_refused_when_proposed() -> None:
    ga, _ = _two_members()
    before = ga.to_bytes()
    with pytest.raises(ValidationError) as e:
        ga.propose_group_context_extensions(DUP_APP_ID)
    _refused(e)
    assert ga.to_bytes() == before


def test_gce_commit_repeating_a_type_is_refused_by_the_receiver() -> None:
    """§13.5: a member's commit carrying GroupContextExtensions [1, 1] by value (F2: it used to
    be processed, leaving the receiver's GroupContext with two application_id)."""
    ga, gb = _two_members()
    with unchecked(validation_mod):
        out = ga.commit(group_context_extensions=DUP_APP_ID)
    before = gb.to_bytes()
    with pytest.raises(ValidationError) as e:
        apply(gb, out.commit)
    _refused(e)
    assert gb.to_bytes() == before
    assert gb.group_context.extensions == ()


def test_gce_proposal_repeating_a_type_is_refused_by_the_receiver() -> None:
    """§13.5 on a GroupContextExtensions proposal sent by reference (§12.1)."""
    ga, gb = _two_members()
    with unchecked(validation_mod):
        proposal = ga.propose_group_context_extensions(DUP_APP_ID)
    before = gb.to_bytes()
    with pytest.raises(ValidationError) as e:
        apply(gb, proposal)
    _refused(e)
    assert gb.to_bytes() == before


def test_reinit_repeating_an_extension_type_is_refused() -> None:
    """§13.5 on the extensions of a ReInit proposal (§12.1.5), the new group's GroupContext."""
    ga, gb = _two_members()
    with pytest.raises(ValidationError) as e:
        ga.propose_reinit(b"g-new", SUITE, extensions=DUP_APP_ID)
    _refused(e)
    with unchecked(validation_mod):
        proposal = ga.propose_reinit(b"g-new", SUITE, extensions=DUP_APP_ID)
    before = gb.to_bytes()
    with pytest.raises(ValidationError) as e:
        apply(gb, proposal)
    _refused(e)
    assert gb.to_bytes() == before


# ---- KeyPackage and LeafNode extensions ----------------------------------------------------------


def test_key_package_repeating_an_extension_type_is_refused_by_commit_add() -> None:
    """§13.5 on KeyPackage.extensions (§10.1), F2: ``commit(add=[kp])`` used to accept it."""
    ga, _ = _two_members()
    kp, _ = Client.generate(SUITE, b"carol").key_package(extensions=DUP_PRIVATE)
    before = ga.to_bytes()
    with pytest.raises(ValidationError) as e:
        ga.commit(add=[kp])
    _refused(e)
    assert ga.to_bytes() == before


def test_key_package_repeating_an_extension_type_is_refused_in_a_received_add() -> None:
    ga, gb = _two_members()
    kp, _ = Client.generate(SUITE, b"carol").key_package(extensions=DUP_PRIVATE)
    with unchecked(validation_mod):
        proposal = ga.propose_add(kp)
    before = gb.to_bytes()
    with pytest.raises(ValidationError) as e:
        apply(gb, proposal)
    _refused(e)
    assert gb.to_bytes() == before


def test_leaf_node_repeating_an_extension_type_is_refused() -> None:
    """§13.5 on LeafNode.extensions (§7.3): in a KeyPackage's leaf, a group creator's own
    leaf, and an Update."""
    ga, _ = _two_members()
    kp, _ = Client.generate(SUITE, b"carol").key_package(leaf_extensions=DUP_APP_ID)
    with pytest.raises(ValidationError) as e:
        ga.commit(add=[kp])
    _refused(e)
    a = Client.generate(SUITE, b"dave")
    with pytest.raises(ValidationError) as e:
        Group.create(SUITE, b"g", a.credential, a.signature_priv, leaf_extensions=DUP_APP_ID)
    _refused(e)
    before = ga.to_bytes()
    with pytest.raises(ValidationError) as e:
        ga.propose_update(leaf_extensions=DUP_APP_ID)
    _refused(e)
    assert ga.to_bytes() == before


# ---- GroupInfo (Welcome, external join) -------------------------------------------------------------


def test_group_info_we_build_never_repeats_a_type() -> None:
    """§13.5 on GroupInfo.extensions (§12.4.3): an extra extension repeating one we add."""
    ga, _ = _two_members()
    with pytest.raises(ValidationError) as e:
        ga.group_info(extensions=DUP_PRIVATE)
    _refused(e)
    tree_gi = MLSMessage.from_bytes(ga.group_info(ratchet_tree=True)).body
    assert isinstance(tree_gi, GroupInfo)
    tree_ext = tree_gi.extensions[0]
    with pytest.raises(ValidationError) as e:
        ga.group_info(ratchet_tree=True, extensions=[tree_ext])
    _refused(e)


def test_welcome_whose_group_info_repeats_a_type_is_refused() -> None:
    """§13.5 on the GroupInfo of a Welcome (§12.4.3.1), F2: it used to be joined."""
    ga, _ = _two_members()
    kp, bundle = Client.generate(SUITE, b"carol").key_package()
    with unchecked(welcome_mod):
        out = ga.commit(add=[kp], group_info_extensions=DUP_PRIVATE)
    assert out.welcome is not None
    with pytest.raises(ValidationError) as e:
        Group.join(out.welcome, bundle)
    _refused(e)


def test_external_join_on_a_group_info_repeating_a_type_is_refused() -> None:
    """§13.5 on GroupInfo.extensions and on its GroupContext's extensions (§12.4.3.2), both
    in a GroupInfo correctly signed by a member."""
    ga, _ = _two_members()
    a_priv = ga._state.private.signature_priv
    suite = get_suite(SUITE)
    gi = MLSMessage.from_bytes(ga.group_info(ratchet_tree=True, external_pub=True)).body
    assert isinstance(gi, GroupInfo)
    eve = Client.generate(SUITE, b"eve")
    repeated_gi = replace(gi, extensions=(*gi.extensions, gi.extensions[-1])).sign(suite, a_priv)
    repeated_gc = replace(gi, group_context=replace(gi.group_context, extensions=tuple(DUP_APP_ID))).sign(
        suite, a_priv
    )
    for bad in (repeated_gi, repeated_gc):
        with pytest.raises(ValidationError) as e:
            Group.join_external(MLSMessage(bad).to_bytes(), eve.credential, eve.signature_priv)
        _refused(e)
    Group.join_external(MLSMessage(gi).to_bytes(), eve.credential, eve.signature_priv)  # the original joins


# ---- memory (issue 8): a decoded Extension is slotted ------------------------------------------


def test_extension_is_slotted_and_still_a_frozen_value() -> None:
    """No per-instance ``__dict__`` (a hostile list of empty extensions is ~350 000 of them
    per MiB); still frozen, hashable, comparable, replaceable and picklable."""
    import pickle
    from dataclasses import FrozenInstanceError

    e = Extension(APPLICATION_ID, b"id")
    assert not hasattr(e, "__dict__")
    assert pickle.loads(pickle.dumps(e)) == e and hash(pickle.loads(pickle.dumps(e))) == hash(e)
    assert replace(e, extension_data=b"other") == Extension(APPLICATION_ID, b"other")
    with pytest.raises(FrozenInstanceError):
        e.extension_type = 2  # type: ignore[misc]
    assert Extension.from_bytes(e.to_bytes()) == e


def test_decoded_extension_lists_cost_a_bounded_memory_per_octet() -> None:
    """Issue 8 (memory amplification): decoding a 1 MiB-class list of empty extensions (3
    octets each, all the same type: invalid by §13.5, but decoded before validation) holds
    one slotted Extension (48 octets) plus pointers per element, no int object per type;
    and a uint16 capability list holds pointers to shared ints. Measured with tracemalloc
    on the same process: before, ~139 octets per extension and ~40 per capability value."""
    import tracemalloc

    from mls_pq.codec import Reader, Writer
    from mls_pq.messages.leaf_node import Capabilities, decode_extension_list

    n = 50_000
    w = Writer()
    w.vector([Extension(0xF00D, b"")] * n, lambda ww, e: e.encode(ww))
    ext_octets = w.getvalue()
    caps = Capabilities((1,), (1,), tuple(0x1000 + i for i in range(n)), (), (1,))
    cap_octets = caps.to_bytes()
    tracemalloc.start()
    try:
        exts = decode_extension_list(Reader(ext_octets))
        ext_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        decoded = Capabilities.decode(Reader(cap_octets))
        cap_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(exts) == n and exts[0] == Extension(0xF00D, b"") and decoded == caps
    assert ext_peak / n < 90, f"{ext_peak / n:.0f} octets per decoded extension"
    assert cap_peak - ext_peak < 20 * n, f"{(cap_peak - ext_peak) / n:.0f} octets per capability value"
