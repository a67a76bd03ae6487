"""Views and downloads of documents are recorded, off the request's thread, on a local
folder and SeaweedFS; once per contact and document every few minutes; never pages that
are not documents nor theme assets."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from portalgen.audit.events import AuditEvent
from portalgen.gate.recorder import ViewRecorder
from tests.gate_fixtures import GateWorld
from tests.interact_fixtures import BROWSER, of_type, signed_in

VIEWS = ("document.viewed", "document.downloaded")
INVOICE = "invoices/F2026A-00048"


def test_opening_and_downloading_documents_is_recorded(june_world_any: GateWorld) -> None:
    world = june_world_any
    client = signed_in(world)
    for path in (
        "",
        "quotes/",
        "invoices/index.html",
        "contact.html",
        "static/portal.css",
        f"{INVOICE}.html",
        f"{INVOICE}.pdf",
        "documents/files/Tarifa de precios 2026.pdf",
        "download/all-documents.zip",
        "payments/statement.csv",
    ):
        response = client.get(f"/portal/{path}", headers=BROWSER)
        assert response.status_code in (200, 303), path
    assert client.app.flush()
    recorded = [(e.type, e.document) for e in of_type(world, *VIEWS)]
    assert recorded == [
        ("document.viewed", f"{INVOICE}.html"),
        ("document.downloaded", f"{INVOICE}.pdf"),
        ("document.downloaded", "documents/files/Tarifa de precios 2026.pdf"),
        ("document.downloaded", "download/all-documents.zip"),
        ("document.downloaded", "payments/statement.csv"),
    ]
    event = of_type(world, "document.viewed")[0]
    assert event.customer == "C00007" and event.contact == world.grants["C00007"].links[0].email
    assert event.user_agent == BROWSER["User-Agent"] and len(event.ip_hash) == 16
    assert event.ts.startswith("2026-06-15T08:30")


def test_a_reload_is_not_a_new_view_but_a_later_visit_is(june_world: GateWorld) -> None:
    client = signed_in(june_world)
    for _ in range(3):
        client.get(f"/portal/{INVOICE}.html")
    june_world.clock.advance(ViewRecorder.repeat_after - 1)
    client.get(f"/portal/{INVOICE}.html")
    june_world.clock.advance(2)
    client.get(f"/portal/{INVOICE}.html")
    other = signed_in(june_world, "C00008")
    other.get("/portal/invoices/")
    assert client.app.flush()
    views = of_type(june_world, "document.viewed")
    assert [e.ts[11:19] for e in views] == ["08:30:00", "08:35:01"]


class BlockingSink:
    """A sink that cannot write until the test lets it (a slow disk, a slow S3)."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.written: list[AuditEvent] = []
        self.calls = 0

    def record(self, event: AuditEvent) -> None:
        self.record_many([event])

    def record_many(self, events: Sequence[AuditEvent]) -> None:
        self.calls += 1
        self.release.wait(30)
        self.written.extend(events)


def test_serving_does_not_wait_for_the_view_to_be_written(june_world: GateWorld) -> None:
    sink = BlockingSink()
    client = signed_in(june_world, audit=sink)
    assert client.get(f"/portal/{INVOICE}.html").status_code == 200
    assert client.get(f"/portal/{INVOICE}.pdf").status_code == 200
    assert not client.app.flush(timeout=0.2)  # still waiting for the sink: it was not ours
    assert [e.type for e in sink.written if e.type in VIEWS] == []
    sink.release.set()
    assert client.app.flush()
    assert [e.type for e in sink.written if e.type in VIEWS] == list(VIEWS)


class FlakySink:
    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.written: list[AuditEvent] = []

    def record(self, event: AuditEvent) -> None:
        self.record_many([event])

    def record_many(self, events: Sequence[AuditEvent]) -> None:
        if self.failures:
            self.failures -= 1
            raise OSError("disk full")
        self.written.extend(events)


def test_a_failing_log_is_retried_and_never_breaks_serving(june_world: GateWorld) -> None:
    sink = FlakySink(failures=0)
    client = signed_in(june_world, audit=sink)
    sink.failures = 2
    client.app.views.writer.sleep = lambda seconds: None  # type: ignore[union-attr]
    assert client.get(f"/portal/{INVOICE}.html").status_code == 200
    assert client.app.flush()
    assert [e.type for e in sink.written] == ["session.started", "document.viewed"]


def test_on_lambda_the_view_is_written_before_the_answer(june_world: GateWorld) -> None:
    client = signed_in(june_world, background=False)
    client.get(f"/portal/{INVOICE}.html")
    assert [e.document for e in of_type(june_world, "document.viewed")] == [f"{INVOICE}.html"]
