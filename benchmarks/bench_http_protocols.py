#!/usr/bin/env python3
"""What a cap on request heads costs, per HTTP protocol implementation of uvicorn (issue 15).

    .venv/bin/python benchmarks/bench_http_protocols.py              # 3 rounds x 3 protocols x 2 endpoints x 3 s
    .venv/bin/python benchmarks/bench_http_protocols.py --rounds 5 --duration 5

The candidates, each serving the jwtkit app (``build_app`` over ``memory://``, access log off) in
its own process on 127.0.0.1: uvicorn's ``httptools`` protocol (no cap: the baseline),
``jwtkit.web.protocol:BoundedHttpToolsProtocol`` (httptools with jwtkit's 64 KiB / 100 field cap:
what ``jwtkit serve`` runs) and ``h11`` with ``h11_max_incomplete_event_size=65536`` (uvicorn's own
cap). Each round loads ``/health`` and ``/auth/me`` (one ES256 access token) on every candidate in
a shuffled order with the harness's keep-alive asyncio load generator (wrk is not
needed); the figures are medians over rounds of req/s, and each candidate's ratio to the baseline
in the same round. This is not a test: figures depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from harness.http import bearer, sign_up
from harness.load import run_python_load
from harness.rounds import interleave, same_round_ratio
from harness.servers import running

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
print(f"listening on http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
uvicorn.Server(uvicorn.Config(app, access_log=False, log_level="warning", lifespan="on", **options)).run(sockets=[sock])
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="jwtkit_bench_protocols_") as tmp, contextlib.ExitStack() as stack:
        servers = {name: stack.enter_context(running([sys.executable, "-c", LAUNCHER, json.dumps(options)],
                                                     Path(tmp) / f"server{i}.log"))
                   for i, (name, options) in enumerate(CANDIDATES.items())}
        tokens = {name: sign_up(server.url, "bench", PASSWORD)["access_token"] for name, server in servers.items()}

        def run(cell: tuple[str, str], _: int) -> dict[str, Any]:
            name, path = cell
            headers = bearer(tokens[name]) if path == "/auth/me" else {}
            result = run_python_load(servers[name].port, path, headers, args.connections, args.duration)
            assert result["non2xx"] == 0, (name, path, result)
            return result

        results = interleave([(name, path) for path in ("/health", "/auth/me") for name in servers], args.rounds, run)
    print(f"{'protocol':<26}{'endpoint':<12}{'req/s (median)':>16}{'vs httptools':>14}")
    for (name, path), runs in results.items():
        print(f"{name:<26}{path:<12}{statistics.median(x['rps'] for x in runs):>16.0f}"
              f"{same_round_ratio(runs, results[(BASELINE, path)]):>13.0%} ")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
