"""Payments made in the portal that the export still shows unpaid, days later.

The portal shows a payment received online "awaiting confirmation" until the export has
the invoice (or the receipt) paid. Staff record it in the invoicing program; if that has
not happened `GRACE` after the payment, `portalgen check` says so: either the program was
not updated, or the money never arrived (check the provider's dashboard).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from portalgen.payments.records import PAID, PaidRecord

if TYPE_CHECKING:
    from portalgen.domain.model import Export
    from portalgen.storage import Storage

GRACE = timedelta(days=3)


@dataclass(frozen=True)
class UnconfirmedPayment:
    customer: str
    record: PaidRecord

    def message(self, zone: str) -> str:
        from zoneinfo import ZoneInfo

        r = self.record
        day = r.when.astimezone(ZoneInfo(zone)).strftime("%d/%m/%Y")
        paid = f"{r.amount} {r.currency} paid online with {r.provider} on {day}"
        return (
            f"invoice {r.invoice} ({self.customer}): {paid} (order {r.order}), but the export "
            "still shows it unpaid; record the payment in the invoicing program, or check "
            "the provider's dashboard if the money did not arrive"
        )


def unconfirmed_payments(
    export: Export, storage: Storage, today: date, grace: timedelta = GRACE
) -> list[UnconfirmedPayment]:
    """Payments received in the portal at least `grace` before `today` whose invoice or
    receipt `export` does not show paid."""
    from portalgen.access.registry import AccessRegistry
    from portalgen.domain.ledger import invoice_dues, payments_by_invoice

    records: dict[str, list[PaidRecord]] = defaultdict(list)  # customer_key -> records
    for info in storage.list(PAID):
        raw = storage.get(info.key)
        try:
            record = PaidRecord.from_json(raw) if raw is not None else None
        except ValueError:
            continue
        if record is not None and record.when.date() <= today - grace:
            records[info.key.split("/")[2]].append(record)
    if not records:
        return []
    keys = AccessRegistry(storage).index()
    receipts = payments_by_invoice(export.payments)
    found = []
    for invoice in export.invoices:
        for record in records.get(keys.get(invoice.customer_code, ""), ()):
            if record.slug != invoice.slug:
                continue
            paid = {p.number for p in receipts.get(invoice.key, ()) if p.is_paid}
            dues = invoice_dues(invoice, receipts.get(invoice.key, ()), today)
            if dues.outstanding.is_zero() or (record.receipt and record.receipt in paid):
                continue
            found.append(UnconfirmedPayment(invoice.customer_code, record))
    return found
