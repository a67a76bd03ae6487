"""What the customer reads when a proof of payment is not taken (views_upload.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from portalgen.gate.pages import PageContext

STATUS = {
    "proof-missing": 400,
    "proof-type": 415,
    "proof-too-large": 413,
    "proof-infected": 422,
    "proof-unknown": 404,
    "proof-not-received": 409,
    "proof-expired": 410,
    "proof-unavailable": 503,
}


def upload_messages(page: PageContext, kind: str) -> tuple[str, str] | None:
    """Title and message of a refused proof of payment (None: not such a refusal)."""
    _ = page._
    texts = {
        "proof-missing": (
            _("No file was sent"),
            _("Choose the proof of payment from your bank, then send it."),
        ),
        "proof-type": (
            _("We cannot take this file"),
            _("Send the proof of payment as a PDF, JPEG or PNG file, as your bank gives it."),
        ),
        "proof-too-large": (
            _("This file is too large"),
            _("A proof of payment can be up to 10 MB. Send a smaller file."),
        ),
        "proof-infected": (
            _("We cannot take this file"),
            _(
                "Our virus scanner flagged this file, so we have kept it apart and told our "
                "staff. Please send the proof from your bank again, or contact us."
            ),
        ),
        "proof-unknown": (
            _("Invoice not found"),
            _("There is no such unpaid invoice in your portal."),
        ),
        "proof-not-received": (
            _("Your file did not arrive"),
            _("We did not receive the file. Please send it again."),
        ),
        "proof-expired": (
            _("The page was open for too long"),
            _("Reload the invoice's page and send the proof of payment again."),
        ),
        "proof-unavailable": (
            _("Please try again later"),
            _("We cannot check files right now. Please send the proof again in a while."),
        ),
    }
    return texts.get(kind)
