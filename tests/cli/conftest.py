"""Fixtures for the CLI tests: run ``jwtkit.cli.main`` in-process, and key files on disk."""

import io
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from jwtkit import Key
from jwtkit.cli import main


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys, monkeypatch):
    """``cli("decode", token, stdin=...)`` runs the command and returns its exit code and output."""

    def run(*argv: str, stdin: str | None = None) -> Result:
        if stdin is not None:
            monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = main(list(argv))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture(scope="session")
def es256_key() -> Key:
    return Key.generate("ES256", kid="es-1")


def write_jwk(path: Path, key: Key, *, private: bool) -> Path:
    path.write_text(json.dumps(key.to_jwk(private=private)))
    return path


@pytest.fixture
def signing_jwk(tmp_path, es256_key) -> Path:
    return write_jwk(tmp_path / "signing.jwk", es256_key, private=True)


@pytest.fixture
def verify_jwk(tmp_path, es256_key) -> Path:
    return write_jwk(tmp_path / "verify.jwk", es256_key.public_key(), private=False)
