"""SQLite persistence: every epoch change written through, the member reloaded after a "restart".

Run: python examples/sqlite_persistence.py [DATABASE]   (default: a temporary file)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from mls_pq.client import Client, make_key_package
from mls_pq.group import ApplicationMessage, Group, StagedCommit
from mls_pq.storage import SQLiteStorage

SUITE = 0xF001
GROUP_ID = b"persistent group"


def main(db: Path) -> None:
    alice, bob = Client.generate(SUITE, b"alice"), Client.generate(SUITE, b"bob")
    group = Group.create(SUITE, GROUP_ID, alice.credential, alice.signature_priv)

    # bob keeps his KeyPackage's private parts in his storage; joining consumes them in one transaction
    storage = SQLiteStorage(db)
    kp, _bundle = make_key_package(SUITE, bob.credential, bob.signature_priv, storage=storage)
    out = group.commit(add=[kp])
    group.merge_pending_commit()
    assert out.welcome is not None
    bob_group = Group.join(out.welcome, storage=storage)  # the bundle is found in storage
    first = bob_group.process(group.encrypt(b"before the restart"))
    assert isinstance(first, ApplicationMessage) and first.data == b"before the restart"
    epoch, authenticator = bob_group.epoch, bob_group.epoch_authenticator
    storage.close()
    del bob_group  # "restart": nothing of bob's group is left in memory

    storage = SQLiteStorage(db)
    print(f"{db.name}: groups stored {storage.list_groups()}, epochs {storage.list_epochs(GROUP_ID)}")
    bob_group = Group.load(storage, GROUP_ID)
    assert (bob_group.epoch, bob_group.epoch_authenticator) == (epoch, authenticator)
    # the reloaded member carries on: a commit from alice, then a message
    upd = group.commit(path=True)
    group.merge_pending_commit()
    staged = bob_group.process(upd.commit)
    assert isinstance(staged, StagedCommit)
    staged.merge()  # written to the storage in one transaction, then applied
    msg = bob_group.process(group.encrypt(b"after the restart"))
    assert isinstance(msg, ApplicationMessage) and msg.data == b"after the restart"
    print(f"reloaded at epoch {epoch}, now at epoch {bob_group.epoch}: {msg.data!r}")
    storage.close()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as d:
            main(Path(d) / "bob.sqlite")
