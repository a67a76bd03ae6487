"""What staff do with access: grant, revoke, reset, fresh links, the list.

`AccessService` applies the entry's pure transitions through `AccessRegistry.update`
(compare-and-swap), signs links, keeps the email lookup for "email me a new link" and
records each action in the audit log. It never prints and never publishes: the CLI
does both around it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from portalgen.access import lookup
from portalgen.access.codes import code_problem, generate_code, new_access_code, with_code
from portalgen.access.entry import RegistryEntry, normalize_email, utc_now
from portalgen.access.registry import AccessRegistry
from portalgen.access.tokens import LinkClaims, TokenSigner, link_url
from portalgen.errors import AccessError

if TYPE_CHECKING:
    from portalgen.audit.events import AuditEvent
    from portalgen.audit.sinks import AuditSink
    from portalgen.storage import Storage

CodeMode = Literal["keep", "remove", "new"]


@dataclass(frozen=True)
class ContactLink:
    email: str
    url: str
    expires: datetime


@dataclass(frozen=True)
class AccessResult:
    entry: RegistryEntry
    links: tuple[ContactLink, ...] = ()
    code: str | None = None  # a new access code in clear: shown once, never stored
    created: bool = False


@dataclass(frozen=True)
class CodeRequest:
    mode: CodeMode = "keep"
    code: str | None = None  # with mode "new": the code staff typed; None generates one


@dataclass(frozen=True)
class AccessRow:
    customer: str
    enabled: bool
    emails: tuple[str, ...]
    disabled_emails: tuple[str, ...]
    uses_code: bool
    link_max_age: timedelta
    granted_at: datetime | None
    revoked_at: datetime | None
    last_visit: datetime | None

    def to_json(self) -> dict[str, Any]:
        def when(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "customer": self.customer,
            "enabled": self.enabled,
            "emails": list(self.emails),
            "disabled_emails": list(self.disabled_emails),
            "uses_code": self.uses_code,
            "link_max_age_seconds": int(self.link_max_age.total_seconds()),
            "granted_at": when(self.granted_at),
            "revoked_at": when(self.revoked_at),
            "last_visit": when(self.last_visit),
        }


class AccessService:
    def __init__(
        self,
        storage: Storage,
        signer: TokenSigner,
        *,
        base_url: str,
        link_max_age: timedelta,
        audit: AuditSink | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.storage = storage
        self.registry = AccessRegistry(storage)
        self.signer = signer
        self.base_url = base_url
        self.default_max_age = link_max_age
        self.audit = audit
        self.clock = clock

    # -- actions --------------------------------------------------------------------------------

    def grant(
        self,
        customer: str,
        emails: Sequence[str],
        *,
        code: CodeRequest = CodeRequest(),
        max_age: timedelta | None = None,
    ) -> AccessResult:
        """Enable a customer's portal for these contacts (added if new) and sign links."""
        addresses = sorted({normalize_email(e) for e in emails})
        if not addresses:
            raise AccessError(
                f"customer {customer} has no email address: add one in the invoicing program, "
                "or name one with --email"
            )
        now = self.clock()
        entry, created = self.registry.get_or_create(customer, now)
        plain, access_code = self._code(code, entry, now)

        def change(current: RegistryEntry) -> RegistryEntry:
            for address in addresses:
                current = current.with_contact(address, now)
            current = current if current.enabled else current.granted(now)
            if max_age is not None:
                current = replace(current, link_max_age=max_age, updated_at=now)
            if code.mode != "keep":
                current = with_code(current, access_code, now)
            return current

        entry = self.registry.update(entry.customer_key, change)
        for address in addresses:
            lookup.add_contact(self.storage, address, entry.customer_key)
        self._record("access.granted", entry, {"contacts": addresses, "code": _code_state(entry)})
        return AccessResult(entry, self._links(entry, addresses), plain, created)

    def revoke(self, customer: str, *, email: str | None = None) -> AccessResult:
        """Cut the customer off (or one contact): links and sessions die at once.

        A whole customer also loses their published portal (manifest and blobs), so a
        presigned URL handed out a moment before fails too. Decisions stay: they are
        records of what the customer did.
        """
        entry = self._require(customer)
        now = self.clock()
        if email is not None:
            address = normalize_email(email)
            entry = self.registry.update(
                entry.customer_key, lambda e: e.without_contact(address, now)
            )
            self._record("access.revoked", entry, {"contact": address})
            return AccessResult(entry)
        language = self._portal_language(entry.customer_key)
        entry = self.registry.update(entry.customer_key, lambda e: e.revoked(now, language))
        self.delete_portal(entry.customer_key)
        self._record("access.revoked", entry, {"contact": "*"})
        return AccessResult(entry)

    def _portal_language(self, customer_key: str) -> str:
        """The published portal's language ("" if none or unreadable)."""
        from portalgen.publish.manifest import load_manifest

        try:
            manifest = load_manifest(self.storage, customer_key)
        except ValueError:
            return ""
        return (manifest.language or "") if manifest is not None else ""

    def sign_out(self, customer: str, *, email: str | None = None) -> AccessResult:
        """End every session a contact (or each contact) has now, on every device: the
        gate refuses them at their next request. Their links keep working."""
        entry = self._require(customer)
        now = self.clock()
        targets = [normalize_email(email)] if email else [c.email for c in entry.contacts]

        def change(current: RegistryEntry) -> RegistryEntry:
            for address in targets:
                current = current.signed_out(address, now)
            return current

        entry = self.registry.update(entry.customer_key, change)
        self._record("access.signed_out", entry, {"contacts": targets})
        return AccessResult(entry)

    def _withdraw_documents(self, customer_key: str) -> None:
        """The portal's PDFs are no longer published: `/verify` still knows them for the
        retention period (verify.retention), counted from now."""
        from portalgen.publish.manifest import load_manifest
        from portalgen.verification import withdraw

        try:
            manifest = load_manifest(self.storage, customer_key)
        except (ValueError, KeyError, TypeError):
            return  # a damaged manifest: its documents cannot be told apart
        if manifest is not None:
            pdfs = [
                f.sha256 for f in manifest.files.values() if f.content_type == "application/pdf"
            ]
            withdraw(self.storage, pdfs, self.clock())

    def delete_portal(self, customer_key: str) -> int:
        """Delete everything under ``portals/<customer_key>/``; the manifest first, so a
        reader never finds a manifest whose files are gone. Publish's markers go before
        it (publish.markers): none may vouch for a portal that is gone."""
        from portalgen.publish.manifest import manifest_key, portal_prefix
        from portalgen.publish.markers import clear_markers

        self._withdraw_documents(customer_key)
        clear_markers(self.storage, customer_key)
        self.storage.delete(manifest_key(customer_key))
        keys = [info.key for info in self.storage.list(portal_prefix(customer_key))]
        self.storage.delete_many(keys)
        return len(keys) + 1

    def reset(
        self,
        customer: str,
        *,
        email: str | None = None,
        code: CodeRequest | None = None,
    ) -> AccessResult:
        """A new generation (old links and sessions die) and new links; a customer who
        uses an access code gets a new temporary one (unless `code` says otherwise)."""
        entry = self._require(customer, enabled=True)
        now = self.clock()
        if code is None:
            code = CodeRequest("new" if entry.access_code else "keep")
        plain, access_code = self._code(code, entry, now)

        def change(current: RegistryEntry) -> RegistryEntry:
            current = current.reset(now, email)
            return current if code.mode == "keep" else with_code(current, access_code, now)

        entry = self.registry.update(entry.customer_key, change)
        targets = [normalize_email(email)] if email else _enabled(entry)
        self._record("access.reset", entry, {"contacts": targets, "code": _code_state(entry)})
        return AccessResult(entry, self._links(entry, targets), plain)

    def links(self, customer: str, *, email: str | None = None) -> AccessResult:
        """Fresh links (same generation: links sent before keep working)."""
        entry = self._require(customer, enabled=True)
        targets = [normalize_email(email)] if email else _enabled(entry)
        return AccessResult(entry, self._links(entry, targets))

    def link_for(self, entry: RegistryEntry, email: str) -> ContactLink:
        contact = entry.contact(email)
        if contact is None or not contact.enabled or not entry.enabled:
            raise AccessError(f"{email} has no access to the portal of {entry.customer}")
        claims = LinkClaims(
            entry.customer_key, self.signer.contact_id(contact.email), contact.generation
        )
        expires = self.clock() + self.max_age(entry)
        return ContactLink(
            contact.email, link_url(self.base_url, self.signer.link_token(claims)), expires
        )

    def preview(self, customer: str, path: str = "") -> tuple[str, datetime]:
        """A staff preview link of an enabled customer's portal (read-only, 7 days),
        opening at `path`, and when it stops working."""
        from portalgen.access.preview import PREVIEW_MAX_AGE, preview_token, preview_url

        entry = self._require(customer, enabled=True)
        path = path.strip().lstrip("/").removeprefix("portal/")
        url = preview_url(self.base_url, preview_token(self.signer, entry), path)
        return url, self.clock() + PREVIEW_MAX_AGE

    def max_age(self, entry: RegistryEntry) -> timedelta:
        return entry.link_max_age or self.default_max_age

    def rows(self, last_visits: dict[str, datetime] | None = None) -> list[AccessRow]:
        visits = last_visits or {}
        return [
            AccessRow(
                customer=e.customer,
                enabled=e.enabled,
                emails=tuple(c.email for c in e.contacts if c.enabled),
                disabled_emails=tuple(c.email for c in e.contacts if not c.enabled),
                uses_code=e.access_code is not None,
                link_max_age=self.max_age(e),
                granted_at=e.granted_at,
                revoked_at=e.revoked_at,
                last_visit=visits.get(e.customer),
            )
            for e in self.registry.entries()
        ]

    # -- internals ------------------------------------------------------------------------------

    def _require(self, customer: str, *, enabled: bool = False) -> RegistryEntry:
        entry = self.registry.find(customer)
        if entry is None:
            raise AccessError(
                f"customer {customer} has never had portal access; "
                f"grant it with `portalgen grant {customer}`"
            )
        if enabled and not entry.enabled:
            raise AccessError(
                f"customer {customer}'s portal access was revoked; "
                f"grant it again with `portalgen grant {customer}`"
            )
        return entry

    def _links(self, entry: RegistryEntry, emails: Iterable[str]) -> tuple[ContactLink, ...]:
        return tuple(self.link_for(entry, email) for email in emails)

    def _code(
        self, request: CodeRequest, entry: RegistryEntry, now: datetime
    ) -> tuple[str | None, Any]:
        """(code in clear or None, the AccessCode to store) — hashed outside the CAS loop."""
        if request.mode != "new":
            return None, None
        if request.code is not None:
            if problem := code_problem(request.code):
                raise AccessError(f"the access code must have {problem}")
            return None, new_access_code(request.code, now, temporary=True)
        plain = generate_code()
        return plain, new_access_code(plain, now, temporary=True)

    def _record(self, kind: str, entry: RegistryEntry, data: dict[str, Any]) -> None:
        if self.audit is None:
            return
        from portalgen.audit.events import new_event

        event: AuditEvent = new_event(
            kind, entry.customer, contact="staff", data=data, now=self.clock()
        )
        self.audit.record(event)


def _enabled(entry: RegistryEntry) -> list[str]:
    return [c.email for c in entry.contacts if c.enabled]


def _code_state(entry: RegistryEntry) -> str:
    if entry.access_code is None:
        return "none"
    return "temporary" if entry.access_code.must_change else "set"


def last_visits(events: Iterable[AuditEvent]) -> dict[str, datetime]:
    """Customer code → the time of their latest visit in the audit log."""
    from portalgen.audit.events import VISIT_TYPES

    visits: dict[str, datetime] = {}
    for event in events:
        if event.type in VISIT_TYPES:
            when = event.when
            if event.customer not in visits or visits[event.customer] < when:
                visits[event.customer] = when
    return visits
