"""Realistic synthetic billing data: a Spanish wholesaler and its customers.

`generate_demo` writes a native CSV bundle (docs/export-format.md) that passes
`portalgen check`: valid NIF/CIF numbers, IVA at 21/10/4 %, recargo de equivalencia for
retailers, IRPF withheld on warehouse rentals, invoices paid / partly paid / unpaid /
overdue, quotes in every state, orders in every status, credit notes, shared files.
Everything follows from the seed and `today`: the same pair gives the same bytes.
Email addresses use the reserved ``.example`` domain, so a demo never mails anyone.
"""

from __future__ import annotations

import csv
import os
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from stdnum.es import cif

from portalgen.model import Line, round_money, slugify_number
from portalgen.tinypdf import tiny_pdf
from portalgen.totals import compute_totals

COMPANY_CIF = "B98765431"  # check digit valid; the company is fictitious
COMPANY_IBAN = "ES9121000418450200051332"
MAIL_DOMAIN = "suministros-levante.example"
QR_TEST_ENDPOINT = "https://prewww2.aeat.es/wlpl/TIKE-CONT/ValidarQR"

_SECTORS = [
    ("Ferretería", "retail"),
    ("Talleres", "industry"),
    ("Construcciones", "industry"),
    ("Reformas", "industry"),
    ("Bar Restaurante", "hospitality"),
    ("Hostal", "hospitality"),
    ("Clínica Dental", "services"),
    ("Panadería", "retail"),
    ("Transportes", "industry"),
    ("Gestoría", "services"),
    ("Bodegas", "industry"),
    ("Frutas", "retail"),
    ("Carpintería", "industry"),
    ("Electricidad", "industry"),
    ("Droguería", "retail"),
    ("Librería", "retail"),
    ("Academia", "services"),
    ("Cafetería", "hospitality"),
]
_NAMES = [
    "García",
    "Hermanos López",
    "Martínez",
    "del Norte",
    "Mediterráneo",
    "Castilla",
    "Sánchez e Hijos",
    "La Huerta",
    "Levante",
    "Pérez",
    "Costa Blanca",
    "Torres",
    "El Puerto",
    "Navarro",
    "San Juan",
    "Ruiz",
    "La Alameda",
    "Moreno",
    "Santa Ana",
    "Jiménez",
    "Ibérica",
    "Valle Verde",
    "Romero",
    "Las Dunas",
    "Gómez",
    "Ordóñez",
    "Ñandú",
    "Vidal",
]
_FORMS = ["S.L.", "S.L.", "S.L.", "S.A.", "S.L.U.", "S.Coop."]
_FIRST = [
    "María",
    "José",
    "Carmen",
    "Antonio",
    "Lucía",
    "Javier",
    "Pilar",
    "Manuel",
    "Elena",
    "Jordi",
]
_SURNAMES = ["Pérez", "Gómez", "Fernández", "Díaz", "Muñoz", "Álvarez", "Romero", "Alonso", "Vidal"]
_EN_NAMES = [
    "Coastal Lettings Ltd",
    "Brightwater Cafe",
    "Sunrise Language School",
    "Harbour View Apartments",
    "Green Valley Farm Shop",
    "Oakwood Dental Practice",
]
_CITIES = [
    ("Valencia", "46", "Valencia"),
    ("Alicante", "03", "Alicante"),
    ("Elche", "03", "Alicante"),
    ("Castellón de la Plana", "12", "Castellón"),
    ("Murcia", "30", "Murcia"),
    ("Madrid", "28", "Madrid"),
    ("Albacete", "02", "Albacete"),
    ("Gandía", "46", "Valencia"),
    ("Benidorm", "03", "Alicante"),
    ("Cartagena", "30", "Murcia"),
    ("Teruel", "44", "Teruel"),
]
_STREETS = [
    "Calle Mayor",
    "Avenida del Puerto",
    "Calle San Vicente",
    "Avenida de la Constitución",
    "Calle Colón",
    "Polígono Industrial El Oliveral, Calle",
    "Calle de la Paz",
    "Plaza de España",
]

# (description, unit, price range, IVA %, sectors or None for all)
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
_SHARED = [
    ("Contrato de suministro {year}.pdf", "Contrato de suministro"),
    ("Certificado de calidad ISO 9001.pdf", "Certificado de calidad ISO 9001"),
    ("Fichas técnicas/Ficha de seguridad detergente.pdf", "Ficha de datos de seguridad"),
    ("Tarifa de precios {year}.pdf", "Tarifa de precios"),
]


@dataclass
class _Doc:
    kind: str
    customer: str
    issue: date
    lines: list[Line]
    extra: dict[str, Any] = field(default_factory=dict)
    number: str = ""
    links: dict[str, _Doc] = field(default_factory=dict)


@dataclass(frozen=True)
class DemoSummary:
    customers: int
    documents: dict[str, int]
    path: Path


def generate_demo(
    out: Path,
    *,
    customers: int = 25,
    seed: int = 1,
    today: date | None = None,
    originals: bool = False,
) -> DemoSummary:
    """Write a demo bundle into `out` (created if needed). Existing data files are replaced."""
    today = today or date.today()
    rng = random.Random(seed)  # noqa: S311 - reproducible fake data, not security
    out.mkdir(parents=True, exist_ok=True)
    people = [_customer(rng, i) for i in range(1, customers + 1)]
    docs: list[_Doc] = []
    payments: list[dict[str, Any]] = []
    for person in people:
        docs.extend(_customer_documents(rng, person, today))
    _number(docs)
    for doc in docs:
        if doc.kind == "invoice":
            payments.extend(_receipts(rng, doc, today))
    for i, payment in enumerate(sorted(payments, key=lambda p: (p["due_date"], p["invoice"]))):
        payment["number"] = f"R{payment['due_date'][:4]}-{i + 1:06d}"
    _write_bundle(out, people, docs, payments)
    _write_shared(rng, out, people, today)
    if originals:
        _write_originals(out, docs)
    counts = {
        k: sum(1 for d in docs if d.kind == k)
        for k in ("quote", "order", "delivery_note", "invoice")
    }
    counts["payment"] = len(payments)
    return DemoSummary(len(people), counts, out)


def _customer(rng: random.Random, index: int) -> dict[str, Any]:
    kind = rng.random()
    city, prefix, province = rng.choice(_CITIES)
    sector_name, sector = rng.choice(_SECTORS)
    language = "es"
    if kind < 0.08:
        name = rng.choice(_EN_NAMES)
        language, sector = "en", rng.choice(["hospitality", "services", "retail"])
        tax_id = _cif(rng)
    elif kind < 0.25:
        name = f"{rng.choice(_FIRST)} {rng.choice(_SURNAMES)} {rng.choice(_SURNAMES)}"
        tax_id = _dni(rng)
        sector_name = name
    else:
        name = f"{sector_name} {rng.choice(_NAMES)} {rng.choice(_FORMS)}"
        tax_id = _cif(rng)
    domain = _mail_slug(name) + ".example"
    emails = ["administracion@" + domain]
    if rng.random() < 0.35:
        emails.append(rng.choice(["compras", "gerencia", "contabilidad"]) + "@" + domain)
    return {
        "code": f"C{index:05d}",
        "name": name,
        "trade_name": sector_name if kind >= 0.25 and rng.random() < 0.3 else "",
        "tax_id": tax_id,
        "emails": ";".join(emails),
        "language": language,
        "street": f"{rng.choice(_STREETS)} {rng.randint(1, 180)}",
        "postal_code": f"{prefix}{rng.randint(1, 999):03d}",
        "city": city,
        "province": province,
        "country": "ES",
        "phone": f"+34 9{rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(100, 999)}",
        "iban": "",
        "account_manager": f"comercial{rng.randint(1, 3)}@{MAIL_DOMAIN}"
        if rng.random() < 0.4
        else "",
        "notify": "false" if rng.random() < 0.04 else "true",
        "_sector": sector,
        "_rental": rng.random() < 0.08,
    }


def _cif(rng: random.Random) -> str:
    body = rng.choice("ABB") + f"{rng.randint(0, 9_999_999):07d}"
    return body + cif.calc_check_digits(body)[0]  # A and B companies take the digit


def _dni(rng: random.Random) -> str:
    number = rng.randint(1_000_000, 99_999_999)
    return f"{number:08d}" + "TRWAGMYFPDXBNJZSQVHLCKE"[number % 23]


def _mail_slug(name: str) -> str:
    table = str.maketrans("áéíóúñüÁÉÍÓÚÑÜ", "aeiounuAEIOUNU")
    words = [
        w
        for w in name.translate(table).lower().replace(".", "").split()
        if w not in {"sl", "sa", "slu", "scoop", "del", "de", "la", "e", "el", "las"}
    ]
    return "-".join("".join(ch for ch in w if ch.isalnum()) for w in words[:3])


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


def _customer_documents(rng: random.Random, person: dict[str, Any], today: date) -> list[_Doc]:
    code = person["code"]
    docs: list[_Doc] = []

    def when(lo: int, hi: int) -> date:
        return today - timedelta(days=rng.randint(lo, hi))

    for n in range(rng.randint(3, 5)):
        issue = when(0, 40) if n == 0 else when(0, 300)
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
        quote = _Doc("quote", code, issue, lines, {"status": status, "valid_until": valid})
        docs.append(quote)
        if status == "accepted":
            docs.extend(_order_chain(rng, quote, today))
    for _ in range(rng.randint(1, 2)):
        issue = when(0, 200)
        docs.extend(
            _order_chain(
                rng,
                _Doc("quote", code, issue, _lines(rng, person, rng.randint(1, 5))),
                today,
                standalone=True,
            )
        )
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
        docs.append(_Doc("invoice", code, issue, lines, {}))
    invoices = [d for d in docs if d.kind == "invoice"]
    if invoices and rng.random() < 0.12:
        target = rng.choice(invoices)
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
        docs.append(
            _Doc("invoice", code, issue, [line], {"credit": True}, links={"corrects": target})
        )
    return docs


def _order_chain(
    rng: random.Random, quote: _Doc, today: date, standalone: bool = False
) -> list[_Doc]:
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
    chain: list[_Doc] = []
    order = _Doc("order", quote.customer, issue, list(quote.lines), extra, links=links)
    chain.append(order)
    if status in ("shipped", "delivered"):
        shipped = min(today, issue + timedelta(days=rng.randint(1, 5)))
        extra["shipped_date"] = shipped
        if status == "delivered":
            delivered = min(today, shipped + timedelta(days=rng.randint(1, 3)))
            extra["delivered_date"] = delivered
            note = _Doc(
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
                _Doc(
                    "invoice",
                    quote.customer,
                    invoice_date,
                    list(quote.lines),
                    {},
                    links={"order": order, "delivery_note": note},
                )
            )
    return chain


_PREFIX = {"quote": "P", "order": "PED", "delivery_note": "ALB", "invoice": "F"}


def _number(docs: list[_Doc]) -> None:
    """Number each kind in date order, per year, like an invoicing program."""
    counters: dict[tuple[str, int, str], int] = {}
    for doc in sorted(docs, key=lambda d: (d.issue, d.kind, d.customer)):
        series = "R" if doc.extra.get("credit") else "A"
        key = (doc.kind, doc.issue.year, series)
        counters[key] = counters.get(key, 0) + 1
        doc.number = f"{_PREFIX[doc.kind]}{doc.issue.year}{series}-{counters[key]:05d}"
        doc.extra["series"] = series


def _receipts(rng: random.Random, invoice: _Doc, today: date) -> list[dict[str, Any]]:
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


_DOC_COLUMNS = [
    "number",
    "series",
    "customer",
    "issue_date",
    "currency",
    "reference",
    "notes",
    "base",
    "tax",
    "surcharge",
    "withholding",
    "total",
]
_KIND_COLUMNS = {
    "quote": ["status", "valid_until", "terms"],
    "order": ["status", "expected_delivery_date", "shipped_date", "delivered_date", "quote"],
    "delivery_note": ["delivery_date", "order"],
    "invoice": [
        "due_date",
        "corrects",
        "verifactu_qr_url",
        "payment_terms",
        "payment_method",
        "order",
        "delivery_notes",
    ],
}
_LINE_COLUMNS = [
    "document",
    "position",
    "reference",
    "description",
    "quantity",
    "unit",
    "unit_price",
    "discount",
    "tax_rate",
    "surcharge_rate",
    "withholding_rate",
]
_TABLES = {
    "quote": "quotes",
    "order": "orders",
    "delivery_note": "delivery_notes",
    "invoice": "invoices",
}


def _plain(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return (
            format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")
        )
    return "" if value is None else str(value)


def _write_bundle(
    out: Path, people: list[dict[str, Any]], docs: list[_Doc], payments: list[dict[str, Any]]
) -> None:
    customer_columns = [
        "code",
        "name",
        "trade_name",
        "tax_id",
        "emails",
        "language",
        "street",
        "postal_code",
        "city",
        "province",
        "country",
        "phone",
        "iban",
        "account_manager",
        "notify",
    ]
    _write_csv(out / "customers.csv", customer_columns, people)
    for kind, table in _TABLES.items():
        rows, line_rows = [], []
        for doc in sorted((d for d in docs if d.kind == kind), key=lambda d: d.number):
            totals = compute_totals(doc.lines, "EUR")
            row = {
                "number": doc.number,
                "series": doc.extra.get("series", ""),
                "customer": doc.customer,
                "issue_date": doc.issue,
                "currency": "EUR",
                "base": f"{totals.base.amount:.2f}",
                "tax": f"{totals.tax.amount:.2f}",
                "surcharge": f"{totals.surcharge.amount:.2f}",
                "withholding": f"{totals.withholding.amount:.2f}",
                "total": f"{totals.total.amount:.2f}",
                **{k: v for k, v in doc.extra.items() if k in _KIND_COLUMNS[kind]},
            }
            for name, target in doc.links.items():
                column = {"delivery_note": "delivery_notes"}.get(name, name)
                row[column] = target.number
            if kind == "invoice":
                row["verifactu_qr_url"] = _qr_url(doc.number, doc.issue, totals.total.amount)
                if "corrects" in doc.links:
                    row["notes"] = "Factura rectificativa por devolución de mercancía."
            rows.append({k: _plain(v) for k, v in row.items()})
            for position, line in enumerate(doc.lines, start=1):
                line_rows.append(
                    {
                        "document": doc.number,
                        "position": position,
                        "reference": line.reference,
                        "description": line.description,
                        "quantity": _plain(line.quantity),
                        "unit": line.unit,
                        "unit_price": f"{line.unit_price:.2f}",
                        "discount": _plain(line.discount),
                        "tax_rate": _plain(line.tax_rate),
                        "surcharge_rate": _plain(line.surcharge_rate),
                        "withholding_rate": _plain(line.withholding_rate),
                    }
                )
        _write_csv(out / f"{table}.csv", _DOC_COLUMNS + _KIND_COLUMNS[kind], rows)
        _write_csv(out / f"{kind}_lines.csv", _LINE_COLUMNS, line_rows)
    _write_csv(
        out / "payments.csv",
        ["number", "invoice", "customer", "amount", "due_date", "paid_date", "method"],
        payments,
    )


def _qr_url(number: str, issued: date, total: Decimal) -> str:
    query = urlencode(
        {
            "nif": COMPANY_CIF,
            "numserie": number,
            "fecha": f"{issued:%d-%m-%Y}",
            "importe": f"{total:.2f}",
        }
    )
    return f"{QR_TEST_ENDPOINT}?{query}"


def _write_csv(path: Path, columns: list[str], rows: list[dict[str, Any]]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)


def _write_shared(rng: random.Random, out: Path, people: list[dict[str, Any]], today: date) -> None:
    for person in people:
        if rng.random() >= 0.2:
            continue
        for template, title in rng.sample(_SHARED, k=rng.randint(1, 3)):
            name = template.format(year=today.year)
            path = out / "documents" / person["code"] / name
            path.parent.mkdir(parents=True, exist_ok=True)
            modified = today - timedelta(days=rng.randint(1, 200))
            path.write_bytes(
                tiny_pdf(
                    title,
                    [
                        person["name"],
                        f"{modified:%d/%m/%Y}",
                        "Suministros y Servicios Levante, S.L.",
                    ],
                )
            )
            stamp = datetime.combine(modified, time(12)).timestamp()
            os.utime(path, (stamp, stamp))


def _write_originals(out: Path, docs: list[_Doc]) -> None:
    """Stand-ins for the invoicing program's own PDFs (`portalgen demo --originals`)."""
    for doc in docs:
        folder = out / "pdf" / _TABLES[doc.kind]
        folder.mkdir(parents=True, exist_ok=True)
        totals = compute_totals(doc.lines, "EUR")
        body = [
            f"Cliente {doc.customer}",
            f"Fecha {doc.issue:%d/%m/%Y}",
            *(f"{line.quantity} x {line.description}" for line in doc.lines),
            f"Total {totals.total.amount:.2f} EUR",
        ]
        (folder / f"{slugify_number(doc.number)}.pdf").write_bytes(tiny_pdf(doc.number, body))


DEMO_CONFIG = """\
# portalgen configuration for the demo data (see config.example.yaml for every key).
company:
  name: Suministros Levante
  legal_name: "Suministros y Servicios Levante, S.L."
  tax_id: {cif}
  address: |
    Polígono Industrial Fuente del Jarro, Calle Ciudad de Sevilla 14
    46988 Paterna (Valencia)
  email: administracion@{domain}
  phone: "+34 961 000 000"
  website: https://www.{domain}
  legal_footer: "Inscrita en el Registro Mercantil de Valencia, Tomo 1234, Folio 56, Hoja V-78901."
locale: es_ES
currency: EUR
timezone: Europe/Madrid
payments:
  iban: {iban}
  bic: CAIXESBBXXX
  terms: "Transferencia bancaria indicando el número de factura."
verifactu:
  # The demo's QR codes point at the AEAT test environment: they are not real registrations.
  allow_test_endpoint: true
storage:
  url: site
gate:
  base_url: http://127.0.0.1:8000
"""


def demo_config_text() -> str:
    return DEMO_CONFIG.format(cif=COMPANY_CIF, iban=COMPANY_IBAN, domain=MAIL_DOMAIN)
