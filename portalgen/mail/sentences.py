"""The sentences the text and the HTML part of an email share, translated, as plain strings.

They are functions, not template macros, on purpose: a Jinja macro called from an HTML
template has its output marked safe, so a macro written for the text part would let
billing data (a customer's name) through unescaped. A function returns a plain string,
which the HTML templates escape like any other value and the text templates print as is.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from markupsafe import Markup, escape

Format = Callable[[Any], str]


class Sentences:
    def __init__(
        self,
        catalog: gettext.GNUTranslations,
        *,
        money: Format,
        day: Format,
        company: str,
        new_link_url: str,
    ) -> None:
        self.gettext = catalog.gettext
        self.ngettext = catalog.ngettext
        self.pgettext = catalog.pgettext
        self.money = money
        self.day = day
        self.company = company
        self.new_link_url = new_link_url

    def globals(self) -> dict[str, Callable[..., Any]]:
        return {
            "greeting": self.greeting,
            "reminder_line": self.reminder,
            "quote_line": self.quote,
            "invoice_line": self.invoice,
            "order_line": self.order,
            "payment_line": self.payment,
            "link_validity": self.link_validity,
            "link_validity_html": self.link_validity_html,
            "code_notice": self.code_notice,
            "digest_notice": self.digest_notice,
            "offers": self.offers,
        }

    def digest_lines(
        self, news: Mapping[str, list[Mapping[str, Any]]], today: date
    ) -> dict[str, list[tuple[Mapping[str, Any], str]]]:
        """Each section's items of a digest with their sentences, made once for both parts
        (the text part prints a sentence as it is, the HTML part escapes it)."""
        sentence: dict[str, Callable[[Mapping[str, Any]], str]] = {
            "reminder": self.reminder,
            "quote": self.quote,
            "invoice": lambda item: self.invoice(item, today),
            "order": self.order,
            "payment": self.payment,
        }
        return {
            kind: [(item, sentence[kind](item)) for item in items] for kind, items in news.items()
        }

    def greeting(self, name: str = "") -> str:
        if name:
            return self.gettext("Hello %(name)s,") % {"name": name}
        return self.gettext("Hello,")

    def reminder(self, r: Mapping[str, Any]) -> str:
        days = int(r["days"])
        values = {
            "number": r["number"],
            "receipt": r.get("receipt", ""),
            "amount": self.money(r["outstanding"]),
            "date": self.day(r["due"]),
            "num": abs(days),
        }
        if r.get("direct_debit") and days >= 0:
            text = self.gettext(
                "We will charge %(amount)s for invoice %(number)s to your bank account by "
                "direct debit on %(date)s; you need not do anything."
            )
            return text % values
        if values["receipt"]:
            return self.receipt_reminder(days, values)
        if days > 0:
            return (
                self.ngettext(
                    "Invoice %(number)s, with %(amount)s still to pay, is due tomorrow, %(date)s.",
                    "Invoice %(number)s, with %(amount)s still to pay, is due in %(num)d days, "
                    "on %(date)s.",
                    days,
                )
                % values
            )
        if days == 0:
            return (
                self.gettext("Invoice %(number)s, with %(amount)s still to pay, is due today.")
                % values
            )
        return (
            self.ngettext(
                "Invoice %(number)s, with %(amount)s still to pay, was due yesterday, %(date)s.",
                "Invoice %(number)s, with %(amount)s still to pay, was due on %(date)s, "
                "%(num)d days ago.",
                -days,
            )
            % values
        )

    def receipt_reminder(self, days: int, values: Mapping[str, Any]) -> str:
        """A reminder of one receipt of an invoice paid in receipts."""
        if days > 0:
            text = self.ngettext(
                "Receipt %(receipt)s of invoice %(number)s, for %(amount)s, is due tomorrow, "
                "%(date)s.",
                "Receipt %(receipt)s of invoice %(number)s, for %(amount)s, is due in %(num)d "
                "days, on %(date)s.",
                days,
            )
        elif days == 0:
            text = self.gettext(
                "Receipt %(receipt)s of invoice %(number)s, for %(amount)s, is due today."
            )
        else:
            text = self.ngettext(
                "Receipt %(receipt)s of invoice %(number)s, for %(amount)s, was due yesterday, "
                "%(date)s.",
                "Receipt %(receipt)s of invoice %(number)s, for %(amount)s, was due on "
                "%(date)s, %(num)d days ago.",
                -days,
            )
        return text % values

    def quote(self, q: Mapping[str, Any]) -> str:
        values = {
            "number": q["number"],
            "date": self.day(q["issued"]),
            "amount": self.money(q["total"]),
            "until": self.day(q["valid_until"]),
        }
        if q["valid_until"] is not None:
            text = self.gettext(
                "Quote %(number)s of %(date)s, for %(amount)s, valid until %(until)s."
            )
        else:
            text = self.gettext("Quote %(number)s of %(date)s, for %(amount)s.")
        return text % values

    def invoice(self, i: Mapping[str, Any], today: date) -> str:
        values = {
            "number": i["number"],
            "date": self.day(i["issued"]),
            "amount": self.money(i["total"]),
            "due": self.day(i["due"]),
            "outstanding": self.money(i["outstanding"]),
        }
        unpaid = not i["outstanding"].is_zero()
        title = i.get("title", "credit_note" if i["corrective"] else "invoice")
        if title == "corrective_credit":
            text = self.pgettext(
                "credit that corrects a named invoice",
                "Credit note %(number)s of %(date)s, for %(amount)s.",
            )
        elif title == "credit_note":
            text = self.gettext("Credit note %(number)s of %(date)s, for %(amount)s.")
        elif title == "corrective_invoice":
            text = self.gettext("Corrective invoice %(number)s of %(date)s, for %(amount)s.")
        elif not unpaid:
            text = self.gettext("Invoice %(number)s of %(date)s, for %(amount)s (already paid).")
        elif i["due"] is not None and i["due"] < today:
            text = self.gettext(
                "Invoice %(number)s of %(date)s, for %(amount)s, was due on %(due)s: "
                "%(outstanding)s still to pay."
            )
        elif i["due"] is not None:
            text = self.gettext("Invoice %(number)s of %(date)s, for %(amount)s, due on %(due)s.")
        else:
            text = self.gettext("Invoice %(number)s of %(date)s, for %(amount)s.")
        return text % values

    def order(self, o: Mapping[str, Any]) -> str:
        if o["delivered"] is not None:
            text = self.gettext("Order %(number)s was delivered on %(date)s.")
            return text % {"number": o["number"], "date": self.day(o["delivered"])}
        values = {
            "number": o["number"],
            "date": self.day(o["shipped"]),
            "expected": self.day(o["expected"]),
        }
        if o["expected"] is not None:
            text = self.gettext(
                "Order %(number)s was shipped on %(date)s; expected delivery: %(expected)s."
            )
        else:
            text = self.gettext("Order %(number)s was shipped on %(date)s.")
        return text % values

    def payment(self, p: Mapping[str, Any]) -> str:
        text = self.gettext("%(amount)s received on %(date)s for invoice %(invoice)s.")
        return text % {
            "amount": self.money(p["amount"]),
            "date": self.day(p["paid"]),
            "invoice": p["invoice"],
        }

    def link_validity(self, expires: datetime) -> str:
        text = self.gettext(
            "This link is personal: please do not forward it. It works until %(date)s; "
            "after that, ask for a new one at %(url)s."
        )
        return text % {"date": self.day(expires), "url": self.new_link_url}

    def link_validity_html(self, expires: datetime) -> Markup:
        """`link_validity` for the HTML part: the address to ask at is a link."""
        text = self.gettext(
            "This link is personal: please do not forward it. It works until %(date)s; "
            "after that, ask for a new one at %(url)s."
        )
        url = self.new_link_url
        anchor = Markup('<a href="{0}" style="color:inherit;">{0}</a>').format(url)
        return escape(text) % {"date": self.day(expires), "url": anchor}

    def code_notice(self, reason: str) -> str:
        if reason == "invitation":
            return self.gettext(
                "For your security, the portal will also ask you for an access code. We will "
                "give it to you separately, by phone or message: it never travels by email."
            )
        if reason == "reset":
            return self.gettext(
                "The portal will ask you for a new access code, which we will give you "
                "separately, by phone or message: it never travels by email."
            )
        return self.gettext(
            "The portal will also ask you for your access code. If you do not have it, ask "
            "us: we give it by phone or message, never by email."
        )

    def offers(self, sections: Any) -> list[str]:
        """What the portal lets the customer do, one line per section it shows."""
        lines = [
            (sections.quotes, self.gettext("see your quotes, and accept or reject them")),
            (sections.orders, self.gettext("follow your orders")),
            (sections.delivery_notes, self.gettext("download your delivery notes")),
            (sections.invoices, self.gettext("download your invoices and see how to pay them")),
            (sections.payments, self.gettext("see your payments and your account statement")),
            (sections.documents, self.gettext("download the documents we share with you")),
            (True, self.gettext("send us a comment on any document")),
        ]
        return [text for shown, text in lines if shown]

    def digest_notice(self) -> str:
        text = self.gettext(
            "You receive these messages because %(company)s keeps a portal for you. If you "
            "prefer not to receive them, reply to this message and tell us."
        )
        return text % {"company": self.company}
