"""keygen, encode and decode import only the token core, never the server stack."""

import json
import subprocess
import sys

import pytest

from jwtkit import Key

SERVER_STACK = (
    "fastapi",
    "starlette",
    "uvicorn",
    "sqlalchemy",
    "aiosqlite",
    "asyncpg",
    "redis",
    "argon2",
    "pydantic",
    "httpx",
    "anyio",
    "jwtkit.auth",
    "jwtkit.storage",
    "jwtkit.web",
    "jwtkit.integrations",
    "jwtkit.wiring",
)


def imported_modules(*argv: str) -> set[str]:
    """Every module ``python -X importtime -m jwtkit ARGV`` imports, read from its import log."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "jwtkit", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return {line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}


def server_modules_in(modules: set[str]) -> set[str]:
    return {m for m in modules if any(m == s or m.startswith(s + ".") for s in SERVER_STACK)}


def test_the_import_log_is_read_correctly():
    modules = imported_modules("decode", "--help")

    assert {"jwtkit", "jwtkit.cli", "jwtkit.cli.decode", "cryptography"} <= modules


@pytest.mark.parametrize("command", ["keygen", "encode", "decode"])
def test_help_of_a_core_command_imports_no_server_module(command):
    assert server_modules_in(imported_modules(command, "--help")) == set()


def test_a_full_keygen_encode_decode_run_imports_no_server_module(tmp_path):
    key = Key.generate("ES256", kid="k")
    (tmp_path / "signing.jwk").write_text(json.dumps(key.to_jwk(private=True)))
    (tmp_path / "verify.jwk").write_text(json.dumps(key.public_key().to_jwk()))
    token = subprocess.run(
        [sys.executable, "-m", "jwtkit", "encode", "--key", str(tmp_path / "signing.jwk"), "{}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.strip()

    modules = (
        imported_modules("keygen", "--alg", "ES256")
        | imported_modules("encode", "--key", str(tmp_path / "signing.jwk"), "--exp", "5m", '{"sub": "1"}')
        | imported_modules("decode", token, "--key", str(tmp_path / "verify.jwk"))
    )

    assert "jwtkit.cli.decode" in modules
    assert server_modules_in(modules) == set()
