"""Parsers for single values of an export. Each raises FieldError saying what was expected.

Values come as strings from CSV and typed from JSON/YAML (numbers, dates, lists); every
parser accepts both. Numbers are never floats: JSON and YAML are read with Decimal.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from portalgen.domain.formatting import is_currency_code

Parser = Callable[[Any], Any]


class FieldError(ValueError):
    """A value that cannot be used; the message says what was expected and what was found."""


def found(value: Any) -> str:
    text = str(value)
    return repr(text if len(text) <= 40 else text[:37] + "...")


def text(value: Any) -> str:
    if type(value) is str:  # every CSV cell: the common case first
        # One object per distinct text (customer codes, currencies, units, product names
        # repeat on every row): kept for as long as a record uses it, like any string.
        return sys.intern(value.strip())
    if isinstance(value, (dict, list)):
        raise FieldError(f"expected text, found {type(value).__name__}")
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value).strip()


_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


def decimal(value: Any) -> Decimal:
    return _decimal(value, _decimals)


def _decimal(value: Any, known: dict[str, Decimal] | None) -> Decimal:
    """A number; one object per distinct text if `known` is given (see _shared)."""
    if type(value) is str:  # every CSV cell: the common case first
        raw = value.strip()
    elif isinstance(value, bool):
        raise FieldError(f"expected a number like 1234.56, found {value}")
    elif isinstance(value, Decimal):
        return value
    elif isinstance(value, int):
        return Decimal(value)
    elif isinstance(value, float):  # only from a YAML/JSON writer that ignored our advice
        return Decimal(repr(value))
    else:
        raw = text(value)
    if _NUMBER.match(raw):
        try:
            return Decimal(raw) if known is None else _shared(known, raw, Decimal)
        except InvalidOperation:  # pragma: no cover - the regex already guards
            pass
    if re.match(r"^[+-]?\d{1,3}(\.\d{3})*,\d+$|^[+-]?\d+,\d+$", raw):
        raise FieldError(
            f"expected a number with a dot for decimals like 1234.56, found {found(raw)}"
        )
    raise FieldError(f"expected a number like 1234.56, found {found(raw)}")


# An export repeats a few numbers (tax rates, 0, 1, common prices) hundreds of thousands of
# times, and each Decimal is about 100 bytes: the same text gives the same (immutable)
# object, which changes nothing but memory. Cleared when full, so memory stays bounded.
_SHARED_MAX = 1 << 16
_decimals: dict[str, Decimal] = {}
_amounts: dict[str, Decimal] = {}
_dates: dict[str, date] = {}  # and the same for dates: an export has a few hundred
_T = TypeVar("_T")


def forget_shared() -> None:
    """Drop the tables of shared values once an export is read: the records keep the
    values they use, and the tables' own texts and entries are freed (with what they
    hold that no record uses) before the export is validated."""
    for known in (_decimals, _amounts, _dates):
        known.clear()


def _shared(known: dict[str, _T], raw: str, make: Callable[[str], _T]) -> _T:
    number = known.get(raw)
    if number is None:
        number = make(raw)  # raises FieldError for a bad value: nothing kept
        if len(known) >= _SHARED_MAX:
            known.clear()
        known[raw] = number
    return number


def money_amount(value: Any) -> Decimal:
    """An amount of money: a number with at most two decimals."""
    if type(value) is str:  # every CSV cell
        return _shared(_amounts, value, _money_amount)
    return _money_amount(value)


def _money_amount(value: Any) -> Decimal:
    # Not shared: only the quantized amount is kept (shared by money_amount).
    number = _decimal(value, None)
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2 and number != number.quantize(Decimal("0.01")):
        raise FieldError(f"expected an amount with at most 2 decimals, found {found(value)}")
    return number.quantize(Decimal("0.01"))


def percent(value: Any) -> Decimal:
    number = decimal(value)
    if not Decimal(0) <= number <= Decimal(100):
        raise FieldError(f"expected a percentage between 0 and 100, found {found(value)}")
    return number


def quantity(value: Any) -> Decimal:
    return decimal(value)


def integer(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raw = text(value)
    if re.fullmatch(r"[+-]?\d+", raw):
        return int(raw)
    raise FieldError(f"expected a whole number, found {found(raw)}")


def iso_date(value: Any) -> date:
    if type(value) is str:  # every CSV cell
        return _shared(_dates, value, _iso_date)
    return _iso_date(value)


def _iso_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raw = text(value)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise FieldError(f"expected a real date as YYYY-MM-DD, found {found(raw)}") from None
    hint = (
        " (day-month-year is not accepted)"
        if re.fullmatch(r"\d{1,2}[/-]\d{1,2}[/-]\d{4}", raw)
        else ""
    )
    raise FieldError(f"expected a date as YYYY-MM-DD{hint}, found {found(raw)}")


_TRUE = {"true", "yes", "y", "1", "si", "sí", "s"}
_FALSE = {"false", "no", "n", "0"}


def boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raw = text(value).lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise FieldError(f"expected true or false, found {found(value)}")


_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def email(value: Any) -> str:
    raw = text(value)
    if not _EMAIL.match(raw) or ".." in raw or len(raw) > 254:
        raise FieldError(f"expected an email address like name@example.com, found {found(raw)}")
    return raw.lower()


def email_list(value: Any) -> tuple[str, ...]:
    """One or more addresses: a JSON list, or text separated by semicolons or commas."""
    items = value if isinstance(value, list) else re.split(r"[;,]", text(value))
    emails = []
    for item in items:
        if str(item).strip():
            address = email(item)
            if address not in emails:
                emails.append(address)
    if not emails:
        raise FieldError("expected at least one email address")
    return tuple(emails)


def text_list(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else re.split(r"[;,]", text(value))
    return tuple(s for s in (text(i) for i in items) if s)


def currency(value: Any) -> str:
    raw = sys.intern(text(value).upper())  # one string per code, not one per document
    if not is_currency_code(raw):
        raise FieldError(f"expected an ISO 4217 currency code like EUR, found {found(value)}")
    return raw


def language(value: Any) -> str:
    raw = text(value).lower().replace("-", "_")
    if not re.fullmatch(r"[a-z]{2}(_[a-z]{2})?", raw):
        raise FieldError(f"expected a language code like es or en, found {found(value)}")
    return raw.split("_")[0]


def country(value: Any) -> str:
    raw = text(value).upper()
    if not re.fullmatch(r"[A-Z]{2}", raw):
        raise FieldError(f"expected a two-letter country code like ES, found {found(value)}")
    return raw


def choice(options: Sequence[str], aliases: dict[str, str] | None = None) -> Parser:
    """A value from a fixed list; matching ignores case, spaces and hyphens."""
    aliases = aliases or {}
    # The option itself is given back, not the text just made from the cell: one string
    # per option instead of one per record.
    known = {option: option for option in options}

    def parse(value: Any) -> str:
        raw = text(value).lower().replace(" ", "_").replace("-", "_")
        option = known.get(aliases.get(raw, raw))
        if option is not None:
            return option
        listed = ", ".join(o for o in options if o) or "(empty)"
        raise FieldError(f"expected one of {listed}, found {found(value)}")

    parse.options = tuple(o for o in options if o)  # type: ignore[attr-defined]
    return parse
