"""Run every benchmark (``benchmarks/bench_*.py``) and print their reports.

Benchmarks are not part of ``make test``: they measure, they do not assert. Numbers on a
shared machine are noisy, so each benchmark reports ratios against a baseline measured in
the same run. Run: ``make bench`` or ``.venv/bin/python benchmarks/run.py [name ...]``.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(names: list[str]) -> int:
    files = sorted(HERE.glob("bench_*.py"))
    if names:
        files = [f for f in files if f.stem.removeprefix("bench_") in names]
    for file in files:
        spec = importlib.util.spec_from_file_location(file.stem, file)
        module = importlib.util.module_from_spec(spec)
        assert spec.loader is not None
        spec.loader.exec_module(module)
        print(f"\n=== {file.stem} ===", flush=True)
        start = time.perf_counter()
        module.main([])
        print(f"({time.perf_counter() - start:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
