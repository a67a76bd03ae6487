"""`portalgen push facturascripts` for online payments and comments, and from `publish`.

Payment events are recorded here in the shape docs/facturascripts.md defines
(``payment.received``); tests/test_push_receipts.py pays through the gate.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from click.testing import CliRunner

from portalgen.audit.events import new_event
from portalgen.audit.log import AuditLog
from portalgen.cli import cli
from portalgen.push.plans import cents
from tests.fs_api import TOKEN
from tests.interact_fixtures import comment, decide
from tests.push_fixtures import QUOTE, FsWorld, write_config

PAID = datetime(2026, 6, 15, 9, 12, tzinfo=UTC)


def receipt(world: FsWorld, idrecibo: int = 3) -> dict[str, Any]:
    return next(r for r in world.api.data["reciboclientes"] if r["idrecibo"] == idrecibo)


def record_payment(world: FsWorld, amount: Decimal | None = None) -> str:
    """A payment.received event as the online payment feature will record it."""
    due = cents(receipt(world)["importe"])
    event = new_event(
        "payment.received",
        "1",
        contact="administracion@talleresperez.example",
        document="invoices/F2026A2.html",
        data={
            "invoice": "F2026A2",
            "receipt": "F2026A2-2",
            "receipt_id": "3",
            "amount": str(amount if amount is not None else due),
            "currency": "EUR",
            "provider": "stripe",
            "transaction": "pi_3PzTest",
        },
        now=PAID,
    )
    AuditLog(world.settings().audit.path).append(event)
    return event.id


def test_an_online_payment_marks_the_receipt_paid_once(fs_world: FsWorld) -> None:
    write_config(fs_world.folder, fs_world.url, method="TARJETA")
    event_id = record_payment(fs_world)
    result = fs_world.push()
    assert result.exit_code == 0, result.output
    assert "reciboclientes/3 paid (TARJETA)" in result.output
    [(resource, record_id, fields)] = fs_world.api.writes
    assert (resource, record_id) == ("reciboclientes", "3")
    assert fields["pagado"] == "1" and fields["fechapago"] == "15-06-2026"
    assert fields["codpago"] == "TARJETA"
    row = receipt(fs_world)
    assert row["pagado"] is True and row["fechapago"] == "15-06-2026"
    assert "Pagado en línea el 15/06/2026 11:12" in row["observaciones"]
    assert "(stripe, transacción pi_3PzTest)" in row["observaciones"]
    assert f"[portalgen {event_id}]" in row["observaciones"]
    assert "Pushed 0" in fs_world.push().output and len(fs_world.api.writes) == 1


def test_a_payment_that_does_not_match_the_receipt_is_skipped(fs_world: FsWorld) -> None:
    write_config(fs_world.folder, fs_world.url, method="TARJETA")
    record_payment(fs_world, Decimal("10.00"))
    result = fs_world.push()
    assert result.exit_code == 0, result.output
    due = cents(receipt(fs_world)["importe"])
    assert f"the receipt is for {due} EUR; the payment was 10.00 EUR" in result.output
    assert fs_world.api.writes == [] and receipt(fs_world)["pagado"] is False


def test_payments_wait_for_the_payment_method(fs_world: FsWorld) -> None:
    record_payment(fs_world)
    result = fs_world.push()
    assert result.exit_code == 1
    assert "facturascripts.online_payment_method is not set" in result.output
    assert fs_world.api.writes == []


def test_comments_are_appended_where_facturascripts_lets_them(fs_world: FsWorld) -> None:
    client = fs_world.client()
    assert comment(client, f"quotes/{QUOTE}.html", "¿Incluye el filtro?").status_code == 303
    assert comment(client, "invoices/F2026A1.html", "Pagada ya").status_code == 303
    result = fs_world.push()
    assert result.exit_code == 0, result.output
    assert "Pushed 2" in result.output
    quote = fs_world.quote()  # an editable quote: its own notes
    assert "Comentario en el portal el 15/06/2026" in quote["observaciones"]
    assert "¿Incluye el filtro?" in quote["observaciones"]
    # An issued invoice is not editable: FacturaScripts would refuse its notes
    # (TransformerDocument::onChange), so the comment goes to the customer's.
    customer = next(r for r in fs_world.api.data["clientes"] if r["codcliente"] == "1")
    assert "sobre F2026A1:\nPagada ya" in customer["observaciones"]
    invoice = fs_world.api.data["facturaclientes"][0]
    assert not invoice.get("observaciones")
    assert "Pushed 0" in fs_world.push().output


def test_comments_stay_out_with_push_comments_false(fs_world: FsWorld) -> None:
    write_config(fs_world.folder, fs_world.url, comments=False)
    comment(fs_world.client(), f"quotes/{QUOTE}.html", "Hola")
    result = fs_world.push()
    assert result.exit_code == 0 and "Pushed 0, skipped 0, failed 0." in result.output
    assert fs_world.api.writes == []


@pytest.fixture
def june(time_machine: time_machine.TimeMachineFixture) -> None:
    time_machine.move_to(datetime(2026, 6, 15, 9, 0, tzinfo=UTC), tick=True)


def publish(world: FsWorld, *args: str, token: str | None = TOKEN) -> Any:
    env = {"FACTURASCRIPTS_API_TOKEN": token} if token is not None else {}
    command = ["--config", str(world.config), "publish", *args]
    return CliRunner().invoke(cli, command, env=env)


def test_publish_pushes_after_publishing_and_reports_it(fs_world: FsWorld, june: None) -> None:
    response = decide(fs_world.client(), QUOTE, "accept", name="Pedro")
    assert response.status_code == 303
    write_config(fs_world.folder, fs_world.url, push=True)
    result = publish(fs_world, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout[result.stdout.index("{") :])
    assert summary["push"]["ok"] is True
    [pushed] = summary["push"]["pushed"]
    assert pushed["item"] == f"quote {QUOTE} (1) accepted"
    assert fs_world.quote()["idestado"] == 2


def test_a_push_failing_after_publish_is_a_warning(fs_world: FsWorld, june: None) -> None:
    decide(fs_world.client(), QUOTE, "accept", name="Pedro")
    write_config(fs_world.folder, fs_world.url, push=True)
    fs_world.api.fail_with = 503
    result = publish(fs_world, "--json")
    assert result.exit_code == 0, result.output  # the portals are out
    assert "warning: push: some things could not be pushed" in result.stderr
    summary = json.loads(result.stdout[result.stdout.index("{") :])
    assert summary["push"]["ok"] is False
    assert "HTTP 503" in summary["push"]["failed"][0]["detail"]
    result = publish(fs_world, "--json", token=None)
    assert "warning: push: set the environment variable FACTURASCRIPTS_API_TOKEN" in result.stderr
    assert result.exit_code == 0


def test_check_stops_asking_staff_to_enter_a_pushed_decision(fs_world: FsWorld) -> None:
    decide(fs_world.client(), QUOTE, "accept", name="Pedro")
    check = ["--config", str(fs_world.config), "check"]
    with time_machine.travel(datetime(2026, 6, 15, 12, 0, tzinfo=UTC)):
        before = CliRunner().invoke(cli, check)
        assert f"quote {QUOTE} (1): accepted in the portal" in before.output, before.output
        assert "Pushed 1" in fs_world.push().output
        after = CliRunner().invoke(cli, check)
    assert f"quote {QUOTE} (1)" not in after.output, after.output
