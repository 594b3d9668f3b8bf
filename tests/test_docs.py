"""The API reference builds from the docstrings with the README's command, without a warning."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _readme_command() -> list[str]:
    m = re.search(r"^\.venv/bin/python -m pdoc (.+)$", (ROOT / "README.md").read_text(), re.MULTILINE)
    assert m, "README.md has no API reference command (.venv/bin/python -m pdoc ...)"
    return m.group(1).split()


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("pdoc") is None, reason="pdoc is not installed (the 'test' extra has it)")
def test_api_reference_builds_without_warnings(tmp_path: Path) -> None:
    args = _readme_command()
    out_index = args.index("-o") + 1
    args[out_index] = str(tmp_path / "api")  # the README writes to build/api
    res = subprocess.run([sys.executable, "-m", "pdoc", *args], capture_output=True, text=True, timeout=600,
                         cwd=str(ROOT))
    assert res.returncode == 0, res.stderr
    assert "warn" not in res.stderr.lower() and "error" not in res.stderr.lower(), res.stderr
    pages = {p.relative_to(tmp_path / "api").as_posix() for p in (tmp_path / "api").rglob("*.html")}
    assert {"mls_pq/client.html", "mls_pq/group.html", "mls_pq/storage.html", "mls_pq/credentials.html"} <= pages
    assert "Authentication Service" in (tmp_path / "api" / "mls_pq" / "credentials.html").read_text()


def test_readme_python_examples_run() -> None:
    """The README's ``python`` blocks are real code against the current API: run them in order in
    one namespace (the second block reuses the first one's names)."""
    blocks = re.findall(r"^```python\n(.*?)^```", (ROOT / "README.md").read_text(), re.MULTILINE | re.DOTALL)
    assert len(blocks) >= 2
    namespace: dict[str, object] = {}
    for i, block in enumerate(blocks):
        exec(compile(block, f"README.md python block {i + 1}", "exec"), namespace)
    group = namespace["group"]
    assert type(group).__name__ == "Group"
