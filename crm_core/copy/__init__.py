"""User-facing copy: headlines, help texts and labels, one module per page.

Models and metrics never hold page copy (metric names and definitions live with the
metrics, :mod:`crm_core.metrics.registry`). Pages and the deck read their words from here,
so a sentence is written once. Data-derived strings are inserted as plain text: callers
render them with ``st.text``/``st.caption``-safe helpers, never as Markdown or HTML.
"""
