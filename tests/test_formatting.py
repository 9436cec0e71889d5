"""Number formatting shown to users."""

from __future__ import annotations

import csv
import io
import math

import polars as pl
import pytest

from crm_core.formatting import (
    fmt_count,
    fmt_delta,
    fmt_kind,
    fmt_money,
    fmt_months,
    fmt_pct,
    fmt_ratio,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "$0"),
        (12.5, "$12.50"),
        (999, "$999"),
        (1234, "$1.2k"),
        (999_950, "$1.0M"),
        (1_234_567, "$1.2M"),
        (-34_000, "-$34.0k"),
        (2.5e9, "$2.5B"),
        (None, "n/a"),
        (math.nan, "n/a"),
    ],
)
def test_money(value, expected) -> None:
    assert fmt_money(value) == expected


def test_money_currencies_and_full_form() -> None:
    assert fmt_money(1500, "EUR") == "€1.5k"
    assert fmt_money(1500, "CHF") == "CHF 1.5k"
    assert fmt_money(1_234_567.8, compact=False) == "$1,234,568"


def test_counts_percentages_ratios() -> None:
    assert fmt_count(1234) == "1,234"
    assert fmt_count(12_345) == "12.3k"
    assert fmt_pct(0.341) == "34%"
    assert fmt_pct(0.05, signed=True) == "+5%"
    assert fmt_pct(0.1234, digits=1) == "12.3%"
    assert fmt_pct(-0.003) == "0%"
    assert fmt_pct(-0.003, signed=True) == "+0%"
    assert fmt_pct(-0.0004, digits=1) == "0.0%"
    assert fmt_ratio(3.21) == "3.2x"
    assert fmt_months(7.46) == "7.5 months"


def test_kind_and_delta() -> None:
    assert fmt_kind(0.413, "pct") == "41.3%"
    assert fmt_kind(1200, "money", "GBP") == "£1.2k"
    assert fmt_delta(-0.001, "pct") == "-0.1 pts"
    assert fmt_delta(69_500, "money") == "+$69.5k"
    assert fmt_delta(-3, "count") == "-3"
    assert fmt_delta(None, "count") is None
    with pytest.raises(ValueError, match="unknown kind"):
        fmt_kind(1, "furlongs")


def test_formula_safe_prefixes_what_a_spreadsheet_would_run() -> None:
    import polars as pl

    from crm_core.formatting import formula_safe

    cells = ["=1+1", "+33", "-2", "@SUM(A1)", "\tx", "plain", "a=b", None]
    got = pl.DataFrame({"v": cells}).select(formula_safe("v"))["v"].to_list()
    assert got == ["'=1+1", "'+33", "'-2", "'@SUM(A1)", "'\tx", "plain", "a=b", None]


def test_csv_has_words_cents_and_no_formulas() -> None:
    from crm_core.formatting import to_csv

    frame = pl.DataFrame(
        {
            "customer_id": ["=HYPERLINK(1)", "+1", "-2", "@x", "plain"],
            "clv": [8767.569999999998, 7.62e-21, 1e12, 0.014, 3.0],
            "p_alive": [0.98766, 0.0, 1.0, 0.5, 0.25],
        }
    )
    text = to_csv(
        frame, {"customer_id": "Customer", "clv": "CLV (USD)", "p_alive": "P(alive) (%)"},
        percent=("p_alive",),
    ).decode()  # fmt: skip
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["Customer", "CLV (USD)", "P(alive) (%)"]
    assert [r[0] for r in rows[1:]] == ["'=HYPERLINK(1)", "'+1", "'-2", "'@x", "plain"]
    assert [r[1] for r in rows[1:]] == ["8767.57", "0.00", "1000000000000.00", "0.01", "3.00"]
    assert [r[2] for r in rows[1:]] == ["98.77", "0.00", "100.00", "50.00", "25.00"]
