"""Loading the sample company: ``load_snapshot`` against a plain read of its files.

``load_snapshot`` validates the manifest and every table (types, keys, dates, references)
and hands back lazy frames; the baseline, measured in the same run, reads the
transactions file with ``pl.scan_parquet(...).collect()``. Generating the company
(``crm_core.sample.generate_sample``, time and peak memory of the generating process) is
measured by ``benchmarks/run.py`` when the cache has no copy yet.

Run on its own: ``.venv/bin/python benchmarks/run.py snapshot``.
"""

from __future__ import annotations

import polars as pl
from _common import Context, Result, fmt_s, measure, measure_side_by_side, transactions_file

from crm_core.data.snapshot import load_snapshot


def run(ctx: Context) -> Result:
    path = transactions_file(ctx)
    measure(lambda: pl.scan_parquet(path).collect(), 1)  # the file in the OS cache
    got = measure_side_by_side(
        {
            "read": lambda: pl.scan_parquet(path).collect(),
            "load": lambda: load_snapshot(ctx.snapshot),
        },
        ctx.runs,
    )
    (read, _), (load, _) = got["read"], got["load"]
    ratio = load.median / read.median
    values = {
        "read_transactions_s": read.as_dict(),
        "load_snapshot_s": load.as_dict(),
        "load_snapshot_vs_read_ratio": ratio,
    }
    rows = [
        ("read transactions (every column)", fmt_s(read, digits=3), "", "1.0x"),
        (
            "load_snapshot (validation)",
            fmt_s(load, digits=3),
            "read transactions",
            f"{ratio:.1f}x read",
        ),
    ]
    return Result(values, rows)
