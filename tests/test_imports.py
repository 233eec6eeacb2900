"""segcore has no import circle, not even one dodged by importing inside a function (issue 16)."""

from __future__ import annotations

import ast
from pathlib import Path

SEGCORE = Path(__file__).resolve().parent.parent / "segcore"


def _module(path: Path) -> str:
    """A file's module name inside segcore: 'cluster', 'store._runs', 'store' for store/__init__.py."""
    parts = list(path.relative_to(SEGCORE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts) or "__init__"


def _graph() -> dict[str, set[str]]:
    files = {_module(p): p for p in SEGCORE.rglob("*.py")}
    packages = {_module(p) for p in SEGCORE.rglob("__init__.py")}

    def resolve(name: str) -> str | None:
        while name and name not in files:
            name = name.rpartition(".")[0]
        return name or None

    graph = {}
    for mod, path in files.items():
        package = mod if mod in packages else mod.rpartition(".")[0]
        if mod == "__init__":
            package = ""
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):  # top-level and inside functions
            if not (isinstance(node, ast.ImportFrom) and node.level):
                continue
            base = package.split(".") if package else []
            base = base[:len(base) - (node.level - 1)] if node.level > 1 else base
            stem = ".".join(base + ([node.module] if node.module else []))
            targets = [stem] if node.module else [".".join(filter(None, [stem, a.name])) for a in node.names]
            deps |= {t for t in map(resolve, targets) if t}
        graph[mod] = deps - {mod}
    return graph


def test_no_import_circle_in_segcore():
    graph = _graph()
    done, path = set(), []

    def visit(mod):
        if mod in path:
            raise AssertionError(" -> ".join(path[path.index(mod):] + [mod]))
        if mod in done or mod not in graph:
            return
        path.append(mod)
        for dep in sorted(graph[mod]):
            visit(dep)
        path.pop()
        done.add(mod)

    for mod in sorted(graph):
        if mod != "__init__":  # the package's lazy re-exports name every module
            visit(mod)


def test_segcore_never_imports_streamlit():
    for path in SEGCORE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names} | \
            {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        assert not any(str(n).split(".")[0] == "streamlit" for n in names), path


def test_the_graph_sees_imports_inside_packages():
    graph = _graph()
    assert "store" in graph["workflow._runs"] and "store._sql" in graph["store._runs"]
    assert "_common" in graph["store._features"] and "ingest._sniff" in graph["ingest"]

