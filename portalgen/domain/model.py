"""The billing model: plain frozen dataclasses, Decimal money, no I/O.

Every reader (native bundle, FacturaScripts, UBL, Facturae) produces these and nothing
else; every later stage (validation, rendering, publishing, the gate) consumes them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar

from portalgen.domain.money import CENT as CENT
from portalgen.domain.money import Money as Money
from portalgen.domain.money import round_money as round_money
from portalgen.domain.money import sum_money as sum_money

DocumentKind = Literal["quote", "order", "delivery_note", "invoice"]
DOCUMENT_KINDS: tuple[DocumentKind, ...] = ("quote", "order", "delivery_note", "invoice")

QuoteStatus = Literal["pending", "accepted", "rejected", "expired"]
QUOTE_STATUSES: tuple[QuoteStatus, ...] = ("pending", "accepted", "rejected", "expired")

OrderStatus = Literal["received", "in_preparation", "shipped", "delivered", "cancelled"]
ORDER_STATUSES: tuple[OrderStatus, ...] = (
    "received",
    "in_preparation",
    "shipped",
    "delivered",
    "cancelled",
)

# Invoice statuses are never read from an export: they follow from payments and dates
# (see portalgen.domain.ledger.invoice_status).
InvoiceStatus = Literal["unpaid", "partially_paid", "paid", "overdue"]

# What an invoice is called on its page, in lists, PDFs and emails:
# - "invoice": an invoice (es "Factura");
# - "corrective_invoice": a corrective invoice that adds to what is owed (es "Factura
#   rectificativa", en "Corrective invoice");
# - "corrective_credit": a credit that corrects a named invoice (es "Factura
#   rectificativa", the legal name of RD 1619/2012 art. 15; en "Credit note");
# - "credit_note": a credit that names no invoice, e.g. a rebate (es "Abono", en "Credit
#   note").
InvoiceTitle = Literal["invoice", "corrective_invoice", "corrective_credit", "credit_note"]
# Appended to a credit note's number in Invoice.key and to its slug (see Invoice.credit_note).
CREDIT_NOTE_KEY = " (credit note)"
CREDIT_NOTE_SLUG = ".credit-note"

PaymentMethod = Literal["", "transfer", "direct_debit", "card", "cash", "cheque", "other"]
PAYMENT_METHODS: tuple[PaymentMethod, ...] = (
    "",
    "transfer",
    "direct_debit",
    "card",
    "cash",
    "cheque",
    "other",
)


_SLUG_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def slugify_number(number: str) -> str:
    """The file-name and URL form of a document number: ``F 2024/001`` → ``F-2024-001``.

    Used for portal paths and for finding original PDFs (``pdf/invoice/F-2024-001.pdf``).
    Two numbers of one kind with the same slug are reported as duplicates.
    """
    slug = _SLUG_UNSAFE.sub("-", number.strip()).strip("-.")
    return slug or "-"


_NO_FIELDS: Mapping[str, str] = {}


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a record came from, for error messages: ``invoices.csv``, ``row 12``.

    `fields` maps model field names to the names the source uses (a CSV column, an XML
    path) when they differ, so validation can name the field the user will recognise.
    """

    file: str
    location: str = ""
    # Not a new dict per record (an export has hundreds of thousands): one empty mapping,
    # never changed (a plain dict, so the export still pickles for the load cache).
    fields: Mapping[str, str] = field(default_factory=lambda: _NO_FIELDS, compare=False, hash=False)

    def field_name(self, name: str) -> str:
        return self.fields.get(name, name)


NO_ORIGIN = Origin("")


@dataclass(frozen=True, slots=True)
class Address:
    street: str = ""
    postal_code: str = ""
    city: str = ""
    province: str = ""
    country: str = "ES"  # ISO 3166-1 alpha-2

    def lines(self) -> tuple[str, ...]:
        place = " ".join(p for p in (self.postal_code, self.city) if p)
        if self.province and self.province != self.city:
            place = f"{place} ({self.province})" if place else self.province
        return tuple(p for p in (self.street, place) if p)


@dataclass(frozen=True, kw_only=True, slots=True)
class Customer:
    code: str
    name: str  # legal name
    tax_id: str
    emails: tuple[str, ...]
    language: str = ""  # "es", "ca", "en"... (presentation/languages.py); "": the configured one
    address: Address = Address()
    trade_name: str = ""
    phone: str = ""
    iban: str = ""  # the customer's account, for direct debits (shown masked)
    account_manager: str = ""  # staff email that hears about this customer's decisions
    notify: bool = True  # False opts the customer out of notification emails
    origin: Origin = field(default=NO_ORIGIN, compare=False)

    @property
    def display_name(self) -> str:
        return self.trade_name or self.name


@dataclass(frozen=True, kw_only=True, slots=True)
class Line:
    description: str
    quantity: Decimal
    unit_price: Decimal  # net of tax, in the document's currency
    discount: Decimal = Decimal(0)  # percent
    tax_rate: Decimal = Decimal(0)  # IVA (or IGIC...) percent
    surcharge_rate: Decimal = Decimal(0)  # recargo de equivalencia percent
    withholding_rate: Decimal = Decimal(0)  # IRPF percent, subtracted from the total
    unit: str = ""  # a UN/ECE Rec. 20/21 code (C62, HUR...) or the program's own word
    reference: str = ""  # the seller's article code
    # A disbursement (suplido): paid in the customer's name, outside VAT and withholding.
    disbursement: bool = False
    show_quantity: bool = True  # False: the invoice does not print the quantity
    show_price: bool = True  # False: nor the price, discount, taxes and amount
    # The VAT category (UNCL 5305: S standard, Z zero, E exempt, AE reverse charge, K
    # intra-community, G export, O not subject, L IGIC, M IPSI; "" when the source has
    # none) and why the line bears no VAT, as the invoice states it (a text, or a
    # VATEX code such as VATEX-EU-IC). The tax breakdown shows both per row.
    tax_category: str = ""
    tax_exemption: str = ""
    origin: Origin = field(default=NO_ORIGIN, compare=False)

    @property
    def gross(self) -> Decimal:
        return round_money(self.quantity * self.unit_price)

    @property
    def net(self) -> Decimal:
        """The taxable amount of the line, after its discount, rounded to cents."""
        return round_money(self.quantity * self.unit_price * (100 - self.discount) / 100)


TaxKind = Literal["vat", "surcharge", "withholding"]


@dataclass(frozen=True, slots=True)
class TaxGroup:
    """One row of the tax breakdown: e.g. IVA 21 % on a base of 1.000,00 € is 210,00 €.

    `exemptions` say why a group is not taxed (an exempt operation, a reverse charge):
    FacturaScripts' codes such as ``ES_21`` (shown in legal wording), an e-invoice's
    VATEX code (``VATEX-EU-IC``) or a reason's text. `category` is the VAT category of
    its lines (see Line.tax_category), named in the row.
    """

    kind: TaxKind
    rate: Decimal
    base: Money
    amount: Money
    exemptions: tuple[str, ...] = ()
    category: str = ""


@dataclass(frozen=True, slots=True)
class Totals:
    """A document's totals.

    ``total = base + tax + surcharge - withholding + disbursements + rounding``. `subtotal`
    and `discounts` are there when the document's own discounts (percent, applied in turn)
    turn the sum of its lines (`subtotal`) into the taxable `base`. `rounding` is what the
    invoice adds to round its total (UBL's PayableRoundingAmount, e.g. to 5 cents for
    cash); it is shown as a row of its own so the rows add up.
    """

    base: Money
    tax: Money
    surcharge: Money
    withholding: Money
    total: Money
    disbursements: Money | None = None  # suplidos, outside VAT
    subtotal: Money | None = None
    discounts: tuple[Decimal, ...] = ()
    rounding: Money | None = None

    @classmethod
    def zero(cls, currency: str) -> Totals:
        z = Money.zero(currency)
        return cls(z, z, z, z, z)


@dataclass(frozen=True, kw_only=True, slots=True)
class Document:
    """What every quote, order, delivery note and invoice has."""

    kind: ClassVar[DocumentKind]

    number: str  # the full human-visible identifier, unique per kind
    customer_code: str
    issue_date: date
    currency: str
    lines: tuple[Line, ...]
    totals: Totals
    series: str = ""
    reference: str = ""  # the customer's own reference (purchase order...)
    notes: str = ""
    original_pdf: Path | None = None  # the invoicing program's own PDF, if exported
    # The invoicing program's own id of the record (FacturaScripts: idpresupuesto,
    # idfactura...), so `portalgen push` can write back to it; "" when the export has none.
    source_id: str = ""
    # The tax breakdown as the invoicing program computed it; empty: computed from the
    # lines (portalgen.domain.totals.document_taxes).
    taxes: tuple[TaxGroup, ...] = ()
    origin: Origin = field(default=NO_ORIGIN, compare=False)

    @property
    def slug(self) -> str:
        return slugify_number(self.number)

    @property
    def key(self) -> str:
        """What identifies the document among those of its kind (Invoice: see there)."""
        return self.number


@dataclass(frozen=True, kw_only=True, slots=True)
class Quote(Document):
    kind: ClassVar[DocumentKind] = "quote"
    status: QuoteStatus = "pending"
    valid_until: date | None = None
    terms: str = ""
    source_state: str = ""  # the program's own state id (FacturaScripts: idestado), if any


@dataclass(frozen=True, kw_only=True, slots=True)
class Order(Document):
    kind: ClassVar[DocumentKind] = "order"
    status: OrderStatus = "received"
    expected_delivery_date: date | None = None
    shipped_date: date | None = None
    delivered_date: date | None = None
    quote: str = ""  # number of the quote it came from


@dataclass(frozen=True, kw_only=True, slots=True)
class DeliveryNote(Document):
    kind: ClassVar[DocumentKind] = "delivery_note"
    delivery_date: date | None = None
    order: str = ""  # number of the order it delivers


@dataclass(frozen=True, kw_only=True, slots=True)
class Invoice(Document):
    kind: ClassVar[DocumentKind] = "invoice"
    due_date: date | None = None
    corrects: str = ""  # number of the invoice this corrective invoice / credit note amends
    # The source says this is a corrective invoice (Facturae class OR/OC/CR/CC, UBL 384),
    # even when it names no invoice it corrects.
    corrective: bool = False
    # A credit note as a document type of its own (UBL CreditNote, or type 381/396/532):
    # numbered apart from invoices, so "CN-7" and the invoice "CN-7" are two documents.
    credit_note: bool = False
    verifactu_qr_url: str = ""  # the QR URL the invoicing program registered with the AEAT
    payment_terms: str = ""
    payment_method: PaymentMethod = ""
    order: str = ""
    delivery_notes: tuple[str, ...] = ()

    @property
    def is_corrective(self) -> bool:
        return (
            self.corrective
            or self.credit_note
            or bool(self.corrects)
            or self.totals.total.amount < 0
        )

    @property
    def title(self) -> InvoiceTitle:
        """What the document is called (see InvoiceTitle)."""
        if not self.is_corrective:
            return "invoice"
        if self.totals.total.amount >= 0 and not self.credit_note:
            return "corrective_invoice"
        return "corrective_credit" if self.corrects else "credit_note"

    @property
    def key(self) -> str:
        """What identifies the invoice among invoices: its number; a credit note's number
        is kept apart (receipts and links name this key)."""
        return f"{self.number}{CREDIT_NOTE_KEY}" if self.credit_note else self.number

    @property
    def slug(self) -> str:
        """A credit note's pages get their own name: an invoice may carry the same number."""
        base = slugify_number(self.number)
        return f"{base}{CREDIT_NOTE_SLUG}" if self.credit_note else base


@dataclass(frozen=True, kw_only=True, slots=True)
class Payment:
    """A receipt (recibo): an amount due on a date for an invoice, paid or not yet."""

    number: str
    invoice: str
    customer_code: str
    amount: Money
    due_date: date
    paid_date: date | None = None
    method: PaymentMethod = ""
    origin: Origin = field(default=NO_ORIGIN, compare=False)
    # The invoicing program's own id of the receipt (FacturaScripts' idrecibo), to find it
    # there again (`portalgen push`); never shown. "" when the export has none.
    source_id: str = ""

    @property
    def is_paid(self) -> bool:
        return self.paid_date is not None


@dataclass(frozen=True, kw_only=True, slots=True)
class SharedDocument:
    """A file shared with one customer: a contract, a report, a certificate."""

    customer_code: str
    name: str  # path relative to the customer's folder, with forward slashes
    path: Path  # where the bytes are
    size: int
    modified: date
    content_type: str = "application/octet-stream"
    origin: Origin = field(default=NO_ORIGIN, compare=False)


AnyDocument = Quote | Order | DeliveryNote | Invoice


@dataclass(frozen=True, slots=True)
class Documents:
    """Documents sorted into their four kinds, in the order they came: how readers hand
    what they read to `Export` without a str-keyed dict."""

    quotes: tuple[Quote, ...] = ()
    orders: tuple[Order, ...] = ()
    delivery_notes: tuple[DeliveryNote, ...] = ()
    invoices: tuple[Invoice, ...] = ()

    @classmethod
    def of(cls, documents: Iterable[Document]) -> Documents:
        docs = list(documents)
        return cls(
            quotes=tuple(d for d in docs if isinstance(d, Quote)),
            orders=tuple(d for d in docs if isinstance(d, Order)),
            delivery_notes=tuple(d for d in docs if isinstance(d, DeliveryNote)),
            invoices=tuple(d for d in docs if isinstance(d, Invoice)),
        )


@dataclass(frozen=True, slots=True)
class CustomerData:
    """Everything one customer's portal shows: the unit rendering and publishing work on."""

    customer: Customer
    quotes: tuple[Quote, ...] = ()
    orders: tuple[Order, ...] = ()
    delivery_notes: tuple[DeliveryNote, ...] = ()
    invoices: tuple[Invoice, ...] = ()
    payments: tuple[Payment, ...] = ()
    documents: tuple[SharedDocument, ...] = ()

    def all_documents(self) -> Iterator[AnyDocument]:
        yield from self.quotes
        yield from self.orders
        yield from self.delivery_notes
        yield from self.invoices


@dataclass(frozen=True, slots=True)
class Export:
    """A whole export: every customer and document, as read from one or more sources."""

    customers: tuple[Customer, ...] = ()
    quotes: tuple[Quote, ...] = ()
    orders: tuple[Order, ...] = ()
    delivery_notes: tuple[DeliveryNote, ...] = ()
    invoices: tuple[Invoice, ...] = ()
    payments: tuple[Payment, ...] = ()
    documents: tuple[SharedDocument, ...] = ()
    source: str = ""  # a human description: "CSV bundle in /data/export"

    @classmethod
    def assemble(
        cls,
        customers: Iterable[Customer],
        documents: Iterable[Document],
        payments: Iterable[Payment],
        shared: Iterable[SharedDocument] = (),
        source: str = "",
    ) -> Export:
        """An export from what a reader read, its documents sorted into their kinds."""
        docs = Documents.of(documents)
        return cls(
            tuple(customers),
            docs.quotes,
            docs.orders,
            docs.delivery_notes,
            docs.invoices,
            tuple(payments),
            tuple(shared),
            source,
        )

    def documents_of_kind(self, kind: DocumentKind) -> tuple[AnyDocument, ...]:
        docs: dict[DocumentKind, tuple[AnyDocument, ...]] = {
            "quote": self.quotes,
            "order": self.orders,
            "delivery_note": self.delivery_notes,
            "invoice": self.invoices,
        }
        return docs[kind]

    def customer_codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.customers)

    def by_customer(self) -> dict[str, CustomerData]:
        """Split the export into one CustomerData per customer, in customer order."""
        quotes, orders = _by_customer(self.quotes), _by_customer(self.orders)
        notes, invoices = _by_customer(self.delivery_notes), _by_customer(self.invoices)
        payments, shared = _by_customer(self.payments), _by_customer(self.documents)
        return {
            c.code: CustomerData(
                c,
                quotes=quotes.get(c.code, ()),
                orders=orders.get(c.code, ()),
                delivery_notes=notes.get(c.code, ()),
                invoices=invoices.get(c.code, ()),
                payments=payments.get(c.code, ()),
                documents=shared.get(c.code, ()),
            )
            for c in self.customers
        }

    def customer_data(self, code: str) -> CustomerData:
        """One customer's part of the export (KeyError if `code` is not one of its customers)."""
        return self.by_customer()[code]


_field_names: dict[type, tuple[str, ...]] = {}


def record_items(record: Any) -> Iterator[tuple[str, Any]]:
    """A record's fields and values, in the order the class declares them (what `vars()`
    gave before the records had ``__slots__``: an export holds hundreds of thousands)."""
    names = _field_names.get(type(record))
    if names is None:
        names = _field_names[type(record)] = tuple(f.name for f in fields(record))
    return ((name, getattr(record, name)) for name in names)


_Owned = TypeVar("_Owned", Quote, Order, DeliveryNote, Invoice, Payment, SharedDocument)


def _by_customer(items: Iterable[_Owned]) -> dict[str, tuple[_Owned, ...]]:
    groups: dict[str, list[_Owned]] = defaultdict(list)
    for item in items:
        groups[item.customer_code].append(item)
    return {code: tuple(group) for code, group in groups.items()}
