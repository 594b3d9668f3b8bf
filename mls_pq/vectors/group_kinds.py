"""Verifiers for the group vector kinds of mlswg test-vectors.md: ``welcome`` and the
passive-client scenarios (``passive-client-welcome``, ``passive-client-handling-commit``,
``passive-client-random``), plus ``passive-client``, which accepts any file in the
passive-client schema whatever its name (the three official files, or harness output of
that shape) and dispatches on each case's fields.

Lifetimes: the recorded KeyPackages and leaves expired long ago, so these verifiers run
the group with the lifetime clock disabled (``clock=None``): every other §7.3/§12.4.3.1
check still applies. This relaxation is for recorded vectors only, and every result of
these kinds carries a note saying so (``mls-pq vectors verify`` prints it).
"""

from __future__ import annotations

import hmac
import time
from typing import Any

from ..errors import MLSError
from ..group.config import GroupConfig
from ..group.member import Group
from ..group.results import ProposalMessage, StagedCommit
from ..group.welcome import KeyPackageBundle, decrypt_group_info, open_group_secrets
from ..key_schedule import from_joiner, welcome_secret_from_joiner
from ..messages.framing_structs import MLSMessage
from ..messages.key_package import KeyPackage
from ..messages.welcome import Welcome
from ..transcript import confirmation_tag
from .basics import expect, h, suite_of
from .kinds import Mismatch, kind, note

#: the relaxation the passive-client verifiers apply, reported with every result
LIFETIME_NOTE = (
    "RFC 9420 §7.3 lifetime check relaxed: recorded vectors are replayed with the LeafNode/KeyPackage"
    " lifetime clock disabled (Group clock=None); every other check applies"
)
#: added when the relaxation mattered: a recorded KeyPackage is outside its lifetime today
EXPIRED_NOTE = "some recorded KeyPackages are outside their lifetime today and were accepted only because of this relaxation"

#: the fields of a passive-client case (test-vectors.md "Passive Client")
PASSIVE_FIELDS = ("cipher_suite", "key_package", "signature_priv", "encryption_priv", "init_priv", "welcome",
                  "initial_epoch_authenticator", "epochs")
#: the fields of a welcome case (test-vectors.md "Welcome")
WELCOME_FIELDS = ("cipher_suite", "key_package", "init_priv", "welcome", "signer_pub")


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
    note(LIFETIME_NOTE)
    s = suite_of(c)
    kp: KeyPackage = _body(h(c["key_package"]), KeyPackage)
    lt = kp.leaf_node.lifetime
    if lt is not None and not lt.contains(int(time.time())):
        note(EXPIRED_NOTE)
    sig_priv = h(c["signature_priv"])
    enc_priv, init_priv = h(c["encryption_priv"]), h(c["init_priv"])
    # the private keys belong to the KeyPackage (P-521 scalars may come without their leading zero)
    sig_priv = getattr(s.signature, "normalize_private_key", lambda k: k)(sig_priv)
    expect("signature_priv -> signature_key", s.signature.public_key(sig_priv), kp.leaf_node.signature_key)
    expect("encryption_priv -> encryption_key", s.kem.public_key(enc_priv), kp.leaf_node.encryption_key)
    expect("init_priv -> init_key", s.kem.public_key(init_priv), kp.init_key)
    psks = {h(p["psk_id"]): h(p["psk"]) for p in c.get("external_psks") or ()}
    tree = h(c["ratchet_tree"]) if c.get("ratchet_tree") else None
    try:
        group = Group.join(
            h(c["welcome"]),
            [KeyPackageBundle(kp, init_priv, enc_priv, sig_priv)],
            ratchet_tree=tree,
            psk_store=dict(psks),
            config=GroupConfig(clock=None),
            suite=s,
        )
    except MLSError as e:
        raise Mismatch("welcome", f"join failed: {type(e).__name__}: {e}") from None
    expect("initial_epoch_authenticator", group.epoch_authenticator, h(c["initial_epoch_authenticator"]))
    for i, ep in enumerate(c["epochs"]):
        try:
            for j, p in enumerate(ep.get("proposals") or ()):
                res = group.process(h(p))
                if not isinstance(res, ProposalMessage):
                    raise Mismatch(f"epochs[{i}].proposals[{j}]", f"is a {type(res).__name__}, not a proposal")
            res = group.process(h(ep["commit"]))
            if not isinstance(res, StagedCommit):
                raise Mismatch(f"epochs[{i}].commit", f"is a {type(res).__name__}")
            res.merge()
        except MLSError as e:
            if isinstance(e, Mismatch):
                raise
            raise Mismatch(f"epochs[{i}]", f"{type(e).__name__}: {e}") from None
        expect(f"epochs[{i}].epoch_authenticator", group.epoch_authenticator, h(ep["epoch_authenticator"]))


@kind("passive-client-welcome", notes=[LIFETIME_NOTE])
def verify_passive_welcome(c: dict[str, Any]) -> None:
    _passive(c)


@kind("passive-client-handling-commit", notes=[LIFETIME_NOTE])
def verify_passive_handling_commit(c: dict[str, Any]) -> None:
    _passive(c)


@kind("passive-client-random", notes=[LIFETIME_NOTE])
def verify_passive_random(c: dict[str, Any]) -> None:
    _passive(c)


def _missing(c: dict[str, Any], fields: tuple[str, ...]) -> list[str]:
    return [f for f in fields if f not in c]


@kind("passive-client")
def verify_passive_any(c: dict[str, Any]) -> None:
    """Any case of the passive-client schema (welcome-only, handling-commit, random, or a
    harness recording of the same shape), recognised by its fields; a ``welcome``-kind case
    (``signer_pub``, no epochs) is verified as such."""
    if not isinstance(c, dict):
        raise Mismatch("case", "a passive-client case is a JSON object")
    if not _missing(c, PASSIVE_FIELDS):
        if not isinstance(c["epochs"], list):
            raise Mismatch("epochs", "must be a list")
        _passive(c)
    elif not _missing(c, WELCOME_FIELDS):
        verify_welcome(c)
    else:
        raise Mismatch(
            "case",
            "not in the passive-client schema: missing " + ", ".join(_missing(c, PASSIVE_FIELDS)),
        )
