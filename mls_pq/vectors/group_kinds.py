"""Verifiers for the group vector kinds of mlswg test-vectors.md: ``welcome`` and the
passive-client scenarios (``passive-client-welcome``, ``passive-client-handling-commit``,
``passive-client-random``).

Lifetimes: the recorded KeyPackages and leaves expired long ago, so these verifiers run
the group with the lifetime clock disabled (``clock=None``): every other §7.3/§12.4.3.1
check still applies. This relaxation is for recorded vectors only.
"""

from __future__ import annotations

import hmac
from typing import Any

from ..errors import MLSError
from ..group.member import Group
from ..group.welcome import KeyPackageBundle
from ..key_schedule import from_joiner, welcome_secret_from_joiner
from ..messages.framing_structs import MLSMessage
from ..messages.key_package import KeyPackage
from ..messages.welcome import Welcome, decrypt_group_info, open_group_secrets
from ..transcript import confirmation_tag
from .basics import expect, h, suite_of
from .runner import Mismatch, kind

#: how the passive-client verifiers treat leaf lifetimes (for reports: the runner has no
#: per-case note for passed cases, so callers can print NOTES[kind])
LIFETIME_NOTE = "LeafNode/KeyPackage lifetimes not checked: recorded vectors are replayed with clock=None"
NOTES = {k: LIFETIME_NOTE for k in ("passive-client-welcome", "passive-client-handling-commit", "passive-client-random")}


def _body(data: bytes, cls: type) -> Any:
    msg = MLSMessage.from_bytes(data)
    if not isinstance(msg.body, cls):
        raise Mismatch("message", f"expected an MLSMessage carrying {cls.__name__}, got {type(msg.body).__name__}")
    return msg.body


@kind("welcome")
def verify_welcome(c: dict[str, Any]) -> None:
    """Decrypt the Welcome, verify the GroupInfo signature with ``signer_pub`` and its
    confirmation tag from the joiner_secret (no PSKs)."""
    s = suite_of(c)
    kp: KeyPackage = _body(h(c["key_package"]), KeyPackage)
    welcome: Welcome = _body(h(c["welcome"]), Welcome)
    expect("welcome.cipher_suite", welcome.cipher_suite, s.id)
    entry = welcome.find(kp.ref(s))
    if entry is None:
        raise Mismatch("welcome.secrets", "no entry for the key package")
    gs = open_group_secrets(s, h(c["init_priv"]), welcome.encrypted_group_info, entry.encrypted_group_secrets)
    gi = decrypt_group_info(s, welcome_secret_from_joiner(s, gs.joiner_secret, None), welcome.encrypted_group_info)
    if not gi.verify(s, h(c["signer_pub"])):
        raise Mismatch("group_info.signature", "does not verify under signer_pub")
    secrets = from_joiner(s, gs.joiner_secret, None, gi.group_context.to_bytes())
    tag = confirmation_tag(s, secrets.confirmation_key, gi.group_context.confirmed_transcript_hash)
    if not hmac.compare_digest(tag, gi.confirmation_tag):
        raise Mismatch("group_info.confirmation_tag", "does not match the key schedule")


def _passive(c: dict[str, Any]) -> None:
    s = suite_of(c)
    kp: KeyPackage = _body(h(c["key_package"]), KeyPackage)
    sig_priv = h(c["signature_priv"])
    enc_priv, init_priv = h(c["encryption_priv"]), h(c["init_priv"])
    # the private keys belong to the KeyPackage (P-521 scalars may come without their leading zero)
    sig_priv = getattr(s.signature, "normalize_private_key", lambda k: k)(sig_priv)
    expect("signature_priv -> signature_key", s.signature.public_key(sig_priv), kp.leaf_node.signature_key)
    expect("encryption_priv -> encryption_key", s.kem.public_key(enc_priv), kp.leaf_node.encryption_key)
    expect("init_priv -> init_key", s.kem.public_key(init_priv), kp.init_key)
    psks = {h(p["psk_id"]): h(p["psk"]) for p in c["external_psks"]}
    tree = h(c["ratchet_tree"]) if c.get("ratchet_tree") else None
    try:
        group = Group.join(
            h(c["welcome"]),
            [KeyPackageBundle(kp, init_priv, enc_priv, sig_priv)],
            ratchet_tree=tree,
            psk_store=dict(psks),
            clock=None,
            suite=s,
        )
    except MLSError as e:
        raise Mismatch("welcome", f"join failed: {type(e).__name__}: {e}") from None
    expect("initial_epoch_authenticator", group.epoch_authenticator, h(c["initial_epoch_authenticator"]))
    for i, ep in enumerate(c["epochs"]):
        try:
            for j, p in enumerate(ep["proposals"]):
                res = group.process(h(p))
                if res.kind != "proposal":
                    raise Mismatch(f"epochs[{i}].proposals[{j}]", f"is a {res.kind}, not a proposal")
            res = group.process(h(ep["commit"]))
        except MLSError as e:
            if isinstance(e, Mismatch):
                raise
            raise Mismatch(f"epochs[{i}]", f"{type(e).__name__}: {e}") from None
        if res.kind != "commit":
            raise Mismatch(f"epochs[{i}].commit", f"is a {res.kind}")
        expect(f"epochs[{i}].epoch_authenticator", group.epoch_authenticator, h(ep["epoch_authenticator"]))


@kind("passive-client-welcome")
def verify_passive_welcome(c: dict[str, Any]) -> None:
    _passive(c)


@kind("passive-client-handling-commit")
def verify_passive_handling_commit(c: dict[str, Any]) -> None:
    _passive(c)


@kind("passive-client-random")
def verify_passive_random(c: dict[str, Any]) -> None:
    _passive(c)
