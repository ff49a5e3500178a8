"""The shape of the package, from its own imports: no import cycle; the engine, the levers
and the route choosers never import the scenario schema; the CLI uses only the public
API; and the command line starts without the heavy libraries."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import flowsim

PACKAGE = Path(flowsim.__file__).parent
# The modules that read only the compiled network: never the scenario's models.
COMPILED_ONLY = ("flowsim.engine", "flowsim.levers", "flowsim.choice", "flowsim.lots")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports(path: Path, *, top_level_only: bool) -> set[str]:
    """The flowsim modules a file imports when it runs (not for type checkers): at its
    top level only, or anywhere (functions included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and _type_checking(node):
                visit(node.orelse)
                continue
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name.startswith("flowsim"))
            elif (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.level == 0
                and node.module.startswith("flowsim")
            ):
                found.add(node.module)
                for alias in node.names:  # `from flowsim import tables` is a module
                    candidate = f"{node.module}.{alias.name}"
                    if candidate in MODULES:
                        found.add(candidate)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                if not top_level_only:
                    visit(node.body)
                continue
            for field in ("body", "orelse", "finalbody", "handlers"):
                children = getattr(node, field, None)
                if isinstance(children, list):
                    visit([c for c in children if isinstance(c, ast.stmt)] or [])
                    for handler in children:
                        if isinstance(handler, ast.ExceptHandler):
                            visit(handler.body)

    visit(tree.body)
    return found


FILES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
MODULES = set(FILES)


def graph(top_level_only: bool) -> dict[str, set[str]]:
    edges = {}
    for name, path in FILES.items():
        targets = set()
        for target in imports(path, top_level_only=top_level_only):
            # `import flowsim.x.y` also runs flowsim.x: keep the module itself.
            if target in MODULES and target != name:
                targets.add(target)
        edges[name] = targets
    return edges


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt == "flowsim":  # the package's lazy names import nothing at import time
                continue
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if state.get(nxt) is None:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if state.get(node) is None:
            found = visit(node)
            if found:
                return found
    return None


def test_the_walk_sees_imports_and_cycles():
    """The checks below can fail: they see what a module imports, and a cycle."""
    core = imports(FILES["flowsim.engine.core"], top_level_only=True)
    assert {"flowsim.levers", "flowsim.lots", "flowsim.network"} <= core
    network = imports(FILES["flowsim.network"], top_level_only=False)
    assert "flowsim.schema" not in network  # only for type checkers
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_package_has_no_import_cycle():
    assert find_cycle(graph(top_level_only=True)) is None


def test_no_module_imports_another_that_imports_it_back_even_from_a_function():
    cycle = find_cycle(graph(top_level_only=False))
    assert cycle is None, " -> ".join(cycle)


@pytest.mark.parametrize(
    "module", sorted(m for m in MODULES if m.startswith(COMPILED_ONLY)), ids=str
)
def test_engine_lever_and_chooser_modules_never_import_the_schema(module):
    found = imports(FILES[module], top_level_only=False)
    assert not {"flowsim.schema", "flowsim.scenario", "flowsim.checks"} & found, found


def test_the_cli_imports_only_the_public_api():
    tree = ast.parse(FILES["flowsim.cli"].read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("flowsim"):
            assert node.module == "flowsim", f"flowsim.cli imports {node.module}"
            names = {a.name for a in node.names}
            assert names <= set(flowsim.__all__), names - set(flowsim.__all__)
        elif isinstance(node, ast.Import):
            assert all(a.name == "flowsim" or not a.name.startswith("flowsim") for a in node.names)
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "flowsim"
        ):
            assert node.attr in flowsim.__all__, f"flowsim.{node.attr} is not public"


def test_every_public_name_resolves():
    for name in flowsim.__all__:
        assert getattr(flowsim, name) is not None
    assert sorted(flowsim.__all__) == sorted(["__version__", *flowsim._PUBLIC])


def test_the_command_line_starts_without_pandas_simpy_or_matplotlib():
    code = (
        "import sys, flowsim.cli; "
        "heavy = [m for m in ('pandas', 'numpy', 'simpy', 'matplotlib', 'scipy') "
        "if m in sys.modules]; print(heavy)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_validating_a_scenario_needs_neither_pandas_nor_simpy(tmp_path):
    code = (
        "import sys; from flowsim.cli import main; "
        "code = main(['validate', 'scenarios/venezuela_sanctions.toml']); "
        "print([m for m in ('pandas', 'simpy', 'matplotlib') if m in sys.modules], code)"
    )
    root = PACKAGE.parent
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    )
    assert done.stdout.strip().splitlines()[-1] == "[] 0"
