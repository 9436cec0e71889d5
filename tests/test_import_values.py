"""Exact reading of numbers and dates written as text (crm_core.data.values)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_core.data import values as v


def read_numbers(texts: list[str | None], decimal: str) -> list[float | None]:
    frame = pl.DataFrame({"t": texts}, schema={"t": pl.String})
    return frame.select(v.parse_number(v.clean_number(pl.col("t")), decimal)).to_series().to_list()


@pytest.mark.parametrize(
    ("text", "decimal", "value"),
    [
        ("12.50", ".", 12.5),
        ("12,50", ",", 12.5),
        ("1,234.50", ".", 1234.5),
        ("1.234,50", ",", 1234.5),
        ("1 234,50", ",", 1234.5),
        ("1\u00a0234,50", ",", 1234.5),
        ("1'234.50", ".", 1234.5),
        ("1.234.567", ",", 1234567.0),
        ("1,234,567.89", ".", 1234567.89),
        ("-3", ".", -3.0),
        ("+3", ",", 3.0),
        ("\u22123,25", ",", -3.25),
        ("(12.50)", ".", -12.5),
        ("$1,200.00", ".", 1200.0),
        ("12,50 €", ",", 12.5),
        ("£7", ".", 7.0),
        (".5", ".", 0.5),
        ("1.5E3", ".", 1500.0),
        ("007", ".", 7.0),
        ("  42  ", ".", 42.0),
        ("1,234", ".", 1234.0),
        ("1,234", ",", 1.234),
        ("1.234", ".", 1.234),
        ("1.234", ",", 1234.0),
    ],
)
def test_numbers_read_exactly(text: str, decimal: str, value: float) -> None:
    assert read_numbers([text], decimal) == [value]


@pytest.mark.parametrize(
    ("text", "decimal"),
    [
        ("12,50", "."),  # a comma followed by two digits is no thousands separator
        ("12.50", ","),
        ("1,23,456.00", "."),  # groups of three only
        ("1.234,50", "."),
        ("1,234.50", ","),
        ("ten", "."),
        ("true", "."),
        ("12.5.0", "."),
        ("1 234.5 6", "."),
        ("NaN", "."),
        ("inf", "."),
        ("- 12", "."),
        ("12-", "."),
        ("0x1F", "."),
        ("١٢", "."),  # Arabic-Indic digits are not read as 12
    ],
)
def test_text_that_is_not_a_number_under_that_mark_is_refused(text: str, decimal: str) -> None:
    assert read_numbers([text], decimal) == [None]


def test_empty_text_is_null_not_zero() -> None:
    assert read_numbers(["", "  ", None, "$"], ".") == [None, None, None, None]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("12.50", "."),
        ("1,234.50", "."),
        ("1234.5", "."),
        ("1,234,567", "."),
        ("12,50", ","),
        ("1.234,50", ","),
        ("1.234.567", ","),
        ("1,234", "ambiguous"),
        ("1.234", "ambiguous"),
        ("123,456", "ambiguous"),
        ("1234", None),
        ("ten", "invalid"),
    ],
)
def test_decimal_evidence(text: str, kind: str | None) -> None:
    flags = pl.DataFrame({"t": [text]}).select(
        **{k: e for k, e in v.decimal_evidence(pl.col("t")).items()}
    )
    found = [k for k, hit in flags.row(0, named=True).items() if hit]
    assert found == ([] if kind is None else [kind])


_SEPARATORS = {".": [",", "'", " ", "\u00a0", ""], ",": [".", "'", " ", "\u00a0", ""]}


@settings(max_examples=300, deadline=None)
@given(
    cents=st.integers(min_value=-(10**13), max_value=10**13),
    places=st.sampled_from([0, 1, 2, 3, 4]),
    decimal=st.sampled_from([".", ","]),
    pick=st.integers(min_value=0, max_value=4),
    style=st.sampled_from(["plain", "currency", "parentheses"]),
)
def test_any_formatted_amount_reads_back_to_its_exact_value(
    cents: int, places: int, decimal: str, pick: int, style: str
) -> None:
    """A number written in any supported locale style reads as the float nearest to its
    exact decimal value (what Python's float() of the plain text gives)."""
    exact = Decimal(cents).scaleb(-places)
    sign, body = ("-", str(abs(exact))) if exact < 0 else ("", str(exact))
    whole, _, frac = body.partition(".")
    sep = _SEPARATORS[decimal][pick]
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    grouped = sep.join([whole, *groups]) if sep else whole + "".join(groups)
    text = grouped + (decimal + frac if frac else "")
    if style == "currency":
        text = f"{sign}${text}"
    elif style == "parentheses" and sign:
        text = f"({text})"
    else:
        text = sign + text
    assert read_numbers([text], decimal) == [float(exact)]


def read_dates(texts: list[str], fmt: str) -> list[date | None]:
    frame = pl.DataFrame({"t": texts})
    return frame.select(v.parse_date(v.clean_date(pl.col("t"), fmt), fmt)).to_series().to_list()


@pytest.mark.parametrize(
    ("text", "fmt", "day"),
    [
        ("2024-01-31", "%Y-%m-%d", date(2024, 1, 31)),
        ("2024-1-5", "%Y-%m-%d", date(2024, 1, 5)),
        ("2024-01-31 13:45:00", "%Y-%m-%d", date(2024, 1, 31)),
        ("2024-01-31T23:30:00-05:00", "%Y-%m-%d", date(2024, 1, 31)),
        ("2024-01-31T08:00:00.123Z", "%Y-%m-%d", date(2024, 1, 31)),
        ("31.01.2024", "%d.%m.%Y", date(2024, 1, 31)),
        ("1/5/2024", "%m/%d/%Y", date(2024, 1, 5)),
        ("1/5/2024", "%d/%m/%Y", date(2024, 5, 1)),
        ("01/05/2024 1:45 PM", "%m/%d/%Y", date(2024, 1, 5)),
        ("20240131", "%Y%m%d", date(2024, 1, 31)),
        ("31-Jan-2024", "%d-%b-%Y", date(2024, 1, 31)),
        ("Jan 31, 2024", "%b %d, %Y", date(2024, 1, 31)),
        ("31 January 2024", "%d %B %Y", date(2024, 1, 31)),
        ("05/01/24", "%d/%m/%y", date(2024, 1, 5)),
    ],
)
def test_dates_read_exactly(text: str, fmt: str, day: date) -> None:
    assert read_dates([text], fmt) == [day]


@pytest.mark.parametrize(
    ("text", "fmt"),
    [
        ("24-01-31", "%Y-%m-%d"),  # a known format needs four-digit years
        ("2024-02-30", "%Y-%m-%d"),
        ("13/13/2024", "%m/%d/%Y"),
        ("2024-01-31x", "%Y-%m-%d"),
        ("31/01/2024", "%m/%d/%Y"),
        ("45292", "%Y-%m-%d"),
    ],
)
def test_dates_that_do_not_match_are_refused(text: str, fmt: str) -> None:
    assert read_dates([text], fmt) == [None]


def test_date_candidates_tell_day_first_from_month_first() -> None:
    both = v.date_candidates(pl.Series(["01/02/2024", "03/04/2024"]))
    assert {f for f, n in both.items() if n == 2} == {"%d/%m/%Y", "%m/%d/%Y"}
    day_first = v.date_candidates(pl.Series(["01/02/2024", "13/04/2024"]))
    assert {f for f, n in day_first.items() if n == 2} == {"%d/%m/%Y"}


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.from_regex(v.PLAIN_NUMBER["."], fullmatch=True), min_size=1, max_size=30),
    st.sampled_from(v.DECIMAL_MARKS),
)
def test_plainly_written_numbers_read_alike_on_the_quick_path(texts, decimal) -> None:
    texts = [t.replace(".", decimal) for t in texts]
    frame = pl.DataFrame({"t": texts}, schema={"t": pl.String})
    assert frame["t"].str.contains(v.PLAIN_NUMBER[decimal]).all()
    quick = frame.select(v.plain_number(pl.col("t"), decimal)).to_series().to_list()
    assert quick == read_numbers(texts, decimal)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.dates(date(1900, 1, 1), date(2199, 12, 31)), min_size=1, max_size=30),
    st.sampled_from([f.fmt for f in v.DATE_FORMATS]),
)
def test_plainly_written_dates_read_alike_on_the_quick_path(days, fmt) -> None:
    texts = [d.strftime(fmt) for d in days]
    frame = pl.DataFrame({"t": texts}, schema={"t": pl.String})
    assert frame["t"].str.contains(v.KNOWN_DATE_FORMATS[fmt].pattern).all()
    quick = frame.select(pl.col("t").str.to_date(fmt, strict=False)).to_series().to_list()
    general = frame.select(v.parse_date(v.clean_date(pl.col("t"), fmt), fmt)).to_series()
    assert quick == general.to_list() == days


def test_a_batch_takes_the_quick_path_only_when_every_value_is_plain(tmp_path) -> None:
    from crm_core import load_snapshot
    from crm_core.data.build import import_snapshot

    plain = tmp_path / "plain.csv"
    plain.write_text("customer_id,date,amount\na,2026-01-05,12.5\nb,2026-01-06,-3\n")
    odd = tmp_path / "odd.csv"  # one value each needing the general reader
    odd.write_text('customer_id,date,amount\na,2026-01-05,12.5\nb, 2026-01-06 ,"$1,200.00"\n')
    for export, amounts in ((plain, [12.5, -3.0]), (odd, [12.5, 1200.0])):
        out = tmp_path / export.stem
        import_snapshot(out, transactions=export, as_of=date(2026, 9, 30))
        tx = load_snapshot(out).transactions.collect().sort("customer_id")
        assert tx["amount"].to_list() == amounts
        assert tx["date"].to_list() == [date(2026, 1, 5), date(2026, 1, 6)]
