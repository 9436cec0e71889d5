"""crm_core: the analytics core of the CRM economics dashboard.

Pure Python on polars: snapshots in, polars frames and frozen dataclasses out. Never
imports Streamlit. The names in ``__all__`` are the public contract (ARCHITECTURE.md).
Importing the package has no side effects.
"""

from crm_core.clv import (
    BGNBDModel,
    ClvBands,
    ClvResult,
    ContributionMargin,
    FittedModels,
    GammaGammaModel,
    HoldoutCheck,
    ModelFitError,
    SBGModel,
    clv_bands,
    clv_contribution,
    clv_profit,
    clv_retention,
    clv_revenue,
    contribution_margin,
    customer_clv,
    fit_bgnbd,
    fit_gamma_gamma,
    fit_models,
    fit_sbg,
    holdout_check,
    ltv_table,
    ltv_table_from_cohort,
    value,
)
from crm_core.clv.summary import rfm_summary
from crm_core.data.ledger import Ledger, build_ledger
from crm_core.data.rules import ActivityRule
from crm_core.data.snapshot import Manifest, Snapshot, find_snapshots, load_snapshot, write_snapshot
from crm_core.errors import DataError, NotEnoughData, SnapshotError
from crm_core.lifecycle.cohorts import CohortReport, cohort_retention
from crm_core.lifecycle.funnel import FunnelReport, lifecycle_funnel
from crm_core.lifecycle.report import (
    STAGES,
    LifecycleReport,
    StageRules,
    Transitions,
    assign_stages,
    lifecycle_report,
    stage_transitions,
)
from crm_core.lifecycle.tenure import TenureProfit, tenure_profit
from crm_core.metrics.compute import snapshot_metrics
from crm_core.metrics.profit import ProfitWindow, customer_profit
from crm_core.metrics.registry import METRICS, Kpi, Metric
from crm_core.overview.report import OverviewReport, overview_report
from crm_core.sample import generate_sample
from crm_core.segments.report import (
    SegmentReport,
    ValueMatrix,
    WhaleStats,
    assign_tiers,
    segment_report,
    tier_table,
    top_share,
)
from crm_core.segments.rfm import RFMMigration, RFMReport, rfm_migration, rfm_report
from crm_core.whatif.baseline import SEGMENTATIONS, Baseline, baseline_segments
from crm_core.whatif.engine import (
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
from crm_core.whatif.optimize import (
    BreakEven,
    BudgetAllocation,
    break_even,
    break_even_table,
    optimize_retention_budget,
    sensitivity,
)
from crm_core.whatif.scenarios import delete_scenario, list_scenarios, load_scenario, save_scenario

__all__ = [
    "METRICS",
    "SEGMENTATIONS",
    "STAGES",
    "ActivityRule",
    "BGNBDModel",
    "Band",
    "Baseline",
    "BreakEven",
    "BudgetAllocation",
    "ClvBands",
    "ClvResult",
    "CohortReport",
    "ContributionMargin",
    "DataError",
    "FittedModels",
    "FunnelReport",
    "GammaGammaModel",
    "HoldoutCheck",
    "Kpi",
    "Ledger",
    "Levers",
    "LifecycleReport",
    "Manifest",
    "Metric",
    "ModelFitError",
    "NotEnoughData",
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
    "build_ledger",
    "clv_bands",
    "clv_contribution",
    "clv_profit",
    "clv_retention",
    "clv_revenue",
    "cohort_retention",
    "contribution_margin",
    "customer_clv",
    "customer_profit",
    "delete_scenario",
    "find_snapshots",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "fit_models",
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
    "snapshot_metrics",
    "stage_transitions",
    "tenure_profit",
    "tier_table",
    "top_share",
    "value",
    "write_snapshot",
]
