"""The module graph of ``mls_pq`` (issue 10, architecture): data flows one way.

Read statically (``ast``), every ``import`` / ``from ... import`` anywhere in a module counts as
an edge — at module level, inside a function, under ``if TYPE_CHECKING`` — so a cycle cannot
be hidden by moving an import into a function. ``from P import n`` is an edge to ``P`` and,
when ``P.n`` is a module, to ``P.n`` too (``from .. import log`` in a submodule depends on the
package ``mls_pq`` itself, whose ``__init__`` may one day import that submodule back).

Rules checked here:

1. **No import cycle** among ``mls_pq`` modules (a cycle is printed as its strongly connected
   component, every member named).
2. **The engine does not depend on its tools.** The tools are ``mls_pq.bench``,
   ``mls_pq.vectors``, ``mls_pq.interop``, ``mls_pq.simulate``, ``mls_pq.cli``,
   ``mls_pq.cliutil`` and ``mls_pq.__main__``; every other module (the engine, including the
   ``mls_pq.apq`` layer, which builds on the engine) imports none of them.
3. **Wire structs depend only on the codec layer.** The *low layer* is ``mls_pq.messages.*``
   (the RFC 9420 wire structs) plus ``mls_pq.codec`` (TLS presentation language),
   ``mls_pq.errors``, ``mls_pq.extensions`` (the Extension struct and its code points),
   ``mls_pq.ext_codepoints`` (draft code points), ``mls_pq.group_context`` (the GroupContext
   struct) and ``mls_pq.psk`` (the PreSharedKeyID struct and the PSK secret of §8.4, which
   needs only a suite). A low-layer module imports only low-layer modules and
   ``mls_pq.suites`` (a :class:`~mls_pq.suites.CipherSuite` signs, verifies and hashes a
   struct); never the tree, TreeKEM, the key schedule, framing or the group.
4. **Profiles carry their quirks.** Outside the code-point profile tables
   (``mls_pq.suites.registry``, where a profile such as ``ts-mls-1.6`` is defined with its
   constructions and its wire quirks), no engine module names another implementation in its
   code (identifiers, string constants); it tests neutral flags such as
   ``CipherSuite.quirks``. Docstrings and comments may still cite other implementations.
5. **Nothing in the engine imports the package ``mls_pq`` itself** (``from .. import x`` in a
   submodule, ``from mls_pq import x``): ``mls_pq/__init__`` exports the public API, so such an
   import would close a cycle through it. Import the submodule (``import mls_pq.log as log``).
6. **Package ``__init__`` files of ``group``, ``vectors``, ``messages`` and ``tree`` only
   re-export** (docstring, imports, ``__all__``): the logic lives in submodules, so that a
   submodule importing a sibling never runs logic of the package that imports it back.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "mls_pq"

TOOLS = ("mls_pq.bench", "mls_pq.vectors", "mls_pq.interop", "mls_pq.simulate", "mls_pq.cli", "mls_pq.cliutil",
         "mls_pq.__main__")
LOW_LAYER = ("mls_pq.messages", "mls_pq.codec", "mls_pq.errors", "mls_pq.extensions", "mls_pq.ext_codepoints",
             "mls_pq.group_context", "mls_pq.psk")
LOW_LAYER_MAY_ALSO_IMPORT = ("mls_pq.suites",)
#: the code-point profile tables: the one engine module that may name other implementations
PROFILE_TABLES = ("mls_pq.suites.registry",)
IMPLEMENTATION_NAMES = re.compile(r"ts[-_]?mls|openmls|mls[-_]rs", re.IGNORECASE)

Graph = Mapping[str, set[str]]


def _within(module: str, prefixes: Iterable[str]) -> bool:
    """True if ``module`` is one of ``prefixes`` or inside one of those packages."""
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def modules_of(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` file under the package ``root``."""
    out = {}
    for p in sorted(root.rglob("*.py")):
        parts = list(p.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = p
    return out


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the package modules it imports (static, every import anywhere in the file;
    the logic of /work/notes/imports.py, the tool the issue's figures were taken with)."""
    mods = modules_of(root)
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for m, p in mods.items():
        pkg = m if p.name == "__init__.py" else m.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"), filename=str(p))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = pkg.split(".")
                    base = base[: len(base) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                candidates = [target] + [f"{target}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                candidates = [a.name for a in node.names]
            else:
                continue
            graph[m].update(c for c in candidates if c in mods and c != m)
    return graph


def find_cycles(graph: Graph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative), each
    sorted, the list sorted: every import cycle lies inside one of them."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    nodes = sorted(set(graph) | {w for ws in graph.values() for w in ws})
    for start in nodes:
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            v, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph.get(w, ())))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return sorted(out)


def _describe(cycles: list[list[str]], graph: Graph) -> str:
    lines = []
    for comp in cycles:
        lines.append("cycle: " + " <-> ".join(comp))
        members = set(comp)
        lines.extend(f"    {m} -> {', '.join(sorted(graph[m] & members))}" for m in comp)
    return "\n".join(lines)


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph(ROOT)


# ---- the cycle finder itself -------------------------------------------------------------


def test_cycle_finder_on_a_tiny_graph() -> None:
    fake = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"f"}, "f": {"e"}, "g": {"a"}}
    assert find_cycles(fake) == [["a", "b", "c"], ["e", "f"]]
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []
    assert _describe([["e", "f"]], fake) == "cycle: e <-> f\n    e -> f\n    f -> e"


def test_graph_reads_function_level_and_package_imports(tmp_path: Path) -> None:
    """A cycle closed by an import inside a function, or through ``from . import x`` of a
    package ``__init__``, is still found."""
    pkg = tmp_path / "fake"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from .top import Top\n")
    (pkg / "top.py").write_text("from .low import helper\n\nclass Top: ...\n")
    (pkg / "low.py").write_text("def helper() -> None:\n    from . import top  # lazily\n")
    (pkg / "leaf.py").write_text("X = 1\n")
    g = import_graph(pkg)
    assert g["fake.low"] == {"fake", "fake.top"}
    assert find_cycles(g) == [["fake", "fake.low", "fake.top"]]
    (pkg / "low.py").write_text("def helper() -> None:\n    import fake.leaf\n")
    assert find_cycles(import_graph(pkg)) == []


# ---- the rules on mls_pq -----------------------------------------------------------------


def test_no_import_cycles(graph: dict[str, set[str]]) -> None:
    cycles = find_cycles(graph)
    assert not cycles, "import cycles among mls_pq modules:\n" + _describe(cycles, graph)


def test_engine_imports_no_tool(graph: dict[str, set[str]]) -> None:
    bad = sorted(
        f"{m} -> {t}" for m, ts in graph.items() if not _within(m, TOOLS) for t in ts if _within(t, TOOLS)
    )
    assert not bad, "engine modules importing bench/vectors/interop/simulate/cli:\n" + "\n".join(bad)


def test_wire_structs_import_only_the_low_layer(graph: dict[str, set[str]]) -> None:
    assert any(m.startswith("mls_pq.messages.") for m in graph)  # the rule has something to check
    allowed = LOW_LAYER + LOW_LAYER_MAY_ALSO_IMPORT
    bad = sorted(f"{m} -> {t}" for m, ts in graph.items() if _within(m, LOW_LAYER) for t in ts if not _within(t, allowed))
    assert not bad, "low-layer (wire struct) modules importing protocol logic:\n" + "\n".join(bad)


def test_engine_never_imports_the_top_level_package(graph: dict[str, set[str]]) -> None:
    bad = sorted(m for m, ts in graph.items() if m != "mls_pq" and not _within(m, TOOLS) and "mls_pq" in ts)
    assert not bad, "engine modules importing the package mls_pq itself (import the submodule):\n" + "\n".join(bad)


def test_rules_are_not_vacuous(graph: dict[str, set[str]]) -> None:
    """The graph is the real one: the group engine imports the tree, the CLI imports the
    group, and an edge added by hand shows up as a cycle."""
    assert "mls_pq.tree.ratchet_tree" in graph["mls_pq.treekem"]
    assert graph["mls_pq.cli"]
    broken = {m: set(ts) for m, ts in graph.items()}
    broken["mls_pq.codec"].add("mls_pq.group.member")
    assert any("mls_pq.codec" in c and "mls_pq.group.member" in c for c in find_cycles(broken))


def implementation_names_in(source: str) -> list[str]:
    """Identifiers and string constants (not docstrings) of ``source`` naming another MLS
    implementation."""
    tree = ast.parse(source)
    docstrings = {
        id(n.body[0].value)
        for n in ast.walk(tree)
        if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)
    }
    out = []
    for n in ast.walk(tree):
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings:
            text = n.value
        elif isinstance(n, ast.Name):
            text = n.id
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            text = n.name
        elif isinstance(n, ast.alias):
            text = n.asname or n.name
        else:
            continue
        if IMPLEMENTATION_NAMES.search(text):
            out.append(f"line {getattr(n, 'lineno', '?')}: {text!r}")
    return out


def test_implementation_name_finder() -> None:
    assert implementation_names_in('"""Like OpenMLS."""\n# ts-mls does this\nX = 1\n') == []
    assert implementation_names_in('QUIRKY = frozenset({"ts-mls-1.6"})\n') == ["line 1: 'ts-mls-1.6'"]
    assert implementation_names_in("def for_openmls() -> None: ...\n") == ["line 1: 'for_openmls'"]


def test_engine_names_no_implementation() -> None:
    bad: list[str] = []
    for m, p in modules_of(ROOT).items():
        if _within(m, TOOLS) or m in PROFILE_TABLES:
            continue
        bad.extend(f"{m} {hit}" for hit in implementation_names_in(p.read_text(encoding="utf-8")))
    assert not bad, "engine code naming another implementation (make it a profile quirk):\n" + "\n".join(bad)


REEXPORT_ONLY = ("mls_pq.group", "mls_pq.vectors", "mls_pq.messages", "mls_pq.tree")


def test_package_inits_only_reexport() -> None:
    mods = modules_of(ROOT)
    bad = []
    for pkg in REEXPORT_ONLY:
        body = ast.parse(mods[pkg].read_text(encoding="utf-8")).body
        for i, node in enumerate(body):
            docstring = i == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            all_list = isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["__all__"]
            if not (docstring or all_list or isinstance(node, (ast.Import, ast.ImportFrom))):
                bad.append(f"{pkg}/__init__.py line {node.lineno}: {type(node).__name__}")
    assert not bad, "package __init__ files with more than re-exports:\n" + "\n".join(bad)
