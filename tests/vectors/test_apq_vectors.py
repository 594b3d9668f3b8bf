"""APQ-MLS combiner vectors (``vectors/apq``, kind ``apq``, mls_pq/vectors/apq.py): the committed
files verify, a freshly generated case verifies, and tampered vectors fail with a typed error
naming the field (draft-ietf-mls-combiner §3.1-§3.3, §5.2: epoch authenticators of both
sessions, apq_psk_id per FULL commit)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from mls_pq.errors import MLSError
from mls_pq.vectors import infer_kind, verify_case, verify_file
from mls_pq.vectors.apq import STEP_KINDS, StepRejected, file_name, generate_case, verify_apq
from mls_pq.vectors.runner import Mismatch

APQ_DIR = Path(__file__).resolve().parents[2] / "vectors" / "apq"
FILES = sorted(APQ_DIR.glob("*.json"))


def load(name: str = "apq-0x0001-0xf006-mode0.json") -> dict[str, Any]:
    cases = json.loads((APQ_DIR / name).read_text())
    assert isinstance(cases, list) and len(cases) == 1
    case: dict[str, Any] = cases[0]
    return case


def flip(hex_value: str, at: int = -1) -> str:
    """``hex_value`` with one bit of the octet at ``at`` flipped."""
    b = bytearray(bytes.fromhex(hex_value))
    b[at] ^= 0x01
    return bytes(b).hex()


def step_index(case: dict[str, Any], kind: str) -> int:
    return next(i for i, e in enumerate(case["epochs"]) if e["step"] == kind)


# ---- the committed files ---------------------------------------------------------------------


def test_committed_apq_vector_set() -> None:
    """One file per suite pair and mode, both modes, every step kind, each file < 200 KB."""
    names = {f.name for f in FILES}
    assert {"apq-0x0001-0xf006-mode0.json", "apq-0x0001-0xf00a-mode1.json", "apq-0x0007-0xf008-mode0.json"} <= names
    seen: set[str] = set()
    for f in FILES:
        assert f.stat().st_size < 200_000, f.name
        assert infer_kind(f) == "apq"
        case = load(f.name)
        assert file_name(case) == f.name
        steps = case["epochs"]
        seen |= {e["step"] for e in steps}
        for e in steps:  # §5.2: an apq_psk_id exactly for the steps that advance the PQ session
            assert (e["apq_psk_id"] is None) == (e["step"] == "partial")
        # epochs: PARTIAL steps advance the T session only, the others both
        for prev, e in zip([{"t_epoch": case["initial_t_epoch"], "pq_epoch": case["initial_pq_epoch"]}, *steps], steps):
            assert e["t_epoch"] == prev["t_epoch"] + 1
            assert e["pq_epoch"] == prev["pq_epoch"] + (0 if e["step"] == "partial" else 1)
    assert seen == set(STEP_KINDS)
    assert {load(f.name)["mode"] for f in FILES} == {0, 1}


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_committed_apq_vectors_verify(path: Path) -> None:
    res = verify_file(path)
    assert res.kind == "apq" and res.passed == 1 and res.failed == 0 and res.skipped == 0
    assert any("lifetime" in n for n in res.notes)  # the relaxed check is reported


def test_regenerated_case_verifies() -> None:
    """A fresh case from the generator (the full script and the compact one) verifies; fresh
    randomness gives other group ids and authenticators than the committed file."""
    for compact in (False, True):
        case = generate_case(0x0001, 0xF006, False, compact=compact)
        verify_apq(case)
        assert case["t_group_id"] != load()["t_group_id"]
        want = set(STEP_KINDS) - ({"full"} if compact else set())  # compact: the FULL commits add/remove
        assert {e["step"] for e in case["epochs"]} == want


# ---- tampered vectors fail, each with a typed error naming the field ---------------------------


@pytest.mark.parametrize(
    ("field", "edit"),
    [
        ("initial_t_epoch_authenticator", lambda c: c.update(initial_t_epoch_authenticator=flip(c["initial_t_epoch_authenticator"]))),
        ("initial_pq_epoch", lambda c: c.update(initial_pq_epoch=c["initial_pq_epoch"] + 1)),
        ("mode", lambda c: c.update(mode=1 - c["mode"])),
    ],
    ids=["initial-t-authenticator", "initial-pq-epoch", "mode"],
)
def test_tampered_initial_state_is_a_mismatch(field: str, edit: Any) -> None:
    case = copy.deepcopy(load())
    edit(case)
    with pytest.raises((Mismatch, MLSError)) as info:
        verify_apq(case)
    if isinstance(info.value, Mismatch):
        assert info.value.field == field
    else:  # mode 1 with an Ed25519 PQ suite: invalid suite pair (§7.1.2)
        assert field == "mode" and "§7.1.2" in str(info.value)


@pytest.mark.parametrize("kind", ["full", "partial", "add", "remove", "external_join"])
@pytest.mark.parametrize("which", ["t_epoch_authenticator", "pq_epoch_authenticator"])
def test_flipped_epoch_authenticator_is_a_mismatch(kind: str, which: str) -> None:
    case = copy.deepcopy(load())
    i = step_index(case, kind)
    case["epochs"][i][which] = flip(case["epochs"][i][which], 0)
    with pytest.raises(Mismatch) as info:
        verify_apq(case)
    assert info.value.field == f"epochs[{i}].{which}"


@pytest.mark.parametrize("kind", ["full", "add", "remove", "external_join"])
def test_flipped_apq_psk_id_is_a_mismatch_section_5_2(kind: str) -> None:
    case = copy.deepcopy(load())
    i = step_index(case, kind)
    case["epochs"][i]["apq_psk_id"] = flip(case["epochs"][i]["apq_psk_id"])
    with pytest.raises(Mismatch) as info:
        verify_apq(case)
    assert info.value.field == f"epochs[{i}].apq_psk_id"


def test_apq_psk_id_on_a_partial_step_is_a_mismatch() -> None:
    case = copy.deepcopy(load())
    i = step_index(case, "partial")
    case["epochs"][i]["apq_psk_id"] = "00" * 32
    with pytest.raises(Mismatch) as info:
        verify_apq(case)
    assert info.value.field == f"epochs[{i}].apq_psk_id"


@pytest.mark.parametrize(
    ("kind", "where"),
    [("full", "t_message"), ("full", "pq_message"), ("partial", "t_message"), ("external_join", "pq_message"),
     ("remove", "t_message")],
)
def test_flipped_message_byte_is_rejected(kind: str, where: str) -> None:
    """A bit flipped in the last octet of one message of a step (a MAC or signature octet): the
    passive client rejects it — StepRejected naming the step, with the engine's typed error."""
    case = copy.deepcopy(load())
    i = step_index(case, kind)
    data = bytes.fromhex(case["epochs"][i]["commit"])
    if where == "t_message" and kind != "partial":  # the pair: 4-octet header, wire_format, t, pq
        from mls_pq.apq.structs import APQMessagePair

        pair = APQMessagePair.from_mls_message(data)
        at = 6 + len(pair.t_message.to_bytes()) - 1
    else:
        at = len(data) - 1
    case["epochs"][i]["commit"] = flip(data.hex(), at)
    with pytest.raises(StepRejected) as info:
        verify_apq(case)
    assert info.value.field == f"epochs[{i}].commit"
    assert isinstance(info.value.error, MLSError) and not isinstance(info.value.error, Mismatch)


def test_flipped_welcome_byte_is_rejected() -> None:
    case = copy.deepcopy(load())
    case["welcome"] = flip(case["welcome"])
    with pytest.raises(StepRejected) as info:
        verify_apq(case)
    assert info.value.field == "welcome"


def test_step_kind_must_match() -> None:
    case = copy.deepcopy(load())
    i = step_index(case, "partial")
    case["epochs"][i]["step"] = "full"
    with pytest.raises(Mismatch) as info:
        verify_apq(case)
    assert info.value.field == f"epochs[{i}].step"
    case["epochs"][i]["step"] = "sideways"
    with pytest.raises(Mismatch, match="unknown step"):
        verify_apq(case)


def test_tampered_file_fails_through_the_runner_and_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The same failures reach ``verify_case`` / ``mls-pq vectors verify`` (exit status 1)."""
    from mls_pq.cli import main

    case = copy.deepcopy(load())
    i = step_index(case, "full")
    case["epochs"][i]["pq_epoch_authenticator"] = flip(case["epochs"][i]["pq_epoch_authenticator"])
    res = verify_case("apq", case)
    assert res.status == "failed" and f"epochs[{i}].pq_epoch_authenticator" in res.reason
    p = tmp_path / "apq-0x0001-0xf006-mode0.json"
    p.write_text(json.dumps([case]))
    assert main(["vectors", "verify", str(p)]) == 1
    assert f"mismatch in epochs[{i}].pq_epoch_authenticator" in capsys.readouterr().out
