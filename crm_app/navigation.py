"""The page registry: one line per page, grouped in sections (order = sidebar order).

Each entry is ``Page(section, file, title, icon, url_path)``; the first page is the
default (served at ``/``). ``app.py`` builds ``st.navigation`` from it and the browser test
opens every page listed here. A page's ``url_path`` must be its file's stem: until
``st.navigation`` has run once, Streamlit resolves a deep link against the files in
``pages/`` and shows "Page not found" for any other name.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["PAGES", "Page"]


class Page(NamedTuple):
    section: str
    file: str
    title: str
    icon: str
    url_path: str


PAGES: list[Page] = [
    Page("Overview", "pages/overview.py", "Executive overview", ":material/dashboard:", "overview"),
    Page("Overview", "pages/growth.py", "Growth", ":material/trending_up:", "growth"),
    Page("Overview", "pages/review.py", "Quarterly review", ":material/slideshow:", "review"),
    Page("Customers", "pages/segments.py", "Segments", ":material/pie_chart:", "segments"),
    Page(
        "Customers",
        "pages/customer_value.py",
        "Customer value",
        ":material/savings:",
        "customer_value",
    ),
    Page("Customers", "pages/lifecycle.py", "Lifecycle", ":material/timeline:", "lifecycle"),
    Page("Customers", "pages/churn.py", "Churn risk", ":material/crisis_alert:", "churn"),
    Page("Planning", "pages/whatif.py", "What-if", ":material/tune:", "whatif"),
    Page("Data", "pages/your_data.py", "Your data", ":material/upload_file:", "your_data"),
]
