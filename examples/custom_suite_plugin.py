"""A custom cipher suite: a new combination of registered primitives at a private-use code
point (RFC 9420 §17.1: 0xF000-0xFFFF), used by a group right away.

In this script the suite is registered in-process with ``register_suite``. To ship it as a
plugin that every ``mls-pq`` command and program sees, put a ``register()`` function returning
the definitions in a package and declare it in its pyproject.toml (see suites/mls-pq-slhdsa,
which also adds a new signature scheme):

    [project.entry-points."mls_pq.suites"]
    mysuite = "my_package:register"

Run: python examples/custom_suite_plugin.py
"""

from __future__ import annotations

from mls_pq.client import Client
from mls_pq.group import ApplicationMessage, Group
from mls_pq.suites import REGISTRY, SuiteDef, get_suite, register_suite

SUITE_ID = 0xF0B1  # private use
DEFINITION = SuiteDef(
    name="MLS_128_MLKEM768X25519_CHACHA20POLY1305_SHA384_Ed448",
    kem=0x647A,  # X-Wing (MLKEM768-X25519), draft-ietf-hpke-pq
    kdf=0x0002,  # HKDF-SHA384
    aead=0x0003,  # ChaCha20Poly1305
    hash="SHA384",
    signature=0x0808,  # ed448 (TLS SignatureScheme)
    security_level=128,
    source="examples/custom_suite_plugin.py",
)


def main() -> None:
    if SUITE_ID not in REGISTRY.ids():
        register_suite(DEFINITION, SUITE_ID)
    suite = get_suite(SUITE_ID)
    print(f"0x{suite.id:04x} {suite.name}: KEM {suite.kem.name}, AEAD {suite.aead.name}, "
          f"signature {suite.signature.name}")

    alice, bob = Client.generate(suite, b"alice"), Client.generate(suite, b"bob")
    group = Group.create(suite, b"custom suite group", alice.credential, alice.signature_priv)
    kp, bundle = bob.key_package()
    out = group.commit(add=[kp])
    group.merge_pending_commit()
    assert out.welcome is not None
    bob_group = Group.join(out.welcome, bundles=[bundle])
    msg = group.process(bob_group.encrypt(b"on a suite of our own"))
    assert isinstance(msg, ApplicationMessage)
    assert bob_group.epoch_authenticator == group.epoch_authenticator
    print(f"epoch {group.epoch}: {msg.data!r}")


if __name__ == "__main__":
    main()
