"""Issue 13, the gate's side: what an outside attack got through, each closed and proven.

The "choose your code" flow works once; a dropped secret stops working on a quiet gate;
logout and "sign out everywhere" end sessions on the server; lockout is per contact;
redirects and the Origin check never trust Host; cookies are ``__Host-`` at the root
of an https origin; behind a proxy the client's address is the one rate limits see.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client

from portalgen.access.grants import AccessService
from portalgen.access.tokens import LinkClaims, TokenSigner, link_url
from portalgen.config import Settings
from portalgen.gate.security import FLOW_COOKIE, SESSION_COOKIE
from tests.gate_fixtures import BASE_URL, GateClient, GateWorld, csrf_of, with_code
from tests.interact_fixtures import events


def audit_types(world: GateWorld) -> list[str]:
    return [e.type for e in events(world)]


def code_step(client: GateClient, link: str) -> str:
    """Open the link; the code form's CSRF token."""
    response = client.open_link(link)
    assert response.status_code == 303 and response.headers["Location"] == "/code"
    return csrf_of(client.get("/code").get_data(as_text=True))


def to_change_step(world: GateWorld, client: GateClient, code: str, temporary: str) -> str:
    """Type the temporary code; the "choose your code" form's CSRF token."""
    token = code_step(client, world.link(code))
    typed = client.post("/code", {"csrf_token": token, "code": temporary})
    assert typed.headers["Location"] == "/code/change"
    return csrf_of(client.get("/code/change").get_data(as_text=True))


def replay(world: GateWorld, flow: str, token: str, new: str = "codigo-del-atacante") -> Any:
    """Someone else's browser with a copy of the flow cookie posts a code of their own."""
    thief = world.client()
    thief.client.set_cookie(FLOW_COOKIE, flow)
    return thief.post("/code/change", {"csrf_token": token, "new": new, "repeat": new})


def code_hash(world: GateWorld, code: str) -> str:
    entry = world.service.registry.find(code)
    assert entry is not None and entry.access_code is not None
    return entry.access_code.hash


# -- #1: the "choose your code" flow ----------------------------------------------------------


def test_the_choose_your_code_flow_works_once(gate_world_any: GateWorld) -> None:
    world = gate_world_any
    temporary = with_code(world, "C00008")
    client = world.client()
    token = to_change_step(world, client, "C00008", temporary)
    flow = client.cookie(FLOW_COOKIE)
    assert flow is not None
    mine = "mi-codigo-propio"
    done = client.post("/code/change", {"csrf_token": token, "new": mine, "repeat": mine})
    assert done.headers["Location"] == "/portal/"
    chosen = code_hash(world, "C00008")
    # The copy made before: refused, the customer's code stays, nobody is signed in.
    refused = replay(world, flow, token)
    assert refused.status_code == 403 and SESSION_COOKIE not in refused.headers.get(
        "Set-Cookie", ""
    )
    assert code_hash(world, "C00008") == chosen
    assert audit_types(world).count("code.changed") == 1


def test_the_flow_dies_when_staff_give_a_new_temporary_code(gate_world_any: GateWorld) -> None:
    world = gate_world_any
    temporary = with_code(world, "C00008")
    client = world.client()
    token = to_change_step(world, client, "C00008", temporary)
    flow = client.cookie(FLOW_COOKIE)
    assert flow is not None
    with_code(world, "C00008")  # staff give a new temporary code (lost, leaked...)
    replaced = code_hash(world, "C00008")
    assert replay(world, flow, token).status_code == 403
    assert client.get("/code/change").status_code == 403  # the customer's own copy too
    assert code_hash(world, "C00008") == replaced


def test_the_flow_dies_when_the_contact_is_locked_out(gate_world_any: GateWorld) -> None:
    world = gate_world_any
    temporary = with_code(world, "C00008")
    client = world.client()
    token = to_change_step(world, client, "C00008", temporary)
    flow = client.cookie(FLOW_COOKIE)
    assert flow is not None
    guesser = world.client()
    guess_token = code_step(guesser, world.link("C00008"))
    for attempt in range(5):
        guesser.post("/code", {"csrf_token": guess_token, "code": f"guess-{attempt}-xxxx"})
    world.clock.advance(16 * 60)  # even after the lockout is over
    assert replay(world, flow, token).status_code == 403
    entry = world.service.registry.find("C00008")
    assert entry is not None and entry.access_code is not None
    assert entry.access_code.must_change  # nobody chose a code


# -- #3: a dropped secret on a quiet gate -----------------------------------------------------


def test_a_dropped_secret_stops_working_on_a_quiet_gate(gate_world: GateWorld) -> None:
    """No signed-in request at all: only links, the first and last 5 minutes apart."""
    secrets = list(gate_world.secrets)
    gate = gate_world.make_gate(secrets=lambda: tuple(secrets))
    entry = gate_world.grants["C00007"].entry
    email = entry.contacts[0].email
    old = TokenSigner(secrets)
    leaked = link_url(
        BASE_URL, old.link_token(LinkClaims(entry.customer_key, old.contact_id(email), 1))
    )
    assert gate_world.client(gate).get(leaked).status_code == 200
    secrets.append("rotated-secret-" + "r" * 40)  # `portalgen secret rotate`
    del secrets[:-1]  # `portalgen secret drop-old`
    gate_world.clock.advance(299)
    assert gate_world.client(gate).get(leaked).status_code == 200  # read within 5 minutes...
    gate_world.clock.advance(2)
    assert gate_world.client(gate).get(leaked).status_code == 400  # ...and then it is over


# -- logout and "sign out everywhere" ---------------------------------------------------------


def test_logout_ends_the_session_on_the_server(gate_world_any: GateWorld) -> None:
    world = gate_world_any
    client = world.client()
    client.sign_in(world.link("C00007"))
    copy = client.cookie(SESSION_COOKIE)
    assert copy is not None
    other = world.client()
    other.sign_in(world.link("C00007"))  # the same contact on another device
    assert client.post("/logout", {"csrf_token": client.csrf()}).status_code == 303
    thief = world.client()
    thief.client.set_cookie(SESSION_COOKIE, copy)
    assert thief.get("/portal/").status_code == 403  # the copy made before is dead
    assert other.get("/portal/").status_code == 200  # the other device is not signed out


def test_staff_sign_a_contact_out_everywhere(gate_world_any: GateWorld) -> None:
    world = gate_world_any
    second = world.service.grant("C00007", ["jefa@cliente7.example"]).links
    other_link = next(link.url for link in second if link.email == "jefa@cliente7.example")
    phone, laptop, colleague = world.client(), world.client(), world.client()
    phone.sign_in(world.link("C00007"))
    laptop.sign_in(world.link("C00007"))
    colleague.sign_in(other_link)
    world.clock.advance(1)
    staff = AccessService(
        world.storage,
        TokenSigner(world.secrets),
        base_url=BASE_URL,
        link_max_age=world.settings.gate.link_max_age,
        clock=lambda: datetime.fromtimestamp(world.clock(), UTC),
    )
    staff.sign_out("C00007", email=world.grants["C00007"].links[0].email)
    assert phone.get("/portal/").status_code == 403
    assert laptop.get("/portal/").status_code == 403
    assert colleague.get("/portal/").status_code == 200  # another contact: untouched
    world.clock.advance(1)
    assert phone.open_link(world.link("C00007")).status_code == 303  # the link still works
    assert phone.get("/portal/").status_code == 200


def test_sign_out_everywhere_from_the_command_line(fresh_demo: Path, time_machine: Any) -> None:
    from portalgen.access.secret import load_secrets
    from portalgen.gate import create_app
    from tests.conftest import demo_settings
    from tests.test_cli_access import LINK, run

    time_machine.move_to("2026-06-15 10:00:00Z", tick=False)
    granted = run(fresh_demo, "grant", "C00001", "--no-publish", "--export", str(fresh_demo))
    assert granted.exit_code == 0, granted.output
    found = LINK.search(granted.output)
    assert found is not None
    settings = demo_settings(fresh_demo)
    secrets = load_secrets(fresh_demo / "secret.key", environ={})
    client = GateClient(create_app(settings, secrets=secrets))
    client.sign_in(f"{BASE_URL}/l/{found.group(1)}")
    assert client.get("/portal/").status_code == 404  # signed in (the portal is not published)
    time_machine.shift(5)
    email = next(line.split()[0] for line in granted.output.splitlines() if "@" in line)
    result = run(fresh_demo, "sign-out", "C00001", "--contact", email)
    assert result.exit_code == 0, result.output
    assert email in result.output
    assert client.get("/portal/").status_code == 403


# -- lockout per contact ----------------------------------------------------------------------


def test_one_contact_cannot_lock_the_others_out(gate_world_any: GateWorld) -> None:
    world = gate_world_any
    code = with_code(world, "C00007", "codigo-secreto-1")
    second = world.service.grant("C00007", ["jefa@cliente7.example"]).links
    other_link = next(link.url for link in second if link.email == "jefa@cliente7.example")
    attacker = world.client()
    token = code_step(attacker, world.link("C00007"))
    for attempt in range(5):
        attacker.post("/code", {"csrf_token": token, "code": f"guess-{attempt}-xxxx"})
    assert attacker.post("/code", {"csrf_token": token, "code": code}).status_code == 429
    colleague = world.client()
    colleague_token = code_step(colleague, other_link)
    signed_in = colleague.post("/code", {"csrf_token": colleague_token, "code": code})
    assert signed_in.headers["Location"] == "/code/change"
    locked = [(e.type, e.contact) for e in events(world) if e.type == "code.locked"]
    assert locked == [("code.locked", world.grants["C00007"].links[0].email)]


def test_many_contacts_guessing_only_slow_the_customer_down(gate_world_any: GateWorld) -> None:
    world = gate_world_any
    with_code(world, "C00007", "codigo-secreto-1")
    emails = [f"c{i}@cliente7.example" for i in range(5)]
    links = {link.email: link.url for link in world.service.grant("C00007", emails).links}
    last = None
    for email in emails[:4]:  # 4 contacts × 5 wrong codes: the customer-wide ceiling
        client = world.client()
        token = code_step(client, links[email])
        for attempt in range(5):
            last = client.post("/code", {"csrf_token": token, "code": f"guess-{attempt}-xxxx"})
    assert last is not None and last.status_code == 429
    assert int(last.headers["Retry-After"]) > 60  # the 4th contact's own lockout
    assert audit_types(world).count("code.slowed") == 1  # staff are told
    fifth = world.client()
    assert fifth.open_link(links[emails[4]]).status_code == 303
    slowed = fifth.get("/code")
    assert slowed.status_code == 429 and int(slowed.headers["Retry-After"]) <= 60  # slowed...
    world.clock.advance(61)
    assert fifth.get("/code").status_code == 200  # ...not locked out


# -- Host, Origin, cookies, proxies -----------------------------------------------------------


def raw_client(world: GateWorld) -> Client:
    """A client that sends the headers it is given as they are (no cookie jar)."""
    return Client(world.gate, use_cookies=False)


def test_a_forged_host_never_makes_a_redirect(gate_world: GateWorld) -> None:
    client = gate_world.client()
    client.sign_in(gate_world.link("C00007"))
    cookie = f"{SESSION_COOKIE}={client.cookie(SESSION_COOKIE)}"
    for path in ("/portal", "/portal/invoices"):
        response = raw_client(gate_world).get(
            path, headers={"Host": "evil.example", "Cookie": cookie}
        )
        assert response.status_code in (301, 308), path
        location = response.headers["Location"]
        assert "evil" not in location
        assert location.removeprefix(BASE_URL).startswith("/portal"), location


def test_the_origin_check_does_not_trust_host(gate_world: GateWorld) -> None:
    client = gate_world.client()
    client.sign_in(gate_world.link("C00007"))
    token = client.csrf()
    cookie = f"{SESSION_COOKIE}={client.cookie(SESSION_COOKIE)}"
    forged = {"Host": "evil.example", "Origin": "http://evil.example", "Cookie": cookie}
    response = raw_client(gate_world).post("/logout", data={"csrf_token": token}, headers=forged)
    assert response.status_code == 403
    assert client.get("/portal/").status_code == 200


def gate_settings(world: GateWorld, **changes: Any) -> Settings:
    return replace(world.settings, gate=replace(world.settings.gate, **changes))


def https_world(world: GateWorld, base_url: str) -> GateClient:
    from portalgen.gate import create_app

    settings = gate_settings(world, base_url=base_url)
    gate = create_app(settings, world.storage, secrets=world.secrets, clock=world.clock)
    return GateClient(gate)


@pytest.mark.parametrize(
    ("base_url", "prefixed"),
    [("https://portal.example.es", True), ("https://example.es/portal", False)],
)
def test_cookies_are_host_prefixed_at_the_root_of_an_https_origin(
    gate_world: GateWorld, base_url: str, prefixed: bool
) -> None:
    client = https_world(gate_world, base_url)
    token = gate_world.link("C00007").rsplit("/", 1)[1]
    page = client.client.get(f"/l/{token}", base_url=base_url)
    cookie = page.headers["Set-Cookie"]
    assert cookie.startswith(f"__Host-{FLOW_COOKIE}=") == prefixed
    assert "Secure" in cookie
    if prefixed:
        assert "Path=/;" in cookie + ";" and "Domain" not in cookie


def ignore(*args: object) -> None:
    """A mailer that sends nothing (the tests here count answers, not mails)."""


def ask_link(client: GateClient, forwarded_for: str) -> int:
    form = csrf_of(client.get("/link").get_data(as_text=True))
    headers = {"Sec-Fetch-Site": "same-origin", "X-Forwarded-For": forwarded_for}
    return client.post(
        "/link", {"csrf_token": form, "email": "x@e.es"}, headers=headers
    ).status_code


def test_behind_trusted_proxies_each_client_has_its_own_rate_limit(gate_world: GateWorld) -> None:
    from portalgen.gate import create_app

    settings = gate_settings(gate_world, trusted_proxies=1)
    gate = create_app(
        settings,
        gate_world.storage,
        secrets=gate_world.secrets,
        send_link=ignore,
        clock=gate_world.clock,
    )
    client = GateClient(gate)
    assert [ask_link(client, "203.0.113.7") for _ in range(6)] == [200] * 5 + [429]
    # another customer behind the same proxy (same REMOTE_ADDR): a bucket of their own
    assert ask_link(client, "198.51.100.9") == 200
    # a client cannot dodge the limit by adding addresses: only the last hop is trusted
    assert ask_link(client, "192.0.2.1, 203.0.113.7") == 429


def test_without_trusted_proxies_x_forwarded_for_is_ignored(gate_world: GateWorld) -> None:
    client = GateClient(gate_world.make_gate(send_link=ignore))
    statuses = [ask_link(client, f"203.0.113.{i}") for i in range(6)]
    assert statuses == [200] * 5 + [429]  # anyone can send the header: it changes nothing


# -- #5: bursts of comments and decisions -----------------------------------------------------


def test_a_burst_of_comments_gets_a_friendly_429(june_world: GateWorld) -> None:
    """Issue 13 (#5): 100 comments in 2.5 s were all taken (100 staff emails, objects,
    audit lines). Now 10 per contact and 30 per customer in 10 minutes."""
    from tests.interact_fixtures import comment, signed_in

    world = june_world
    client = signed_in(world)
    page = "contact.html"
    statuses = [comment(client, page, f"mensaje {n}").status_code for n in range(11)]
    assert statuses == [303] * 10 + [429]
    refused = comment(client, page, "uno más")
    body = refused.get_data(as_text=True)
    assert refused.status_code == 429 and "Traceback" not in body
    assert "Espere unos minutos" in body  # C00007 reads Spanish
    assert 'href="/portal/contact.html"' in body  # a way back to the page
    assert int(refused.headers["Retry-After"]) > 0
    assert audit_types(world).count("comment.added") == 10
    world.clock.advance(10 * 60 + 1)
    assert comment(client, page, "más tarde").status_code == 303


def test_many_contacts_of_one_customer_share_a_ceiling(june_world: GateWorld) -> None:
    from tests.interact_fixtures import comment

    world = june_world
    emails = [f"c{i}@cliente7.example" for i in range(4)]
    links = {link.email: link.url for link in world.service.grant("C00007", emails).links}
    clients = []
    for email in emails:
        client = world.client()
        client.sign_in(links[email])
        clients.append(client)
    for client in clients[:3]:
        assert {comment(client, "contact.html", "x").status_code for _ in range(10)} == {303}
    assert comment(clients[3], "contact.html", "x").status_code == 429  # the customer's 31st
    other = world.client()
    other.sign_in(world.link("C00008"))
    assert comment(other, "contact.html", "hello").status_code == 303  # other customers: fine
