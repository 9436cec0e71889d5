"""Foundation at scale: generate, validate and summarise a 1,000,000-customer company.

Measures, on one synthetic snapshot of ``--customers`` customers (default 1,000,000, about
20 million transactions):

* generation time and peak memory (in a child process, so the number is the generator's);
* ``load_snapshot`` validation, the Executive Overview and per-customer profit, each as a
  ratio against a plain baseline measured in the same run: reading the transactions file
  with ``pl.scan_parquet(...).collect()``.

Run: ``.venv/bin/python benchmarks/bench_snapshot.py [--customers N] [--keep DIR]``.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import polars as pl

from crm_core import load_snapshot, overview_report
from crm_core.segments.profit import customer_profit


def _best_of(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _generate(path: Path, customers: int) -> tuple[float, float]:
    """Seconds and peak resident memory (GB) of generating the snapshot in a child."""
    code = (
        "import sys; from crm_core.sample import generate_sample; "
        "generate_sample(sys.argv[1], customers=int(sys.argv[2]))"
    )
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, str(path), str(customers)], check=True)
    seconds = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, peak_kb / 1024**2


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, default=None, help="reuse/keep the snapshot here")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "big"
        gen_s = peak_gb = float("nan")
        if not (path / "manifest.json").exists():
            gen_s, peak_gb = _generate(path, args.customers)
        rows = pl.scan_parquet(path / "transactions.parquet").select(pl.len()).collect().item()

        baseline = _best_of(
            lambda: pl.scan_parquet(path / "transactions.parquet").collect(), args.repeat
        )
        validate = _best_of(lambda: load_snapshot(path), args.repeat)
        snap = load_snapshot(path)
        overview = _best_of(lambda: overview_report(snap), args.repeat)
        profit = _best_of(lambda: customer_profit(snap), args.repeat)

    results = {
        "customers": float(args.customers),
        "transactions": float(rows),
        "generate_s": gen_s,
        "generate_peak_gb": peak_gb,
        "read_baseline_s": baseline,
        "validate_s": validate,
        "overview_s": overview,
        "profit_s": profit,
    }
    print(f"snapshot: {args.customers:,} customers, {rows:,} transactions")
    print(f"  generate            {gen_s:8.1f} s   peak memory {peak_gb:.2f} GB")
    print(f"  read transactions   {baseline:8.2f} s   (baseline = 1.0x)")
    for name, key in (
        ("load_snapshot", "validate_s"),
        ("overview_report", "overview_s"),
        ("customer_profit", "profit_s"),
    ):
        print(f"  {name:<19} {results[key]:8.2f} s   {results[key] / baseline:5.1f}x baseline")
    return results


if __name__ == "__main__":
    main()
