"""rfm_summary at scale, against reading its input and against pandas.

On the sample company's transactions file, in the same run (the three interleaved, each
timed ``runs`` times):

* ``rfm_summary(pl.scan_parquet(file), observation_end=as_of)``: purchase days (same-day
  transactions netted, refund days dropped), then frequency, recency, T and mean repeat
  spend per customer;
* the floor: reading the three columns it needs (``customer_id, date, amount``) with
  ``pl.read_parquet``;
* the peer: the same summary the way a pandas user writes it (``pd.read_parquet`` with the
  pyarrow dtype backend, the fastest of the idiomatic variants we tried; a ``groupby`` to
  purchase days, a named-aggregation ``groupby`` per customer). Its result is checked
  equal to ``rfm_summary``'s: same customers and frequencies; recency, T and mean repeat
  spend within 1e-9 relative (polars divides by 7 as a multiplication by 1/7, and adds sums
  in a different order).

Run on its own: ``.venv/bin/python benchmarks/run.py rfm``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from _common import Context, Result, fmt_s, measure, measure_side_by_side, transactions_file

from crm_core.clv.summary import rfm_summary

COLUMNS = ["customer_id", "date", "amount"]
REL_TOL = 1e-9


def pandas_summary(path: Path, as_of: date) -> Any:
    """The RFM summary in idiomatic pandas (weeks, as ``rfm_summary``'s default)."""
    import pandas as pd

    df = pd.read_parquet(path, columns=COLUMNS, dtype_backend="pyarrow")
    df = df[df["date"] <= as_of]
    days = df.groupby(["customer_id", "date"], as_index=False)["amount"].sum()
    days = days[days["amount"] >= 0]
    per = days.groupby("customer_id").agg(
        first=("date", "min"),
        last=("date", "max"),
        days=("date", "size"),
        total=("amount", "sum"),
        first_amount=("amount", "first"),  # groupby sorts by (customer, date)
    )
    frequency = per["days"] - 1
    end = pd.Timestamp(as_of)
    return pd.DataFrame(
        {
            "frequency": frequency,
            "recency": (per["last"] - per["first"]).dt.days / 7,
            "T": (end - per["first"].astype("timestamp[s][pyarrow]")).dt.days / 7,
            "monetary_value": ((per["total"] - per["first_amount"]) / frequency).where(
                frequency > 0, 0.0
            ),
        }
    )


def compare(ours: pl.DataFrame, theirs: Any) -> dict[str, Any]:
    """Whether the two summaries agree (see the module docstring for the tolerance)."""
    other = pl.from_pandas(theirs.reset_index()).select(
        pl.col("customer_id").cast(pl.String),
        pl.col("frequency").cast(pl.Int64),
        pl.col("recency").cast(pl.Float64),
        pl.col("T").cast(pl.Float64),
        pl.col("monetary_value").cast(pl.Float64),
    )
    joined = ours.join(other, on="customer_id", how="full", suffix="_pd", coalesce=True)
    both = joined.drop_nulls()
    same_frequency = bool((both["frequency"] == both["frequency_pd"]).all())
    diffs = {}
    for c in ("recency", "T", "monetary_value"):
        a, b = both[c].to_numpy(), both[f"{c}_pd"].to_numpy()
        rel = np.abs(a - b) / np.maximum(np.abs(b), 1.0)
        diffs[c] = float(rel.max()) if rel.size else 0.0
    same_rows = ours.height == other.height == both.height == joined.height
    return {
        "equal": bool(same_rows and same_frequency and max(diffs.values()) <= REL_TOL),
        "customers": ours.height,
        "customers_pandas": other.height,
        "frequency_identical": same_frequency,
        "max_rel_diff": diffs,
        "tolerance": f"same customers and frequency; recency, T and monetary_value within "
        f"{REL_TOL:g} relative (polars divides by 7 as a multiplication by 1/7, and sums "
        "in another order)",
    }


def run(ctx: Context) -> Result:
    path = transactions_file(ctx)
    measure(lambda: pl.read_parquet(path, columns=COLUMNS), 1)  # the file in the OS cache
    got = measure_side_by_side(
        {
            "read": lambda: pl.read_parquet(path, columns=COLUMNS),
            "ours": lambda: rfm_summary(pl.scan_parquet(path), observation_end=ctx.as_of),
            "pandas": lambda: pandas_summary(path, ctx.as_of),
        },
        ctx.runs,
    )
    (read, _), (ours, summary), (theirs, pandas_result) = got["read"], got["ours"], got["pandas"]
    check = compare(summary, pandas_result)
    speedup = theirs.median / ours.median
    vs_read = ours.median / read.median
    values = {
        "rfm_s": ours.as_dict(),
        "rfm_read_s": read.as_dict(),
        "rfm_pandas_s": theirs.as_dict(),
        "rfm_speedup_vs_pandas": speedup,
        "rfm_vs_read_ratio": vs_read,
        "rfm_check": check,
    }
    rows = [
        ("read 3 columns (pl.read_parquet)", fmt_s(read, digits=3), "", "1.0x (floor)"),
        ("rfm_summary", fmt_s(ours, digits=3), "read 3 columns", f"{vs_read:.1f}x read"),
        (
            "pandas groupby summary",
            fmt_s(theirs, digits=3),
            "rfm_summary",
            f"rfm_summary {speedup:.1f}x faster" + ("" if check["equal"] else " (RESULTS DIFFER)"),
        ),
    ]
    return Result(values, rows)
