"""FacturaScripts customers: clientes, with addresses and extra emails from contactos."""

from __future__ import annotations

from collections import defaultdict

from portalgen.domain.model import Address, Customer, Origin
from portalgen.load import fields as f
from portalgen.load import schema
from portalgen.load.einvoice import country_alpha2
from portalgen.load.facturascripts.tables import Row, parse_column
from portalgen.load.problems import ProblemLog

CUSTOMER_FIELDS = {"code": "codcliente", "name": "razonsocial", "tax_id": "cifnif"}


def read_customers(tables: dict[str, list[Row]], log: ProblemLog) -> list[Customer]:
    """clientes (+ contactos for addresses and more emails) → customers."""
    contacts: dict[int, Row] = {}
    by_customer: dict[str, list[Row]] = defaultdict(list)
    for row in tables["contactos"]:
        if row.get("idcontacto") is not None:
            contacts[row.get("idcontacto")] = row
        if row.get("codcliente"):
            by_customer[row.get("codcliente")].append(row)
    result = []
    for row in tables["clientes"]:
        customer = _customer(row, contacts, by_customer, log)
        if customer is not None:
            result.append(customer)
    return result


def _customer(
    row: Row, contacts: dict[int, Row], by_customer: dict[str, list[Row]], log: ProblemLog
) -> Customer | None:
    origin = Origin(row.origin.file, row.origin.location, CUSTOMER_FIELDS)
    ok = True
    code = parse_column(row, "codcliente", schema.customer_code, log, required=True)
    name = row.get("razonsocial") or row.get("nombre")
    if not name:
        log.error(origin, "nombre", "this field is required but empty")
        ok = False
    if not row.get("cifnif"):
        log.error(origin, "cifnif", "this field is required but empty")
        ok = False
    emails: list[str] = []
    if row.get("email"):
        address = parse_column(row, "email", f.email, log)
        ok = ok and address is not None
        emails.extend([address] if address else [])
    for contact in by_customer.get(str(code), []):
        if contact.get("email"):
            try:
                emails.append(f.email(contact.get("email")))
            except f.FieldError as exc:
                log.warning(contact.origin, "email", f"{exc}; not used")
    billing = contacts.get(row.get("idcontactofact")) or next(
        iter(by_customer.get(str(code), [])), None
    )
    address = _address(billing, log) if billing is not None else Address()
    if code is None or not ok or address is None:
        return None
    return Customer(
        code=code,
        name=name,
        trade_name=row.get("nombre") if row.get("nombre") != name else "",
        tax_id=row.get("cifnif"),
        emails=tuple(dict.fromkeys(emails)),
        language=(row.get("langcode") or "")[:2].lower(),
        address=address,
        phone=row.get("telefono1", ""),
        notify=not row.get("debaja", False),
        origin=origin,
    )


def _address(contact: Row, log: ProblemLog) -> Address | None:
    country = "ES"
    if contact.get("codpais"):
        found = country_alpha2(contact.get("codpais"))
        if found is None:
            log.error(
                contact.origin,
                "codpais",
                f"expected an ISO 3166 country code like ESP, found {contact.get('codpais')!r}",
            )
            return None
        country = found
    return Address(
        street=contact.get("direccion", ""),
        postal_code=contact.get("codpostal", ""),
        city=contact.get("ciudad", ""),
        province=contact.get("provincia", ""),
        country=country,
    )
