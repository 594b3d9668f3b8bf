"""Data-driven vector helpers: every case of every file becomes one parametrized test.

Vectors are third-party data read in place from ``../shared/vectors`` (or ``$MLS_PQ_VECTORS``).
When the folder is absent each vector test is collected as a single case that skips with
the reason — or fails under ``CI=true``, where a missing vector folder is never silent.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
VECTORS = Path(os.environ.get("MLS_PQ_VECTORS", str(REPO.parent / "shared" / "vectors")))


def _missing(path: Path) -> Any:
    msg = f"vector file {path} not found (set MLS_PQ_VECTORS to the vectors folder)"
    if os.environ.get("CI", "").lower() == "true":
        # conftest.py fails every test carrying this marker, with the message
        return pytest.param(msg, id="missing-vectors", marks=pytest.mark.missing_vectors(msg))
    return pytest.param(msg, id="missing-vectors", marks=pytest.mark.skip(reason=msg))


def path(*parts: str) -> Path:
    return VECTORS.joinpath(*parts)


def load(*parts: str) -> Any:
    with open(path(*parts)) as f:
        return json.load(f)


def cases(
    *parts: str,
    select: Callable[[Any], Iterable[Any]] = lambda d: d,
    ident: Callable[[int, Any], str] | None = None,
) -> list[Any]:
    """pytest params, one per case of a JSON vector file (``select`` picks the case list)."""
    p = path(*parts)
    if not p.exists():
        return [_missing(p)]
    out = []
    for i, case in enumerate(select(load(*parts))):
        out.append(pytest.param(case, id=ident(i, case) if ident else f"{p.stem}-{i}"))
    return out


def require(*parts: str) -> Path:
    """The path of a vector file for a single (non-parametrized) test: skip if absent, or fail under CI=true."""
    p = path(*parts)
    if not p.exists():
        msg = f"vector file {p} not found (set MLS_PQ_VECTORS to the vectors folder)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return p


#: the official mlswg interop vectors, relative to the vectors folder
MLSWG = "mls-implementations/test-vectors"


def mlswg_cases(file_name: str) -> list[Any]:
    """One param per case of an mlswg file, ids naming the kind, index and cipher suite."""
    kind = Path(file_name).stem

    def ident(i: int, c: Any) -> str:
        suite = f"-suite{c['cipher_suite']}" if isinstance(c, dict) and "cipher_suite" in c else ""
        return f"{kind}-{i}{suite}"

    return cases(MLSWG, file_name, ident=ident)


def check_case(kind: str, case: dict[str, Any]) -> None:
    """Run one case through the verifier ``mls-pq vectors verify`` uses; its skips are pytest skips."""
    from mls_pq.vectors import verify_case

    res = verify_case(kind, case)
    if res.status == "skipped":
        pytest.skip(res.reason)
    assert res.status == "passed", res.reason


def flip_hex(hexstr: str, at: int = 0) -> str:
    """The hex string with the byte at ``at`` (negative: from the end) inverted."""
    b = bytearray(bytes.fromhex(hexstr))
    b[at] ^= 0x01
    return b.hex()


def mlswg_case(file_name: str, index: int = 0) -> dict[str, Any]:
    """A private deep copy of one mlswg case, for tampering tests (skip/fail like ``require``)."""
    import copy

    require(MLSWG, file_name)
    return copy.deepcopy(load(MLSWG, file_name)[index])
