"""Amounts, dates and percentages for people, formatted by Babel for a locale."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from babel.core import Locale
from babel.dates import format_date as babel_format_date
from babel.numbers import (
    format_currency,
    format_decimal,
    get_currency_precision,
    list_currencies,
)
from babel.numbers import format_percent as babel_format_percent

from portalgen.domain.model import Money

_CURRENCIES = frozenset(list_currencies())


def is_currency_code(code: str) -> bool:
    """Whether `code` is an ISO 4217 currency code Babel can format (``EUR``, ``USD``)."""
    return code in _CURRENCIES


def unsigned_zero(value: Decimal, places: int) -> Decimal:
    """`value`, without its sign when it shows as zero at `places` decimals.

    ``Decimal("-0.00")`` (a zero tax of a credit note: 0 × −1) would print as "−0,00 €";
    an amount that shows as zero never carries a minus sign.
    """
    if value.is_signed() and round(value, places) == 0:
        return value.copy_abs()
    return value


def format_money(money: Money, locale: str) -> str:
    """``1.234,56 €`` in es_ES, ``€1,234.56`` in en_GB; never ``-0,00 €``."""
    amount = unsigned_zero(money.amount, get_currency_precision(money.currency))
    return str(format_currency(amount, money.currency, locale=locale))


def format_quantity(value: Decimal, locale: str) -> str:
    """A quantity with up to three decimals: ``1.234,5`` in es_ES; never ``-0``."""
    value = unsigned_zero(value, 3).normalize()
    return str(format_decimal(value, format="#,##0.###", locale=locale))


def format_percent(value: Decimal, locale: str) -> str:
    """A rate given in percent, in the locale's pattern with up to two decimals:
    21 → ``21 %`` in es_ES and ca_ES, ``21%`` in en_GB and pt_PT, ``% 21`` in eu_ES."""
    pattern = Locale.parse(locale).percent_formats[None].pattern.replace("#,##0", "#,##0.##")
    return str(babel_format_percent(value.normalize() / 100, format=pattern, locale=locale))


def format_date(value: date, locale: str, style: str = "medium") -> str:
    return str(babel_format_date(value, format=style, locale=locale))


def plain_amount(money: Money) -> str:
    """Locale-free, for staff messages about the data: ``1234.56 EUR``."""
    return f"{unsigned_zero(money.amount, 2):.2f} {money.currency}"
