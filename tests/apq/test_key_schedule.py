"""apq_exporter -> apq_psk_id / apq_psk and the PSK id (draft-ietf-mls-combiner §5.2)."""

from __future__ import annotations

import pytest

from mls_pq.apq.key_schedule import apq_psk_from_exporter, apq_psk_id, derive_apq_psk
from mls_pq.errors import SecretConsumedError
from mls_pq.exporter_tree import ExporterTree
from mls_pq.psk import PSK_APPLICATION
from mls_pq.suites import get_suite

T, PQ = get_suite(0x0001), get_suite(0xF006)  # SHA-256 / SHA-384 KDFs
ROOT = bytes(range(PQ.n_h))


def test_exporter_uses_pq_kdf_psk_uses_t_kdf_section_5_2() -> None:
    tree = ExporterTree(PQ, ROOT)
    psk_id, psk, consumed = derive_apq_psk(tree, T)
    exporter, _ = tree.export(0x0006)
    assert len(exporter) == PQ.n_h == 48  # SafeExportSecret in the PQ session
    assert psk_id == T.derive_secret(exporter, "psk_id") and len(psk_id) == T.n_h == 32
    assert psk == T.derive_secret(exporter, "psk") and psk != psk_id
    assert (psk_id, psk) == apq_psk_from_exporter(T, exporter)
    assert apq_psk_from_exporter(PQ, exporter) != (psk_id, psk)
    # consumed: a second derivation in the same PQ epoch is impossible
    with pytest.raises(SecretConsumedError):
        derive_apq_psk(consumed, T)


def test_psk_id_is_application_component_6_section_5_2() -> None:
    pid = apq_psk_id(b"\x01" * 32, b"\x02" * 32)
    assert pid.psktype == PSK_APPLICATION == 3 and pid.component_id == 0x0006
    assert pid.to_bytes()[:4] == b"\x03\x00\x06\x20"
