"""The public API (issue 10): ``mls_pq.__all__`` is what is public, every public name is
importable from ``mls_pq`` and documented, and so is every public method and property of the
public classes."""

from __future__ import annotations

import inspect

import mls_pq


def _public_members(cls: type) -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    for name, value in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
        if isinstance(value, property) or inspect.isfunction(value):
            out.append((name, value))
    return out


def test_all_names_exist_and_are_unique() -> None:
    assert len(mls_pq.__all__) == len(set(mls_pq.__all__))
    missing = [n for n in mls_pq.__all__ if not hasattr(mls_pq, n)]
    assert not missing, missing
    # the headline names of the README are among them
    for name in ("Client", "Group", "GroupConfig", "StagedCommit", "ApplicationMessage", "ProposalMessage"):
        assert name in mls_pq.__all__


def test_every_public_name_is_documented() -> None:
    undocumented = []
    for name in mls_pq.__all__:
        obj = getattr(mls_pq, name)
        if not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue  # constants and type aliases are documented where they are defined
        if not (obj.__doc__ or "").strip():
            undocumented.append(name)
        if inspect.isclass(obj):
            for member, _ in _public_members(obj):
                # inspect.getdoc inherits: an implementation of a documented abstract method
                # (Storage, Struct.encode/decode) is documented by its base
                if not (inspect.getdoc(getattr(obj, member)) or "").strip():
                    undocumented.append(f"{name}.{member}")
    assert not undocumented, "public names without a docstring:\n" + "\n".join(undocumented)


def test_lazy_exports_cover_all_and_keep_the_import_light() -> None:
    """``mls_pq.__all__`` is served lazily (PEP 562): the map names every public name, and a bare
    ``import mls_pq`` loads no engine module (the CLI parses arguments before importing any)."""
    import subprocess
    import sys

    assert set(mls_pq.__all__) == {*mls_pq._EXPORTS, "__version__"}
    code = "import sys, mls_pq; print(sorted(m for m in sys.modules if m.startswith('mls_pq.')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['mls_pq.version']"
