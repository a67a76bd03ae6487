"""Jinja filters and globals, bound to one locale (one environment per language)."""

from __future__ import annotations

import functools
import posixpath
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from babel.numbers import format_decimal
from jinja2 import pass_context
from jinja2.runtime import Context

from portalgen.domain.formatting import format_date, format_money, format_percent, format_quantity
from portalgen.domain.identifiers import format_iban, mask_iban
from portalgen.domain.model import Money


@functools.lru_cache(maxsize=65536)
def relative_url(page_path: str, target: str) -> str:
    """The relative link from the page at `page_path` to the portal path `target`.

    Both are portal paths (``invoices/index.html``); the result is percent-encoded, so
    shared files with spaces or accents in their names link correctly.
    """
    start = posixpath.dirname(page_path) or "."
    path, hash_, fragment = target.partition("#")
    rel = posixpath.relpath(path, start) if path else posixpath.basename(page_path)
    return quote(rel) + hash_ + fragment


@pass_context
def _url(context: Context, target: str) -> str:
    return relative_url(str(context["page_path"]), target)


@pass_context
def _gate_url(context: Context, route: str) -> str:
    """A gate route (``quotes/X/accept``, ``comments``) relative to the page: the gate
    serves portal pages under ``/portal/`` and may itself sit under a path prefix."""
    return relative_url(str(context["page_path"]), route)


@pass_context
def _root_url(context: Context, route: str) -> str:
    """A gate route outside /portal/ (``logout``): one level above the portal root."""
    depth = str(context["page_path"]).count("/")
    return "../" * (depth + 1) + route


def file_size(size: int, locale: str) -> str:
    value = Decimal(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            pattern = "#,##0" if unit == "B" else "#,##0.#"
            return f"{format_decimal(value, format=pattern, locale=locale)}\u00a0{unit}"
        value /= 1024
    raise AssertionError("unreachable")


def css_string(value: str) -> str:
    """Text for a CSS string literal ("..."): quotes, backslashes and line breaks escaped."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return " ".join(escaped.split()).replace("<", "\\3c ")


@functools.lru_cache(maxsize=65536)
def _money(amount: Decimal, currency: str, locale: str) -> str:
    # Babel re-applies the locale's pattern on every call; amounts repeat across pages.
    return format_money(Money(amount, currency), locale)


def make_filters(locale: str) -> dict[str, Callable[..., Any]]:
    def money(value: Money) -> str:
        return _money(value.amount, value.currency, locale)

    def subtracted(value: Money) -> str:
        """An amount taken off the total (a withholding): ``−15,00 €``; a negative one, as
        on a credit note, gives back: ``15,00 €`` (never ``−-15,00 €``)."""
        if value.amount > 0:
            return "\u2212" + money(value)
        return money(-value)

    def amount(value: Decimal, currency: str) -> str:
        return _money(value, currency, locale)

    def day(value: date | None, style: str = "medium") -> str:
        return format_date(value, locale, style) if value is not None else ""

    def quantity(value: Decimal) -> str:
        return format_quantity(value, locale)

    def percent(value: Decimal) -> str:
        return format_percent(value, locale)

    return {
        "money": money,
        "amount": amount,
        "subtracted": subtracted,
        "date": day,
        "quantity": quantity,
        "percent": percent,
        "filesize": lambda size: file_size(size, locale),
        "iban": format_iban,
        "masked_iban": mask_iban,
        "cssstr": css_string,
        "slashdate": lambda value: f"{value:%d/%m/%Y}",
    }


GLOBALS: dict[str, Any] = {"url": _url, "gate_url": _gate_url, "root_url": _root_url}
