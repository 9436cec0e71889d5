"""Property tests: damaged and odd exports are read exactly or refused, never misread.

Hypothesis writes transaction exports the way real tools do and damage them the way real
files get damaged: delimiters (comma, semicolon, tab, pipe), encodings (UTF-8 with and
without BOM, UTF-16, cp1252), unicode and markup in customer ids and channels, extreme
and negative amounts, dates from 1900 to 2200, duplicate rows, header-only and empty files,
a cell replaced by garbage, bytes cut off. ``crm_core.data.build.build_snapshot`` (the
reader of ``crm build``) must either return a snapshot holding exactly the rows written
(on or before the as-of date; ids without surrounding spaces) or raise
``SnapshotError``; any other exception is a bug, and so is any value that differs.

Profiles: the default runs ``EXAMPLES`` cases per property; ``CRM_HYPOTHESIS=slow`` (the
``slow`` profile) runs ten times as many.
"""

from __future__ import annotations

import os
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_core.data.build import build_snapshot
from crm_core.data.schema import C
from crm_core.errors import SnapshotError

settings.register_profile(
    "crm-quick", max_examples=150, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)  # fmt: skip
settings.register_profile("crm-slow", parent=settings.get_profile("crm-quick"), max_examples=1500)
PROFILE = settings.get_profile(f"crm-{os.environ.get('CRM_HYPOTHESIS', 'quick')}")

AS_OF = date(2026, 9, 30)
MARKUP = ["<img src=x onerror=alert(1)>", "[x](javascript:alert(1))", ":red[x]",
          "![](http://127.0.0.1:9/p.png)", "=1+2", "@SUM(A1)", "Zoë", "客户", "🙂", "a,b", 'q"q',
          "line\nbreak", "tab\there", "  padded  "]  # fmt: skip

ids = st.one_of(
    st.sampled_from(MARKUP),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=12),
)
amounts = st.one_of(
    st.decimals(min_value=Decimal("-1e6"), max_value=Decimal("1e9"), places=2,
                allow_nan=False, allow_infinity=False),
    st.sampled_from([Decimal("0"), Decimal("0.01"), Decimal("-0.01"), Decimal("999999999.99")]),
)  # fmt: skip
dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31))
rows = st.lists(st.tuples(ids, dates, amounts), min_size=0, max_size=8)
DELIMITERS = [",", ";", "\t", "|"]
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "cp1252"]


def _cell(text: str, delimiter: str) -> str:
    """A CSV cell as a spreadsheet writes it: quoted when it holds the delimiter, a
    quote or a line break."""
    if any(c in text for c in (delimiter, '"', "\n", "\r")) or text != text.strip():
        return '"' + text.replace('"', '""') + '"'
    return text


def _records(data: list[tuple[str, date, Decimal]], delimiter: str, channel: bool) -> list[str]:
    """The header and one record per row (a record may span lines: quoted line breaks)."""
    header = [C.customer_id, C.date, C.amount] + ([C.channel] if channel else [])
    records = [delimiter.join(header)]
    for i, (cid, day, amount) in enumerate(data):
        cells = [cid, day.isoformat(), f"{amount:.2f}"]
        cells += [MARKUP[i % len(MARKUP)]] if channel else []
        records.append(delimiter.join(_cell(c, delimiter) for c in cells))
    return records


def _export(data: list[tuple[str, date, Decimal]], delimiter: str, channel: bool) -> str:
    return "\n".join(_records(data, delimiter, channel)) + "\n"


def _build(path: Path):
    """The reader's answer: the snapshot, or the SnapshotError it raised (anything else
    propagates and fails the test)."""
    try:
        return build_snapshot(path, as_of=AS_OF)[0]
    except SnapshotError as exc:
        assert str(exc).strip(), "a refusal must say why"
        return exc


def _expected(data: list[tuple[str, date, Decimal]]) -> Counter:
    return Counter((cid.strip(), day, float(amount)) for cid, day, amount in data if day <= AS_OF)


def _read(snap) -> Counter:
    tx = snap.transactions.select(C.customer_id, C.date, C.amount).collect()
    return Counter(tx.iter_rows())


@PROFILE
@given(data=rows, delimiter=st.sampled_from(DELIMITERS), encoding=st.sampled_from(ENCODINGS),
       channel=st.booleans(), duplicate=st.booleans())  # fmt: skip
def test_odd_exports_are_read_exactly_or_refused(
    tmp_path_factory, data, delimiter, encoding, channel, duplicate
) -> None:
    if duplicate and data:
        data = data + data[:1]
    text = _export(data, delimiter, channel)
    try:
        raw = text.encode(encoding)
    except UnicodeEncodeError:
        raw = text.encode("utf-8")  # cp1252 cannot hold every name: the tool writes UTF-8
    path = tmp_path_factory.mktemp("export") / "transactions.csv"
    path.write_bytes(raw)
    result = _build(path)
    if isinstance(result, SnapshotError):
        return
    assert _read(result) == _expected(data), "the snapshot differs from the export"


@PROFILE
@given(data=rows.filter(bool), delimiter=st.sampled_from(DELIMITERS),
       damage=st.sampled_from(["garbage_amount", "garbage_date", "cut", "empty_id", "nul",
                               "comma_decimal", "slash_date", "extra_cell"]),
       where=st.integers(min_value=0, max_value=100))  # fmt: skip
def test_damaged_exports_are_refused_or_read_exactly(
    tmp_path_factory, data, delimiter, damage, where
) -> None:
    i = where % len(data)
    cid, day, amount = data[i]
    lines = _records(data, delimiter, False)
    cells = [_cell(cid, delimiter), day.isoformat(), f"{amount:.2f}"]
    if damage == "garbage_amount":
        cells[2] = "12abc"
    elif damage == "garbage_date":
        cells[1] = "2024-13-45"
    elif damage == "empty_id":
        cells[0] = ""
    elif damage == "comma_decimal":
        cells[2] = _cell(f"{amount:.2f}".replace(".", ","), delimiter)
    elif damage == "slash_date":
        cells[1] = f"{day:%m/%d/%Y}"
    elif damage == "extra_cell":
        cells.append("surplus")
    elif damage == "nul":
        cells[0] = "a\x00b"
    lines[i + 1] = delimiter.join(cells)
    raw = ("\n".join(lines) + "\n").encode("utf-8")
    if damage == "cut":
        raw = raw[: max(1, (len(raw) * where) // 100)]
    path = tmp_path_factory.mktemp("export") / "transactions.csv"
    path.write_bytes(raw)
    result = _build(path)
    if isinstance(result, SnapshotError):
        return
    # read: every value must be what the file says (a damaged cell is never guessed)
    read = _read(result)
    if damage == "cut":
        assert sum(read.values()) <= len(data)
        assert set(read) <= set(_expected(data)) | {
            (cid.strip(), d, a) for cid, d, a in read if cid.strip()
        }
        return
    if damage in {"comma_decimal", "slash_date"}:
        # an unambiguous reading is allowed; the value must then be the one written
        assert read == _expected(data), f"{damage}: the snapshot differs from the export"
        return
    if damage == "nul":
        expected = _expected([*data[:i], ("a\x00b", day, amount), *data[i + 1 :]])
        assert read == expected
        return
    pytest.fail(f"{damage} was accepted: {dict(read)}")


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"customer_id,date,amount\n",
                                     b"\xff\xfe\x00\x00garbage", b"PAR1\x00\x00PAR1"])  # fmt: skip
def test_empty_and_header_only_exports_are_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "transactions.csv"
    path.write_bytes(content)
    with pytest.raises(SnapshotError):
        build_snapshot(path, as_of=AS_OF)
