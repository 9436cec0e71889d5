"""Every metric the product shows, defined once (see :mod:`crm_core.metrics.registry`)."""
