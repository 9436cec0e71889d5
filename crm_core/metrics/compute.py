"""The metric inputs of a snapshot in one call (the CLI, the deck and tests).

The app builds the same inputs from its cached ledger and model sets
(``crm_app.loaders.base.metrics``); this function is the uncached equivalent, so both
give the same numbers: the ledger once, the CLV model set fitted at the as-of date and at
the previous quarter end, each valued at the default horizon.
"""

from __future__ import annotations

from crm_core.clv.fitted import fit_models
from crm_core.clv.valuation import ClvResult, value
from crm_core.data.ledger import Ledger, build_ledger
from crm_core.data.snapshot import Snapshot
from crm_core.errors import DataError
from crm_core.metrics.quarters import quarter_periods
from crm_core.metrics.registry import MetricInputs, metric_inputs

__all__ = ["CLV_QUARTERS", "ledger_metrics", "snapshot_metrics"]

CLV_QUARTERS = (0, 1)
"""Quarter ends (back from the as-of date) at which the CLV model set is fitted."""


def ledger_metrics(ledger: Ledger) -> MetricInputs:
    """Metric inputs of ``ledger``: its quarterly totals and the CLV valuations at the
    quarter ends :data:`CLV_QUARTERS` (missing where the model cannot be fitted)."""
    clv: dict[int, ClvResult] = {}
    note = None
    for q in CLV_QUARTERS:
        period = q * quarter_periods(ledger)
        if period >= ledger.periods:
            continue
        try:
            clv[q] = value(fit_models(ledger, period))
        except DataError as exc:
            if q == 0:
                note = str(exc)
    return metric_inputs(ledger, clv, note)


def snapshot_metrics(snapshot: Snapshot) -> MetricInputs:
    """:func:`ledger_metrics` of the snapshot's ledger at its as-of date."""
    return ledger_metrics(build_ledger(snapshot))
