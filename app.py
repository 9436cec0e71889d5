"""Streamlit entry point: page config, sidebar (snapshot picker) and the page router.

Run with ``make run`` (or ``streamlit run app.py``). Pages live in ``pages/`` and are
registered in ``crm_app/navigation.py`` (``PAGES``), grouped in sections. Every page gets
the print stylesheet and presentation mode (``?present=1``) of ``crm_app/present.py``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import streamlit as st
from PIL import Image

from crm_app import auth, present
from crm_app.navigation import PAGES
from crm_app.state import routed, sidebar

HERE = Path(__file__).resolve().parent


@cache
def _icon() -> Image.Image:
    """The tab icon, drawn here (three rising bars): a Material icon or an emoji favicon
    would be fetched from a font server on the internet, and the app makes no request
    outside itself."""
    icon = np.full((32, 32, 3), 255, dtype=np.uint8)
    for i, top in enumerate((20, 13, 5)):
        icon[top:28, 4 + 9 * i : 11 + 9 * i] = (0x1F, 0x4E, 0x79)  # the theme's primary colour
    return Image.fromarray(icon)


def main() -> None:
    st.set_page_config(
        page_title="CRM economics",
        page_icon=_icon(),
        layout="wide",
        # presentation mode (?present=1) starts without the sidebar; crm_app.present
        initial_sidebar_state="collapsed" if present.presenting() else "expanded",
    )
    auth.gate()  # optional sign-in (crm_app/auth.py): nothing below runs before it
    sections: dict[str, list[st.Page]] = {}
    for i, page in enumerate(PAGES):
        first = i == 0
        sections.setdefault(page.section, []).append(
            st.Page(
                HERE / page.file,
                title=page.title,
                icon=page.icon,
                # the first page is served at "/" (its url_path only has to be unique) ...
                url_path=f"{page.url_path}-home" if first else page.url_path,
                default=first,
            )
        )
        if first:
            # ... and also at its own name, so a shared "/overview" link is not "not found"
            sections[page.section].append(
                st.Page(
                    HERE / page.file, title=page.title, url_path=page.url_path, visibility="hidden"
                )
            )
    current = st.navigation(sections, position="sidebar", expanded=True)
    sidebar()
    auth.sidebar_account()
    present.apply()  # print stylesheet, presentation mode
    with routed():
        current.run()


main()
