"""segcore has no import circle, not even one dodged by importing inside a function (issue 16)."""

from __future__ import annotations

import ast
from pathlib import Path

SEGCORE = Path(__file__).resolve().parent.parent / "segcore"


def _graph() -> dict[str, set[str]]:
    graph = {}
    for path in SEGCORE.glob("*.py"):
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):  # top-level and inside functions
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                if node.module:
                    deps.add(node.module.split(".")[0])
                else:
                    deps |= {a.name for a in node.names}
        graph[path.stem] = deps - {path.stem}
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
