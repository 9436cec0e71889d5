"""Segments: who earns the profit and who costs it, from the customer ledger.

``report`` (the entry point, :func:`~crm_core.segments.report.segment_report`), ``tiers``
(ABC tiers on the metrics' top-count rule), ``whale`` (the whale curve, thinned for
charts), ``matrix`` (the value matrix), ``rfm_scores`` and ``rfm`` (RFM scores, segments
and migration from the panel), ``cost_to_serve`` (touchpoints and sales channels from the
window's raw rows), ``selection`` (region and channel filters), ``drilldown`` (a tier's
list and CSV), ``columns`` (names). ``profit`` is a deprecated shim for callers not yet on
the ledger.
"""
