"""Cut dates and the label: who churned within the horizon after a cut.

**Cuts.** A cut is a quarter end of the ledger (period ``k``, a multiple of the periods in
a quarter); features describe a customer with the data up to the cut's end only. With a
horizon of ``H`` periods (``horizon_quarters`` quarters):

* the **scoring** cut is period 0 (the as-of date): today's customers are scored;
* the **test** cut is period ``H``: its label is known at the as-of date;
* the **training** cuts of the validation are periods ``2H, 2H + q, 2H + 2q, ...`` (``q``
  periods a quarter): their labels are known by the test cut, so the test is truly out of
  time (nothing the model learns was observed after the test cut);
* the **refit** cuts train the model that scores today's customers with the same recipe on
  the latest labelled data: periods ``H, H + q, ...``.

**Label.** A customer is in a cut's population when active at the cut by the ledger's one
activity rule (:class:`crm_core.data.rules.ActivityRule`), and *churned* when not active by
the same rule at the end of period ``k - H``, ``H`` periods later: the rule applied at
``cut + N`` with ``N`` the horizon (the first option of the rule's wording: "not active by
the rule at cut + N"). For contractual businesses this is a contract ending
(``churned_on``) in ``(cut, cut + N]``; for non-contractual ones it is a customer whose
lapse threshold ``clamp(4 x usual gap, 365, 730)`` days runs out within ``N`` without a
purchase. Either way the label's churners are exactly the customers the ledger counts as
lost over those periods (the Overview's lost customers).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from crm_core.churn.columns import F
from crm_core.data.ledger import L, Ledger
from crm_core.errors import NotEnoughData
from crm_core.metrics.quarters import quarter_periods

__all__ = ["HORIZONS", "CutPlan", "labels", "plan_cuts", "population"]

HORIZONS = (1, 2, 4)
"""Horizons offered, in quarters: the next quarter, half-year and year."""


@dataclass(frozen=True)
class CutPlan:
    """Which ledger periods the churn model uses (module docstring).

    Attributes
    ----------
    horizon
        The horizon in ledger periods (``H``).
    horizon_quarters
        The same in quarters.
    quarter
        Ledger periods in a quarter (1, or 3 for monthly contractual ledgers).
    test
        The test cut (period ``H``).
    train
        Training cuts of the validation, latest first.
    refit
        Training cuts of the model that scores the as-of date, latest first.
    ends
        End date of every period the plan names, by period.
    """

    horizon: int
    horizon_quarters: int
    quarter: int
    test: int
    train: tuple[int, ...]
    refit: tuple[int, ...]
    ends: dict[int, date]

    @property
    def score(self) -> int:
        """The scoring cut: period 0, the as-of date."""
        return 0

    @property
    def cuts(self) -> tuple[int, ...]:
        """Every cut the plan uses, the scoring cut first."""
        return tuple(sorted({self.score, self.test, *self.train, *self.refit}))


def plan_cuts(ledger: Ledger, horizon_quarters: int = 1, training_cuts: int = 4) -> CutPlan:
    """The cuts of ``ledger`` for a horizon of ``horizon_quarters`` quarters.

    Parameters
    ----------
    ledger
        The customer ledger.
    horizon_quarters
        Quarters after the cut in which a churn counts (1: the next quarter).
    training_cuts
        At most this many training cuts (fewer when the history is shorter).

    Raises
    ------
    ValueError
        For a horizon or a number of cuts below 1.
    NotEnoughData
        When the history is too short for one training cut before the test cut.
    """
    if horizon_quarters < 1 or training_cuts < 1:
        raise ValueError("horizon_quarters and training_cuts must be at least 1")
    q = quarter_periods(ledger)
    h = horizon_quarters * q
    train = tuple(k for k in (2 * h + j * q for j in range(training_cuts)) if k < ledger.periods)
    if not train:
        months = 2 * horizon_quarters * 3
        raise NotEnoughData(
            f"the churn model needs a history of more than {months} months for a "
            f"{horizon_quarters}-quarter horizon (a test quarter end {horizon_quarters * 3} "
            "months back and a training one before it); this snapshot starts "
            f"{ledger.grid['period_start'][-1]:%d %b %Y}"
        )
    refit = tuple(k for k in (h + j * q for j in range(training_cuts)) if k < ledger.periods)
    ends = {k: ledger.period_end(k) for k in {0, h, *train, *refit}}
    return CutPlan(h, horizon_quarters, q, h, train, refit, ends)


def population(ledger: Ledger, cuts: tuple[int, ...]) -> pl.LazyFrame:
    """``cut, cid`` of every customer active at each cut (by the activity rule)."""
    return (
        ledger.lazy()
        .filter(pl.col(L.period).is_in(list(cuts)), pl.col(L.active))
        .select(pl.col(L.period).alias(F.cut), pl.col(L.cid).alias(F.cid))
    )


def labels(ledger: Ledger, cuts: tuple[int, ...], horizon: int) -> pl.LazyFrame:
    """``cut, cid, churned`` for the customers active at each cut: churned when not active
    by the activity rule ``horizon`` periods later (module docstring).

    Raises
    ------
    ValueError
        If a cut is less than ``horizon`` periods before the as-of date (its label is
        not known yet).
    """
    if any(k < horizon for k in cuts):
        raise ValueError(f"cuts {cuts} include one whose {horizon}-period label is unknown")
    later = ledger.lazy().filter(pl.col(L.period).is_in([k - horizon for k in cuts]))
    return population(ledger, cuts).join(
        later.select(
            (pl.col(L.period) + horizon).alias(F.cut),
            pl.col(L.cid).alias(F.cid),
            (~pl.col(L.active)).alias(F.churned),
        ),
        on=[F.cut, F.cid],
        how="inner",
    )
