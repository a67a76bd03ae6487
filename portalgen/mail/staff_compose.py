"""What a staff notice says: one event's email, or one email listing a burst of them.

The notice goes to ``mail.staff_address`` and the customer's account manager, in the
business's language, with Reply-To set to the customer's contact. Each event is told the
same way alone or in a list (`templates/email/_staff_item.*`): who did what and when,
the text they wrote (escaped in the HTML part, quoted in the text part), the evidence a
decision keeps, and a staff preview link of the document.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from portalgen.errors import MailError, PortalgenError
from portalgen.slots import certificate_path
from portalgen.textsafe import without_controls

if TYPE_CHECKING:
    from email.headerregistry import Address
    from email.message import EmailMessage

    from portalgen.audit.events import AuditEvent
    from portalgen.config import Settings
    from portalgen.mail.mailer import Mailer
    from portalgen.storage import Storage

log = logging.getLogger("portalgen.mail")

# A staff preview link of a path in the event's customer's portal, or None
PreviewLinks = Callable[["AuditEvent", str], "str | None"]


@dataclass(frozen=True)
class CustomerInfo:
    """What a staff notice says about the customer (from the export, or the gate's view)."""

    name: str = ""
    account_manager: str = ""


def is_action(event: AuditEvent) -> bool:
    from portalgen.audit.events import ACTION_TYPES

    return event.type in ACTION_TYPES


def staff_recipients(settings: Settings, account_manager: str = "") -> list[Address]:
    from portalgen.mail.message import make_address, parse_addresses

    found = parse_addresses(settings.mail.staff_address)
    if account_manager.strip():
        try:
            manager = make_address(account_manager)
        except MailError:
            log.warning("account manager %r is not an email address", account_manager)
        else:
            if manager.addr_spec.lower() not in {a.addr_spec.lower() for a in found}:
                found.append(manager)
    return found


def compose_staff_notice(
    mailer: Mailer,
    event: AuditEvent,
    info: CustomerInfo = CustomerInfo(),
    *,
    now: datetime | None = None,
    document_url: str | None = None,
    certificate_url: str | None = None,
) -> EmailMessage | None:
    """The notice of a decision or comment; None when nobody is configured to receive it.
    `document_url` is the staff preview of the document (see `preview_links`);
    without it, the document's address in the portal. A decision's notice gives the
    evidence the gate kept; an acceptance's, where its acceptance certificate will be
    (`certificate_url`, the staff preview of it; the next publish renders it)."""
    from portalgen.presentation.catalogs import language_of

    settings = mailer.settings
    to = staff_recipients(settings, info.account_manager)
    if not is_action(event) or not to:
        return None
    language = language_of("", settings)
    item = event_context(settings, event, info, language, document_url, certificate_url)
    context = {**item, "item": item}
    reply_to = _reply_to([event])
    return mailer.compose("staff_event", language, to, context, reply_to=reply_to, now=now)


def compose_staff_batch(
    mailer: Mailer,
    events: Sequence[AuditEvent],
    info: CustomerInfo = CustomerInfo(),
    *,
    now: datetime | None = None,
    links: PreviewLinks | None = None,
) -> EmailMessage | None:
    """One notice listing several events of one customer, oldest first (a burst held
    by `mail.staff_batch`); a single event gets the notice of its own kind."""
    from portalgen.presentation.catalogs import language_of

    settings = mailer.settings
    told = [e for e in events if is_action(e)]
    to = staff_recipients(settings, info.account_manager)
    if not told or not to:
        return None
    if len(told) == 1:
        event = told[0]
        url, certificate = _links_of(event, links)
        return compose_staff_notice(
            mailer, event, info, now=now, document_url=url, certificate_url=certificate
        )
    language = language_of("", settings)
    items = [event_context(settings, e, info, language, *_links_of(e, links)) for e in told]
    context = {
        "customer_label": items[0]["customer_label"],
        "items": items,
        "count": len(items),
        "decisions": any(e.type.startswith("quote.") for e in told),
        "uploads": any(e.type.startswith("upload.") for e in told),
    }
    reply_to = _reply_to(told)
    return mailer.compose("staff_batch", language, to, context, reply_to=reply_to, now=now)


def _links_of(event: AuditEvent, links: PreviewLinks | None) -> tuple[str | None, str | None]:
    """The staff preview of the event's document, and of an acceptance's certificate."""
    if links is None:
        return None, None
    certificate = None
    if event.type == "quote.accepted" and event.data.get("slug"):
        certificate = links(event, certificate_path(str(event.data["slug"])))
    return links(event, event.document), certificate


def _reply_to(events: Sequence[AuditEvent]) -> list[Address]:
    """The contacts' addresses alone (the name is what a customer typed: see typed_name);
    several when several contacts of the customer wrote, each once."""
    from portalgen.mail.message import make_address

    found: list[Address] = []
    for event in events:
        try:
            address = make_address(event.contact)
        except MailError:
            continue
        if address.addr_spec.lower() not in {a.addr_spec.lower() for a in found}:
            found.append(address)
    return found


def event_context(
    settings: Settings,
    event: AuditEvent,
    info: CustomerInfo,
    language: str,
    document_url: str | None = None,
    certificate_url: str | None = None,
) -> dict[str, Any]:
    """What the templates say of one event (`_staff_item.*`)."""
    data = event.data
    label = f"{info.name} ({event.customer})" if info.name else event.customer
    name = typed_name(data.get("name", ""))
    context: dict[str, Any] = {
        "event_type": event.type,
        "customer_label": label,
        "who": f"{name} <{event.contact}>" if name else event.contact,
        "number": str(data.get("quote") or data.get("number") or _slug(event.document)),
        "document_label": _document_label(event.document, data, language),
        "document_url": document_url or _document_url(settings, event.document),
        "reason": str(data.get("reason") or "") if event.type == "quote.rejected" else "",
        "text": str(data.get("comment") or data.get("text") or ""),
        "when": event.when,
        "pdf_sha256": str(data.get("pdf_sha256") or ""),
        "signature": str(data.get("signature") or ""),
        "signature_sha256": str(data.get("signature_sha256") or ""),
        "certificate_url": "",
        **_payment_context(event),
        **_upload_context(data),
    }
    if event.type == "quote.accepted" and data.get("slug"):
        path = certificate_path(str(data["slug"]))
        context["certificate_url"] = certificate_url or _document_url(settings, path)
    return context


def _payment_context(event: AuditEvent) -> dict[str, str]:
    """What a payment notice says: the amount, the provider and its transaction, why
    portalgen refused a notification or the provider declined the payment."""
    if not event.type.startswith("payment."):
        return {}
    data = event.data
    return {
        "amount": f"{data.get('amount') or ''} {data.get('currency') or ''}".strip(),
        "provider": str(data.get("provider") or ""),
        "transaction": str(data.get("transaction") or ""),
        "number": str(data.get("invoice") or ""),
        "reason": str(data.get("reason") or data.get("code") or ""),
    }


def _upload_context(data: Mapping[str, Any]) -> dict[str, str]:
    """What a notice of a proof of payment names: the file, its id, what ClamAV found."""
    size = data.get("size")
    shown = f"{typed_name(data.get('filename', ''))} ({int(size) // 1024 + 1} KB)" if size else ""
    return {
        "upload_file": shown,
        "upload_id": str(data.get("upload") or ""),
        "virus": typed_name(data.get("virus", "")),
    }


def _slug(document: str) -> str:
    return document.rsplit("/", 1)[-1].removesuffix(".html")


_NOT_IN_NAMES = re.compile(r"[<>\"@,;:\\]")


def typed_name(value: object) -> str:
    """The name a customer typed, as the body of a staff notice shows it: one line of
    at most 80 characters, without control characters nor ``< > " @ , ; : \\``, so it
    cannot read like an address (``"boss@company.example" <x>``) nor add a line. It is
    left out of the Reply-To header: staff reply to the contact's address alone."""
    text = _NOT_IN_NAMES.sub(" ", without_controls(str(value)))
    return " ".join(text.split())[:80].strip()


def _document_label(document: str, data: Mapping[str, Any], language: str) -> str:
    """``factura F2026A-00021`` for ``invoices/F2026A-00021.html``, in `language`."""
    from portalgen.presentation.catalogs import translations

    if not document:
        return ""
    gettext = translations(language).gettext
    folder = document.split("/", 1)[0]
    name = str(data.get("number") or _slug(document))
    labels = {
        "quotes": gettext("quote %(number)s"),
        "orders": gettext("order %(number)s"),
        "delivery-notes": gettext("delivery note %(number)s"),
        "invoices": gettext("invoice %(number)s"),
        "documents": gettext("the document %(number)s"),
    }
    if folder == "documents":
        name = document.rsplit("/", 1)[-1]
    return labels.get(folder, "%(number)s") % {"number": name}


def _document_url(settings: Settings, document: str) -> str:
    base = settings.gate.base_url.rstrip("/")
    return f"{base}/portal/{document}" if document else f"{base}/portal/"


def preview_links(settings: Settings, storage: Storage) -> PreviewLinks:
    """`links(event, path)`: a staff preview link of `path` in the event's customer's
    portal (staff have no customer session, so the portal's own address would only ask
    them for a link); None when none can be made (the customer revoked, no secret).
    Each customer's token is made once (a burst of events shares it)."""
    tokens: dict[str, str | None] = {}

    def link(event: AuditEvent, path: str) -> str | None:
        from portalgen.access.preview import preview_url

        if event.customer not in tokens:
            tokens[event.customer] = _preview_token(settings, storage, event)
        token = tokens[event.customer]
        return None if token is None else preview_url(settings.gate.base_url, token, path)

    return link


def _preview_token(settings: Settings, storage: Storage, event: AuditEvent) -> str | None:
    from portalgen.access.preview import preview_token
    from portalgen.access.registry import AccessRegistry
    from portalgen.access.secret import load_secrets
    from portalgen.access.tokens import TokenSigner

    try:
        entry = AccessRegistry(storage).find(event.customer)
        if entry is None or not entry.enabled:
            return None
        signer = TokenSigner(load_secrets(settings.secret_file))
    except PortalgenError as exc:
        log.warning("no staff preview link in the notice of %s: %s", event.id, exc)
        return None
    return preview_token(signer, entry)


def stored_customer_info(storage: Storage) -> Callable[[AuditEvent], CustomerInfo]:
    """Who an event's customer is, from the notification record the nightly run keeps
    (``_notify/<customer_key>.json``): the gate's way to find the account manager."""
    from portalgen.access.registry import AccessRegistry
    from portalgen.mail.state import StateStore

    def info(event: AuditEvent) -> CustomerInfo:
        try:
            entry = AccessRegistry(storage).find(event.customer)
            if entry is None:
                return CustomerInfo()
            state, _ = StateStore(storage).load(entry.customer_key, entry.customer)
        except PortalgenError as exc:
            log.warning("no customer details for the notice of %s: %s", event.id, exc)
            return CustomerInfo()
        return CustomerInfo(state.name, state.account_manager)

    return info
