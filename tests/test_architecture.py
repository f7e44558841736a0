"""Dependencies point one way: the token core imports only the standard library,
``cryptography`` and ``jwtkit.errors`` (STYLE.md §2, §3)."""

import ast
import sys
from pathlib import Path

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


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "jwtkit" or len(parts) < 2:
        return None
    return parts[1] if parts[1] in LAYERS else None


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


def test_core_modules_make_no_bare_calls_at_import_time():
    for path in (PACKAGE / "core").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
                raise AssertionError(f"{path.name}:{node.lineno} calls something at import time")
