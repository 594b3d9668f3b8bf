"""The command line: ``mls-pq suites`` and ``mls-pq vectors verify``."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mls_pq.cli import main
from tests._vectors import require

MLS = "mls-implementations/test-vectors"


def test_suites_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["suites", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    ids = {r["id"] for r in rows}
    assert set(range(1, 8)) <= ids and set(range(0xF001, 0xF00C)) <= ids
    for r in rows:
        assert {"id", "name", "kem", "kdf", "aead", "hash", "signature", "sizes", "backends"} <= set(r)
    xwing = next(r for r in rows if r["id"] == 0xF001)
    # X-Wing sizes from draft-connolly-cfrg-xwing-kem: pk 1216, ct 1120; Ed25519 pk 32, sig 64
    assert xwing["sizes"]["kem_public_key"] == 1216 and xwing["sizes"]["kem_output"] == 1120
    assert xwing["sizes"]["signature_public_key"] == 32 and xwing["sizes"]["signature"] == 64
    mldsa87 = next(r for r in rows if r["id"] == 0xF00B)
    assert mldsa87["sizes"]["signature_public_key"] == 2592 and mldsa87["sizes"]["signature"] == 4627


def test_suites_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["suites"]) == 0
    out = capsys.readouterr().out
    assert "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519" in out and "MLS_256_MLKEM1024_AES256GCM_SHA384_MLDSA87" in out


@pytest.mark.parametrize("name", ["tree-math", "crypto-basics", "secret-tree", "key-schedule", "psk_secret", "deserialization"])
def test_vectors_verify_cli(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    p = require(MLS, f"{name}.json")
    assert main(["vectors", "verify", "--json", str(p)]) == 0
    (res,) = json.loads(capsys.readouterr().out)
    assert res["failed"] == 0 and res["passed"] > 0 and res["kind"] == name.replace("_", "-")
    assert res["passed"] + res["skipped"] == len(json.loads(p.read_text()))


def test_vectors_verify_exit_status_on_failure(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    p = require(MLS, "psk_secret.json")
    data = json.loads(p.read_text())
    data[3]["psk_secret"] = "00" * (len(data[3]["psk_secret"]) // 2)
    bad = tmp_path / "psk_secret.json"
    bad.write_text(json.dumps(data))
    assert main(["vectors", "verify", str(bad)]) == 1
    assert "case 3: failed" in capsys.readouterr().out


def test_console_script_entry_point() -> None:
    out = subprocess.run([sys.executable, "-m", "mls_pq.cli", "suites", "--json"], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout)
