"""The machine under a benchmark (Linux ``/proc``): CPU seconds of a process (and of its children),
the share of all CPUs that *other* processes use, waiting for them to go quiet, CPU pinning.

The method of the yardstick the project's peers were first measured with."""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


def cpu_seconds(pid: int) -> float:
    """utime + stime of process ``pid``."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of ``pid`` and its children (gunicorn's worker is the master's child)."""
    total = cpu_seconds(pid)
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                total += tree_cpu_seconds(int(child))
    return total


def _busy_seconds() -> float | None:
    try:
        with open("/proc/stat") as fh:
            v = [int(x) for x in fh.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    return (sum(v) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")


def _own_seconds() -> float:
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


class ForeignLoad:
    """Share of the machine's CPUs used by *other* processes over an interval: not this one, its
    waited-for children, nor what ``extra_own`` counts (e.g. the server under load)."""

    def __init__(self, extra_own: Callable[[], float] = lambda: 0.0) -> None:
        self.extra_own = extra_own
        self.start()

    def start(self) -> None:
        self.t, self.b, self.o = time.time(), _busy_seconds(), _own_seconds() + self.extra_own()

    def stop(self) -> float | None:
        b = _busy_seconds()
        if b is None or self.b is None:
            return None
        wall = max(time.time() - self.t, 1e-3)
        own = _own_seconds() + self.extra_own() - self.o
        return max(0.0, (b - self.b - own) / (wall * (os.cpu_count() or 1)))


def wait_quiet(max_wait: float, threshold: float = 0.10, window: float = 0.5) -> float:
    """Sleep until other processes use < ``threshold`` of the CPUs over ``window`` seconds,
    for at most ``max_wait`` seconds. Returns the seconds waited."""
    t0 = time.time()
    while time.time() - t0 < max_wait:
        fl = ForeignLoad()
        time.sleep(window)
        f = fl.stop()
        if f is None or f < threshold:
            break
    return time.time() - t0


@dataclass(frozen=True)
class Pinning:
    """Command prefixes that pin the server to CPU 1 and the load to CPU 0, when there are two CPUs
    and ``taskset``; empty otherwise."""

    server: list[str]
    load: list[str]

    @property
    def enabled(self) -> bool:
        return bool(self.server)

    def load_here(self) -> None:
        """Pin this process (an in-process load generator) to the load's CPU."""
        if self.enabled:
            os.sched_setaffinity(0, {0})


def pinning() -> Pinning:
    if (os.cpu_count() or 1) >= 2 and shutil.which("taskset") is not None:
        return Pinning(["taskset", "-c", "1"], ["taskset", "-c", "0"])
    return Pinning([], [])
