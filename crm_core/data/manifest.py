"""The snapshot's ``manifest.json``: company, date, currency, business model, discount rate."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from crm_core.data.schema import BUSINESS_MODELS, MANIFEST_FILE, NON_CONTRACTUAL, SCHEMA_VERSION
from crm_core.errors import SnapshotError

__all__ = ["AS_OF_RANGE", "Manifest"]

# dates the pages can count quarters and horizons from (9999-12-31 + a quarter overflows)
AS_OF_RANGE = (date(1900, 1, 1), date(2199, 12, 31))


@dataclass(frozen=True)
class Manifest:
    """The snapshot's ``manifest.json``.

    Attributes
    ----------
    as_of
        Date the data describes (every row is dated on or before it).
    company
        Company name shown in the app.
    currency
        ISO 4217 code of every amount in the snapshot.
    business_model
        ``"non_contractual"`` (retail, cards: churn is unobserved) or ``"contractual"``
        (subscriptions: ``customers.churned_on`` records the end of the contract).
    discount_rate
        Yearly discount rate used for CLV and equity (0.10 = 10% a year).
    schema_version
        Snapshot format version (1).
    extra
        Any other keys found in the manifest, kept as they were.
    """

    as_of: date
    company: str
    currency: str = "USD"
    business_model: str = NON_CONTRACTUAL
    discount_rate: float = 0.10
    schema_version: int = SCHEMA_VERSION
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, raw: object, *, file: str = MANIFEST_FILE) -> Manifest:
        """Validate a parsed manifest, raising :class:`SnapshotError` naming the bad key."""
        if not isinstance(raw, dict):
            raise SnapshotError(file, f"must be a JSON object, found {type(raw).__name__}")
        missing = [k for k in ("schema_version", "as_of", "company") if k not in raw]
        if missing:
            raise SnapshotError(file, f"is missing the key(s) {', '.join(missing)}")

        version = raw["schema_version"]
        if version != SCHEMA_VERSION or isinstance(version, bool):
            raise SnapshotError(
                file,
                f"key 'schema_version' is {version!r}; this version reads schema_version "
                f"{SCHEMA_VERSION}",
            )
        try:
            as_of = date.fromisoformat(str(raw["as_of"]))
        except ValueError:
            raise SnapshotError(
                file, f"key 'as_of' must be a date YYYY-MM-DD, found {raw['as_of']!r}"
            ) from None
        if not AS_OF_RANGE[0] <= as_of <= AS_OF_RANGE[1]:
            raise SnapshotError(
                file,
                f"key 'as_of' must lie between {AS_OF_RANGE[0]} and {AS_OF_RANGE[1]}, "
                f"found {raw['as_of']!r}",
            )
        company = raw["company"]
        if not isinstance(company, str) or not company.strip():
            raise SnapshotError(file, f"key 'company' must be a non-empty text, found {company!r}")
        currency = raw.get("currency", "USD")
        if not (isinstance(currency, str) and len(currency) == 3 and currency.isalpha()):
            raise SnapshotError(
                file, f"key 'currency' must be a 3-letter ISO code, found {currency!r}"
            )
        model = raw.get("business_model", NON_CONTRACTUAL)
        if model not in BUSINESS_MODELS:
            raise SnapshotError(
                file,
                f"key 'business_model' must be one of {', '.join(BUSINESS_MODELS)}, "
                f"found {model!r}",
            )
        rate = raw.get("discount_rate", 0.10)
        if (
            isinstance(rate, bool)
            or not isinstance(rate, int | float)
            or not math.isfinite(rate)
            or not 0 <= rate < 1
        ):
            raise SnapshotError(
                file, f"key 'discount_rate' must be a number in [0, 1), found {rate!r}"
            )
        known = {
            "schema_version",
            "as_of",
            "company",
            "currency",
            "business_model",
            "discount_rate",
        }
        return cls(
            as_of=as_of,
            company=company.strip(),
            currency=currency.upper(),
            business_model=model,
            discount_rate=float(rate),
            schema_version=SCHEMA_VERSION,
            extra={k: v for k, v in raw.items() if k not in known},
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON form written to ``manifest.json``."""
        return {
            "schema_version": self.schema_version,
            "as_of": self.as_of.isoformat(),
            "company": self.company,
            "currency": self.currency,
            "business_model": self.business_model,
            "discount_rate": self.discount_rate,
            **dict(self.extra),
        }

    @property
    def contractual(self) -> bool:
        """Whether churn is observed (``churned_on`` is meaningful)."""
        return self.business_model != NON_CONTRACTUAL
