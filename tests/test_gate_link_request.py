""" "Email me a new link": the same answer for any address, rate-limited, sent through the
mailer's hook with a link that works — and without a mailer, a page that says whom to ask."""

from __future__ import annotations

import threading

from portalgen.access.entry import RegistryEntry
from portalgen.audit.log import AuditLog
from tests.gate_fixtures import GateClient, GateWorld, csrf_of


def mailer_world(world: GateWorld) -> tuple[GateClient, list[tuple[str, str, str]]]:
    sent: list[tuple[str, str, str]] = []

    def send_link(entry: RegistryEntry, contact: str, link: str) -> None:
        sent.append((entry.customer, contact, link))

    return world.client(world.make_gate(send_link=send_link)), sent


def ask(client: GateClient, email: str, **headers: str):
    """Ask for a link, and wait for the sending the gate does after answering."""
    response = ask_only(client, email, **headers)
    assert client.app.flush()
    return response


def ask_only(client: GateClient, email: str, **headers: str):
    form = client.get("/link")
    assert form.status_code == 200
    return client.post(
        "/link",
        {"csrf_token": csrf_of(form.get_data(as_text=True)), "email": email},
        headers={"Sec-Fetch-Site": "same-origin", **headers},
    )


def test_a_known_address_is_answered_before_its_link_is_sent(gate_world: GateWorld) -> None:
    """Issue 13 (#6): a known address answered in 50-180 ms (the mail went out first),
    an unknown one in 1-4 ms, so the time told who is a customer. The answer now comes
    before any of the sending: here the mailer cannot finish until the test lets it,
    after the answer arrived, so nothing the sending does can delay the answer."""
    release, entered = threading.Event(), threading.Event()
    sent: list[tuple[str, str]] = []
    threads: list[str] = []

    def send_link(entry: RegistryEntry, contact: str, link: str) -> None:
        threads.append(threading.current_thread().name)
        entered.set()
        assert release.wait(30)
        sent.append((entry.customer, contact))

    client = gate_world.client(gate_world.make_gate(send_link=send_link))
    email = gate_world.grants["C00007"].links[0].email
    response = ask_only(client, email)  # would block forever if the gate sent first
    assert response.status_code == 200 and sent == []
    assert entered.wait(30)  # the sending is under way, on another thread
    assert threads != [threading.current_thread().name]
    release.set()
    assert client.app.flush()
    assert sent == [("C00007", email)]


def test_known_and_unknown_addresses_get_the_same_answer(gate_world: GateWorld) -> None:
    client, sent = mailer_world(gate_world)
    email = gate_world.grants["C00007"].links[0].email
    known = ask(client, email.upper())
    unknown = ask(client, "nobody@nowhere.example")
    invalid = ask(client, "not an address")
    assert known.status_code == unknown.status_code == invalid.status_code == 200
    assert known.get_data() == unknown.get_data() == invalid.get_data()
    assert [(customer, contact) for customer, contact, _ in sent] == [("C00007", email)]
    new_link = sent[0][2]
    assert gate_world.client().open_link(new_link).status_code == 303  # it works
    types = [e.type for e in AuditLog(gate_world.settings.audit.path).events()]
    assert types.count("link.requested") == 1


def test_one_email_per_address_per_interval_across_gates(gate_world: GateWorld) -> None:
    email = gate_world.grants["C00008"].links[0].email
    first, sent_first = mailer_world(gate_world)
    second, sent_second = mailer_world(gate_world)  # another process / Lambda instance
    ask(first, email)
    ask(second, email)
    ask(first, email)
    assert len(sent_first) + len(sent_second) == 1
    gate_world.clock.advance(10 * 60 + 1)
    ask(second, email)
    assert len(sent_first) + len(sent_second) == 2


def test_revoked_or_cut_off_contacts_get_nothing(gate_world: GateWorld) -> None:
    client, sent = mailer_world(gate_world)
    email = gate_world.grants["C00007"].links[0].email
    gate_world.service.revoke("C00007")
    assert ask(client, email).status_code == 200
    assert sent == []


def test_requests_are_rate_limited_per_client(gate_world: GateWorld) -> None:
    client, _ = mailer_world(gate_world)
    statuses = [ask(client, f"someone{i}@example.com").status_code for i in range(6)]
    assert statuses == [200] * 5 + [429]
    limited = ask(client, "other@example.com")
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0


def test_the_form_needs_its_token_and_the_same_origin(gate_world: GateWorld) -> None:
    client, sent = mailer_world(gate_world)
    email = gate_world.grants["C00007"].links[0].email
    client.get("/link")
    assert client.post("/link", {"email": email}).status_code == 403
    assert ask(client, email, **{"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert sent == []


def test_without_a_mailer_the_page_says_to_contact_the_business(gate_world: GateWorld) -> None:
    page = gate_world.client().get("/link").get_data(as_text=True)
    assert "Contacte con nosotros" in page or "contacte con nosotros" in page
    assert 'type="email"' not in page
    expired = gate_world.client().get("/l/broken").get_data(as_text=True)
    assert 'href="/link"' not in expired  # no button that leads nowhere
    client, _ = mailer_world(gate_world)
    assert 'href="/link"' in client.get("/l/broken").get_data(as_text=True)
