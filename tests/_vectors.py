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
