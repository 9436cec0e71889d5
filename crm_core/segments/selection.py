"""Which customers a Segments analysis covers: filters by region and acquisition channel.

Tiers, medians, quintiles and shares are computed *within* the selection, so "tier A of
the North" is the best 10% of the North's customers. ``None`` or an empty list means no
restriction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import polars as pl

from crm_core.data.ledger import L, Ledger
from crm_core.data.schema import C

__all__ = ["FilterOptions", "Selection", "as_names", "filter_customers", "filter_options"]


def as_names(values: Iterable[str] | None, name: str) -> tuple[str, ...]:
    """Filter values as a sorted tuple of distinct names (``None`` -> empty: no filter).

    Raises
    ------
    ValueError
        For a single string or values that are not text.
    """
    if values is None:
        return ()
    if isinstance(values, str):
        raise ValueError(f"{name} must be a list of names, not the single text {values!r}")
    out = tuple(values)
    bad = [v for v in out if not isinstance(v, str)]
    if bad:
        raise ValueError(f"{name} must be names (text), got {bad[:5]!r}")
    return tuple(sorted(set(out)))


@dataclass(frozen=True)
class Selection:
    """Regions and acquisition channels kept (empty: all)."""

    regions: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()

    @classmethod
    def of(
        cls, regions: Iterable[str] | None = None, channels: Iterable[str] | None = None
    ) -> Selection:
        """Validated selection (see :func:`as_names`)."""
        return cls(as_names(regions, "regions"), as_names(channels, "channels"))

    @property
    def everyone(self) -> bool:
        """No filter."""
        return not self.regions and not self.channels

    def expr(self) -> pl.Expr:
        """True for the customers kept (needs ``region`` and ``acquisition_channel``)."""
        keep = pl.lit(True)
        if self.regions:
            keep &= pl.col(C.region).is_in(list(self.regions))
        if self.channels:
            keep &= pl.col(C.acquisition_channel).is_in(list(self.channels))
        return keep


def filter_customers(
    frame: pl.LazyFrame,
    regions: Iterable[str] | None = None,
    channels: Iterable[str] | None = None,
) -> pl.LazyFrame:
    """Keep the rows of customers in ``regions`` acquired through ``channels``."""
    selection = Selection.of(regions, channels)
    return frame if selection.everyone else frame.filter(selection.expr())


@dataclass(frozen=True)
class FilterOptions:
    """Values a user can filter customers on (sorted), and where the purchases start.

    Attributes
    ----------
    regions, channels
        Regions and acquisition channels of the ledger's customers.
    first_purchase
        The earliest purchase day (``None`` without purchases): RFM migration compares
        with period ends after it.
    """

    regions: tuple[str, ...]
    channels: tuple[str, ...]
    first_purchase: date | None = None


def filter_options(ledger: Ledger) -> FilterOptions:
    """Regions and acquisition channels of the ledger's customers, and its first purchase."""
    people = ledger.customers
    return FilterOptions(
        regions=tuple(people[C.region].drop_nulls().unique().sort().to_list()),
        channels=tuple(people[C.acquisition_channel].drop_nulls().unique().sort().to_list()),
        first_purchase=people[L.first_purchase].min(),  # type: ignore[arg-type]
    )
