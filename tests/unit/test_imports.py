"""The packages' import structure: no cycles (type-only imports count) and no module reaching
into another's private names (`from a.b import _helper`): what others need is public."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bridge", "tasks", "connectors")


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = modules()


def _absolute(module: str, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    is_package = MODULES[module].name == "__init__.py"
    base = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
    return ".".join([*base, node.module] if node.module else base)


def imports(module: str) -> Iterator[tuple[str, str | None]]:
    """(imported module, imported name or None) for every import in `module`, at any depth
    (inside functions and `if TYPE_CHECKING:` too)."""
    tree = ast.parse(MODULES[module].read_text("utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(module, node)
            for alias in node.names:
                yield source, alias.name


def edges(module: str, *, top_level_only: bool = False) -> set[str]:
    """The project modules `module` depends on (a submodule imported by name counts)."""
    found = set()
    for source, name in imports(module):
        target = f"{source}.{name}" if name and f"{source}.{name}" in MODULES else source
        if target in MODULES and target != module:
            found.add(target)
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
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
            elif child not in index:
                index[child] = low[child] = counter
                counter += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph.get(child, set())))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


def _is_ancestor(package: str, module: str) -> bool:
    return module.startswith(package + ".")


def test_no_import_cycles() -> None:
    # A package's __init__ importing its own submodules is how a package exposes them: the
    # edge from a submodule back to its own package is not a cycle of design.
    graph = {
        module: {t for t in edges(module) if not _is_ancestor(t, module)} for module in MODULES
    }
    assert cycles(graph) == []


def test_no_private_names_imported_across_modules() -> None:
    offenders = [
        f"{module} imports {name} from {source}"
        for module in MODULES
        for source, name in imports(module)
        if name
        and name.startswith("_")
        and not name.startswith("__")
        and (source in MODULES or source.split(".")[0] in PACKAGES)
        and source != module
    ]
    assert offenders == []


def test_the_checks_see_a_cycle_and_a_private_import() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
