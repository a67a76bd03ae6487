"""Issue 13 (#5): a burst of a customer's actions reaches staff in one email, not one each.

The first action after a quiet spell is told at once; those within `mail.staff_batch`
(5 minutes) of it are held in storage and told together, each listed, by the next
notice of that customer: its next action after the window, or the nightly `notify`.
Real aiosmtpd, a folder and SeaweedFS; the event times are set, not read from a clock.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from lxml import html as lxml_html

from portalgen.audit.events import AuditEvent, new_event
from portalgen.audit.log import AuditLog
from portalgen.cli import cli
from portalgen.gate.factory import configured_staff_notifier
from portalgen.mail import gate_staff_notifier
from portalgen.mail.mailer import open_mailer
from portalgen.mail.staff import StaffNotifier, notice_key, send_staff_backlog, still_held
from portalgen.storage import LocalStorage, Storage
from tests.conftest import demo_settings
from tests.gate_fixtures import GateWorld
from tests.interact_fixtures import comment, events, signed_in
from tests.mail_fixtures import body_html, body_text
from tests.smtpserver import SmtpServer
from tests.test_mail_staff import INFO, WHEN, settings

CONTACT = "compras@reformas-moreno.example"


def commented(n: int, seconds: float = 0, customer: str = "C00003") -> AuditEvent:
    return new_event(
        "comment.added",
        customer,
        contact=CONTACT,
        document="invoices/F2026A-00021.html",
        data={"text": f"mensaje {n} <b>negrita</b>", "name": "Ana Moreno"},
        now=WHEN + timedelta(seconds=seconds),
    )


def told_texts(server: SmtpServer) -> list[list[str]]:
    """The comments each email quotes (text part), email by email."""
    return [
        [line[2:] for line in body_text(m.message).splitlines() if line.startswith("> mensaje")]
        for m in server.messages
    ]


def nightly(server: SmtpServer, storage: Storage, sent: list[AuditEvent]) -> tuple[int, int]:
    with open_mailer(settings(server)) as mailer:
        report = send_staff_backlog(
            StaffNotifier(storage, mailer), sent, {"C00003": INFO}, now=WHEN + timedelta(hours=8)
        )
    assert report.failures == [] and report.waiting == []
    return report.sent, report.emails


def test_a_burst_of_eight_comments_is_two_emails_each_comment_in_one(
    smtp_server: SmtpServer, storage: Storage
) -> None:
    """8 comments in 35 s: the first told at once (a lone one is not kept waiting), the
    7 others held, then one email lists them all; a replay tells nobody again."""
    hook = gate_staff_notifier(settings(smtp_server), storage, lambda e: INFO)
    assert hook is not None
    burst = [commented(n, seconds=5 * n) for n in range(8)]
    assert [hook(e) for e in burst] == [True] + [False] * 7
    assert told_texts(smtp_server) == [["mensaje 0 <b>negrita</b>"]]
    first = smtp_server.messages[0].message
    assert first["Subject"].strip() == (
        "Comentario de Reformas Moreno S.Coop. (C00003) sobre factura F2026A-00021"
    )
    assert [e.id for e in still_held(storage)] == [e.id for e in burst[1:]]

    assert nightly(smtp_server, storage, burst) == (7, 1)
    assert told_texts(smtp_server)[1] == [f"mensaje {n} <b>negrita</b>" for n in range(1, 8)]
    batch = smtp_server.messages[1].message
    assert batch["Subject"].strip() == (
        "7 acciones nuevas de Reformas Moreno S.Coop. (C00003) en el portal"
    )
    assert batch["Reply-To"].strip() == CONTACT
    text = body_text(batch)
    assert text.count("Ana Moreno <compras@reformas-moreno.example> escribió el 15 de junio") == 7
    assert "--- 7/7 ---" in text
    page = lxml_html.fromstring(body_html(batch))
    items = page.find_class("staff-item")
    assert len(items) == 7 and page.xpath("//b") == []  # each listed, the text escaped
    assert items[0].xpath("string(.//blockquote)") == "mensaje 1 <b>negrita</b>"

    for event in burst:  # the gate retried, a replayed request, the nightly run again
        assert hook(event) is False
    assert nightly(smtp_server, storage, burst) == (0, 0)
    assert len(smtp_server.messages) == 2 and still_held(storage) == []
    assert all(storage.exists(notice_key(e.id)) for e in burst)


def test_the_first_action_after_the_window_carries_the_held_ones(
    smtp_server: SmtpServer, storage: Storage
) -> None:
    hook = gate_staff_notifier(settings(smtp_server), storage, lambda e: INFO)
    assert hook is not None
    lone, held, later, again = (commented(n, seconds=s) for n, s in enumerate((0, 60, 360, 420)))
    assert hook(lone) and not hook(held)
    assert hook(later)  # 6 minutes on: the window (5 minutes) has passed
    assert hook(again) is False  # within the window `later` opened
    assert told_texts(smtp_server) == [
        ["mensaje 0 <b>negrita</b>"],
        ["mensaje 1 <b>negrita</b>", "mensaje 2 <b>negrita</b>"],
    ]
    assert [e.id for e in still_held(storage)] == [again.id]
    assert hook(lone) is False and hook(held) is False  # replayed long after: told already
    assert len(smtp_server.messages) == 2


def test_without_a_window_each_action_is_its_own_email(
    smtp_server: SmtpServer, storage: Storage
) -> None:
    hook = gate_staff_notifier(settings(smtp_server, staff_batch=0), storage, lambda e: INFO)
    assert hook is not None
    assert all(hook(commented(n, seconds=n)) for n in range(3))
    assert len(told_texts(smtp_server)) == 3 and still_held(storage) == []


def test_gate_instances_at_once_open_the_window_once(
    smtp_server: SmtpServer, storage: Storage
) -> None:
    """8 instances (threads, each with its own mailer, sharing only storage, like Lambda
    instances) tell a burst at the same moment: one email goes at once, and after the
    nightly run each comment has been told exactly once, in at most 2 emails."""
    burst = [commented(n, seconds=0.1 * n) for n in range(8)]
    start = threading.Barrier(len(burst))

    def instance(event: AuditEvent) -> None:
        hook = gate_staff_notifier(settings(smtp_server), storage, lambda e: INFO)
        assert hook is not None
        start.wait()
        hook(event)

    threads = [threading.Thread(target=instance, args=(e,)) for e in burst]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(smtp_server.messages) == 1
    nightly(smtp_server, storage, burst)
    told = sorted(text for texts in told_texts(smtp_server) for text in texts)
    assert told == sorted(f"mensaje {n} <b>negrita</b>" for n in range(8))
    assert len(smtp_server.messages) <= 2


def test_a_burst_through_the_gate_on_lambda(
    june_world_any: GateWorld, smtp_server: SmtpServer
) -> None:
    """The gate as AWS Lambda runs it (nothing after the answer), on a folder and on
    SeaweedFS: 8 comments in a row give one email at once, the nightly run one more."""
    world = june_world_any
    mail = dataclasses.replace(
        world.settings.mail,
        backend="smtp",
        host="127.0.0.1",
        port=smtp_server.port,
        security="none",
        from_address="Suministros Levante <facturas@levante.example>",
        staff_address="oficina@levante.example",
    )
    mailing = dataclasses.replace(world.settings, mail=mail)
    client = signed_in(world, notify_staff=configured_staff_notifier(mailing), background=False)
    for n in range(8):
        assert comment(client, "contact.html", f"mensaje {n}").status_code == 303
        world.clock.advance(2)
    assert told_texts(smtp_server) == [["mensaje 0"]]
    burst = [e for e in events(world) if e.type == "comment.added"]
    with open_mailer(mailing) as mailer:
        report = send_staff_backlog(
            StaffNotifier(world.storage, mailer), burst, {"C00007": INFO}, now=burst[-1].when
        )
    assert (report.sent, report.emails, report.waiting) == (7, 1, [])
    assert told_texts(smtp_server)[1] == [f"mensaje {n}" for n in range(1, 8)]


def with_mail(fresh_demo: Path, smtp_server: SmtpServer) -> None:
    mail = smtp_server.mail_settings()
    with (fresh_demo / "config.yaml").open("a", encoding="utf-8") as fh:
        fh.write("mail:\n" + "".join(f"  {k}: {v!r}\n" for k, v in mail.items()))


def notify_run(fresh_demo: Path, *args: str) -> Result:
    config = ["--config", str(fresh_demo / "config.yaml")]
    command = [*config, "notify", str(fresh_demo), *args]
    return CliRunner().invoke(cli, command, env={"PORTALGEN_SECRET": ""})


def test_notify_tells_held_payment_refusals_that_name_no_customer(
    fresh_demo: Path, smtp_server: SmtpServer, time_machine: Any
) -> None:
    time_machine.move_to(WHEN + timedelta(hours=8), tick=False)
    with_mail(fresh_demo, smtp_server)
    hook = gate_staff_notifier(demo_settings(fresh_demo), LocalStorage(fresh_demo / "site"))
    assert hook is not None
    log = AuditLog(demo_settings(fresh_demo).audit.path)
    refused = [
        new_event(
            "payment.refused", "", data={"provider": "stripe", "reason": f"bad {n}"}, now=WHEN
        )
        for n in range(2)
    ]
    for event in refused:
        log.append(event)
        hook(event)
    assert len(smtp_server.messages) == 1
    summary = json.loads(notify_run(fresh_demo, "--json").output)
    assert (summary["staff_notices"], summary["staff_waiting"]) == (1, [])
    assert "bad 1" in body_text(smtp_server.messages[1].message)


def test_notify_tells_the_held_ones_and_says_what_still_waits(
    fresh_demo: Path, smtp_server: SmtpServer, time_machine: Any
) -> None:
    """`portalgen notify` (the nightly run) sends what the gate held, one email per
    customer, and names the held events it did not tell (a customer left out); `check`
    warns of them until then."""
    time_machine.move_to(WHEN + timedelta(hours=8), tick=False)
    with_mail(fresh_demo, smtp_server)
    storage = LocalStorage(fresh_demo / "site")
    hook = gate_staff_notifier(demo_settings(fresh_demo), storage)
    assert hook is not None
    log = AuditLog(demo_settings(fresh_demo).audit.path)
    burst = [commented(n, seconds=n, customer="C00007") for n in range(3)]
    for event in burst:
        log.append(event)  # as the gate does: recorded, then told
        hook(event)
    assert len(smtp_server.messages) == 1

    def run(*args: str) -> Result:
        config = str(fresh_demo / "config.yaml")
        return CliRunner().invoke(
            cli,
            ["--config", config, "notify", str(fresh_demo), *args],
            env={"PORTALGEN_SECRET": ""},
        )

    checked = CliRunner().invoke(
        cli, ["--config", str(fresh_demo / "config.yaml"), "check", str(fresh_demo)], env={}
    )
    assert checked.exit_code == 0, checked.output
    assert (
        "warning: staff have not been emailed yet about 2 action(s) of C00007 in the portal "
        "since 15/06/2026 12:42 (held after a burst); `portalgen notify` sends them"
    ) in checked.stderr

    other = run("--only", "C00008")
    assert other.exit_code == 0, other.output
    assert "2 event(s) held for a staff notice are still waiting" in other.output
    assert f"  C00007: comment.added {burst[1].id} of 2026-06-15T10:42Z" in other.output
    assert len(smtp_server.messages) == 1

    summary = json.loads(run("--json").output)
    assert (summary["staff_notices"], summary["staff_emails"]) == (2, 1)
    assert summary["staff_waiting"] == []
    assert told_texts(smtp_server)[1] == [f"mensaje {n} <b>negrita</b>" for n in (1, 2)]
    again = run()
    assert again.exit_code == 0 and "waiting" not in again.output
    checked = CliRunner().invoke(
        cli, ["--config", str(fresh_demo / "config.yaml"), "check", str(fresh_demo)], env={}
    )
    assert "staff have not been emailed" not in checked.stderr
    assert len(smtp_server.messages) == 2


def test_a_server_tells_the_held_ones_when_the_window_ends(
    smtp_server: SmtpServer, storage: Storage, tmp_path: Path
) -> None:
    """`portalgen serve` (notices off the request's thread) need not wait for the nightly
    run: a timer tells what a customer holds when its window (here 1 s) is over."""
    from portalgen.audit.sinks import LocalAuditSink
    from portalgen.mail.staff import StaffNoticeSink

    hook = gate_staff_notifier(settings(smtp_server, staff_batch=1), storage, lambda e: INFO)
    assert hook is not None
    sink = StaffNoticeSink(LocalAuditSink(AuditLog(tmp_path / "audit.jsonl")), hook)
    burst = [commented(n, seconds=0.1 * n) for n in range(5)]
    for event in burst:
        sink.record(event)
        sink.wait()  # in order, so the first is the one told at once
    assert told_texts(smtp_server) == [["mensaje 0 <b>negrita</b>"]]
    timer = sink.timers["C00003"]
    timer.join(30)
    assert told_texts(smtp_server)[1] == [f"mensaje {n} <b>negrita</b>" for n in range(1, 5)]
    assert len(smtp_server.messages) == 2 and still_held(storage) == []
    assert nightly(smtp_server, storage, burst) == (0, 0)
