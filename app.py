"""Streamlit entry point: page config, sidebar (snapshot picker) and the page router.

Run with ``make run`` (or ``streamlit run app.py``). Pages live in ``pages/`` and are
registered in ``crm_app/navigation.py`` (``PAGES``), grouped in sections.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from crm_app.navigation import PAGES
from crm_app.state import routed, sidebar

HERE = Path(__file__).resolve().parent


def main() -> None:
    st.set_page_config(
        page_title="CRM economics",
        page_icon=":material/insights:",
        layout="wide",
        initial_sidebar_state="expanded",
    )
    sections: dict[str, list[st.Page]] = {}
    for i, page in enumerate(PAGES):
        sections.setdefault(page.section, []).append(
            st.Page(
                HERE / page.file,
                title=page.title,
                icon=page.icon,
                url_path=page.url_path,
                default=i == 0,
            )
        )
    current = st.navigation(sections, position="sidebar", expanded=True)
    sidebar()
    with routed():
        current.run()


main()
