"""Non-HTML outputs built from other files: the statement CSV and the all-documents ZIP."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal

from babel.numbers import format_decimal

from portalgen.domain.formatting import unsigned_zero
from portalgen.render.views import View

ZIP_EPOCH = date(1980, 1, 1)  # the earliest date a ZIP can store


def _(message: str) -> str:
    """Marks a message for extraction; translated when the CSV is written."""
    return message


CSV_HEADERS = (
    _("Date"),
    _("Movement"),
    _("Reference"),
    _("Invoice"),
    _("Charge"),
    _("Payment"),
    _("Balance"),
    _("Currency"),
    _("Due date"),
    _("Overdue"),
)
CSV_KINDS = {"invoice": _("Invoice"), "payment": _("Payment")}


def statement_csv(statements: Sequence[View], locale: str, gettext: Callable[[str], str]) -> bytes:
    """The statement as CSV a spreadsheet opens as is: in Spanish `;` and decimal commas.

    Starts with a UTF-8 byte order mark, which Excel needs to read accents right.
    """
    spanish_style = not locale.startswith("en")
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";" if spanish_style else ",", lineterminator="\r\n")
    writer.writerow([gettext(h) for h in CSV_HEADERS])

    def number(value: Decimal) -> str:
        return str(format_decimal(unsigned_zero(value, 2), format="0.00", locale=locale))

    for block in statements:
        for e in block["entries"]:
            writer.writerow(
                [
                    e["when"].isoformat(),
                    gettext(CSV_KINDS[e["kind"]]),
                    e["reference"],
                    e["link"]["number"],
                    number(e["debit"].amount),
                    number(e["credit"].amount),
                    number(e["balance"].amount),
                    block["currency"],
                    e["due_date"].isoformat() if e["due_date"] else "",
                    number(e["overdue"].amount) if e["overdue"] is not None else "",
                ]
            )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def zip_archive(members: Sequence[tuple[str, date, Callable[[], bytes]]]) -> bytes:
    """A ZIP of (name, date, content) made the same way every time (fixed times, order)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, when, content in sorted(members, key=lambda m: m[0]):
            stamp = max(when, ZIP_EPOCH)
            info = zipfile.ZipInfo(name, date_time=(stamp.year, stamp.month, stamp.day, 12, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, content())
    return buffer.getvalue()
