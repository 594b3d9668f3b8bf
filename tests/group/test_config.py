"""One frozen :class:`~mls_pq.group.config.GroupConfig` replaces the policy keywords of
``Group.create``/``join``/``join_external``/``load``/``from_bytes``/``reinit``/``branch``
(issue 10): its defaults, its validation at construction, that every entry point really
applies it (clock §7.3, Authentication Service §5.3.1, limits), that only its ``options``
are persisted (and win on load), and that it is immutable."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import replace

import pytest

from mls_pq.client import Client
from mls_pq.components import EMPTY_REGISTRY, ComponentRegistry
from mls_pq.credentials import CredentialEvent, CredentialEventType, CredentialRejected
from mls_pq.errors import DecodeError, StateError, ValidationError
from mls_pq.group import Group, GroupConfig, GroupOptions
from mls_pq.group.config import DEFAULT_CONFIG
from mls_pq.group.validation import default_identity
from mls_pq.limits import DEFAULT_LIMITS, Limits
from mls_pq.messages.credential import Credential
from mls_pq.messages.leaf_node import Lifetime
from mls_pq.storage import MemoryStorage
from mls_pq.tree.ratchet_tree import system_clock

from ._helpers import apply

T = 1_000_000_000  # 2001-09-09: only a fixed clock accepts leaves valid around then
DAY = 86_400


def fixed(t: int) -> Callable[[], int]:
    return lambda: t


def refuse(identity: bytes, seen: list[CredentialEvent] | None = None) -> Callable[[CredentialEvent], bool]:
    """An Authentication Service refusing one identity (and recording what it saw)."""

    def validator(event: CredentialEvent) -> bool:
        if seen is not None:
            seen.append(event)
        return event.credential.identity != identity

    return validator


def _pair(config: GroupConfig | None = None) -> tuple[Group, Group, Client]:
    alice, bob = Client.generate(1, b"alice"), Client.generate(1, b"bob")
    a = Group.create(alice.suite, b"config-group", alice.credential, alice.signature_priv, config=config)
    kp, bundle = bob.key_package()
    out = a.commit(add=[kp])
    a.merge_pending_commit()
    assert out.welcome is not None
    return a, Group.join(out.welcome, bundle, config=config), bob


# ---- defaults, validation, immutability ------------------------------------------------------------


def test_defaults_are_the_documented_ones() -> None:
    c = GroupConfig()
    assert c.options == GroupOptions()
    assert c.clock is system_clock and c.identity_of is default_identity
    assert c.max_lifetime is None and c.credential_validator is None
    assert c.limits is DEFAULT_LIMITS and c.check_tree_lifetimes is False
    assert c.components is EMPTY_REGISTRY
    assert DEFAULT_CONFIG == c
    # a group created without a config has exactly these
    a = Group.create(1, b"g", *_cred(b"alice"))
    assert a.config == c and a.state.options == GroupOptions()


def _cred(name: bytes) -> tuple[Credential, bytes]:
    c = Client.generate(1, name)
    return c.credential, c.signature_priv


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("options", {"padding_block": 16}),
        ("clock", 1_000_000_000),
        ("identity_of", None),
        ("max_lifetime", "30 days"),
        ("max_lifetime", True),
        ("credential_validator", "accept-all"),
        ("limits", {"max_message_size": 10}),
        ("check_tree_lifetimes", 1),
        ("components", {}),
    ],
)
def test_wrong_types_are_a_type_error_naming_the_field(field: str, value: object) -> None:
    with pytest.raises(TypeError, match=rf"GroupConfig\.{field} must be"):
        GroupConfig(**{field: value})  # type: ignore[arg-type]


def test_out_of_range_values_are_validation_errors() -> None:
    with pytest.raises(ValidationError, match="max_lifetime") as ei:
        GroupConfig(max_lifetime=0)
    assert ei.value.section == "7.2"
    with pytest.raises(ValidationError) as ei:
        GroupConfig(options=GroupOptions(padding_block=-1))
    assert ei.value.section == "6.3.1"
    assert GroupConfig(max_lifetime=1).max_lifetime == 1 and GroupConfig(clock=None).clock is None


def test_entry_points_check_the_config_type() -> None:
    cred, sig = _cred(b"alice")
    with pytest.raises(TypeError, match="config must be a GroupConfig"):
        Group.create(1, b"g", cred, sig, config=GroupOptions())  # type: ignore[arg-type]
    a = Group.create(1, b"g", cred, sig)
    with pytest.raises(TypeError, match="config must be a GroupConfig"):
        Group.from_bytes(a.to_bytes(), config={"clock": None})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Group.config must be a GroupConfig"):
        a.config = None  # type: ignore[assignment]
    assert a.config == GroupConfig()


def test_config_is_immutable_and_the_old_attributes_are_read_only() -> None:
    c = GroupConfig(max_lifetime=30 * DAY)
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.max_lifetime = None  # type: ignore[misc]
    a = Group.create(1, b"g", *_cred(b"alice"), config=c)
    # the old attributes are views of the config: assigning one fails loudly instead of
    # silently doing nothing (e.g. an Authentication Service that would never be called)
    for name, value in [("clock", None), ("credential_validator", refuse(b"x")), ("limits", Limits())]:
        with pytest.raises(AttributeError):
            setattr(a, name, value)
    assert a.config is c and a.max_lifetime == 30 * DAY and a.clock is system_clock
    # a new config replaces the old one as a whole
    a.config = replace(a.config, clock=None)
    assert a.clock is None and a.config.max_lifetime == 30 * DAY and c.clock is system_clock


# ---- every entry point applies its config ------------------------------------------------------------


def test_create_uses_the_clock_and_the_validator() -> None:
    cred, sig = _cred(b"alice")
    a = Group.create(1, b"g", cred, sig, config=GroupConfig(clock=fixed(T)))
    lt = a.state.own_leaf.lifetime
    assert lt is not None and lt.contains(T) and not lt.contains(system_clock())
    # the creator's clock decides which KeyPackages are in their lifetime (§7.3)
    kp_2001, _ = Client.generate(1, b"bob").key_package(lifetime=Lifetime(T - DAY, T + DAY))
    assert a.commit(add=[kp_2001]).effects.added[0].credential.identity == b"bob"
    a.discard_pending_commit()
    a.config = replace(a.config, clock=fixed(T + 2 * DAY))
    with pytest.raises(ValidationError) as ei:
        a.commit(add=[kp_2001])
    assert ei.value.section == "7.3"
    # the validator sees the KeyPackage we add (§5.3.1)
    b = Group.create(1, b"g2", cred, sig, config=GroupConfig(credential_validator=refuse(b"carol")))
    kp_carol, _ = Client.generate(1, b"carol").key_package()
    with pytest.raises(CredentialRejected) as rej:
        b.commit(add=[kp_carol])
    assert rej.value.section == "5.3.1" and not b.has_pending_commit


def test_join_uses_the_validator_limits_and_tree_lifetime_check() -> None:
    alice = Client.generate(1, b"alice")
    a = Group.create(1, b"g", alice.credential, alice.signature_priv)
    kp, bundle = Client.generate(1, b"bob").key_package()
    out = a.commit(add=[kp])
    a.merge_pending_commit()
    w = out.welcome
    assert w is not None
    seen: list[CredentialEvent] = []
    with pytest.raises(CredentialRejected) as ei:
        Group.join(w, bundle, config=GroupConfig(credential_validator=refuse(b"alice", seen)))
    assert ei.value.event is not None and ei.value.event.type == CredentialEventType.GROUP_MEMBER
    assert [e.credential.identity for e in seen] == [b"alice"]
    with pytest.raises(DecodeError, match="max_message_size"):
        Group.join(w, bundle, config=GroupConfig(limits=Limits(max_message_size=len(w) - 1)))
    # alice's leaf (dated by the system clock) is not yet valid in 2001 (§7.3, checked on request)
    with pytest.raises(ValidationError) as vi:
        Group.join(w, bundle, config=GroupConfig(clock=fixed(T), check_tree_lifetimes=True))
    assert vi.value.section == "7.3"
    cfg = GroupConfig(
        clock=fixed(T), credential_validator=refuse(b"nobody", seen), limits=Limits(max_message_size=len(w))
    )
    b = Group.join(w, bundle, config=cfg)
    assert b.config is cfg and b.epoch_authenticator == a.epoch_authenticator


def test_join_external_uses_the_validator_and_limits() -> None:
    a, _, _ = _pair()
    gi = a.group_info(ratchet_tree=True, external_pub=True)
    carol = Client.generate(1, b"carol")
    with pytest.raises(CredentialRejected) as ei:
        Group.join_external(
            gi, carol.credential, carol.signature_priv, config=GroupConfig(credential_validator=refuse(b"bob"))
        )
    assert ei.value.event is not None and ei.value.event.leaf_index == 1
    with pytest.raises(DecodeError, match="max_message_size"):
        Group.join_external(
            gi, carol.credential, carol.signature_priv, config=GroupConfig(limits=Limits(max_message_size=len(gi) - 1))
        )
    cfg = GroupConfig(max_lifetime=100 * DAY)
    c, commit = Group.join_external(gi, carol.credential, carol.signature_priv, config=cfg)
    assert c.config is cfg and c.epoch == a.epoch + 1
    apply(a, commit)
    assert a.epoch_authenticator == c.epoch_authenticator


@pytest.mark.parametrize("how", ["load", "from_bytes"])
def test_load_and_from_bytes_use_the_config(how: str) -> None:
    a, b, _ = _pair()
    storage = MemoryStorage()
    b.save(storage)

    def restore(config: GroupConfig) -> Group:
        if how == "load":
            return Group.load(storage, b.group_id, config=config)
        return Group.from_bytes(b.to_bytes(), config=config)

    with pytest.raises(ValidationError, match="max_group_size"):
        restore(GroupConfig(limits=Limits(max_group_size=1)))
    # the validator is the application's, not stored: the one passed is the one called
    restored = restore(GroupConfig(credential_validator=refuse(b"alice v2")))
    prop = a.propose_update(credential=Credential.basic(b"alice v2"))
    before = restored.to_bytes()
    with pytest.raises(CredentialRejected):
        apply(restored, prop)
    assert restored.to_bytes() == before
    assert restore(GroupConfig()).config.credential_validator is None


# ---- persisted options -------------------------------------------------------------------------------


def test_options_are_persisted_and_win_on_load() -> None:
    opts = GroupOptions(handshake_wire_format=2, padding_block=32, max_past_epochs=0)
    a, b, _ = _pair(GroupConfig(options=opts))
    assert a.config.options == b.config.options == b.state.options == opts
    storage = MemoryStorage()
    b.save(storage)
    other = GroupOptions(handshake_wire_format=1)
    for g in (
        Group.load(storage, b.group_id),
        Group.load(storage, b.group_id, config=GroupConfig(options=other, max_lifetime=9 * DAY)),
        Group.from_bytes(b.to_bytes(), config=GroupConfig(options=other)),
        Group(b.state, config=GroupConfig(options=other)),
    ):
        # the stored options win; the rest of the config is the one passed
        assert g.config.options == g.state.options == opts
    loaded = Group.load(storage, b.group_id, config=GroupConfig(options=other, max_lifetime=9 * DAY))
    assert loaded.config.max_lifetime == 9 * DAY
    # and they are really in force: handshakes stay PrivateMessages (wire format 2)
    from mls_pq.messages.framing_structs import MLSMessage, PrivateMessage

    assert isinstance(MLSMessage.from_bytes(loaded.propose_remove(0)).body, PrivateMessage)


def test_a_live_group_keeps_its_options() -> None:
    a, _, _ = _pair()
    before = a.to_bytes()
    with pytest.raises(StateError, match="GroupOptions are fixed"):
        a.config = replace(a.config, options=GroupOptions(padding_block=64))
    assert a.config.options == GroupOptions() and a.to_bytes() == before
    reg = ComponentRegistry()
    a.config = replace(a.config, components=reg)  # every other field can change
    assert a.config.components is reg and a.components is reg


def test_reinit_and_branch_inherit_or_take_a_config() -> None:
    seen: list[CredentialEvent] = []
    cfg = GroupConfig(options=GroupOptions(padding_block=16), credential_validator=refuse(b"nobody", seen))
    a, _, bob = _pair(cfg)
    kp, _ = bob.key_package()
    sub, out = a.branch(b"sub-group", [kp])
    assert sub.config is a.config and out.welcome is not None
    assert any(e.type == CredentialEventType.KEY_PACKAGE for e in seen)  # the inherited validator ran
    kp2, _ = bob.key_package()
    other = GroupConfig(credential_validator=refuse(b"bob"))
    with pytest.raises(CredentialRejected):
        a.branch(b"sub-group-2", [kp2], config=other)
    sub3, _ = a.branch(b"sub-group-3", [kp2], config=replace(other, credential_validator=None))
    assert sub3.config.options == GroupOptions() and sub3.state.options == GroupOptions()


def test_reinit_takes_the_new_groups_config() -> None:
    """§11.2: the new group of a ReInit gets this group's config unless one is given."""
    cfg = GroupConfig(options=GroupOptions(padding_block=16), max_lifetime=100 * DAY)
    a, b, bob = _pair(cfg)
    apply(a, b.propose_reinit(b"reinit-group", 1))
    a.commit()  # commits the pending ReInit
    a.merge_pending_commit()
    assert a.state.reinit is not None
    kp, _ = bob.key_package()
    new, out = a.reinit([kp], config=replace(cfg, options=GroupOptions(padding_block=64)))
    assert new.state.options.padding_block == 64 and new.config.max_lifetime == 100 * DAY
    assert out.welcome is not None
    inherited, _ = a.reinit([bob.key_package()[0]])
    assert inherited.config == a.config and inherited.state.options.padding_block == 16
