"""Shared pieces of the benchmarks: the run context, timing statistics and table rows.

Every ``bench_*.py`` module has ``run(ctx: Context) -> Result``; ``benchmarks/run.py``
builds the context (the sample company at the chosen scale), calls them and writes one
JSON object. Timings are the median of ``ctx.runs`` calls with the min and max beside it;
ratios are taken between medians measured in the same run, with the two sides'
calls interleaved (:func:`measure_side_by_side`).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl

__all__ = [
    "Context",
    "Result",
    "Timing",
    "fmt_s",
    "measure",
    "measure_side_by_side",
    "rfm_of",
    "transactions_file",
]


@dataclass(frozen=True)
class Context:
    """What every benchmark needs to know about the run.

    Attributes
    ----------
    scale
        ``"full"``, ``"quick"`` or ``"smoke"``.
    snapshot
        Folder of the sample company at that scale (cached between runs).
    snapshot_id
        Its id in the app's snapshot picker (the folder name).
    customers, seed
        Generator arguments of the sample company.
    as_of
        The snapshot's as-of date (observation end of the RFM summary).
    runs
        Timed calls per measurement (the median is reported).
    page_cold_runs, page_warm_runs
        Fresh processes per page (at most) and warm reruns in each of them.
    page_timeout_s, page_budget_s, pages_budget_s
        Timeout of one page process; the time after which no further cold run of a page
        is started; the time after which no further page is started at all (its entry
        then says it was skipped), so a slow page cannot stretch the run without bound.
    """

    scale: str
    snapshot: Path
    snapshot_id: str
    customers: int
    seed: int
    as_of: date
    runs: int
    page_cold_runs: int
    page_warm_runs: int
    page_timeout_s: float
    page_budget_s: float
    pages_budget_s: float


@dataclass(frozen=True)
class Timing:
    """Median, min and max of repeated measurements (seconds unless said otherwise)."""

    median: float
    min: float
    max: float
    runs: int

    @classmethod
    def of(cls, samples: list[float]) -> Timing:
        if not samples:
            raise ValueError("no samples")
        return cls(statistics.median(samples), min(samples), max(samples), len(samples))

    def scaled(self, factor: float) -> Timing:
        """The same timing in other units (``1000`` for milliseconds)."""
        return Timing(self.median * factor, self.min * factor, self.max * factor, self.runs)

    def as_dict(self) -> dict[str, float | int]:
        return {"median": self.median, "min": self.min, "max": self.max, "runs": self.runs}


@dataclass(frozen=True)
class Result:
    """What one benchmark module measured: JSON values and rows for the printed table
    (``measurement``, ``result``, ``baseline in the same run``, ``ratio``)."""

    values: dict[str, Any]
    rows: list[tuple[str, str, str, str]] = field(default_factory=list)


def measure(fn: Callable[[], Any], runs: int, warmup: int = 0) -> tuple[Timing, Any]:
    """Wall-clock seconds of ``runs`` calls of ``fn`` after ``warmup`` untimed ones, and
    the last call's result."""
    out = None
    for _ in range(warmup):
        out = fn()
    samples = []
    for _ in range(max(runs, 1)):
        start = time.perf_counter()
        out = fn()
        samples.append(time.perf_counter() - start)
    return Timing.of(samples), out


def measure_side_by_side(
    fns: dict[str, Callable[[], Any]], runs: int, warmup: int = 0
) -> dict[str, tuple[Timing, Any]]:
    """Like :func:`measure` for several functions, interleaved (a, b, a, b, ...) so that a
    change of the machine's load between runs affects every side alike. Returns each
    name's timing and last result."""
    out: dict[str, Any] = {name: None for name in fns}
    for _ in range(warmup):
        for name, fn in fns.items():
            out[name] = fn()
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(max(runs, 1)):
        for name, fn in fns.items():
            start = time.perf_counter()
            out[name] = fn()
            samples[name].append(time.perf_counter() - start)
    return {name: (Timing.of(samples[name]), out[name]) for name in fns}


def fmt_s(t: Timing, unit: str = "s", digits: int = 2) -> str:
    """``median (min-max) unit`` for the table."""
    if t.runs == 1:
        return f"{t.median:.{digits}f} {unit}"
    return f"{t.median:.{digits}f} {unit} ({t.min:.{digits}f}-{t.max:.{digits}f}, {t.runs} runs)"


def transactions_file(ctx: Context) -> Path:
    return ctx.snapshot / "transactions.parquet"


@cache
def _rfm(path: str, as_of: date) -> pl.DataFrame:
    from crm_core.clv.summary import rfm_summary

    return rfm_summary(pl.scan_parquet(path), observation_end=as_of)


def rfm_of(ctx: Context) -> pl.DataFrame:
    """The RFM summary of the sample company (computed once per run, shared by the
    benchmarks that need it as input)."""
    return _rfm(str(transactions_file(ctx)), ctx.as_of)
