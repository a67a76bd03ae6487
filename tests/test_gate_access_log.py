"""The gate's access log: one JSON line per request on stderr, with what an operator
needs (time, method, path, status, bytes, duration, customer, a keyed client hash) and
nothing secret (no link token, cookie, code or raw address)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from typing import Any

from portalgen.config import load_settings
from portalgen.gate.factory import create_app
from tests.gate_fixtures import GateWorld, csrf_of, with_code


def lines_of(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_every_request_is_one_json_line_without_secrets(gate_world: GateWorld) -> None:
    world = gate_world
    gate = world.make_gate()
    assert gate.access_log is not None
    stream = io.StringIO()
    gate.access_log.stream = stream
    client = world.client(gate)
    link = world.link("C00007")
    client.sign_in(link)
    home = client.get("/portal/")
    client.get("/portal/no-such-page.html")
    logged = lines_of(stream)
    assert [(e["method"], e["status"]) for e in logged][-2:] == [("GET", 200), ("GET", 404)]
    page = logged[-2]
    assert page["path"] == "/portal/" and page["customer"] == world.key("C00007")
    assert page["bytes"] == len(home.get_data())
    assert page["ms"] >= 0
    assert page["time"] == datetime.fromtimestamp(world.clock(), UTC).isoformat(
        timespec="milliseconds"
    )
    first = logged[0]  # the link page itself: its token cut off, nobody signed in yet
    assert first["path"] == "/l/…" and first["customer"] is None
    text = stream.getvalue()
    token = link.rsplit("/", 1)[-1]
    session = client.cookie("pg_session")
    assert token not in text and session and session not in text
    assert "127.0.0.1" not in text
    assert len({e["client"] for e in logged}) == 1 and len(first["client"]) == 16


def test_a_refused_code_is_logged_without_the_code(gate_world: GateWorld) -> None:
    world = gate_world
    temporary = with_code(world, "C00007", "ACME-7142-5931")
    gate = world.make_gate()
    assert gate.access_log is not None
    stream = io.StringIO()
    gate.access_log.stream = stream
    client = world.client(gate)
    client.open_link(world.link("C00007"))
    token = csrf_of(client.get("/code").get_data(as_text=True))
    client.post("/code", {"csrf_token": token, "code": "WRONG-9999-9999"})
    assert lines_of(stream)[-1]["status"] == 403
    assert "WRONG-9999" not in stream.getvalue() and temporary not in stream.getvalue()


def test_the_access_log_can_be_turned_off(gate_world: GateWorld) -> None:
    world = gate_world
    settings = load_settings(overrides={"gate": {"access_log": False}})
    gate = create_app(settings, world.storage, secrets=world.secrets, clock=world.clock)
    assert gate.access_log is None
