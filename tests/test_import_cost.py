"""``import jwtkit`` loads only what the token core needs (behaviour, not timing: the figures are
in ``benchmarks/bench_import.py`` and the README)."""

import subprocess
import sys


def modules_after(code: str) -> set[str]:
    """The modules a fresh interpreter has loaded after running ``code``."""
    script = f"{code}\nimport sys\nprint('\\n'.join(sys.modules))"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60)
    return set(result.stdout.split())


def test_import_jwtkit_does_not_load_the_certificate_machinery():
    assert "cryptography.x509" not in modules_after("import jwtkit")



def test_jwtkit_version_loads_neither_the_server_stack_nor_asyncio():
    loaded = modules_after("from jwtkit.cli import main\nimport contextlib, io\n"
                           "with contextlib.redirect_stdout(io.StringIO()): main(['--version'])")
    assert not loaded & {"asyncio", "fastapi", "uvicorn", "sqlalchemy", "jwtkit.wiring", "cryptography.x509"}
