"""A command that needs an optional dependency which is not installed names the extra to
install (exit status 2), never a ModuleNotFoundError traceback. The missing module is simulated
in a fresh interpreter with ``sys.modules[name] = None`` (what Python does for a blocked import)."""

import subprocess
import sys

import pytest

from jwtkit.cli.extras import missing_extra_message


def run_without(module: str, *argv: str) -> subprocess.CompletedProcess[str]:
    script = (
        "import sys\n"
        f"sys.modules[{module!r}] = None\n"
        "from jwtkit.cli import main\n"
        f"sys.exit(main({list(argv)!r}))\n"
    )
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("module", ["uvicorn", "fastapi", "sqlalchemy", "aiosqlite", "argon2"])
def test_serve_without_the_server_stack_names_the_server_extra(module, tmp_path):
    result = run_without(module, "serve", "--database", str(tmp_path / "auth.db"), "--port", "0")
    assert result.returncode == 2
    assert "the server needs the server extra: pip install 'jwtkit[server]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_postgresql_database_without_asyncpg_names_the_postgres_extra():
    # Port 1: nothing listens there, and the driver's import fails before any connection anyway.
    result = run_without("asyncpg", "serve", "--database", "postgresql://127.0.0.1:1/none", "--port", "0")
    assert result.returncode == 2
    assert "needs the postgres extra: pip install 'jwtkit[postgres]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_redis_without_its_client_names_the_redis_extra():
    result = run_without("redis", "keys", "rotate", "--database", "memory://", "--redis", "redis://127.0.0.1:1/0")
    assert result.returncode == 2
    assert "--redis needs the redis extra: pip install 'jwtkit[redis]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_module_that_no_extra_supplies_is_not_disguised_as_one():
    assert missing_extra_message(ModuleNotFoundError("No module named 'numpy'", name="numpy")) is None


def test_the_token_commands_need_no_extra():
    result = run_without("fastapi", "keygen", "--alg", "ES256")
    assert result.returncode == 0, result.stderr
