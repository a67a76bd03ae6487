"""What the e-invoice readers (UBL, Facturae) share: files, customer codes, lines, PDFs.

Customer codes. E-invoices carry no customer code in portalgen's sense, so one is
derived from the buyer's tax id: upper-case letters and digits only, with a leading
``ES`` dropped from a Spanish VAT number (``ESB77436020`` and ``B77436020`` are the
same customer, code ``B77436020``). The code is stable (the same buyer gets the same
code every night) and the same buyer in several files is one customer.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

from babel.core import get_global

from portalgen.domain.identifiers import compact
from portalgen.domain.model import Customer, Line, Origin, round_money


def xml_files(path: Path) -> list[Path]:
    """The XML files of a source: the file itself, or every ``*.xml`` under a folder."""
    if path.is_file():
        return [path]
    return sorted(
        p
        for p in path.rglob("*")
        if p.is_file()
        and p.suffix.lower() == ".xml"
        and not any(part.startswith(".") for part in p.relative_to(path).parts)
    )


def display_name(file: Path, source: Path) -> str:
    """How a file is named in messages: relative to the folder the user gave."""
    if source.is_dir():
        return file.relative_to(source).as_posix()
    return file.name


def tax_key(tax_id: str) -> str:
    """The customer code derived from a tax id (see the module docstring)."""
    key = compact(tax_id)
    if key.startswith("ES") and len(key) == 11:
        key = key[2:]
    return key[:40]


def country_alpha2(code: str) -> str | None:
    """ISO 3166 alpha-2 from an alpha-2 or alpha-3 code (Facturae and FacturaScripts use
    ``ESP``), or None if unknown."""
    raw = code.strip().upper()
    if len(raw) == 2 and raw.isalpha():
        return raw
    if len(raw) == 3 and raw.isalpha():
        found = get_global("territory_aliases").get(raw)
        if isinstance(found, list) and len(found) == 1:
            return str(found[0])
    return None


def merge_parties(entries: Iterable[tuple[date, Customer]]) -> tuple[Customer, ...]:
    """One customer per code: the details of the most recent document, every email kept."""
    latest: dict[str, tuple[date, Customer]] = {}
    emails: dict[str, list[str]] = {}
    for issued, customer in entries:
        known = emails.setdefault(customer.code, [])
        known.extend(e for e in customer.emails if e not in known)
        current = latest.get(customer.code)
        if current is None or issued >= current[0]:
            latest[customer.code] = (issued, customer)
    return tuple(
        replace(customer, emails=tuple(emails[code])) for code, (_, customer) in latest.items()
    )


def priced_line(
    *,
    description: str,
    quantity: Decimal,
    unit_price: Decimal,
    net: Decimal,
    tax_rate: Decimal,
    surcharge_rate: Decimal = Decimal(0),
    withholding_rate: Decimal = Decimal(0),
    unit: str = "",
    reference: str = "",
    tax_category: str = "",
    origin: Origin,
) -> Line | None:
    """A model line whose net amount is exactly `net`, the amount the file states.

    The file gives quantity, price and the line's net amount after its allowances and
    charges; the model keeps a discount percentage, so the difference becomes one (as
    short as it can be while still giving exactly `net`; a charge is a negative discount).
    None when no discount can give `net` (the caller reports it).
    """
    base = {
        "description": description,
        "quantity": quantity,
        "unit_price": unit_price,
        "tax_rate": tax_rate,
        "surcharge_rate": surcharge_rate,
        "withholding_rate": withholding_rate,
        "unit": unit,
        "reference": reference,
        "tax_category": tax_category,
        "origin": origin,
    }
    line = Line(**base)  # type: ignore[arg-type]
    if line.net == net:
        return line
    gross = quantity * unit_price
    if gross == 0:
        return None
    exact = (gross - net) * 100 / gross
    for places in (*range(0, 9), None):
        discount = exact if places is None else round(exact, places)
        candidate = replace(line, discount=discount)
        if candidate.net == net:
            return candidate
    return None


def adjustment_line(
    description: str, amount: Decimal, tax_rate: Decimal, reference: str, origin: Origin
) -> Line:
    """A document-level allowance (negative `amount`) or charge as a line of its own."""
    return Line(
        description=description,
        quantity=Decimal(1),
        unit_price=round_money(amount),
        tax_rate=tax_rate,
        reference=reference,
        origin=origin,
    )


def default_cache_dir() -> Path:
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return Path(tempfile.gettempdir()) / f"portalgen-{uid}" / "originals"


def store_original_pdf(data: bytes, cache_dir: Path | None) -> Path:
    """Keep an embedded PDF as a file named by its SHA-256, and return its path.

    The same PDF always lands at the same path, so nightly runs reuse it; the file is
    written to a temporary name and renamed, so a reader never sees half a PDF.
    """
    folder = cache_dir or default_cache_dir()
    digest = hashlib.sha256(data).hexdigest()
    target = folder / f"{digest}.pdf"
    if target.is_file() and hashlib.sha256(target.read_bytes()).hexdigest() == digest:
        return target
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".pdf-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def sum_of(values: Iterable[Decimal | None]) -> Decimal:
    return sum((v for v in values if v is not None), Decimal("0.00"))


def plain(value: Decimal) -> str:
    """An amount as the file would write it: ``1710.00``."""
    return format(round_money(value), "f")


def rate_key(rate: Decimal) -> Decimal:
    """Rates compare by value: ``21``, ``21.0`` and ``21.00`` are one rate."""
    if rate == rate.to_integral():
        return rate.quantize(Decimal(1))
    return rate.normalize()
