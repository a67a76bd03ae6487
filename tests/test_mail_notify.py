"""The nightly digest against a real SMTP server: what is sent, to whom, once; failures retried."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from email.message import EmailMessage
from pathlib import Path

import pytest

from portalgen.access.entry import RegistryEntry
from portalgen.mail.links import PortalLink
from portalgen.mail.mailer import open_mailer
from portalgen.mail.message import Outgoing, as_outgoing
from portalgen.mail.notify import NotifyReport, notify_customers
from portalgen.mail.senders import Ready, Sender
from portalgen.mail.state import NotifyState, state_key
from portalgen.storage import Storage
from tests.conftest import TODAY
from tests.mail_fixtures import (
    NOW,
    Office,
    body_html,
    body_text,
    grant,
    office,
    plain_link,
    publish_paths,
    with_customers,
)
from tests.smtpserver import BOTH_SERVERS, SmtpServer

CODES = ("C00001", "C00002", "C00005", "C00008")


def run(the_office: Office, *, today: date = TODAY, dry_run: bool = False, **extra) -> NotifyReport:
    mailer = open_mailer(the_office.settings, dry_run=dry_run)
    with mailer:
        return notify_customers(
            the_office.settings,
            extra.pop("export", the_office.export),
            storage=the_office.storage,
            mailer=mailer,
            make_link=extra.pop("make_link", plain_link),
            today=today,
            now=extra.pop("now", NOW),
            **extra,
        )


@pytest.fixture
def granted(fresh_demo: Path, smtp_server: SmtpServer) -> Office:
    the_office = office(fresh_demo, smtp_server.mail_settings())
    grant(the_office, CODES)
    publish_paths(the_office, CODES)
    return the_office


def state(the_office: Office, code: str) -> dict:
    """The customer's record as a document (marks appended to it included: state.py)."""
    raw = the_office.storage.get(state_key(the_office.entry(code).customer_key))
    assert raw is not None
    return json.loads(NotifyState.from_json(raw, code).to_json())["contacts"]


def test_one_digest_per_contact_then_nothing_new(granted: Office, smtp_server: SmtpServer) -> None:
    report = run(granted)
    assert report.failed == []
    contacts = {e for c in CODES for e in granted.customer(c).emails}
    assert sorted(r for m in smtp_server.messages for r in m.rcpt_tos) == sorted(contacts)
    assert report.messages == len(contacts)
    for received in smtp_server.messages:
        msg = received.message
        assert len(msg["To"].addresses) == 1  # each contact gets their own link
        contact = msg["To"].addresses[0].addr_spec
        code = next(c for c in CODES if contact in granted.customer(c).emails)
        customer = granted.customer(code)
        entry = granted.entry(code)
        assert msg["To"].addresses[0].display_name == customer.display_name
        link = f"/l/test.{entry.customer_key}.{contact}"
        assert link in body_text(msg) and link in body_html(msg)
        if customer.language == "en":
            assert msg["Subject"] == "News in your portal at Suministros Levante"
            assert msg["Content-Language"] == "en"
        else:
            assert msg["Subject"] == "Novedades en su portal de Suministros Levante"
            assert msg["Content-Language"] == "es"
        marks = state(granted, code)[contact]
        announced = {item for item, mark in marks.items() if mark["how"] == "sent"}
        assert announced
        for item in announced:  # every announced invoice is named in both parts
            if item.startswith("invoice:"):
                number = item.split(":", 1)[1]
                assert number in body_text(msg) and number in body_html(msg)
    before = len(smtp_server.messages)
    again = run(granted)
    assert (again.messages, again.failed, len(smtp_server.messages)) == (0, [], before)


def test_the_next_night_only_what_is_new(granted: Office, smtp_server: SmtpServer) -> None:
    earlier = TODAY - timedelta(days=20)
    first = run(granted, today=earlier, now=NOW - timedelta(days=20))
    assert first.messages > 0
    told_first = {c: state(granted, c) for c in CODES}
    smtp_server.messages.clear()
    second = run(granted)
    assert second.messages > 0 and second.failed == []
    for code in CODES:
        for contact, items in state(granted, code).items():
            new = set(items) - set(told_first[code].get(contact, {}))
            got = [m.message for m in smtp_server.messages if m.rcpt_tos == (contact,)]
            if not [i for i in new if items[i]["how"] == "sent"]:
                assert got == []
                continue
            (msg,) = got
            text = body_text(msg)
            for item in told_first[code][contact]:  # nothing announced twice
                if item.startswith(("invoice:", "quote:")):
                    assert f" {item.split(':')[1]} " not in text


def test_an_opted_out_customer_gets_nothing(granted: Office, smtp_server: SmtpServer) -> None:
    export = with_customers(granted.export, C00005={"notify": False})
    report = run(granted, export=export)
    assert report.failed == []
    assert not [m for m in smtp_server.messages if "bodegas-romero" in m.rcpt_tos[0]]
    hows = {m["how"] for marks in state(granted, "C00005").values() for m in marks.values()}
    assert hows == {"opted-out"}
    # Opting in again later brings only what is new from then on, not the backlog.
    smtp_server.messages.clear()
    assert run(granted).messages == 0


@BOTH_SERVERS
def test_a_refused_address_is_reported_and_retried_next_run(
    granted: Office, smtp_server: SmtpServer
) -> None:
    refused = "contabilidad@carpinteria-iberica.example"  # C00001's second contact
    smtp_server.refuse.add(refused)
    report = run(granted)
    (failed,) = report.failed
    assert failed.code == "C00001"
    assert failed.failures == [
        f"{refused}: the server refused the address {refused} (550 5.1.1 <{refused}>: "
        "Recipient address rejected: User unknown)"
    ]
    assert failed.messages == 1  # the other contact of C00001 got theirs
    marks = state(granted, "C00001")[refused]  # what came before the grant is settled...
    assert {m["how"] for m in marks.values()} == {"baseline"}  # ...nothing else
    others = len(smtp_server.messages)
    smtp_server.refuse.clear()
    retry = run(granted)
    assert retry.failed == [] and retry.messages == 1
    assert smtp_server.messages[others:][0].rcpt_tos == (refused,)


@BOTH_SERVERS
def test_a_server_dropping_the_connection_mid_session(
    granted: Office, smtp_server: SmtpServer
) -> None:
    dropped = "administracion@jordi-romero-perez.example"  # C00002, in the middle of the run
    smtp_server.drop.add(dropped)
    report = run(granted)
    (failed,) = report.failed
    assert failed.code == "C00002"
    assert failed.failures == [
        f"{dropped}: 127.0.0.1:{smtp_server.port} (none): the server closed the connection"
    ]
    sent = {m.rcpt_tos[0] for m in smtp_server.messages}
    assert "administracion@bodegas-romero.example" in sent  # later customers still served
    assert dropped not in sent and smtp_server.handler.drops == 1
    smtp_server.drop.clear()
    retry = run(granted)
    assert (retry.failed, retry.messages) == ([], 1)
    assert smtp_server.messages[-1].rcpt_tos == (dropped,)


@BOTH_SERVERS
def test_the_server_gets_a_message_only_once_its_sending_record_is_written(
    granted: Office, smtp_server: SmtpServer
) -> None:
    """The `sending` record is written while the message travels, and the server gets the
    end of the message's data, where it accepts it, only once the record is written.
    Here another run writes C00002's record after this run read it (a real conflict, made
    while this run composes the message): the record cannot be written, so the server
    never accepts the message, and the rest of the run goes on over a new connection."""
    other_run = NotifyState("C00002", name="Jordi Romero Pérez")

    def link(entry: RegistryEntry, contact: str) -> PortalLink:
        if entry.customer == "C00002":
            key = state_key(entry.customer_key)
            granted.storage.put(key, other_run.to_json(), "application/json")
        return plain_link(entry, contact)

    report = run(granted, make_link=link)
    (failed,) = report.failed
    assert failed.code == "C00002" and failed.messages == 0
    assert "another run is sending notifications to this customer" in failed.failures[0]
    received = {r for m in smtp_server.messages for r in m.rcpt_tos}
    assert received.isdisjoint(granted.customer("C00002").emails)
    for code in ("C00001", "C00005", "C00008"):  # before and after it: served
        assert set(granted.customer(code).emails) <= received
    assert state(granted, "C00002") == {}  # the other run's record, untouched


@BOTH_SERVERS
def test_one_connection_serves_the_whole_run(granted: Office, smtp_server: SmtpServer) -> None:
    report = run(granted)
    assert report.messages == len(smtp_server.messages) > 3
    assert len({m.peer for m in smtp_server.messages}) == 1


class Watched:
    """The mailer's own sender, each call's message and `following` kept: it sends
    exactly as it would (senders.py)."""

    def __init__(self, sender: Sender) -> None:
        self.sender = sender
        self.description = sender.description
        self.calls: list[tuple[Outgoing, Outgoing | None]] = []

    def send(
        self,
        message: EmailMessage | Outgoing,
        ready: Ready | None = None,
        following: Outgoing | None = None,
    ) -> None:
        self.calls.append((as_outgoing(message), following))
        self.sender.send(message, ready, following)

    def close(self) -> None:
        self.sender.close()


@pytest.mark.parametrize("smtp_server", [True], ids=["pipelining"], indirect=True)
def test_each_envelope_sent_ahead_is_the_next_message_sent(
    granted: Office, smtp_server: SmtpServer
) -> None:
    """A message's end carries the envelope of the one sent after it (a customer's next
    contact's, or the next customer's once composed): never another's."""
    mailer = open_mailer(granted.settings)
    watched = Watched(mailer.sender)
    mailer.sender = watched
    with mailer:
        report = notify_customers(
            granted.settings,
            granted.export,
            storage=granted.storage,
            mailer=mailer,
            make_link=plain_link,
            today=TODAY,
            now=NOW,
        )
    calls = watched.calls
    assert report.failed == [] and len(calls) == report.messages == len(smtp_server.messages)
    for (_, following), (sent_next, _) in itertools.pairwise(calls):
        assert following is None or following is sent_next
    assert calls[-1][1] is None  # the night's last message: nothing after it
    contacts = set(granted.customer("C00001").emails)
    first, second = [i for i, (m, _) in enumerate(calls) if set(m.recipients) <= contacts]
    assert calls[first][1] is calls[second][0]  # composed together: always announced
    assert len({m.peer for m in smtp_server.messages}) == 1  # no envelope went unused


def test_after_a_dropped_connection_one_new_connection_serves_the_rest(
    granted: Office, smtp_server: SmtpServer
) -> None:
    dropped = "administracion@jordi-romero-perez.example"  # C00002, in the middle of the run
    smtp_server.drop.add(dropped)
    report = run(granted)
    assert [c.code for c in report.failed] == ["C00002"]
    received = smtp_server.messages
    before = [m for m in received if m.peer == received[0].peer]
    after = [m for m in received if m.peer != received[0].peer]
    assert before and after and len({m.peer for m in after}) == 1
    assert received == before + after  # one connection, then one more after the drop
    assert report.messages == len(received)


def test_a_server_that_is_down_loses_nothing(granted: Office, smtp_server: SmtpServer) -> None:
    smtp_server.stop()
    report = run(granted)
    assert report.messages == 0
    assert [c.code for c in report.failed] == list(CODES)
    assert "connection refused" in report.failed[0].failures[0]
    assert "failed several times in a row" in report.failed[-1].failures[0]
    smtp_server.start()
    retry = run(granted)
    assert retry.failed == []
    assert retry.messages == sum(len(granted.customer(c).emails) for c in CODES)


def test_the_dry_run_writes_eml_files_and_records_nothing(
    granted: Office, smtp_server: SmtpServer
) -> None:
    report = run(granted, dry_run=True)
    outbox = granted.settings.mail.outbox
    files = sorted(outbox.glob("*.eml"))
    assert report.dry_run and len(files) == report.messages > 0
    assert smtp_server.messages == []
    assert granted.storage.get(state_key(granted.entry("C00001").customer_key)) is None
    assert run(granted).messages == report.messages  # the real run still sends everything


def test_nothing_is_announced_before_it_is_published(
    fresh_demo: Path, smtp_server: SmtpServer
) -> None:
    the_office = office(fresh_demo, smtp_server.mail_settings())
    grant(the_office, ["C00002"])
    assert run(the_office).messages == 0  # granted, never published: nothing to point at
    publish_paths(the_office, ["C00002"])
    assert run(the_office).messages == 2


@pytest.mark.parametrize(
    "raw", [b"{not json", b'{"version": 99, "files": {}}', b'{"version": 1}', b"[1]"]
)
def test_a_damaged_manifest_is_reported_and_the_others_are_told(
    granted: Office, smtp_server: SmtpServer, raw: bytes
) -> None:
    from portalgen.publish.manifest import manifest_key

    granted.storage.put(manifest_key(granted.entry("C00002").customer_key), raw, "x")
    report = run(granted)
    (failed,) = report.failed
    assert failed.code == "C00002" and failed.messages == 0
    assert failed.failures[0].startswith("the published portal's manifest is damaged (")
    told = {r for m in smtp_server.messages for r in m.rcpt_tos}
    others = {e for c in CODES if c != "C00002" for e in granted.customer(c).emails}
    assert told == others


def test_a_quote_decided_in_the_portal_is_not_awaiting_a_decision(
    granted: Office, smtp_server: SmtpServer
) -> None:
    data = granted.export.by_customer()["C00008"]
    (open_quote,) = [
        q for q in data.quotes if q.status == "pending" and (q.valid_until or TODAY) >= TODAY
    ]
    key = granted.entry("C00008").customer_key
    decision = {"version": 1, "quote": open_quote.number, "decision": "accepted"}
    path = f"_decisions/{key}/{open_quote.slug}.json"
    granted.storage.put_if_absent(path, json.dumps(decision).encode(), "application/json")
    run(granted)
    (msg,) = [m.message for m in smtp_server.messages if "sunrise" in m.rcpt_tos[0]]
    assert open_quote.number not in body_text(msg)
    assert f"quote:{open_quote.number}" not in next(iter(state(granted, "C00008").values()))


def test_revoked_customers_and_contacts_get_nothing(
    granted: Office, smtp_server: SmtpServer
) -> None:
    registry = granted.registry
    registry.update(granted.entry("C00001").customer_key, lambda e: e.revoked(NOW))
    cut = "compras@jordi-romero-perez.example"
    registry.update(granted.entry("C00002").customer_key, lambda e: e.without_contact(cut, NOW))
    run(granted)
    sent = {m.rcpt_tos[0] for m in smtp_server.messages}
    assert not {e for e in granted.customer("C00001").emails} & sent
    assert cut not in sent and "administracion@jordi-romero-perez.example" in sent


def test_state_lives_in_storage_on_s3_too(
    fresh_demo: Path, smtp_server: SmtpServer, storage: Storage
) -> None:
    the_office = office(fresh_demo, smtp_server.mail_settings(), storage)
    grant(the_office, ["C00008"])
    publish_paths(the_office, ["C00008"])
    assert run(the_office).messages == 1
    assert run(the_office).messages == 0  # another machine reading the same storage agrees
    assert storage.exists(state_key(the_office.entry("C00008").customer_key))


CRASHING_RUN = """
import sys
from pathlib import Path
from tests.mail_fixtures import NOW, office, plain_link
from tests.smtpserver import SmtpServer
from portalgen.mail.mailer import open_mailer
from portalgen.mail.notify import notify_customers
from tests.conftest import TODAY

the_office = office(Path(sys.argv[1]), {"backend": "smtp", "host": "127.0.0.1",
    "port": int(sys.argv[2]), "security": "none", "from_address": "f@levante.example"})
with open_mailer(the_office.settings) as mailer:
    notify_customers(the_office.settings, the_office.export, storage=the_office.storage,
        mailer=mailer, make_link=plain_link, today=TODAY, now=NOW)
"""


@BOTH_SERVERS
def test_a_run_killed_while_sending_never_sends_that_message_twice(
    granted: Office, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    import os
    import signal
    import subprocess
    import sys

    held = "administracion@jordi-romero-perez.example"  # C00002: C00001 is served before
    smtp_server.handler.hold.add(held)
    script = tmp_path / "crashing_run.py"
    script.write_text(CRASHING_RUN)
    root = Path(__file__).resolve().parent.parent
    process = subprocess.Popen(
        [sys.executable, str(script), str(granted.directory), str(smtp_server.port)],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    try:
        assert smtp_server.handler.holding.wait(60), "the run never reached the held message"
    finally:
        process.send_signal(signal.SIGKILL)  # killed while the server has its message
        process.wait()
    mark = state(granted, "C00002")[held]
    assert {m["how"] for m in mark.values()} >= {"sending"}
    raw = granted.storage.get(state_key(granted.entry("C00002").customer_key))
    assert raw is not None
    document, end = json.JSONDecoder().raw_decode(raw.decode())
    (line,) = raw.decode()[end:].strip().split("\n")  # the marks in flight, appended
    assert held not in document["contacts"]
    assert json.loads(line) == {"contact": held, "marks": mark}
    sent_before = {r for m in smtp_server.messages for r in m.rcpt_tos}
    assert sent_before == set(granted.customer("C00001").emails)
    smtp_server.handler.hold.clear()

    later = NOW + timedelta(hours=1)
    rerun = run(granted, now=later)
    (c2,) = [c for c in rerun.customers if c.code == "C00002"]
    assert c2.notes == [
        f"{held}: an earlier run stopped while sending a message about "
        + ", ".join(sorted(i for i, m in mark.items() if m["how"] == "sending"))
        + "; it may not have arrived, and is not sent again"
    ]
    received = [r for m in smtp_server.messages for r in m.rcpt_tos]
    assert held not in received  # not twice: at most once
    assert "compras@jordi-romero-perez.example" in received  # the rest of the run is done
    assert sorted(set(received)) == sorted(received)
    assert run(granted, now=later + timedelta(hours=1)).customers == []  # said once
    raw = granted.storage.get(state_key(granted.entry("C00002").customer_key))
    assert raw is not None
    document, _ = json.JSONDecoder().raw_decode(raw.decode())
    settled = {m["how"] for m in document["contacts"][held].values()}
    assert "interrupted" in settled and "sending" not in settled  # folded into the document


def test_a_night_that_sends_a_customer_a_message_records_who_they_are_now(
    granted: Office, smtp_server: SmtpServer
) -> None:
    """The gate names customers and finds their account manager in the record (it has no
    export): a changed account manager is written with the night's messages, not only on
    a night without any."""
    run(granted, today=TODAY - timedelta(days=20), now=NOW - timedelta(days=20))
    manager = "nueva.gestora@suministros-levante.example"
    moved = with_customers(granted.export, **{c: {"account_manager": manager} for c in CODES})
    smtp_server.messages.clear()
    report = run(granted, export=moved)
    told = [c.code for c in report.customers if c.messages]
    assert told and report.failed == []
    for code in told:
        raw = granted.storage.get(state_key(granted.entry(code).customer_key))
        assert raw is not None
        assert NotifyState.from_json(raw, code).account_manager == manager


def test_sent_marks_lost_with_the_machine_are_reported_and_never_sent_again(
    granted: Office, smtp_server: SmtpServer
) -> None:
    """A message's `sent` marks are appended without a flush to disk (state.py): a machine
    that stops before the disk has them (here: the record cut back to before them, as it
    would come back) leaves that message's items `sending`. The next run says so once and
    sends nothing twice."""
    first = run(granted)
    assert first.failed == []
    key = state_key(granted.entry("C00001").customer_key)
    raw = granted.storage.get(key)
    assert raw is not None
    last = json.loads(raw.splitlines()[-1])  # the last message's `sent` marks
    assert {m["how"] for m in last["marks"].values()} == {"sent"}
    granted.storage.put(key, raw[: raw.rstrip(b"\n").rfind(b"\n") + 1], "application/json")
    lost = sorted(last["marks"])
    smtp_server.messages.clear()
    later = run(granted, now=NOW + timedelta(hours=1))
    (c1,) = [c for c in later.customers if c.code == "C00001"]
    assert c1.notes == [
        f"{last['contact']}: an earlier run stopped while sending a message about "
        f"{', '.join(lost)}; it may not have arrived, and is not sent again"
    ]
    assert (later.messages, smtp_server.messages) == (0, [])
    marks = state(granted, "C00001")[last["contact"]]
    assert {marks[item]["how"] for item in lost} == {"interrupted"}


@BOTH_SERVERS
def test_a_record_that_cannot_be_flushed_to_disk_stops_its_message(
    granted: Office, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A disk that fails to flush cannot be made to here: fdatasync is made to fail (the
    append of a message's `sending` marks is the only call of it in a run)."""
    import errno
    import os

    def failing(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fdatasync", failing)
    report = run(granted)
    assert report.messages == 0 and smtp_server.messages == []
    assert "Input/output error" in report.failed[0].failures[0]
    monkeypatch.undo()
    assert run(granted).messages == sum(len(granted.customer(c).emails) for c in CODES)


@pytest.mark.parametrize("days_before", [0, 1])
def test_a_digest_the_day_of_the_grant_repeats_nothing_the_invitation_said(
    fresh_demo: Path, smtp_server: SmtpServer, days_before: int
) -> None:
    """`grant --send` in the morning, `publish --notify` that night: what the invitation
    showed (everything dated up to the grant's day) is settled, not announced. Granted
    the day before, what is dated on the digest's day is news."""
    the_office = office(fresh_demo, smtp_server.mail_settings())
    morning = datetime.combine(TODAY, dt_time(9, 0), tzinfo=UTC)
    grant(the_office, CODES, when=morning - timedelta(days=days_before))
    publish_paths(the_office, CODES)
    report = run(the_office, now=morning + timedelta(hours=12))
    assert report.failed == []
    if days_before:
        assert report.messages > 0
        return
    assert (report.messages, smtp_server.messages) == (0, [])
    for code in CODES:
        for marks in state(the_office, code).values():
            assert {mark["how"] for mark in marks.values()} <= {"baseline", "opted-out"}
