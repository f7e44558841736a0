"""The benchmarks' harness: what every script in ``benchmarks/`` shares.

- ``servers``: start a server process on a free port, wait until it answers, stop it and its process
  group (the tests' ``tests/web/processes.py``, loaded by its path), CPU pinning, this checkout first
  on ``PYTHONPATH``;
- ``http``: a small stdlib HTTP client for the set-up requests (register, log in, correctness gates);
- ``load``: load a server with wrk, or with the asyncio keep-alive load generator;
- ``machine``: the CPU time of a process and the share of the machine other processes use;
- ``rounds``: interleave cells in shuffled rounds; medians and same-round ratios;
- ``timing``: in-process micro-benchmarks: calibrated batches, paired ratios;
- ``report``: tables and number formats.

Importing the package puts this checkout's ``src`` first on ``sys.path``: a benchmark measures the
jwtkit it sits beside, whichever environment runs it.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))
