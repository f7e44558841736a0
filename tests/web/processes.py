"""Real processes for the tests that need them: ``jwtkit serve`` servers (or any server command), a
private ``redis-server`` that a test may stop and start again, a TCP proxy a test can cut, and which
process owns a TCP connection (read from ``/proc``, so a test can tell which worker answered, or
which PostgreSQL backends are a server's). Every process started here is stopped by the context
manager that started it.

The benchmarks start their servers with this module too (``benchmarks/harness/servers.py`` loads it
by its path): the start-up code lives once, and the tests never depend on ``benchmarks/``."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

STARTUP_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def clean_env(**extra: str) -> dict[str, str]:
    """The test's environment without any ``JWTKIT_*`` variable, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JWTKIT_")}
    env.update(extra)
    return env


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group (uvicorn's workers too), then SIGKILL what is left."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=15)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # stragglers (workers) of the group
    process.wait()


class Server:
    """One server process (its own process group); ``url`` once it answers its ready path."""

    def __init__(self, process: subprocess.Popen[bytes], log: Path, url: str) -> None:
        self.process = process
        self.log = log
        self.url = url

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


LISTENING = r"listening on (http://127\.0\.0\.1:\d+)"  # what ``jwtkit serve`` logs once bound


@contextlib.contextmanager
def running(
    command: list[str], log: Path, *, url: str | None = None, listening: str = LISTENING, ready_path: str = "/health",
    env: dict[str, str] | None = None, cwd: Path | None = None,
) -> Iterator[Server]:
    """Start ``command`` in its own process group, its output appended to ``log``; yield it once it
    answers 200 on ``ready_path`` (at ``url``, or at the last URL the log's new lines matched with
    ``listening``); always stop it and its children. The benchmarks start their servers with this too."""
    seen = log.stat().st_size if log.exists() else 0
    with log.open("ab") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=cwd or log.parent,
                                   env=clean_env() if env is None else env, start_new_session=True)
    try:
        yield Server(process, log, _wait_until_ready(process, log, seen, url, listening, ready_path))
    finally:
        stop(process)


@contextlib.contextmanager
def jwtkit_serve(
    log: Path, *args: str, port: int = 0, prefix: tuple[str, ...] = (), env: dict[str, str] | None = None,
) -> Iterator[Server]:
    """Run ``jwtkit serve --host 127.0.0.1 --port PORT ARGS`` (its own process group, ``prefix``
    before the interpreter, e.g. ``taskset -c 1``); yield it once /health answers; always stop it
    and its workers."""
    command = [*prefix, sys.executable, "-m", "jwtkit", "serve", "--host", "127.0.0.1", "--port", str(port), *args]
    with running(command, log, env=env) as server:
        yield server


def _wait_until_ready(process: subprocess.Popen[bytes], log: Path, seen: int, url: str | None, listening: str,
                      ready_path: str) -> str:
    name = Path(process.args[0] if isinstance(process.args, list) else str(process.args)).name
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{name} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        urls = [url] if url else re.findall(listening, log.read_bytes()[seen:].decode(errors="replace"))
        if urls:
            try:
                if httpx.get(urls[-1] + ready_path, timeout=2).status_code == 200:
                    return str(urls[-1])
            except httpx.TransportError:
                pass
        time.sleep(0.1)
    raise AssertionError(f"{name} did not start:\n{log.read_text()[-3000:]}")


def run_jwtkit(*args: str) -> str:
    """``jwtkit ARGS`` to completion; its stdout (fails the test on a non-zero exit)."""
    result = subprocess.run([sys.executable, "-m", "jwtkit", *args], capture_output=True, text=True,
                            timeout=60, env=clean_env(), check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


class PrivateRedis:
    """A ``redis-server`` of our own on a free loopback port, without persistence: a test can
    stop it (an outage) and start it again on the same port (empty, as after a restart)."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        assert self.process is None
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(64).startswith(b"+PONG"):
                    return
            time.sleep(0.05)
        self.stop()
        raise AssertionError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None


class CuttableProxy:
    """A loopback TCP proxy (threads, so it serves other processes while a sync test runs) to
    ``upstream_port``. ``cut()`` closes every connection through it and refuses new ones, as a
    database that went away; ``restore()`` lets connections through again."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._cut = False
        self._closed = False
        threading.Thread(target=self._accept, name="test-proxy-accept", daemon=True).start()

    def cut(self) -> None:
        with self._lock:
            self._cut = True
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._open.clear()

    def restore(self) -> None:
        with self._lock:
            self._cut = False

    def close(self) -> None:
        self._closed = True
        self.cut()
        self._listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                if self._cut:
                    client.close()
                    continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


# ---- who owns a TCP connection (Linux /proc) --------------------------------------------------

def _tcp_table() -> dict[int, tuple[int, int]]:
    """socket inode -> (local port, remote port) for every TCP socket of this network namespace."""
    table: dict[int, tuple[int, int]] = {}
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(name) as f:
            next(f)
            for line in f:
                fields = line.split()
                local, remote, inode = fields[1], fields[2], int(fields[9])
                table[inode] = (int(local.rsplit(":", 1)[1], 16), int(remote.rsplit(":", 1)[1], 16))
    return table


def tcp_connections(pid: int) -> list[tuple[int, int]]:
    """(local port, remote port) of the TCP sockets process ``pid`` holds open."""
    inodes = set()
    with contextlib.suppress(OSError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("socket:["):
                    inodes.add(int(target[8:-1]))
    table = _tcp_table()
    return [table[i] for i in inodes if i in table]


def children(pid: int) -> list[int]:
    """The process ids whose parent is ``pid``."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError), open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            if stat and int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def owner_of_connection(pids: list[int], server_port: int, client_port: int) -> int | None:
    """Which of ``pids`` holds the server side of the connection from ``client_port``."""
    for pid in pids:
        if (server_port, client_port) in tcp_connections(pid):
            return pid
    return None
