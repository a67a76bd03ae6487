"""The invoices of a portal as published: what the gate lets a customer pay.

The renderer writes ``_live/invoices.json`` (slots.INVOICES_INDEX) from the ledger's
`InvoiceDues` on the day it publishes — the one owner of what an invoice asks for —
so the gate never computes an amount and never takes one from a form::

    {"version": 1, "invoices": {"<slug>": {
        "number": "F2026A-00021", "currency": "EUR", "status": "overdue",
        "outstanding": "218.53",
        "next": {"receipt": "F2026A-00021-2", "amount": "100.00", "due": "2026-07-01"},
        "unpaid": ["F2026A-00021-2", "F2026A-00021-3"],
        "receipt_ids": {"F2026A-00021-2": "57", "F2026A-00021-3": "58"},
        "receipt_amounts": {"F2026A-00021-2": "100.00", "F2026A-00021-3": "118.53"}}}}

``unpaid`` lists its receipts still unpaid; ``next`` is the next instalment of an
invoice paid in receipts (absent otherwise); ``receipt_ids`` gives the invoicing
program's own id of those receipts that have one (FacturaScripts' ``idrecibo``: what
`portalgen push` finds the receipt by; absent otherwise); ``receipt_amounts`` each unpaid
receipt's amount, so a payment of everything outstanding records what it paid for each
receipt (absent in an index published before portalgen wrote it); an invoice that is
paid, or charged by direct debit, is not listed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

INDEX_VERSION = 1


@dataclass(frozen=True)
class Instalment:
    receipt: str
    amount: Decimal
    due: str  # ISO date or ""


@dataclass(frozen=True)
class ReceiptShare:
    """One receipt a payment settles, as published: its name in the portal
    (``<invoice>-<numero>``), its id in the invoicing program ("" if none) and amount."""

    receipt: str
    receipt_id: str
    amount: str  # decimal string, as published

    def to_dict(self) -> dict[str, str]:
        return {"receipt": self.receipt, "receipt_id": self.receipt_id, "amount": self.amount}

    @classmethod
    def from_dict(cls, raw: Any) -> ReceiptShare:
        """ValueError if `raw` is not one (a damaged record)."""
        if not isinstance(raw, Mapping) or not raw.get("receipt"):
            raise ValueError(f"not a receipt share: {raw!r}")
        amount = str(_money(raw.get("amount")))
        return cls(str(raw["receipt"]), str(raw.get("receipt_id") or ""), amount)


@dataclass(frozen=True)
class PayableInvoice:
    slug: str
    number: str
    currency: str
    status: str
    outstanding: Decimal
    next: Instalment | None = None
    unpaid: tuple[str, ...] = ()  # its receipts still unpaid when published
    receipt_ids: Mapping[str, str] = field(default_factory=dict)  # receipt → its source id
    receipt_amounts: Mapping[str, str] = field(default_factory=dict)  # receipt → its amount

    def amount_for(self, part: str) -> tuple[Decimal, str]:
        """(amount, receipt) the customer asked to pay: the "next" instalment or "all"
        that is outstanding (which settles a receipt when only one is left)."""
        if part == "next" and self.next is not None:
            return self.next.amount, self.next.receipt
        return self.outstanding, self.unpaid[0] if len(self.unpaid) == 1 else ""

    def shares_for(self, part: str) -> tuple[ReceiptShare, ...]:
        """The receipts a payment of "all" settles when more than one is unpaid, each
        with its id and amount as published; () for one receipt or none, and for an index
        published without the amounts."""
        if (part == "next" and self.next is not None) or len(self.unpaid) < 2:
            return ()
        if any(r not in self.receipt_amounts for r in self.unpaid):
            return ()
        return tuple(
            ReceiptShare(r, self.receipt_ids.get(r, ""), self.receipt_amounts[r])
            for r in self.unpaid
        )


def _money(value: Any) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"not an amount: {value!r}") from None
    if not amount.is_finite() or amount <= 0:
        raise ValueError(f"not an amount to pay: {value!r}")
    return amount


def _invoice(slug: str, raw: Mapping[str, Any]) -> PayableInvoice:
    nxt = raw.get("next")
    instalment = None
    if nxt:
        instalment = Instalment(
            str(nxt["receipt"]), _money(nxt["amount"]), str(nxt.get("due") or "")
        )
    return PayableInvoice(
        slug,
        str(raw["number"]),
        str(raw["currency"]),
        str(raw.get("status") or ""),
        _money(raw["outstanding"]),
        instalment,
        tuple(str(r) for r in raw.get("unpaid") or ()),
        {str(k): str(v) for k, v in (raw.get("receipt_ids") or {}).items()},
        _amounts(raw.get("receipt_amounts") or {}),
    )


def _amounts(raw: Mapping[str, Any]) -> dict[str, str]:
    """receipt → amount, leaving out one that is no amount to pay (a payment of "all"
    then records no receipts, as before the index had them)."""
    found = {}
    for receipt, value in raw.items():
        try:
            found[str(receipt)] = str(_money(value))
        except ValueError:
            continue
    return found


def parse_invoice_index(raw: bytes) -> dict[str, PayableInvoice]:
    """slug → invoice from ``_live/invoices.json``; ValueError if it is not one."""
    try:
        data = json.loads(raw)
        if data.get("version") != INDEX_VERSION:
            raise ValueError(f"unsupported invoice index version {data.get('version')!r}")
        return {str(slug): _invoice(str(slug), v) for slug, v in data["invoices"].items()}
    except (KeyError, TypeError, AttributeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not an invoice index: {exc}") from None


def index_entry(
    number: str,
    currency: str,
    status: str,
    outstanding: Decimal,
    next_instalment: tuple[str, Decimal, str] | None,
) -> dict[str, Any]:
    """One invoice of the index, as the renderer writes it."""
    entry: dict[str, Any] = {
        "number": number,
        "currency": currency,
        "status": status,
        "outstanding": str(outstanding),
    }
    if next_instalment is not None:
        receipt, amount, due = next_instalment
        entry["next"] = {"receipt": receipt, "amount": str(amount), "due": due}
    return entry
