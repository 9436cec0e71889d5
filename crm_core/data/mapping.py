"""Which column of an export holds what: the roles of each table and a proposed mapping.

A role is a field the snapshot needs (customer id, date, amount, ...). An export's columns
are matched to roles by name: the snapshot's own name, then common names in exports of
shops, payment providers and CRMs (case, spaces and punctuation ignored). A proposal is
only a proposal: the page shows it for the user to confirm, and ``crm build`` uses it for
a required role only when the option is not given and exactly one column matches.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from crm_core.data.schema import C

__all__ = [
    "PROSPECT_ROLES",
    "SERVICE_ROLES",
    "TRANSACTION_ROLES",
    "Role",
    "mapped",
    "normalise",
    "propose",
]

ID, DATE, NUMBER, TEXT = "id", "date", "number", "text"


@dataclass(frozen=True)
class Role:
    """A field of a table read from an export.

    Attributes
    ----------
    key
        Name of the field (the snapshot column it becomes, or ``acquisition_cost``).
    label
        Words shown to users ("customer id").
    kind
        How values are read: ``"id"``, ``"date"``, ``"number"`` or ``"text"``.
    required
        Whether the export must have it.
    option
        The ``crm build`` option naming its column.
    aliases
        Other column names it is recognised by (normalised).
    """

    key: str
    label: str
    kind: str
    required: bool
    option: str
    aliases: tuple[str, ...] = ()


TRANSACTION_ROLES: tuple[Role, ...] = (
    Role(C.customer_id, "customer id", ID, True, "--customer-id-col",
         ("customer", "customerid", "customerno", "customernumber", "clientid", "client",
          "userid", "accountid", "buyerid", "memberid", "contactid", "kundennummer",
          "kundenid", "kunde", "email", "customeremail")),
    Role(C.date, "date", DATE, True, "--date-col",
         ("orderdate", "transactiondate", "purchasedate", "invoicedate", "paymentdate",
          "createdat", "created", "day", "datum", "paidat", "processedat", "createdutc",
          "timestamp", "bestelldatum", "rechnungsdatum", "kaufdatum", "fecha")),
    Role(C.amount, "amount", NUMBER, True, "--amount-col",
         ("total", "amountpaid", "revenue", "sales", "value", "netamount", "ordertotal",
          "totalamount", "price", "betrag", "umsatz", "subtotal", "netsales", "grosssales",
          "importe")),
    Role(C.cost, "direct cost", NUMBER, False, "--cost-col",
         ("cogs", "costofgoods", "directcost", "productcost", "unitcost", "kosten",
          "wareneinsatz")),
    Role(C.channel, "sales channel", TEXT, False, "--channel-col",
         ("saleschannel", "source", "ordersource", "kanal")),
    Role(C.region, "region", TEXT, False, "--region-col",
         ("country", "state", "area", "billingcountry", "shippingcountry", "land")),
    Role(C.acquisition_cost, "acquisition cost", NUMBER, False, "--acquisition-cost-col",
         ("cac", "acquisitioncost", "customeracquisitioncost")),
)  # fmt: skip

SERVICE_ROLES: tuple[Role, ...] = (
    Role(C.customer_id, "customer id", ID, True, "", TRANSACTION_ROLES[0].aliases),
    Role(C.date, "date", DATE, True, "", ("contactdate", "createdat", "created", "day")),
    Role(C.touchpoint, "touchpoint", TEXT, True, "", ("channel", "type", "contacttype")),
    Role(C.cost, "cost", NUMBER, True, "", ("amount", "servicecost", "costtoserve")),
)

PROSPECT_ROLES: tuple[Role, ...] = (
    Role(C.prospect_id, "prospect id", ID, True, "", ("leadid", "lead", "prospect", "id")),
    Role(C.first_contact, "first contact", DATE, True, "",
         ("firstcontactdate", "createdat", "created", "date")),
    Role(C.channel, "channel", TEXT, True, "", ("source", "leadsource")),
    Role(C.converted_customer_id, "converted customer id", ID, False, "",
         ("customerid", "convertedto", "customer")),
)  # fmt: skip


def normalise(name: str) -> str:
    """Column name without case, spaces or punctuation (``"Customer ID"`` -> ``customerid``)."""
    return re.sub(r"[\W_]+", "", name.casefold())


def propose(columns: Sequence[str], roles: Sequence[Role]) -> dict[str, str | None]:
    """The column proposed for each role (``None``: no match, or more than one).

    A column matching a role's own name wins; otherwise its aliases are tried in order.
    No column is proposed for two roles.
    """
    by_name: dict[str, list[str]] = {}
    for column in columns:
        by_name.setdefault(normalise(column), []).append(column)
    taken: set[str] = set()
    proposal: dict[str, str | None] = {}
    for names in ("own", "aliases"):
        for role in roles:
            if proposal.get(role.key) is not None:
                continue
            wanted = [normalise(role.key)] if names == "own" else list(role.aliases)
            proposal[role.key] = None
            for name in wanted:
                found = [c for c in by_name.get(name, []) if c not in taken]
                if len(found) == 1:
                    proposal[role.key] = found[0]
                    taken.add(found[0])
                    break
                if found:
                    break  # two columns of that name: let the user choose
    return proposal


def mapped(roles: Sequence[Role], mapping: Mapping[str, str | None]) -> list[tuple[Role, str]]:
    """The roles given a column, with it."""
    return [(role, col) for role in roles if (col := mapping.get(role.key))]
