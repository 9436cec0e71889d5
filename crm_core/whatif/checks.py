"""Argument checks shared by the What-if modules: clear ``ValueError`` messages.

Bad arguments are programming or input errors, not data problems, so they raise
``ValueError`` (not :class:`crm_core.errors.DataError`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = [
    "MAX_HORIZON_YEARS",
    "PERIODS_PER_YEAR",
    "at_least",
    "check_discount",
    "check_horizon",
    "check_periods",
    "count",
    "number",
    "share",
]

MAX_HORIZON_YEARS = 100
PERIODS_PER_YEAR = (1, 4)
"""Projection steps a year: yearly, or quarterly."""


def number(owner: str, name: str, value: Any) -> float:
    """``value`` as a finite float, or a ValueError naming the owner and the field."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{owner}: {name} must be a number, got {value!r}")
    result = float(value)
    if not math.isfinite(result):
        raise ValueError(f"{owner}: {name} must be a finite number, got {value!r}")
    return result


def at_least(owner: str, name: str, value: Any, low: float) -> float:
    """A finite number ``>= low``."""
    result = number(owner, name, value)
    if result < low:
        raise ValueError(f"{owner}: {name} must be >= {low:g}, got {result:g}")
    return result


def share(owner: str, name: str, value: Any) -> float:
    """A fraction in [0, 1] (NaN and infinities rejected)."""
    result = number(owner, name, value)
    if not 0.0 <= result <= 1.0:
        raise ValueError(
            f"{owner}: {name} must be a fraction in [0, 1] (0.8 = 80% stay a year), got {result:g}"
        )
    return result


def count(owner: str, name: str, value: Any) -> int:
    """A whole number of customers ``>= 0``."""
    result = at_least(owner, name, value, 0.0)
    if not result.is_integer():
        raise ValueError(f"{owner}: {name} must be a whole number of customers, got {value!r}")
    return int(result)


def check_horizon(value: Any) -> int:
    """Projection horizon in whole years, 1..100."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"horizon_years must be a whole number of years, got {value!r}")
    if not 1 <= value <= MAX_HORIZON_YEARS:
        raise ValueError(f"horizon_years must be in 1..{MAX_HORIZON_YEARS}, got {value}")
    return int(value)


def check_discount(value: Any) -> float:
    """Yearly discount rate, a fraction in [0, 1]."""
    rate = number("simulate", "discount_rate", value)
    if not 0.0 <= rate <= 1.0:
        raise ValueError(
            f"discount_rate must be a yearly fraction in [0, 1] (0.10 = 10%), got {rate:g}"
        )
    return rate


def check_periods(value: Any) -> int:
    """Steps a year of a projection: 1 or 4."""
    if value not in PERIODS_PER_YEAR:
        raise ValueError(f"periods_per_year must be 1 or 4, got {value!r}")
    return int(value)
