"""Wycheproof case counts per file and backend, shown in pytest's terminal summary.

Each ``tests/crypto/test_wycheproof_*.py`` test runs one Wycheproof file against one backend
and records a :class:`Tally` through the ``wycheproof_tally`` fixture; at the end of the run
``pytest_terminal_summary`` prints one line per (file, backend), e.g.::

    ed25519_test.json  ed25519 via pynacl: 151 cases: 88 valid ok, 63 invalid rejected, ...
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest


@dataclass
class Tally:
    """Verdict counts of one Wycheproof file against one backend."""

    valid_ok: int = 0
    invalid_rejected: int = 0
    acceptable_accepted: int = 0
    acceptable_rejected: int = 0
    #: rejected with a typed error because the MLS adapter does not support the parameter
    #: (IV/key/tag size); keyed by the vector's own verdict
    unsupported: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return (
            self.valid_ok
            + self.invalid_rejected
            + self.acceptable_accepted
            + self.acceptable_rejected
            + sum(self.unsupported.values())
        )

    def line(self) -> str:
        acc = self.acceptable_accepted + self.acceptable_rejected
        unsup = sum(self.unsupported.values())
        text = (
            f"{self.total} cases: {self.valid_ok} valid ok, {self.invalid_rejected} invalid rejected, "
            f"{acc} acceptable ({self.acceptable_accepted} accepted, {self.acceptable_rejected} rejected)"
        )
        if unsup:
            split = ", ".join(f"{v} {k}" for k, v in sorted(self.unsupported.items()))
            text += f", {unsup} rejected: unsupported parameter ({split})"
        return text


_TALLIES: dict[tuple[str, str], Tally] = {}


@pytest.fixture
def wycheproof_tally() -> Callable[[str, str], Tally]:
    """``tally(file_name, backend)`` -> a fresh :class:`Tally` registered for the summary."""

    def make(file_name: str, backend: str) -> Tally:
        t = Tally()
        _TALLIES[(file_name, backend)] = t
        return t

    return make


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _TALLIES:
        return
    terminalreporter.section("Wycheproof cases per file and backend")
    width = max(len(f) for f, _ in _TALLIES)
    bwidth = max(len(b) for _, b in _TALLIES)
    for (f, b), t in sorted(_TALLIES.items()):
        terminalreporter.write_line(f"{f:<{width}}  {b:<{bwidth}}  {t.line()}")
