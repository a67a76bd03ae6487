"""Staff notices held after a burst go out on AWS Lambda once their window ends, without
waiting for the customer's next action or the nightly run: the template's EventBridge
schedule invokes the function with EventBridge's scheduled event, and the handler sends
the held notices that are due, each once.

Real parts: the gates as Lambda builds them (nothing after the answer; one per customer,
like separate instances, sharing only storage), the handler, a real SMTP server
(aiosmtpd), a folder and SeaweedFS. The event is AWS's published example of a scheduled
event (tests/events/eventbridge-scheduled.json; AWS Lambda Developer Guide, "Using AWS
Lambda with scheduled events",
https://docs.aws.amazon.com/lambda/latest/dg/with-scheduled-events.html). The clock is
the world's manual clock.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from portalgen.config import Settings
from portalgen.gate.factory import configured_staff_notifier
from portalgen.gate.lambda_handler import make_handler
from portalgen.mail.mailer import open_mailer
from portalgen.mail.staff import StaffNotifier, send_staff_backlog, still_held
from tests.gate_fixtures import GateWorld
from tests.interact_fixtures import comment, events, signed_in
from tests.smtpserver import SmtpServer
from tests.test_deploy import load_template, sam_transformed
from tests.test_mail_staff_batch import told_texts

SCHEDULED = json.loads(
    (Path(__file__).parent / "events" / "eventbridge-scheduled.json").read_text()
)
WINDOW = 300  # mail.staff_batch's default, in seconds


def mailing(world: GateWorld, server: SmtpServer) -> Settings:
    mail = dataclasses.replace(
        world.settings.mail,
        backend="smtp",
        host="127.0.0.1",
        port=server.port,
        security="none",
        from_address="Suministros Levante <facturas@levante.example>",
        staff_address="oficina@levante.example",
    )
    return dataclasses.replace(world.settings, mail=mail)


def test_the_schedule_sends_the_due_held_notices_once(
    june_world_any: GateWorld, smtp_server: SmtpServer
) -> None:
    """C00007 writes 3 comments, C00008 2 comments two minutes later: the first of each is
    emailed at once, the rest held. A scheduled run sends a customer's held ones only once
    their window is over, in one email, and never again."""
    world = june_world_any
    settings = mailing(world, smtp_server)
    lambda_options: dict[str, Any] = {"background": False}
    scheduled = make_handler(
        world.make_gate(notify_staff=configured_staff_notifier(settings), **lambda_options)
    )

    def run() -> int:
        answer: int = scheduled(json.loads(json.dumps(SCHEDULED)), None)["sent"]
        return answer

    def burst(code: str, texts: list[str]) -> None:
        notices = configured_staff_notifier(settings)
        client = signed_in(world, code, notify_staff=notices, **lambda_options)
        for text in texts:
            assert comment(client, "contact.html", text).status_code == 303
            world.clock.advance(2)

    def wait_until(moment: float) -> None:
        world.clock.advance(moment - world.clock())

    a_opens = world.clock()
    burst("C00007", ["mensaje A0", "mensaje A1", "mensaje A2"])
    world.clock.advance(120)
    b_opens = world.clock()
    burst("C00008", ["mensaje B0", "mensaje B1"])
    assert told_texts(smtp_server) == [["mensaje A0"], ["mensaje B0"]]
    assert len(still_held(world.storage)) == 3

    assert run() == 0  # nobody's window is over yet
    wait_until(a_opens + WINDOW - 1)
    assert run() == 0  # a second early
    wait_until(a_opens + WINDOW)  # C00007's window is over, C00008's is not
    assert run() == 2
    assert told_texts(smtp_server)[2:] == [["mensaje A1", "mensaje A2"]]
    assert run() == 0  # EventBridge delivering the event again, the next minute's run
    assert len(smtp_server.messages) == 3

    wait_until(b_opens + WINDOW)  # C00008's window is over too
    assert run() == 1 and run() == 0
    assert told_texts(smtp_server)[3:] == [["mensaje B1"]]
    assert still_held(world.storage) == []
    # The nightly run finds nothing owed: each comment was told once.
    with open_mailer(settings) as mailer:
        report = send_staff_backlog(
            StaffNotifier(world.storage, mailer),
            [e for e in events(world) if e.type == "comment.added"],
            {},
            now=events(world)[-1].when,
        )
    assert (report.sent, report.emails, report.waiting) == (0, 0, [])
    assert len(smtp_server.messages) == 4


def test_only_a_scheduled_event_sends_held_notices(
    june_world: GateWorld, smtp_server: SmtpServer
) -> None:
    """An HTTP event shaped by a client (a Function URL request whose body or headers
    say "Scheduled Event") is an ordinary request: only EventBridge's event sends."""
    from tests.test_gate_lambda import event_for

    world = june_world
    settings = mailing(world, smtp_server)
    notices = configured_staff_notifier(settings)
    client = signed_in(world, "C00007", notify_staff=notices, background=False)
    for text in ("mensaje A0", "mensaje A1"):
        assert comment(client, "contact.html", text).status_code == 303
    world.clock.advance(WINDOW + 1)
    handler = make_handler(world.make_gate(notify_staff=notices, background=False))
    posing = event_for("function-url.json", "GET", "/", headers={"source": "aws.events"})
    posing.update({key: SCHEDULED[key] for key in ("source", "detail-type")})
    assert "sent" not in handler(posing, None)
    assert len(smtp_server.messages) == 1
    assert handler(dict(SCHEDULED), None) == {"sent": 1}
    assert told_texts(smtp_server) == [["mensaje A0"], ["mensaje A1"]]


def test_the_template_schedules_the_function_when_it_sends_mail(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The rule SAM makes invokes the gate's function with EventBridge's own event, and is
    enabled only with email (MailIdentityArn). (tests/test_deploy.py lints the
    transformed template with cfn-lint.)"""
    resources = sam_transformed(monkeypatch)["Resources"]
    ((rule,),) = [[r for r in resources.values() if r["Type"] == "AWS::Events::Rule"]]
    props = rule["Properties"]
    assert props["ScheduleExpression"] == {"Ref": "HeldNoticesSchedule"}
    assert props["State"] == {"Fn::If": ["SendsMail", "ENABLED", "DISABLED"]}
    ((target,),) = [props["Targets"]]
    assert target["Arn"] == {"Fn::GetAtt": ["GateFunction", "Arn"]}
    assert "Input" not in target  # EventBridge's scheduled event, as it is, reaches the handler
    callers = [
        r["Properties"]["Principal"]
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::Permission"
    ]
    assert callers.count("events.amazonaws.com") == 1
    default = load_template()["Parameters"]["HeldNoticesSchedule"]["Default"]
    assert default == "rate(1 minute)"
