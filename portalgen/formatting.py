"""Amounts, dates and percentages for people, formatted by Babel for a locale."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from babel.dates import format_date as babel_format_date
from babel.numbers import format_currency, format_decimal

from portalgen.model import Money


def format_money(money: Money, locale: str) -> str:
    """``1.234,56 €`` in es_ES, ``€1,234.56`` in en_GB."""
    return str(format_currency(money.amount, money.currency, locale=locale))


def format_number(value: Decimal, locale: str) -> str:
    return str(format_decimal(value, locale=locale))


def format_percent(value: Decimal, locale: str) -> str:
    """A rate given in percent (21 → ``21 %`` in es_ES, ``21%`` in en)."""
    number = format_decimal(value.normalize(), format="#,##0.##", locale=locale)
    return f"{number}\u00a0%" if locale.startswith(("es", "fr", "de")) else f"{number}%"


def format_date(value: date, locale: str, style: str = "medium") -> str:
    return str(babel_format_date(value, format=style, locale=locale))


def plain_amount(money: Money) -> str:
    """Locale-free, for staff messages about the data: ``1234.56 EUR``."""
    return f"{money.amount:.2f} {money.currency}"
