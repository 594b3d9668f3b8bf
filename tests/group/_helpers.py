"""A tiny in-memory "delivery service" for group tests."""

from __future__ import annotations

from dataclasses import dataclass, field

from mls_pq.client import Client
from mls_pq.group import ApplicationMessage, CommitOutput, Group, GroupOptions, ProcessedMessage, StagedCommit
from mls_pq.group.config import GroupConfig
from mls_pq.group.welcome import KeyPackageBundle
from mls_pq.suites import CipherSuite, get_suite


def apply(group: Group, data: bytes) -> ProcessedMessage:
    """``group.process(data)``, merging it at once if it is a staged commit (RFC 9420
    §12.4.2): for tests that do not inspect commits before merging them."""
    out = group.process(data)
    if isinstance(out, StagedCommit):
        out.merge()
    return out


def received(group: Group, data: bytes) -> bytes:
    """The plaintext of the application message ``data`` (RFC 9420 §6.3) processed by
    ``group``; fails if ``data`` is anything else."""
    out = group.process(data)
    assert isinstance(out, ApplicationMessage), f"expected an application message, got {out!r}"
    return out.data


@dataclass
class Sim:
    suite: CipherSuite
    members: list[Group] = field(default_factory=list)
    clients: dict[bytes, Client] = field(default_factory=dict)
    options: GroupOptions | None = None

    @classmethod
    def start(cls, suite: int | CipherSuite = 1, n: int = 1, options: GroupOptions | None = None) -> Sim:
        cs = suite if isinstance(suite, CipherSuite) else get_suite(suite)
        sim = cls(cs, options=options)
        c = sim.client(b"member-0")
        sim.members.append(Group.create(cs, b"test-group", c.credential, c.signature_priv, config=sim.config))
        if n > 1:
            sim.add_new(0, n - 1)
        return sim

    @property
    def config(self) -> GroupConfig | None:
        return None if self.options is None else GroupConfig(options=self.options)

    def client(self, name: bytes) -> Client:
        c = Client.generate(self.suite, name)
        self.clients[name] = c
        return c

    def key_package(self, name: bytes) -> tuple[bytes, KeyPackageBundle]:
        return self.client(name).key_package()

    def deliver(self, sender: Group | None, message: bytes) -> list[object]:
        """Hand ``message`` to every active member but the sender."""
        out: list[object] = []
        for m in self.members:
            if m is not sender and m.active:
                out.append(apply(m, message))
        return out

    def commit(self, i: int, **kw: object) -> CommitOutput:
        g = self.members[i]
        out = g.commit(**kw)  # type: ignore[arg-type]
        self.deliver(g, out.commit)
        g.merge_pending_commit()
        return out

    def add_new(self, i: int, k: int) -> list[Group]:
        kps = [self.key_package(f"member-{len(self.clients)}".encode()) for _ in range(k)]
        out = self.commit(i, add=[kp for kp, _ in kps])
        assert out.welcome is not None
        new = [Group.join(out.welcome, b, config=self.config) for _, b in kps]
        self.members.extend(new)
        return new

    @property
    def active(self) -> list[Group]:
        return [m for m in self.members if m.active]

    def agree(self) -> None:
        act = self.active
        assert len({m.epoch for m in act}) == 1
        assert len({m.epoch_authenticator for m in act}) == 1
        assert len({m.export_secret("test", b"ctx", 32) for m in act}) == 1
        assert len({m.state.tree.tree_hash() for m in act}) == 1
