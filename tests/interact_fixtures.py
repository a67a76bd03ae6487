"""Fixtures for decisions, comments, views and the webhook.

The demo portals are rendered for TODAY (15 June 2026): the gate must agree on the date,
or every pending quote would have expired by the machine's clock. `june_world` (a local
folder) and `june_world_any` (a folder and SeaweedFS) are the gate worlds with their clock
on that morning and fresh links signed then. `JuneClock` is a clock that runs, for real
servers. `WebhookReceiver` is a real HTTP server that checks each request's signature the
way docs/webhook.md tells a receiver to.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from werkzeug.test import TestResponse

from portalgen.audit.events import AuditEvent
from portalgen.audit.log import AuditLog
from portalgen.audit.sinks import EVENTS_PREFIX
from portalgen.storage import LocalStorage
from tests.gate_fixtures import GateClient, GateWorld, build_world

JUNE = datetime(2026, 6, 15, 8, 30, tzinfo=UTC).timestamp()  # 10:30 in Madrid
PENDING = "P2026A-00017"  # C00007, pending, valid until 10 July 2026
PENDING_EN = "P2026A-00014"  # C00008 (English), pending, valid until 23 June 2026
EXPIRED = "P2026A-00009"  # C00008, pending in the export, valid until 27 May 2026
ACCEPTED = "P2025A-00007"  # C00007, accepted in the export
REJECTED = "P2025A-00002"  # C00007, rejected in the export
WEBHOOK_SECRET = "whsec-test-0123456789abcdef"
BROWSER = {"Sec-Fetch-Site": "same-origin", "User-Agent": "Mozilla/5.0 (Android 14; Mobile)"}


class JuneClock:
    """The real clock, moved back to the morning of TODAY: time passes as it does."""

    def __init__(self, start: float = JUNE) -> None:
        self.offset = time.time() - start

    def __call__(self) -> float:
        return time.time() - self.offset


def move_to(world: GateWorld, when: float) -> None:
    """Set the world's clock to `when` and sign fresh links then."""
    world.clock.now = when
    for code in list(world.grants):
        world.grants[code] = world.service.links(code)


@pytest.fixture
def june_world(gate_world: GateWorld) -> GateWorld:
    move_to(gate_world, JUNE)
    return gate_world


@pytest.fixture
def june_world_any(gate_world_any: GateWorld) -> GateWorld:
    move_to(gate_world_any, JUNE)
    return gate_world_any


@pytest.fixture
def june_s3(
    demo_dir: Path, built_portals: Path, tmp_path: Path, s3_storage_config: dict[str, Any]
) -> GateWorld:
    """The world on SeaweedFS only (what S3 alone does: presigned POSTs), in June."""
    world = build_world(demo_dir, built_portals, tmp_path, s3_storage_config)
    move_to(world, JUNE)
    return world


def signed_in(world: GateWorld, code: str = "C00007", **gate_options: Any) -> GateClient:
    client = world.client(world.make_gate(**gate_options) if gate_options else None)
    client.sign_in(world.link(code))
    return client


def form_fields(html: str, form_class: str) -> dict[str, str]:
    """The hidden fields of the form with this class (CSRF token, pdf_sha256)."""
    match = re.search(rf'<form[^>]*class="[^"]*{form_class}[^"]*".*?</form>', html, re.DOTALL)
    assert match, f"no form {form_class} in the page"
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', match.group(0)))


def decide(client: GateClient, slug: str, action: str = "accept", **fields: str) -> TestResponse:
    """Open the quote's page and submit its accept or reject form, as a person does."""
    page = client.get(f"/portal/quotes/{slug}.html").get_data(as_text=True)
    data = form_fields(page, f"form-{action}")
    data.update(fields)
    return client.post(f"/portal/quotes/{slug}/{action}", data, headers=BROWSER)


def comment(client: GateClient, page: str, text: str, document: str | None = None) -> TestResponse:
    """Write in the comment box of `page` (choosing `document` where there is a choice)."""
    html = client.get(f"/portal/{page}").get_data(as_text=True)
    section = html[html.index('<section id="comments"') :]
    data = form_fields(section, "stack-form")
    if document is not None:
        data["document"] = document
    data["comment"] = text
    return client.post("/portal/comments", data, headers=BROWSER)


def thread(client: GateClient, page: str) -> list[str]:
    """The texts of the comment thread shown on `page`, oldest first."""
    from lxml import html as lxml_html

    tree = lxml_html.fromstring(client.get(f"/portal/{page}").get_data(as_text=True))
    return [p.text_content() for p in tree.xpath("//ol[@class='comment-thread']/li/p[2]")]


def events(world: GateWorld) -> list[AuditEvent]:
    """Every event the gate recorded: audit.jsonl on a folder, `_events/` objects on S3."""
    if isinstance(world.storage, LocalStorage):
        return list(AuditLog(world.settings.audit.path).events())
    found = []
    for info in world.storage.list(EVENTS_PREFIX):
        raw = world.storage.get(info.key)
        assert raw is not None
        found.append(AuditEvent.from_dict(json.loads(raw)))
    return sorted(found, key=lambda e: e.id)


def of_type(world: GateWorld, *types: str) -> list[AuditEvent]:
    return [e for e in events(world) if e.type in types]


# -- a webhook receiver -------------------------------------------------------------------------


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    signature_ok: bool


@dataclass
class WebhookReceiver:
    """A local HTTP server that records each POST and checks its signature itself.

    `fail_first` answers that many requests with 503 before accepting; `hold` (an Event)
    keeps the first request waiting until the test sets it."""

    secret: str = WEBHOOK_SECRET
    fail_first: int = 0
    hold: threading.Event | None = None
    received: list[Received] = field(default_factory=list)
    answered: list[int] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None
    arrived: threading.Condition = field(default_factory=threading.Condition)

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/portal"

    def check(self, headers: dict[str, str], body: bytes) -> bool:
        """What docs/webhook.md tells receivers: HMAC-SHA256 of "<t>." + body, recent t."""
        parts = dict(p.split("=", 1) for p in headers.get("Portalgen-Signature", "").split(","))
        signed = parts.get("t", "").encode() + b"." + body
        expected = hmac.new(self.secret.encode(), signed, hashlib.sha256).hexdigest()
        recent = abs(time.time() - int(parts.get("t", "0"))) < 300
        return recent and hmac.compare_digest(expected, parts.get("v1", ""))

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        body = handler.rfile.read(int(handler.headers.get("Content-Length", "0")))
        headers = {k: v for k, v in handler.headers.items()}
        if self.hold is not None and not self.received:
            self.hold.wait(30)
        with self.arrived:
            self.received.append(Received(headers, body, self.check(headers, body)))
            status = 503 if len(self.received) <= self.fail_first else 200
            self.answered.append(status)
            self.arrived.notify_all()
        handler.send_response(status)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    def wait_for(self, count: int, timeout: float = 30.0) -> None:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.received) >= count, timeout)
        assert len(self.received) >= count, f"{len(self.received)} of {count} requests came"

    def delivered(self) -> list[dict[str, Any]]:
        """The events accepted (answered 200), parsed."""
        pairs = zip(self.received, self.answered, strict=True)
        return [json.loads(r.body) for r, status in pairs if status == 200]


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    yield from run_receiver(WebhookReceiver())


def run_receiver(receiver: WebhookReceiver) -> Iterator[WebhookReceiver]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            receiver.handle(self)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.server = server
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        if receiver.hold is not None:
            receiver.hold.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# -- the gate on a real HTTP server -------------------------------------------------------------


@contextmanager
def serving(app: Any, threads: int = 8, port: int = 0) -> Iterator[str]:
    """`app` under waitress on a free port (as `portalgen serve` runs it); yields its URL.

    The server's loop runs in small steps so that it is closed from its own thread
    (closing it from another races with its select() and fails with EBADF)."""
    from waitress import wasyncore
    from waitress.server import create_server

    server = create_server(app, host="127.0.0.1", port=port, threads=threads, ident="portalgen")
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            wasyncore.loop(timeout=0.05, map=server._map, count=1)
        server.task_dispatcher.shutdown()
        wasyncore.close_all(server._map)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        stop.set()
        thread.join(timeout=10)


def http_sign_in(base: str, link: str) -> str:
    """Open the link and press its button over HTTP; returns the session cookie header."""
    path = "/l/" + link.rsplit("/l/", 1)[1]
    port = int(base.rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path)
    response = conn.getresponse()
    page = response.read().decode()
    flow = (response.getheader("Set-Cookie") or "").split(";", 1)[0]
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    conn.request("POST", path, body=urlencode({"csrf_token": token}), headers=form_headers(flow))
    response = conn.getresponse()
    response.read()
    assert response.status == 303, response.status
    cookies = [v for k, v in response.getheaders() if k.lower() == "set-cookie"]
    conn.close()
    return next(c.split(";", 1)[0] for c in cookies if c.startswith("pg_session="))


def form_headers(cookie: str) -> dict[str, str]:
    return {
        "Cookie": cookie,
        "Content-Type": "application/x-www-form-urlencoded",
        **BROWSER,
    }


def http_get(base: str, path: str, cookie: str) -> tuple[int, str]:
    port = int(base.rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path, headers={"Cookie": cookie})
    response = conn.getresponse()
    body = response.read().decode()
    conn.close()
    return response.status, body


def http_post(base: str, path: str, cookie: str, fields: dict[str, str]) -> int:
    port = int(base.rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("POST", path, body=urlencode(fields), headers=form_headers(cookie))
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status
