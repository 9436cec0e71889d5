"""The business rules every page shares: when a customer is *active*, and lifecycle stages.

There is one rule for "active" in the product (:class:`ActivityRule`), applied by the
customer ledger (:mod:`crm_core.data.ledger`) at every period end; every page, the CLI and
the deck count active customers, retention, churn and lifecycle stages from that column.

* **contractual** businesses (subscriptions): a customer is active at ``t`` when acquired on
  or before ``t`` and their contract has not ended by ``t`` (``churned_on`` null or after
  ``t``).
* **non-contractual** businesses (retail, cards): churn is not observed, so it is inferred
  from the customer's own rhythm. A customer is active at ``t`` when acquired on or before
  ``t`` and their last activity (last purchase day, or the acquisition date if later or if
  they have not bought yet) lies at most ``lapse_after_days`` days before ``t``, where::

      lapse_after_days = clamp(lapse_gap_multiple x usual gap, min_lapse_days, max_lapse_days)

  and the *usual gap* is the mean number of days between the customer's purchase days up
  to ``t``, ``(last - first) / (purchase days - 1)`` (unknown with fewer than two purchase
  days: the floor applies). With the defaults, anyone who bought in the last 12 months is
  active, and a customer who buys every 5 months stays active for 20 months without a
  purchase (never more than 24).

A *purchase day* is a calendar day whose net amount (purchases minus refunds booked that
day) is >= 0, as for the CLV models (:mod:`crm_core.clv.summary`).

:class:`StageRules` splits the active customers into lifecycle stages (new, growing,
mature, declining); inactive customers are *churned*. The rules are tried in the order
churned, new, declining, growing, mature, and the first that holds gives the stage:

* **new** - acquired less than ``new_days`` ago;
* **declining** - overdue (no activity for more than ``decline_gap_multiple`` x the usual
  gap and more than ``decline_after_days`` days), or spend in the recent trend window below
  ``1 - decline_drop`` x the previous window, or (optionally) BG/NBD P(alive) below
  ``decline_p_alive``;
* **growing** - spend in the recent window above ``1 + growth_rise`` x the previous one, or
  acquired less than ``mature_days`` ago;
* **mature** - the rest: ``mature_days`` or more since acquisition, steady spend.

The trend windows are the ``trend_months`` months up to the date and the ``trend_months``
before them; they are compared only for customers acquired before both windows who normally
buy in every window (usual gap shorter than a window), so a customer who buys twice a year
is not called declining for an empty half-year.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["DEFAULT_ACTIVITY", "DEFAULT_STAGES", "ActivityRule", "StageRules"]


def _whole(owner: object, name: str, low: int) -> None:
    value = getattr(owner, name)
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name} must be a whole number >= {low}, got {value!r}")


def _number(owner: object, name: str, low: float, high: float | None = None) -> None:
    value = getattr(owner, name)
    ok = (
        not isinstance(value, bool)
        and isinstance(value, int | float)
        and math.isfinite(value)
        and value >= low
        and (high is None or value <= high)
    )
    if not ok:
        span = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ValueError(f"{name} must be a number {span}, got {value!r}")


@dataclass(frozen=True)
class ActivityRule:
    """When a non-contractual customer counts as active (see the module docstring).

    Attributes
    ----------
    lapse_gap_multiple
        A customer lapses after this many times their usual gap between purchase days.
        Default 4.
    min_lapse_days
        Floor of the lapse threshold in days: a purchase keeps a customer active at least
        this long. Default 365 (a year).
    max_lapse_days
        Cap of the lapse threshold in days (``None``: no cap). Default 730 (two years).
    """

    lapse_gap_multiple: float = 4.0
    min_lapse_days: int = 365
    max_lapse_days: int | None = 730

    def __post_init__(self) -> None:
        _number(self, "lapse_gap_multiple", 0.0)
        _whole(self, "min_lapse_days", 1)
        if self.max_lapse_days is not None:
            _whole(self, "max_lapse_days", 1)
            if self.max_lapse_days < self.min_lapse_days:
                raise ValueError(
                    f"max_lapse_days ({self.max_lapse_days}) must not be below "
                    f"min_lapse_days ({self.min_lapse_days})"
                )

    def definition(self, *, contractual: bool) -> str:
        """The rule in one sentence, for tooltips and the appendix."""
        if contractual:
            return "Active: acquired and under contract at the date (the contract has not ended)."
        cap = "" if self.max_lapse_days is None else f", at most {self.max_lapse_days} days"
        return (
            f"Active: bought within {self.min_lapse_days} days, or within "
            f"{self.lapse_gap_multiple:g}x the customer's usual gap between purchases "
            f"when that is longer{cap}."
        )


@dataclass(frozen=True)
class StageRules:
    """Thresholds of the lifecycle stages of active customers (see the module docstring).

    Attributes
    ----------
    new_days
        *New* for this many days after acquisition. Default 90.
    mature_days
        Days since acquisition from which a steady customer is *mature* rather than
        *growing*. Default 365.
    trend_months
        Length in months of the two trend windows compared for *growing* and *declining*;
        a multiple of the ledger's period (3 months, or 1 for contractual businesses).
        Default 6.
    growth_rise
        *Growing*: recent window above ``(1 + growth_rise)`` x the previous. Default 0.25.
    decline_drop
        *Declining*: recent window below ``(1 - decline_drop)`` x the previous. Default 0.5.
    decline_gap_multiple, decline_after_days
        *Declining* (overdue): no activity for more than ``decline_gap_multiple`` x the
        usual gap and more than ``decline_after_days`` days. Defaults 2.0 and 90.
    decline_p_alive
        If set (e.g. 0.5), a non-contractual customer whose BG/NBD probability of still
        being active is below it is *declining* too. Default ``None``.
    prospect_days
        Leads first contacted more than this many days ago and not converted no longer
        count as prospects (``None``: every unconverted lead counts). Default 365.
    """

    new_days: int = 90
    mature_days: int = 365
    trend_months: int = 6
    growth_rise: float = 0.25
    decline_drop: float = 0.5
    decline_gap_multiple: float = 2.0
    decline_after_days: int = 90
    decline_p_alive: float | None = None
    prospect_days: int | None = 365

    def __post_init__(self) -> None:
        _whole(self, "new_days", 1)
        _whole(self, "mature_days", 1)
        _whole(self, "trend_months", 1)
        _whole(self, "decline_after_days", 0)
        _number(self, "growth_rise", 0.0)
        _number(self, "decline_drop", 0.0, 1.0)
        _number(self, "decline_gap_multiple", 0.0)
        if self.decline_p_alive is not None:
            _number(self, "decline_p_alive", 0.0, 1.0)
        if self.prospect_days is not None:
            _whole(self, "prospect_days", 1)

    def trend_periods(self, period_months: int) -> int:
        """The trend window in ledger periods.

        Raises
        ------
        ValueError
            If ``trend_months`` is not a whole number of periods.
        """
        if self.trend_months % period_months:
            raise ValueError(
                f"trend_months ({self.trend_months}) must be a multiple of the ledger's "
                f"period of {period_months} months"
            )
        return self.trend_months // period_months


DEFAULT_ACTIVITY = ActivityRule()
"""The product's rule for an active customer."""

DEFAULT_STAGES = StageRules()
"""The default lifecycle stage thresholds."""
