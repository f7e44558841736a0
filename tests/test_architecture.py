"""Dependencies point one way and never in a circle: the token core imports only the standard
library, ``cryptography`` and ``jwtkit.errors`` (STYLE.md §2, §3), no layer imports a layer
above it, and the modules of ``jwtkit`` import each other without a cycle."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "jwtkit"
CORE_ALLOWED_THIRD_PARTY = {"cryptography"}
# cli -> wiring -> web -> auth -> core -> errors; storage implements auth's ports. The JWKS clients
# sit on the core (the core declares the KeySource they implement); the integrations for users'
# own apps use the core and the JWKS clients only, never the auth server's layers.
_BASE = {"errors", "core"}
ALLOWED = {
    "errors": {"errors"},
    "core": _BASE,
    "jwks": _BASE | {"jwks"},
    "auth": _BASE | {"auth"},
    "storage": _BASE | {"auth", "storage"},
    "web": _BASE | {"auth", "web"},
    # Integrations bring their framework's users and storage: the token core (and the JWKS client) only,
    # never the auth server.
    "integrations": _BASE | {"jwks", "integrations"},
    "client": _BASE | {"client"},  # for users' own apps: the token core only, never the server
    "wiring": _BASE | {"jwks", "auth", "storage", "web", "integrations", "wiring"},
    "cli": _BASE | {"jwks", "auth", "storage", "web", "integrations", "wiring", "cli"},
}
LAYERS = list(ALLOWED)

# Import cycles that exist today, each as the set of modules it runs through. A cycle found must lie
# inside one of these; any other cycle fails. None is left: keep it that way.
KNOWN_CYCLES: list[frozenset[str]] = []


# ---------------------------------------------------------------------- reading imports
def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
    return ".".join(parts)


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py")}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


class _ImportCollector(ast.NodeVisitor):
    """Every import statement; with ``skip_type_checking`` not those under ``if TYPE_CHECKING``
    (annotations only: they never run); with ``at_import_time`` only those that run when the module is
    imported (not inside a function, not under ``if TYPE_CHECKING``)."""

    def __init__(self, at_import_time: bool, *, skip_type_checking: bool) -> None:
        self.at_import_time = at_import_time
        self.skip_type_checking = skip_type_checking
        self.found: list[ast.Import | ast.ImportFrom] = []

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> None:
        self.found.append(node)

    visit_ImportFrom = visit_Import

    def visit_If(self, node: ast.If) -> None:
        if (self.at_import_time or self.skip_type_checking) and _is_type_checking(node):
            for statement in node.orelse:
                self.visit(statement)
        else:
            self.generic_visit(node)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        if not self.at_import_time:
            self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef


def _absolute(module: str, path: Path, node: ast.ImportFrom) -> str:
    """The absolute module a ``from`` import names, relative ones (``from .keys import Key``) included."""
    if node.level == 0:
        return node.module or ""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imports_of(path: Path, *, at_import_time: bool = False, runnable: bool = False) -> set[str]:
    """The modules ``path`` imports, absolute and relative; ``from package import module`` names the module.
    ``runnable`` leaves out type-only imports (what a cycle of real dependencies is made of)."""
    collector = _ImportCollector(at_import_time, skip_type_checking=runnable)
    collector.visit(ast.parse(path.read_text(encoding="utf-8")))
    module = module_name(path)
    names: set[str] = set()
    for node in collector.found:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
            continue
        base = _absolute(module, path, node)
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            names.add(submodule if submodule in MODULES else base)
    return names


def import_graph(*, lazy: bool = False) -> dict[str, set[str]]:
    """Module -> the ``jwtkit`` modules it imports when it is imported (with ``lazy``, also inside functions)."""
    return {
        module: {target for target in imports_of(path, at_import_time=not lazy, runnable=True) if target in MODULES}
        for module, path in MODULES.items()
    }


def cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components that hold a cycle (Tarjan), each as a set of modules."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                found.append(frozenset(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def unknown_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    return [sorted(cycle) for cycle in cycles(graph) if not any(cycle <= known for known in KNOWN_CYCLES)]


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "jwtkit" or len(parts) < 2:
        return None
    return parts[1] if parts[1] in LAYERS else None


# ---------------------------------------------------------------------- the rules
def test_core_imports_only_stdlib_cryptography_and_errors():
    for path in (PACKAGE / "core").rglob("*.py"):
        for module in imports_of(path):
            top = module.split(".")[0]
            if top == "jwtkit":
                assert module in ("jwtkit.errors",) or module.startswith("jwtkit.core"), (path.name, module)
            else:
                assert top in sys.stdlib_module_names or top in CORE_ALLOWED_THIRD_PARTY, (path.name, module)


def test_no_layer_imports_a_layer_above_it():
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE).with_suffix("")
        own = relative.parts[0]
        if own not in LAYERS:
            continue
        for module in imports_of(path):
            target = layer_of(module)
            if target is not None:
                assert target in ALLOWED[own], f"{relative} imports {module}"


def test_relative_imports_are_resolved_to_the_modules_they_name():
    imported = imports_of(PACKAGE / "core" / "keyset.py")
    assert {"jwtkit.core.keys", "jwtkit.core.jwk", "jwtkit.errors"} <= imported


def test_a_cycle_is_found_however_long_it_is():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert sorted(sorted(cycle) for cycle in cycles(graph)) == [["a", "b", "c"], ["e"]]


def test_the_package_imports_itself_without_a_cycle():
    assert unknown_cycles(import_graph()) == []


def _in_layer(module: str, layer: str) -> bool:
    return module == f"jwtkit.{layer}" or module.startswith(f"jwtkit.{layer}.")


@pytest.mark.parametrize("layer", LAYERS)
def test_no_layer_has_an_import_cycle_inside_it_not_even_through_imports_inside_functions(layer):
    # An import moved into a function only hides a cycle from the interpreter; the modules still
    # need each other. The same rule for every layer; only the known cycles above are let through.
    inside = {
        module: {target for target in targets if _in_layer(target, layer)}
        for module, targets in import_graph(lazy=True).items()
        if _in_layer(module, layer)
    }
    assert unknown_cycles(inside) == []


def test_the_core_knows_no_cycle_at_all():
    assert not any(module.startswith("jwtkit.core") for cycle in KNOWN_CYCLES for module in cycle)


def test_core_modules_make_no_bare_calls_at_import_time():
    for path in (PACKAGE / "core").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
                raise AssertionError(f"{path.name}:{node.lineno} calls something at import time")
