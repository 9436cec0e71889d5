"""Customers and their transactions, drawn chunk by chunk (see :mod:`crm_core.sample`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import polars as pl

from crm_core.data.schema import C
from crm_core.sample.world import (
    CONTACTS_HIGH,
    CONTACTS_LOW,
    COST_RATIO_HIGH,
    COST_RATIO_LOW,
    DROPOUT_A,
    DROPOUT_B,
    EPOCH,
    MARGIN_CURVE,
    PLANS,
    RATE_SCALE,
    RATE_SHAPE,
    REGIONS,
    SEASON_MAX,
    SEASONALITY,
    SPEND_GAMMA,
    SPEND_P,
    SPEND_Q,
    TOUCHPOINTS,
    TX_CHANNELS,
    VIP_RATE,
    VIP_SHARE,
    VIP_SPEND,
    Channel,
)


@dataclass(frozen=True)
class People:
    frame: pl.DataFrame  # customers table rows
    acquired: np.ndarray  # acquisition day (days since epoch)
    channel: np.ndarray  # index into channels
    value: np.ndarray  # value percentile in [0, 1] (drives touchpoint mix)
    rate_mult: np.ndarray
    dropout_mult: np.ndarray
    spend_mult: np.ndarray
    ids: np.ndarray  # customer_id strings


@dataclass
class Chunk:
    rng: np.random.Generator
    first: int
    acquired: np.ndarray
    end: int
    channels: tuple[Channel, ...]
    width: int

    @property
    def n(self) -> int:
        return len(self.acquired)

    def customers(self) -> People:
        rng = self.rng
        shares = np.array([c.share for c in self.channels])
        channel = rng.choice(len(self.channels), size=self.n, p=shares / shares.sum())
        cac = np.array([c.cac for c in self.channels])[channel] * rng.lognormal(0, 0.25, self.n)
        names = np.array([r for r, _ in REGIONS])
        region_p = np.array([p for _, p in REGIONS])
        region = names[rng.choice(len(names), size=self.n, p=region_p / region_p.sum())]
        numbers = np.arange(self.first + 1, self.first + self.n + 1).astype(str)
        ids = np.char.add("C", np.char.zfill(numbers, self.width))
        frame = pl.DataFrame(
            {
                C.customer_id: ids,
                C.acquired_on: _dates(self.acquired),
                C.acquisition_channel: np.array([c.name for c in self.channels])[channel],
                C.acquisition_cost: np.round(cac, 2),
                C.region: region,
                C.churned_on: pl.Series([None] * self.n, dtype=pl.Date),
            }
        )
        pick = np.array
        return People(
            frame=frame,
            acquired=self.acquired,
            channel=channel,
            value=rng.random(self.n),  # replaced once spend and rate are known
            rate_mult=pick([c.rate for c in self.channels])[channel],
            dropout_mult=pick([c.dropout for c in self.channels])[channel],
            spend_mult=pick([c.spend for c in self.channels])[channel],
            ids=ids,
        )

    # ----------------------------------------------------------------- retail purchases

    def purchases(self, people: People) -> pl.DataFrame:
        """BG/NBD purchase histories with Gamma-Gamma spend, seasonality and refunds."""
        rng = self.rng
        n = self.n
        age = (self.end - people.acquired).astype(np.float64)  # days observed after acquisition
        weekly_rate = rng.gamma(shape=RATE_SHAPE, scale=RATE_SCALE, size=n) * people.rate_mult
        dropout = rng.beta(DROPOUT_A, DROPOUT_B, size=n) * people.dropout_mult
        # a latent class of key accounts buys more often, spends more and stays longer
        vip = rng.random(n) < VIP_SHARE
        weekly_rate = weekly_rate * np.where(vip, VIP_RATE, 1.0)
        daily_rate = weekly_rate / 7.0
        dropout = np.clip(dropout * np.where(vip, 0.5, 1.0), 1e-4, 0.95)
        repeats_before_dropout = rng.geometric(dropout) - 1
        # Gamma-Gamma spend: nu_i ~ Gamma(q, gamma), spend ~ Gamma(p, nu_i)
        p_shape, q_shape, gamma_scale = SPEND_P, SPEND_Q, SPEND_GAMMA
        nu = rng.gamma(shape=q_shape, scale=1 / gamma_scale, size=n)
        nu = nu / np.where(vip, VIP_SPEND, 1.0)
        mean_spend = p_shape / nu * people.spend_mult

        # thinning: candidate arrivals at the peak seasonal rate, accepted by season
        candidates = rng.poisson(daily_rate * SEASON_MAX * age)
        owner = np.repeat(np.arange(n), candidates)
        offset = np.floor(rng.random(owner.size) * age[owner]).astype(np.int64) + 1
        day = people.acquired[owner] + offset
        accept = rng.random(owner.size) < _season(day) / SEASON_MAX
        owner, day = owner[accept], day[accept]
        order = np.lexsort((day, owner))
        owner, day = owner[order], day[order]
        rank = _rank_within(owner, n)
        keep = rank < repeats_before_dropout[owner]
        owner, day = owner[keep], day[keep]

        # first purchase on the acquisition day, then the repeats
        owner = np.concatenate([np.arange(n), owner])
        day = np.concatenate([people.acquired, day])
        value = np.argsort(np.argsort(weekly_rate * mean_spend * (1 - dropout))) / max(n - 1, 1)
        object.__setattr__(people, "value", value)  # frozen dataclass: filled once, here
        tenure_years = (day - people.acquired[owner]) / 365.25
        amount = rng.gamma(shape=p_shape, scale=1.0, size=owner.size) / nu[owner]
        amount = amount * people.spend_mult[owner] * (1 + 0.06 * tenure_years)
        amount = np.round(np.maximum(amount, 1.0), 2)
        # low-value customers buy on promotion: their purchases carry a thinner margin
        cost_ratio = (
            COST_RATIO_LOW - (COST_RATIO_LOW - COST_RATIO_HIGH) * value[owner] ** MARGIN_CURVE
        )
        cost_ratio = np.clip(cost_ratio + rng.normal(0, 0.05, owner.size), 0.3, 0.95)
        cost = np.round(amount * cost_ratio, 2)

        tx_channel = self._preferred_channel(people)[owner]
        frame = self._transactions(people, owner, day, amount, cost, tx_channel)
        return pl.concat([frame, self._refunds(people, owner, day, amount, tx_channel)])

    def _preferred_channel(self, people: People) -> np.ndarray:
        # high-value customers buy online more, low-value ones by phone and in store
        v = people.value
        p = np.stack([0.30 + 0.25 * v, 0.35 - 0.15 * v, 0.15 + 0.10 * v, 0.20 - 0.20 * v], 1)
        p = np.clip(p, 0.01, None)
        p /= p.sum(1, keepdims=True)
        u = self.rng.random(self.n)[:, None]
        return np.array(TX_CHANNELS)[(u > np.cumsum(p, 1)).sum(1).clip(0, len(TX_CHANNELS) - 1)]

    def _transactions(self, people, owner, day, amount, cost, tx_channel) -> pl.DataFrame:
        return pl.DataFrame(
            {
                C.customer_id: people.ids[owner],
                C.date: _dates(day),
                C.amount: amount,
                C.cost: cost,
                C.channel: tx_channel,
            }
        )

    def _refunds(self, people, owner, day, amount, tx_channel, rate=0.045) -> pl.DataFrame:
        """Refunds of a share ``rate`` of purchases, 3-30 days later (negative amounts)."""
        rng = self.rng
        refunded = rng.random(owner.size) < rate
        refund_day = day + rng.integers(3, 31, size=owner.size)
        refunded &= refund_day <= self.end
        share = np.where(rng.random(owner.size) < 0.7, 1.0, rng.uniform(0.2, 0.8, owner.size))
        sel = np.flatnonzero(refunded)
        return self._transactions(
            people,
            owner[sel],
            refund_day[sel],
            -np.round(amount[sel] * share[sel], 2),
            np.zeros(sel.size),
            tx_channel[sel],
        )

    # ----------------------------------------------------------------- subscriptions

    def subscriptions(self, people: People) -> pl.DataFrame:
        """Monthly plan fees until cancellation (sBG), plus occasional add-on purchases."""
        rng = self.rng
        n = self.n
        monthly_churn = np.clip(rng.beta(0.8, 7.5, size=n) * people.dropout_mult, 1e-4, 0.95)
        months_paid = rng.geometric(monthly_churn)  # >= 1: the first month is always paid
        plan_p = np.array([p for *_, p in PLANS])
        upgrade = np.clip(people.spend_mult - 1.0, 0, None)  # sales-led customers buy bigger plans
        plan = rng.choice(len(PLANS), size=n, p=plan_p / plan_p.sum())
        plan = np.minimum(plan + (rng.random(n) < upgrade).astype(int), len(PLANS) - 1)
        fee = np.array([f for _, f, _ in PLANS])[plan]
        seats = 1 + rng.poisson(0.6 * (plan + 1), size=n)
        monthly = fee * seats

        churn_day = _month_offsets(people.acquired, months_paid)
        churned = churn_day <= self.end
        churned_on = (
            pl.Series(C.churned_on, churn_day, dtype=pl.Int32)
            .cast(pl.Date)
            .zip_with(pl.Series(churned), pl.Series([None] * n, dtype=pl.Date))
        )
        object.__setattr__(people, "frame", people.frame.with_columns(churned_on))

        # one bill per month started before cancellation and on or before as_of
        bill_months = np.minimum(months_paid, self._months_until_end(people.acquired))
        owner = np.repeat(np.arange(n), bill_months)
        month_index = _rank_within(owner, n)
        bill_day = _month_offsets(people.acquired[owner], month_index)
        keep = bill_day <= self.end
        owner, bill_day, month_index = owner[keep], bill_day[keep], month_index[keep]
        amount = np.round(monthly[owner] * (1 + 0.03 * (month_index // 12)), 2)
        cost = np.round(amount * np.clip(rng.normal(0.28, 0.03, owner.size), 0.15, 0.5), 2)

        # add-on purchases: Poisson while subscribed
        life_end = np.where(churned, churn_day, self.end)
        active_days = np.maximum(life_end - people.acquired, 0)
        addon_n = rng.poisson(active_days / 365.25 * 1.2 * (plan + 1))
        a_owner = np.repeat(np.arange(n), addon_n)
        a_day = people.acquired[a_owner] + np.floor(
            rng.random(a_owner.size) * np.maximum(active_days[a_owner], 1)
        ).astype(np.int64)
        a_amount = np.round(rng.gamma(2.0, 45.0, a_owner.size), 2) + 5
        a_cost = np.round(a_amount * 0.45, 2)

        value = np.argsort(np.argsort(monthly * (1 - monthly_churn))) / max(n - 1, 1)
        object.__setattr__(people, "value", value)
        tx_channel = np.where(rng.random(n) < 0.8, "web", "app")
        o = np.concatenate([owner, a_owner])
        d = np.concatenate([bill_day, a_day])
        frame = self._transactions(
            people,
            o,
            d,
            np.concatenate([amount, a_amount]),
            np.concatenate([cost, a_cost]),
            tx_channel[o],
        )
        refunds = self._refunds(people, owner, bill_day, amount, tx_channel[owner], rate=0.01)
        return pl.concat([frame, refunds])

    def _months_until_end(self, acquired: np.ndarray) -> np.ndarray:
        """Number of monthly anniversaries (the acquisition day included) up to ``end``."""
        a = pl.DataFrame({"a": _dates(acquired)})
        end = EPOCH + timedelta(days=self.end)
        months = a.select(
            (end.year - pl.col("a").dt.year()) * 12 + (end.month - pl.col("a").dt.month()) + 1
        ).to_series()
        return months.cast(pl.Int64).to_numpy()

    # ----------------------------------------------------------------- service and prospects

    def service(self, people: People, purchases: pl.DataFrame) -> pl.DataFrame:
        """Touchpoint contacts while the customer is active, costlier for low-value customers."""
        rng = self.rng
        n = self.n
        last = (
            purchases.group_by(C.customer_id)
            .agg(pl.col(C.date).max().alias("last"))
            .join(pl.DataFrame({C.customer_id: people.ids}), on=C.customer_id, how="right")
        )
        last_day = last.select((pl.col("last").cast(pl.Int64)).fill_null(0)).to_series().to_numpy()
        active_end = np.minimum(np.maximum(last_day + 45, people.acquired + 30), self.end)
        active_years = np.maximum(active_end - people.acquired, 0) / 365.25
        v = people.value
        rate = rng.gamma(1.5, (CONTACTS_LOW - (CONTACTS_LOW - CONTACTS_HIGH) * v) / 1.5, size=n)
        # onboarding contact plus contacts that fall with tenure (customers learn the ropes)
        count = 1 + rng.poisson(rate * active_years * 0.8)
        owner = np.repeat(np.arange(n), count)
        span = np.maximum(active_end - people.acquired, 0)[owner]
        offset = np.floor(rng.random(owner.size) ** 1.6 * (span + 1)).astype(np.int64)
        day = np.minimum(people.acquired[owner] + offset, self.end)

        names = list(TOUCHPOINTS)
        unit = np.array([TOUCHPOINTS[t][0] for t in names])
        low = np.array([TOUCHPOINTS[t][1] for t in names])
        high = np.array([TOUCHPOINTS[t][2] for t in names])
        mix = low[None, :] + (high - low)[None, :] * v[owner][:, None]
        mix /= mix.sum(1, keepdims=True)
        u = rng.random(owner.size)[:, None]
        tp = (u > np.cumsum(mix, 1)).sum(1).clip(0, len(names) - 1)
        cost = np.round(unit[tp] * rng.lognormal(0, 0.25, owner.size), 2)
        return pl.DataFrame(
            {
                C.customer_id: people.ids[owner],
                C.date: _dates(day),
                C.touchpoint: np.array(names)[tp],
                C.cost: cost,
            }
        )

    def prospects(self, people: People, *, start: int) -> pl.DataFrame:
        """Leads: 65% of customers came through one; 1.4 unconverted leads per converted one."""
        rng = self.rng
        names = np.array([c.name for c in self.channels])
        had_lead = np.flatnonzero(rng.random(self.n) < 0.65)
        lead_day = people.acquired[had_lead] - np.ceil(rng.exponential(21, had_lead.size))
        converted = pl.DataFrame(
            {
                C.first_contact: _dates(lead_day.astype(np.int64)),
                C.channel: names[people.channel[had_lead]],
                C.converted_customer_id: people.ids[had_lead],
            }
        )
        k = round(had_lead.size * 1.4)
        shares = np.array([c.share for c in self.channels])
        unconverted = pl.DataFrame(
            {
                C.first_contact: _dates(rng.integers(start, self.end + 1, size=k)),
                C.channel: names[rng.choice(len(names), size=k, p=shares / shares.sum())],
                C.converted_customer_id: pl.Series([None] * k, dtype=pl.String),
            }
        )
        return pl.concat([converted, unconverted])


def _season(day: np.ndarray) -> np.ndarray:
    months = _dates(day).dt.month().to_numpy() - 1
    return SEASONALITY[months]


def _dates(days: np.ndarray) -> pl.Series:
    return pl.Series(np.asarray(days, dtype=np.int32)).cast(pl.Date)


def _rank_within(owner: np.ndarray, n: int) -> np.ndarray:
    """0-based position of each element within its run of equal (sorted) owners."""
    counts = np.bincount(owner, minlength=n)
    starts = np.cumsum(counts) - counts
    return np.arange(owner.size) - starts[owner]


def _month_offsets(acquired: np.ndarray, months: np.ndarray) -> np.ndarray:
    """Day of the ``months``-th monthly anniversary after each acquisition day."""
    d = _dates(acquired)
    shifted = pl.DataFrame({"d": d, "m": months}).select(
        pl.col("d").dt.offset_by(pl.format("{}mo", pl.col("m")))
    )
    return shifted.to_series().cast(pl.Int32).to_numpy().astype(np.int64)
