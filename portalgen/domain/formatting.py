"""Amounts, dates and percentages for people, formatted by Babel for a locale."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from babel.core import Locale
from babel.dates import format_date as babel_format_date
from babel.numbers import (
    format_currency,
    format_decimal,
    get_currency_precision,
    get_currency_symbol,
    get_decimal_quantum,
    get_decimal_symbol,
    get_group_symbol,
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
    found = _currency_format(money.currency, locale)
    text = found.format(amount) if found is not None else None
    return text if text is not None else str(format_currency(amount, money.currency, locale=locale))


@dataclass(frozen=True)
class _CurrencyFormat:
    """Babel's standard currency format of one locale and currency, its symbols looked
    up once: `format` gives `babel.numbers.format_currency`'s text (the same steps as
    Babel's `NumberPattern.apply`), without Babel's lookups of the locale's data for every
    amount, which cost more than the formatting (a night's digests show thousands)."""

    affixes: tuple[tuple[str, str], tuple[str, str]]  # (prefix, suffix): >= 0, then < 0
    minimum: int  # integer digits at least
    grouping: tuple[int, int]  # the first group's size, the next ones'
    group: str
    decimal: str
    places: int  # the currency's decimals
    quantum: Decimal

    def format(self, amount: Decimal) -> str | None:
        """The text, or None for what Babel says its own way (an infinite amount)."""
        value = amount.scaleb(0)
        prefix, suffix = self.affixes[int(value.is_signed())]
        value = abs(value).normalize()
        if not value.is_finite():
            return None
        whole, _, fraction = f"{value.quantize(self.quantum):f}".partition(".")
        whole = whole.rjust(self.minimum, "0")
        size, groups = self.grouping[0], ""
        while len(whole) > size:
            groups = self.group + whole[-size:] + groups
            whole = whole[:-size]
            size = self.grouping[1]
        number = whole + groups
        if self.places:
            number += self.decimal + (fraction or "0").ljust(self.places, "0")
        return prefix + number + suffix


@functools.lru_cache(maxsize=256)
def _currency_format(currency: str, locale: str) -> _CurrencyFormat | None:
    """The locale's format of `currency`; None where its pattern needs what `format`
    does not do (scaling, exponents, significant digits, currency names, quoted text):
    Babel formats those amounts itself."""
    parsed = Locale.parse(locale)
    pattern = parsed.currency_formats["standard"]
    symbol = get_currency_symbol(currency, parsed)
    group = get_group_symbol(parsed, numbering_system="latn")
    decimal = get_decimal_symbol(parsed, numbering_system="latn")
    texts = (*pattern.prefix, *pattern.suffix)
    if (
        pattern.scale
        or pattern.exp_prec
        or "@" in pattern.pattern
        or not pattern.number_pattern
        or any("¤¤" in text for text in texts)
        or "'" in "".join((*texts, symbol, group, decimal))
    ):
        return None
    positive, negative = (
        (p.replace("¤", symbol), s.replace("¤", symbol))
        for p, s in zip(pattern.prefix, pattern.suffix, strict=True)
    )
    places = get_currency_precision(currency)
    grouping = (pattern.grouping[0], pattern.grouping[1])
    quantum = get_decimal_quantum(places)
    return _CurrencyFormat(
        (positive, negative), pattern.int_prec[0], grouping, group, decimal, places, quantum
    )


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
