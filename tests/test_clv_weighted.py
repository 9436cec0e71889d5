"""Model fits on weighted distinct rows equal the fits on every customer.

The BG/NBD likelihood depends on a customer only through ``(frequency, recency, T)``,
Gamma-Gamma's through ``(frequency, monetary_value)`` and sBG's through the period of loss
or censoring, so fitting the distinct rows with their counts must give the same
parameters and log-likelihood as fitting the customers one by one (the Spark build ships
only the distinct rows).
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_core.clv.bgnbd import fit_bgnbd
from crm_core.clv.fitted import (
    ACTIVE_CONTRACT,
    CONTRACT_KEYS,
    CUSTOMERS,
    PERIODS_PAID,
    SPEND_KEYS,
    fit_contract_sbg,
    fit_grouped,
    fit_models,
    grouped_inputs,
)
from crm_core.clv.gamma_gamma import fit_gamma_gamma
from crm_core.clv.simulate import simulate_bgnbd, simulate_gamma_gamma
from crm_core.clv.summary import FREQUENCY, MONETARY_VALUE, RECENCY, T_AGE
from crm_core.data.ledger import build_ledger
from crm_core.data.snapshot import load_snapshot

REL = 1e-6


def _close(a: float, b: float, rel: float = REL) -> bool:
    return abs(a - b) <= rel * max(abs(a), abs(b))


def _customers(seed: int, n: int) -> pl.DataFrame:
    """Simulated BG/NBD customers on whole weeks (so many share their history)."""
    rng = np.random.default_rng(seed)
    t = rng.integers(10, 30, size=n).astype(np.float64)
    x, tx = simulate_bgnbd(0.8, 6.0, 0.7, 2.5, t, rng)
    tx = np.minimum(np.ceil(tx), t) * (x > 0)
    spend = simulate_gamma_gamma(4.0, 3.0, 20.0, x, rng)
    return pl.DataFrame({FREQUENCY: x, RECENCY: tx, T_AGE: t, MONETARY_VALUE: np.round(spend, 0)})


def test_grouping_counts_every_customer_once() -> None:
    frame = pl.DataFrame(
        {FREQUENCY: [0, 2, 2, 0, 2], RECENCY: [0.0, 3.0, 3.0, 0.0, 4.0], T_AGE: [5.0] * 5}
    )
    rows = grouped_inputs(frame)
    assert rows.to_dicts() == [
        {FREQUENCY: 0, RECENCY: 0.0, T_AGE: 5.0, CUSTOMERS: 2},
        {FREQUENCY: 2, RECENCY: 3.0, T_AGE: 5.0, CUSTOMERS: 2},
        {FREQUENCY: 2, RECENCY: 4.0, T_AGE: 5.0, CUSTOMERS: 1},
    ]
    spend = pl.DataFrame({FREQUENCY: [0, 1, 1, 3], MONETARY_VALUE: [0.0, 5.0, 5.0, -1.0]})
    # non-repeaters and non-positive spend are not Gamma-Gamma customers
    assert grouped_inputs(spend, SPEND_KEYS).to_dicts() == [
        {FREQUENCY: 1, MONETARY_VALUE: 5.0, CUSTOMERS: 2}
    ]


@pytest.mark.parametrize("seed", [1, 2])
def test_weighted_distinct_rows_fit_like_every_customer(seed: int) -> None:
    people = _customers(seed, 4000)
    rows = grouped_inputs(people)
    assert rows.height < people.height / 2  # the grouping really compresses
    whole = fit_bgnbd(people[FREQUENCY], people[RECENCY], people[T_AGE])
    spenders = people.filter((pl.col(FREQUENCY) > 0) & (pl.col(MONETARY_VALUE) > 0))
    whole_gg = fit_gamma_gamma(spenders[FREQUENCY], spenders[MONETARY_VALUE])
    bg, gg = fit_grouped(rows, grouped_inputs(people, SPEND_KEYS))
    for got, want in zip(bg.params + gg.params, whole.params + whole_gg.params, strict=True):
        assert _close(got, want), (got, want)
    assert _close(bg.log_likelihood, whole.log_likelihood, 1e-10)
    assert _close(gg.log_likelihood, whole_gg.log_likelihood, 1e-10)
    assert (bg.n_customers, gg.n_customers) == (whole.n_customers, whole_gg.n_customers)
    assert _close(bg.r_se, whole.r_se, 1e-4)


def test_weights_are_numbers_of_identical_customers() -> None:
    """A row of weight k is k copies of the row (checked on rows that are not distinct)."""
    rng = np.random.default_rng(5)
    people = _customers(3, 600)
    k = rng.integers(1, 4, size=people.height)
    copies = people.select(pl.all().repeat_by(pl.lit(k)).explode())
    weighted = fit_bgnbd(
        people[FREQUENCY], people[RECENCY], people[T_AGE], weights=k.astype(np.float64)
    )
    repeated = fit_bgnbd(copies[FREQUENCY], copies[RECENCY], copies[T_AGE])
    for got, want in zip(weighted.params, repeated.params, strict=True):
        assert _close(got, want)
    assert _close(weighted.log_likelihood, repeated.log_likelihood, 1e-10)
    assert weighted.n_customers == copies.height


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 12), st.booleans(), st.integers(1, 5)), min_size=2, max_size=30
    )
)
def test_grouped_contracts_fit_like_every_contract(rows: list[tuple[int, bool, int]]) -> None:
    paid = [p for p, _, k in rows for _ in range(k)]
    active = [a for _, a, k in rows for _ in range(k)]
    every = pl.DataFrame({PERIODS_PAID: paid, ACTIVE_CONTRACT: active})
    try:
        whole = fit_contract_sbg(every)
    except ValueError:  # ModelFitError: the same data problem must be raised grouped too
        with pytest.raises(ValueError):
            fit_contract_sbg(grouped_inputs(every, CONTRACT_KEYS))
        return
    grouped = fit_contract_sbg(grouped_inputs(every, CONTRACT_KEYS))
    assert _close(grouped.alpha, whole.alpha) and _close(grouped.beta, whole.beta)
    assert _close(grouped.log_likelihood, whole.log_likelihood, 1e-10)
    assert grouped.n_customers == whole.n_customers


def test_grouped_fit_equals_the_ledger_fit_on_the_sample(sample_dir, subscription_dir) -> None:
    models = fit_models(build_ledger(load_snapshot(sample_dir)))
    bg, gg = fit_grouped(grouped_inputs(models.inputs), grouped_inputs(models.inputs, SPEND_KEYS))
    assert models.bgnbd is not None and models.gamma_gamma is not None
    for got, want in zip(
        bg.params + gg.params, models.bgnbd.params + models.gamma_gamma.params, strict=True
    ):
        assert _close(got, want)
    assert _close(bg.log_likelihood, models.bgnbd.log_likelihood, 1e-10)
    contracts = fit_models(build_ledger(load_snapshot(subscription_dir)))
    assert contracts.sbg is not None
    sbg = fit_contract_sbg(grouped_inputs(contracts.inputs, CONTRACT_KEYS))
    assert _close(sbg.alpha, contracts.sbg.alpha) and _close(sbg.beta, contracts.sbg.beta)
    assert _close(sbg.log_likelihood, contracts.sbg.log_likelihood, 1e-10)
