"""What a provider's verified notification says, in one shape for both providers."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


class BadNotification(Exception):
    """A notification that is not the provider's (bad signature, malformed, stale)."""


@dataclass(frozen=True)
class Notice:
    provider: str  # redsys | stripe
    order: str  # our order id, as the provider echoes it
    transaction: str  # the provider's id of the transaction (one payment.received each)
    outcome: str  # paid | denied | pending | ignored
    amount: Decimal | None  # in major units of `currency`
    currency: str  # ISO 4217 ("" when the provider did not say)
    code: str = ""  # Redsys' Ds_Response, Stripe's event type
    method: str = ""  # card | bizum | sepa_debit, when the provider says
