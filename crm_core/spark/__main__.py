"""``python -m crm_core.spark build ...`` (see :mod:`crm_core.spark.cli`)."""

import sys

from crm_core.spark.cli import main

sys.exit(main())
