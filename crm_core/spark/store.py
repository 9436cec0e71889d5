"""What a Spark-built snapshot carries besides the ledger, read without PySpark."""

from __future__ import annotations

import json
import os
from pathlib import Path

import polars as pl

from crm_core.data.ledger import STORED_LEDGER
from crm_core.data.schema import MANIFEST_FILE

__all__ = ["DEFAULT_SAMPLE", "GROUPED_FILES", "grouped_frames", "is_spark_snapshot"]

DEFAULT_SAMPLE = 10_000
"""Customers whose raw rows a Spark-built snapshot keeps for drill-downs."""

GROUPED_FILES = {
    "bgnbd": "inputs_bgnbd.parquet",
    "spend": "inputs_spend.parquet",
    "contracts": "inputs_contracts.parquet",
}
"""Grouped model inputs at the as-of date (:func:`crm_core.clv.fitted.grouped_inputs` form:
the distinct rows and the number of customers each stands for), by kind: BG/NBD and
Gamma-Gamma (non-contractual) or sBG contracts (contractual)."""


def grouped_frames(path: str | os.PathLike[str]) -> dict[str, pl.DataFrame]:
    """The grouped model inputs of the snapshot folder at ``path``, by
    :data:`GROUPED_FILES` key (those of the other business model are absent)."""
    folder = Path(path)
    return {
        k: pl.read_parquet(folder / f) for k, f in GROUPED_FILES.items() if (folder / f).exists()
    }


def is_spark_snapshot(path: str | os.PathLike[str]) -> bool:
    """Whether the snapshot folder carries a precomputed ledger (raw rows are a sample)."""
    try:
        raw = json.loads((Path(path) / MANIFEST_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(raw, dict) and STORED_LEDGER in raw
