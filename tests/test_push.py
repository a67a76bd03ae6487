"""`portalgen push facturascripts`: decisions made in the portal reach FacturaScripts once.

FacturaScripts is the API stand-in of tests/fs_api.py (which names the FacturaScripts
source each of its behaviours comes from); the portal is a real gate over a site
published from the stand-in's own records (tests/push_fixtures.py).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from typing import Any

import pytest

from portalgen.audit.log import AuditLog
from portalgen.interact.decisions import read_decision
from portalgen.push.records import read_record
from tests.fs_api import TOKEN
from tests.interact_fixtures import (
    decide,
    form_fields,
    http_get,
    http_post,
    http_sign_in,
    serving,
)
from tests.push_fixtures import QUOTE, FsWorld

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
