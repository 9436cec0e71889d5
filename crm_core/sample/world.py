"""The synthetic company's world: channels, regions, touchpoints, plans, the purchase
process parameters and seasonality (see :mod:`crm_core.sample`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

DEFAULT_AS_OF = date(2026, 9, 30)
HISTORY_YEARS = 3
CHUNK = 100_000
EPOCH = date(1970, 1, 1)

# Monthly seasonality of purchase intensity (January .. December); a December peak.
SEASONALITY = np.array([0.85, 0.78, 0.9, 0.95, 1.0, 0.95, 0.9, 0.95, 1.0, 1.05, 1.3, 1.55])
SEASON_MAX = float(SEASONALITY.max())

# Retail purchase process (BG/NBD, weekly rate ~ Gamma(shape, scale); dropout ~ Beta(a, b))
# and spend (Gamma-Gamma: spend ~ Gamma(p, nu), nu ~ Gamma(q, rate gamma)); contacts per
# year for the lowest- and highest-value customers; direct-cost ratio of purchases by the
# lowest- and highest-value customers (MARGIN_CURVE bends it so only the best earn rich
# margins). Calibrated so the A/B/C table lands near the domain brief's 75/20/5% of profit.
RATE_SHAPE, RATE_SCALE = 4.0, 0.2
DROPOUT_A, DROPOUT_B = 0.7, 6.0
SPEND_P, SPEND_Q, SPEND_GAMMA = 4.0, 10.0, 90.0
CONTACTS_LOW, CONTACTS_HIGH = 4.0, 2.0
COST_RATIO_LOW, COST_RATIO_HIGH = 0.80, 0.30
MARGIN_CURVE = 3.0
VIP_SHARE, VIP_RATE, VIP_SPEND = 0.06, 3.0, 3.0


@dataclass(frozen=True)
class Channel:
    name: str
    share: float
    cac: float  # mean acquisition cost (currency)
    rate: float  # multiplier of the purchase rate
    dropout: float  # multiplier of the dropout (or cancellation) probability
    spend: float  # multiplier of spend per purchase


RETAIL_CHANNELS = (
    Channel("Paid search", 0.30, 57.0, 1.00, 1.00, 1.00),
    Channel("Social media", 0.24, 45.0, 0.85, 1.30, 0.85),
    Channel("Referral", 0.14, 21.0, 1.20, 0.70, 1.10),
    Channel("Retail store", 0.22, 33.0, 1.10, 0.90, 0.95),
    Channel("Affiliate", 0.10, 69.0, 0.90, 1.15, 1.05),
)
SUBSCRIPTION_CHANNELS = (
    Channel("Paid search", 0.32, 180.0, 1.0, 1.00, 1.00),
    Channel("Content marketing", 0.22, 120.0, 1.0, 0.85, 0.95),
    Channel("Referral", 0.14, 60.0, 1.0, 0.70, 1.05),
    Channel("Sales team", 0.17, 420.0, 1.0, 0.75, 1.60),
    Channel("Partner", 0.15, 240.0, 1.0, 1.10, 1.10),
)
REGIONS = (("Northeast", 0.28), ("Southeast", 0.22), ("Midwest", 0.24), ("West", 0.26))
TX_CHANNELS = ("web", "store", "app", "phone")
# touchpoint: (cost per contact, share of contacts for the lowest- and highest-value customers)
TOUCHPOINTS = {
    "web": (0.6, 0.20, 0.55),
    "mail": (2.5, 0.10, 0.18),
    "call_center": (11.0, 0.42, 0.14),
    "outlet": (16.0, 0.24, 0.08),
    "field": (120.0, 0.04, 0.05),
}
PLANS = (("Starter", 29.0, 0.50), ("Team", 79.0, 0.35), ("Business", 199.0, 0.15))
