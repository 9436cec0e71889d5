"""What-if recompute latency: 10 segments x 10 years, deterministic and 1,000 draws.

The What-if page recomputes on every slider move, so one projection must stay well under
50 ms. ``crm_core.whatif.engine.simulate`` is timed over many calls (p50 and p95, in
milliseconds) next to a trivial numpy baseline measured in the same run (the closed-form
sum of discounted margin over the same 1,000 x 10 x 10 array), so numbers from different
machines compare. ``whatif_p95_ms`` is the p95 of one recompute with 1,000 draws.

Run on its own: ``.venv/bin/python benchmarks/run.py whatif``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from _common import Context, Result, Timing

from crm_core.whatif.engine import Levers, Segment, apply_scenario, simulate

SEGMENTS = 10
YEARS = 10
DRAWS = 1_000
BUDGET_MS = 50.0


def segments() -> list[Segment]:
    """Ten segments with every optional field in use (counts, noise, spend, a curve)."""
    out = []
    for i in range(SEGMENTS):
        retention = 0.55 + 0.04 * i
        out.append(
            Segment(
                f"Segment {i + 1}",
                1_000.0 * (i + 1),
                retention,
                40.0 + 25.0 * i,
                100.0 + 10.0 * i,
                60.0 + 15.0 * i,
                revenue=120.0 + 60.0 * i,
                cost_to_serve=8.0 + i,
                retention_spend=2.0,
                extra_retention_spend=1.0 + i % 3,
                observed_at_risk=400 + 50 * i,
                observed_retained=round((400 + 50 * i) * retention),
                margin_std=3.0 + i,
                retention_curve=(
                    (retention - 0.05, retention, min(retention + 0.03, 1.0)) if i % 2 else None
                ),
            )
        )
    return out


def timings(fn: Callable[[], object], repeat: int, warmup: int = 3) -> np.ndarray:
    """Wall-clock milliseconds of ``repeat`` calls after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    out = np.empty(repeat)
    for i in range(repeat):
        start = time.perf_counter()
        fn()
        out[i] = (time.perf_counter() - start) * 1000.0
    return out


def trivial_baseline() -> Callable[[], float]:
    """Closed-form discounted margin summed over a draws x segments x years array."""
    rng = np.random.default_rng(0)
    retention = rng.uniform(0.5, 0.95, size=(DRAWS, SEGMENTS, 1))
    margin = rng.uniform(40, 300, size=(DRAWS, SEGMENTS, 1))
    years = np.arange(1, YEARS + 1)
    discount = 1.1**-years

    def baseline() -> float:
        return float((margin * retention**years * discount).sum())

    return baseline


def _stats(ms: np.ndarray) -> tuple[Timing, float]:
    """Median/min/max and the p95 of per-call milliseconds."""
    return Timing.of([float(v) for v in ms]), float(np.percentile(ms, 95))


def run(ctx: Context) -> Result:
    calls = 200 if ctx.scale != "smoke" else 20
    segs = segments()
    scenario = apply_scenario(segs, Levers(retention_points=5, margin_pct=3))
    cases: dict[str, tuple[Callable[[], object], int]] = {
        "numpy baseline": (trivial_baseline(), calls),
        "deterministic": (lambda: simulate(segs, horizon_years=YEARS, discount_rate=0.1), calls),
        "draws": (
            lambda: simulate(scenario, horizon_years=YEARS, discount_rate=0.1, draws=DRAWS),
            calls,
        ),
        "draws_quarterly": (
            lambda: simulate(
                segs, horizon_years=YEARS, discount_rate=0.1, draws=DRAWS, periods_per_year=4
            ),
            max(calls // 4, 5),
        ),
    }
    stats = {name: _stats(timings(fn, n)) for name, (fn, n) in cases.items()}
    base, _ = stats["numpy baseline"]
    draws, p95 = stats["draws"]
    _, det_p95 = stats["deterministic"]
    _, quarterly_p95 = stats["draws_quarterly"]
    values = {
        "whatif_p95_ms": p95,
        "whatif_ms": draws.as_dict(),
        "whatif_deterministic_p95_ms": det_p95,
        "whatif_quarterly_p95_ms": quarterly_p95,
        "whatif_numpy_baseline_ms": base.as_dict(),
        "whatif_vs_numpy_ratio": draws.median / base.median,
    }
    label = f"{SEGMENTS} segments x {YEARS} years"
    rows = [
        (
            f"what-if recompute, {DRAWS:,} draws ({label})",
            f"p95 {p95:.1f} ms (p50 {draws.median:.1f}, {draws.runs} calls)",
            f"numpy pass p50 {base.median:.2f} ms",
            f"{values['whatif_vs_numpy_ratio']:.0f}x numpy; budget {BUDGET_MS:.0f} ms",
        ),
        ("what-if recompute, deterministic", f"p95 {det_p95:.1f} ms", "", ""),
        (f"what-if recompute, {DRAWS:,} draws, quarterly", f"p95 {quarterly_p95:.1f} ms", "", ""),
    ]
    return Result(values, rows)
