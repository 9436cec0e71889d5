"""``crm metrics``: every metric the pages show.

With ``--json`` the output has ``headline``, the metrics scripts and alerts read
(:data:`HEADLINE`, plus MRR and ARR for subscriptions), as ``{key: value}``, and
``metrics``, every registry metric with its label, unit, definition and the values a
quarter and a year earlier.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from crm_core.cli._args import iso_date
from crm_core.data.snapshot import load_snapshot
from crm_core.formatting import fmt_kind

ORDER = 30
HEADLINE = (
    "active_customers",
    "revenue_ttm",
    "nrr",
    "grr",
    "quick_ratio",
    "average_clv",
    "customer_equity",
    "ltv_cac",
)
"""The headline metrics of ``--json`` (registry keys)."""
RECURRING = ("mrr", "arr")


def _cmd_metrics(args: argparse.Namespace) -> int:
    import json

    from crm_core.metrics.compute import snapshot_metrics
    from crm_core.metrics.registry import METRICS, kpis

    snap = load_snapshot(args.snapshot)
    if args.as_of is not None:
        snap = snap.cut(args.as_of)
    inputs = snapshot_metrics(snap)
    cards = kpis(inputs, tuple(METRICS), history=2)
    result = inputs.clv.get(0)
    headline = (*HEADLINE, *RECURRING) if inputs.ledger.contractual else HEADLINE
    values = {k.key: k.value for k in cards}
    report = {
        "company": snap.manifest.company,
        "as_of": snap.as_of.isoformat(),
        "currency": snap.currency,
        "business_model": snap.manifest.business_model,
        "clv_method": result.method if result is not None else None,
        "clv_note": inputs.clv_note,
        "headline": {key: values[key] for key in headline},
        "metrics": [
            {
                "key": k.key,
                "label": k.label,
                "unit": k.kind,
                "definition": METRICS[k.key].definition,
                "value": k.value,
                "previous_quarter": k.previous,
                "year_ago": k.year_ago,
            }
            for k in cards
        ],
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for k in cards:
            print(f"{k.label}: {fmt_kind(k.value, k.kind, snap.currency)}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's commands to the ``crm`` parser."""
    p = sub.add_parser(
        "metrics",
        help="print every company metric (the numbers the pages show)",
        description="Every metric of the dashboard at the snapshot's date (or an earlier "
        "one), with the previous quarter's and a year ago's value and its definition.",
    )
    p.add_argument("--snapshot", required=True, type=Path, help="snapshot folder")
    p.add_argument("--as-of", type=iso_date, default=None, help="an earlier date (YYYY-MM-DD)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=_cmd_metrics)
