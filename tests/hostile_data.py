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

__all__ = ["COMPANY", "FORMULAS", "PAYLOADS", "hostile_snapshot"]

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

_CHANNELS = {
    "Social media": PAYLOADS[0],
    "Affiliate": PAYLOADS[1],
    "Paid search": PAYLOADS[2],
    "Referral": PAYLOADS[3],
    "Retail store": FORMULAS[0],
}
_REGIONS = {
    "Southeast": "<i>South</i>east & co",
    "West": ":blue-background[West]",
    "Midwest": "[Mid](http://127.0.0.1:9/m)west",
    "Northeast": "**North**east ![i](http://127.0.0.1:9/r.png)",
}
_PURCHASE_CHANNELS = {
    "phone": "<u>phone</u>",
    "store": FORMULAS[1],
    "app": "`app` $x$",
    "web": "<a href=javascript:alert(1)>web</a>",
}
_TOUCHPOINTS = {
    "field": "<img src=http://127.0.0.1:9/t.png>",
    "mail": "[mail](http://127.0.0.1:9/)",
    "outlet": ":green[outlet]",
    "call_center": FORMULAS[3],
    "web": "web<br>site",
}


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

    customers = rename(customers, C.customer_id, ids)
    customers = rename(customers, C.acquisition_channel, _CHANNELS)
    customers = rename(customers, C.region, _REGIONS)
    customers.write_parquet(target / "customers.parquet")
    tx = pl.read_parquet(source / "transactions.parquet")
    tx = rename(rename(tx, C.customer_id, ids), C.channel, _PURCHASE_CHANNELS)
    tx.write_parquet(target / "transactions.parquet")
    if (source / "service_costs.parquet").exists():
        sc = pl.read_parquet(source / "service_costs.parquet")
        sc = rename(rename(sc, C.customer_id, ids), C.touchpoint, _TOUCHPOINTS)
        sc.write_parquet(target / "service_costs.parquet")
    if (source / "prospects.parquet").exists():
        pr = pl.read_parquet(source / "prospects.parquet")
        pr = rename(pr, C.channel, _CHANNELS)
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
