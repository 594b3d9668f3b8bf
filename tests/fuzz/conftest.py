"""Prints how many inputs each fuzzed entry point received (issue 8: "inputs fuzzed per entry
point")."""

from __future__ import annotations

import pytest

from ._world import COUNTS


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not COUNTS:
        return
    terminalreporter.section("bounded fuzz (hypothesis): inputs per entry point")
    total = 0
    for entry, (n, rejected) in sorted(COUNTS.items()):
        total += n
        terminalreporter.write_line(f"{entry:42s} {n:6d} inputs  {rejected:6d} rejected  {n - rejected:6d} accepted")
    terminalreporter.write_line(f"{'total':42s} {total:6d} inputs")
