"""Helpers for the email tests: a demo office with granted customers and a published manifest.

`office(dir, smtp_server)` gives the settings (mail pointing at the test's SMTP server), the
export, the storage and a link maker. `grant(...)` enables customers in the access
registry the way `portalgen grant` does; `publish_paths(...)` writes a customer's manifest
listing every page its portal has (the notifications read only the manifest, and
rendering every PDF would cost seconds per customer). The end-to-end tests use the real
`portalgen publish` and the gate instead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from portalgen.access.entry import RegistryEntry
from portalgen.access.registry import AccessRegistry
from portalgen.config import Settings
from portalgen.domain.model import Export
from portalgen.mail.links import PortalLink
from portalgen.publish.manifest import write_portal
from portalgen.storage import Storage, open_storage
from tests.conftest import TODAY, demo_settings, load_demo

GRANTED = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)  # before every demo document that matters
NOW = datetime(2026, 6, 15, 5, 0, tzinfo=UTC)  # the nightly run, on TODAY
BASE_URL = "https://portal.levante.example"


@dataclass
class Office:
    directory: Path
    settings: Settings
    export: Export
    storage: Storage

    @property
    def registry(self) -> AccessRegistry:
        return AccessRegistry(self.storage)

    def entry(self, code: str) -> RegistryEntry:
        found = self.registry.find(code)
        assert found is not None
        return found

    def customer(self, code: str) -> Any:
        return next(c for c in self.export.customers if c.code == code)


def office(directory: Path, mail: dict[str, Any], storage: Storage | None = None) -> Office:
    settings = demo_settings(directory, mail=mail, gate={"base_url": BASE_URL})
    export = load_demo(directory, settings).export
    return Office(directory, settings, export, storage or open_storage(settings))


def plain_link(entry: RegistryEntry, contact: str) -> PortalLink:
    """Stands in for the gate's signed links where a test does not follow them."""
    return PortalLink(f"{BASE_URL}/l/test.{entry.customer_key}.{contact}", NOW + timedelta(days=30))


def grant(the_office: Office, codes: Iterable[str], when: datetime = GRANTED) -> None:
    registry = the_office.registry
    for code in codes:
        entry, _ = registry.get_or_create(code, when)
        emails = the_office.customer(code).emails

        def enable(e: RegistryEntry, emails: tuple[str, ...] = emails) -> RegistryEntry:
            for email in emails:
                e = e.with_contact(email, when)
            return e.granted(when)

        registry.update(entry.customer_key, enable)


def publish_paths(the_office: Office, codes: Iterable[str]) -> None:
    """Each customer's manifest as publish writes it: every page of their portal."""
    from portalgen.render import build_context, plan_portal

    context = build_context(the_office.settings, today=TODAY)
    by_code = the_office.export.by_customer()
    for code in codes:
        files = [
            (f.path, f"placeholder of {f.path}".encode(), f.content_type)
            for f in plan_portal(by_code[code], context)
        ]
        write_portal(the_office.storage, the_office.entry(code).customer_key, files)


def with_customers(export: Export, **changes: dict[str, Any]) -> Export:
    """The export with some customers changed: ``C00003={"notify": False}``."""
    customers = tuple(
        dataclasses.replace(c, **changes[c.code]) if c.code in changes else c
        for c in export.customers
    )
    return dataclasses.replace(export, customers=customers)


def body_text(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return "\n".join(str(part.get_content()).splitlines())


def body_html(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    assert part is not None
    return str(part.get_content())
