"""In-process micro-benchmarks: calibrated batches, shuffled rounds, paired ratios.

The method (adapted from the yardstick the project's peers were first measured with):

- every cell (one callable on one argument) is calibrated once to a batch of about
  ``target`` seconds;
- then R rounds: within a round the cells of one *group* (e.g. "HS256 verify": the
  floor, the primitive, every library) run back-to-back in a shuffled order, and the
  groups are shuffled too;
- a shared machine's speed drifts by tens of percent over seconds to minutes, so a ratio
  is *paired*: per round, cell time / reference time, then the median over rounds;
- before a round the run may wait (within a total budget) for other processes to go
  quiet, and it records the CPU share other processes used during each round.

Nothing here knows about JWTs. Benchmarks of whole servers use ``rounds`` instead.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
import timeit
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.machine import ForeignLoad, wait_quiet


# ---------------------------------------------------------------- cells and rounds
@dataclass
class Cell:
    """One thing to time: ``fn(arg(round_args))``, in group ``group``."""

    key: tuple[str, ...]
    group: Hashable
    fn: Callable[[Any], Any]
    arg: Callable[[Any], Any]
    number: int = 1
    samples: list[float] = field(default_factory=list)  # seconds per call, one per round

    def median_us(self) -> float:
        return statistics.median(self.samples) * 1e6

    def rel_iqr(self) -> float:
        return _rel_iqr(self.samples)


@dataclass
class RunStats:
    foreign: list[float]  # per round: share of all CPUs used by other processes
    waited: float  # seconds spent waiting for quiet
    elapsed: float


def _timer(cell: Cell, x: Any) -> timeit.Timer:
    return timeit.Timer("f(x)", globals={"f": cell.fn, "x": x})  # GC off while timing (timeit default)


def calibrate(cells: Sequence[Cell], round_args: Any, target: float) -> None:
    """Set each cell's batch size so that one batch takes about ``target`` seconds."""
    for c in cells:
        timer = _timer(c, c.arg(round_args))
        n = 1
        while True:
            t = timer.timeit(n)
            if t >= target / 5 or n >= 1 << 22:
                break
            n *= 2
        c.number = max(1, int(n * target / max(t, 1e-9)))


def run_rounds(
    cells: Sequence[Cell],
    make_args: Callable[[], Any],
    *,
    target: float,
    rounds: int,
    quiet_budget: float = 0.0,
    seed: int = 12345,
    progress: bool = True,
) -> RunStats:
    """Calibrate, then time every cell once per round (groups and cells shuffled).

    ``make_args()`` is called before calibration and before each round (so e.g. tokens
    can be re-issued with a fresh ``exp``); each cell picks its argument with ``cell.arg``.
    """
    t0 = time.time()
    calibrate(cells, make_args(), target)
    rng = random.Random(seed)
    groups: dict[Hashable, list[Cell]] = {}
    for c in cells:
        groups.setdefault(c.group, []).append(c)
    gkeys = list(groups)
    foreign: list[float] = []
    waited = 0.0
    for r in range(rounds):
        if quiet_budget - waited > 0:
            waited += wait_quiet(min(20.0, quiet_budget - waited))
        fl = ForeignLoad()
        a = make_args()
        rng.shuffle(gkeys)
        for g in gkeys:
            order = groups[g]
            rng.shuffle(order)
            for c in order:
                t = _timer(c, c.arg(a)).timeit(c.number)
                c.samples.append(t / c.number)
        f = fl.stop()
        if f is not None:
            foreign.append(f)
        if progress and ((r + 1) % 5 == 0 or r + 1 == rounds):
            print(f"  round {r + 1}/{rounds} done", file=sys.stderr, flush=True)
    return RunStats(foreign, waited, time.time() - t0)


# ---------------------------------------------------------------- paired statistics
def _rel_iqr(xs: Sequence[float]) -> float:
    if len(xs) < 3:
        return 0.0
    q = statistics.quantiles(xs, n=4)
    return (q[2] - q[0]) / statistics.median(xs)


def paired_ratios(num: Cell, den: Cell) -> list[float]:
    return [a / b for a, b in zip(num.samples, den.samples, strict=True)]


def paired_ratio(num: Cell | None, den: Cell | None) -> float | None:
    """Median over rounds of num's time / den's time in the same round."""
    if num is None or den is None:
        return None
    return statistics.median(paired_ratios(num, den))


def paired_diff_us(num: Cell | None, den: Cell | None) -> float | None:
    """Median over rounds of num's time - den's time in the same round, in µs."""
    if num is None or den is None:
        return None
    return statistics.median(a - b for a, b in zip(num.samples, den.samples, strict=True)) * 1e6


def paired_rel_iqr(num: Cell, den: Cell) -> float:
    return _rel_iqr(paired_ratios(num, den))


def load_summary(stats: RunStats) -> str:
    """One line: other processes' CPU share during the rounds, and the wait for quiet."""
    if not stats.foreign:
        return "Machine load from other processes: not measurable here (no /proc/stat)."
    fo = stats.foreign
    return (
        f"Machine load from other processes during the rounds (share of all {os.cpu_count()} CPUs): "
        f"median {statistics.median(fo) * 100:.0f}%, max {max(fo) * 100:.0f}%; "
        f"waited {stats.waited:.0f} s in total for quiet before rounds."
    )
