"""What-if figure builders (crm_core.charts.whatif, .whatif_spend) and sentences
(crm_core.copy.whatif)."""

from __future__ import annotations

import plotly.graph_objects as go
import pytest

from crm_core.charts.whatif import (
    equity_waterfall_figure,
    projection_figure,
    scenario_comparison_figure,
)
from crm_core.charts.whatif_spend import allocation_figure, tornado_figure
from crm_core.copy.whatif import break_even_sentence, retention_uplift_sentence
from crm_core.whatif.engine import (
    Levers,
    RetentionUplift,
    Scenario,
    Segment,
    run_scenario,
    simulate,
)
from crm_core.whatif.optimize import (
    BreakEven,
    break_even,
    optimize_retention_budget,
    sensitivity,
)

RAW_NAMES = (
    "discounted_profit",
    "customers_start",
    "new_customers",
    "acquisition_spend",
    "retention_spend",
    "equity_gain",
    "equity_current",
    "new_customer_value",
    "marginal_equity",
    "first_dollar_equity",
    "spend_per_customer",
    "delta_low",
    "delta_high",
    "lever_label",
    "retention_points",
    "margin_pct",
    "acquisition_cost_pct",
    "horizon_years",
    "p10",
    "p90",
    "None",
    "nan",
)


def portfolio() -> list[Segment]:
    return [
        Segment("Gold", 1000, 0.8, 200.0, 100, 150.0, observed_at_risk=500, observed_retained=400),
        Segment("Silver", 2000, 0.6, 50.0, 100, 30.0, observed_at_risk=100, observed_retained=60),
        Segment("Bronze", 300, 0.9, 500.0),
    ]


@pytest.fixture(scope="module")
def results():
    base = simulate(portfolio(), horizon_years=10, discount_rate=0.1, draws=300)
    plus = run_scenario(
        portfolio(),
        Scenario("Loyalty", levers=Levers(retention_points=5)),
        horizon_years=10,
        discount_rate=0.1,
        draws=300,
    )
    return base, plus


def texts(fig: go.Figure) -> list[str]:
    """Every string a reader sees: titles, axis titles, trace names, hover and bar texts."""
    out = [fig.layout.title.text or ""]
    out += [a.text or "" for a in fig.layout.annotations]
    for axis in ("xaxis", "yaxis", "xaxis2", "yaxis2"):
        layout_axis = getattr(fig.layout, axis, None)
        if layout_axis is not None and layout_axis.title.text:
            out.append(layout_axis.title.text)
    for trace in fig.data:
        out.append(trace.name or "")
        out.append(getattr(trace, "hovertemplate", None) or "")
        for attr in ("text", "customdata", "x", "y"):
            values = getattr(trace, attr, None)
            if values is not None and not isinstance(values, str):
                out += [str(v) for v in values if isinstance(v, (str, list, tuple))]
    return out


def assert_readable(fig: go.Figure) -> None:
    joined = "\n".join(texts(fig))
    for raw in RAW_NAMES:
        assert raw not in joined, raw


def test_projection_with_bands(results):
    base, plus = results
    fig = projection_figure(base, plus, metric="profit", scenario_name="Loyalty")
    names = [t.name for t in fig.data]
    assert names == [
        "Baseline: P90",
        "Baseline: likely range (P10–P90)",
        "Baseline",
        "Loyalty: P90",
        "Loyalty: likely range (P10–P90)",
        "Loyalty",
    ]
    assert fig.data[1].fill == "tonexty"
    assert list(fig.data[2].x) == list(range(1, 11))
    assert fig.data[2].y[0] == pytest.approx(base.totals["profit"][0])
    assert fig.layout.title.text.startswith("<b>Loyalty adds $")
    assert "of profit over 10 years" in fig.layout.title.text
    assert "300 simulated outcomes" in fig.layout.title.text
    assert fig.layout.yaxis.title.text == "Profit per year (USD)"
    assert fig.layout.yaxis.tickformat == "$~s"  # negative ticks read -$200k
    assert fig.layout.xaxis.title.text == "Year"
    assert_readable(fig)


def test_projection_of_customers_and_one_segment(results):
    base, plus = results
    fig = projection_figure(base, plus, metric="customers")
    gap = round(plus.totals["customers"][-1] - base.totals["customers"][-1])
    assert f"keeps {gap:,} more customers by year 10" in fig.layout.title.text
    single = projection_figure(base, metric="customers", segment="Gold", currency="EUR")
    assert [t.name for t in single.data][-1] == "Baseline"
    assert "Customers in Gold fall from 880 in year 1" in single.layout.title.text
    assert single.layout.yaxis.title.text == "Customers active at year end"
    assert_readable(single)
    with pytest.raises(ValueError, match="metric"):
        projection_figure(base, metric="revenue_total")
    with pytest.raises(ValueError, match="Unknown segment"):
        projection_figure(base, segment="Platinum")


def test_projection_without_draws_has_no_band():
    base = simulate(portfolio(), horizon_years=5, discount_rate=0.1)
    fig = projection_figure(base)
    assert [t.name for t in fig.data] == ["Baseline"]
    assert "simulated" not in fig.layout.title.text


def test_equity_waterfall(results):
    base, plus = results
    fig = equity_waterfall_figure(base, plus, scenario_name="Loyalty")
    (trace,) = fig.data
    assert isinstance(trace, go.Waterfall)
    assert list(trace.x) == ["Baseline", "Gold", "Silver", "Bronze", "Loyalty"]
    assert list(trace.measure) == ["absolute", "relative", "relative", "relative", "total"]
    assert sum(trace.y[1:4]) == pytest.approx(plus.customer_equity - base.customer_equity)
    share = plus.customer_equity / base.customer_equity - 1
    assert f"(+{round(share * 100)}%) of projected equity; most from" in fig.layout.title.text
    assert fig.layout.yaxis.title.text == "Projected equity (USD)"
    assert_readable(fig)


def test_tornado(results):
    frame = sensitivity(portfolio(), horizon_years=10, discount_rate=0.1, per_segment=True)
    fig = tornado_figure(frame, top=5)
    assert [t.name for t in fig.data] == ["Lever down", "Lever up"]
    assert all(t.orientation == "h" for t in fig.data)
    assert len(fig.data[0].y) == 5
    top = frame.row(0, named=True)
    assert fig.data[1].y[-1].startswith(top["lever_label"])  # largest bar on top
    assert "moves projected equity most" in fig.layout.title.text
    assert fig.layout.xaxis.title.text == "Change in projected equity (USD)"
    assert "Retention, Gold" in list(tornado_figure(frame).data[0].y)
    assert_readable(fig)


def test_allocation_figure():
    result = optimize_retention_budget(portfolio(), 10_000.0, horizon_years=10, discount_rate=0.1)
    fig = allocation_figure(result)
    assert [t.name for t in fig.data] == [
        "Budget per year",
        "Before any budget",
        "After this split",
    ]
    assert list(fig.data[0].x) == ["Gold", "Silver", "Bronze"]
    assert "$10.0k a year on retention adds" in fig.layout.title.text
    assert [a.text for a in fig.layout.annotations] == [
        "Retention budget per year",
        "Equity added by the next $1",
    ]
    assert_readable(fig)
    nothing = allocation_figure(
        optimize_retention_budget(portfolio(), 0.0, horizon_years=10, discount_rate=0.1)
    )
    assert "first $1 of retention budget goes furthest" in nothing.layout.title.text


def test_scenario_comparison(results):
    base, plus = results
    fig = scenario_comparison_figure({"Baseline": base, "Loyalty": plus})
    assert [t.name for t in fig.data] == ["Projected equity", "Customers at the end of the horizon"]
    assert list(fig.data[0].x) == ["Baseline", "Loyalty"]
    assert fig.data[0].error_y.array[0] == pytest.approx(
        base.uncertainty.equity.p90 - base.customer_equity
    )
    assert fig.layout.title.text.startswith("<b>Loyalty gives the most projected equity")
    assert_readable(fig)
    with pytest.raises(ValueError, match="compare 1 to 4"):
        scenario_comparison_figure({str(i): base for i in range(5)})


def test_retention_uplift_sentence():
    uplift = RetentionUplift(points=5, equity_before=1_000_000, equity_after=1_310_000)
    assert retention_uplift_sentence(uplift) == (
        "Keeping 5 more customers in every 100 each year raises projected equity by 31% ($310.0k)"
    )
    worse = RetentionUplift(points=-2.5, equity_before=2_000_000, equity_after=1_600_000)
    assert retention_uplift_sentence(worse, currency="EUR") == (
        "Losing 2.5 more customers in every 100 each year lowers projected equity by 20% (€400.0k)"
    )
    negative_base = RetentionUplift(points=5, equity_before=-10.0, equity_after=90.0)
    assert retention_uplift_sentence(negative_base).endswith("raises projected equity by $100")


def test_break_even_sentence():
    result = BreakEven(
        segment="Gold",
        spend=20_000.0,
        spend_per_customer=18.18,
        retention_pv_spend=110_000.0,
        required_points=3.3247,
        bought_points=4.6748,
        retention_equity_gain=45_000.0,
        customers_bought_per_year=133.33,
        new_customer_value=361.0,
        acquisition_equity_gain=247_571.0,
        acquisition_pv_spend=135_180.0,
    )
    assert break_even_sentence(result) == (
        "Spending $20.0k a year on retention in Gold pays off if it keeps 3.3 more customers in "
        "every 100 each year; the response curve expects 4.7 more. The same money buys 133 new "
        "customers a year, adding $247.6k of projected equity."
    )
    hopeless = break_even(Segment("A", 100, 0.5, 0.0), 100.0, horizon_years=5, discount_rate=0.1)
    assert break_even_sentence(hopeless) == (
        "Spending $100 a year on retention in A cannot pay off, even if nobody left."
    )


def test_money_axes_put_the_dollar_after_the_sign_and_prefix_other_currencies():
    from crm_core.charts.whatif import money_axis

    assert money_axis("USD") == {"tickformat": "$~s"}
    assert money_axis("EUR") == {"tickprefix": "€", "tickformat": "~s"}
    assert money_axis("CHF", ",.2f") == {"tickprefix": "CHF ", "tickformat": ",.2f"}


def test_segment_cards_go_two_a_row_when_their_names_are_long():
    from crm_core.copy.whatif import cards_per_row
    from crm_core.metrics.registry import Kpi

    def card(label: str) -> Kpi:
        return Kpi("clv", label, 1.0, 1.0, "money", "")

    regions = [card(f"Projected · {r}") for r in ("North", "South", "West", "East")]
    assert cards_per_row(regions) == 3
    assert cards_per_row([card("Projected · Content marketing"), *regions]) == 2
    assert cards_per_row([card("Projected · C: other 70%")]) == 1
    assert cards_per_row([]) == 1
