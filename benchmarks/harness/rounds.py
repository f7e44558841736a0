"""Interleaved rounds for benchmarks of whole servers: every cell once per round, in a shuffled order,
a bounded wait for other processes to go quiet before each; then medians over rounds, and ratios
taken per round (two cells of one round share the machine's speed of that moment) before the median."""

from __future__ import annotations

import random
import statistics
import sys
from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

from harness.machine import wait_quiet

Cell = TypeVar("Cell", bound=Hashable)
Result = dict[str, Any]


def interleave(cells: Sequence[Cell], rounds: int, run: Callable[[Cell, int], Result], *, seed: int | None = None,
               quiet_budget: float = 0.0, describe: Callable[[Cell, Result], str] | None = None,
               ) -> dict[Cell, list[Result]]:
    """``run(cell, round)`` for every cell in every round, cells shuffled per round; the results per
    cell, in round order (each also gets ``round``). Waits at most 30 s before a cell, and at most
    ``quiet_budget`` seconds in all, for other processes to go quiet. ``describe`` prints a line per run."""
    rng = random.Random(seed)
    order = list(cells)
    results: dict[Cell, list[Result]] = {cell: [] for cell in cells}
    waited = 0.0
    for r in range(rounds):
        rng.shuffle(order)
        for cell in order:
            if quiet_budget - waited > 0:
                waited += wait_quiet(min(30.0, quiet_budget - waited))
            result = run(cell, r)
            result["round"] = r
            results[cell].append(result)
            if describe is not None:
                print(f"round {r + 1}: {describe(cell, result)}", file=sys.stderr, flush=True)
    return results


def median_of(runs: Sequence[Result], key: str = "rps") -> float:
    return statistics.median(x[key] for x in runs)


def same_round_ratio(num: Sequence[Result], den: Sequence[Result], key: str = "rps") -> float:
    """Median over rounds of num[key] / den[key] in the same round."""
    return statistics.median(a[key] / b[key] for a, b in zip(num, den, strict=True))


def same_round_diff(num: Sequence[Result], den: Sequence[Result], key: str) -> float:
    """Median over rounds of num[key] - den[key] in the same round."""
    return statistics.median(a[key] - b[key] for a, b in zip(num, den, strict=True))
