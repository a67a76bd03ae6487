"""Quote decisions: what may be decided, and the record that makes the first one win.

The renderer publishes ``_live/quotes.json`` with every quote's status and valid-until
date (slots.QUOTES_INDEX). A decision is allowed on a quote of that index that was
pending when published, is still valid today, has no decision yet, and whose PDF is the
one the customer saw (the form's ``pdf_sha256`` equals the published PDF's SHA-256).

The decision is ``_decisions/<customer_key>/<slug>.json``, created if absent (an exclusive
create in a folder, ``If-None-Match: *`` on S3): whoever writes it first wins, also
across processes and machines. Publishing reads the same record to render the decided
quote (publish/decisions.py)::

    {"version": 1, "quote": "<number>", "slug": "<slug>", "decision": "accepted",
     "ts": "<UTC ISO 8601>", "contact": "<email>", "name": "...", "comment": "...",
     "pdf_sha256": "<hex>", "event_id": "<ulid>"}

A rejection's reason is its "comment" (followed by the optional comment, if any). A quote
from an export that names the invoicing program's own records (FacturaScripts) adds
``"published": {"total", "currency", "source_id", "source_state"}``: the quote as the
customer saw it, which `portalgen push` checks the program still holds (portalgen/push/).
Since issue 17 a record also has ``"evidence": {...}`` (interact/evidence.py): the PDF's
fingerprint, name and contact, UTC and local time, the client address's keyed hash, the
user agent, the terms shown and the drawn signature's SHA-256.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from portalgen.errors import PortalgenError
from portalgen.interact.evidence import (
    EVIDENCE_KEY,
    Evidence,
    SignatureRefused,
    parse_signature,
)
from portalgen.slots import COMMENT_LIMIT, NAME_LIMIT, SIGNATURE_FIELD

if TYPE_CHECKING:
    from portalgen.storage import Storage

DECISIONS_PREFIX = "_decisions/"
# `audit pull` gives a decision whose event was lost its event (interact/recover.py):
# it looks at decisions written between LOOKBACK and SETTLE ago (younger ones may still
# have their event on the way; older ones were checked by earlier pulls).
SETTLE = timedelta(minutes=10)
LOOKBACK = timedelta(days=7)
DECISION_VERSION = 1
DECISIONS = ("accepted", "rejected")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class ActionRefused(PortalgenError):
    """A decision or comment that cannot be taken, and why (`kind`, see gate/errors.py).

    `params` fill the customer's message (a quote number, a date); `record` is the decision
    that stands when the quote was decided already."""

    def __init__(
        self,
        kind: str,
        detail: str = "",
        *,
        params: Mapping[str, str] | None = None,
        record: DecisionRecord | None = None,
    ) -> None:
        super().__init__(detail or kind)
        self.kind = kind
        self.params = dict(params or {})
        self.record = record


def decision_key(customer_key: str, slug: str) -> str:
    return f"{DECISIONS_PREFIX}{customer_key}/{slug}.json"


def clean_text(value: str, limit: int, what: str) -> str:
    """Form text as stored: newlines normalised, control characters dropped, trimmed;
    ActionRefused("too-long") past `limit` characters."""
    text = _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n")).strip()
    if len(text) > limit:
        detail = f"{what} of {len(text)} characters"
        raise ActionRefused("too-long", detail, params={"limit": str(limit)})
    return text


# -- the published quotes -----------------------------------------------------------------------


@dataclass(frozen=True)
class QuoteFacts:
    slug: str
    number: str
    status: str  # as published: pending, accepted, rejected, expired
    valid_until: date | None
    total: str = ""  # as published ("1210.00"); "" from an index written before it had it
    currency: str = ""
    source_id: str = ""  # the invoicing program's id of the quote, if the export has one
    source_state: str = ""  # and its state id there when published
    terms: str = ""  # the terms shown before the decision forms ("" in an older index)

    def published(self) -> dict[str, str]:
        """What the customer saw, kept in the decision record so `portalgen push` can
        tell whether the invoicing program still holds the same quote."""
        if not self.source_id:
            return {}
        return {
            "total": self.total,
            "currency": self.currency,
            "source_id": self.source_id,
            "source_state": self.source_state,
        }


def parse_quote_index(raw: bytes) -> dict[str, QuoteFacts]:
    """slug → facts from ``_live/quotes.json``; ValueError if it is not one."""
    try:
        data = json.loads(raw)
        if data.get("version") != 1:
            raise ValueError(f"unsupported quote index version {data.get('version')!r}")
        return {str(slug): _facts(str(slug), q) for slug, q in data["quotes"].items()}
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"not a quote index: {exc}") from None


def _facts(slug: str, q: Mapping[str, Any]) -> QuoteFacts:
    source = q.get("source") or {}
    return QuoteFacts(
        slug,
        str(q["number"]),
        str(q["status"]),
        date.fromisoformat(q["valid_until"]) if q.get("valid_until") else None,
        str(q.get("total") or ""),
        str(q.get("currency") or ""),
        str(source.get("id") or ""),
        str(source.get("state") or ""),
        str(q.get("terms") or ""),
    )


# -- the decision -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DecisionForm:
    """What the customer posted, cleaned and checked for length."""

    decision: str  # accepted | rejected
    pdf_sha256: str
    name: str = ""
    reason: str = ""
    comment: str = ""
    signature: bytes = b""  # a drawn signature's PNG, checked (interact.evidence)

    @classmethod
    def parse(cls, decision: str, form: Mapping[str, str]) -> DecisionForm:
        """The form cleaned; ActionRefused for what a person must fix: an acceptance
        without the full name (it signs), a rejection without a reason, text too long,
        a drawn signature that is not a small PNG."""
        name = " ".join(clean_text(form.get("name", ""), NAME_LIMIT, "name").split())
        reason = clean_text(form.get("reason", ""), COMMENT_LIMIT, "reason")
        comment = clean_text(form.get("comment", ""), COMMENT_LIMIT, "comment")
        if decision == "accepted" and not name:
            raise ActionRefused("name-missing", "an acceptance without a name")
        if decision == "rejected" and not reason:
            raise ActionRefused("reason-missing", "a rejection without a reason")
        try:
            signature = parse_signature(form.get(SIGNATURE_FIELD, ""))
        except SignatureRefused as exc:
            raise ActionRefused(exc.kind, str(exc)) from None
        sha = form.get("pdf_sha256", "").strip().lower()
        return cls(decision, sha, name, reason, comment, signature)

    @property
    def text(self) -> str:
        """The record's "comment": the reason for a rejection, then any comment."""
        return "\n\n".join(t for t in (self.reason, self.comment) if t)


@dataclass(frozen=True)
class DecisionRecord:
    quote: str
    slug: str
    decision: str
    ts: str
    contact: str
    name: str = ""
    comment: str = ""
    pdf_sha256: str = ""
    event_id: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)  # keys a newer writer added

    @property
    def when(self) -> datetime:
        return datetime.fromisoformat(self.ts.replace("Z", "+00:00"))

    @property
    def evidence(self) -> Evidence | None:
        """The evidence kept with the decision (None in a record written before it was)."""
        return Evidence.from_dict(self.extra.get(EVIDENCE_KEY) or {})

    def to_json(self) -> bytes:
        body = {
            **self.extra,
            "version": DECISION_VERSION,
            "quote": self.quote,
            "slug": self.slug,
            "decision": self.decision,
            "ts": self.ts,
            "contact": self.contact,
            "name": self.name,
            "comment": self.comment,
            "pdf_sha256": self.pdf_sha256,
            "event_id": self.event_id,
        }
        return json.dumps(body, ensure_ascii=False, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> DecisionRecord:
        try:
            data = json.loads(raw)
            if data.get("version") != DECISION_VERSION or data["decision"] not in DECISIONS:
                raise ValueError("not a version 1 decision")
            known = {"version", *cls.__dataclass_fields__} - {"extra"}
            return cls(
                **{k: str(data[k]) for k in ("quote", "slug", "decision", "ts", "contact")},
                **{k: str(data.get(k, "")) for k in ("name", "comment", "pdf_sha256", "event_id")},
                extra={k: v for k, v in data.items() if k not in known},
            )
        except (KeyError, TypeError, AttributeError, UnicodeDecodeError) as exc:
            raise ValueError(f"not a quote decision: {exc}") from None


def read_decision(storage: Storage, customer_key: str, slug: str) -> DecisionRecord | None:
    """The decision standing for a quote; a damaged record counts as none (logged by
    publishing, which reports it)."""
    raw = storage.get(decision_key(customer_key, slug))
    if raw is None:
        return None
    try:
        return DecisionRecord.from_json(raw)
    except ValueError:
        return None


def check_decidable(facts: QuoteFacts, pdf_sha256: str, published_pdf: str, today: date) -> None:
    """Raise ActionRefused unless the quote may be decided today from a page that showed
    the PDF `pdf_sha256` (the form's field). Checked before the rest of the form: a
    quote that cannot be decided says so, whatever the form holds."""
    params = {"number": facts.number}
    if facts.status in DECISIONS:  # decided in the invoicing program
        raise ActionRefused(f"quote-{facts.status}", "decided in the export", params=params)
    expired = facts.valid_until is not None and facts.valid_until < today
    if facts.status == "expired" or expired:
        day = facts.valid_until.strftime("%d/%m/%Y") if facts.valid_until else ""
        raise ActionRefused("quote-expired", "expired", params={**params, "date": day})
    if facts.status != "pending":
        raise ActionRefused("quote-unknown", f"status {facts.status!r}", params=params)
    if pdf_sha256.strip().lower() != published_pdf:
        raise ActionRefused("quote-changed", "the PDF changed since the page", params=params)


def store_decision(
    storage: Storage, customer_key: str, record: DecisionRecord
) -> tuple[bool, DecisionRecord | None]:
    """Create the decision if there is none: (True, record) if this one now stands,
    (False, the standing one) if another came first.

    A conditional write retried after a network error may answer False although it
    landed, so the object is read back: if it carries our event id, it is ours."""
    key = decision_key(customer_key, record.slug)
    if storage.put_if_absent(key, record.to_json(), "application/json"):
        return True, record
    standing = read_decision(storage, customer_key, record.slug)
    if standing is not None and standing.event_id == record.event_id:
        return True, standing
    return False, standing
