"""The key schedule (RFC 9420 §8): from init_secret, commit_secret and psk_secret to the
epoch's secrets, plus the exporter (§8.5), epoch authenticator (§8.7) and external_pub (§8.3)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .suites import CipherSuite


@dataclass(frozen=True, repr=False)
class EpochSecrets:
    """Every secret derived from ``epoch_secret`` (RFC 9420 §8, Table 4). No secret in repr."""

    suite: CipherSuite = field(compare=False)
    joiner_secret: bytes
    welcome_secret: bytes
    epoch_secret: bytes
    sender_data_secret: bytes
    encryption_secret: bytes
    exporter_secret: bytes
    external_secret: bytes
    confirmation_key: bytes
    membership_key: bytes
    resumption_psk: bytes
    epoch_authenticator: bytes
    init_secret: bytes
    #: draft-ietf-mls-extensions §4.4: root of the Exporter Tree (see :mod:`mls_pq.exporter_tree`);
    #: not compared, and b"" once dropped or in states stored without it
    application_export_secret: bytes = field(default=b"", compare=False)

    def __repr__(self) -> str:
        return f"<EpochSecrets suite=0x{self.suite.id:04x}>"

    def export(self, label: str | bytes, context: bytes, length: int) -> bytes:
        """MLS-Exporter(Label, Context, Length) (RFC 9420 §8.5)."""
        return mls_exporter(self.suite, self.exporter_secret, label, context, length)

    def external_key_pair(self) -> tuple[bytes, bytes]:
        """(external_priv, external_pub) = KEM.DeriveKeyPair(external_secret) (RFC 9420 §8.3)."""
        return self.suite.derive_key_pair(self.external_secret)


def mls_exporter(suite: CipherSuite, exporter_secret: bytes, label: str | bytes, context: bytes, length: int) -> bytes:
    return suite.expand_with_label(suite.derive_secret(exporter_secret, label), "exported", suite.digest(context), length)


def joiner_secret(suite: CipherSuite, init_secret: bytes, commit_secret: bytes, group_context: bytes) -> bytes:
    """joiner_secret = ExpandWithLabel(Extract(init_secret, commit_secret), "joiner", GroupContext, Nh)."""
    return suite.expand_with_label(suite.extract(init_secret, commit_secret), "joiner", group_context, suite.n_h)


def from_joiner(suite: CipherSuite, joiner: bytes, psk_secret: bytes | None, group_context: bytes) -> EpochSecrets:
    """Everything below joiner_secret (what a new member derives from a Welcome)."""
    member = suite.extract(joiner, psk_secret if psk_secret is not None else bytes(suite.n_h))
    welcome = suite.derive_secret(member, "welcome")
    epoch = suite.expand_with_label(member, "epoch", group_context, suite.n_h)
    d = suite.derive_secret
    return EpochSecrets(
        suite=suite,
        joiner_secret=joiner,
        welcome_secret=welcome,
        epoch_secret=epoch,
        sender_data_secret=d(epoch, "sender data"),
        encryption_secret=d(epoch, "encryption"),
        exporter_secret=d(epoch, "exporter"),
        external_secret=d(epoch, "external"),
        confirmation_key=d(epoch, "confirm"),
        membership_key=d(epoch, "membership"),
        resumption_psk=d(epoch, "resumption"),
        epoch_authenticator=d(epoch, "authentication"),
        init_secret=d(epoch, "init"),
        application_export_secret=application_export_secret(suite, epoch),
    )


def application_export_secret(suite: CipherSuite, epoch_secret: bytes) -> bytes:
    """application_export_secret = DeriveSecret(epoch_secret, "application_export")
    (draft-ietf-mls-extensions §4.4), the root of the epoch's Exporter Tree."""
    return suite.derive_secret(epoch_secret, "application_export")


def advance(
    suite: CipherSuite, init_secret: bytes, commit_secret: bytes | None, psk_secret: bytes | None, group_context: bytes
) -> EpochSecrets:
    """One epoch of the key schedule. ``commit_secret``/``psk_secret`` default to zero vectors."""
    cs = commit_secret if commit_secret is not None else bytes(suite.n_h)
    return from_joiner(suite, joiner_secret(suite, init_secret, cs, group_context), psk_secret, group_context)


def welcome_secret_from_joiner(suite: CipherSuite, joiner: bytes, psk_secret: bytes | None) -> bytes:
    """welcome_secret, for decrypting a Welcome's GroupInfo before the GroupContext is known."""
    member = suite.extract(joiner, psk_secret if psk_secret is not None else bytes(suite.n_h))
    return suite.derive_secret(member, "welcome")


def welcome_key_nonce(suite: CipherSuite, welcome_secret: bytes) -> tuple[bytes, bytes]:
    """welcome_key / welcome_nonce (RFC 9420 §12.4.3.1)."""
    key = suite.expand_with_label(welcome_secret, "key", b"", suite.aead.n_k)
    nonce = suite.expand_with_label(welcome_secret, "nonce", b"", suite.aead.n_n)
    return key, nonce
