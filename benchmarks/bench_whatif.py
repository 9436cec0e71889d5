"""What-if recompute latency: 10 segments x 10 years, deterministic and 1,000 draws.

The What-if page recomputes on every slider move, so one projection must stay well under
50 ms. Prints p50/p95 in milliseconds over many repetitions and the ratio against a
trivial numpy baseline measured in the same run (the closed-form sum of discounted margin
over the same 1,000 x 10 x 10 array), so numbers from different machines compare.

The page's own path is measured too, on the sample companies' baselines (profit tiers and
RFM segments): what one slider move recomputes (the scenario with 1,000 draws, the cards,
the tornado, the budget split and the break-even table; the baseline comes from the cache),
the cache read of a 1,000-draw result (``st.cache_data`` unpickles it), and, for
information, building the four figures (plotly), which is drawing, not recomputing.

Run: ``.venv/bin/python benchmarks/bench_whatif.py [--repeat N]``.
"""

from __future__ import annotations

import argparse
import pickle
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from crm_core.whatif.engine import (
    Levers,
    Segment,
    apply_scenario,
    run_scenario,
    scenario_kpis,
    simulate,
)
from crm_core.whatif.optimize import break_even, optimize_retention_budget, sensitivity

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

    def run() -> float:
        return float((margin * retention**years * discount).sum())

    return run


def page_cases(repeat: int) -> dict[str, tuple[Callable[[], object], int]]:
    """The What-if page's slider-move path on the sample companies (see the docstring)."""
    from crm_core.charts.whatif import (
        allocation_figure,
        equity_waterfall_figure,
        projection_figure,
        tornado_figure,
    )
    from crm_core.data.snapshot import load_snapshot
    from crm_core.sample import generate_sample
    from crm_core.whatif.baseline import baseline_segments

    folder = Path(tempfile.mkdtemp(prefix="bench-whatif-"))
    cases: dict[str, tuple[Callable[[], object], int]] = {}
    for company, model in (("retail", "non_contractual"), ("subscriptions", "contractual")):
        snap = load_snapshot(generate_sample(folder / company, business_model=model))
        for by in ("tier", "rfm"):
            base = baseline_segments(snap, by=by)
            horizon, rate = base.horizon_years, base.discount_rate
            reference = simulate(base.segments, horizon_years=horizon, discount_rate=rate,
                                 draws=DRAWS)  # fmt: skip
            budget = round(0.05 * base.company_margin * base.customers, -3)
            moves = iter(range(10**9))

            def recompute(base=base, horizon=horizon, rate=rate, reference=reference,
                          budget=budget, moves=moves) -> object:  # fmt: skip
                first = base.segments[0]
                step = (next(moves) % 40 + 1) * 0.005  # a new slider position every call
                scenario = base.scenario({first.name: min(first.retention + step, 1.0)})
                result = run_scenario(base.segments, scenario, horizon_years=horizon,
                                      discount_rate=rate, draws=DRAWS)  # fmt: skip
                scenario_kpis(reference, result)
                moved = apply_scenario(base.segments, scenario)
                sensitivity(moved, horizon_years=horizon, discount_rate=rate)
                optimize_retention_budget(moved, budget, horizon_years=horizon, discount_rate=rate)
                for s in moved:
                    break_even(s, budget, horizon_years=horizon, discount_rate=rate)
                return result

            label = f"{company}, {'tiers' if by == 'tier' else 'RFM'} ({len(base.segments)})"
            cases[f"page: slider move, {label}"] = (recompute, repeat)
            if by == "tier":
                blob = pickle.dumps(reference)
                cases[f"page: cache read, {company}"] = (
                    lambda blob=blob: pickle.loads(blob),
                    repeat,
                )
                result = recompute()
                allocation = optimize_retention_budget(
                    base.segments, budget, horizon_years=horizon, discount_rate=rate
                )
                tornado = sensitivity(base.segments, horizon_years=horizon, discount_rate=rate)

                def figures(reference=reference, result=result, allocation=allocation,
                            tornado=tornado) -> object:  # fmt: skip
                    projection_figure(reference, result)
                    equity_waterfall_figure(reference, result)
                    tornado_figure(tornado)
                    return allocation_figure(allocation)

                cases[f"page: four figures (drawing), {company}"] = (figures, max(repeat // 4, 10))
    return cases


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    """Measure and print the latencies; returns ``{case: {"p50": ms, "p95": ms, "ratio": x}}``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200, help="timed calls per case")
    args = parser.parse_args(argv)
    repeat = max(args.repeat, 10)
    segs = segments()
    scenario = apply_scenario(segs, Levers(retention_points=5, margin_pct=3))
    cases: dict[str, tuple[Callable[[], object], int]] = {
        "numpy baseline (1,000 x 10 x 10)": (trivial_baseline(), repeat),
        "simulate, deterministic": (
            lambda: simulate(segs, horizon_years=YEARS, discount_rate=0.1),
            repeat,
        ),
        "simulate, 1,000 draws": (
            lambda: simulate(scenario, horizon_years=YEARS, discount_rate=0.1, draws=DRAWS),
            repeat,
        ),
        "simulate, 1,000 draws, quarterly": (
            lambda: simulate(
                segs, horizon_years=YEARS, discount_rate=0.1, draws=DRAWS, periods_per_year=4
            ),
            max(repeat // 4, 10),
        ),
        "sensitivity tornado, per segment": (
            lambda: sensitivity(segs, horizon_years=YEARS, discount_rate=0.1, per_segment=True),
            max(repeat // 4, 10),
        ),
        "optimise a retention budget": (
            lambda: optimize_retention_budget(
                segs, 250_000.0, horizon_years=YEARS, discount_rate=0.1
            ),
            max(repeat // 10, 10),
        ),
    }
    cases |= page_cases(repeat)
    print(
        f"What-if recompute latency: {SEGMENTS} segments x {YEARS} years; budget {BUDGET_MS:.0f} ms"
    )
    print(f"{'case':<46}{'calls':>7}{'p50 ms':>10}{'p95 ms':>10}{'x numpy':>10}")
    report: dict[str, dict[str, float]] = {}
    base_p50 = None
    for name, (fn, calls) in cases.items():
        ms = timings(fn, calls)
        p50, p95 = (float(v) for v in np.percentile(ms, [50, 95]))
        base_p50 = base_p50 or p50
        ratio = p50 / base_p50
        report[name] = {"p50": p50, "p95": p95, "ratio": ratio}
        print(f"{name:<46}{calls:>7}{p50:>10.2f}{p95:>10.2f}{ratio:>10.1f}")
    mc = report["simulate, 1,000 draws"]["p95"]
    verdict = "within" if mc < BUDGET_MS else "OVER"
    print(f"Monte Carlo p95 {mc:.1f} ms: {verdict} the {BUDGET_MS:.0f} ms budget")
    page = max(v["p95"] for k, v in report.items() if k.startswith("page: slider move"))
    verdict = "within" if page < BUDGET_MS else "OVER"
    print(f"Page recompute p95 (worst case) {page:.1f} ms: {verdict} the {BUDGET_MS:.0f} ms budget")
    return report


if __name__ == "__main__":
    main()
