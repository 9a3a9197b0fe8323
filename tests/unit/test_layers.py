"""The layers of the code base: imports run only downward and never in a loop.

Every module of ``graph`` and ``api`` is parsed (not imported) and each of its imports, also
those inside functions, is checked against the layer order below: a module may import its own
layer and the layers under it. ``api`` reaches Neo4j only through ``graph`` and
``graph.resolution`` (the pure engine) and ``graph.normalize`` never import the driver.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: Bottom to top. A module's layer is its longest matching prefix; ``graph`` itself is the
#: infrastructure (settings, errors, db, migrate, localneo4j, models).
LAYERS: tuple[str, ...] = (
    "graph",
    "graph.normalize",
    "graph.resolution",
    "graph.store",
    "graph.ingest",
    "graph.services",
    "graph.demo",
    "graph.cli",
    "api",
)

#: Packages that must stay pure: no Neo4j driver, no web framework.
PURE = ("graph.normalize", "graph.resolution")
#: Third-party packages only the API layer may import.
WEB = ("strawberry", "starlette", "uvicorn", "graphql")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in ("graph", "api"):
        for path in sorted((ROOT / package).rglob("*.py")):
            found[_module_name(path)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> Iterator[tuple[str, int]]:
    """``(imported module, line)`` for every import in the file, relative ones resolved; a
    ``from package import name`` counts as importing ``package.name`` when that is a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                yield (full if full in MODULES else base), node.lineno


def _layer(module: str) -> int:
    best = -1
    for n, prefix in enumerate(LAYERS):
        if (module == prefix or module.startswith(prefix + ".")) and (
            best < 0 or len(prefix) > len(LAYERS[best])
        ):
            best = n
    return best


def _internal_edges() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {name: set() for name in MODULES}
    for name, path in MODULES.items():
        for target, _ in _imports(name, path):
            if target in MODULES and target != name:
                edges[name].add(target)
    return edges


def test_every_module_has_a_layer() -> None:
    assert [m for m in MODULES if _layer(m) < 0] == []


def test_imports_only_run_downward() -> None:
    upward = []
    for name, path in MODULES.items():
        for target, line in _imports(name, path):
            if target in MODULES and _layer(target) > _layer(name):
                upward.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    assert upward == []


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_loops() -> None:
    assert _cycles(_internal_edges()) == []


def test_the_loop_finder_finds_a_loop() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(edges) == [["a", "b", "c"]]


@pytest.mark.parametrize("module", [m for m in MODULES if m.startswith(PURE)])
def test_pure_layers_import_no_driver_and_no_web_framework(module: str) -> None:
    imported = {target.split(".")[0] for target, _ in _imports(module, MODULES[module])}
    assert imported.isdisjoint({"neo4j", *WEB})


@pytest.mark.parametrize("module", [m for m in MODULES if m.startswith("graph")])
def test_graph_knows_nothing_of_graphql(module: str) -> None:
    # ``c360 serve`` starts uvicorn on the app factory named as text: the only web import
    allowed = {"uvicorn"} if module.startswith("graph.cli") else set()
    imported = {target.split(".")[0] for target, _ in _imports(module, MODULES[module])}
    assert imported.isdisjoint(set(WEB) - allowed)


@pytest.mark.parametrize("module", [m for m in MODULES if m.startswith("api")])
def test_api_reaches_neo4j_only_through_graph(module: str) -> None:
    source = MODULES[module].read_text(encoding="utf-8")
    calls = [
        word
        for word in (
            ".session(",
            "execute_query(",
            "tx.run(",
            "execute_read(",
            "execute_write(",
            "begin_transaction(",
        )
        if word in source
    ]
    assert calls == []
