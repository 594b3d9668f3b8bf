"""Official mlswg interop vectors for the group kinds (welcome, passive-client-*): every case.

The passive-client verifier joins from the recorded Welcome (tree in the Welcome or out of
band, external PSKs), processes every proposal and commit, and compares the epoch
authenticator of every epoch. Leaf lifetimes are not checked for these recorded vectors.
"""

from __future__ import annotations

from typing import Any

import pytest

from mls_pq.vectors import verify_case
from tests._vectors import cases, load, require

MLS = "mls-implementations/test-vectors"


def _id(kind: str) -> Any:
    return lambda i, c: f"{kind}-{i}-suite{c['cipher_suite']}"


def _check(kind: str, case: dict[str, Any]) -> None:
    res = verify_case(kind, case)
    if res.status == "skipped":
        pytest.skip(res.reason)
    assert res.status == "passed", res.reason


@pytest.mark.parametrize("case", cases(MLS, "welcome.json", ident=_id("welcome")))
def test_welcome(case: dict[str, Any]) -> None:
    _check("welcome", case)


@pytest.mark.parametrize("case", cases(MLS, "passive-client-welcome.json", ident=_id("pc-welcome")))
def test_passive_client_welcome(case: dict[str, Any]) -> None:
    _check("passive-client-welcome", case)


@pytest.mark.parametrize("case", cases(MLS, "passive-client-handling-commit.json", ident=_id("pc-commit")))
def test_passive_client_handling_commit(case: dict[str, Any]) -> None:
    _check("passive-client-handling-commit", case)


@pytest.mark.parametrize("case", cases(MLS, "passive-client-random.json", ident=_id("pc-random")))
def test_passive_client_random(case: dict[str, Any]) -> None:
    _check("passive-client-random", case)


def _flip(hexstr: str, at: int = 0) -> str:
    b = bytearray(bytes.fromhex(hexstr))
    b[at] ^= 0x01
    return b.hex()


def test_tampered_epoch_authenticator_fails() -> None:
    require(MLS, "passive-client-handling-commit.json")
    case = load(MLS, "passive-client-handling-commit.json")[0]
    case["epochs"][-1]["epoch_authenticator"] = _flip(case["epochs"][-1]["epoch_authenticator"])
    res = verify_case("passive-client-handling-commit", case)
    assert res.status == "failed" and f"epochs[{len(case['epochs']) - 1}].epoch_authenticator" in res.reason


def test_tampered_commit_fails() -> None:
    """A commit with one flipped byte near its end (signature/confirmation tag) is rejected."""
    require(MLS, "passive-client-random.json")
    case = load(MLS, "passive-client-random.json")[0]
    case["epochs"] = case["epochs"][:3]
    commit = case["epochs"][2]["commit"]
    case["epochs"][2]["commit"] = _flip(commit, len(commit) // 2 - 5)
    res = verify_case("passive-client-random", case)
    assert res.status == "failed" and "epochs[2]" in res.reason


def test_tampered_welcome_signer_fails() -> None:
    require(MLS, "welcome.json")
    case = load(MLS, "welcome.json")[0]
    case["signer_pub"] = _flip(case["signer_pub"], 5)
    res = verify_case("welcome", case)
    assert res.status == "failed"


def test_wrong_initial_epoch_authenticator_fails() -> None:
    require(MLS, "passive-client-welcome.json")
    case = load(MLS, "passive-client-welcome.json")[0]
    case["initial_epoch_authenticator"] = _flip(case["initial_epoch_authenticator"])
    res = verify_case("passive-client-welcome", case)
    assert res.status == "failed" and "initial_epoch_authenticator" in res.reason


# ---- the "passive-client" kind: any file of the schema, whatever its name -------------------

PASSIVE_FILES = ["passive-client-welcome.json", "passive-client-handling-commit.json", "passive-client-random.json"]


@pytest.mark.parametrize("name", PASSIVE_FILES)
def test_passive_client_kind_accepts_any_file_name(name: str, tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """`mls-pq vectors verify --kind passive-client FILE` verifies every case of a file of the
    schema under an arbitrary name, and says that lifetimes were not checked (text and JSON)."""
    import json
    import shutil

    from mls_pq.cli import main

    src = require(MLS, name)
    n = len(load(MLS, name))
    copy = tmp_path / "recorded-by-some-harness.json"
    shutil.copy(src, copy)
    assert main(["vectors", "verify", "--kind", "passive-client", "--json", str(copy)]) == 0
    (res,) = json.loads(capsys.readouterr().out)
    assert res["kind"] == "passive-client" and res["passed"] == n and res["failed"] == res["skipped"] == 0
    assert any("§7.3" in x and "lifetime" in x for x in res["notes"])
    # text mode prints the notes as "  note: ..." lines
    one = tmp_path / "one.json"
    one.write_text(json.dumps(load(MLS, name)[:1]))
    assert main(["vectors", "verify", "--kind", "passive-client", str(one)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "kind=passive-client passed=1 failed=0" in lines[0]
    assert any(line.startswith("  note: RFC 9420 §7.3 lifetime check relaxed") for line in lines)


def test_passive_client_kind_is_inferred_from_a_prefix_and_dispatches_on_fields(tmp_path: Any) -> None:
    import json

    from mls_pq.vectors import infer_kind, verify_file

    assert infer_kind("passive-client-interop-0xf001.json") == "passive-client"
    assert infer_kind("passive-client-random.json") == "passive-client-random"
    # a welcome-kind case is recognised by its fields (and has no lifetime relaxation note)
    require(MLS, "welcome.json")
    res = verify_case("passive-client", load(MLS, "welcome.json")[0])
    assert res.status == "passed" and res.notes == []
    # a passive case with its optional fields absent (external_psks, proposals) still verifies
    case = next(c for c in load(MLS, "passive-client-welcome.json") if not c["external_psks"])
    del case["external_psks"]
    res = verify_case("passive-client", case)
    assert res.status == "passed", res.reason
    case = load(MLS, "passive-client-handling-commit.json")[0]
    for ep in case["epochs"]:
        if not ep["proposals"]:
            del ep["proposals"]
    res = verify_case("passive-client", case)
    assert res.status == "passed", res.reason
    # a case of another schema is a failure naming the missing fields
    p = tmp_path / "passive-client-bogus.json"
    p.write_text(json.dumps([{"cipher_suite": 1, "welcome": "00"}]))
    fr = verify_file(p)
    assert fr.kind == "passive-client" and fr.failed == 1
    assert "not in the passive-client schema" in fr.cases[0].reason and "epochs" in fr.cases[0].reason


def test_passive_client_kind_detects_tampering() -> None:
    require(MLS, "passive-client-handling-commit.json")
    case = load(MLS, "passive-client-handling-commit.json")[3]
    case["epochs"][0]["epoch_authenticator"] = _flip(case["epochs"][0]["epoch_authenticator"])
    res = verify_case("passive-client", case)
    assert res.status == "failed" and "epochs[0].epoch_authenticator" in res.reason
    assert any("lifetime" in n for n in res.notes)


def test_notes_of_other_kinds_are_empty() -> None:
    from mls_pq.vectors.runner import FileResult, note

    note("outside a case: ignored")  # no case is running: nothing to attach to
    assert FileResult("f", "tree-math").notes == []
