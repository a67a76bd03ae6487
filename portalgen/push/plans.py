"""What to write in FacturaScripts for each thing the portal recorded, after reading it back.

Each item reads its record through the API and answers a `Plan`: the form fields to PUT
(for a payment of several receipts, one such plan per receipt: receipts.py),
or why it is skipped (the record changed in FacturaScripts since the portal published
it), or that the write already landed (its ``[portalgen <id>]`` reference is there: a
push interrupted after the request).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from portalgen.domain.model import round_money
from portalgen.interact.comments import CommentRecord
from portalgen.interact.decisions import DecisionRecord
from portalgen.push.client import FacturaScriptsApi
from portalgen.push.notes import NoteWriter, append, marker
from portalgen.push.states import QuoteStates
from portalgen.slots import DOCUMENT_PAGE

# portal folder → FacturaScripts API resource (APIModel::pluralize of the model's name)
# and the model's primary key
RESOURCES = {
    "quotes": ("presupuestoclientes", "idpresupuesto"),
    "orders": ("pedidoclientes", "idpedido"),
    "delivery-notes": ("albaranclientes", "idalbaran"),
    "invoices": ("facturaclientes", "idfactura"),
}


@dataclass(frozen=True)
class Plan:
    resource: str
    record_id: str
    fields: Mapping[str, str] = field(default_factory=dict)  # to PUT
    expect: Mapping[str, str] = field(default_factory=dict)  # the saved record must say
    skip: str = ""  # why nothing is written
    landed: bool = False  # written already (by a push that was interrupted)
    # several records written in turn for one item (a payment of several receipts),
    # each a Plan of its own, landed or to write; resource and record_id then name them all
    parts: tuple[Plan, ...] = ()


@dataclass
class Context:
    api: FacturaScriptsApi
    notes: NoteWriter
    load_states: Callable[[], QuoteStates]
    payment_method: str = ""
    _states: QuoteStates | None = None

    def states(self) -> QuoteStates:
        if self._states is None:
            self._states = self.load_states()
        return self._states


def cents(value: Any) -> Decimal | None:
    """A FacturaScripts amount (a double in JSON) or a published one, to the cent."""
    try:
        return round_money(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return None


def _state_id(value: Any) -> str:
    return "" if value is None else str(value)


# -- quote decisions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DecisionItem:
    customer: str
    customer_key: str
    record: DecisionRecord
    published: Mapping[str, str]  # total, currency, source_id, source_state
    kind = "decision"

    @property
    def label(self) -> str:
        return f"quote {self.record.quote} ({self.customer}) {self.record.decision}"

    @property
    def document(self) -> str:
        return f"quotes/{self.record.slug}.html"

    @property
    def reference(self) -> str:
        return self.record.event_id or f"{self.customer_key}/{self.record.slug}"

    def plan(self, ctx: Context) -> Plan:
        resource, record_id = "presupuestoclientes", self.published["source_id"]
        live = ctx.api.get(resource, record_id)
        target = ctx.states().target(self.record.decision)
        notes = live.get("observaciones") or ""
        if marker(self.reference) in str(notes) and _state_id(live.get("idestado")) == str(target):
            return Plan(resource, record_id, landed=True)
        reason = self._changed(live, ctx.states(), target)
        if reason:
            return Plan(resource, record_id, skip=reason)
        who = self.record.name or self.record.contact
        if self.record.name:  # no <...>: FacturaScripts stores notes with < > as entities
            who = f"{self.record.name} ({self.record.contact})"
        note = ctx.notes.decision(
            self.record.decision, self.record.when, who, self.record.comment, self.reference
        )
        fields = {"idestado": str(target), "observaciones": append(notes, note)}
        return Plan(resource, record_id, fields, expect={"idestado": str(target)})

    def _changed(self, live: Mapping[str, Any], states: QuoteStates, target: int) -> str:
        now_state, was = _state_id(live.get("idestado")), self.published.get("source_state", "")
        if now_state != was:
            if now_state == str(target):
                return f"already {self.record.decision} in FacturaScripts"
            now_name = states.name(int(now_state)) if now_state.isdigit() else now_state
            was_name = states.name(int(was)) if was.isdigit() else was
            return (
                f"its state in FacturaScripts is now {now_name} ({now_state}); it was "
                f"{was_name} ({was}) when the customer decided"
            )
        if not live.get("editable", True):
            return "it is not editable in FacturaScripts any more (decided there)"
        total, seen = cents(live.get("total")), cents(self.published.get("total"))
        if seen is not None and total != seen:
            return f"its total in FacturaScripts is {total}; the customer saw {seen}"
        currency, seen_currency = live.get("coddivisa"), self.published.get("currency")
        if seen_currency and currency and currency != seen_currency:
            return f"its currency in FacturaScripts is {currency}; the customer saw {seen_currency}"
        return ""


# -- comments -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommentItem:
    customer: str
    customer_key: str
    record: CommentRecord
    number: str  # the document's number ("" for a general message)
    kind = "comment"

    @property
    def label(self) -> str:
        about = f" on {self.number}" if self.number else ""
        return f"comment {self.record.id} ({self.customer}){about}"

    @property
    def document(self) -> str:
        return self.record.document

    @property
    def reference(self) -> str:
        return self.record.id

    def plan(self, ctx: Context) -> Plan:
        """On the document's notes while FacturaScripts lets them change (an editable
        document: TransformerDocument::onChange locks every other field of one that is
        not), else on the customer's notes, naming the document."""
        resource, record_id, live = self._target(ctx.api)
        notes = live.get("observaciones") or ""
        if marker(self.reference) in str(notes):
            return Plan(resource, record_id, landed=True)
        on_document = resource != "clientes"
        note = ctx.notes.comment(
            self.record.when,
            self.record.contact,
            "" if on_document else self.number,
            self.record.text,
            self.reference,
        )
        return Plan(resource, record_id, {"observaciones": append(notes, note)})

    def _target(self, api: FacturaScriptsApi) -> tuple[str, str, dict[str, Any]]:
        match = DOCUMENT_PAGE.match(self.record.document)
        if match and self.number:
            resource, pk = RESOURCES[match.group(1)]
            rows = api.find(resource, codigo=self.number, codcliente=self.customer)
            if len(rows) == 1 and rows[0].get("editable") and rows[0].get(pk) is not None:
                return resource, str(rows[0][pk]), rows[0]
        return "clientes", self.customer, api.get("clientes", self.customer)
