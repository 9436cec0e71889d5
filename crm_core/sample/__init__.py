"""A deterministic synthetic company, realistic enough to demonstrate every page.

``generate_sample`` writes one valid snapshot with about three years of history up to
``as_of``:

* customers are acquired in quarterly cohorts (growing, with a Q4 peak) through channels
  with different acquisition costs and customer quality;
* non-contractual (retail) purchasing follows a BG/NBD process (Fader, Hardie & Lee 2005):
  each customer buys at a Gamma-distributed weekly rate and may drop out after each
  purchase with a Beta-distributed probability; spend per purchase follows the
  Gamma-Gamma model; purchases are thinned by a monthly seasonality curve (a December
  peak) and spend grows mildly with tenure;
* contractual (subscription) customers pay a monthly plan fee until they cancel; the
  monthly cancellation probability is Beta-distributed across customers, the
  shifted-beta-geometric process of Fader & Hardie (2007), so retention rises with tenure;
* a few percent of purchases are refunded (negative amounts) and every customer costs
  money to serve through touchpoints (web, mail, call centre, outlet, field visits);
  low-value customers lean on the expensive ones, so some customers lose money and the
  whale curve rises above 100%;
* prospects are recorded with their first contact; some convert into customers.

Everything is drawn from ``numpy.random.default_rng`` streams derived from ``seed``, in
fixed chunks of customers, so the same arguments always give the same snapshot and
memory stays bounded (1,000,000 customers with about 20 million transactions fit in a few
GB).
"""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from crm_core.data.expressions import add_months
from crm_core.data.schema import BUSINESS_MODELS, CONTRACTUAL, NON_CONTRACTUAL, C
from crm_core.data.snapshot import Manifest, write_snapshot
from crm_core.sample.people import Chunk
from crm_core.sample.world import (
    CHUNK,
    DEFAULT_AS_OF,
    EPOCH,
    HISTORY_YEARS,
    RETAIL_CHANNELS,
    SUBSCRIPTION_CHANNELS,
)

__all__ = ["DEFAULT_AS_OF", "generate_sample"]


def generate_sample(
    path: str | os.PathLike[str],
    *,
    customers: int = 2000,
    seed: int = 7,
    as_of: date | str | None = None,
    business_model: str = NON_CONTRACTUAL,
    company: str | None = None,
) -> Path:
    """Write the snapshot of a synthetic company to ``path`` and return the folder.

    Parameters
    ----------
    path
        Snapshot folder to create (replaced atomically if it exists).
    customers
        Number of customers acquired over the three years of history.
    seed
        Seed of every random draw: the same arguments give the same snapshot.
    as_of
        Last day of the history (default 2026-09-30, a quarter end).
    business_model
        ``"non_contractual"`` (a retailer) or ``"contractual"`` (a subscription business
        whose customers' ``churned_on`` is filled when they cancel).
    company
        Company name in the manifest (default depends on the business model).
    """
    if business_model not in BUSINESS_MODELS:
        raise ValueError(
            f"business_model must be one of {', '.join(BUSINESS_MODELS)}, got {business_model!r}"
        )
    if customers < 1:
        raise ValueError(f"customers must be at least 1, got {customers}")
    end = _as_date(as_of) if as_of is not None else DEFAULT_AS_OF
    start = add_months(end, -12 * HISTORY_YEARS) + timedelta(days=1)
    contractual = business_model == CONTRACTUAL
    channels = SUBSCRIPTION_CHANNELS if contractual else RETAIL_CHANNELS
    streams = np.random.SeedSequence([seed, 1 if contractual else 0]).spawn(
        (customers + CHUNK - 1) // CHUNK + 1
    )

    acquired = _acquisition_days(np.random.default_rng(streams[0]), customers, start, end)
    width = max(6, len(str(customers)))
    customer_parts, tx_parts, service_parts, prospect_parts = [], [], [], []
    for index, lo in enumerate(range(0, customers, CHUNK)):
        hi = min(lo + CHUNK, customers)
        rng = np.random.default_rng(streams[index + 1])
        chunk = Chunk(
            rng=rng,
            first=lo,
            acquired=acquired[lo:hi],
            end=(end - EPOCH).days,
            channels=channels,
            width=width,
        )
        people = chunk.customers()
        purchases = chunk.subscriptions(people) if contractual else chunk.purchases(people)
        customer_parts.append(people.frame)
        tx_parts.append(purchases)
        service_parts.append(chunk.service(people, purchases))
        prospect_parts.append(chunk.prospects(people, start=(start - EPOCH).days))

    manifest = Manifest(
        as_of=end,
        company=company or ("Northwind Subscriptions" if contractual else "Northwind Outfitters"),
        currency="USD",
        business_model=business_model,
        discount_rate=0.10,
        extra={"generator": {"name": "crm_core.sample", "seed": seed, "customers": customers}},
    )
    prospects = pl.concat(prospect_parts)
    prospects = prospects.with_columns(
        pl.format("P{}", pl.int_range(1, pl.len() + 1).cast(pl.String).str.zfill(width + 1)).alias(
            C.prospect_id
        )
    ).select(C.prospect_id, C.first_contact, C.channel, C.converted_customer_id)
    return write_snapshot(
        path,
        manifest=manifest,
        customers=pl.concat(customer_parts),
        transactions=pl.concat(tx_parts),
        service_costs=pl.concat(service_parts),
        prospects=prospects.sort(C.first_contact, C.prospect_id),
    )


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _acquisition_days(rng: np.random.Generator, n: int, start: date, end: date) -> np.ndarray:
    """Acquisition day (days since 1970) of ``n`` customers in quarterly cohorts.

    Cohort sizes grow 5% a quarter with a fourth-quarter peak; days inside a quarter are
    uniform. Returned sorted, so customer ids follow acquisition order.
    """
    quarters: list[tuple[int, int, float]] = []
    q_start = start
    k = 0
    while q_start <= end:
        q_end = min(add_months(q_start, 3) - timedelta(days=1), end)
        weight = 1.05**k * (1.25 if q_start.month >= 10 else 1.0)
        quarters.append(((q_start - EPOCH).days, (q_end - EPOCH).days, weight))
        q_start = q_end + timedelta(days=1)
        k += 1
    weights = np.array([w for *_, w in quarters])
    cohort = rng.choice(len(quarters), size=n, p=weights / weights.sum())
    lo = np.array([q[0] for q in quarters])[cohort]
    hi = np.array([q[1] for q in quarters])[cohort]
    days = lo + np.floor(rng.random(n) * (hi - lo + 1)).astype(np.int64)
    return np.sort(days)
