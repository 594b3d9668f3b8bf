"""Shared hooks. Vector location and loading live in ``tests/_vectors.py``."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "missing_vectors(reason): a vector file is absent under CI=true: fail")


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Under CI=true a missing vector folder is a failure, never a silent skip."""
    mark = item.get_closest_marker("missing_vectors")
    if mark is not None:
        pytest.fail(str(mark.args[0]) if mark.args else "vector folder missing")
