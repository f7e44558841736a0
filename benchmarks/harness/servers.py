"""Server processes for the benchmarks: the tests' own helpers (``tests/web/processes.py``, loaded by
its path), started with this checkout's ``src`` first on ``PYTHONPATH`` and no ``JWTKIT_*`` variables.

Why there: the start-up code lives once; the tests never import ``benchmarks/``; and the installed
package carries no test machinery (a ``jwtkit._testing`` module would ship a process launcher in every
wheel, for the sake of two folders that only exist in a checkout, where ``tests/`` is always present).

``running(command, log, ...)`` starts any server command in its own process group and yields a
``Server`` (``url``, ``port``, ``pid``) once it answers; ``jwtkit_serve(log, *args)`` does it for
``jwtkit serve``. Leaving the ``with`` block stops the process group (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from harness import ROOT

HOST = "127.0.0.1"


def _load_processes() -> Any:
    name = "_jwtkit_tests_web_processes"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "tests" / "web" / "processes.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


processes = _load_processes()
Server = processes.Server
free_port = processes.free_port


def checkout_env(**extra: str) -> dict[str, str]:
    """The environment without ``JWTKIT_*`` variables, this checkout's ``src`` first on PYTHONPATH."""
    env: dict[str, str] = processes.clean_env(**extra)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "src"), env.get("PYTHONPATH", "")) if p)
    return env


@contextlib.contextmanager
def running(command: list[str], log: Path, *, env: dict[str, str] | None = None, **options: Any) -> Iterator[Any]:
    """``processes.running`` in :func:`checkout_env` (``url=``, ``listening=``, ``ready_path=``, ``cwd=``)."""
    with processes.running(command, log, env=checkout_env() if env is None else env, **options) as server:
        yield server


@contextlib.contextmanager
def jwtkit_serve(log: Path, *args: str, port: int = 0, prefix: list[str] | None = None) -> Iterator[Any]:
    """``jwtkit serve --host 127.0.0.1 --port PORT ARGS`` of this checkout, ``prefix`` (pinning) first."""
    with processes.jwtkit_serve(log, *args, port=port, prefix=tuple(prefix or ()), env=checkout_env()) as server:
        yield server


@contextlib.contextmanager
def private_redis(workdir: Path) -> Iterator[str]:
    """A ``redis-server`` of our own on a free port, without persistence; yields its URL."""
    redis = processes.PrivateRedis(workdir)
    redis.start()
    try:
        yield redis.url
    finally:
        redis.stop()
