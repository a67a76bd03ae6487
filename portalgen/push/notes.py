"""What `push` appends to a record's notes (``observaciones``), in the business's language.

A note ends with ``[portalgen <id>]``, the portal's reference of the decision, comment or
payment (its audit event id): the same whatever the language, it is how a push that was
interrupted recognises that its write landed, and how staff find the event in the log.
Notes are appended after what staff wrote, separated by a blank line, never replacing it.
"""

from __future__ import annotations

import gettext
from datetime import datetime
from zoneinfo import ZoneInfo


def marker(reference: str) -> str:
    return f"[portalgen {reference}]"


def append(existing: object, note: str) -> str:
    text = "" if existing is None else str(existing).rstrip()
    return f"{text}\n\n{note}" if text else note


class NoteWriter:
    def __init__(self, language: str, timezone: str) -> None:
        from portalgen.presentation.catalogs import translations

        self.t: gettext.NullTranslations = translations(language)
        self.zone = ZoneInfo(timezone)

    def _(self, message: str) -> str:
        return self.t.gettext(message)

    def when(self, ts: datetime) -> str:
        return ts.astimezone(self.zone).strftime("%d/%m/%Y %H:%M")

    def decision(self, decision: str, ts: datetime, who: str, comment: str, reference: str) -> str:
        values = {"when": self.when(ts), "who": who}
        if decision == "accepted":
            head = self._("Quote accepted in the portal on %(when)s by %(who)s.") % values
        else:
            head = self._("Quote rejected in the portal on %(when)s by %(who)s.") % values
        parts = [head]
        if comment:
            label = self._("Comment") if decision == "accepted" else self._("Reason")
            parts.append(f"{label}: {comment}")
        parts.append(marker(reference))
        return "\n".join(parts)

    def comment(self, ts: datetime, who: str, document: str, text: str, reference: str) -> str:
        values = {"when": self.when(ts), "who": who}
        if document:
            values["document"] = document
            head = (
                self._("Comment in the portal on %(when)s by %(who)s about %(document)s:") % values
            )
        else:
            head = self._("Comment in the portal on %(when)s by %(who)s:") % values
        return "\n".join((head, text, marker(reference)))

    def payment(
        self, ts: datetime, amount: str, currency: str, provider: str, txn: str, reference: str
    ) -> str:
        values = {
            "when": self.when(ts),
            "amount": amount,
            "currency": currency,
            "provider": provider,
            "transaction": txn,
        }
        line = self._(
            "Paid online on %(when)s: %(amount)s %(currency)s (%(provider)s, "
            "transaction %(transaction)s)."
        )
        return "\n".join((line % values, marker(reference)))
