"""Two members on X-Wing (suite 0xF001): create, add, messages, update, remove.

Run: python examples/two_members_xwing.py
"""

from __future__ import annotations

from mls_pq.client import Client
from mls_pq.group import ApplicationMessage, Group, StagedCommit

SUITE = 0xF001  # MLS_128_MLKEM768X25519_AES128GCM_SHA256_Ed25519 (X-Wing KEM), default profile


def main() -> None:
    alice, bob = Client.generate(SUITE, b"alice"), Client.generate(SUITE, b"bob")

    # alice creates the group and adds bob from his KeyPackage (RFC 9420 §12.4)
    group = Group.create(SUITE, b"example group", alice.credential, alice.signature_priv)
    kp_bytes, bob_bundle = bob.key_package()
    out = group.commit(add=[kp_bytes])
    group.merge_pending_commit()  # once the delivery service accepted the commit
    assert out.welcome is not None
    bob_group = Group.join(out.welcome, bundles=[bob_bundle])
    print(f"epoch {group.epoch}: {group.epoch_authenticator == bob_group.epoch_authenticator=}")

    # application messages both ways (PrivateMessage, §6.3)
    for sender, receiver, text in ((group, bob_group, b"hi bob"), (bob_group, group, b"hi alice")):
        msg = receiver.process(sender.encrypt(text))
        assert isinstance(msg, ApplicationMessage) and msg.data == text
        print(f"received {msg.data!r} from {msg.sender_credential}")

    # bob updates his leaf: a commit with a path (post-compromise security, §12.4.1)
    upd = bob_group.commit(path=True)
    bob_group.merge_pending_commit()
    staged = group.process(upd.commit)  # verified, not yet applied (§12.4.2)
    assert isinstance(staged, StagedCommit) and [m.leaf_index for m in staged.updated] == [1]  # bob's new leaf
    staged.merge()  # the application accepts it: now alice is in the new epoch
    assert group.epoch_authenticator == bob_group.epoch_authenticator
    print(f"epoch {group.epoch} after bob's update")

    # alice removes bob (leaf 1); bob learns that he was removed
    rm = group.commit(remove=[1])
    group.merge_pending_commit()
    seen = bob_group.process(rm.commit)
    assert isinstance(seen, StagedCommit) and seen.removed_self
    seen.merge()
    assert not bob_group.active
    print(f"epoch {group.epoch}: bob removed, bob's group active={bob_group.active}")


if __name__ == "__main__":
    main()
