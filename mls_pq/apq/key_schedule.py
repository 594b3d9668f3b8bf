"""The combiner's key schedule link (draft-ietf-mls-combiner §5.2)::

    apq_exporter = SafeExportSecret(0x0006)              (PQ session, PQ KDF)
    apq_psk_id   = DeriveSecret(apq_exporter, "psk_id")  (traditional session's KDF)
    apq_psk      = DeriveSecret(apq_exporter, "psk")     (traditional session's KDF)

and the PreSharedKeyID (``psk_type = application``, ``component_id = 0x0006``,
``psk_id = apq_psk_id``) that every traditional commit of a FULL commit carries. The
``apq_exporter`` is consumed from the PQ session's Exporter Tree (so it cannot be exported twice
in an epoch) and not kept: :func:`derive_apq_psk` returns only the two derived values.
"""

from __future__ import annotations

from ..exporter_tree import ExporterTree
from ..psk import PreSharedKeyID
from ..suites import CipherSuite
from .structs import APQ_COMPONENT_ID


def apq_psk_from_exporter(t_suite: CipherSuite, apq_exporter: bytes) -> tuple[bytes, bytes]:
    """(apq_psk_id, apq_psk) from ``apq_exporter`` with the traditional suite's KDF (§5.2)."""
    return t_suite.derive_secret(apq_exporter, "psk_id"), t_suite.derive_secret(apq_exporter, "psk")


def derive_apq_psk(pq_exporter_tree: ExporterTree, t_suite: CipherSuite) -> tuple[bytes, bytes, ExporterTree]:
    """Consume ``SafeExportSecret(0x0006)`` of the PQ session's epoch and derive
    (apq_psk_id, apq_psk); also returns the PQ Exporter Tree with the secret consumed (§5.2)."""
    apq_exporter, tree = pq_exporter_tree.export(APQ_COMPONENT_ID)
    psk_id, psk = apq_psk_from_exporter(t_suite, apq_exporter)
    del apq_exporter  # "MUST be deleted after both the apq_psk_id and the apq_psk were derived"
    return psk_id, psk, tree


def apq_psk_id(psk_id: bytes, psk_nonce: bytes) -> PreSharedKeyID:
    """The PreSharedKeyID of the apq_psk (§5.2): application(3), component 0x0006."""
    return PreSharedKeyID.application(APQ_COMPONENT_ID, psk_id, psk_nonce)
