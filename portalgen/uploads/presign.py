"""How a browser uploads a proof straight to S3, and how the gate knows it asked for it.

Lambda and API Gateway cannot take a 10 MB body, so on S3 the gate hands the browser a
presigned POST (S3Storage.presigned_post): its policy fixes the key
(``_uploads/<customer_key>/incoming/<id>``), the Content-Type the customer chose and a
length of 1 byte to 10 MB; S3 itself refuses a larger file, another type, another key.

The browser then reports the upload to the gate with the `ticket` it was given: a MAC
(the gate's secrets) of the customer, the upload id, the invoice, the type, the name and
when it was issued. A ticket is good for its own customer and invoice only, and for
TICKET_MAX_AGE seconds; the gate then reads the object back and checks it (check.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

TICKET_PURPOSE = "upload.ticket"
TICKET_MAX_AGE = 3600  # seconds from the presigned POST to the report
POST_EXPIRES = 900  # seconds the presigned POST itself is valid


@dataclass(frozen=True)
class Ticket:
    customer_key: str
    upload_id: str
    invoice: str
    content_type: str
    filename: str
    issued: int  # epoch seconds

    def message(self) -> str:
        parts = (self.customer_key, self.upload_id, self.invoice, self.content_type)
        return "\n".join((*parts, self.filename, str(self.issued)))


Mac = Callable[[str, str], str]
CheckMac = Callable[[str, str, str], bool]


def sign_ticket(ticket: Ticket, mac: Mac) -> str:
    return mac(TICKET_PURPOSE, ticket.message())


def ticket_holds(ticket: Ticket, signature: str, check: CheckMac, now: float) -> bool:
    """Whether `signature` is the gate's for this ticket, and the ticket still young."""
    if not signature or len(signature) > 128:
        return False
    if not 0 <= now - ticket.issued <= TICKET_MAX_AGE:
        return False
    return check(TICKET_PURPOSE, ticket.message(), signature)
