"""Streamlit entry point: page config, sidebar (snapshot picker) and the page router.

Run with ``make run`` (or ``streamlit run app.py``). Pages live in ``pages/`` and are
registered in ``PAGES`` below, grouped in sections.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from crm_app.state import sidebar

HERE = Path(__file__).resolve().parent

# (section, file, title, icon, url path) - one line per page.
PAGES: list[tuple[str, str, str, str, str]] = [
    ("Overview", "pages/overview.py", "Executive overview", ":material/dashboard:", "overview"),
]


def main() -> None:
    st.set_page_config(
        page_title="CRM economics",
        page_icon=":material/insights:",
        layout="wide",
        initial_sidebar_state="expanded",
    )
    sections: dict[str, list[st.Page]] = {}
    for i, (section, file, title, icon, url) in enumerate(PAGES):
        sections.setdefault(section, []).append(
            st.Page(HERE / file, title=title, icon=icon, url_path=url, default=i == 0)
        )
    page = st.navigation(sections, position="sidebar", expanded=True)
    sidebar()
    page.run()


main()
