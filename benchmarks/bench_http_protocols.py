#!/usr/bin/env python3
"""What a cap on request heads costs, per HTTP protocol implementation of uvicorn (issue 15).

    .venv/bin/python benchmarks/bench_http_protocols.py              # 3 rounds x 3 protocols x 2 endpoints x 3 s
    .venv/bin/python benchmarks/bench_http_protocols.py --rounds 5 --duration 5

The candidates, each serving the jwtkit app (``build_app`` over ``memory://``, access log off) in
its own process on 127.0.0.1: uvicorn's ``httptools`` protocol (no cap: the baseline),
``jwtkit.web.protocol:BoundedHttpToolsProtocol`` (httptools with jwtkit's 64 KiB / 100 field cap:
what ``jwtkit serve`` runs) and ``h11`` with ``h11_max_incomplete_event_size=65536`` (uvicorn's own
cap). Each round loads ``/health`` and ``/auth/me`` (one ES256 access token) on every candidate in
a shuffled order with the keep-alive asyncio load generator of ``bench_server.py`` (wrk is not
needed); the figures are medians over rounds of req/s, and each candidate's ratio to the baseline
in the same round. This is not a test: figures depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_server import run_python_load  # noqa: E402

CANDIDATES = {
    "httptools (no cap)": {"http": "httptools"},
    "httptools + jwtkit cap": {"http": "jwtkit.web.protocol:BoundedHttpToolsProtocol"},
    "h11 (64 KiB cap)": {"http": "h11", "h11_max_incomplete_event_size": 65536},
}
BASELINE = "httptools (no cap)"
PASSWORD = "benchmark password"

LAUNCHER = """
import json, socket, sys, uvicorn
from jwtkit.wiring import ServerSettings, build_app
options = json.loads(sys.argv[1])
app = build_app(ServerSettings(database_url="memory://", access_log=False))
sock = socket.socket(); sock.bind(("127.0.0.1", 0)); sock.listen(2048)
print(sock.getsockname()[1], flush=True)
uvicorn.Server(uvicorn.Config(app, access_log=False, log_level="warning", lifespan="on", **options)).run(sockets=[sock])
"""


def post(url: str, body: dict) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def start(options: dict) -> tuple[subprocess.Popen[str], int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JWTKIT_")}
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    process = subprocess.Popen([sys.executable, "-c", LAUNCHER, json.dumps(options)], stdout=subprocess.PIPE,
                               text=True, env=env)
    assert process.stdout is not None
    port = int(process.stdout.readline())
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2).close()
            return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the server did not start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()

    servers = {name: start(options) for name, options in CANDIDATES.items()}
    try:
        tokens = {}
        for name, (_, port) in servers.items():
            base = f"http://127.0.0.1:{port}"
            post(base + "/auth/register", {"username": "bench", "password": PASSWORD})
            tokens[name] = post(base + "/auth/token", {"username": "bench", "password": PASSWORD})["access_token"]
        rps: dict[tuple[str, str], list[float]] = {}
        ratios: dict[tuple[str, str], list[float]] = {}
        for _ in range(args.rounds):
            for path in ("/health", "/auth/me"):
                order = list(servers)
                random.shuffle(order)
                this_round = {}
                for name in order:
                    headers = {"Authorization": f"Bearer {tokens[name]}"} if path == "/auth/me" else {}
                    result = run_python_load(servers[name][1], path, headers, args.connections, args.duration)
                    assert result["non2xx"] == 0, (name, path, result)
                    this_round[name] = result["rps"]
                    rps.setdefault((name, path), []).append(result["rps"])
                for name, value in this_round.items():
                    ratios.setdefault((name, path), []).append(value / this_round[BASELINE])
    finally:
        for process, _ in servers.values():
            process.terminate()
            process.wait(timeout=15)
    print(f"{'protocol':<26}{'endpoint':<12}{'req/s (median)':>16}{'vs httptools':>14}")
    for (name, path), values in rps.items():
        print(f"{name:<26}{path:<12}{statistics.median(values):>16.0f}"
              f"{statistics.median(ratios[(name, path)]):>13.0%} ")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
