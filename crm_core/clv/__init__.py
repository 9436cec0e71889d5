"""CLV models: closed forms, the LTV table, BG/NBD, Gamma-Gamma, sBG and per-customer CLV."""

from crm_core.clv.bgnbd import BGNBDModel, fit_bgnbd
from crm_core.clv.errors import ModelFitError
from crm_core.clv.gamma_gamma import GammaGammaModel, fit_gamma_gamma
from crm_core.clv.sbg import SBGModel, fit_sbg, fit_sbg_censored

__all__ = [
    "BGNBDModel",
    "GammaGammaModel",
    "ModelFitError",
    "SBGModel",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "fit_sbg",
    "fit_sbg_censored",
]
