"""`portalgen push facturascripts`: each item claimed, read back, written once, recorded.

For every decision, comment and payment not pushed yet: claim its ``_push/`` record
(compare-and-swap), read the record back in FacturaScripts, then write it (PUT), skip it
(it changed there: ``push.skipped`` in the audit log and a line for staff) or recognise
that an interrupted push already wrote it; then swap the claim for the outcome. A failed
request marks the record ``failed`` (nothing counts as pushed) and the next run retries.
An unreachable server or a refused key stops the run at the first item.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from portalgen.push.client import FacturaScriptsApi, PushError, Request
from portalgen.push.items import Collector, Item, item_key, payments
from portalgen.push.notes import NoteWriter
from portalgen.push.plans import Context, Plan
from portalgen.push.records import State, claim, finish
from portalgen.push.states import quote_states

if TYPE_CHECKING:
    from portalgen.config import Settings
    from portalgen.storage import Storage

Status = Literal["pushed", "skipped", "failed", "waiting"]


@dataclass(frozen=True)
class Outcome:
    status: Status
    kind: str
    item: str
    customer: str
    detail: str = ""  # where it went, why it was skipped, the error
    requests: tuple[Request, ...] = ()  # what a dry run would send (one per record)

    def line(self) -> str:
        prefix = {"pushed": "", "skipped": "skipped ", "failed": "error: ", "waiting": ""}
        return f"{prefix[self.status]}{self.item}: {self.detail}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "item": self.item,
            "customer": self.customer,
            "detail": self.detail,
        }
        if self.requests:
            out["request"] = self.requests[0].to_dict()
        if len(self.requests) > 1:
            out["requests"] = [request.to_dict() for request in self.requests]
        return out


@dataclass
class PushReport:
    dry_run: bool = False
    outcomes: list[Outcome] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    error: str = ""  # what stopped the run early

    def of(self, status: Status) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == status]

    @property
    def ok(self) -> bool:
        return not self.error and not self.of("failed")

    def to_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "ok": self.ok,
            "error": self.error,
            **{s: [o.to_dict() for o in self.of(s)] for s in ("pushed", "skipped", "failed")},
            "waiting": [o.to_dict() for o in self.of("waiting")],
            "requests": [r.to_dict() for r in self.requests],
        }


def _plain(value: object) -> str:
    """A saved value as the form sent it: FacturaScripts answers what was assigned (a
    string) or, for a reloaded record, JSON numbers and booleans."""
    if value is True:
        return "1"
    if value is False or value is None:
        return "0" if value is False else ""
    return str(value)


class _Stop(Exception):
    """The server cannot be reached or refuses the key: no item can be pushed."""


def push_facturascripts(
    settings: Settings,
    url: str,
    token: str,
    *,
    dry_run: bool = False,
    now: Callable[[], datetime] | None = None,
    emit: Callable[[Outcome], None] | None = None,
) -> PushReport:
    from portalgen.storage import open_storage

    clock = now or (lambda: datetime.now(UTC))
    report = PushReport(dry_run=dry_run)
    api = FacturaScriptsApi(url, token, dry_run=dry_run, seen=report.requests.append)
    fs = settings.facturascripts
    ctx = Context(
        api,
        NoteWriter(settings.language, settings.timezone),
        lambda: quote_states(
            api.find("estadodocumentos", tipodoc="PresupuestoCliente"),
            fs.accepted_state,
            fs.rejected_state,
        ),
        fs.online_payment_method,
    )
    storage = open_storage(settings)
    if not dry_run:
        _pull(settings, storage)
    pusher = _Pusher(settings, storage, ctx, report, clock, emit)
    try:
        for item in _items(settings, storage):
            pusher.push(item)
    except _Stop:
        pass
    return report


def _pull(settings: Settings, storage: Storage) -> None:
    """Bring the gate's recent events into the audit log (payments are read from it)."""
    from portalgen.audit.anchored import open_audit_log
    from portalgen.audit.pull import pull_events

    pull_events(storage, open_audit_log(settings, storage))


def _items(settings: Settings, storage: Storage) -> Iterator[Item]:
    collector = Collector(storage)
    yield from collector.pending(collector.decisions())
    yield from collector.pending(payments(settings.audit.path))
    if settings.facturascripts.push_comments:
        yield from collector.pending(collector.comments())


@dataclass
class _Pusher:
    settings: Settings
    storage: Storage
    ctx: Context
    report: PushReport
    clock: Callable[[], datetime]
    emit: Callable[[Outcome], None] | None

    def push(self, item: Item) -> None:
        if self.report.dry_run:
            return self._dry(item)
        claimed, why = claim(self.storage, item_key(item), item.label, self.clock())
        if claimed is None:
            if why not in ("done", "skipped"):
                self._add(Outcome("waiting", item.kind, item.label, item.customer, why))
            return None
        try:
            plan = item.plan(self.ctx)
            outcome = self._apply(item, plan)
        except PushError as exc:
            finish(self.storage, claimed, "failed", item.label, self.clock(), str(exc))
            self._add(Outcome("failed", item.kind, item.label, item.customer, str(exc)))
            if exc.fatal:
                self.report.error = str(exc)
                raise _Stop from None
            return None
        except BaseException as exc:
            if isinstance(exc, Exception):  # a bug: leave it failed, to retry
                finish(self.storage, claimed, "failed", item.label, self.clock(), repr(exc))
            raise
        final: State = "skipped" if outcome.status == "skipped" else "done"
        finish(self.storage, claimed, final, item.label, self.clock(), outcome.detail)
        self._add(outcome)
        return None

    def _apply(self, item: Item, plan: Plan) -> Outcome:
        """Skip, or write each record of the plan that has not landed yet, in order."""
        where = f"{plan.resource}/{plan.record_id}"
        if plan.skip:
            self._event("push.skipped", item, {"reason": plan.skip, "record": where})
            return Outcome("skipped", item.kind, item.label, item.customer, plan.skip)
        steps = plan.parts or (plan,)
        if all(step.landed for step in steps):
            detail = f"{where} (already there)"
            return Outcome("pushed", item.kind, item.label, item.customer, detail)
        said = [self._write(item, step) for step in steps]
        return Outcome("pushed", item.kind, item.label, item.customer, "; ".join(said))

    def _write(self, item: Item, plan: Plan) -> str:
        """PUT one record (or note that it landed already) and check what was saved."""
        where = f"{plan.resource}/{plan.record_id}"
        if plan.landed:
            return f"{where} (already there)"
        saved = self.ctx.api.put(plan.resource, plan.record_id, plan.fields)
        for name, value in plan.expect.items():
            if _plain(saved.get(name)) != value:
                raise PushError(
                    f"{where}: FacturaScripts saved {name}={saved.get(name)!r}, not {value!r}"
                )
        self._event("push.sent", item, {"record": where, "fields": sorted(plan.fields)})
        return self._said(plan)

    def _said(self, plan: Plan) -> str:
        where = f"{plan.resource}/{plan.record_id}"
        if "idestado" in plan.fields:
            state = int(plan.fields["idestado"])
            return f"{where} state {self.ctx.states().name(state)} ({state}), notes appended"
        if "pagado" in plan.fields:
            return f"{where} paid ({plan.fields['codpago']}), notes appended"
        return f"{where} notes appended"

    def _dry(self, item: Item) -> None:
        try:
            plan = item.plan(self.ctx)
            steps = plan.parts or (plan,)
            if plan.skip:
                outcome = Outcome("skipped", item.kind, item.label, item.customer, plan.skip)
            elif all(step.landed for step in steps):
                outcome = Outcome("pushed", item.kind, item.label, item.customer, "already there")
            else:
                sent = len(self.report.requests)
                for step in steps:
                    if not step.landed:
                        self.ctx.api.put(step.resource, step.record_id, step.fields)
                outcome = Outcome(
                    "pushed",
                    item.kind,
                    item.label,
                    item.customer,
                    "would be written",
                    tuple(self.report.requests[sent:]),
                )
        except PushError as exc:
            outcome = Outcome("failed", item.kind, item.label, item.customer, str(exc))
        self._add(outcome)

    def _add(self, outcome: Outcome) -> None:
        self.report.outcomes.append(outcome)
        if self.emit is not None:
            self.emit(outcome)

    def _event(self, kind: str, item: Item, data: dict[str, Any]) -> None:
        from portalgen.audit.anchored import open_audit_log
        from portalgen.audit.events import new_event

        data = {"item": item.label, "reference": item.reference, **data}
        event = new_event(
            kind,
            item.customer,
            contact="staff",
            document=item.document,
            data=data,
            now=self.clock(),
        )
        open_audit_log(self.settings, self.storage).append(event)
