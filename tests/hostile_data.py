"""A snapshot whose every data-derived name is hostile markup (for the markup-safety tests).

Not a conftest: test modules import :func:`hostile_snapshot` and :data:`PAYLOADS`. The
snapshot is the sample company with its customer ids, acquisition channels, purchase
channels, regions, service touchpoints and company name replaced by strings that Markdown,
Streamlit's directives, HTML or a spreadsheet would interpret: a link to ``javascript:``, an
image fetched from ``127.0.0.1:9`` (nothing listens there), ``:red[]``, ``<img onerror>``,
formulas. Shown correctly, each is literal text and the browser requests nothing.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl

from crm_core.data.schema import C

__all__ = ["ALL_NAMES", "COMPANY", "FORMULAS", "PAYLOADS", "hostile_snapshot"]

PAYLOADS = (
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    ":red[x]",
    "![](http://127.0.0.1:9/p.png)",
)
"""The four names of the issue: each must be shown exactly as typed."""

FORMULAS = ('=HYPERLINK("http://127.0.0.1:9","x")', "+1+2", "-3+4", "@SUM(A1)")
"""Cells a spreadsheet would run: a CSV must write them with a leading apostrophe."""

COMPANY = "<b>Acme</b> :red[Co] [home](javascript:alert(1))"

CHANNEL_NAMES = (*PAYLOADS, FORMULAS[0])
REGION_NAMES = ("<i>South</i>east & co", ":blue-background[West]", "[Mid](http://127.0.0.1:9/m)west",
                "**North**east ![i](http://127.0.0.1:9/r.png)")  # fmt: skip
PURCHASE_CHANNEL_NAMES = (
    "<u>phone</u>",
    FORMULAS[1],
    "`app` $x$",
    "<a href=javascript:alert(1)>web</a>",
)
TOUCHPOINT_NAMES = ("<img src=http://127.0.0.1:9/t.png>", "[mail](http://127.0.0.1:9/)",
                    ":green[outlet]", FORMULAS[3], "web<br>site")  # fmt: skip


def _names(values: pl.Series, hostile: tuple[str, ...]) -> dict[str, str]:
    """The source's names (sorted) -> hostile names, in turn (kept distinct)."""
    out = {}
    for i, value in enumerate(sorted(values.drop_nulls().unique().to_list())):
        name = hostile[i % len(hostile)]
        out[value] = name if i < len(hostile) else f"{name} {i}"
    return out


ALL_NAMES = (*CHANNEL_NAMES, *REGION_NAMES, *PURCHASE_CHANNEL_NAMES, *TOUCHPOINT_NAMES)
"""Every hostile name but the customer ids and the company."""


def _customer_ids(ids: pl.Series) -> dict[str, str]:
    """Every customer id gets one of the payloads or formulas as a prefix (kept unique)."""
    prefixes = (*PAYLOADS, *FORMULAS)
    return {cid: f"{prefixes[i % len(prefixes)]} {cid}" for i, cid in enumerate(ids.to_list())}


def hostile_snapshot(source: Path, target: Path) -> Path:
    """Copy the snapshot at ``source`` to ``target`` with hostile names; returns ``target``.

    Values other than names (dates, amounts, costs) are unchanged, so every number the
    app shows is the source's.
    """
    target.mkdir(parents=True, exist_ok=True)
    customers = pl.read_parquet(source / "customers.parquet")
    ids = _customer_ids(customers[C.customer_id])

    def rename(frame: pl.DataFrame, column: str, mapping: dict[str, str]) -> pl.DataFrame:
        return frame.with_columns(pl.col(column).replace_strict(mapping, default=pl.col(column)))

    channels = _names(customers[C.acquisition_channel], CHANNEL_NAMES)
    customers = rename(customers, C.customer_id, ids)
    customers = rename(customers, C.acquisition_channel, channels)
    customers = rename(customers, C.region, _names(customers[C.region], REGION_NAMES))
    customers.write_parquet(target / "customers.parquet")
    tx = pl.read_parquet(source / "transactions.parquet")
    tx = rename(tx, C.customer_id, ids)
    tx = rename(tx, C.channel, _names(tx[C.channel], PURCHASE_CHANNEL_NAMES))
    tx.write_parquet(target / "transactions.parquet")
    if (source / "service_costs.parquet").exists():
        sc = pl.read_parquet(source / "service_costs.parquet")
        sc = rename(sc, C.customer_id, ids)
        sc = rename(sc, C.touchpoint, _names(sc[C.touchpoint], TOUCHPOINT_NAMES))
        sc.write_parquet(target / "service_costs.parquet")
    if (source / "prospects.parquet").exists():
        pr = pl.read_parquet(source / "prospects.parquet")
        pr = rename(pr, C.channel, channels)
        pr = rename(pr, C.converted_customer_id, ids)
        pr.write_parquet(target / "prospects.parquet")
    manifest = json.loads((source / "manifest.json").read_text())
    manifest["company"] = COMPANY
    manifest.pop("generator", None)
    (target / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return target


def copy_plain(source: Path, target: Path) -> Path:
    """A plain copy (for tests that compare the hostile snapshot's numbers with these)."""
    return Path(shutil.copytree(source, target))
