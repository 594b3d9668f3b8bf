"""Suites from third-party packages through the ``mls_pq.suites`` entry-point group.

The example plugin ``suites/mls-pq-slhdsa`` is installed by the README's test command; under
``CI=true`` its absence is a failure (the command installs it), elsewhere a counted skip.
"""

from __future__ import annotations

import os
from importlib import metadata

import pytest

from mls_pq.suites import ENTRY_POINT_GROUP, REGISTRY, Registry

PLUGIN_SUITE = 0xF0A1


def _require_plugin() -> None:
    names = {ep.name for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}
    if "slhdsa" not in names:
        msg = "plugin mls-pq-slhdsa is not installed (pip install ./suites/mls-pq-slhdsa)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)


def test_plugin_suite_is_registered_in_every_profile() -> None:
    _require_plugin()
    assert not REGISTRY.plugin_errors
    for profile in REGISTRY.profiles():
        assert PLUGIN_SUITE in REGISTRY.ids(profile)
    s = REGISTRY.get(PLUGIN_SUITE)
    assert s.signature.id == 0xFE01 and "SLH" in s.signature.name.upper()
    assert s.signature.backend == "pqcrypto"
    assert s.kem.id == 0x647A  # a core KEM, reused by the plugin suite


def test_plugin_suite_signs_and_encrypts_through_the_registry() -> None:
    _require_plugin()
    s = REGISTRY.get(PLUGIN_SUITE)
    sk, pk = s.signature.generate()
    sig = s.sign_with_label(sk, "LeafNodeTBS", b"payload")
    assert len(sig) == s.signature.sig_size == 17088  # FIPS 205 SLH-DSA-SHA2-128f signature size
    assert s.verify_with_label(pk, "LeafNodeTBS", b"payload", sig)
    assert not s.verify_with_label(pk, "KeyPackageTBS", b"payload", sig)  # label separation
    esk, epk = s.derive_key_pair(bytes(32))
    kem_out, ct = s.encrypt_with_label(epk, "Welcome", b"", b"joiner")
    assert s.decrypt_with_label(esk, "Welcome", b"", kem_out, ct) == b"joiner"


def test_broken_plugin_does_not_break_builtins(monkeypatch: pytest.MonkeyPatch) -> None:
    class FakeEP:
        name, value = "broken", "nowhere:register"

        def load(self) -> object:
            raise ImportError("no module named nowhere")

    monkeypatch.setattr(metadata, "entry_points", lambda group: [FakeEP()])
    reg = Registry()
    assert 1 in reg.ids()
    assert any("broken" in e for e in reg.plugin_errors)
