"""crm_core: the analytics core of the CRM economics dashboard.

Pure Python on polars: snapshots in, polars frames and frozen dataclasses out. Never
imports Streamlit. The names in ``__all__`` are the public contract (ARCHITECTURE.md).
Importing the package has no side effects.
"""

from crm_core.clv import (
    BGNBDModel,
    ClvBands,
    ClvResult,
    GammaGammaModel,
    HoldoutCheck,
    ModelFitError,
    SBGModel,
    clv_bands,
    clv_contribution,
    clv_profit,
    clv_retention,
    clv_revenue,
    customer_clv,
    fit_bgnbd,
    fit_gamma_gamma,
    fit_sbg,
    holdout_check,
    ltv_table,
    ltv_table_from_cohort,
)
from crm_core.cohorts import CohortReport, cohort_retention
from crm_core.errors import SnapshotError
from crm_core.funnel import FunnelReport, lifecycle_funnel
from crm_core.lifecycle import (
    STAGES,
    LifecycleReport,
    StageRules,
    Transitions,
    assign_stages,
    lifecycle_report,
    stage_transitions,
)
from crm_core.overview import ClvHeadline, Kpi, OverviewReport, overview_report
from crm_core.profit import ProfitWindow, customer_profit, customer_profit_lazy
from crm_core.rfm import RFMMigration, RFMReport, rfm_migration, rfm_report
from crm_core.sample import generate_sample
from crm_core.scenarios import delete_scenario, list_scenarios, load_scenario, save_scenario
from crm_core.segments import (
    SegmentReport,
    ValueMatrix,
    WhaleStats,
    assign_tiers,
    segment_report,
    tier_table,
    top_share,
)
from crm_core.snapshot import Manifest, Snapshot, find_snapshots, load_snapshot, write_snapshot
from crm_core.summary import rfm_summary
from crm_core.tenure import TenureProfit, tenure_profit
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
from crm_core.whatif_baseline import SEGMENTATIONS, Baseline, baseline_segments
from crm_core.whatif_optimize import (
    BreakEven,
    BudgetAllocation,
    break_even,
    break_even_table,
    optimize_retention_budget,
    sensitivity,
)

__all__ = [
    "SEGMENTATIONS",
    "STAGES",
    "BGNBDModel",
    "Band",
    "Baseline",
    "BreakEven",
    "BudgetAllocation",
    "ClvBands",
    "ClvHeadline",
    "ClvResult",
    "CohortReport",
    "FunnelReport",
    "GammaGammaModel",
    "HoldoutCheck",
    "Kpi",
    "Levers",
    "LifecycleReport",
    "Manifest",
    "ModelFitError",
    "OverviewReport",
    "ProfitWindow",
    "RFMMigration",
    "RFMReport",
    "RetentionUplift",
    "SBGModel",
    "Scenario",
    "Segment",
    "SegmentReport",
    "SimulationResult",
    "Snapshot",
    "SnapshotError",
    "StageRules",
    "TenureProfit",
    "Transitions",
    "Uncertainty",
    "ValueMatrix",
    "WhaleStats",
    "apply_scenario",
    "assign_stages",
    "assign_tiers",
    "baseline_segments",
    "break_even",
    "break_even_table",
    "clv_bands",
    "clv_contribution",
    "clv_profit",
    "clv_retention",
    "clv_revenue",
    "cohort_retention",
    "customer_clv",
    "customer_profit",
    "customer_profit_lazy",
    "delete_scenario",
    "find_snapshots",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "fit_sbg",
    "generate_sample",
    "holdout_check",
    "lifecycle_funnel",
    "lifecycle_report",
    "list_scenarios",
    "load_scenario",
    "load_snapshot",
    "ltv_table",
    "ltv_table_from_cohort",
    "optimize_retention_budget",
    "overview_report",
    "retention_uplift",
    "rfm_migration",
    "rfm_report",
    "rfm_summary",
    "run_scenario",
    "save_scenario",
    "segment_report",
    "sensitivity",
    "simulate",
    "stage_transitions",
    "tenure_profit",
    "tier_table",
    "top_share",
    "write_snapshot",
]
