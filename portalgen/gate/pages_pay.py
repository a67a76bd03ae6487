"""The gate's own pages for paying: the form that takes the customer to Redsys, and why
a payment could not start. Translated like every page of the gate (i18n.py)."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import TYPE_CHECKING

from portalgen.gate.pages import layout

if TYPE_CHECKING:
    from portalgen.gate.pages import PageContext

PAY_SCRIPT = "_gate/pay.js"  # submits the form at once; without JavaScript, the button does


def redsys_page(page: PageContext, action: str, fields: Mapping[str, str], amount: str) -> str:
    """An auto-submitting form to Redsys' payment page with the signed fields."""
    _ = page._
    hidden = "".join(
        f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'
        for name, value in fields.items()
    )
    taking = _("We are taking you to the secure payment page of the bank.")
    to_pay, go = _("Amount to pay"), _("Continue to payment")
    body = (
        f"<p>{escape(taking)}</p>"
        f"<p>{escape(to_pay)}: <strong>{escape(amount)}</strong></p>"
        f'<form id="pay-redirect" method="post" action="{escape(action)}">{hidden}'
        f'<button type="submit" class="button">{escape(go)}</button>'
        f'</form><script src="{escape(page.url(PAY_SCRIPT))}"></script>'
    )
    return layout(page, _("Paying online"), body)
