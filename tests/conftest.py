"""Shared fixtures: sample snapshots (generated once per test session) and a builder of
tiny hand-made snapshots."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from crm_core.sample import generate_sample
from crm_core.snapshot import Snapshot

AS_OF = date(2026, 9, 30)


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default sample retailer (2,000 customers, seed 7), as the app shows it."""
    return generate_sample(tmp_path_factory.mktemp("snapshots") / "test-retail")


@pytest.fixture(scope="session")
def subscription_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default sample subscription business (contractual)."""
    return generate_sample(
        tmp_path_factory.mktemp("snapshots") / "test-subscription",
        business_model="contractual",
    )


def customer(cid: str, acquired: date, **kw: Any) -> dict[str, Any]:
    """One customers row with defaults."""
    return {
        "customer_id": cid,
        "acquired_on": acquired,
        "acquisition_channel": kw.get("channel", "Web"),
        "acquisition_cost": float(kw.get("cost", 0.0)),
        "region": kw.get("region", "North"),
        "churned_on": kw.get("churned_on"),
    }


def purchase(cid: str, day: date, amount: float, cost: float = 0.0) -> dict[str, Any]:
    """One transactions row."""
    return {
        "customer_id": cid,
        "date": day,
        "amount": float(amount),
        "cost": float(cost),
        "channel": "web",
    }


def contact(cid: str, day: date, touchpoint: str, cost: float) -> dict[str, Any]:
    """One service_costs row."""
    return {"customer_id": cid, "date": day, "touchpoint": touchpoint, "cost": float(cost)}


SCHEMAS = {
    "customers": {
        "customer_id": pl.String,
        "acquired_on": pl.Date,
        "acquisition_channel": pl.String,
        "acquisition_cost": pl.Float64,
        "region": pl.String,
        "churned_on": pl.Date,
    },
    "transactions": {
        "customer_id": pl.String,
        "date": pl.Date,
        "amount": pl.Float64,
        "cost": pl.Float64,
        "channel": pl.String,
    },
    "service_costs": {
        "customer_id": pl.String,
        "date": pl.Date,
        "touchpoint": pl.String,
        "cost": pl.Float64,
    },
    "prospects": {
        "prospect_id": pl.String,
        "first_contact": pl.Date,
        "channel": pl.String,
        "converted_customer_id": pl.String,
    },
}


@pytest.fixture
def make_snapshot() -> Callable[..., Snapshot]:
    """Build a validated in-memory snapshot from lists of row dicts."""

    def build(
        customers: list[dict[str, Any]],
        transactions: list[dict[str, Any]],
        service_costs: list[dict[str, Any]] | None = None,
        prospects: list[dict[str, Any]] | None = None,
        *,
        as_of: date = AS_OF,
        business_model: str = "non_contractual",
        discount_rate: float = 0.10,
    ) -> Snapshot:
        def frame(name: str, rows: list[dict[str, Any]] | None) -> pl.DataFrame | None:
            return None if rows is None else pl.DataFrame(rows, schema=SCHEMAS[name])

        return Snapshot.from_frames(
            {
                "schema_version": 1,
                "as_of": as_of.isoformat(),
                "company": "Test Co",
                "business_model": business_model,
                "discount_rate": discount_rate,
            },
            customers=frame("customers", customers),
            transactions=frame("transactions", transactions),
            service_costs=frame("service_costs", service_costs),
            prospects=frame("prospects", prospects),
        )

    return build
