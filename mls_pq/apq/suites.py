"""Cipher-suite rules of the APQ-MLS combiner (draft-ietf-mls-combiner §7.1, §7.1.1, §7.1.2):
which (traditional, PQ) suite pairs and modes make a valid APQ-MLS session.

* the traditional session uses classical primitives only (a DHKEM and a classical signature);
* the PQ session's KEM is a standardized, *pure* PQ KEM (ML-KEM-768 / ML-KEM-1024); hybrid or
  experimental KEMs MUST be rejected (§7.1.1);
* mode 1 (PQ/T confidentiality + authenticity) needs a standardized PQ signature in the PQ suite
  (ML-DSA, or SLH-DSA — FIPS 205 is standardized too); mode 0 may use a classical one (§7.1.2);
* invalid or duplicate suites (e.g. two traditional suites, the same suite twice) are rejected (§7.1).

Suites are classified by their registered KEM and signature names (:mod:`mls_pq.suites`): the
PQ KEMs and both signature classes by exact name (so a composite or experimental scheme whose
name merely starts like a standard one is "hybrid/other" and rejected), classical KEMs by the
RFC 9180 ``DHKEM(`` naming.
"""

from __future__ import annotations

from collections.abc import Callable

from ..suites import CipherSuite, get_suite
from .structs import APQInfo, combiner_error

PURE_PQ_KEMS = frozenset({"ML-KEM-768", "ML-KEM-1024"})
#: standardized PQ signatures: ML-DSA (FIPS 204) and the SLH-DSA parameter sets (FIPS 205), by
#: exact name — a composite such as "mldsa44-ed25519" is a hybrid, not one of these (§7.1.2)
PQ_SIGNATURES = frozenset(
    {"mldsa44", "mldsa65", "mldsa87"}
    | {f"slhdsa_{h}_{n}{v}" for h in ("sha2", "shake") for n in (128, 192, 256) for v in "sf"}
)
#: standardized classical signatures (RFC 8032 EdDSA, ECDSA with the TLS SignatureScheme names)
CLASSICAL_SIGNATURES = frozenset(
    {"ed25519", "ed448", "ecdsa_secp256r1_sha256", "ecdsa_secp384r1_sha384", "ecdsa_secp521r1_sha512"}
)


def kem_class(suite: CipherSuite) -> str:
    """"classical", "pq" (pure, standardized) or "hybrid/other"."""
    name = suite.kem.name
    if name.startswith("DHKEM("):
        return "classical"
    if name in PURE_PQ_KEMS:
        return "pq"
    return "hybrid/other"


def signature_class(suite: CipherSuite) -> str:
    """"classical", "pq" (ML-DSA / SLH-DSA) or "hybrid/other"."""
    name = suite.signature.name.lower()
    if name in CLASSICAL_SIGNATURES:
        return "classical"
    if name in PQ_SIGNATURES:
        return "pq"
    return "hybrid/other"


def check_suite_pair(
    t_cipher_suite: int, pq_cipher_suite: int, mode: bool, *, get: Callable[[int], CipherSuite] = get_suite
) -> None:
    """Raise :class:`~mls_pq.errors.DraftValidationError` (or
    :class:`~mls_pq.errors.UnsupportedCipherSuite` for an unknown id) unless the pair and mode
    form a valid APQ-MLS session (§7.1)."""
    if t_cipher_suite == pq_cipher_suite:
        raise combiner_error(f"the same cipher suite 0x{t_cipher_suite:04x} for both sessions", "7.1")
    t, pq = get(t_cipher_suite), get(pq_cipher_suite)
    if kem_class(t) != "classical" or signature_class(t) != "classical":
        raise combiner_error(f"traditional suite 0x{t.id:04x} ({t.name}) is not purely classical", "7.1")
    k = kem_class(pq)
    if k != "pq":
        what = "a classical" if k == "classical" else "a hybrid or non-standardized"
        raise combiner_error(f"PQ suite 0x{pq.id:04x} ({pq.name}) uses {what} KEM", "7.1.1")
    s = signature_class(pq)
    if mode and s != "pq":
        raise combiner_error(f"mode 1 needs a PQ signature; PQ suite 0x{pq.id:04x} signs with {pq.signature.name}", "7.1.2")
    if not mode and s == "hybrid/other":
        raise combiner_error(f"PQ suite 0x{pq.id:04x} signs with a non-standardized scheme", "7.1.2")


def suite_policy(info: APQInfo) -> None:
    """:data:`~mls_pq.apq.component.SuitePolicy` applying :func:`check_suite_pair` to an APQInfo."""
    check_suite_pair(info.t_cipher_suite, info.pq_cipher_suite, info.mode)
