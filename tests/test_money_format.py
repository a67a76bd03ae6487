"""Amounts as customers read them: portalgen's currency formatting is Babel's, to the
character, in every locale it writes and for currencies of 0 to 4 decimals."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from babel.numbers import format_currency, get_currency_precision

from portalgen.domain.formatting import _currency_format, format_money, unsigned_zero
from portalgen.domain.model import Money
from portalgen.presentation.languages import LOCALES

# Every language's locale, and locales a business may configure (es_MX, en_US, de_CH's
# apostrophe-like group separator, en_IN's groups of two, ar_EG's own digits).
LOCALE_CODES = sorted({*LOCALES.values(), "es_MX", "en_US", "de_CH", "en_IN", "ar_EG", "nl_NL"})
CURRENCIES = ["EUR", "USD", "GBP", "MXN", "CHF", "JPY", "BHD", "CLF"]  # 2, 0, 3, 4 decimals


def amounts() -> list[Decimal]:
    rng = random.Random(19)
    edge = ["0", "-0", "-0.00", "0.005", "0.015", "-0.005", "1", "-1", "999.995", "1000"]
    edge += ["1234.5", "-1234.56", "1E+3", "123456789.123", "-98765432.1", "0.0001", "12.3456"]
    found = [Decimal(v) for v in edge]
    for _ in range(300):
        digits = rng.randint(0, 12)
        value = Decimal(rng.randint(-(10**digits), 10**digits)).scaleb(-rng.randint(0, 5))
        found.append(value)
    return found


@pytest.mark.parametrize("locale", LOCALE_CODES)
def test_an_amount_reads_as_babel_writes_it(locale: str) -> None:
    for currency in CURRENCIES:
        for amount in amounts():
            unsigned = unsigned_zero(amount, get_currency_precision(currency))
            expected = format_currency(unsigned, currency, locale=locale)
            assert format_money(Money(amount, currency), locale) == expected, (amount, currency)


def test_the_usual_locales_take_the_fast_path() -> None:
    """The comparison above is of portalgen's own formatting (Babel's is the fallback)."""
    for locale in [*LOCALES.values(), "es_MX", "en_IN"]:
        assert _currency_format("EUR", locale) is not None, locale


def test_each_locale_keeps_its_own_format_in_one_run() -> None:
    """One amount in Spanish, English, Spanish again: no locale's symbols leak into another."""
    amount = Money(Decimal("-1234.5"), "EUR")
    assert [format_money(amount, loc) for loc in ("es_ES", "en_GB", "es_ES", "fr_FR")] == [
        "-1.234,50\xa0€",
        "-€1,234.50",
        "-1.234,50\xa0€",
        "-1\u202f234,50\xa0€",
    ]
