"""The project's own PQ-suite vectors (``vectors/pq``): every case verifies, and tampering is caught."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mls_pq.vectors import infer_kind, verify_case

PQ_DIR = Path(__file__).resolve().parents[2] / "vectors" / "pq"
FILES = sorted(PQ_DIR.glob("*.json"))


def _cases() -> list[Any]:
    out = []
    for f in FILES:
        kind = infer_kind(f)
        for i, case in enumerate(json.loads(f.read_text())):
            out.append(pytest.param(kind, case, id=f"{f.stem}-{i}-suite0x{case.get('cipher_suite', 0):04x}"))
    return out


def test_pq_vector_set_is_present() -> None:
    kinds = {infer_kind(f) for f in FILES}
    assert {"crypto-basics", "secret-tree", "key-schedule", "psk-secret"} <= kinds
    suites = {c["cipher_suite"] for f in FILES for c in json.loads(f.read_text()) if "cipher_suite" in c}
    assert suites == set(range(0xF001, 0xF00C))  # all 11 draft-06 suites, default profile


@pytest.mark.parametrize("kind, case", _cases())
def test_pq_vector_case(kind: str, case: dict[str, Any]) -> None:
    res = verify_case(kind, case)
    assert res.status == "passed", res.reason


def test_tampered_pq_vector_fails() -> None:
    case = json.loads((PQ_DIR / "key-schedule.json").read_text())[0]
    e = case["epochs"][2]
    e["external_pub"] = ("ff" if e["external_pub"][:2] != "ff" else "00") + e["external_pub"][2:]
    res = verify_case("key-schedule", case)
    assert res.status == "failed" and "epochs[2].external_pub" in res.reason
