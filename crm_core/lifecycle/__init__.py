"""The customer lifecycle: stages, transitions, funnel, cohorts and profit by tenure.

Every number is an aggregation of the customer ledger (:mod:`crm_core.data.ledger`), of the
snapshot's prospects table (leads) and of the shared CLV valuation:

* :mod:`.stages` - the stage of every customer at every period end, under any thresholds;
* :mod:`.history` - time in the current stage and the stage mix over time;
* :mod:`.prospects` - open leads (prospects are not customers);
* :mod:`.values` - twelve-month revenue and CLV per customer at a period end;
* :mod:`.transitions` - moves between two period ends and the value that moved;
* :mod:`.report` - :func:`lifecycle_report`, the page's entry point;
* :mod:`.funnel`, :mod:`.cohorts`, :mod:`.tenure` - the funnel, acquisition cohorts and
  profit by tenure year.
"""
