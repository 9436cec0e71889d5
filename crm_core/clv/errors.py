"""The error raised when a CLV model cannot be fitted to the data it is given."""

from __future__ import annotations

from crm_core.errors import DataError

__all__ = ["ModelFitError"]


class ModelFitError(DataError):
    """A probability model could not be fitted: degenerate data or no proper maximum.

    Raised instead of returning parameters that do not describe the data, for example when
    nobody made a repeat purchase (BG/NBD, Gamma-Gamma), when the input holds NaN or
    negative counts, when nobody churned (sBG), or when the likelihood has no interior
    maximum (a parameter runs off to zero or infinity, or the optimiser stalls).
    """
