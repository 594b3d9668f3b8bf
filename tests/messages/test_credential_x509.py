"""X.509 credentials (RFC 9420 §5.3) and the Authentication Service hook (§5.3.1), unit level.

The certificates are real (built by cryptography, ML-DSA ones assembled in ``_certs``); the
expected keys are the signature schemes' own public-key encodings.
"""

from __future__ import annotations

import datetime
from types import SimpleNamespace
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from mls_pq.credentials import (
    CredentialEvent,
    CredentialEventType,
    CredentialRejected,
    accept_all,
    authenticate,
    certificate_signature_key,
    check_credential_key,
)
from mls_pq.crypto.signature import ALL, ECDSA_P256_SHA256, ED25519, MLDSA65
from mls_pq.errors import DecodeError, ValidationError
from mls_pq.messages.credential import Credential

from ._certs import certificate, p256_certificate_compressed

SCHEMES = [pytest.param(s, id=s.name) for s in ALL]


def _suite(scheme: Any) -> Any:
    return SimpleNamespace(signature=scheme)  # check_credential_key only reads suite.signature


@pytest.mark.parametrize("scheme", SCHEMES)
def test_certificate_key_is_the_mls_signature_key(scheme: Any) -> None:
    """The SPKI key, re-encoded, equals the scheme's own public-key encoding (raw for EdDSA
    and ML-DSA, uncompressed SEC1 for ECDSA) — for a self-signed and a CA-issued cert."""
    sk, pk = scheme.generate()
    ca_sk, _ = scheme.generate()
    for der in (certificate(scheme, sk), certificate(scheme, sk, issuer_sk=ca_sk)):
        assert certificate_signature_key(der, scheme.id) == pk
        check_credential_key(_suite(scheme), Credential.x509([der]), pk)
    # a chain: only the end-entity certificate (the first) matters
    chain = Credential.x509([certificate(scheme, sk, issuer_sk=ca_sk), certificate(scheme, ca_sk, "test CA")])
    check_credential_key(_suite(scheme), chain, pk)
    with pytest.raises(ValidationError) as ei:
        check_credential_key(_suite(scheme), Credential.x509(list(reversed([c.cert_data for c in chain.certificates]))), pk)
    assert ei.value.section == "5.3"


@pytest.mark.parametrize("scheme", SCHEMES)
def test_certificate_for_another_key_is_rejected(scheme: Any) -> None:
    sk, _ = scheme.generate()
    _, other_pk = scheme.generate()
    with pytest.raises(ValidationError) as ei:
        check_credential_key(_suite(scheme), Credential.x509([certificate(scheme, sk)]), other_pk)
    assert ei.value.section == "5.3"
    assert "signature_key" in str(ei.value)


def test_key_of_another_algorithm_is_rejected() -> None:
    """A P-256 certificate in an Ed25519 group (and the reverse, and ML-DSA-65 vs -44) is
    not a key of the group's scheme, whatever the bytes."""
    sk, pk = ECDSA_P256_SHA256.generate()
    der = certificate(ECDSA_P256_SHA256, sk)
    for scheme_id in (ED25519.id, MLDSA65.id, 0x0503):
        with pytest.raises(ValidationError) as ei:
            certificate_signature_key(der, scheme_id)
        assert ei.value.section == "5.3"
    sk2, pk2 = ED25519.generate()
    with pytest.raises(ValidationError):
        check_credential_key(_suite(ECDSA_P256_SHA256), Credential.x509([certificate(ED25519, sk2)]), pk2)
    with pytest.raises(ValidationError):
        certificate_signature_key(certificate(MLDSA65, MLDSA65.generate()[0]), 0x0904)
    assert certificate_signature_key(der, ECDSA_P256_SHA256.id) == pk


def test_rsa_certificate_has_no_mls_encoding() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024 + 1024)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "rsa")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(7).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    with pytest.raises(ValidationError) as ei:
        certificate_signature_key(cert.public_bytes(Encoding.DER), ED25519.id)
    assert ei.value.section == "5.3"
    assert "RSAPublicKey" in str(ei.value)


def test_register_x509_key_type(monkeypatch: pytest.MonkeyPatch) -> None:
    """A plugin can teach the §5.3 check a further key type (here: RSA, as scheme 0xFE00)."""
    import mls_pq.credentials as creds

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "plugin")])
    now = datetime.datetime.now(datetime.UTC)
    der = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(9).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256()).public_bytes(Encoding.DER)
    )
    n = key.public_key().public_numbers().n.to_bytes(256, "big")
    monkeypatch.setattr(creds, "_ENCODERS", list(creds._ENCODERS))
    creds._cert_key.cache_clear()
    try:
        creds.register_x509_key_type(rsa.RSAPublicKey, lambda k: (n, frozenset({0xFE00})))
        assert certificate_signature_key(der, 0xFE00) == n
        with pytest.raises(ValidationError):
            certificate_signature_key(der, ED25519.id)
    finally:
        creds._cert_key.cache_clear()


@pytest.mark.parametrize(
    "chain",
    [[], [b""], [b"not a certificate"], [b"\x30\x03\x02\x01\x01"]],
    ids=["no-certificates", "empty", "garbage", "truncated-der"],
)
def test_malformed_x509_credential_is_rejected(chain: list[bytes]) -> None:
    _, pk = ED25519.generate()
    with pytest.raises(ValidationError) as ei:
        check_credential_key(_suite(ED25519), Credential.x509(chain), pk)
    assert ei.value.section == "5.3"


def test_truncated_real_certificate_is_rejected() -> None:
    sk, pk = ED25519.generate()
    der = certificate(ED25519, sk)
    with pytest.raises(ValidationError) as ei:
        check_credential_key(_suite(ED25519), Credential.x509([der[:-1]]), pk)
    assert ei.value.section == "5.3"


def test_compressed_ec_point_in_the_certificate_is_compared_as_a_point() -> None:
    """The SPKI of an EC key may carry a compressed point; the comparison is with the MLS
    (uncompressed) encoding of the same key."""
    sk, pk = ECDSA_P256_SHA256.generate()
    der = p256_certificate_compressed(sk)
    assert pk not in der and pk[1:33] in der  # really compressed: only X is in the certificate
    assert certificate_signature_key(der, ECDSA_P256_SHA256.id) == pk
    check_credential_key(_suite(ECDSA_P256_SHA256), Credential.x509([der]), pk)
    with pytest.raises(ValidationError):
        check_credential_key(_suite(ECDSA_P256_SHA256), Credential.x509([der]), ECDSA_P256_SHA256.generate()[1])


def test_basic_credentials_have_nothing_to_compare() -> None:
    _, pk = ED25519.generate()
    check_credential_key(_suite(ED25519), Credential.basic(b"alice"), pk)


def test_unknown_credential_type_cannot_even_be_decoded() -> None:
    """GREASE / unknown credential types are undecodable (§5.3: the body is not length-prefixed)."""
    with pytest.raises(DecodeError):
        Credential.from_bytes(b"\x0a\x0a\x00")


# ---- the AS hook ---------------------------------------------------------------------------------


def _event() -> CredentialEvent:
    return CredentialEvent(CredentialEventType.ADD, Credential.basic(b"bob"), b"key", b"group")


def test_authenticate_verdicts() -> None:
    ev = _event()
    authenticate(None, ev)
    authenticate(accept_all, ev)
    authenticate(lambda e: True, ev)
    authenticate(lambda e: None, ev)
    with pytest.raises(CredentialRejected) as ei:
        authenticate(lambda e: False, ev)
    assert ei.value.section == "5.3.1"
    assert ei.value.event is ev
    assert isinstance(ei.value, ValidationError)


def test_authenticate_wraps_exceptions() -> None:
    ev = _event()

    def boom(e: CredentialEvent) -> bool:
        raise KeyError("unknown user")

    with pytest.raises(CredentialRejected) as ei:
        authenticate(boom, ev)
    assert ei.value.section == "5.3.1"
    assert isinstance(ei.value.__cause__, KeyError)

    def mls(e: CredentialEvent) -> bool:
        raise ValidationError("revoked", "5.3")

    with pytest.raises(CredentialRejected) as ei2:
        authenticate(mls, ev)
    assert ei2.value.section == "5.3.1" and "revoked" in str(ei2.value)

    own = CredentialRejected("not in the directory", ev)

    def reject(e: CredentialEvent) -> bool:
        raise own

    with pytest.raises(CredentialRejected) as ei3:
        authenticate(reject, ev)
    assert ei3.value is own


def test_event_repr_hides_nothing_secret_and_skips_keys() -> None:
    r = repr(_event())
    assert "bob" in r and "key'" not in r
