"""The storage adapters do not know each other: the memory, SQL and Redis backends import only the
modules every backend shares (choosing and combining them is jwtkit.wiring's job)."""

import ast
from pathlib import Path

STORAGE = Path(__file__).resolve().parents[2] / "src" / "jwtkit" / "storage"
BACKENDS = {"memory": [STORAGE / "memory.py"], "sql": sorted((STORAGE / "sql").glob("*.py")),
            "redis": sorted((STORAGE / "redis").glob("*.py"))}


def storage_modules_imported_by(path: Path) -> set[str]:
    """The ``jwtkit.storage`` modules ``path`` imports, relative imports resolved."""
    package = ["jwtkit", *path.relative_to(STORAGE.parent).with_suffix("").parts[:-1]]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *(node.module.split(".") if node.module else [])])
            names = [module] if node.module else [f"{module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found.update(name for name in names if name.startswith("jwtkit.storage."))
    return found


def test_no_storage_backend_imports_another_backend():
    for backend, paths in BACKENDS.items():
        others = {f"jwtkit.storage.{other}" for other in BACKENDS if other != backend}
        for path in paths:
            crossing = {name for name in storage_modules_imported_by(path)
                        if any(name == other or name.startswith(other + ".") for other in others)}
            assert crossing == set(), f"{path.relative_to(STORAGE)} imports {crossing}"


def test_the_relative_imports_are_seen():
    assert "jwtkit.storage.in_process" in storage_modules_imported_by(STORAGE / "memory.py")
    assert "jwtkit.storage.sql.engine" in storage_modules_imported_by(STORAGE / "sql" / "store.py")
