"""Quotes decided in the portal that the invoicing program does not know about yet.

A customer accepts a quote in the portal; the export still says "pending" until staff
enter the decision in the invoicing program. `portalgen check` lists such quotes (and
any quote the export and the portal disagree on) so staff update the program; the
portal keeps showing the customer's decision meanwhile. A decision `portalgen push`
already wrote into FacturaScripts is left out.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from portalgen.interact.decisions import DECISIONS_PREFIX, read_decision

if TYPE_CHECKING:
    from portalgen.domain.model import Export
    from portalgen.storage import Storage


@dataclass(frozen=True)
class UnsyncedDecision:
    customer: str
    quote: str
    decision: str  # in the portal: accepted | rejected
    export_status: str  # what the export says
    when: datetime
    who: str  # the name given, else the contact's email

    def message(self, zone: str) -> str:
        from zoneinfo import ZoneInfo

        day = self.when.astimezone(ZoneInfo(zone)).strftime("%d/%m/%Y %H:%M")
        portal = f"{self.decision} in the portal on {day} by {self.who}"
        if self.export_status == "pending":
            return (
                f"quote {self.quote} ({self.customer}): {portal}, but the export still "
                f"says pending; mark it {self.decision} in the invoicing program"
            )
        return (
            f"quote {self.quote} ({self.customer}): {portal}, but the export says "
            f"{self.export_status}; check which is right"
        )


def unsynced_decisions(export: Export, storage: Storage) -> list[UnsyncedDecision]:
    """Quotes of `export` whose portal decision the export does not show, by customer."""
    from portalgen.access.registry import AccessRegistry

    decided: dict[str, set[str]] = defaultdict(set)  # customer_key -> decided slugs
    for info in storage.list(DECISIONS_PREFIX):
        parts = info.key.split("/")
        if len(parts) == 3 and parts[2].endswith(".json"):
            decided[parts[1]].add(parts[2].removesuffix(".json"))
    if not decided:
        return []
    keys = AccessRegistry(storage).index()  # customer code -> customer_key
    found = []
    for quote in export.quotes:
        key = keys.get(quote.customer_code)
        if key is None or quote.slug not in decided.get(key, ()):
            continue
        record = read_decision(storage, key, quote.slug)
        if record is None or record.decision == quote.status or _pushed(storage, key, quote.slug):
            continue
        who = record.name or record.contact
        found.append(
            UnsyncedDecision(
                quote.customer_code, quote.number, record.decision, quote.status, record.when, who
            )
        )
    return found


def _pushed(storage: Storage, customer_key: str, slug: str) -> bool:
    """`portalgen push` wrote the decision into the invoicing program: the export shows
    it after the next fetch, nothing for staff to enter."""
    from portalgen.push.records import read_record, record_key

    record = read_record(storage, record_key("decisions", customer_key, slug))
    return record is not None and record.state == "done"
