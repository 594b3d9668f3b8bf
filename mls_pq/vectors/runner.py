"""Runs vector verifiers over files and collects per-case results.

A kind may qualify how it verifies (for example the passive-client kinds replay recorded
vectors with the RFC 9420 §7.3 lifetime check disabled): static notes given to
:func:`kind` and notes a verifier adds while running a case with :func:`note` are reported
on the :class:`FileResult` (``notes``), printed by ``mls-pq vectors verify`` and included
in its ``--json`` output, so a relaxed check is never silent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import MLSError
from .kinds import ALIASES as _ALIASES
from .kinds import CASE_NOTES as _CASE_NOTES
from .kinds import KINDS, NOTES, Mismatch, SkipCase, Verifier, kind, note


def _load_kinds() -> None:
    """Import the kind modules (each registers its verifiers in :mod:`.kinds` on import).
    Imported on first use, not with the package: the group kinds pull in the whole engine."""
    import mls_pq.vectors.apq
    import mls_pq.vectors.basics
    import mls_pq.vectors.group_kinds
    import mls_pq.vectors.message_kinds
    import mls_pq.vectors.tree_kinds  # noqa: F401


@dataclass
class CaseResult:
    index: int
    status: str  # "passed" | "failed" | "skipped"
    reason: str = ""
    #: notes the verifier attached (static notes of the kind included)
    notes: list[str] = field(default_factory=list)


@dataclass
class FileResult:
    file: str
    kind: str
    cases: list[CaseResult] = field(default_factory=list)

    @property
    def notes(self) -> list[str]:
        """Every note of the file's cases, once each, in first-seen order."""
        out: list[str] = list(NOTES.get(self.kind, ()))
        for c in self.cases:
            out.extend(n for n in c.notes if n not in out)
        return out

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
            "notes": self.notes,
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


#: the start of a failed case's reason when a field the kind reads is missing
MISSING_FIELD = "missing field"


def verify_case(kind_name: str, case: dict[str, Any], index: int = 0) -> CaseResult:
    _load_kinds()
    fn = KINDS.get(kind_name.replace("_", "-"))
    if fn is None:
        raise MLSError(f"unknown vector kind {kind_name!r} (known: {', '.join(sorted(KINDS))})")
    kind_key = kind_name.replace("_", "-")
    notes: list[str] = list(NOTES.get(kind_key, ()))
    token = _CASE_NOTES.set(notes)
    try:
        fn(case)
    except SkipCase as e:
        return CaseResult(index, "skipped", str(e), notes)
    except Mismatch as e:
        return CaseResult(index, "failed", str(e), notes)
    except MLSError as e:
        return CaseResult(index, "failed", f"{type(e).__name__}: {e}", notes)
    except KeyError as e:  # the case lacks a field this kind reads: a wrong kind or a malformed case
        return CaseResult(index, "failed", f"{MISSING_FIELD} {e}", notes)
    except (TypeError, ValueError, AttributeError) as e:  # a field of the wrong JSON type or not hex
        return CaseResult(index, "failed", f"malformed case for kind {kind_key}: {type(e).__name__}: {e}", notes)
    finally:
        _CASE_NOTES.reset(token)
    return CaseResult(index, "passed", "", notes)


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
    if result.cases and all(c.reason.startswith(MISSING_FIELD) for c in result.cases):
        # not one case has the fields of this kind: the file is of another kind
        try:
            inferred = infer_kind(path)
        except MLSError:
            inferred = None
        hint = f"; its name says {inferred}" if inferred and inferred != k else ""
        raise MLSError(f"the file does not fit kind {k} (its cases have no field "
                       f"{result.cases[0].reason.removeprefix(MISSING_FIELD).strip()}){hint}")
    return result


__all__ = [
    "KINDS",
    "MISSING_FIELD",
    "NOTES",
    "CaseResult",
    "FileResult",
    "Mismatch",
    "SkipCase",
    "Verifier",
    "infer_kind",
    "kind",
    "note",
    "verify_case",
    "verify_file",
]
