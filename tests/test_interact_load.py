"""Races and load through real gates: 20 concurrent decisions on one quote over HTTP give
one decision and one event (a folder and SeaweedFS); 8 gate processes writing 500
comments each give 4,000 intact, chained audit lines and 4,000 stored comments."""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path
from typing import Any

import pytest

from portalgen.audit.log import AuditLog
from portalgen.config import Settings
from portalgen.gate import create_app
from portalgen.interact.decisions import read_decision
from tests.gate_fixtures import GateClient, GateWorld
from tests.interact_fixtures import (
    BROWSER,
    PENDING,
    JuneClock,
    form_fields,
    http_get,
    http_post,
    http_sign_in,
    of_type,
    serving,
)

pytestmark = pytest.mark.slow


def test_twenty_concurrent_decisions_on_one_quote_give_one(june_world_any: GateWorld) -> None:
    world = june_world_any
    gate = world.make_gate(clock=JuneClock())
    gate.actions_per_contact = (20, 60)  # the race is the test, not the rate limit
    with serving(gate, threads=20) as base:
        cookies = [http_sign_in(base, world.link("C00007")) for _ in range(4)]  # 4 devices
        pages = [http_get(base, f"/portal/quotes/{PENDING}.html", c)[1] for c in cookies]
        barrier = threading.Barrier(20)
        statuses: list[int] = []
        lock = threading.Lock()

        def attempt(n: int) -> None:
            action = "accept" if n % 2 == 0 else "reject"
            fields = form_fields(pages[n % 4], f"form-{action}")
            fields.update({"name": f"person {n}", "reason": f"reason {n}"})
            barrier.wait(timeout=30)
            status = http_post(base, f"/portal/quotes/{PENDING}/{action}", cookies[n % 4], fields)
            with lock:
                statuses.append(status)

        threads = [threading.Thread(target=attempt, args=(n,)) for n in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    assert sorted(statuses) == [303] + [409] * 19
    record = read_decision(world.storage, world.key("C00007"), PENDING)
    assert record is not None
    decisions = of_type(world, "quote.accepted", "quote.rejected")
    assert len(decisions) == 1
    assert decisions[0].id == record.event_id
    assert decisions[0].type == f"quote.{record.decision}"
    assert [i.key for i in world.storage.list("_decisions/")] == [
        f"_decisions/{world.key('C00007')}/{PENDING}.json"
    ]


DOCUMENTS = (
    "invoices/F2026A-00048.html",
    "orders/PED2026A-00008.html",
    "",
    "documents/files/Tarifa de precios 2026.pdf",
)


def comment_worker(settings: Settings, secrets: tuple[str, ...], link: str, n: int) -> int:
    """One gate process: sign in, then post 500 comments; returns how many were taken."""
    gate = create_app(settings, secrets=secrets, clock=JuneClock())
    gate.actions_per_contact = gate.actions_per_customer = (10**6, 60)  # storage under load
    client = GateClient(gate)
    client.sign_in(link)
    csrf = client.csrf()
    taken = 0
    for i in range(500):
        fields = {"csrf_token": csrf, "document": DOCUMENTS[i % 4], "comment": f"p{n}-c{i} ñ"}
        if client.post("/portal/comments", fields, headers=BROWSER).status_code == 303:
            taken += 1
    return taken


def test_eight_gate_processes_add_four_thousand_comments(june_world: GateWorld) -> None:
    world = june_world
    link = world.service.links("C00007").links[0].url  # signed at JUNE, used a moment after
    context = multiprocessing.get_context("spawn")
    with context.Pool(8) as pool:
        args: list[Any] = [(world.settings, world.secrets, link, n) for n in range(8)]
        taken = pool.starmap(comment_worker, args)
    assert taken == [500] * 8

    log = AuditLog(Path(world.settings.audit.path))
    count, problem = log.verify()
    assert problem is None and count == 4000 + 8  # and the 8 sessions started
    added = [e for e in log.events() if e.type == "comment.added"]
    assert len(added) == 4000
    assert {e.data["comment"] for e in added} == {
        f"p{n}-c{i} ñ" for n in range(8) for i in range(500)
    }
    assert len({e.id for e in added}) == 4000
    stored = [i.key for i in world.storage.list("_comments/")]
    assert len(stored) == 4000
    ids = {key.rsplit("/", 1)[1].removesuffix(".json") for key in stored}
    assert ids == {e.id for e in added}
