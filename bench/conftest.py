"""pytest-benchmark benchmarks over the mls-pq benchmark scenarios (real engine).

Not part of the default test run (``testpaths = ["tests"]``). Run with::

    pytest bench/ --benchmark-only
    pytest bench/ --benchmark-only --bench-suites 1,0xF001,0xF00B --bench-sizes 16,256 --bench-shapes both
    pytest bench/ --benchmark-only --benchmark-json out.json   # pytest-benchmark's own options

Options (or environment variables MLS_PQ_BENCH_SUITES / _SIZES / _SHAPES):
``--bench-suites`` suite ids or ``all`` (default 1,0xF001,0xF006,0xF00B), ``--bench-sizes``
(default 16,128), ``--bench-shapes`` sparse|populated|both (default populated).
"""

from __future__ import annotations

import os

import pytest

from mls_pq.bench.scenarios import SHAPES, GroupScenario, build_both
from mls_pq.suites import REGISTRY, get_suite

_DEFAULTS = {"suites": "1,0xF001,0xF006,0xF00B", "sizes": "16,128", "shapes": "populated"}


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("mls-pq bench")
    for key, default in _DEFAULTS.items():
        g.addoption(f"--bench-{key}", default=os.environ.get(f"MLS_PQ_BENCH_{key.upper()}", default),
                    help=f"mls-pq benchmark {key} (default {default})")


def _ints(spec: str) -> list[int]:
    if spec.strip() == "all":
        return REGISTRY.ids()
    return [int(t, 0) for t in spec.split(",") if t.strip()]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    opt = metafunc.config.getoption
    if "suite_id" in metafunc.fixturenames:
        ids = _ints(opt("--bench-suites"))
        metafunc.parametrize("suite_id", ids, ids=[f"0x{i:04x}" for i in ids], scope="session")
    if "n" in metafunc.fixturenames:
        ns = _ints(opt("--bench-sizes"))
        metafunc.parametrize("n", ns, ids=[f"N{n}" for n in ns], scope="session")
    if "shape" in metafunc.fixturenames:
        spec = opt("--bench-shapes")
        shapes = list(SHAPES) if spec == "both" else [s.strip() for s in spec.split(",")]
        metafunc.parametrize("shape", shapes, scope="session")


_CACHE: dict[tuple[int, int, str], GroupScenario] = {}


@pytest.fixture(scope="session")
def scenario(suite_id: int, n: int, shape: str) -> GroupScenario:
    """The scenario for (suite, N, shape), built once per session."""
    key = (suite_id, n, shape)
    sc = _CACHE.get(key)
    if sc is None:
        sc = build_both(get_suite(suite_id), n)
        if shape == "populated":
            sc.populate()
        _CACHE[key] = sc
    return sc
