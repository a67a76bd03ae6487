"""Messages that carry a link: the invitation, a new link after a reset, a link on request.

The access code never travels by email: when the customer uses one, the message only
says that the portal will ask for it and that it comes another way (phone, message).
Nothing here is given the code, so nothing here can leak it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Literal, Protocol

from portalgen.access.entry import RegistryEntry
from portalgen.config import Settings
from portalgen.domain.model import Customer
from portalgen.errors import MailError, PortalgenError
from portalgen.mail.mailer import Mailer
from portalgen.mail.message import make_address
from portalgen.storage import Storage, opened_once

Reason = Literal["invitation", "reset", "link", "requested"]
log = logging.getLogger("portalgen.mail")


@dataclass(frozen=True)
class PortalLink:
    url: str  # <gate base_url>/l/<token>
    expires: datetime


# Makes a fresh link for one contact of a customer (the gate's signed tokens).
LinkMaker = Callable[[RegistryEntry, str], PortalLink]


def compose_access_message(
    mailer: Mailer,
    reason: Reason,
    *,
    contact: str,
    link: PortalLink,
    language: str,
    customer_name: str = "",
    uses_code: bool = False,
    now: datetime | None = None,
) -> EmailMessage:
    """The invitation (``invitation``) or a fresh link (``reset``, ``link``, ``requested``)."""
    context = {
        "reason": reason,
        "customer_name": customer_name,
        "link": link,
        "uses_code": uses_code,
    }
    kind = "invitation" if reason == "invitation" else "new_link"
    to = [make_address(contact, customer_name)]
    return mailer.compose(kind, language, to, context, now=now)


def link_expiry(settings: Settings, entry: RegistryEntry, now: datetime | None = None) -> datetime:
    """When a link made now for `entry` stops working."""
    max_age = entry.link_max_age or settings.gate.link_max_age
    return (now or datetime.now(UTC)) + max_age


def make_link_sender(
    settings: Settings,
    storage: Storage | Callable[[], Storage],
    mailers: Callable[[], Mailer] | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Callable[[RegistryEntry, str, str], bool]:
    """`send_link(entry, contact, link)` for the gate's "email me a new link" page.

    Sends the ``requested`` message in the language of the customer's published portal,
    through a mailer of its own each time (the gate's threads share nothing). Never
    raises for a mail problem (the page answers the same whatever happens, so nobody
    learns whether an address is known): it logs it and returns False.
    """
    if mailers is None:
        from portalgen.mail.mailer import MailerFactory

        mailers = MailerFactory(settings)
    store = opened_once(storage)

    def send_link(entry: RegistryEntry, contact: str, link: str) -> bool:
        now = clock()
        try:
            with mailers() as mailer:
                message = compose_access_message(
                    mailer,
                    "requested",
                    contact=contact,
                    link=PortalLink(link, link_expiry(settings, entry, now)),
                    language=portal_language(settings, store(), entry),
                    uses_code=entry.access_code is not None,
                    now=now,
                )
                mailer.send(message)
        except PortalgenError as exc:
            log.warning("could not email a new link to a contact of %s: %s", entry.customer, exc)
            return False
        return True

    return send_link


def portal_language(settings: Settings, storage: Storage, entry: RegistryEntry) -> str:
    """The language of the customer's published portal (else the business's)."""
    from portalgen.presentation.catalogs import language_of
    from portalgen.publish.manifest import load_manifest

    try:
        manifest = load_manifest(storage, entry.customer_key)
    except ValueError:
        manifest = None
    return language_of(manifest.language if manifest is not None else "", settings)


class SignedLinks(Protocol):
    """What makes a contact's signed link (the access service of `portalgen.access`)."""

    def link_for(self, entry: RegistryEntry, email: str) -> LinkLike: ...


class LinkLike(Protocol):
    @property
    def email(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def expires(self) -> datetime: ...


def service_link_maker(service: SignedLinks) -> LinkMaker:
    """A LinkMaker that signs fresh links like `portalgen link` does."""

    def make_link(entry: RegistryEntry, contact: str) -> PortalLink:
        link = service.link_for(entry, contact)
        return PortalLink(link.url, link.expires)

    return make_link


@dataclass(frozen=True)
class Delivery:
    contact: str
    error: str = ""  # empty: sent (or written to the outbox)


def send_access_messages(
    mailer: Mailer,
    reason: Reason,
    links: Iterable[LinkLike],
    *,
    language: str,
    customer_name: str = "",
    uses_code: bool = False,
) -> list[Delivery]:
    """One message per contact's link; a failure is reported and the others still go."""
    deliveries = []
    for link in links:
        try:
            message = compose_access_message(
                mailer,
                reason,
                contact=link.email,
                link=PortalLink(link.url, link.expires),
                language=language,
                customer_name=customer_name,
                uses_code=uses_code,
            )
            mailer.send(message)
        except MailError as exc:
            deliveries.append(Delivery(link.email, str(exc)))
        else:
            deliveries.append(Delivery(link.email))
    return deliveries


def email_links(
    mailer: Mailer,
    storage: Storage,
    reason: Reason,
    entry: RegistryEntry,
    links: Iterable[LinkLike],
    customer: Customer | None = None,
) -> list[Delivery]:
    """Email the links `grant`, `reset` or `link` made, in the customer's language.

    With `customer` (from the export) the message greets them by name in their own
    language; without, it speaks the language of their published portal.
    """
    from portalgen.presentation.catalogs import language_of

    settings = mailer.settings
    if customer is not None:
        language = language_of(customer.language, settings)
        name = customer.display_name
    else:
        language, name = portal_language(settings, storage, entry), ""
    return send_access_messages(
        mailer,
        reason,
        links,
        language=language,
        customer_name=name,
        uses_code=entry.access_code is not None,
    )
