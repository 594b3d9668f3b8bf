"""Library logging (mls_pq.log): epoch changes and rejections on the ``mls_pq`` logger, silent by
default, never a secret."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from mls_pq.client import Client
from mls_pq.errors import MLSError
from mls_pq.group import Group
from tests.group._helpers import apply


def _pair() -> tuple[Group, Group]:
    a, b = Client.generate(1, b"alice"), Client.generate(1, b"bob")
    ga = Group.create(1, b"log-group", a.credential, a.signature_priv)
    kp, bundle = b.key_package()
    out = ga.commit(add=[kp])
    ga.merge_pending_commit()
    assert out.welcome is not None
    return ga, Group.join(out.welcome, bundle)


def test_epoch_changes_and_rejections_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="mls_pq")
    ga, gb = _pair()
    out = ga.commit()
    ga.merge_pending_commit()
    apply(gb, out.commit)
    msgs = [r.getMessage() for r in caplog.records if r.name == "mls_pq.group"]
    gid = b"log-grou".hex() + "…"  # the first 8 octets of the group id
    assert f"group {gid}: epoch 0 -> 1 (merged our commit)" in msgs
    assert f"group {gid}: epoch 1 -> 2 (merged our commit)" in msgs
    assert f"group {gid}: epoch 1 -> 2 (processed commit)" in msgs
    ct = ga.encrypt(b"secret plaintext")
    bad = ct[:-1] + bytes([ct[-1] ^ 1])
    before = gb.to_bytes()
    with pytest.raises(MLSError):
        apply(gb, bad)
    assert gb.to_bytes() == before
    rejections = [r for r in caplog.records if "rejected" in r.getMessage()]
    assert len(rejections) == 1 and rejections[0].levelno == logging.INFO
    text = rejections[0].getMessage()
    assert text.startswith(f"group {gid} epoch 2: message rejected: ")
    # nothing secret: no plaintext, no key material of the epoch
    assert "secret plaintext" not in text
    assert gb.export_secret("x", b"", 16).hex() not in text


def test_silent_by_default() -> None:
    """With no logging configuration, processing and a rejection print nothing to stderr."""
    code = (
        "from mls_pq.client import Client\n"
        "from mls_pq.group import Group\n"
        "a = Client.generate(1, b'a')\n"
        "g = Group.create(1, b'g', a.credential, a.signature_priv)\n"
        "g.commit(); g.merge_pending_commit()\n"
        "try:\n    g.process(b'\\x00\\x01')\nexcept Exception:\n    pass\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert r.stderr == "" and r.stdout == ""
