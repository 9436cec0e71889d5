"""Quarterly review: the deck previewed section by section, a download button per format,
and presentation mode (``?present=1``) stepping through the sections.

Widgets -> one cached loader (:mod:`crm_app.loaders.review`) -> render. The files are
made by the server's worker thread; a fragment shows their progress and, when ready, the
download button.
"""

from __future__ import annotations

import time

import polars as pl
import streamlit as st

from crm_app import present, state, ui
from crm_app.loaders import review as load
from crm_app.state import escape_markdown as esc
from crm_app.ui import page_header
from crm_core.copy import review as copy
from crm_core.copy import review_risk as risk_copy
from crm_core.report.export import FORMATS, MIME
from crm_core.report.figures import on_slide
from crm_core.report.slides import Deck, Slide

POLL_S = 0.5  # how often the download area looks at the worker's progress


def show_slide(slide: Slide, number: int) -> None:
    """One slide as the page shows it (its figures interactive)."""
    with st.container(border=True):
        st.subheader(esc(slide.title), anchor=False)
        if slide.subtitle:
            st.caption(esc(slide.subtitle))
        if slide.bullets:
            st.markdown("\n".join(f"- {esc(b)}" for b in slide.bullets))
        if slide.table is not None:
            t = slide.table
            frame = pl.DataFrame(
                {h: [row[i] for row in t.rows] for i, h in enumerate(t.header)},
                schema={h: pl.String for h in t.header},
            )
            config = {
                h: st.column_config.TextColumn(h, alignment="right" if t.is_numeric(i) else None)
                for i, h in enumerate(t.header)
            }
            st.dataframe(frame, hide_index=True, key=f"rv_table_{number}", column_config=config,
                         height=38 + 35 * len(t.rows))  # fmt: skip
        for i, figure in enumerate(slide.figures):
            ui.plotly_chart(on_slide(figure, slide.title), key=f"rv_chart_{number}_{i}")


@st.fragment(run_every=5)
def waiting(key: tuple) -> None:
    """While churn risk is scored off the script thread: a note, then the whole page again
    when it is done."""
    if load.churn_pending(*key):
        st.info(risk_copy.RISK_PENDING_NOTE, icon=":material/hourglass_top:")
    else:
        st.rerun(scope="app")


@st.fragment
def downloads(key: tuple, scenario: str | None, review: Deck, pending: bool) -> None:
    """A button per format (files wait for churn risk); the worker's progress while a file
    is made."""
    jobs = load.exports()
    running = False
    for column, fmt in zip(st.columns(len(FORMATS)), FORMATS, strict=True):
        file_key = (*key, scenario, fmt)
        job = jobs.state(file_key)
        slot = column.empty()  # one element per format, replaced as the file progresses
        if job is None or job.status == "failed":
            with slot.container():
                st.button(
                    copy.PREPARE[fmt], key=f"rv_make_{fmt}", icon=":material/slideshow:",
                    on_click=jobs.start, args=(file_key, review), disabled=pending,
                )  # fmt: skip
                if job is not None:
                    st.error(esc(job.error or "The file could not be made."), icon="⚠️")
        elif job.status == "running":
            running = True
            slot.progress(job.done, text=esc(job.step))
        else:
            slot.download_button(
                copy.DOWNLOAD[fmt], data=job.data or b"", mime=MIME[fmt],
                file_name=f"{review.file_stem}.{fmt}", key=f"rv_get_{fmt}",
                icon=":material/download:", on_click="ignore",
            )  # fmt: skip
    if running:
        time.sleep(POLL_S)
        st.rerun(scope="fragment")


sel = state.require_selection()
presenting = present.presenting()
if not presenting:
    page_header(copy.PAGE_TITLE, sel, copy.PAGE_SUBTITLE)
names = load.saved_scenarios(sel.path)
with st.container(key="rv_controls"):
    left, right = st.columns([1, 2])
    picked = left.selectbox(
        copy.SCENARIO_LABEL, ["", *names], format_func=lambda n: n or copy.DEFAULT_OPTION,
        key="rv_scenario", bind="query-params", help=copy.SCENARIO_HELP,
    )  # fmt: skip
    scenario = picked or None
pending = load.churn_pending(*sel.key)  # the deck shows what this says, until the next run
with state.guard("the quarterly review"):
    review = load.deck(*sel.key, scenario, not pending)
if pending:
    waiting(sel.key)

titles = [title for _, title in review.sections]
if presenting:
    index = present.step(len(titles))
    st.caption(copy.step_caption(index, len(titles), titles[index]))
    chosen = [review.sections[index][0]]
else:
    with st.container(key="rv_nav"):
        pick = st.segmented_control(
            copy.SECTION_LABEL, [copy.ALL_SECTIONS, *titles], default=copy.ALL_SECTIONS,
            key="rv_section", required=True, bind="query-params",
        )  # fmt: skip
    st.caption(copy.preview_caption(len(review.slides), review.figure_count))
    chosen = [k for k, t in review.sections if pick in (copy.ALL_SECTIONS, t)]
    with right:
        st.markdown(f"**{copy.DOWNLOAD_TITLE}**", help=copy.DOWNLOAD_HELP)
        downloads(sel.key, scenario, review, pending)
        st.caption(copy.PRESENT_HINT)
        present.enter_button()

for number, slide in enumerate(review.slides, start=1):
    if slide.section in chosen:
        show_slide(slide, number)
if presenting:
    present.step_buttons(len(titles))
