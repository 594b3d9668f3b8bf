"""Shared fixtures: a small workload and one calibration (cached in a temporary directory)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mls_pq.simulate.api import calibrations
from mls_pq.simulate.model import Calibrated
from mls_pq.simulate.workload import Workload, load_workload

SMALL = """
name = "small"
days = 2
shard_groups = 16

[[policies]]
name = "suite 1"
suite = 1

[[policies]]
name = "ML-DSA-65, private, tree out of band"
suite = 0xf00a
commits = "private"
ratchet_tree = "out_of_band"

[[populations]]
name = "tiny"
groups = 40
size = { dist = "uniform", min = 2, max = 9 }
[populations.activity]
messages_per_member_per_day = 3
updates_per_member_per_day = 0.5
adds_per_group_per_day = 0.5
removes_per_group_per_day = 0.5
late_join_fraction = 0.2

[[populations]]
name = "lognormal"
groups = 20
devices_per_user = 1.5
size = { dist = "lognormal", median = 3, p99 = 12, max = 14 }
[populations.activity]
messages_per_member_per_day = 2
update_every_messages = 2
adds_per_group_per_day = 0.3

[calibration]
sizes = [2, 5, 12]
reps = 2

[self_check]
groups = 3
max_members = 12
cpu_tolerance = 0.2
"""


@pytest.fixture(scope="session")
def small_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("wl") / "small.toml"
    p.write_text(SMALL)
    return p


@pytest.fixture(scope="session")
def small(small_path: Path) -> Workload:
    return load_workload(small_path)


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("calib")


@pytest.fixture(scope="session")
def cals(small: Workload, cache_dir: Path) -> dict[str, Calibrated]:
    return calibrations(small, cache_dir=cache_dir)
