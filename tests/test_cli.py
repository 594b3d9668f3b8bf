"""The command line: ``mls-pq suites`` and ``mls-pq vectors verify``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

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


# ---- errors are sentences: exit status 2, one line, no traceback, nothing written ------------------------


def _cli(*argv: str, cwd: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mls_pq", *argv], capture_output=True, text=True, timeout=120,
                          cwd=cwd)


def _main(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``main(argv)`` in this process (faster than a subprocess), as a CompletedProcess; an
    exception escaping main() (a traceback for the user) fails the test."""
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    old = os.getcwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(argv))
            except SystemExit as e:  # argparse: --help, --version and parse errors
                code = int(e.code or 0)
    finally:
        os.chdir(old)
    return subprocess.CompletedProcess(list(argv), code, out.getvalue(), err.getvalue())


def _one_line_error(out: subprocess.CompletedProcess[str], status: int = 2) -> str:
    assert out.returncode == status, (out.returncode, out.stderr)
    assert "Traceback" not in out.stderr and out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mls-pq: error: "), out.stderr
    return lines[0]


@pytest.mark.parametrize(("argv", "says"), [
    (["bench", "--suites", "nonsense"], "unknown suite 'nonsense'; valid: 0x0001"),
    (["bench", "--suites", "0x9999"], "unknown suite '0x9999'"),
    (["bench", "--sizes", "1"], "group sizes must be integers >= 2, got 1"),
    (["bench", "--sizes", "-5"], "group sizes must be integers >= 2"),
    (["bench", "--sizes", "two"], "--sizes: 'two' is not an integer"),
    (["bench", "--sizes", ","], "give at least one group size"),
    (["bench", "--ops", "nonsense"], "unknown operation 'nonsense'"),
    (["bench", "--reps", "0"], "--reps: must be >= 1"),
    (["bench", "--target", "0"], "--target"),
    (["bench", "--sizes", "100000", "--suites", "1"], "pass --allow-large"),
    (["bench", "--at", "1"], "group sizes must be integers >= 2"),
    (["bench", "--baseline", "nonsense"], "unknown suite 'nonsense'"),
    (["bench", "--no-such-option"], "unrecognized arguments: --no-such-option"),
    (["bench", "diff", "a.json"], "mls-pq bench diff A.json B.json"),
    (["bench", "diff", "missing-a.json", "missing-b.json"], "missing-a.json: no such file"),
    (["nonsense"], "invalid choice: 'nonsense'"),
    (["vectors", "generate", "--suite", "1", "--kind", "nonsense", "--out", "OUT"], "unknown kind 'nonsense'"),
    (["vectors", "generate", "--suite", "nonsense", "--out", "OUT"], "unknown suite 'nonsense'"),
    (["vectors", "verify", "--kind", "nonsense", "x.json"], "--kind: unknown kind 'nonsense'"),
    (["interop", "ts-mls", "--suites", "0x9999"], "0x9999 is not registered in profile 'ts-mls-1.6'"),
    (["bench", "--compare", "ts-mls", "--sizes", "1"], "group sizes must be integers >= 2"),
])
def test_usage_errors_are_one_line(argv: list[str], says: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    argv = [str(out) if a == "OUT" else a for a in argv]
    if argv[0] == "bench" and "diff" not in argv:
        argv += ["--out", str(out)]
    t0 = time.perf_counter()
    line = _one_line_error(_main(*argv, cwd=tmp_path))
    assert says in line
    assert time.perf_counter() - t0 < 5  # checked before any work
    assert list(tmp_path.iterdir()) == []  # nothing written, no empty folder


def test_out_not_writable_fails_fast(tmp_path: Path) -> None:
    f = tmp_path / "a-file"
    f.write_text("x")
    assert "exists and is not a directory" in _one_line_error(_cli("bench", "--out", str(f)))
    line = _one_line_error(_cli("bench", "--out", "/proc/mls-pq-cannot/exist"))
    assert "--out /proc/mls-pq-cannot/exist: cannot create it" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


def test_check_out_dir_leaves_nothing(tmp_path: Path) -> None:
    from mls_pq.cliutil import check_out_dir

    assert check_out_dir(tmp_path / "x" / "y") == tmp_path / "x" / "y"
    assert list(tmp_path.iterdir()) == []  # the probe folders were removed again
    assert check_out_dir(tmp_path) == tmp_path and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("content", "says"), [
    (None, "no such file"),
    ("not json", "not a JSON file (Expecting value at line 1, column 1)"),
    ("[]", "contains no test cases (an empty list)"),
    ('"a string"', "not a vector file"),
])
def test_vectors_verify_bad_files(content: str | None, says: str, tmp_path: Path) -> None:
    p = tmp_path / "psk_secret.json"
    if content is not None:
        p.write_text(content)
    assert says in _one_line_error(_main("vectors", "verify", str(p)))


def test_vectors_verify_wrong_kind(tmp_path: Path) -> None:
    p = require(MLS, "psk_secret.json")
    line = _one_line_error(_main("vectors", "verify", "--kind", "tree-math", str(p)))
    assert "does not fit kind tree-math" in line and "its name says psk-secret" in line


def test_vectors_verify_help_lists_kinds_and_schema() -> None:
    from mls_pq.cli import GENERATE_KINDS, VERIFY_KINDS
    from mls_pq.vectors.generate import available_kinds
    from mls_pq.vectors.runner import KINDS

    assert set(VERIFY_KINDS) == set(KINDS) and list(GENERATE_KINDS) == available_kinds()
    out = _cli("vectors", "verify", "--help")
    assert out.returncode == 0
    text = " ".join(out.stdout.split())
    assert all(k in text for k in VERIFY_KINDS) and '"passed": int' in text and "exit status" in text


def test_version_and_python_m() -> None:
    from mls_pq import __version__

    out = _cli("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"mls-pq {__version__}"
    out = _cli("suites", "--json")
    assert out.returncode == 0 and json.loads(out.stdout)


def test_vectors_generate_unknown_kind_leaves_no_folder(tmp_path: Path) -> None:
    out = tmp_path / "vectors"
    _one_line_error(_main("vectors", "generate", "--suite", "1", "--kind", "bogus", "--out", str(out)))
    assert not out.exists()


def _default_sigint() -> None:
    """In the child before exec: SIGINT as in a terminal. A test run started in the background
    by a non-interactive shell (``cmd &``) inherits an IGNORED SIGINT, and Python keeps an
    ignored SIGINT ignored, so the benchmark would never see the Ctrl-C this test sends."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_bench_ctrl_c_writes_partial_results(tmp_path: Path) -> None:
    """A real SIGINT to the process group (what Ctrl-C in a terminal sends, so the group
    builder gets it too): stop within about a second, partial results marked incomplete,
    one line, exit status 130, no traceback from either process."""
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "mls_pq", "bench", "--suites", "1,2", "--sizes", "2,512,1024",
                             "--out", str(out), "--no-plots"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True, preexec_fn=_default_sigint)
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:  # wait until the first group was measured (the builder is at work meanwhile)
        seen.append(line)
        if "done" in line:
            break
    os.killpg(proc.pid, signal.SIGINT)
    t0 = time.perf_counter()
    stdout, stderr = proc.communicate(timeout=60)
    stopped = time.perf_counter() - t0
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    assert stderr.strip().splitlines()[-1] == f"mls-pq: interrupted: partial results (marked incomplete) in {out}/results.json"
    assert stopped < 5, stopped  # about a second on a quiet machine; this one is shared
    doc = json.loads((out / "results.json").read_text())
    assert doc["complete"] is False and doc["rows"] and doc["note"].startswith("interrupted")
    assert (out / "results.csv").exists()


def test_vectors_generate_seed_is_byte_for_byte_reproducible(tmp_path: Path) -> None:
    """All 13 kinds, for suites with deterministic signatures (EdDSA; ECDSA with RFC 6979 nonces
    in seeded mode, suite 2); the files verify. (X-Wing
    and the other ML-KEM suites reproduce too; they are slower to generate: see
    test_seeded_randomness_restores_everything for their KEM.)"""
    from mls_pq.cli import GENERATE_KINDS

    def gen(seed: str, out: str) -> dict[str, bytes]:
        res = _cli("vectors", "generate", "--suite", "1,ed448,2", "--seed", seed, "--out", str(tmp_path / out))
        assert res.returncode == 0, res.stderr
        return {p.name: p.read_bytes() for p in sorted((tmp_path / out).iterdir())}

    a, b, c = gen("7", "a"), gen("7", "b"), gen("8", "c")
    assert len(a) == len(GENERATE_KINDS) - 1 == 13  # every kind but the opt-in apq
    assert a == b  # byte for byte
    assert all(a[k] != c[k] for k in ("crypto-basics.json", "welcome.json", "treekem.json"))  # the seed matters
    ver = _cli("vectors", "verify", *(str(tmp_path / "a" / k) for k in sorted(a)))
    assert ver.returncode == 0, ver.stdout + ver.stderr


def test_seeded_randomness_restores_everything() -> None:
    import os as _os
    import time as _time

    from mls_pq import grease
    from mls_pq.suites import get_suite
    from mls_pq.vectors.seeded import FIXED_TIME, seeded_randomness

    cs = get_suite(0xF001)
    before = (_os.urandom, _time.time, grease._RNG)
    with seeded_randomness(3, [cs]) as drbg:
        assert _time.time() == FIXED_TIME and "generate_key_pair" in vars(cs.kem)
        k1 = cs.kem.generate_key_pair()
        assert drbg is not None
    with seeded_randomness(3, [cs]):
        assert cs.kem.generate_key_pair() == k1  # the same seed, the same keys
    assert (_os.urandom, _time.time, grease._RNG) == before
    assert "generate_key_pair" not in vars(cs.kem) and "encap" not in vars(cs.kem)
    assert cs.kem.generate_key_pair() != cs.kem.generate_key_pair()
