"""Shared glue of the atheris targets in this folder.

Every target is ``one_input(data: bytes) -> None`` and follows the same contract:

* the only exceptions an entry point may raise are :class:`mls_pq.errors.MLSError`
  subclasses (anything else propagates and libFuzzer records a crash file);
* a rejected message leaves the group byte-identical (``Group.to_bytes()`` before/after);
* every :data:`CHECK_EVERY` inputs, the next valid message still processes.

``main(one_input)`` runs the target under atheris (coverage-guided, instrumenting
``mls_pq`` only) or, with ``--replay PATH...`` or when atheris is not installed, replays the
given files / corpus folders once — handy to re-check a crash file after a fix.

Written by hand: glue between atheris and the library, nothing a library provides.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

FUZZ_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(FUZZ_DIR))

#: how often (in inputs) a target proves the next valid message still works
CHECK_EVERY = int(os.environ.get("MLS_PQ_FUZZ_CHECK_EVERY", "50"))


def _import_all_mls_pq() -> None:
    import mls_pq

    for mod in pkgutil.walk_packages(mls_pq.__path__, "mls_pq."):
        if mod.name.endswith("__main__") or mod.name.startswith(
            ("mls_pq.bench", "mls_pq.interop", "mls_pq.vectors", "mls_pq.cli")
        ):
            continue
        importlib.import_module(mod.name)


def instrumented() -> bool:
    """Import (and, under atheris, instrument) every protocol module of mls_pq. Call before
    importing anything else from mls_pq. Returns whether atheris is active."""
    if "--replay" in sys.argv:
        _import_all_mls_pq()
        return False
    try:
        import atheris
    except ImportError:
        _import_all_mls_pq()
        return False
    with atheris.instrument_imports(include=["mls_pq"]):
        _import_all_mls_pq()
    return True


class Counter:
    """Counts inputs and outcomes; printed by the replay mode."""

    def __init__(self) -> None:
        self.inputs = 0
        self.accepted = 0
        self.rejected = 0

    def tick(self) -> bool:
        """Count one input; True when the periodic "next valid message" check is due."""
        self.inputs += 1
        return self.inputs % CHECK_EVERY == 0


COUNTER = Counter()


def _replay(one_input: Callable[[bytes], None], paths: list[str]) -> None:
    files: list[Path] = []
    for p in paths:
        q = Path(p)
        files.extend(sorted(f for f in q.rglob("*") if f.is_file()) if q.is_dir() else [q])
    t = time.perf_counter()
    for f in files:
        one_input(f.read_bytes())
    print(
        f"replayed {len(files)} inputs in {time.perf_counter() - t:.1f}s: "
        f"{COUNTER.accepted} accepted, {COUNTER.rejected} rejected, no invariant broken"
    )


def main(one_input: Callable[[bytes], None], default_corpus: str) -> None:
    """Run under atheris (libFuzzer arguments pass through), or replay files."""
    args = sys.argv[1:]
    if "--replay" in args:
        rest = [a for a in args if a != "--replay"]
        _replay(one_input, rest or [str(FUZZ_DIR / "corpus" / default_corpus)])
        return
    try:
        import atheris
    except ImportError:
        print("atheris is not installed (pip install -e '.[fuzz]'): replaying the corpus once", file=sys.stderr)
        _replay(one_input, [str(FUZZ_DIR / "corpus" / default_corpus)])
        return
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
