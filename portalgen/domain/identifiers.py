"""Tax ids (NIF/CIF/NIE, EU VAT numbers) and IBANs, checked with python-stdnum."""

from __future__ import annotations

import stdnum
from stdnum import iban as stdnum_iban
from stdnum.es import nif as es_nif
from stdnum.eu import vat as eu_vat

# EU VAT prefixes (Greece uses EL, Northern Ireland XI); stdnum knows them all.
_EU_PREFIXES = {cc.upper() for cc in eu_vat.MEMBER_STATES} | {"EL"}


def compact(value: str) -> str:
    return "".join(ch for ch in value.upper() if ch.isalnum())


def tax_id_problem(tax_id: str, country: str = "ES") -> str | None:
    """Why `tax_id` is not a valid tax id for a customer in `country`, or None if it is.

    A number with an EU prefix (``ESB12345674``, ``FR...``) is checked as an EU VAT
    number; a bare Spanish number as a NIF (DNI, NIE or CIF); another country's number
    with that country's rules when python-stdnum has them, otherwise accepted as is.
    """
    number = compact(tax_id)
    if not number:
        return "expected a tax id (NIF, CIF, NIE or VAT number)"
    if number[:2] in _EU_PREFIXES and number[:2].isalpha():
        if eu_vat.is_valid(number):
            return None
        return f"{tax_id!r} is not a valid EU VAT number (wrong length or check digit)"
    country = (country or "ES").upper()
    if country == "ES":
        if es_nif.is_valid(number):
            return None
        return f"{tax_id!r} is not a valid Spanish NIF/CIF/NIE (wrong format or check letter)"
    module = stdnum.get_cc_module(country.lower(), "vat")
    if module is not None and not module.is_valid(number):
        return f"{tax_id!r} is not a valid tax number for country {country}"
    return None


def iban_problem(iban: str) -> str | None:
    if stdnum_iban.is_valid(iban):
        return None
    return f"{iban!r} is not a valid IBAN (wrong length or check digits)"


def format_iban(iban: str) -> str:
    return stdnum_iban.format(iban)


def mask_iban(iban: str) -> str:
    """``ES91 **** **** **** **** 1332``: enough for a customer to recognise their account."""
    number = compact(iban)
    masked = number[:4] + "*" * (len(number) - 8) + number[-4:]
    return " ".join(masked[i : i + 4] for i in range(0, len(masked), 4))
