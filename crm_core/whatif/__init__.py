"""What-if: project customer segments forward, from a baseline measured on the ledger.

Modules, in the order of their imports:

* ``checks``, ``segment``, ``levers``, ``results``, ``projection``, ``draws``, ``engine`` -
  the projection engine (:func:`engine.simulate` of :class:`segment.Segment` objects);
* ``breakeven``, ``sensitivity``, ``optimize`` - spend analysis on the engine;
* ``facts``, ``labels``, ``tenure``, ``baseline_table``, ``baseline`` - the baseline
  measured on the customer ledger with the Overview's definitions;
* ``backtest``, ``report`` - the baseline started a year ago against what happened, and
  everything the page starts from;
* ``controls``, ``workbench``, ``scenarios`` - the page's sliders as data, what one slider
  position shows, saved scenarios.
"""
