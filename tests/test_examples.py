"""Every script in examples/ runs as a user would run it (a subprocess), and says what it should."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"

#: script -> text its output must contain
EXPECT = {
    "two_members_xwing.py": ["received b'hi bob'", "received b'hi alice'", "epoch 3: bob removed"],
    "sqlite_persistence.py": ["groups stored [b'persistent group']", "reloaded at epoch 1, now at epoch 2"],
    "custom_suite_plugin.py": ["0xf0b1 MLS_128_MLKEM768X25519_CHACHA20POLY1305_SHA384_Ed448",
                               "b'on a suite of our own'"],
    "external_join.py": ["carol is leaf 2", "b'hello from carol'"],
    "reinit_to_xwing.py": ["suite 0xf001", "b'now post-quantum'"],
    "read_bench_json.py": ["figures", "Commit with UpdatePath at N = 1024, numpy"],
}


def test_every_example_is_tested() -> None:
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(EXPECT)


@pytest.mark.parametrize("script", sorted(EXPECT))
def test_example_runs(script: str, tmp_path: Path) -> None:
    argv = [sys.executable, str(EXAMPLES / script)]
    if script == "sqlite_persistence.py":
        argv.append(str(tmp_path / "bob.sqlite"))
    out = subprocess.run(argv, capture_output=True, text=True, timeout=300, cwd=str(tmp_path))
    assert out.returncode == 0, out.stderr
    for text in EXPECT[script]:
        assert text in out.stdout, out.stdout
    if script == "sqlite_persistence.py":
        assert (tmp_path / "bob.sqlite").stat().st_size > 0
