"""User-facing copy: headlines, help texts and labels, one module per page.

Models and metrics never hold page copy (metric names and definitions live with the
metrics, :mod:`crm_core.metrics.registry`). Pages and the deck read their words from here,
so a sentence is written once. Data-derived strings are inserted as plain text: callers
render them with ``st.text``/``st.caption``-safe helpers, never as Markdown or HTML.
"""


def sampled_rows_note(sampled_customers: int | None) -> str | None:
    """The note on a page whose figures read raw rows, for a snapshot that keeps the raw
    rows of a sample of customers only (a Spark build); ``None`` otherwise."""
    if sampled_customers is None:
        return None
    return (
        f"Built on Spark: these figures use the raw rows of {sampled_customers:,} sampled "
        "customers only; the cards and the ledger's figures cover every customer."
    )
