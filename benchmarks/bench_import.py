#!/usr/bin/env python3
"""What starting jwtkit costs: ``import jwtkit`` and ``jwtkit --version``, next to ``import jwt`` (PyJWT).

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_import.py              # 21 rounds, ~30 s
    .venv/bin/python benchmarks/bench_import.py --rounds 5   # quick
    .venv/bin/python benchmarks/bench_import.py --json import.json

Two measures, both in fresh interpreters (nothing is cached between runs but the OS's file cache):

  wall     milliseconds from starting the process to its exit, per command, in shuffled rounds.
           ``python -c pass`` is the interpreter's own start; "cost" is a command's time minus it,
           paired per round (the machine's speed drifts; pairs within a round share the drift),
           then the median over rounds.
  import   what ``python -X importtime`` says the top-level package took (cumulative µs), the
           median of the rounds: the import alone, without the interpreter's start and exit.

Commands: ``import jwtkit``; ``import jwt`` (PyJWT, when installed); ``import jwtkit`` followed by
``import cryptography.x509`` (what ``import jwtkit`` cost while it loaded x509 eagerly); and the
``jwtkit --version`` console script (``python -m jwtkit --version`` when the script is absent).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from harness.machine import ForeignLoad, wait_quiet
from harness.servers import checkout_env


def commands() -> dict[str, list[str]]:
    py = sys.executable
    found: dict[str, list[str]] = {
        "python -c pass": [py, "-c", "pass"],
        "import jwtkit": [py, "-c", "import jwtkit"],
        "import jwtkit + cryptography.x509": [py, "-c", "import jwtkit, cryptography.x509"],
    }
    if subprocess.run([py, "-c", "import jwt"], capture_output=True).returncode == 0:
        found["import jwt (PyJWT)"] = [py, "-c", "import jwt"]
    script = shutil.which("jwtkit", path=str(Path(py).parent))
    found["jwtkit --version"] = [script, "--version"] if script else [py, "-m", "jwtkit", "--version"]
    return found


def wall_ms(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True, env=env)
    return (time.perf_counter() - start) * 1000


def import_us(module: str, env: dict[str, str]) -> int:
    """The cumulative import time of ``module`` as ``-X importtime`` reports it."""
    result = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"],
                            check=True, capture_output=True, text=True, env=env)
    for line in result.stderr.splitlines():
        parts = [part.strip() for part in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[2] == module:
            return int(parts[1])
    raise RuntimeError(f"-X importtime did not report {module}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--quiet-budget", type=float, default=30.0,
                        help="seconds the run may wait in all for other processes to go quiet")
    parser.add_argument("--json", metavar="FILE", help="also write every sample as JSON")
    args = parser.parse_args()

    env = checkout_env(PYTHONDONTWRITEBYTECODE="0")
    cmds = commands()
    for argv in cmds.values():  # warm the file cache and the bytecode caches
        subprocess.run(argv, check=True, capture_output=True, env=env)
    modules = ["jwtkit"] + (["jwt"] if "import jwt (PyJWT)" in cmds else [])

    waited = wait_quiet(args.quiet_budget)
    load = ForeignLoad()
    walls: dict[str, list[float]] = {name: [] for name in cmds}
    imports: dict[str, list[int]] = {module: [] for module in modules}
    for _ in range(args.rounds):
        order = list(cmds)
        random.shuffle(order)
        for name in order:
            walls[name].append(wall_ms(cmds[name], env))
        for module in modules:
            imports[module].append(import_us(module, env))
    foreign = load.stop()

    base = walls["python -c pass"]
    print(f"jwtkit start-up, {args.rounds} rounds; Python {platform.python_version()}, {platform.machine()}, "
          f"{os.cpu_count()} CPUs; other load {'n/a' if foreign is None else f'{foreign:.0%}'}"
          f" (waited {waited:.0f} s for quiet)")
    print(f"{'command':<36} {'wall ms':>9} {'cost ms':>9}")
    for name, samples in walls.items():
        cost = statistics.median(s - b for s, b in zip(samples, base, strict=True))
        shown = "" if name == "python -c pass" else f"{cost:9.1f}"
        print(f"{name:<36} {statistics.median(samples):9.1f} {shown:>9}")
    print(f"{'-X importtime (cumulative)':<36} {'ms':>9}")
    for module, samples in imports.items():
        print(f"{'import ' + module:<36} {statistics.median(samples) / 1000:9.1f}")
    if "jwt" in imports:
        ratio = statistics.median(imports["jwtkit"]) / statistics.median(imports["jwt"])
        print(f"import jwtkit / import jwt: {ratio:.2f}x")
    if args.json:
        Path(args.json).write_text(json.dumps({"wall_ms": walls, "import_us": imports, "foreign_load": foreign},
                                              indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
