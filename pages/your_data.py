"""Your data: upload a transactions export (or read a PostgreSQL query), map its columns,
see the first rows as they will be read and every problem with its rows, and build a
snapshot through the same code as ``crm build``; it appears in the sidebar at once."""

from __future__ import annotations

from datetime import date

import streamlit as st

from crm_app import state
from crm_app.loaders import your_data as load
from crm_core.copy import your_data as copy
from crm_core.data.exports import ReadOptions
from crm_core.data.manifest import AS_OF_RANGE
from crm_core.data.mapping import TRANSACTION_ROLES
from crm_core.data.sql import SqlSource
from crm_core.errors import SnapshotError
from crm_core.formatting import fmt_count

esc = state.escape_markdown
_SQL = "_yd_sql"


def _current() -> None:
    """KPI cards of the snapshot selected in the sidebar (what the other pages analyse)."""
    sel = st.session_state.get(state._SELECTION)
    if error := st.session_state.get(state._ERROR):
        st.error(copy.UNUSABLE.format(esc(error[1])), icon="⚠️")
        return
    if sel is None:
        st.info(copy.NO_SNAPSHOT, icon="ℹ️")
        return
    with state.guard("the snapshot's contents"):
        got = load.contents(sel.path, sel.stamp, sel.snapshot_as_of)
    cards = st.columns(4)
    cards[0].metric("Customers in the snapshot", fmt_count(got.customers, compact=False))
    cards[1].metric("Transactions in the snapshot", fmt_count(got.transactions, compact=False))
    cards[2].metric("First transaction", f"{got.first:%d %b %Y}" if got.first else "n/a")
    cards[3].metric("Snapshot date", f"{sel.snapshot_as_of:%d %b %Y}")
    if got.sampled_note:
        st.caption(esc(got.sampled_note))


def _options(sheet: bool) -> ReadOptions:
    """The reading options (Detect by default)."""
    cols = st.columns(5 if sheet else 4)
    picks = [
        cols[0].selectbox("Delimiter", list(copy.DELIMITERS), key="yd_delim"),
        cols[1].selectbox("Decimal mark", list(copy.DECIMALS), key="yd_decimal"),
        cols[2].selectbox("Date format", list(copy.DATE_FORMATS), key="yd_datefmt"),
        cols[3].selectbox("Encoding", list(copy.ENCODINGS), key="yd_enc"),
    ]
    name = cols[4].text_input("Sheet", key="yd_sheet", placeholder="first") if sheet else ""
    return ReadOptions(
        delimiter=copy.DELIMITERS[picks[0]],
        decimal=copy.DECIMALS[picks[1]],
        date_format=copy.DATE_FORMATS[picks[2]],
        encoding=copy.ENCODINGS[picks[3]],
        sheet=name.strip() or None,
    )


def _mapping(seen, token: str) -> load.Mapping:
    """One selectbox per role, set to the proposed column."""
    proposal = dict(seen.proposal)
    choices = [copy.NONE, *seen.columns]
    cols = st.columns(4)
    chosen = []
    for i, role in enumerate(TRANSACTION_ROLES):
        wanted = proposal.get(role.key)
        label = role.label[0].upper() + role.label[1:] + ("" if role.required else " (optional)")
        pick = cols[i % 4].selectbox(
            label, choices, index=choices.index(wanted) if wanted in choices else 0,
            key=f"yd_map_{role.key}_{token}", help=copy.HELP["mapping"] if i == 0 else None,
        )  # fmt: skip
        chosen.append((role.key, None if pick == copy.NONE else pick))
    return tuple(chosen)


def _problems(problems, key: str, heading: str) -> None:
    """The problems in words (the first few, whole at any width), then every one in a table
    with its rows and a CSV of the rows."""
    lines = "\n".join(f"- {esc(line)}" for line in copy.problem_lines(problems))
    st.error(f"{heading}\n\n{lines}", icon="⚠️")
    wide = st.column_config.TextColumn(width="large")
    st.dataframe(copy.problems_table(problems), hide_index=True, key=f"yd_problems_{key}",
                 column_config={"Problem": wide, "What to do": wide})  # fmt: skip
    st.download_button(
        "Download the rows with problems (CSV)", copy.problems_csv(problems),
        file_name="problems.csv", mime="text/csv", key=f"yd_problems_csv_{key}",
    )  # fmt: skip


def _build(source, key: str, options: ReadOptions, mapping, extras, as_of: date, report) -> None:
    """The snapshot's settings and the build button."""
    st.subheader("Build the snapshot")
    cols = st.columns([2, 1, 1, 2])
    company = cols[0].text_input("Company name", value="My company", key="yd_company")
    currency = cols[1].text_input("Currency (ISO code)", value="USD", max_chars=3,
                                  key="yd_currency")  # fmt: skip
    rate = cols[2].number_input("Discount rate a year", 0.0, 0.99, 0.10, 0.01, key="yd_rate")
    proposed = copy.folder_name(company)
    typed = cols[3].text_input("Folder name", key="yd_folder", placeholder=proposed,
                               help=copy.HELP["folder"])  # fmt: skip
    folder = typed.strip() or proposed
    problem = copy.folder_problem(folder)
    exists = not problem and (load.target_root() / folder / "manifest.json").is_file()
    replace = exists and st.checkbox(
        f"Replace the existing snapshot {esc(folder)}", key="yd_replace", help=copy.HELP["replace"]
    )
    if problem:
        st.warning(problem, icon="⚠️")
    blocked = bool(problem) or isinstance(report, str) or bool(report.problems)
    blocked = blocked or (exists and not replace)
    st.caption(f"Written to {esc(str(load.target_root() / folder))}.")
    if failed := st.session_state.pop(load.FAILED, None):
        st.error(copy.NOT_BUILT.format(esc(failed)), icon="⚠️")
    st.button(
        copy.BUILD, key=f"yd_build_{key[-8:]}", type="primary", disabled=blocked,
        on_click=load.build_clicked,
        args=(folder, source, options, mapping, extras),
        kwargs={"as_of": as_of, "company": company.strip() or "My company",
                "currency": currency.strip().upper(), "discount_rate": float(rate)},
    )  # fmt: skip


def _flow(source, key: str, options: ReadOptions, extras, unit_note: str | None) -> None:
    """Mapping, preview, validation report and build for one source."""
    first = load.look(key, source, options, None)
    if first.failure:
        st.error(esc(first.failure), icon="⚠️")
        return
    st.subheader("Columns", help=copy.HELP["mapping"])
    mapping = _mapping(first.seen, key[-8:])
    proposed = dict(mapping) == dict(first.seen.proposal)
    look = first if proposed else load.look(key, source, options, mapping)
    if look.failure:
        st.error(esc(look.failure), icon="⚠️")
        return
    seen = look.seen
    if seen.notes:
        st.caption(f"How it is read: {esc(', '.join(seen.notes))}.")
    if seen.problems:
        _problems(seen.problems, "plan", copy.PLAN_PROBLEMS)
        return
    st.subheader("The first rows as they will be read")
    st.dataframe(copy.preview_table(seen.preview, TRANSACTION_ROLES, seen.unit), hide_index=True,
                 key="yd_preview")  # fmt: skip
    if unit_note:
        st.caption(unit_note)
    low, high = AS_OF_RANGE
    as_of = st.columns([1, 3])[0].date_input("As of", value=date.today(), min_value=low,
                                             max_value=high, key="yd_asof",
                                             help=copy.HELP["as_of"])  # fmt: skip
    st.subheader("Validation report")
    report = load.check(key, source, options, mapping, extras, as_of)
    if isinstance(report, str):
        st.error(esc(report), icon="⚠️")
    elif report.problems:
        _problems(report.problems, "rows", copy.row_problems(len(report.problems)))
    else:
        st.success(copy.summary(report), icon=":material/check_circle:")
        if stale := copy.stale_note(report, as_of):
            st.warning(stale, icon="⚠️")
        st.caption(copy.CHECK_NOTE)
    _build(source, key, options, mapping, extras, as_of, report)


def _file() -> None:
    limit = load.upload_limit_mb()
    upload = st.file_uploader("Transactions export", type=copy.FILE_TYPES, key="yd_file",
                              help=copy.HELP["file"])  # fmt: skip
    st.caption(copy.upload_help(limit))
    with st.expander("Service contacts and prospects (optional)"):
        st.caption(copy.HELP["extra"])
        service = st.file_uploader("Service contacts", type=copy.FILE_TYPES, key="yd_service")
        leads = st.file_uploader("Prospects", type=copy.FILE_TYPES, key="yd_prospects")
    with st.expander("Reading options", expanded=False):
        st.caption(copy.HELP["options"])
        options = _options(sheet=bool(upload) and upload.name.lower().endswith(".xlsx"))
    if upload is None:
        st.info(copy.UPLOAD_FIRST, icon="ℹ️")
        return
    path = load.keep_upload(upload)
    extras = tuple(None if f is None else str(load.keep_upload(f)) for f in (service, leads))
    _flow(path, load.source_key(path), options, extras, None)


def _sql_read() -> None:
    """The Read button's callback (a callback survives the router's rerun): keep what to read."""
    kind = st.session_state.get("yd_sql_kind", "A query")
    text = st.session_state.get("yd_sql_query" if kind == "A query" else "yd_sql_table", "")
    st.session_state[_SQL] = (st.session_state.get("yd_sql_url", ""), kind, text)


def _sql() -> None:
    url = st.text_input(
        "Connection string",
        type="password",
        key="yd_sql_url",
        help=copy.HELP["sql_url"],
        placeholder="postgresql://user@host/db",
    )
    kind = st.radio("Read", ["A query", "A whole table"], horizontal=True, key="yd_sql_kind")
    if kind == "A query":
        text = st.text_area("Query", key="yd_sql_query", help=copy.HELP["sql_query"])
    else:
        text = st.text_input("Table", key="yd_sql_table", placeholder="schema.table")
    st.button("Read", key="yd_sql_read", on_click=_sql_read)
    saved = st.session_state.get(_SQL)
    if not saved:
        st.info(copy.SQL_FIRST, icon="ℹ️")
        return
    url, kind, text = saved
    try:
        source = SqlSource(url.strip() or "postgresql://", **{
            "query" if kind == "A query" else "table": text.strip()})  # fmt: skip
    except SnapshotError as exc:
        st.error(esc(copy.failure(exc)), icon="⚠️")
        return
    _flow(source, load.source_key(source), ReadOptions(), (None, None), copy.SQL_NOTE)


state._ensure_router()
st.title(copy.TITLE)
st.caption(copy.SUBTITLE)
if flash := st.session_state.pop(load.FLASH, None):
    st.success(esc(flash), icon=":material/check_circle:")
_current()
where = st.segmented_control("Read from", ["A file", "PostgreSQL"], default="A file",
                             required=True, key="yd_from", bind="query-params")  # fmt: skip
if where == "PostgreSQL":
    _sql()
else:
    _file()
