"""Real X.509 certificates for MLS signature keys, for tests.

Ed25519/Ed448/ECDSA certificates are built and signed by ``cryptography.x509``.
``cryptography``'s CertificateBuilder does not take ML-DSA keys, so ML-DSA certificates are
assembled here with a minimal DER writer (RFC 5280 §4.1 TBSCertificate; the id-ml-dsa-* OIDs
of NIST's CSOR registry, parameters absent as in the LAMPS ML-DSA certificate profile) and signed with cryptography's ML-DSA; ``cryptography.x509`` parses them back.
"""

from __future__ import annotations

import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, mldsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509.oid import NameOID

from mls_pq.crypto.base import SignatureScheme

_EC: dict[int, tuple[ec.EllipticCurve, Any]] = {0x0403: (ec.SECP256R1(), hashes.SHA256()), 0x0503: (ec.SECP384R1(), hashes.SHA384()),
       0x0603: (ec.SECP521R1(), hashes.SHA512())}
_MLDSA: dict[int, tuple[Any, str]] = {0x0904: (mldsa.MLDSA44PrivateKey, "2.16.840.1.101.3.4.3.17"),
          0x0905: (mldsa.MLDSA65PrivateKey, "2.16.840.1.101.3.4.3.18"),
          0x0906: (mldsa.MLDSA87PrivateKey, "2.16.840.1.101.3.4.3.19")}


def private_key(scheme: SignatureScheme, sk: bytes) -> Any:
    """The cryptography private key object of an MLS signature private key."""
    if scheme.id == 0x0807:
        return ed25519.Ed25519PrivateKey.from_private_bytes(sk)
    if scheme.id == 0x0808:
        return ed448.Ed448PrivateKey.from_private_bytes(sk)
    if scheme.id in _EC:
        return ec.derive_private_key(int.from_bytes(sk, "big"), _EC[scheme.id][0])
    if scheme.id in _MLDSA:
        return _MLDSA[scheme.id][0].from_seed_bytes(sk)
    raise NotImplementedError(scheme.name)


# ---- a minimal DER writer (only what a certificate needs) ----------------------------------------


def _tlv(tag: int, body: bytes) -> bytes:
    n = len(body)
    if n < 0x80:
        length = bytes([n])
    else:
        b = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(b)]) + b
    return bytes([tag]) + length + body


def _seq(*items: bytes) -> bytes:
    return _tlv(0x30, b"".join(items))


def _oid(dotted: str) -> bytes:
    parts = [int(p) for p in dotted.split(".")]
    out = bytes([40 * parts[0] + parts[1]])
    for p in parts[2:]:
        enc = [p & 0x7F]
        p >>= 7
        while p:
            enc.append(0x80 | (p & 0x7F))
            p >>= 7
        out += bytes(reversed(enc))
    return _tlv(0x06, out)


def _int(i: int) -> bytes:
    return _tlv(0x02, i.to_bytes(i.bit_length() // 8 + 1, "big"))


def _name(cn: str) -> bytes:
    return _seq(_tlv(0x31, _seq(_oid("2.5.4.3"), _tlv(0x0C, cn.encode()))))


def _assemble(subject: str, spki: bytes, issuer: str, sign: Any, alg_oid: str, serial: int) -> bytes:
    """Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue } (RFC 5280 §4.1)."""
    alg = _seq(_oid(alg_oid))  # parameters absent
    validity = _seq(_tlv(0x17, b"250101000000Z"), _tlv(0x17, b"491231235959Z"))
    tbs = _seq(_tlv(0xA0, _int(2)), _int(serial), alg, _name(issuer), validity, _name(subject), spki)
    return _seq(tbs, alg, _tlv(0x03, b"\x00" + sign(tbs)))


def _mldsa_cert(subject: str, public_key: Any, issuer: str, issuer_key: Any, issuer_oid: str, serial: int) -> bytes:
    spki = public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return _assemble(subject, spki, issuer, issuer_key.sign, issuer_oid, serial)


def p256_certificate_compressed(sk: bytes, subject: str = "member") -> bytes:
    """A self-signed P-256 certificate whose subjectPublicKey is a COMPRESSED point (SEC1
    §2.3.3; allowed by RFC 5480 §2.2)."""
    key = ec.derive_private_key(int.from_bytes(sk, "big"), ec.SECP256R1())
    point = key.public_key().public_bytes(Encoding.X962, PublicFormat.CompressedPoint)
    alg = _seq(_oid("1.2.840.10045.2.1"), _oid("1.2.840.10045.3.1.7"))  # id-ecPublicKey, prime256v1
    spki = _seq(alg, _tlv(0x03, b"\x00" + point))
    return _assemble(subject, spki, subject, lambda tbs: key.sign(tbs, ec.ECDSA(hashes.SHA256())), "1.2.840.10045.4.3.2", 1)


# ---- certificates -------------------------------------------------------------------------------


def certificate(
    scheme: SignatureScheme,
    subject_sk: bytes,
    subject: str = "member",
    *,
    issuer_sk: bytes | None = None,
    issuer: str = "test CA",
    serial: int = 1,
) -> bytes:
    """A DER certificate for the MLS signature key ``subject_sk`` (of ``scheme``), signed by
    ``issuer_sk`` (same scheme) or self-signed."""
    key = private_key(scheme, subject_sk)
    signer = private_key(scheme, issuer_sk) if issuer_sk is not None else key
    issuer_name = issuer if issuer_sk is not None else subject
    if scheme.id in _MLDSA:
        return _mldsa_cert(subject, key.public_key(), issuer_name, signer, _MLDSA[scheme.id][1], serial)
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
    )
    algo = _EC[scheme.id][1] if scheme.id in _EC else None
    return builder.sign(signer, algo).public_bytes(Encoding.DER)


def subject_cn(der: bytes) -> str:
    """The subject common name of a DER certificate (what a test AS compares)."""
    cn = x509.load_der_x509_certificate(der).subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    return cn if isinstance(cn, str) else cn.decode()
