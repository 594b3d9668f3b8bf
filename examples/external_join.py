"""An external join (RFC 9420 §12.4.3.2): a newcomer joins from a published GroupInfo with an
external Commit, no Welcome and no KeyPackage needed.

Run: python examples/external_join.py
"""

from __future__ import annotations

from mls_pq.client import Client
from mls_pq.group import ApplicationMessage, Group, StagedCommit

SUITE = 0xF001


def main() -> None:
    alice, bob, carol = (Client.generate(SUITE, name) for name in (b"alice", b"bob", b"carol"))
    group = Group.create(SUITE, b"open group", alice.credential, alice.signature_priv)
    kp, bob_bundle = bob.key_package()
    out = group.commit(add=[kp])
    group.merge_pending_commit()
    assert out.welcome is not None
    bob_group = Group.join(out.welcome, bundles=[bob_bundle])

    # alice publishes a GroupInfo with the ratchet tree and the external public key (§12.4.3)
    group_info = group.group_info()
    carol_group, commit = Group.join_external(group_info, carol.credential, carol.signature_priv)
    # the existing members process carol's external Commit like any other
    for member in (group, bob_group):
        seen = member.process(commit)
        assert isinstance(seen, StagedCommit) and seen.effects.external_join is not None
        seen.merge()  # staged until the member accepts it (RFC 9420 §12.4.2)
    assert group.epoch_authenticator == bob_group.epoch_authenticator == carol_group.epoch_authenticator
    msg = bob_group.process(carol_group.encrypt(b"hello from carol"))
    assert isinstance(msg, ApplicationMessage)
    print(f"epoch {group.epoch}: carol is leaf {carol_group.leaf_index}; bob got {msg.data!r}")


if __name__ == "__main__":
    main()
