"""CLV models: closed forms, the LTV table, BG/NBD, Gamma-Gamma, sBG and per-customer CLV.

Fit once, then value: :func:`fit_models` fits the model set of a customer ledger
(:mod:`crm_core.clv.fitted`), :func:`value` turns it into per-customer CLV at any horizon
(:mod:`crm_core.clv.valuation`). The submodules hold the details and cite the papers each
model comes from.
"""

from crm_core.clv.bgnbd import BGNBDModel, fit_bgnbd
from crm_core.clv.customer import customer_clv, parameter_table
from crm_core.clv.errors import ModelFitError
from crm_core.clv.fitted import FittedModels, fit_models
from crm_core.clv.formulas import (
    annuity_factor,
    clv_contribution,
    clv_profit,
    clv_retention,
    clv_revenue,
)
from crm_core.clv.gamma_gamma import GammaGammaModel, fit_gamma_gamma
from crm_core.clv.holdout import HoldoutCheck, calibration_choices, holdout_check
from crm_core.clv.ltv import (
    LTV_COLUMNS,
    Cohort,
    cohort_choices,
    cohort_years_observed,
    ltv_table,
    ltv_table_from_cohort,
    ltv_table_text,
    payback_finding,
    payback_year,
)
from crm_core.clv.margin import ContributionMargin, contribution_margin
from crm_core.clv.sbg import SBGModel, fit_sbg, fit_sbg_censored
from crm_core.clv.uncertainty import ClvBands, clv_bands, clv_bands_by
from crm_core.clv.valuation import DEFAULT_HORIZON_YEARS, ClvResult, value

__all__ = [
    "DEFAULT_HORIZON_YEARS",
    "LTV_COLUMNS",
    "BGNBDModel",
    "ClvBands",
    "ClvResult",
    "Cohort",
    "ContributionMargin",
    "FittedModels",
    "GammaGammaModel",
    "HoldoutCheck",
    "ModelFitError",
    "SBGModel",
    "annuity_factor",
    "calibration_choices",
    "clv_bands",
    "clv_bands_by",
    "clv_contribution",
    "clv_profit",
    "clv_retention",
    "clv_revenue",
    "cohort_choices",
    "cohort_years_observed",
    "contribution_margin",
    "customer_clv",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "fit_models",
    "fit_sbg",
    "fit_sbg_censored",
    "holdout_check",
    "ltv_table",
    "ltv_table_from_cohort",
    "ltv_table_text",
    "parameter_table",
    "payback_finding",
    "payback_year",
    "value",
]
