"""What the 410 page says: a revoked link speaks of the link; a session that was signed in
when access was withdrawn speaks of the access, not of a link it never showed."""

from __future__ import annotations

from tests.gate_fixtures import GateWorld


def text_of(html: str) -> str:
    return " ".join(html.split())


def test_a_revoked_link_says_the_link_no_longer_works(gate_world: GateWorld) -> None:
    world = gate_world
    link = world.link("C00007")
    world.service.revoke("C00007")
    page = world.client().get(link)
    assert page.status_code == 410  # in the customer's language, Spanish
    text = text_of(page.get_data(as_text=True))
    assert "Este enlace ya no funciona" in text and "Se ha retirado" in text
    assert "con este enlace" not in text  # the body no longer repeats the title


def test_a_session_whose_access_ended_says_so(gate_world: GateWorld) -> None:
    world = gate_world
    client = world.client()
    client.sign_in(world.link("C00007"))
    assert client.get("/portal/").status_code == 200
    world.service.revoke("C00007")
    page = client.get("/portal/")
    assert page.status_code == 410  # in the customer's language, Spanish
    text = text_of(page.get_data(as_text=True))
    assert "Su acceso a este portal ha terminado" in text
    assert "Este enlace ya no funciona" not in text
