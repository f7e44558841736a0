"""Load a server over keep-alive HTTP/1.1 on 127.0.0.1: wrk (1 thread) when it is installed, else an
asyncio load generator (same connections and duration; its own CPU cost caps the figures lower, but
same-round ratios still compare). Every run is bounded in time and gives a dict: ``rps``, ``p50_ms``,
``p99_ms``, ``requests``, ``non2xx``."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from harness.servers import HOST

Headers = dict[str, str]
Result = dict[str, Any]


def _to_ms(v: str, unit: str) -> float:
    return float(v) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}[unit]


def parse_wrk(out: str) -> Result:
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if found is None:
        raise RuntimeError(f"wrk printed no rate:\n{out[-2000:]}")
    lat = {}
    for pct in ("50", "99"):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
        lat[pct] = _to_ms(m.group(1), m.group(2)) if m else float("nan")
    m = re.search(r"(\d+) requests in", out)
    n = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {"rps": float(found.group(1)), "p50_ms": lat["50"], "p99_ms": lat["99"],
            "requests": int(m.group(1)) if m else 0, "non2xx": int(n.group(1)) if n else 0}


def run_wrk(wrk: str, pin: list[str], url: str, headers: Headers | list[Headers], connections: int, duration: float,
            tmp: Path) -> Result:
    """wrk on ``url``; ``headers`` a dict, or a list of dicts that the requests take in turn (a Lua script)."""
    cmd = [*pin, wrk, "-t1", f"-c{connections}", f"-d{int(duration)}s", "--latency", "--timeout", "5s"]
    if isinstance(headers, list):
        script = tmp / "rotate.lua"
        rows = ",\n".join("{" + ", ".join(f"[{json.dumps(k)}] = {json.dumps(v)}" for k, v in h.items()) + "}"
                          for h in headers)
        path = "/" + url.split("/", 3)[3]
        script.write_text(f"local hs = {{\n{rows}\n}}\nlocal i = 0\n"
                          f"request = function()\n  i = i + 1\n"
                          f"  return wrk.format(\"GET\", {json.dumps(path)}, hs[(i % #hs) + 1])\nend\n")
        cmd += ["-s", str(script)]
    else:
        for k, v in headers.items():
            cmd += ["-H", f"{k}: {v}"]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, timeout=duration + 30).stdout
    return parse_wrk(out)


def request_bytes(method: str, path: str, headers: Headers, body: bytes = b"", port: int | None = None) -> bytes:
    """One HTTP/1.1 request, ready to write on a keep-alive connection (``body`` is JSON)."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}" + (f":{port}" if port else "")]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Conversation(Protocol):
    """What one connection of the asyncio generator sends: the next request, and what it learns
    from each answer (a refresh chain keeps its latest token; it may raise to stop the run)."""

    def next_request(self) -> bytes: ...

    def answered(self, status: int, body: bytes) -> None: ...


class Rotation:
    """Fixed requests taken in turn by every connection that shares this object."""

    def __init__(self, requests: Sequence[bytes]) -> None:
        self.requests = list(requests)
        self.sent = 0

    def next_request(self) -> bytes:
        raw = self.requests[self.sent % len(self.requests)]
        self.sent += 1
        return raw

    def answered(self, status: int, body: bytes) -> None:
        pass


async def _generate(port: int, conversations: Sequence[Conversation], duration: float) -> Result:
    latencies: list[float] = []
    non2xx = 0
    deadline = time.perf_counter() + duration

    async def worker(conversation: Conversation) -> None:
        nonlocal non2xx
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                writer.write(conversation.next_request())
                status_line = await reader.readline()
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                body = await reader.readexactly(length)
                latencies.append(time.perf_counter() - t0)
                status = int(status_line.split()[1])
                if not 200 <= status < 300:
                    non2xx += 1
                conversation.answered(status, body)
        finally:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in conversations))
    elapsed = time.perf_counter() - t0
    latencies.sort()

    def pick(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1e3 if latencies else float("nan")

    return {"rps": len(latencies) / elapsed, "p50_ms": pick(0.50), "p99_ms": pick(0.99),
            "requests": len(latencies), "non2xx": non2xx}


def run_conversations(port: int, conversations: Sequence[Conversation], duration: float) -> Result:
    """The asyncio generator: one keep-alive connection per conversation, for ``duration`` seconds."""
    return asyncio.run(asyncio.wait_for(_generate(port, conversations, duration), duration + 30))


def run_python_load(port: int, path: str, headers: Headers | list[Headers], connections: int,
                    duration: float) -> Result:
    """GET ``path`` on ``connections`` connections; a list of header dicts is taken in turn."""
    rotation = Rotation([request_bytes("GET", path, h, port=port)
                         for h in (headers if isinstance(headers, list) else [headers])])
    return run_conversations(port, [rotation] * connections, duration)


def load(wrk: str | None, base: str, path: str, headers: Headers | list[Headers], connections: int,
         duration: float, tmp: Path, pin: list[str] | None = None) -> Result:
    """wrk when ``wrk`` is its path, else the asyncio generator, on ``base + path``."""
    if wrk:
        return run_wrk(wrk, pin or [], base + path, headers, connections, duration, tmp)
    return run_python_load(int(base.rsplit(":", 1)[1]), path, headers, connections, duration)


def add_load_options(ap: argparse.ArgumentParser, *, quiet_budget: bool = True) -> None:
    """``--python-load``, ``--quiet-budget`` (unless ``quiet_budget`` is false) and ``--json FILE``."""
    ap.add_argument("--python-load", action="store_true", help="use the asyncio load generator even if wrk exists")
    if quiet_budget:
        ap.add_argument("--quiet-budget", type=float, default=None,
                        help="seconds to wait in all for other processes to go quiet (default 240; 0 with --quick)")
    ap.add_argument("--json", metavar="FILE", help="also write every run as JSON")


def load_tool(args: argparse.Namespace) -> str | None:
    """wrk's path, or None for the asyncio generator (``--python-load``, or no wrk on PATH). Settles
    ``args.quiet_budget``'s default: 240 s, none with ``--quick``."""
    if getattr(args, "quiet_budget", 0.0) is None:
        args.quiet_budget = 0.0 if args.quick else 240.0
    return None if args.python_load else shutil.which("wrk")
