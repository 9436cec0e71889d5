"""The executive summary: the metrics that moved most since last quarter and a year ago.

Every candidate is a registry metric (:mod:`crm_core.metrics.registry`) with its value at
the as-of date, the previous quarter end and a year earlier (``Kpi``). A move is scored on
a scale shared by every unit: the relative change for amounts, counts, ratios and months
(``|now / then - 1|``), and for shares the change in points over the old share
(``|now - then| / then``, so retention 60% -> 57% scores 5%, like a 5% fall in revenue).
The score of a metric is its larger move of the two comparisons. The summary keeps the
:data:`MOST` highest scores above :data:`MATERIAL`, at least :data:`LEAST` whatever their
size, and one metric per family (annual churn is 1 - annual retention). Counts that stay
under :data:`MIN_COUNT` are left out (3 -> 4 customers is no finding).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from crm_core.copy import review as words
from crm_core.metrics.quarters import quarter_periods
from crm_core.metrics.registry import KPI_KEYS, METRICS, Kpi, MetricInputs, kpis

__all__ = ["CANDIDATES", "LEAST", "MATERIAL", "MOST", "Finding", "findings", "move_score"]

CANDIDATES: tuple[str, ...] = (
    *KPI_KEYS,
    "margin_per_customer",
    "top_profit_share",
    "stage_declining",
)
"""Registry metrics the summary chooses from."""
FAMILIES: tuple[frozenset[str], ...] = (frozenset({"retention", "churn"}),)
"""Metrics that are one fact told two ways: only the first found is reported."""
LEAST, MOST = 3, 5
MATERIAL = 0.02
"""Moves smaller than this (2%) are reported only to reach :data:`LEAST` findings."""
MIN_COUNT = 30
"""A count moving between values under this (4 -> 3 declining customers) is noise: no
finding, however large the relative move."""
HISTORY = 8


@dataclass(frozen=True)
class Finding:
    """One finding of the executive summary.

    Attributes
    ----------
    kpi
        The registry KPI (value, previous quarter, a year ago, history).
    against
        ``"quarter"`` or ``"year"``: the comparison that moved most.
    score
        Size of that move (:func:`move_score`, a fraction).
    sentence
        The finding in words.
    good
        Whether the move is good news (read with the metric's direction).
    """

    kpi: Kpi
    against: str
    score: float
    sentence: str
    good: bool

    @property
    def then(self) -> float:
        """The value compared with."""
        value = self.kpi.previous if self.against == "quarter" else self.kpi.year_ago
        assert value is not None
        return value


def move_score(now: float | None, then: float | None) -> float | None:
    """Size of the move from ``then`` to ``now`` (module docstring); ``None`` when either
    is unknown or ``then`` is zero."""
    if now is None or then is None or then == 0:
        return None
    return abs(now / then - 1)


def _best(kpi: Kpi) -> tuple[str, float] | None:
    moves = [
        (against, score)
        for against, then in (("quarter", kpi.previous), ("year", kpi.year_ago))
        if (score := move_score(kpi.value, then)) is not None
    ]
    return max(moves, key=lambda m: m[1]) if moves else None


def _small(kpi: Kpi) -> bool:
    values = [abs(v) for v in (kpi.value, kpi.previous, kpi.year_ago) if v is not None]
    return not values or max(values) < MIN_COUNT


def rank(cards: Sequence[Kpi], currency: str) -> tuple[Finding, ...]:
    """Every card with a comparison, largest move first, one per family."""
    scored = []
    for kpi in cards:
        if kpi.kind == "count" and _small(kpi):
            continue
        best = _best(kpi)
        if best is None:
            continue
        against, score = best
        then = kpi.previous if against == "quarter" else kpi.year_ago
        assert then is not None
        good = words.judgement(kpi, then) == "better"
        sentence = words.finding_sentence(kpi, against, currency)
        scored.append(Finding(kpi, against, score, sentence, good))
    order = {key: i for i, key in enumerate((*CANDIDATES, *METRICS))}
    scored.sort(key=lambda f: (-f.score, order.get(f.kpi.key, len(order))))
    kept: list[Finding] = []
    for finding in scored:
        family = next((f for f in FAMILIES if finding.kpi.key in f), None)
        if family is not None and any(k.kpi.key in family for k in kept):
            continue
        kept.append(finding)
    return tuple(kept)


def findings(inputs: MetricInputs, currency: str, known: Sequence[Kpi] = ()) -> tuple[Finding, ...]:
    """The executive summary's findings: :data:`LEAST` to :data:`MOST` of the largest
    moves (module docstring).

    ``known`` are cards computed already (the Executive overview's, with their history);
    the other candidates are computed at the three dates compared, and a chosen one's
    history for its figure only then (the top-10% share costs a pass over every customer
    per date).
    """
    have = {k.key: k for k in known}
    missing = tuple(key for key in CANDIDATES if key not in have)
    cards = [*have.values(), *kpis(inputs, missing, history=2)]
    ranked = rank([c for c in cards if c.key in CANDIDATES], currency)
    chosen = [f for f in ranked[:MOST] if f.score >= MATERIAL]
    if len(chosen) < LEAST:
        chosen = list(ranked[:LEAST])
    out = []
    history = min(HISTORY, -(-inputs.ledger.periods // quarter_periods(inputs.ledger)))
    for finding in chosen:
        if len(finding.kpi.history) < history:
            (full,) = kpis(inputs, (finding.kpi.key,), history=history)
            finding = replace(finding, kpi=full)  # noqa: PLW2901
        out.append(finding)
    return tuple(out)
