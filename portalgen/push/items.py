"""What there is to push: decisions and comments from storage, payments from the audit log.

Decisions of quotes the export did not name in FacturaScripts (a CSV bundle) are not
FacturaScripts' and are left out. Items whose ``_push/`` record is final (done or
skipped) are left out too, from one listing of ``_push/``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from portalgen.interact.comments import COMMENTS_PREFIX, SHARED_FILES, CommentRecord
from portalgen.interact.decisions import QuoteFacts, parse_quote_index, read_decision
from portalgen.push.plans import CommentItem, DecisionItem
from portalgen.push.receipts import PaymentItem
from portalgen.push.records import FINAL, PUSH_PREFIX, read_record, record_key
from portalgen.slots import DOCUMENT_PAGE, QUOTES_INDEX

if TYPE_CHECKING:
    from portalgen.storage import Storage

Item = DecisionItem | CommentItem | PaymentItem
PAYMENT_EVENT = "payment.received"
log = logging.getLogger("portalgen.push")


def item_key(item: Item) -> str:
    if isinstance(item, DecisionItem):
        return record_key("decisions", item.customer_key, item.record.slug)
    if isinstance(item, CommentItem):
        return record_key("comments", item.customer_key, item.record.id)
    return record_key("payments", item.event_id)


class Collector:
    def __init__(self, storage: Storage) -> None:
        from portalgen.access.registry import AccessRegistry

        self.storage = storage
        index = AccessRegistry(storage).index()
        self.codes = {key: code for code, key in index.items()}  # customer_key → code
        self.recorded = {info.key for info in storage.list(PUSH_PREFIX)}
        self._indexes: dict[str, dict[str, QuoteFacts]] = {}

    def pending(self, items: Iterator[Item]) -> Iterator[Item]:
        """The items not pushed (nor skipped) yet."""
        for item in items:
            key = item_key(item)
            if key in self.recorded:
                record = read_record(self.storage, key)
                if record is not None and record.state in FINAL:
                    continue
            yield item

    def decisions(self) -> Iterator[DecisionItem]:
        from portalgen.publish.decisions import list_decisions

        for customer_key, keys in sorted(list_decisions(self.storage).items()):
            code = self.codes.get(customer_key)
            if code is None:
                continue  # no customer any more (revoked and removed)
            for key in keys:
                slug = key.rsplit("/", 1)[1].removesuffix(".json")
                record = read_decision(self.storage, customer_key, slug)
                if record is None:
                    continue  # deleted since listed, or damaged (publish reports it)
                published = dict(record.extra.get("published") or {})
                if not published.get("source_id"):
                    facts = self.quote_index(customer_key).get(slug)
                    published = facts.published() if facts is not None else {}
                if published.get("source_id"):
                    yield DecisionItem(code, customer_key, record, published)

    def comments(self) -> Iterator[CommentItem]:
        for info in sorted(self.storage.list(COMMENTS_PREFIX), key=lambda i: i.key):
            parts = info.key.split("/")
            code = self.codes.get(parts[1]) if len(parts) == 4 else None
            raw = self.storage.get(info.key) if code is not None else None
            if code is None or raw is None:
                continue
            try:
                record = CommentRecord.from_json(raw)
            except ValueError:
                log.warning("push: %s is not a comment; left out", info.key)
                continue
            number = self._number(parts[1], record.document)
            yield CommentItem(code, parts[1], record, number)

    def _number(self, customer_key: str, document: str) -> str:
        match = DOCUMENT_PAGE.match(document)
        if match is None:
            return document.removeprefix(SHARED_FILES) if document else ""
        slug = document.rsplit("/", 1)[1].removesuffix(".html")
        if match.group(1) == "quotes":
            facts = self.quote_index(customer_key).get(slug)
            return facts.number if facts is not None else slug
        return slug

    def quote_index(self, customer_key: str) -> dict[str, QuoteFacts]:
        """The customer's ``_live/quotes.json`` as last published."""
        from portalgen.publish.manifest import blob_key, load_manifest

        if customer_key not in self._indexes:
            found: dict[str, QuoteFacts] = {}
            manifest = load_manifest(self.storage, customer_key)
            entry = manifest.get(QUOTES_INDEX) if manifest is not None else None
            raw = self.storage.get(blob_key(customer_key, entry.sha256)) if entry else None
            if raw is not None:
                try:
                    found = parse_quote_index(raw)
                except ValueError:
                    log.warning("push: the quote index of %s is damaged", customer_key)
            self._indexes[customer_key] = found
        return self._indexes[customer_key]


def payments(audit_path: Path) -> Iterator[PaymentItem]:
    """``payment.received`` events of the staff's audit log."""
    from portalgen.audit.log import AuditLog

    for event in AuditLog(audit_path).events():
        if event.type != PAYMENT_EVENT:
            continue
        if not {"invoice", "receipt", "amount", "currency"} <= set(event.data):
            log.warning("push: payment event %s lacks invoice, receipt or amount", event.id)
            continue
        when = datetime.fromisoformat(event.ts.replace("Z", "+00:00"))
        yield PaymentItem(event.customer, event.id, when, event.document, dict(event.data))
