"""Regression tests for what the fuzzers found (``/work/notes/fuzz_findings.md``; issue 8).
A finding not fixed yet is a strict xfail: it turns into a failure the day it is fixed, as a
reminder to drop the marker."""

from __future__ import annotations

import pytest

from mls_pq.errors import MLSError
from mls_pq.extensions import APPLICATION_ID, Extension

from ._world import world


def test_group_context_extensions_with_a_repeated_type_are_rejected() -> None:
    """RFC 9420 §13.5: "Any field containing a list of extensions MUST NOT have more than one
    extension of any given type." A GroupContextExtensions proposal repeating application_id
    must be refused when the commit is created."""
    bob = world(0x0001).fresh_bob()
    with pytest.raises(MLSError):
        bob.commit(group_context_extensions=[Extension(APPLICATION_ID, b"x"), Extension(APPLICATION_ID, b"y")])
