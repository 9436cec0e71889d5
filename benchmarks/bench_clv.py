"""CLV model fits at scale: BG/NBD + Gamma-Gamma on 1,000,000 simulated customers.

Customers are drawn from the models themselves (CDNOW-like parameters), observed for a
whole number of days up to 39 weeks and summarised in weeks, as ``rfm_summary`` would;
spend is rounded to cents. Times ``fit_bgnbd`` and ``fit_gamma_gamma`` (best of
``--repeat`` runs) and, when the ``lifetimes`` package is importable, its
``BetaGeoFitter`` and ``GammaGammaFitter`` on the same data in the same run, printing the
ratio. ``lifetimes`` is not a project dependency; install it in a separate environment to
compare (``pip install lifetimes``), the benchmark skips it otherwise.

Then the Customer value page's cold start on a sample company of ``--page-customers``
customers (``crm_core.sample``): ``customer_clv`` and the P10-P90 bands over 100 parameter
draws for two groupings (``clv_bands_by``), the page's slowest step.

Run: ``.venv/bin/python benchmarks/bench_clv.py [--customers N] [--repeat R]
[--page-customers M]``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from crm_core.clv import fit_bgnbd, fit_gamma_gamma
from crm_core.clv.simulate import simulate_bgnbd, simulate_gamma_gamma

BGNBD = (0.243, 4.414, 0.793, 2.426)  # FHL 2005 CDNOW estimates (weeks)
GAMMA_GAMMA = (6.25, 3.74, 15.44)  # Fader & Hardie 2013 CDNOW estimates (USD)


def simulate(customers: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Frequency, recency, T (weeks, whole days) and mean spend (cents) of customers."""
    rng = np.random.default_rng(seed)
    days = rng.integers(1, 274, size=customers).astype(np.float64)
    x, tx_days = simulate_bgnbd(*BGNBD, days / 7, rng)
    tx = np.minimum(np.round(tx_days * 7), days) / 7
    m = np.round(simulate_gamma_gamma(*GAMMA_GAMMA, x, rng), 2)
    m = np.where(x > 0, np.maximum(m, 0.01), 0.0)
    return {"frequency": x, "recency": tx, "T": days / 7, "monetary_value": m}


def best_of(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Shortest wall-clock seconds of ``repeat`` calls and the last result."""
    best, out = np.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def _lifetimes_fits(data: dict[str, np.ndarray]) -> tuple[Callable[[], object], ...] | None:
    try:
        import pandas as pd
        from lifetimes import BetaGeoFitter, GammaGammaFitter
    except ImportError:
        return None
    frame = pd.DataFrame(data)
    repeaters = frame[frame["frequency"] > 0]

    def bg() -> object:
        return BetaGeoFitter().fit(frame["frequency"], frame["recency"], frame["T"]).params_

    def gg() -> object:
        return GammaGammaFitter().fit(repeaters["frequency"], repeaters["monetary_value"]).params_

    return bg, gg


def _params(series: object, digits: int) -> str:
    return " ".join(f"{k}={v:.{digits}f}" for k, v in series.items())  # type: ignore[attr-defined]


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Run the benchmark, print a table and return ``{case: seconds}``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per case (best is kept)")
    parser.add_argument("--page-customers", type=int, default=20_000,
                        help="sample company size for the page timings (0 skips them)")  # fmt: skip
    args = parser.parse_args(argv)
    data = simulate(args.customers)
    x, tx, t, m = (data[k] for k in ("frequency", "recency", "T", "monetary_value"))
    spenders = x > 0
    distinct = len({(a, b, c) for a, b, c in zip(x[:200_000], tx[:200_000], t[:200_000],
                                                     strict=True)})  # fmt: skip
    print(f"CLV fits on {args.customers:,} simulated customers "
          f"({int(spenders.sum()):,} repeaters; {distinct:,} distinct (x, t_x, T) rows "
          f"among the first 200,000)")  # fmt: skip
    times: dict[str, float] = {}
    bg_s, bg = best_of(lambda: fit_bgnbd(x, tx, t), args.repeat)
    gg_s, gg = best_of(lambda: fit_gamma_gamma(x[spenders], m[spenders]), args.repeat)
    times["crm_core fit_bgnbd"] = bg_s
    times["crm_core fit_gamma_gamma"] = gg_s
    rows = [("crm_core fit_bgnbd", bg_s, f"r={bg.r:.3f} alpha={bg.alpha:.3f} a={bg.a:.3f} "
             f"b={bg.b:.3f}"),
            ("crm_core fit_gamma_gamma", gg_s, f"p={gg.p:.2f} q={gg.q:.2f} "
             f"gamma={gg.gamma:.2f}")]  # fmt: skip
    other = _lifetimes_fits(data)
    if other is None:
        print("lifetimes is not installed: comparison skipped")
    else:
        lt_bg_s, lt_bg = best_of(other[0], 1)
        lt_gg_s, lt_gg = best_of(other[1], 1)
        times["lifetimes BetaGeoFitter"] = lt_bg_s
        times["lifetimes GammaGammaFitter"] = lt_gg_s
        rows += [
            ("lifetimes BetaGeoFitter", lt_bg_s, _params(lt_bg, 3)),
            ("lifetimes GammaGammaFitter", lt_gg_s, _params(lt_gg, 2)),
        ]
    print(f"{'case':<30}{'seconds':>10}  estimates")
    for name, seconds, est in rows:
        print(f"{name:<30}{seconds:>10.2f}  {est}")
    if other is not None:
        ours = times["crm_core fit_bgnbd"] + times["crm_core fit_gamma_gamma"]
        theirs = times["lifetimes BetaGeoFitter"] + times["lifetimes GammaGammaFitter"]
        print(f"both fits: crm_core {ours:.2f} s, lifetimes {theirs:.2f} s, "
              f"lifetimes / crm_core = {theirs / ours:.1f}x")  # fmt: skip
    if args.page_customers > 0:
        times |= page_timings(args.page_customers)
    return times


def page_timings(customers: int, draws: int = 100) -> dict[str, float]:
    """Cold start of the Customer value page's fitted view on a sample company."""
    import tempfile
    from pathlib import Path

    from crm_core.clv import clv_bands_by, customer_clv, group_labels
    from crm_core.data.snapshot import load_snapshot
    from crm_core.sample import generate_sample

    with tempfile.TemporaryDirectory() as tmp:
        snap = load_snapshot(generate_sample(Path(tmp) / "s", customers=customers))
        fit_s, result = best_of(lambda: customer_clv(snap), 1)
        groups = {by: group_labels(snap, by) for by in ("tier", "channel")}
        bands_s, _ = best_of(lambda: clv_bands_by(result, groups, draws=draws), 1)
    pairs = result.table.select("frequency", "T").unique().height
    print(f"Customer value page on a {customers:,}-customer sample ({result.customers:,} valued, "
          f"{pairs:,} distinct (x, T) pairs): customer_clv {fit_s:.2f} s, bands over {draws} "
          f"draws {bands_s:.2f} s ({bands_s / draws * 1000:.0f} ms a draw)")  # fmt: skip
    return {"page customer_clv": fit_s, "page clv_bands_by": bands_s}


if __name__ == "__main__":
    main()
