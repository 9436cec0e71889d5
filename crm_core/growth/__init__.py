"""Growth accounting: where revenue comes from and where it leaks, what customers are worth
against what they cost, and whether the CLV model's forecasts came true.

Modules (one concern each; the revenue movements themselves, NRR, GRR and the quick ratio
are company metrics and live in :mod:`crm_core.metrics.movements`):

* ``movements`` - the Growth page's view of the movements: periods to show, the waterfall
  of one period, the biggest movers behind it (per customer, for the drill-down);
* ``economics`` - unit economics by acquisition channel and by cohort (CAC, CLV, value to
  CAC, payback, 12-month retention, profit share);
* ``forecast`` - forecast against actual: every fit at an earlier quarter end, its
  forecast of the quarters since and what happened (BG/NBD + Gamma-Gamma or sBG).
"""
