"""Suite pairs and modes of APQ-MLS sessions (draft-ietf-mls-combiner §7.1, §7.1.1, §7.1.2)."""

from __future__ import annotations

import pytest

from mls_pq.apq.component import APQInfoHandler
from mls_pq.apq.structs import APQInfo
from mls_pq.apq.suites import check_suite_pair, suite_policy
from mls_pq.components import UpdateContext
from mls_pq.errors import DraftValidationError, UnsupportedCipherSuite


@pytest.mark.parametrize(
    ("t", "pq", "mode"),
    [(0x0001, 0xF006, False), (0x0002, 0xF007, False), (0x0007, 0xF008, False),
     (0x0001, 0xF00A, True), (0x0001, 0xF00B, True), (0x0003, 0xF00A, False)],
)
def test_valid_pairs_section_7_1(t: int, pq: int, mode: bool) -> None:
    check_suite_pair(t, pq, mode)


@pytest.mark.parametrize(
    ("t", "pq", "mode", "section", "what"),
    [
        (0x0001, 0x0001, False, "7.1", "same cipher suite"),
        (0x0001, 0x0003, False, "7.1.1", "classical KEM"),  # two traditional suites
        (0xF006, 0xF007, False, "7.1", "not purely classical"),  # PQ suite as traditional
        (0xF001, 0xF006, False, "7.1", "not purely classical"),  # hybrid as traditional
        (0x0001, 0xF001, False, "7.1.1", "hybrid"),  # X-Wing-style hybrid in the PQ session
        (0x0001, 0xF009, True, "7.1.1", "hybrid"),
        (0x0001, 0xF006, True, "7.1.2", "mode 1 needs a PQ signature"),  # Ed25519 in mode 1
    ],
)
def test_invalid_pairs_rejected(t: int, pq: int, mode: bool, section: str, what: str) -> None:
    with pytest.raises(DraftValidationError, match=f"{what}.*combiner §{section.replace('.', '[.]')}\\)"):
        check_suite_pair(t, pq, mode)


def test_unknown_suite_is_typed() -> None:
    with pytest.raises(UnsupportedCipherSuite):
        check_suite_pair(0x0001, 0xEEEE, False)


def test_handler_applies_suite_policy_section_7_1() -> None:
    h = APQInfoHandler(suite_policy)
    ctx = UpdateContext(b"t", 0, 0x0001)
    h.validate(APQInfo(b"t", b"pq", False, 0x0001, 0xF006, 0, 0).to_bytes(), ctx)
    with pytest.raises(DraftValidationError, match="§7.1.1"):
        h.validate(APQInfo(b"t", b"pq", False, 0x0001, 0xF001, 0, 0).to_bytes(), ctx)
