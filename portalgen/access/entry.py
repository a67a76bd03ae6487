"""An access-registry entry: who may open a customer's portal, as frozen data.

One entry per customer, stored as ``_access/<customer_key>.json`` (see registry.py).
Access is per contact: each email has its own `generation`, and a link or session is
good only while the customer is enabled, the contact is enabled and the generation in
the token is the contact's current one. Generations only ever grow, and contacts are
never removed (only disabled), so a link that died can never come back to life.

The transition methods (`granted`, `revoked`, `with_contact`, ...) return new entries
and keep those rules; they never touch storage.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from portalgen.errors import AccessError, StorageError

SCHEMA_VERSION = 1
_CUSTOMER_KEY = re.compile(r"[0-9a-f]{32}")


def new_customer_key() -> str:
    """A random 128-bit id (32 hex digits): nothing in it says who the customer is."""
    return secrets.token_hex(16)


def is_customer_key(value: str) -> bool:
    return isinstance(value, str) and bool(_CUSTOMER_KEY.fullmatch(value))


def normalize_email(email: str) -> str:
    address = email.strip().lower()
    if not re.fullmatch(r"[^@\s]+@[^@\s]+", address):
        raise AccessError(f"not an email address: {email!r}")
    return address


def utc_now() -> datetime:
    return datetime.now(UTC)


MAX_ENDED_SESSIONS = 32  # per contact; past this, signing out ends all their sessions


@dataclass(frozen=True)
class Contact:
    email: str  # normalized (lowercase)
    created_at: datetime
    generation: int = 1
    enabled: bool = True
    revoked_at: datetime | None = None
    # Sessions ended on the server: every session started before `sessions_after` ("sign
    # out everywhere"), and the sessions signed out one by one (session id → until when
    # it could have lasted; forgotten after that).
    sessions_after: datetime | None = None
    ended_sessions: Mapping[str, datetime] = field(default_factory=dict)

    def session_ended(self, sid: str, started: float) -> bool:
        """Whether the session `sid`, started at `started` (epoch seconds), was ended."""
        after = self.sessions_after
        if after is not None and started < after.timestamp():
            return True
        return sid in self.ended_sessions

    def signed_out(self, sid: str, until: datetime, now: datetime) -> Contact:
        """This contact with session `sid` ended (it could have lasted until `until`)."""
        ended = {s: u for s, u in self.ended_sessions.items() if u > now}
        ended[sid] = until
        if len(ended) > MAX_ENDED_SESSIONS:  # bounded: end them all instead
            return replace(self, sessions_after=now, ended_sessions={})
        return replace(self, ended_sessions=ended)


@dataclass(frozen=True)
class AttemptState:
    """Wrong access codes typed through one contact's link."""

    failed_attempts: int = 0  # in a row
    locked_until: datetime | None = None


@dataclass(frozen=True)
class AccessCode:
    """The stored side of an access code; hashing and checking are the gate's."""

    hash: str  # an argon2 hash, never the code
    set_at: datetime
    must_change: bool = True  # a temporary code staff gave out
    # Customer-wide: wrong codes in a row through any contact, and until when every
    # attempt is slowed down once they passed the ceiling (codes.py)
    failed_attempts: int = 0
    locked_until: datetime | None = None
    contacts: Mapping[str, AttemptState] = field(default_factory=dict)  # by contact email

    def attempts_of(self, email: str) -> AttemptState:
        return self.contacts.get(email, NO_ATTEMPTS)


NO_ATTEMPTS = AttemptState()


@dataclass(frozen=True)
class RegistryEntry:
    customer: str  # the customer code of the export
    customer_key: str
    created_at: datetime
    updated_at: datetime
    enabled: bool = False
    contacts: tuple[Contact, ...] = ()  # sorted by email
    access_code: AccessCode | None = None
    link_max_age: timedelta | None = None  # None: the configured gate.link_max_age
    granted_at: datetime | None = None
    revoked_at: datetime | None = None
    # the portal's language, kept by a revoke (which deletes the portal and its manifest)
    # so the gate's refusal pages still speak it
    language: str = ""
    version: int = field(default=SCHEMA_VERSION, repr=False)

    def contact(self, email: str) -> Contact | None:
        address = email.strip().lower()
        return next((c for c in self.contacts if c.email == address), None)

    def allows(self, email: str, generation: int) -> bool:
        """Whether a link or session of this contact at this generation is still good."""
        contact = self.contact(email)
        return (
            self.enabled
            and contact is not None
            and contact.enabled
            and contact.generation == generation
        )

    # -- transitions (pure) -------------------------------------------------------------------

    def granted(self, now: datetime) -> RegistryEntry:
        return self._changed(now, enabled=True, granted_at=now, revoked_at=None)

    def revoked(self, now: datetime, language: str = "") -> RegistryEntry:
        """Disabled, and every contact's generation bumped: every link and session dies.
        `language`: the portal's, remembered for the refusal pages."""
        contacts = tuple(replace(c, generation=c.generation + 1) for c in self.contacts)
        language = language or self.language
        return self._changed(
            now, enabled=False, revoked_at=now, contacts=contacts, language=language
        )

    def reset(self, now: datetime, email: str | None = None) -> RegistryEntry:
        """A new generation for one contact (or all): their old links and sessions die."""
        targets = {normalize_email(email)} if email else {c.email for c in self.contacts}
        self._require(targets)
        contacts = tuple(
            replace(c, generation=c.generation + 1) if c.email in targets else c
            for c in self.contacts
        )
        return self._changed(now, contacts=contacts)

    def with_contact(self, email: str, now: datetime) -> RegistryEntry:
        """Add a contact, or re-enable one (with a new generation: old links stay dead)."""
        address = normalize_email(email)
        current = self.contact(address)
        if current is None:
            added = Contact(address, created_at=now)
        elif current.enabled:
            return self
        else:
            added = replace(
                current, enabled=True, revoked_at=None, generation=current.generation + 1
            )
        others = [c for c in self.contacts if c.email != address]
        return self._changed(now, contacts=tuple(sorted([*others, added], key=_by_email)))

    def signed_out(
        self, email: str, now: datetime, *, sid: str | None = None, until: datetime | None = None
    ) -> RegistryEntry:
        """End one session of a contact (`sid`, which could last `until`), or every
        session they have now ("sign out everywhere"); links keep working."""
        address = normalize_email(email)
        self._require({address})

        def ended(c: Contact) -> Contact:
            if sid is not None and until is not None:
                return c.signed_out(sid, until, now)
            return replace(c, sessions_after=now, ended_sessions={})

        contacts = tuple(ended(c) if c.email == address else c for c in self.contacts)
        return self._changed(now, contacts=contacts)

    def without_contact(self, email: str, now: datetime) -> RegistryEntry:
        """Cut one contact off: disabled and a new generation; the others keep working."""
        address = normalize_email(email)
        self._require({address})
        contacts = tuple(
            replace(c, enabled=False, revoked_at=now, generation=c.generation + 1)
            if c.email == address
            else c
            for c in self.contacts
        )
        return self._changed(now, contacts=contacts)

    def _require(self, emails: set[str]) -> None:
        known = {c.email for c in self.contacts}
        missing = sorted(emails - known)
        if missing:
            raise AccessError(f"customer {self.customer} has no contact {missing[0]}")

    def _changed(self, now: datetime, **changes: Any) -> RegistryEntry:
        return replace(self, updated_at=now, **changes)


def new_entry(customer: str, now: datetime, customer_key: str | None = None) -> RegistryEntry:
    """A disabled entry with no contacts yet, under a new random customer_key."""
    if not customer.strip():
        raise AccessError("a customer code cannot be empty")
    key = customer_key or new_customer_key()
    if not is_customer_key(key):
        raise AccessError(f"not a customer key: {key!r}")
    return RegistryEntry(customer=customer, customer_key=key, created_at=now, updated_at=now)


def _by_email(contact: Contact) -> str:
    return contact.email


# -- JSON ----------------------------------------------------------------------------------


def entry_to_json(entry: RegistryEntry) -> bytes:
    data = {
        "version": SCHEMA_VERSION,
        "customer": entry.customer,
        "customer_key": entry.customer_key,
        "enabled": entry.enabled,
        "contacts": {c.email: _contact_to_json(c) for c in entry.contacts},
        "access_code": None if entry.access_code is None else _code_to_json(entry.access_code),
        "link_max_age": (
            None if entry.link_max_age is None else int(entry.link_max_age.total_seconds())
        ),
        "granted_at": _time(entry.granted_at),
        "revoked_at": _time(entry.revoked_at),
        "language": entry.language or None,
        "created_at": _time(entry.created_at),
        "updated_at": _time(entry.updated_at),
    }
    return json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"


def entry_from_json(data: bytes, where: str) -> RegistryEntry:
    """Parse a stored entry; a damaged one is a StorageError naming `where`."""
    try:
        raw = json.loads(data)
        if not isinstance(raw, dict):
            raise ValueError("expected a JSON object")
        version = raw.get("version")
        if isinstance(version, int) and version > SCHEMA_VERSION:
            raise StorageError(
                f"{where}: written by a newer portalgen (version {version}); upgrade portalgen"
            )
        if version != SCHEMA_VERSION:
            raise ValueError(f"unknown version {version!r}")
        return _entry(raw)
    except StorageError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        detail = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
        raise StorageError(f"{where}: not a valid access-registry entry ({detail})") from None


def _entry(raw: dict[str, Any]) -> RegistryEntry:
    key = raw["customer_key"]
    if not is_customer_key(key):
        raise ValueError(f"bad customer_key {key!r}")
    contacts = tuple(
        Contact(
            email=email,
            generation=_int(c["generation"]),
            enabled=_bool(c["enabled"]),
            created_at=_parse(c["created_at"]),
            revoked_at=_parse_optional(c.get("revoked_at")),
            sessions_after=_parse_optional(c.get("sessions_after")),
            ended_sessions={str(k): _parse(v) for k, v in c.get("ended_sessions", {}).items()},
        )
        for email, c in sorted(raw["contacts"].items())
    )
    code = raw.get("access_code")
    max_age = raw.get("link_max_age")
    return RegistryEntry(
        customer=str(raw["customer"]),
        customer_key=key,
        enabled=_bool(raw["enabled"]),
        contacts=contacts,
        access_code=None if code is None else _code_from_json(code),
        link_max_age=None if max_age is None else timedelta(seconds=_int(max_age)),
        granted_at=_parse_optional(raw.get("granted_at")),
        revoked_at=_parse_optional(raw.get("revoked_at")),
        language=str(raw.get("language") or ""),
        created_at=_parse(raw["created_at"]),
        updated_at=_parse(raw["updated_at"]),
    )


def _contact_to_json(c: Contact) -> dict[str, Any]:
    data: dict[str, Any] = {
        "generation": c.generation,
        "enabled": c.enabled,
        "created_at": _time(c.created_at),
        "revoked_at": _time(c.revoked_at),
    }
    if c.sessions_after is not None:
        data["sessions_after"] = _time(c.sessions_after)
    if c.ended_sessions:
        data["ended_sessions"] = {k: _time(v) for k, v in sorted(c.ended_sessions.items())}
    return data


def _code_to_json(code: AccessCode) -> dict[str, Any]:
    data: dict[str, Any] = {
        "hash": code.hash,
        "must_change": code.must_change,
        "failed_attempts": code.failed_attempts,
        "locked_until": _time(code.locked_until),
        "set_at": _time(code.set_at),
    }
    if code.contacts:
        data["contacts"] = {
            email: {"failed_attempts": a.failed_attempts, "locked_until": _time(a.locked_until)}
            for email, a in sorted(code.contacts.items())
        }
    return data


def _code_from_json(raw: dict[str, Any]) -> AccessCode:
    return AccessCode(
        hash=str(raw["hash"]),
        must_change=_bool(raw["must_change"]),
        failed_attempts=_int(raw["failed_attempts"]),
        locked_until=_parse_optional(raw.get("locked_until")),
        set_at=_parse(raw["set_at"]),
        contacts={
            str(email): AttemptState(
                failed_attempts=_int(a["failed_attempts"]),
                locked_until=_parse_optional(a.get("locked_until")),
            )
            for email, a in raw.get("contacts", {}).items()
        },
    )


def _time(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("registry timestamps must be timezone-aware (UTC)")
    return value.astimezone(UTC).isoformat()


def _parse(value: Any) -> datetime:
    parsed = datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp without a time zone: {value!r}")
    return parsed.astimezone(UTC)


def _parse_optional(value: Any) -> datetime | None:
    return None if value is None else _parse(value)


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"expected a whole number, found {value!r}")
    return value


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, found {value!r}")
    return value
