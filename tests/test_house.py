"""The house rules, checked on the code itself: imports go one way, no two modules and no two
rooms import each other, and no product module grows past what a reader takes in.

Imports go ``retention`` → ``offers`` → ``subscribers``; every app may import ``retention.core``,
which imports no app. "Product modules" are the apps' Python files apart from migrations; demo
data and the benchmark are exempt from the size limit only.
"""

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("retention", "offers", "subscribers")
MAX_LINES = 600
SIZE_EXEMPT = ("retention.demo", "retention.bench")


def product_modules() -> dict[str, Path]:
    found = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "migrations" in parts:
                continue
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = product_modules()


def imports_of(path: Path, module: str) -> Iterator[tuple[str, int]]:
    """Every product module that ``module`` imports, with the line, wherever the import stands
    (a function-level import is an import too)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            # `from a.b import c` imports the module a.b.c when there is one, else names of a.b.
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            if target.split(".")[0] in APPS:
                yield target, node.lineno


def app_of(module: str) -> str:
    return "retention.core" if module.startswith("retention.core") else module.split(".")[0]


def test_imports_go_one_way():
    allowed = {
        "retention.core": set(),
        "subscribers": {"retention.core"},
        "offers": {"subscribers", "retention.core"},
        "retention": {"offers", "subscribers", "retention.core"},
    }
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {target}"
        for module, path in MODULES.items()
        for target, line in imports_of(path, module)
        if app_of(target) != app_of(module) and app_of(target) not in allowed[app_of(module)]
    ]
    assert wrong == []


def test_no_modules_import_each_other():
    graph = {
        module: {target for target, _ in imports_of(path, module) if target in MODULES} - {module}
        for module, path in MODULES.items()
    }
    cycles = [sorted(component) for component in strongly_connected(graph) if len(component) > 1]
    assert cycles == []


def room_of(module: str) -> str:
    """A room is a package of an app (``retention.cases``, ``offers``'s own modules are one room
    with the app); the project's own modules (``retention.urls``…) are the room ``retention``."""
    app, _, rest = module.partition(".")
    if app != "retention" or not rest:
        return app
    first = rest.split(".")[0]
    return f"retention.{first}" if (ROOT / "retention" / first).is_dir() else "retention"


def test_no_two_rooms_import_each_other():
    # The case page needs both cases and saves: it lives in a room above them (workspace), so
    # that saves may build on cases without cases reaching back.
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        targets = {room_of(target) for target, _ in imports_of(path, module)}
        graph.setdefault(room_of(module), set()).update(targets - {room_of(module)})
    for targets in list(graph.values()):
        for target in targets:
            graph.setdefault(target, set())
    cycles = [sorted(component) for component in strongly_connected(graph) if len(component) > 1]
    assert cycles == []


def test_no_product_module_is_longer_than_a_reader_takes_in():
    too_long = {
        str(path.relative_to(ROOT)): lines
        for module, path in MODULES.items()
        if not module.startswith(SIZE_EXEMPT)
        and (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert too_long == {}


def test_the_checks_see_the_code():
    # A walk that found nothing, or a cycle finder that finds none, would pass every rule above.
    assert len(MODULES) > 50
    edges = {(app_of(m), app_of(t)) for m, path in MODULES.items() for t, _ in imports_of(path, m)}
    assert {
        ("retention", "offers"),
        ("offers", "subscribers"),
        ("offers", "retention.core"),
    } <= edges
    assert room_of("retention.cases.views") == "retention.cases"
    assert room_of("retention.urls") == "retention"
    assert room_of("offers.lifecycle") == "offers"
    assert strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [
        {"a", "b", "c"},
        {"d"},
    ]


def strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative: the groups of modules that reach each other."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                components.append(component)
    return components
