"""Verification (and, later, generation) of mlswg-format test vectors.

Each vector *kind* (tree-math, crypto-basics, ...) has a verifier: a function taking one
case (the JSON object) and raising :class:`Mismatch` naming the first differing field, or
:class:`SkipCase` with a reason. :func:`verify_file` runs every case of a file.
"""

from .runner import KINDS, CaseResult, FileResult, Mismatch, SkipCase, infer_kind, verify_case, verify_file

__all__ = ["KINDS", "CaseResult", "FileResult", "Mismatch", "SkipCase", "infer_kind", "verify_case", "verify_file"]
