"""The code's shape: data flows one way (no import cycle), modules stay small, and the command line
starts without loading what it does not need."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "src" / "reallocate"


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT.parent).with_suffix("")
        name = ".".join(rel.parts)
        out[name.removesuffix(".__init__")] = path
    return out


def _runtime_imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Modules of the package that ``name`` imports when it runs: module level and inside
    functions, but not under ``if TYPE_CHECKING``; importing a submodule also runs its package."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()

    def resolve(level: int, module: str | None) -> str:
        parts = name.split(".") if is_package else name.split(".")[:-1]
        if level > 1:
            parts = parts[: len(parts) - (level - 1)]
        return ".".join(parts + ([module] if module else []))

    class Visitor(ast.NodeVisitor):
        def visit_If(self, node: ast.If) -> None:
            test = node.test
            if (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
                isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
            ):
                for child in node.orelse:
                    self.visit(child)
                return
            self.generic_visit(node)

        def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
            base = resolve(node.level, node.module) if node.level else (node.module or "")
            if not base.startswith("reallocate"):
                return
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in known else base)

        def visit_Import(self, node: ast.Import) -> None:
            found.update(a.name for a in node.names if a.name.startswith("reallocate"))

    Visitor().visit(ast.parse(path.read_text(encoding="utf-8")))
    # importing a.b.c runs a.b first (the root package's own imports are lazy)
    for target in list(found):
        parts = target.split(".")
        found.update(".".join(parts[:k]) for k in range(2, len(parts)))
    return {m for m in found if m in known and m != name and m != "reallocate" and not name.startswith(m + ".")}


def test_no_import_cycle() -> None:
    modules = _modules()
    graph = {name: _runtime_imports(name, path, set(modules)) for name, path in modules.items()}
    state: dict[str, int] = {}
    trail: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        trail.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = [*trail[trail.index(nxt) :], nxt]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        trail.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)


def test_modules_stay_small() -> None:
    # a module that grows past ~800 lines becomes a package of smaller ones
    big = {
        str(path.relative_to(ROOT)): n
        for path in ROOT.rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > 800
    }
    assert not big, big


def _imported_by(*args: str) -> set[str]:
    """Top-level modules loaded by ``python -m reallocate ARGS`` (from ``-X importtime``)."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "reallocate", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    names = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


def test_help_loads_nothing_heavy() -> None:
    loaded = _imported_by("--help")
    assert not loaded & {"numpy", "pandas", "pydantic", "pulp", "highspy", "matplotlib", "openpyxl", "pyarrow"}


def test_a_province_solve_loads_no_charts_workbooks_or_pulp(tmp_path: Path) -> None:
    import reallocate

    path = tmp_path / "qn.json"
    path.write_text(reallocate.datasets.quang_nam_2023().to_json(), encoding="utf-8")
    loaded = _imported_by("solve", str(path), "--format", "json")
    assert not loaded & {"matplotlib", "openpyxl", "pulp"}, loaded & {"matplotlib", "openpyxl", "pulp"}
