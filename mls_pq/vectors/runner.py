"""Runs vector verifiers over files and collects per-case results."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import MLSError


class Mismatch(MLSError):
    """A computed value differs from the vector's. ``field`` names the first differing field."""

    def __init__(self, field_name: str, detail: str = "") -> None:
        self.field = field_name
        super().__init__(f"mismatch in {field_name}" + (f": {detail}" if detail else ""))


class SkipCase(Exception):
    """A case that cannot be checked here; the reason is reported and counted."""


Verifier = Callable[[dict[str, Any]], None]

#: kind name -> verifier; populated by the kind modules on import
KINDS: dict[str, Verifier] = {}

#: file-name stem -> kind, for inference
_ALIASES: dict[str, str] = {}


def kind(name: str, *aliases: str) -> Callable[[Verifier], Verifier]:
    def deco(fn: Verifier) -> Verifier:
        KINDS[name] = fn
        for a in (name, *aliases):
            _ALIASES[a] = name
        return fn

    return deco


def _load_kinds() -> None:
    import importlib

    from . import basics  # noqa: F401  (registers kinds)

    # kinds that need the group engine register themselves when their modules exist
    for mod in ("tree_kinds", "message_kinds", "group_kinds"):
        try:
            importlib.import_module(f"{__package__}.{mod}")
        except ModuleNotFoundError as e:
            if e.name != f"{__package__}.{mod}":
                raise
    try:
        from . import tree_kinds  # noqa: F401
    except ImportError:
        pass


@dataclass
class CaseResult:
    index: int
    status: str  # "passed" | "failed" | "skipped"
    reason: str = ""


@dataclass
class FileResult:
    file: str
    kind: str
    cases: list[CaseResult] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for c in self.cases if c.status == status)

    @property
    def passed(self) -> int:
        return self.count("passed")

    @property
    def failed(self) -> int:
        return self.count("failed")

    @property
    def skipped(self) -> int:
        return self.count("skipped")

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "kind": self.kind,
            "passed": self.passed,
            "failed": self.failed,
            "skipped": self.skipped,
            "reasons": [
                {"case": c.index, "status": c.status, "reason": c.reason} for c in self.cases if c.status != "passed"
            ],
        }


def infer_kind(path: str | Path) -> str:
    _load_kinds()
    stem = Path(path).stem.replace("_", "-")
    for candidate in (stem, stem.split(".")[0]):
        if candidate in _ALIASES:
            return _ALIASES[candidate]
    # generated files may carry a suffix, e.g. "crypto-basics-0xf001"
    for alias in sorted(_ALIASES, key=len, reverse=True):
        if stem.startswith(alias):
            return _ALIASES[alias]
    raise MLSError(f"cannot infer the vector kind of {path}; pass --kind (known: {', '.join(sorted(KINDS))})")


def verify_case(kind_name: str, case: dict[str, Any], index: int = 0) -> CaseResult:
    _load_kinds()
    fn = KINDS.get(kind_name.replace("_", "-"))
    if fn is None:
        raise MLSError(f"unknown vector kind {kind_name!r} (known: {', '.join(sorted(KINDS))})")
    try:
        fn(case)
    except SkipCase as e:
        return CaseResult(index, "skipped", str(e))
    except Mismatch as e:
        return CaseResult(index, "failed", str(e))
    except MLSError as e:
        return CaseResult(index, "failed", f"{type(e).__name__}: {e}")
    return CaseResult(index, "passed")


def verify_file(path: str | Path, kind_name: str | None = None, profile: str | None = None) -> FileResult:
    """Verify every case of a file. ``profile`` selects the code-point profile of its suite ids."""
    if profile is not None:
        from ..suites import REGISTRY

        previous = REGISTRY.active_profile
        REGISTRY.active_profile = profile
        try:
            return verify_file(path, kind_name)
        finally:
            REGISTRY.active_profile = previous
    k = (kind_name or infer_kind(path)).replace("_", "-")
    with open(path) as f:
        data = json.load(f)
    cases = data if isinstance(data, list) else [data]
    result = FileResult(str(path), k)
    for i, case in enumerate(cases):
        result.cases.append(verify_case(k, case, i))
    return result
