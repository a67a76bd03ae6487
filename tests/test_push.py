"""`portalgen push facturascripts`: decisions made in the portal reach FacturaScripts once.

FacturaScripts is the API stand-in of tests/fs_api.py (which names the FacturaScripts
source each of its behaviours comes from); the portal is a real gate over a site
published from the stand-in's own records (tests/push_fixtures.py).
"""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from portalgen.audit.log import AuditLog
from portalgen.interact.decisions import read_decision
from portalgen.push.records import read_record
from tests.interact_fixtures import (
    decide,
    form_fields,
    http_get,
    http_post,
    http_sign_in,
    serving,
)
from tests.push_fixtures import QUOTE, FsWorld, kill_when, push_process


def push_record(world: FsWorld, slug: str = QUOTE) -> Any:
    return read_record(world.storage, f"_push/decisions/{world.customer_key()}/{slug}.json")


def quote_writes(world: FsWorld) -> list[tuple[str, str, dict[str, str]]]:
    return [w for w in world.api.writes if w[0] == "presupuestoclientes"]


def accept_over_http(world: FsWorld, name: str = "Pedro Pérez") -> None:
    """Open the link, then the quote's page, and press Accept, over real HTTP."""
    with serving(world.gate()) as base:
        cookie = http_sign_in(base, world.link())
        status, page = http_get(base, f"/portal/quotes/{QUOTE}.html", cookie)
        assert status == 200
        fields = form_fields(page, "form-accept")
        assert fields["csrf_token"]
        fields.update(name=name, comment="Adelante, la semana que viene.")
        assert http_post(base, f"/portal/quotes/{QUOTE}/accept", cookie, fields) == 303


def test_a_portal_decision_reaches_facturascripts_exactly_once(fs_world: FsWorld) -> None:
    accept_over_http(fs_world)
    record = read_decision(fs_world.storage, fs_world.customer_key(), QUOTE)
    assert record is not None
    assert record.extra["published"]["source_id"] == "1"

    result = fs_world.push()
    assert result.exit_code == 0, result.output
    assert "Pushed 1, skipped 0, failed 0." in result.output
    assert "presupuestoclientes/1 state Pedido (2)" in result.output
    [(_, record_id, fields)] = quote_writes(fs_world)
    assert record_id == "1" and fields["idestado"] == "2"
    quote = fs_world.quote()
    # FacturaScripts created the order (generadoc), once.
    [order] = fs_world.api.created("PedidoCliente")
    assert order["_generated_from"] == 1 and order["codcliente"] == "1"
    assert quote["idestado"] == 2 and quote["idestado_ant"] == 1 and not quote["editable"]
    notes = quote["observaciones"]
    assert "Presupuesto aceptado en el portal el 15/06/2026" in notes
    assert "Pedro Pérez" in notes and "Adelante, la semana que viene." in notes
    assert f"[portalgen {record.event_id}]" in notes
    assert push_record(fs_world).state == "done"
    sent = [e for e in AuditLog(fs_world.settings().audit.path).events() if e.type == "push.sent"]
    assert [e.data["record"] for e in sent] == ["presupuestoclientes/1"]

    again = fs_world.push()
    assert again.exit_code == 0, again.output
    assert "Pushed 0, skipped 0, failed 0." in again.output
    assert len(quote_writes(fs_world)) == 1 and len(fs_world.api.created("PedidoCliente")) == 1


def accept(world: FsWorld, slug: str = QUOTE, action: str = "accept", **fields: str) -> None:
    """Decide in the portal through the real gate (in process), CSRF token and all."""
    if action == "accept":
        fields.setdefault("name", "Pedro Pérez")  # the full name signs an acceptance
    response = decide(world.client(), slug, action, **fields)
    assert response.status_code == 303, response.get_data(as_text=True)[:300]


def test_a_push_killed_before_its_request_is_pushed_once_by_the_next(fs_world: FsWorld) -> None:
    """A real subprocess, SIGKILLed after its claim and before its write: while
    the stand-in holds the read-back GET that comes between them."""
    accept(fs_world)
    kill_when(fs_world, "GET")
    claim = push_record(fs_world)
    assert claim.state == "sending" and claim.host == socket.gethostname()
    assert quote_writes(fs_world) == [] and fs_world.quote()["idestado"] == 1

    result = fs_world.push()  # the claim's process is gone: taken over at once
    assert result.exit_code == 0, result.output
    assert "Pushed 1" in result.output
    result = fs_world.push()
    assert "Pushed 0, skipped 0, failed 0." in result.output
    assert len(quote_writes(fs_world)) == 1
    assert len(fs_world.api.created("PedidoCliente")) == 1
    assert push_record(fs_world).state == "done"


def test_a_push_killed_after_its_write_landed_is_not_written_again(fs_world: FsWorld) -> None:
    accept(fs_world)
    kill_when(fs_world, "PUT", after_write=True)
    assert len(quote_writes(fs_world)) == 1 and push_record(fs_world).state == "sending"

    result = fs_world.push()  # reads the quote back: its reference is in the notes
    assert result.exit_code == 0, result.output
    assert "presupuestoclientes/1 (already there)" in result.output
    assert len(quote_writes(fs_world)) == 1
    assert len(fs_world.api.created("PedidoCliente")) == 1
    assert fs_world.quote()["observaciones"].count("[portalgen ") == 1
    assert push_record(fs_world).state == "done"


def test_a_claim_by_a_live_push_elsewhere_is_left_alone_until_stuck(
    fs_world: FsWorld, time_machine: time_machine.TimeMachineFixture
) -> None:
    """Two machines: the other one's claim is recent and its process is not ours to see;
    after STUCK (10 minutes) it counts as interrupted and is taken over."""
    from portalgen.push.records import PushRecord

    accept(fs_world)
    claimed = datetime(2026, 6, 15, 9, 0, tzinfo=UTC)
    time_machine.move_to(claimed + timedelta(minutes=9), tick=False)
    key = f"_push/decisions/{fs_world.customer_key()}/{QUOTE}.json"
    other = PushRecord("sending", claimed.isoformat(), "x", "other-host", 4242)
    fs_world.storage.put(key, other.to_json(), "application/json")
    result = fs_world.push()
    assert result.exit_code == 0, result.output
    assert "another push has been sending it since 2026-06-15T09:00:00+00:00" in result.output
    assert quote_writes(fs_world) == []
    time_machine.move_to(claimed + timedelta(minutes=11), tick=False)
    result = fs_world.push()
    assert "Pushed 1" in result.output and len(quote_writes(fs_world)) == 1


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"idestado": 3, "editable": False}, "its state in FacturaScripts is now Rechazado (3)"),
        ({"total": 99.5}, "its total in FacturaScripts is 99.50; the customer saw 189.85"),
        ({"idestado": 2, "editable": False}, "already accepted in FacturaScripts"),
        ({"editable": False}, "it is not editable in FacturaScripts any more"),
    ],
)
def test_a_quote_changed_in_facturascripts_is_skipped_and_staff_are_told(
    fs_world: FsWorld, change: dict[str, Any], reason: str
) -> None:
    accept(fs_world)
    fs_world.quote().update(change)  # staff changed it in the office meanwhile
    result = fs_world.push()
    assert result.exit_code == 0, result.output
    assert f"skipped quote {QUOTE} (1) accepted: {reason}" in result.output
    assert "Pushed 0, skipped 1, failed 0." in result.output
    assert quote_writes(fs_world) == [] and fs_world.api.created("PedidoCliente") == []
    [event] = [
        e for e in AuditLog(fs_world.settings().audit.path).events() if e.type == "push.skipped"
    ]
    assert reason in event.data["reason"] and event.document == f"quotes/{QUOTE}.html"
    assert event.customer == "1" and event.contact == "staff"
    assert push_record(fs_world).state == "skipped"
    again = fs_world.push()  # told once
    assert "skipped" not in again.output.replace("skipped 0", "")


def closed_port() -> int:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_errors_are_one_line_each_mark_nothing_and_the_next_run_retries(
    fs_world: FsWorld,
) -> None:
    accept(fs_world)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"url": f"http://127.0.0.1:{closed_port()}/erp"}, "cannot reach http://127.0.0.1:"),
        ({"token": "wrong-key"}, "the API refused the key (HTTP 401: auth-token-invalid)"),
    ]
    for options, message in cases:
        result = fs_world.push(**options)
        assert result.exit_code == 1, result.output
        [line] = [x for x in result.output.splitlines() if x.startswith("error: ")]
        assert message in line and "wrong-key" not in result.output
        assert push_record(fs_world).state == "failed"
    broken = [
        ("read_only", {"presupuestoclientes"}, "may not PUT this resource (HTTP 403: forbidden)"),
        ("fail_with", 500, "FacturaScripts answered HTTP 500: API-ERROR: database is gone"),
    ]
    for name, value, message in broken:
        setattr(fs_world.api, name, value)
        result = fs_world.push()
        assert result.exit_code == 1, result.output
        assert f"error: quote {QUOTE} (1) accepted: " in result.output and message in result.output
        assert push_record(fs_world).state == "failed" and quote_writes(fs_world) == []
        setattr(fs_world.api, name, None if name == "fail_with" else set())
    assert fs_world.quote()["idestado"] == 1
    result = fs_world.push()  # all well again: pushed now, once
    assert result.exit_code == 0 and "Pushed 1" in result.output, result.output
    assert len(quote_writes(fs_world)) == 1


def test_a_quote_gone_from_facturascripts_is_an_error(fs_world: FsWorld) -> None:
    accept(fs_world)
    fs_world.api.data["presupuestoclientes"].remove(fs_world.quote())
    result = fs_world.push()
    assert result.exit_code == 1
    assert (
        "presupuestoclientes/1: no such record in FacturaScripts (HTTP 404: record-not-found)"
        in (result.output)
    )
    assert push_record(fs_world).state == "failed"


def test_a_missing_token_or_url_is_a_usage_error(fs_world: FsWorld) -> None:
    result = fs_world.push(token=None)
    assert result.exit_code == 2 and "FACTURASCRIPTS_API_TOKEN" in result.output


def test_dry_run_prints_every_request_and_changes_nothing(fs_world: FsWorld) -> None:
    accept(fs_world)
    result = fs_world.push("--dry-run")
    assert result.exit_code == 0, result.output
    requests = [x for x in result.output.splitlines() if x.startswith("request: ")]
    assert requests[0] == f"request: GET {fs_world.url}/api/3/presupuestoclientes/1"
    assert any("estadodocumentos?filter%5Btipodoc%5D=PresupuestoCliente" in r for r in requests)
    [put] = [r for r in requests if r.startswith("request: PUT ")]
    assert put.startswith(
        f"request: PUT {fs_world.url}/api/3/presupuestoclientes/1 idestado=2&observaciones="
    )
    assert "Would push 1, skipped 0, failed 0." in result.output
    assert quote_writes(fs_world) == [] and push_record(fs_world) is None
    as_json = json.loads(fs_world.push("--dry-run", "--json").output)
    assert as_json["dry_run"] is True
    assert as_json["pushed"][0]["request"]["fields"]["idestado"] == "2"


def test_a_rejection_sets_the_configured_rejected_state(fs_world: FsWorld) -> None:
    accept(fs_world, action="reject", reason="Demasiado caro")
    result = fs_world.push()
    # The stand-in's data has two final quote states besides Caducado: which one?
    assert result.exit_code == 1
    assert "cannot tell which quote state means rejected" in result.output
    assert "[3 (Rechazado), 30 (En espera del cliente)]" in result.output
    assert "facturascripts.rejected_state" in result.output
    text = fs_world.config.read_text().replace(
        "facturascripts:\n", "facturascripts:\n  rejected_state: 3\n"
    )
    fs_world.config.write_text(text)
    result = fs_world.push()
    assert result.exit_code == 0, result.output
    quote = fs_world.quote()
    assert quote["idestado"] == 3 and fs_world.api.created("PedidoCliente") == []
    assert "Presupuesto rechazado en el portal" in quote["observaciones"]
    assert "Motivo: Demasiado caro" in quote["observaciones"]


@pytest.mark.realclock  # the first push is a subprocess: its claim is dated by the real clock
def test_two_pushes_at_once_write_a_decision_once(fs_world: FsWorld) -> None:
    """Two processes (as two staff machines would): while the first holds its claim and
    is reading the quote back, the second leaves the decision alone."""
    accept(fs_world)
    held = fs_world.api.hold("GET", "presupuestoclientes")
    process = push_process(fs_world)
    try:
        assert held.arrived.wait(60)
        second = fs_world.push()
        assert second.exit_code == 0, second.output
        assert "another push has been sending it since" in second.output
        assert "Pushed 0" in second.output
        held.release.set()
        out, _ = process.communicate(timeout=60)
    finally:
        held.release.set()
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0 and b"Pushed 1, skipped 0, failed 0." in out
    assert len(quote_writes(fs_world)) == 1 and len(fs_world.api.created("PedidoCliente")) == 1
