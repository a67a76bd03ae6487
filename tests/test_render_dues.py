"""Instalments, overdue amounts and the scan-to-pay code, as every page and PDF shows them.

With receipts, each receipt is the unit: the overdue amount is the sum of the unpaid
receipts past their own due date. A direct debit is never overdue before its charge
date. The EPC code asks for what is still owed, the same in the PDF and on the page.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

from lxml import html as lxml_html

from portalgen.domain.model import CustomerData, Money, Payment, PaymentMethod, Totals
from portalgen.plan import PlannedFile
from portalgen.render import build_context, plan_portal
from tests.conftest import TODAY
from tests.render_fixtures import render_settings, small_customer, t0001_receipt, text_of
from tests.test_render_pdf import decode_qr_codes, pdf_text

INVOICE = "invoices/F2026-007"


def in_dollars(totals: Totals) -> Totals:
    """The same figures in US dollars."""
    amounts = {
        name: Money(getattr(totals, name).amount, "USD")
        for name in ("base", "tax", "surcharge", "withholding", "total")
    }
    return replace(totals, **amounts)  # type: ignore[arg-type]  # mypy reads ** as positional


def customer(method: PaymentMethod, *receipts: Payment) -> CustomerData:
    """The small customer's invoice (1.493,82 €), whose own due date has passed."""
    data = small_customer()
    invoice = replace(data.invoices[0], due_date=date(2026, 6, 5), payment_method=method)
    return replace(data, invoices=(invoice,), payments=receipts)


def plan(demo_dir: Path, data: CustomerData, today: date = TODAY) -> dict[str, PlannedFile]:
    context = build_context(render_settings(demo_dir), today=today)
    return {f.path: f for f in plan_portal(data, context)}


def page(files: dict[str, PlannedFile], path: str) -> lxml_html.HtmlElement:
    return lxml_html.fromstring(files[path].render())


def figures(files: dict[str, PlannedFile], path: str) -> dict[str, str]:
    root = page(files, path)
    return {
        text_of(f.xpath(".//*[@class='figure-label']")[0]): text_of(
            f.xpath(".//*[@class='figure-value']")[0]
        )
        for f in root.xpath("//div[contains(concat(' ', @class, ' '), ' figure ')]")
    }


def facts(root: lxml_html.HtmlElement) -> dict[str, str]:
    return {text_of(d.xpath("dt")[0]): text_of(d.xpath("dd")[0]) for d in root.xpath("//dl/div")}


INSTALMENTS = (
    t0001_receipt("R-1", "500.00", date(2026, 5, 20), paid=date(2026, 5, 20)),
    t0001_receipt("R-2", "500.00", date(2026, 6, 10)),  # five days late on TODAY (15 June)
    t0001_receipt("R-3", "493.82", date(2026, 7, 10)),  # not due yet
)


def test_only_the_late_receipt_is_overdue_everywhere(demo_dir: Path) -> None:
    files = plan(demo_dir, customer("transfer", *INSTALMENTS))
    assert figures(files, "index.html") == {"Pendiente": "993,82 €", "Vencido": "500,00 €"}
    assert figures(files, "payments/index.html") == {"Pendiente": "993,82 €", "Vencido": "500,00 €"}

    invoice = page(files, f"{INVOICE}.html")
    shown = facts(invoice)
    assert shown["Estado"] == "Vencido"
    assert shown["Pendiente"] == "993,82 €"
    assert shown["Vencido"] == "500,00 €, con vencimiento el 10 jun 2026"
    assert shown["Próximo pago"] == "493,82 €, con vencimiento el 10 jul 2026"
    rows = {
        text_of(r.xpath("th")[0]): text_of(r.xpath("td")[-1])
        for r in invoice.xpath("//section[@aria-labelledby='receipts-title']//tbody/tr")
    }
    assert rows == {"R-1": "20 may 2026", "R-2": "Vencido", "R-3": "Pendiente de pago"}

    (row,) = page(files, "invoices/index.html").xpath("//tbody/tr")
    assert row.get("data-status") == "overdue"
    cells = {c.get("data-label"): text_of(c) for c in row.xpath("td")}
    assert (cells["Vencimiento"], cells["Pendiente"]) == ("10 jun 2026", "993,82 €")

    receipts = {
        text_of(r.xpath("th")[0]): text_of(r.xpath("td")[-1])
        for r in page(files, "payments/index.html").xpath(
            "//section[@aria-labelledby='receipts-title']//tbody/tr"
        )
    }
    assert receipts == {"R-1": "Pagado el 20 may 2026", "R-2": "Vencido", "R-3": "Pendiente"}

    csv_rows = files["payments/statement.csv"].render().decode("utf-8-sig").splitlines()
    assert csv_rows[1] == (
        "2026-05-20;Factura;F2026/007;F2026/007;1493,82;0,00;1493,82;EUR;2026-06-10;500,00"
    )
    statement = " ".join(pdf_text(files["payments/statement.pdf"].render()).split())
    assert "Saldo pendiente 993,82 € Vencido 500,00 €" in statement
    assert "Factura F2026/007 · vencido: 500,00 €" in statement


def test_a_direct_debit_says_what_will_be_charged_and_when(demo_dir: Path, tmp_path: Path) -> None:
    """The invoice's own due date has passed, but its unpaid receipt is charged next week:
    nothing is overdue, and the page says what will be charged and when."""
    data = customer(
        "direct_debit",
        t0001_receipt("R-1", "500.00", date(2026, 5, 20), paid=date(2026, 5, 20)),
        t0001_receipt("R-2", "993.82", date(2026, 6, 22)),
    )
    files = plan(demo_dir, data)
    assert figures(files, "index.html") == {"Pendiente": "993,82 €", "Vencido": "0,00 €"}
    invoice = page(files, f"{INVOICE}.html")
    assert not invoice.xpath("//*[contains(@class,'badge-overdue')]")
    assert facts(invoice)["Estado"] == "Pagada en parte"
    (pay,) = invoice.xpath("//section[contains(@class,'pay')]")
    assert text_of(pay).startswith(
        "Cómo pagar Cargaremos 993,82 € en su cuenta bancaria por domiciliación el 22 jun 2026;"
        " no tiene que hacer nada."
    )
    assert not invoice.xpath("//figure[contains(@class,'epc')]")  # no transfer: paid twice
    assert not [
        c
        for c in decode_qr_codes(files[f"{INVOICE}.pdf"].render(), tmp_path)
        if c.startswith("BCD")
    ]

    # The day after the charge date, still unpaid (the bank returned it): now it is late.
    files = plan(demo_dir, data, today=date(2026, 6, 23))
    assert figures(files, "index.html") == {"Pendiente": "993,82 €", "Vencido": "993,82 €"}
    invoice = page(files, f"{INVOICE}.html")
    assert invoice.xpath("//dd/*[contains(@class,'badge-overdue')]")
    assert (
        "El recibo domiciliado de 993,82 € con vencimiento el 22 jun 2026 no se ha pagado."
        in text_of(invoice)
    )


def epc_amounts(files: dict[str, PlannedFile], tmp_path: Path) -> tuple[list[str], list[str]]:
    """The EPC payloads' amount lines in the invoice's PDF and on its page (printed)."""
    from weasyprint import HTML

    in_pdf = decode_qr_codes(files[f"{INVOICE}.pdf"].render(), tmp_path)
    svg = page(files, f"{INVOICE}.html").xpath(
        "//figure[contains(@class,'epc')]//*[local-name()='svg']"
    )
    on_page = []
    if svg:
        printed = HTML(string=f"<html><body>{lxml_html.tostring(svg[0]).decode()}</body></html>")
        on_page = decode_qr_codes(printed.write_pdf(), tmp_path)
    amount = 7  # the EPC payload's line with the currency and amount
    return (
        [c.split("\n")[amount] for c in in_pdf if c.startswith("BCD")],
        [c.split("\n")[amount] for c in on_page if c.startswith("BCD")],
    )


def test_the_pdf_and_the_page_ask_for_what_is_still_owed(demo_dir: Path, tmp_path: Path) -> None:
    paid_part = t0001_receipt("R-1", "1000.00", date(2026, 6, 1), paid=date(2026, 6, 1))
    before = plan(demo_dir, customer("transfer"))
    assert epc_amounts(before, tmp_path) == (["EUR1493.82"], ["EUR1493.82"])
    after = plan(demo_dir, customer("transfer", paid_part))
    assert epc_amounts(after, tmp_path) == (["EUR493.82"], ["EUR493.82"])
    # The payment changed what the PDF's code asks for: the PDF is rendered anew.
    assert before[f"{INVOICE}.pdf"].key != after[f"{INVOICE}.pdf"].key


def test_a_paid_invoice_carries_no_scan_to_pay_code(demo_dir: Path, tmp_path: Path) -> None:
    paid = customer(
        "transfer",
        t0001_receipt("R-1", "1000.00", date(2026, 6, 1), paid=date(2026, 6, 1)),
        t0001_receipt("R-2", "493.82", date(2026, 6, 19), paid=date(2026, 6, 14)),
    )
    files = plan(demo_dir, paid)
    assert epc_amounts(files, tmp_path) == ([], [])
    assert "Escanee" not in pdf_text(files[f"{INVOICE}.pdf"].render())


def test_every_currency_has_its_own_balance_and_statement(demo_dir: Path) -> None:
    """An invoice in US dollars is neither dropped nor added to euros: the home page, the
    payments page and the statement give each currency its own figures."""
    data = small_customer()
    dollars = replace(
        data.invoices[0],
        number="F2026/008",
        currency="USD",
        due_date=date(2026, 6, 1),
        lines=tuple(replace(line) for line in data.invoices[0].lines),
        totals=in_dollars(data.invoices[0].totals),
        verifactu_qr_url="",
    )
    files = plan(demo_dir, replace(data, invoices=(*data.invoices, dollars)))
    for path in ("index.html", "payments/index.html"):
        root = page(files, path)
        shown = [
            (
                text_of(f.xpath(".//*[@class='figure-label']")[0]),
                text_of(f.xpath(".//*[@class='figure-value']")[0]),
            )
            for f in root.xpath("//div[contains(concat(' ', @class, ' '), ' figure ')]")
        ]
        assert shown == [
            ("Pendiente", "493,82 €"),
            ("Vencido", "0,00 €"),
            ("Pendiente", "1.493,82 US$"),
            ("Vencido", "1.493,82 US$"),
        ], path
    csv_rows = files["payments/statement.csv"].render().decode("utf-8-sig").splitlines()
    assert csv_rows[-1] == (
        "2026-05-20;Factura;F2026/008;F2026/008;1493,82;0,00;1493,82;USD;2026-06-01;1493,82"
    )
    statement = " ".join(pdf_text(files["payments/statement.pdf"].render()).split())
    assert "Extracto de cuenta (EUR)" in statement and "Extracto de cuenta (USD)" in statement
    assert "Saldo pendiente 1.493,82 US$ Vencido 1.493,82 US$" in statement
