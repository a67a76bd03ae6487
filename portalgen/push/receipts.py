"""Online payments: each receipt a ``payment.received`` event paid, marked paid in
FacturaScripts after reading it back (docs/facturascripts.md, "Online payments").

A receipt is written only while it is as the customer paid it: unpaid, of the invoice
paid, for the amount and currency paid for it. A payment of several receipts at once
(everything an invoice owed) is written whole or not at all: every receipt is read back
before the first is written, their amounts must add up to the payment's, and one receipt
that cannot be written skips the whole payment with a reason naming it. Each receipt's
note carries the payment's ``[portalgen <event id>]``, so a push interrupted after some
of them recognises those and writes only the rest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from portalgen.payments.invoices import ReceiptShare
from portalgen.push.client import FacturaScriptsApi, PushError
from portalgen.push.notes import append, marker
from portalgen.push.plans import Context, Plan, cents

RECEIPTS = "reciboclientes"  # ReciboCliente's API resource (primary key idrecibo)


@dataclass(frozen=True)
class PaymentItem:
    """A ``payment.received`` audit event (docs/facturascripts.md, "Online payments")."""

    customer: str
    event_id: str
    ts: datetime
    document: str
    data: Mapping[str, Any]
    kind = "payment"

    @property
    def label(self) -> str:
        return (
            f"payment {self.data.get('transaction', '')} ({self.customer}) of invoice "
            f"{self.data.get('invoice', '')}"
        )

    @property
    def reference(self) -> str:
        return self.event_id

    def plan(self, ctx: Context) -> Plan:
        if not ctx.payment_method:
            raise PushError(
                "facturascripts.online_payment_method is not set: name the payment method "
                "(codpago) FacturaScripts records online payments under"
            )
        if self.data.get("receipts"):
            return self._several(ctx)
        record_id = self.receipt_id(ctx.api)
        if not record_id:
            return Plan(RECEIPTS, "", skip=self._unnamed())
        amount = str(self.data.get("amount", ""))
        return self._receipt(ctx, record_id, amount, f"the payment was {amount}")

    def receipt_id(self, api: FacturaScriptsApi) -> str:
        """FacturaScripts' id of the receipt paid (``idrecibo``): the event's
        ``receipt_id``, else found by the receipt's number (`_find`)."""
        given = str(self.data.get("receipt_id") or "")
        return _find(api, str(self.data.get("invoice", "")), given, self.data.get("receipt"))

    def _receipt(self, ctx: Context, record_id: str, amount: str, paid: str) -> Plan:
        """Mark one receipt paid for `amount`, unless it is not as the customer paid it
        (`paid` says what they paid, for the reason)."""
        live = ctx.api.get(RECEIPTS, record_id)
        notes = live.get("observaciones") or ""
        if marker(self.reference) in str(notes) and live.get("pagado"):
            return Plan(RECEIPTS, record_id, landed=True)
        reason = self._mismatch(live, amount, paid)
        if reason:
            return Plan(RECEIPTS, record_id, skip=reason)
        currency = str(self.data["currency"])
        provider, txn = str(self.data.get("provider", "")), str(self.data.get("transaction", ""))
        note = ctx.notes.payment(self.ts, amount, currency, provider, txn, self.reference)
        fields = {
            "pagado": "1",
            "fechapago": self.ts.astimezone(ctx.notes.zone).strftime("%d-%m-%Y"),
            "codpago": ctx.payment_method,
            "observaciones": append(notes, note),
        }
        return Plan(RECEIPTS, record_id, fields, expect={"pagado": "1"})

    def _several(self, ctx: Context) -> Plan:
        """Every receipt of the set read back and planned before any is written."""
        try:
            shares = [ReceiptShare.from_dict(raw) for raw in self.data["receipts"]]
        except (ValueError, TypeError):
            return Plan(RECEIPTS, "", skip="its list of receipts is damaged: " + _BY_HAND)
        reason = self._unbalanced(shares)
        if reason:
            return Plan(RECEIPTS, "", skip=reason)
        invoice = str(self.data.get("invoice", ""))
        ids = [_find(ctx.api, invoice, s.receipt_id, s.receipt) for s in shares]
        missing = next((s.receipt for s, i in zip(shares, ids, strict=True) if not i), "")
        if missing or len(set(ids)) < len(ids):
            why = f"no receipt {missing} in FacturaScripts to mark paid" if missing else ""
            return Plan(RECEIPTS, ",".join(ids), skip=(why or "it names a receipt twice") + _NONE)
        steps: list[Plan] = []
        for share, record_id in zip(shares, ids, strict=True):
            step = self._receipt(ctx, record_id, share.amount, f"the customer paid {share.amount}")
            if step.skip:
                where = f"receipt {share.receipt} ({RECEIPTS}/{record_id}): {step.skip}"
                return Plan(RECEIPTS, ",".join(ids), skip=where + _held(shares, steps))
            steps.append(step)
        return Plan(RECEIPTS, ",".join(ids), parts=tuple(steps))

    def _unbalanced(self, shares: Sequence[ReceiptShare]) -> str:
        """Why the receipts' amounts do not make the payment's, to the cent, or ""."""
        total = cents(sum((Decimal(s.amount) for s in shares), Decimal(0)))
        amount, currency = cents(self.data.get("amount")), str(self.data.get("currency", ""))
        if total is not None and total == amount:
            return ""
        names = ", ".join(s.receipt for s in shares)
        return (
            f"its receipts {names} add up to {total} {currency}; the payment was "
            f"{self.data.get('amount')} {currency}: " + _BY_HAND
        )

    def _unnamed(self) -> str:
        if self.data.get("receipt"):
            return f"no receipt {self.data['receipt']} in FacturaScripts to mark paid"
        return (
            "the payment names no single receipt (it paid what the invoice owed in one go); "
            "mark its receipts paid in FacturaScripts"
        )

    def _mismatch(self, live: Mapping[str, Any], amount: str, paid: str) -> str:
        if live.get("pagado"):
            return "the receipt is already paid in FacturaScripts"
        invoice = str(self.data.get("invoice", ""))
        if str(live.get("codigofactura", "")) != invoice:
            return f"the receipt belongs to invoice {live.get('codigofactura')}, not {invoice}"
        currency = str(self.data.get("currency", ""))
        due, due_currency = cents(live.get("importe")), str(live.get("coddivisa", ""))
        value = cents(amount)
        if value is None or value != due or currency != due_currency:
            return f"the receipt is for {due} {due_currency}; {paid} {currency}"
        return ""


_BY_HAND = "mark them paid in FacturaScripts by hand"
_NONE = "; none of the payment's receipts was marked paid: " + _BY_HAND


def _held(shares: Sequence[ReceiptShare], steps: Sequence[Plan]) -> str:
    """What the reason adds when one receipt of the set cannot be written: none was
    (what staff must do), or which ones an interrupted push had written already."""
    landed = [s.receipt for s, step in zip(shares, steps, strict=False) if step.landed]
    if not landed:
        return _NONE
    return (
        f"; an interrupted push had marked {', '.join(landed)} paid already, the others "
        "not: check the payment and mark the rest by hand"
    )


def _find(api: FacturaScriptsApi, invoice: str, given: str, number: object) -> str:
    """`given` (the receipt's ``idrecibo`` as recorded), else — for an event recorded
    before portalgen carried it — the one receipt of the invoice whose ``numero`` ends
    its published number (``<invoice>-<numero>``, as the FacturaScripts reader names
    receipts); "" when there is not exactly one."""
    name = str(number or "")
    if given or not name.startswith(f"{invoice}-"):
        return given
    numero = name.removeprefix(f"{invoice}-")
    rows = api.find(RECEIPTS, codigofactura=invoice, numero=numero)
    return str(rows[0].get("idrecibo") or "") if len(rows) == 1 else ""
