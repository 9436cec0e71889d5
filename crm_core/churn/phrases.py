"""Each customer's reasons in words, from their own values (``"no purchase for 310 days,
5.1x their usual gap"``, ``"spend down 60% on the half-year before"``, ``"3 contacts via
call centre in a year"``).

The reasons themselves (which feature groups raise P(churn) most) come from
:mod:`crm_core.churn.reasons`; this module only words them, for the page, the CSV and
``crm churn --out``. Channel and touchpoint names are data: the phrases are plain text for
table and CSV cells, never Markdown.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Protocol

from crm_core.churn.columns import CHANNEL_PREFIX, TOUCHPOINT_CONTACTS_PREFIX, F, R
from crm_core.formatting import fmt_money, fmt_pct

__all__ = ["REASON_WORDS", "Context", "humanise", "reason_text"]


class Context(Protocol):
    """What the phrases need to know (a :class:`~crm_core.churn.report.ChurnReport`)."""

    @property
    def contractual(self) -> bool: ...

    @property
    def horizon_days(self) -> int: ...

    @property
    def currency(self) -> str: ...


def humanise(value: str) -> str:
    """A code as words: ``"call_center" -> "call center"``."""
    return value.replace("_", " ").strip()


def _number(value: object) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)  # type: ignore[arg-type]


def _times(ratio: float) -> str:
    return f"{ratio:.0f}x" if ratio >= 10 else f"{ratio:.1f}x"


def _silence(row: Mapping, report: Context) -> str:
    days = int(_number(row.get(F.days_since)) or 0)
    if report.contractual:
        return f"last payment or purchase {days} days ago"
    text = f"no purchase for {days} days"
    ratio = _number(row.get(F.gap_ratio))
    if ratio is not None and ratio >= 1.5:
        text += f", {_times(ratio)} their usual gap"
    left = _number(row.get(F.days_to_lapse))
    if left is not None and left <= report.horizon_days:
        text += f"; counted as lost in {max(int(left) + 1, 1)} days without one"
    return text


def _spend(row: Mapping, report: Context) -> str:
    change = _number(row.get(F.spend_change))
    if change is not None and change <= -0.1:
        return f"spend down {fmt_pct(-change)} on the half-year before"
    if change is not None and change >= 0.1:
        return f"spend up {fmt_pct(change)} on the half-year before"
    return f"spent {fmt_money(_number(row.get(F.revenue_y)) or 0.0, report.currency)} in a year"


def _frequency(row: Mapping, report: Context) -> str:
    recent = int(_number(row.get(F.purchase_days_h)) or 0)
    before = int(_number(row.get(F.purchase_days_prev_h)) or 0)
    if before > recent:
        return f"{recent} purchase days in six months, down from {before}"
    return f"{int(_number(row.get(F.purchase_days_y)) or 0)} purchase days in a year"


def _service(row: Mapping, report: Context) -> str:
    counts = {
        k.removeprefix(TOUCHPOINT_CONTACTS_PREFIX): _number(v) or 0.0
        for k, v in row.items()
        if k.startswith(TOUCHPOINT_CONTACTS_PREFIX)
    }
    cost = fmt_money(_number(row.get(F.service_cost_y)) or 0.0, report.currency)
    if counts and max(counts.values()) > 0:
        where = max(counts, key=lambda k: (counts[k], k))
        n = int(counts[where])
        contacts = "contact" if n == 1 else "contacts"
        return f"{n} {contacts} via {humanise(where)} in a year ({cost} in all)"
    return f"{int(_number(row.get(F.contacts_y)) or 0)} service contacts in a year ({cost})"


def _refunds(row: Mapping, report: Context) -> str:
    n = int(_number(row.get(F.refunds_y)) or 0)
    money = fmt_money(_number(row.get(F.refund_amount_y)) or 0.0, report.currency)
    return f"{n} refund{'s' if n != 1 else ''} in a year ({money})"


def _model(row: Mapping, report: Context) -> str:
    if report.contractual:
        p = _number(row.get(F.renewal_probability))
        return f"{fmt_pct(p)} chance of renewing through the horizon (sBG model)"
    return f"{fmt_pct(_number(row.get(F.p_alive)))} chance still active (BG/NBD model)"


def _contract(row: Mapping, report: Context) -> str:
    days = int(_number(row.get(F.days_to_renewal)) or 0)
    paid = int(_number(row.get(F.periods_paid)) or 0)
    return f"next renewal in {days} days, after {paid} paid months"


def _tenure(row: Mapping, report: Context) -> str:
    days = _number(row.get(F.tenure_days)) or 0.0
    months = days / 30.44
    if months < 24:
        return f"customer for {months:.0f} months"
    return f"customer for {days / 365.25:.1f} years"


def _channels(row: Mapping, report: Context) -> str:
    shares = {
        k.removeprefix(CHANNEL_PREFIX): _number(v) or 0.0
        for k, v in row.items()
        if k.startswith(CHANNEL_PREFIX)
    }
    if not shares or max(shares.values()) <= 0:
        return "no purchases in a year"
    top = max(shares, key=lambda k: (shares[k], k))
    return f"buys {fmt_pct(shares[top])} through {humanise(top)}"


def _acquisition(row: Mapping, report: Context) -> str:
    return f"acquired through {row.get(R.acquisition_channel) or 'an unknown channel'}"


REASON_WORDS = {
    "silence": _silence,
    "spend": _spend,
    "frequency": _frequency,
    "service": _service,
    "refunds": _refunds,
    "model": _model,
    "contract": _contract,
    "tenure": _tenure,
    "channels": _channels,
    "acquisition": _acquisition,
}
"""Reason key -> the phrase built from the customer's own values."""


def reason_text(row: Mapping, report: Context) -> str:
    """A call-list row's reasons in words, strongest first (``""`` when none stands out)."""
    keys = [row.get(R.reason.format(i)) for i in range(1, 4)]
    return "; ".join(REASON_WORDS[k](row, report) for k in keys if k)
