"""Demo documents: quotes, orders, delivery notes, invoices and their receipts."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from portalgen.domain.model import Line, round_money
from portalgen.domain.totals import compute_totals

_PRODUCTS: list[tuple[str, str, tuple[int, int], int, set[str] | None]] = [
    ("Tornillo hexagonal M8 x 40 (caja 100 uds)", "caja", (6, 14), 21, None),
    ("Guantes de nitrilo talla L (caja 100 uds)", "caja", (5, 11), 21, None),
    ("Pintura plástica blanca 15 L", "ud", (35, 70), 21, {"industry", "retail"}),
    ("Taladro percutor 800 W", "ud", (60, 140), 21, {"industry", "retail"}),
    ("Cable eléctrico 2,5 mm² (rollo 100 m)", "rollo", (40, 85), 21, {"industry"}),
    ("Papel higiénico industrial (pack 18)", "pack", (12, 25), 21, None),
    ("Detergente multiusos 5 L", "garrafa", (7, 15), 21, None),
    ("Aceite de oliva virgen extra 5 L", "garrafa", (28, 45), 10, {"hospitality", "retail"}),
    ("Agua mineral 1,5 L (pack 6)", "pack", (2, 5), 10, {"hospitality", "retail"}),
    ("Café en grano 1 kg", "kg", (12, 22), 10, {"hospitality"}),
    ("Harina de trigo 25 kg", "saco", (14, 24), 4, {"retail", "hospitality"}),
    ("Pan de molde artesano", "ud", (2, 4), 4, {"retail"}),
    ("Libro: Manual de prevención de riesgos", "ud", (18, 32), 4, {"services", "retail"}),
    ("Servicio de mantenimiento preventivo mensual", "mes", (80, 250), 21, None),
    ("Transporte y entrega a domicilio", "servicio", (15, 60), 21, None),
    ("Hora de instalación técnica", "h", (30, 55), 21, {"industry", "hospitality"}),
]
_RENTAL = ("Alquiler mensual de espacio en almacén", "mes", (300, 900), 21)
_SURCHARGE = {21: Decimal("5.2"), 10: Decimal("1.4"), 4: Decimal("0.5")}


@dataclass
class Doc:
    kind: str
    customer: str
    issue: date
    lines: list[Line]
    extra: dict[str, Any] = field(default_factory=dict)
    number: str = ""
    links: dict[str, Doc] = field(default_factory=dict)


def _lines(rng: random.Random, person: dict[str, Any], count: int) -> list[Line]:
    catalog = [p for p in _PRODUCTS if p[4] is None or person["_sector"] in p[4]]
    retail = person["_sector"] == "retail"
    chosen = rng.sample(catalog, k=min(count, len(catalog)))
    lines = []
    for product in chosen:
        description, unit, (low, high), vat, _ = product
        price = Decimal(rng.randint(low * 100, high * 100)) / 100
        quantity = Decimal(rng.choice([1, 1, 2, 3, 4, 5, 6, 10, 12, 20, 25]))
        if unit in {"mes", "h", "servicio"}:
            quantity = Decimal(rng.choice([1, 1, 2, 3, 4]))
        discount = Decimal(rng.choice([0, 0, 0, 0, 5, 10]))
        lines.append(
            Line(
                description=description,
                quantity=quantity,
                unit_price=price,
                discount=discount,
                tax_rate=Decimal(vat),
                surcharge_rate=_SURCHARGE[vat] if retail else Decimal(0),
                unit=unit,
                reference=f"ART-{_PRODUCTS.index(product) + 1:03d}",
            )
        )
    return lines


def customer_documents(rng: random.Random, person: dict[str, Any], today: date) -> list[Doc]:
    """One customer's documents: quotes (some leading to orders), orders without a quote,
    monthly invoices, and now and then a credit note for returned goods."""
    docs = _quotes(rng, person, today)
    for _ in range(rng.randint(1, 2)):
        issue = _days_ago(rng, today, 0, 200)
        quote = Doc("quote", person["code"], issue, _lines(rng, person, rng.randint(1, 5)))
        docs.extend(_order_chain(rng, quote, today, standalone=True))
    docs.extend(_monthly_invoices(rng, person, today))
    invoices = [d for d in docs if d.kind == "invoice"]
    if invoices and rng.random() < 0.12:
        docs.append(_credit_note(rng, rng.choice(invoices), today))
    return docs


def _days_ago(rng: random.Random, today: date, lo: int, hi: int) -> date:
    return today - timedelta(days=rng.randint(lo, hi))


def _quotes(rng: random.Random, person: dict[str, Any], today: date) -> list[Doc]:
    docs: list[Doc] = []
    for n in range(rng.randint(3, 5)):
        issue = _days_ago(rng, today, 0, 40) if n == 0 else _days_ago(rng, today, 0, 300)
        lines = _lines(rng, person, rng.randint(1, 4))
        age = (today - issue).days
        roll = rng.random()
        if age < 25 and roll < 0.7:
            status, valid = "pending", issue + timedelta(days=30)
        elif roll < 0.15:
            status, valid = "pending", issue + timedelta(days=15)  # expired: the export lags
        elif roll < 0.3:
            status, valid = "expired", issue + timedelta(days=15)
        elif roll < 0.45:
            status, valid = "rejected", issue + timedelta(days=30)
        else:
            status, valid = "accepted", issue + timedelta(days=30)
        quote = Doc("quote", person["code"], issue, lines, {"status": status, "valid_until": valid})
        docs.append(quote)
        if status == "accepted":
            docs.extend(_order_chain(rng, quote, today))
    return docs


def _monthly_invoices(rng: random.Random, person: dict[str, Any], today: date) -> list[Doc]:
    invoices = []
    for months_ago in range(rng.randint(3, 6), 0, -1):
        issue = today - timedelta(days=30 * months_ago + rng.randint(0, 6))
        lines = _lines(rng, person, rng.randint(1, 3))
        if person["_rental"]:
            description, unit, (low, high), vat = _RENTAL
            lines.append(
                Line(
                    description=description,
                    quantity=Decimal(1),
                    unit=unit,
                    unit_price=Decimal(rng.randint(low, high)),
                    tax_rate=Decimal(vat),
                    withholding_rate=Decimal(19),
                )
            )
        invoices.append(Doc("invoice", person["code"], issue, lines, {}))
    return invoices


def _credit_note(rng: random.Random, target: Doc, today: date) -> Doc:
    """A corrective invoice giving back up to two units of the target's first line."""
    returned = target.lines[0]
    line = Line(
        description=f"Devolución: {returned.description}",
        quantity=-min(returned.quantity, Decimal(2)),
        unit_price=returned.unit_price,
        discount=returned.discount,
        tax_rate=returned.tax_rate,
        surcharge_rate=returned.surcharge_rate,
        unit=returned.unit,
    )
    issue = min(today, target.issue + timedelta(days=rng.randint(3, 20)))
    return Doc(
        "invoice", target.customer, issue, [line], {"credit": True}, links={"corrects": target}
    )


_IN_PROGRESS = ("received", "in_preparation", "shipped")


def _order_chain(
    rng: random.Random, quote: Doc, today: date, standalone: bool = False
) -> list[Doc]:
    issue = min(today, quote.issue + timedelta(days=rng.randint(1, 10)))
    age = (today - issue).days
    links = {} if standalone else {"quote": quote}
    if age < 3:
        status = "received"
    elif age < 8:
        status = rng.choice(["received", "in_preparation", "shipped"])
    else:
        status = rng.choices(["delivered", "cancelled", "shipped"], weights=[85, 8, 7])[0]
    extra: dict[str, Any] = {"status": status, "expected_delivery_date": issue + timedelta(days=7)}
    chain: list[Doc] = []
    order = Doc("order", quote.customer, issue, list(quote.lines), extra, links=links)
    chain.append(order)
    if status in ("shipped", "delivered"):
        days = rng.randint(1, 5)
        extra["shipped_date"] = min(today, issue + timedelta(days=days))
        if status == "shipped" and age >= 8:
            _late_shipment(extra, age, days, today)
        elif status == "delivered":
            delivered = min(today, extra["shipped_date"] + timedelta(days=rng.randint(1, 3)))
            extra["delivered_date"] = delivered
            note = Doc(
                "delivery_note",
                quote.customer,
                delivered,
                list(quote.lines),
                {"delivery_date": delivered},
                links={"order": order},
            )
            chain.append(note)
            invoice_date = min(today, delivered + timedelta(days=rng.randint(0, 10)))
            chain.append(
                Doc(
                    "invoice",
                    quote.customer,
                    invoice_date,
                    list(quote.lines),
                    {},
                    links={"order": order, "delivery_note": note},
                )
            )
    if extra["status"] in _IN_PROGRESS:  # still to come: expected after today
        extra["expected_delivery_date"] = max(issue + timedelta(days=7), today + timedelta(days=1))
    return chain


def _late_shipment(extra: dict[str, Any], age: int, days: int, today: date) -> None:
    """An order still "shipped" a week after it was placed: back-ordered and shipped in the
    last days if it is recent, otherwise arrived long ago (delivered two days after it was
    shipped). No random draw here, so every other document of the demo stays the same."""
    if age <= 45:
        extra["shipped_date"] = today - timedelta(days=days // 2)
    else:
        extra["status"] = "delivered"
        extra["delivered_date"] = min(today, extra["shipped_date"] + timedelta(days=2))


def receipts(rng: random.Random, invoice: Doc, today: date) -> list[dict[str, Any]]:
    totals = compute_totals(invoice.lines, "EUR")
    total = totals.total.amount
    if total <= 0:
        return []
    method = rng.choice(["transfer", "transfer", "direct_debit"])
    invoice.extra["payment_method"] = method
    if total > 300 and rng.random() < 0.4:
        first = round_money(total / 2)
        plan = [(30, first), (60, total - first)]
    else:
        plan = [(30, total)]
    invoice.extra["due_date"] = invoice.issue + timedelta(days=plan[0][0])
    invoice.extra["payment_terms"] = " + ".join(f"{days} días" for days, _ in plan)
    receipts = []
    late_payer = rng.random() < 0.18
    for days, amount in plan:
        due = invoice.issue + timedelta(days=days)
        paid = None
        if due <= today + timedelta(days=5) and not late_payer:
            candidate = due + timedelta(days=rng.randint(-10, 5))
            if candidate <= today:
                paid = max(invoice.issue, candidate)
        elif late_payer and due < today - timedelta(days=60) and rng.random() < 0.5:
            paid = due + timedelta(days=rng.randint(20, 50))
            paid = paid if paid <= today else None
        receipts.append(
            {
                "invoice": invoice.number,
                "customer": invoice.customer,
                "amount": f"{amount:.2f}",
                "due_date": due.isoformat(),
                "paid_date": paid.isoformat() if paid else "",
                "method": method,
            }
        )
    return receipts
