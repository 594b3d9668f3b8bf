"""The clock for LeafNode lifetime checks (RFC 9420 §7.2, §7.3, §10.1) is injectable in the
public Group API (``GroupConfig.clock``, the ``config=`` of create/join/join_external/load/the
constructor): a fixed
clock decides which KeyPackages are in their lifetime, the system time does not."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from mls_pq.client import Client
from mls_pq.errors import ValidationError
from mls_pq.group import Group, GroupConfig, StagedCommit
from mls_pq.messages.leaf_node import Lifetime
from ._helpers import apply

T = 1_000_000_000  # 2001-09-09, long before the system clock of any test run
DAY = 86_400


def fixed(t: int) -> Callable[[], int]:
    return lambda: t


def _group(clock_t: int) -> tuple[Group, Client]:
    c = Client.generate(1, b"creator")
    return Group.create(
        c.suite, b"clock-group", c.credential, c.signature_priv, config=GroupConfig(clock=fixed(clock_t))
    ), c


def test_expired_key_package_in_add_is_rejected_with_a_fixed_clock() -> None:
    g, _ = _group(T)
    expired_kp, _ = Client.generate(1, b"late").key_package(lifetime=Lifetime(T - 10 * DAY, T - 1))
    before = g.to_bytes()
    with pytest.raises(ValidationError) as ei:
        g.commit(add=[expired_kp])
    assert ei.value.section in ("7.3", "10.1") and "lifetime" in str(ei.value)
    assert "§7.3" in str(ei.value)
    with pytest.raises(ValidationError) as ei:
        g.propose_add(expired_kp)
    assert ei.value.section == "7.3"
    assert g.to_bytes() == before and not g.has_pending_commit
    # not yet valid is rejected the same way
    future_kp, _ = Client.generate(1, b"early").key_package(lifetime=Lifetime(T + 1, T + DAY))
    with pytest.raises(ValidationError) as ei:
        g.commit(add=[future_kp])
    assert ei.value.section == "7.3"


def test_the_fixed_clock_not_the_system_time_decides() -> None:
    """A KeyPackage valid only in 2001 is accepted by a group whose clock says 2001 (the
    system clock would reject it) and rejected once the group's clock is moved on."""
    g, _ = _group(T)
    kp, bundle = Client.generate(1, b"2001").key_package(lifetime=Lifetime(T - DAY, T + DAY))
    out = g.commit(add=[kp])
    g.merge_pending_commit()
    assert out.welcome is not None
    joined = Group.join(out.welcome, bundle, config=GroupConfig(clock=fixed(T), check_tree_lifetimes=True))
    assert joined.epoch_authenticator == g.epoch_authenticator
    # the creator's own leaf was dated by the injected clock too
    lt = g.state.own_leaf.lifetime
    assert lt is not None and lt.contains(T)
    # with the system clock, the 2001 tree fails the (optional) joiner lifetime check of §7.3
    kp2, bundle2 = Client.generate(1, b"2001-b").key_package(lifetime=Lifetime(T - DAY, T + DAY))
    out = g.commit(add=[kp2])
    g.merge_pending_commit()
    apply(joined, out.commit)
    assert out.welcome is not None
    with pytest.raises(ValidationError) as ei:
        Group.join(out.welcome, bundle2, config=GroupConfig(check_tree_lifetimes=True))
    assert ei.value.section == "7.3"
    # moving the group's clock past the lifetime makes the same kind of KeyPackage invalid
    g.config = replace(g.config, clock=fixed(T + 2 * DAY))
    kp3, _ = Client.generate(1, b"2001-c").key_package(lifetime=Lifetime(T - DAY, T + DAY))
    with pytest.raises(ValidationError) as ei:
        g.commit(add=[kp3])
    assert ei.value.section == "7.3"


def test_receivers_apply_their_own_clock() -> None:
    """A receiver whose clock says the added KeyPackage has expired rejects the commit
    (the RECOMMENDED receiver check of §7.3) and stays unchanged; clock=None skips it."""
    g, _ = _group(T)
    kp_b, bundle_b = Client.generate(1, b"b").key_package(lifetime=Lifetime(T - DAY, T + 400 * DAY))
    out = g.commit(add=[kp_b])
    g.merge_pending_commit()
    assert out.welcome is not None
    b = Group.join(out.welcome, bundle_b, config=GroupConfig(clock=fixed(T + 30 * DAY)))
    kp_c, _ = Client.generate(1, b"c").key_package(lifetime=Lifetime(T - DAY, T + DAY))
    out = g.commit(add=[kp_c])  # valid for the committer's clock (T)
    g.merge_pending_commit()
    before = b.to_bytes()
    with pytest.raises(ValidationError) as ei:
        apply(b, out.commit)
    assert ei.value.section == "7.3" and b.to_bytes() == before
    b.config = replace(b.config, clock=None)  # e.g. replaying a recorded history: no lifetime checks
    assert isinstance(apply(b, out.commit), StagedCommit)
    assert b.epoch_authenticator == g.epoch_authenticator
