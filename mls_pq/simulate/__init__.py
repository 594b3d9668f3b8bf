"""``mls-pq simulate``: what a cipher suite costs a whole messaging service.

Layers (see /work/shared/DESIGN.md, "Fleet simulation in layers"):

* :mod:`.workload` — the validated TOML workload schema;
* :mod:`.events` — the one deterministic event generator (numpy) shared by both modes;
* :mod:`.exact` — the real engine for every event of a group;
* :mod:`.calibrate` — time curves per suite and operation, measured here and cached;
* :mod:`.model` — vectorised costing of whole shards (exact size model + curves);
* :mod:`.dask_runner` — shards serially or as ``dask.distributed`` tasks;
* :mod:`.selfcheck` — sampled groups exact vs model; :mod:`.report` — table, JSON, CSV, PNG;
* :mod:`.api` — :func:`simulate`; :mod:`.cli` — the ``mls-pq simulate`` subcommand.
"""

from __future__ import annotations

from .workload import Workload, WorkloadError, load_workload, parse_workload

__all__ = ["Workload", "WorkloadError", "load_workload", "parse_workload"]
