"""Timed MLS operations (pytest-benchmark) over the benchmark scenarios: one benchmark per
suite × N × shape × operation; sizes of the related messages go into ``extra_info``."""

from __future__ import annotations

from typing import Any

import pytest

from mls_pq.bench.model import model_sizes
from mls_pq.bench.scenarios import TIME_OPS, GroupScenario

#: the size metrics reported next to each timed operation
RELATED_SIZES = {
    "kp_gen": ("key_package",),
    "add_commit": ("add_commit_public", "welcome_tree"),
    "update_commit": ("update_commit_public",),
    "process_near": ("update_commit_public",),
    "process_far": ("update_commit_public",),
    "join": ("welcome_tree",),
    "external_join": ("group_info", "external_commit"),
    "app_encrypt": ("app_message",),
    "app_decrypt": ("app_message",),
}


@pytest.mark.parametrize("op_name", list(TIME_OPS))
def test_op(benchmark: Any, scenario: GroupScenario, op_name: str) -> None:
    op = scenario.ops()[op_name]
    op.check(op.run())
    benchmark.group = f"{op_name} N={scenario.n} {scenario.shape}"
    benchmark.name = f"0x{scenario.suite.id:04x}"
    sizes = model_sizes(scenario.suite, scenario.n, scenario.shape, payload=scenario.payload)
    benchmark.extra_info.update(
        suite=f"0x{scenario.suite.id:04x}", n=scenario.n, shape=scenario.shape, description=TIME_OPS[op_name],
        **{f"size_{k}": sizes[k] for k in RELATED_SIZES[op_name]},
    )
    benchmark(op.run)
