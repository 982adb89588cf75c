"""The shape of the code: no import cycle, and the layers point one way.

The import graph is read from the source with `ast`, without importing anything. An edge is a
module-level import (including those in class bodies and module-level `if`/`try` blocks, which
run at import time); imports inside functions run late, are allowed, and are listed apart.
Importing `a.b.c` counts as an edge to `a.b.c` only, not to the packages above it.

Layers (docs/architecture.md): `config` (the project: settings, site shell, shared API
plumbing) may import both apps; `reports` may import `tracker` but not its pages or its API;
`tracker`, the lower layer, imports nothing from `reports`.
"""

import ast
import itertools
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("config", "tracker", "reports")


@dataclass
class ImportGraph:
    modules: set[str] = field(default_factory=set)
    # module → {imported module: line}, module-level imports among our own modules
    edges: dict[str, dict[str, int]] = field(default_factory=dict)
    # module → {imported module: line}, imports inside functions, any target
    late: dict[str, dict[str, int]] = field(default_factory=dict)
    # module → {imported name: line}, every import, ours or not, at any level
    every: dict[str, dict[str, int]] = field(default_factory=dict)


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imported(node: ast.AST, module: str, is_package: bool) -> list[str]:
    """Dotted names an import statement brings in (`from x import y` gives x.y)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    assert isinstance(node, ast.ImportFrom)
    base = node.module or ""
    if node.level:
        package = module.split(".") if is_package else module.split(".")[:-1]
        package = package[: len(package) - (node.level - 1)]
        base = ".".join([*package, base] if base else package)
    return [f"{base}.{alias.name}" for alias in node.names]


def _walk(tree: ast.Module):
    """Yield (import node, at module level?) for every import in the tree."""

    def visit(node: ast.AST, late: bool):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                yield child, late
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                yield from visit(child, True)
            elif isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            else:
                yield from visit(child, late)

    yield from visit(tree, False)


def _resolve(name: str, modules: set[str]) -> str | None:
    """The module of ours a dotted name refers to (the longest known prefix), or None."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


def build_graph(root: Path, packages: tuple[str, ...]) -> ImportGraph:
    graph = ImportGraph()
    files = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            name = _module_name(root, path)
            files[name] = path
            graph.modules.add(name)
    for name, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        edges = graph.edges.setdefault(name, {})
        late = graph.late.setdefault(name, {})
        every = graph.every.setdefault(name, {})
        for node, is_late in _walk(tree):
            for target in _imported(node, name, is_package):
                every.setdefault(target, node.lineno)
                ours = _resolve(target, graph.modules)
                if ours is None or ours == name:
                    continue
                (late if is_late else edges).setdefault(ours, node.lineno)
    return graph


def find_cycles(graph: ImportGraph) -> list[list[str]]:
    """Every strongly connected component with more than one module, as a closed path."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = [0]

    def strongconnect(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in graph.edges.get(node, {}):
            if target not in index:
                strongconnect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(_cycle_path(graph, set(component)))

    for module in sorted(graph.modules):
        if module not in index:
            strongconnect(module)
    return components


def _cycle_path(graph: ImportGraph, component: set[str]) -> list[str]:
    """One closed path through a strongly connected component, for the failure message."""
    start = min(component)
    path, seen = [start], {start}
    node = start
    while True:
        targets = sorted(t for t in graph.edges.get(node, {}) if t in component)
        back = start if start in targets else None
        following = back or next((t for t in targets if t not in seen), targets[0])
        path.append(following)
        if following in seen:
            return path
        seen.add(following)
        node = following


def forbidden_imports(graph: ImportGraph) -> list[str]:
    """Imports that cross a layer the wrong way, at any level (module or function)."""
    found = []
    for module, targets in sorted(graph.every.items()):
        for target, line in sorted(targets.items()):
            top = target.split(".")[0]
            if module.split(".")[0] == "tracker" and top == "reports":
                found.append(f"{module}:{line} imports {target} (tracker must not use reports)")
            if module.split(".")[0] == "reports" and target.startswith(
                ("tracker.api", "tracker.web")
            ):
                found.append(f"{module}:{line} imports {target} (another app's API or pages)")
    return found


def _describe(cycles: list[list[str]], graph: ImportGraph) -> str:
    lines = []
    for cycle in cycles:
        hops = [
            f"{a} → {b} (line {graph.edges[a][b]})" for a, b in itertools.pairwise(cycle)
        ]
        lines.append("import cycle:\n  " + "\n  ".join(hops))
    return "\n".join(lines)


# --- the project --------------------------------------------------------------------------


def test_no_import_cycle_among_module_level_imports():
    """Fails, printing the cycle, if module-level imports of config/, tracker/ and reports/
    form a circle (such as tracker.tasks ↔ the notification services)."""
    graph = build_graph(ROOT, PACKAGES)
    cycles = find_cycles(graph)
    assert not cycles, _describe(cycles, graph)


def test_layers_point_one_way():
    """Fails if reports imports tracker's API or pages, or tracker imports reports at all."""
    found = forbidden_imports(build_graph(ROOT, PACKAGES))
    assert found == [], "\n".join(found)


def test_late_imports_are_listed_apart_and_do_not_reach_into_celery_tasks():
    """Services queue Celery tasks by name: no module imports tracker.tasks, even late (the
    tasks import the services, never the reverse)."""
    graph = build_graph(ROOT, PACKAGES)
    importers = sorted(
        module
        for module in graph.modules
        if "tracker.tasks" in graph.edges.get(module, {})
        or "tracker.tasks" in graph.late.get(module, {})
    )
    assert importers == []


# --- the checker itself: it can fail -----------------------------------------------------


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_the_checker_finds_a_cycle_and_ignores_late_imports(tmp_path):
    """A cycle through module-level imports is reported as a closed path; the same import made
    inside a function is listed as late and breaks no rule."""
    _write(tmp_path, {
        "tracker/__init__.py": "",
        "tracker/tasks.py": "from tracker.services import notify\n",
        "tracker/services/__init__.py": "",
        "tracker/services/notify.py": "from tracker import tasks\n",
        "tracker/services/late.py": "def f():\n    from tracker import tasks\n",
    })
    graph = build_graph(tmp_path, ("tracker",))
    assert find_cycles(graph) == [
        ["tracker.services.notify", "tracker.tasks", "tracker.services.notify"]
    ]
    assert graph.late["tracker.services.late"] == {"tracker.tasks": 2}
    assert "tracker.tasks" not in graph.edges["tracker.services.late"]
    assert "tracker.services.notify → tracker.tasks (line 1)" in _describe(
        find_cycles(graph), graph
    )


def test_the_checker_finds_imports_across_layers(tmp_path):
    """reports importing tracker.web (even inside a function) and tracker importing reports are
    both reported; reports importing tracker's models is fine."""
    _write(tmp_path, {
        "tracker/__init__.py": "",
        "tracker/web/__init__.py": "",
        "tracker/web/views.py": "",
        "tracker/models.py": "",
        "tracker/figures.py": "from reports.models import Report\n",
        "reports/__init__.py": "",
        "reports/models.py": "from tracker.models import Task\n",
        "reports/views.py": "def f():\n    from tracker.web.views import home\n",
    })
    found = forbidden_imports(build_graph(tmp_path, ("tracker", "reports")))
    assert found == [
        "reports.views:2 imports tracker.web.views.home (another app's API or pages)",
        "tracker.figures:1 imports reports.models.Report (tracker must not use reports)",
    ]
