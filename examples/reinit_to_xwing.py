"""Crypto-agility: move a group from suite 1 (X25519, Ed25519) to X-Wing (0xF001) with a ReInit
(RFC 9420 §11.2). The new group is linked to the old one by a resumption PSK.

Run: python examples/reinit_to_xwing.py
"""

from __future__ import annotations

from mls_pq.client import Client
from mls_pq.group import ApplicationMessage, Group, StagedCommit

OLD, NEW = 0x0001, 0xF001


def main() -> None:
    names = (b"alice", b"bob", b"carol")
    old_clients = {n: Client.generate(OLD, n) for n in names}
    alice = Group.create(OLD, b"classical group", old_clients[b"alice"].credential,
                         old_clients[b"alice"].signature_priv)
    kps = [old_clients[n].key_package() for n in names[1:]]
    out = alice.commit(add=[kp for kp, _ in kps])
    alice.merge_pending_commit()
    assert out.welcome is not None
    members = {b"alice": alice, **{n: Group.join(out.welcome, bundles=[b]) for n, (_, b) in zip(names[1:], kps)}}

    # bob proposes the ReInit, alice commits it: the old group is then closed for sending (§11.2)
    proposal = members[b"bob"].propose_reinit(b"post-quantum group", NEW)
    for n in (b"alice", b"carol"):
        members[n].process(proposal)
    commit = alice.commit()
    alice.merge_pending_commit()
    for n in (b"bob", b"carol"):
        staged = members[n].process(commit.commit)
        assert isinstance(staged, StagedCommit) and staged.reinit is not None
        staged.merge()
    assert not any(g.active for g in members.values())

    # everyone makes an X-Wing client (new signature keys for the new suite); alice creates the new group
    new_clients = {n: Client.generate(NEW, n) for n in names}
    new_kps = {n: new_clients[n].key_package() for n in names[1:]}
    new_alice, welcome = alice.reinit([kp for kp, _ in new_kps.values()],
                                      signature_priv=new_clients[b"alice"].signature_priv,
                                      credential=new_clients[b"alice"].credential)
    assert welcome.welcome is not None
    # the others join with their old group: the Welcome requires its resumption PSK
    new_members = [Group.join(welcome.welcome, bundles=[new_kps[n][1]], old_group=members[n]) for n in names[1:]]
    assert {g.epoch_authenticator for g in new_members} == {new_alice.epoch_authenticator}
    msg = new_members[0].process(new_alice.encrypt(b"now post-quantum"))
    assert isinstance(msg, ApplicationMessage)
    print(f"suite 0x{new_alice.suite.id:04x} ({new_alice.suite.name}), epoch {new_alice.epoch}: "
          f"{msg.data!r}")


if __name__ == "__main__":
    main()
