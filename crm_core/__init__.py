"""crm_core: the analytics core of the CRM economics dashboard.

Pure Python on polars: snapshots in, polars frames and frozen dataclasses out. Never
imports Streamlit. The names in ``__all__`` are the public contract (ARCHITECTURE.md).
Importing the package has no side effects.
"""

from crm_core.errors import SnapshotError
from crm_core.overview import ClvHeadline, Kpi, OverviewReport, overview_report
from crm_core.profit import ProfitWindow, customer_profit, customer_profit_lazy
from crm_core.sample import generate_sample
from crm_core.scenarios import delete_scenario, list_scenarios, load_scenario, save_scenario
from crm_core.snapshot import Manifest, Snapshot, find_snapshots, load_snapshot, write_snapshot
from crm_core.whatif import (
    Band,
    Levers,
    RetentionUplift,
    Scenario,
    Segment,
    SimulationResult,
    Uncertainty,
    apply_scenario,
    retention_uplift,
    run_scenario,
    simulate,
)
from crm_core.whatif_optimize import (
    BreakEven,
    BudgetAllocation,
    break_even,
    break_even_table,
    optimize_retention_budget,
    sensitivity,
)

__all__ = [
    "Band",
    "BreakEven",
    "BudgetAllocation",
    "ClvHeadline",
    "Kpi",
    "Levers",
    "Manifest",
    "OverviewReport",
    "ProfitWindow",
    "RetentionUplift",
    "Scenario",
    "Segment",
    "SimulationResult",
    "Snapshot",
    "SnapshotError",
    "Uncertainty",
    "apply_scenario",
    "break_even",
    "break_even_table",
    "customer_profit",
    "customer_profit_lazy",
    "delete_scenario",
    "find_snapshots",
    "generate_sample",
    "list_scenarios",
    "load_scenario",
    "load_snapshot",
    "optimize_retention_budget",
    "overview_report",
    "retention_uplift",
    "run_scenario",
    "save_scenario",
    "sensitivity",
    "simulate",
    "write_snapshot",
]
