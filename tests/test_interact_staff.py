"""What staff see of decisions: `portalgen check` lists quotes decided in the portal that the
export still shows pending; `audit pull` recovers a decision's lost event and catches up
the webhook; `audit tail` and `export` show decisions and comments."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from portalgen.access.grants import AccessService
from portalgen.access.secret import load_secrets
from portalgen.access.tokens import TokenSigner
from portalgen.audit.events import new_event
from portalgen.audit.followup import follow_up
from portalgen.audit.log import AuditLog
from portalgen.cli import cli
from portalgen.interact.decisions import DecisionRecord, store_decision
from portalgen.storage import LocalStorage
from tests.conftest import demo_settings
from tests.interact_fixtures import PENDING, WEBHOOK_SECRET, WebhookReceiver, run_receiver

DECIDED_AT = datetime(2026, 6, 15, 8, 30, tzinfo=UTC)


def run(directory: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(
        cli, ["--config", str(directory / "config.yaml"), *args], env=env or {}
    )


def grant(directory: Path, code: str) -> str:
    storage = LocalStorage(directory / "site")
    signer = TokenSigner(load_secrets(directory / "secret.key", environ={}))
    service = AccessService(
        storage, signer, base_url="http://127.0.0.1:8000", link_max_age=timedelta(days=30)
    )
    return service.grant(code, [f"{code.lower()}@example.es"]).entry.customer_key


def decided(
    directory: Path, code: str, slug: str, decision: str, event_id: str, name: str = "Ana"
) -> DecisionRecord:
    record = DecisionRecord(
        quote=slug,
        slug=slug,
        decision=decision,
        ts=DECIDED_AT.isoformat().replace("+00:00", "Z"),
        contact=f"{code.lower()}@example.es",
        name=name,
        comment="Adelante",
        pdf_sha256="ab" * 32,
        event_id=event_id,
    )
    won, _ = store_decision(LocalStorage(directory / "site"), grant(directory, code), record)
    assert won
    return record


def test_check_warns_of_quotes_decided_in_the_portal_but_pending_in_the_export(
    fresh_demo: Path,
) -> None:
    decided(fresh_demo, "C00007", PENDING, "accepted", "01JZ0000000000000000000001")
    decided(fresh_demo, "C00007", "P2025A-00007", "rejected", "01JZ0000000000000000000002")
    decided(fresh_demo, "C00008", "P2026A-00013", "accepted", "01JZ0000000000000000000003")
    result = run(fresh_demo, "check", str(fresh_demo))
    assert result.exit_code == 0, result.output
    assert (
        f"warning: quote {PENDING} (C00007): accepted in the portal on 15/06/2026 10:30 by Ana, "
        "but the export still says pending; mark it accepted in the invoicing program"
    ) in result.stderr
    assert (
        "warning: quote P2025A-00007 (C00007): rejected in the portal on 15/06/2026 10:30 by "
        "Ana, but the export says accepted; check which is right"
    ) in result.stderr
    assert "P2026A-00013" not in result.stderr  # the export agrees already
    assert "2 warning(s) above; no errors." in result.stdout


def test_check_without_a_portal_or_decisions_says_nothing_about_them(fresh_demo: Path) -> None:
    result = run(fresh_demo, "check", str(fresh_demo))
    assert result.exit_code == 0 and "portal" not in result.stderr
    assert "No problems found." in result.stdout


def test_the_nightly_publish_recovers_a_lost_decision_event_too(fresh_demo: Path) -> None:
    """A gate that crashed between storing a decision and writing its event: the next
    `publish` writes the event (staff need not remember `audit pull`)."""
    event_id = "01JXKQ0Z5M0000000000000002"
    decided(fresh_demo, "C00007", PENDING, "accepted", event_id)
    [record] = (fresh_demo / "site" / "_decisions").rglob("*.json")
    settled = (datetime.now(UTC) - timedelta(minutes=20)).timestamp()
    os.utime(record, (settled, settled))
    result = run(fresh_demo, "publish", str(fresh_demo), "--only", "C00007")
    assert result.exit_code == 0, result.output
    assert "Recovered 1 quote decision event a gate had not written." in result.output
    [event] = AuditLog(demo_settings(fresh_demo).audit.path).events()
    assert (event.id, event.type, event.customer) == (event_id, "quote.accepted", "C00007")
    again = run(fresh_demo, "publish", str(fresh_demo), "--only", "C00007", "--json")
    assert json.loads(again.output)["events_recovered"] == 0


def test_audit_pull_recovers_a_decision_whose_event_was_lost_once(fresh_demo: Path) -> None:
    event_id = "01JXKQ0Z5M0000000000000001"
    record = decided(fresh_demo, "C00007", PENDING, "accepted", event_id)
    settings = demo_settings(fresh_demo)
    storage = LocalStorage(fresh_demo / "site")
    stored = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)  # when the gate stored the decision
    [stored_file] = (fresh_demo / "site" / "_decisions").rglob("*.json")
    os.utime(stored_file, (stored.timestamp(), stored.timestamp()))
    soon = follow_up(settings, storage, now=stored + timedelta(minutes=1))
    assert soon.recovered == 0  # its event may still be on the way
    later = stored + timedelta(minutes=11)
    assert follow_up(settings, storage, now=later).recovered == 1
    assert follow_up(settings, storage, now=later).recovered == 0
    [event] = AuditLog(settings.audit.path).events()
    assert (event.id, event.type, event.customer, event.contact) == (
        event_id,
        "quote.accepted",
        "C00007",
        record.contact,
    )
    assert event.data["recovered"] is True and event.data["pdf_sha256"] == "ab" * 32
    assert AuditLog(settings.audit.path).verify() == (1, None)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    yield from run_receiver(WebhookReceiver())


def test_audit_pull_sends_the_webhook_what_it_missed(
    fresh_demo: Path, receiver: WebhookReceiver
) -> None:
    config = fresh_demo / "config.yaml"
    config.write_text(config.read_text() + f"audit:\n  webhook_url: {receiver.url}\n")
    log = AuditLog(fresh_demo / "audit.jsonl")
    now = datetime.now(UTC)
    log.append(new_event("comment.added", "C00007", contact="a@b.es", data={"comment": "hola"}))
    log.append(new_event("document.viewed", "C00007", contact="a@b.es", now=now))
    env = {"PORTALGEN_WEBHOOK_SECRET": WEBHOOK_SECRET}
    result = run(fresh_demo, "audit", "pull", env=env)
    assert result.exit_code == 0, result.output
    assert "Sent 1 event(s) the webhook had not received." in result.stdout
    assert [e["type"] for e in receiver.delivered()] == ["comment.added"]
    assert receiver.received[0].signature_ok
    assert "webhook" not in run(fresh_demo, "audit", "pull", env=env).stdout
    missing = run(fresh_demo, "audit", "pull", env={"PORTALGEN_WEBHOOK_SECRET": ""})
    assert missing.exit_code == 1 and "PORTALGEN_WEBHOOK_SECRET" in missing.output


def test_a_recovered_decision_event_reaches_the_webhook_too(
    fresh_demo: Path, receiver: WebhookReceiver
) -> None:
    event_id = "01JXKQ0Z5M0000000000000003"
    decided(fresh_demo, "C00007", PENDING, "accepted", event_id)
    [record] = (fresh_demo / "site" / "_decisions").rglob("*.json")
    os.utime(record, (DECIDED_AT.timestamp(), DECIDED_AT.timestamp()))
    settings = demo_settings(fresh_demo, audit={"webhook_url": receiver.url})
    later = DECIDED_AT + timedelta(minutes=11)
    env = {"PORTALGEN_WEBHOOK_SECRET": WEBHOOK_SECRET}
    report = follow_up(settings, LocalStorage(fresh_demo / "site"), now=later, environ=env)
    assert report.recovered == 1
    assert report.webhook is not None and report.webhook.delivered == 1
    [sent] = receiver.delivered()
    assert (sent["id"], sent["type"], sent["data"]["recovered"]) == (
        event_id,
        "quote.accepted",
        True,
    )
    assert receiver.received[0].signature_ok


def test_tail_and_export_show_what_customers_decided_and_wrote(fresh_demo: Path) -> None:
    log = AuditLog(fresh_demo / "audit.jsonl")
    when = datetime(2026, 6, 15, 8, 30, tzinfo=UTC)
    data = {"quote": PENDING, "name": "Ana López", "comment": "Adelante", "pdf_sha256": "ab" * 32}
    log.append(
        new_event(
            "quote.accepted",
            "C00007",
            contact="a@b.es",
            document=f"quotes/{PENDING}.html",
            data=data,
            now=when,
        )
    )
    log.append(
        new_event(
            "comment.added",
            "C00007",
            contact="a@b.es",
            document="invoices/F2026A-00048.html",
            data={"comment": "Pagada"},
            now=when + timedelta(minutes=5),
        )
    )
    tail = run(fresh_demo, "audit", "tail").stdout.splitlines()
    assert tail == [
        f'2026-06-15 10:30  C00007 a@b.es accepted quote quotes/{PENDING}.html: "Adelante"',
        '2026-06-15 10:35  C00007 a@b.es commented on invoices/F2026A-00048.html: "Pagada"',
    ]
    exported = run(fresh_demo, "audit", "export", "--format", "json").stdout.splitlines()
    assert [json.loads(line)["type"] for line in exported] == ["quote.accepted", "comment.added"]
