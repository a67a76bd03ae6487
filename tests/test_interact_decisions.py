"""Accepting and rejecting quotes through the gate, on a local folder and on SeaweedFS S3:
the first decision wins and shows at once; every refusal says why; each decision is one
audit event bound to the PDF the customer saw."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from lxml import html as lxml_html
from werkzeug.test import TestResponse

from portalgen.interact.decisions import DecisionRecord, decision_key, read_decision
from portalgen.publish.manifest import load_manifest
from tests.gate_fixtures import GateClient, GateWorld, portal_files
from tests.interact_fixtures import (
    ACCEPTED,
    EXPIRED,
    JUNE,
    PENDING,
    PENDING_EN,
    REJECTED,
    decide,
    move_to,
    of_type,
    signed_in,
)
from tests.render_fixtures import text_of

DECISIONS = ("quote.accepted", "quote.rejected")


def page_text(client: GateClient, path: str) -> str:
    return text_of(lxml_html.fromstring(client.get(path).get_data(as_text=True)))


def refusal(response: object) -> str:
    body = response.get_data(as_text=True)  # type: ignore[attr-defined]
    return text_of(lxml_html.fromstring(body).xpath("//main")[0])


def test_accepting_a_pending_quote_records_it_once_and_shows_it_everywhere(
    june_world_any: GateWorld,
) -> None:
    world = june_world_any
    client = signed_in(world)
    response = decide(client, PENDING, "accept", name="Ana López", comment="De acuerdo, adelante.")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/portal/quotes/{PENDING}.html#decision"

    record = read_decision(world.storage, world.key("C00007"), PENDING)
    assert record is not None and record.decision == "accepted"
    manifest = load_manifest(world.storage, world.key("C00007"))
    assert manifest is not None
    pdf_sha = manifest.files[f"quotes/{PENDING}.pdf"].sha256
    assert (record.name, record.comment, record.pdf_sha256) == (
        "Ana López",
        "De acuerdo, adelante.",
        pdf_sha,
    )
    assert record.contact == world.grants["C00007"].links[0].email
    assert record.ts.startswith("2026-06-15T08:30")

    [event] = of_type(world, *DECISIONS)
    assert (event.type, event.customer, event.document) == (
        "quote.accepted",
        "C00007",
        f"quotes/{PENDING}.html",
    )
    assert event.id == record.event_id and event.contact == record.contact
    assert event.data["pdf_sha256"] == pdf_sha and event.data["quote"] == PENDING
    assert event.data["comment"] == "De acuerdo, adelante." and event.data["name"] == "Ana López"
    assert len(event.ip_hash) == 16 and event.user_agent == "Mozilla/5.0 (Android 14; Mobile)"

    quote_page = page_text(client, f"/portal/quotes/{PENDING}.html")
    assert "Aceptado el 15/06/2026 por Ana López" in quote_page
    assert "De acuerdo, adelante." in quote_page  # the comment, in the quote's thread
    assert "Aceptar presupuesto" not in quote_page  # the forms are gone
    assert "Aceptado el 15/06/2026" in page_text(client, "/portal/quotes/")
    assert "Aceptado el 15/06/2026 por Ana López" in page_text(client, "/portal/")


def test_every_page_that_shows_a_decided_quote_agrees_at_once(
    june_world_any: GateWorld,
) -> None:
    """Before the next publish: the quote page no longer says it awaits a decision, the
    home page no longer lists it as awaiting one, and each status is said once."""
    world = june_world_any
    client = signed_in(world)
    waiting = "Este presupuesto espera su decisión"
    awaiting = "//section[h2[@id='quotes-title']]"
    home = lxml_html.fromstring(client.get("/portal/").get_data(as_text=True))
    assert [text_of(a) for a in home.xpath(f"{awaiting}//tbody//th/a")] == [PENDING]
    assert waiting in page_text(client, f"/portal/quotes/{PENDING}.html")

    assert decide(client, PENDING, "accept", name="Ana López").status_code == 303
    quote = lxml_html.fromstring(client.get(f"/portal/quotes/{PENDING}.html").get_data())
    assert waiting not in text_of(quote)
    (decision,) = quote.xpath("//section[@id='decision']")
    assert text_of(decision) == "Su decisión Aceptado el 15/06/2026 por Ana López"
    home = lxml_html.fromstring(client.get("/portal/").get_data(as_text=True))
    (section,) = home.xpath(awaiting)
    assert not section.xpath(".//table")
    assert text_of(section) == (
        "Presupuestos pendientes de su decisión No hay ningún presupuesto pendiente de su decisión."
    )
    (latest,) = [r for r in home.xpath("//tbody/tr") if PENDING in text_of(r)]
    assert "Aceptado el 15/06/2026 por Ana López" in text_of(latest)
    quotes = lxml_html.fromstring(client.get("/portal/quotes/").get_data(as_text=True))
    (row,) = [r for r in quotes.xpath("//tbody/tr") if PENDING in text_of(r)]
    assert text_of(row.xpath("td[@data-label='Estado']")[0]) == (
        "Aceptado el 15/06/2026 por Ana López"
    )


def test_a_rejection_is_signed_with_the_name_given(june_world_any: GateWorld) -> None:
    world = june_world_any
    client = signed_in(world, "C00008")  # an English portal
    form = lxml_html.fromstring(client.get(f"/portal/quotes/{PENDING_EN}.html").get_data())
    (label,) = form.xpath("//form[contains(@class,'form-reject')]//label[@for='reject-name']")
    assert text_of(label) == "Your name (optional)"
    assert form.xpath("//form[contains(@class,'form-reject')]//input[@id='reject-name']/@name") == [
        "name"  # the field the gate reads
    ]
    response = decide(client, PENDING_EN, "reject", reason="Too expensive", name="John Smith")
    assert response.status_code == 303
    record = read_decision(world.storage, world.key("C00008"), PENDING_EN)
    assert record is not None and record.name == "John Smith"
    (decision,) = lxml_html.fromstring(
        client.get(f"/portal/quotes/{PENDING_EN}.html").get_data()
    ).xpath("//section[@id='decision']")
    assert text_of(decision) == "Your decision Rejected on 15/06/2026 by John Smith"


def test_a_second_decision_is_told_the_first_one_and_records_nothing(
    june_world_any: GateWorld,
) -> None:
    world = june_world_any
    client = signed_in(world)
    first = client.get(f"/portal/quotes/{PENDING}.html").get_data(as_text=True)  # a second tab
    assert decide(client, PENDING, "accept", name="Ana").status_code == 303
    from tests.interact_fixtures import form_fields

    for action, extra in (("accept", {}), ("reject", {"reason": "Too expensive"})):
        data = {**form_fields(first, f"form-{action}"), **extra}
        again = client.post(f"/portal/quotes/{PENDING}/{action}", data)
        assert again.status_code == 409
        text = refusal(again)
        assert "Este presupuesto ya está aceptado" in text
        assert f"El presupuesto {PENDING} se aceptó el 15/06/2026 (Ana)." in text
        assert f'href="/portal/quotes/{PENDING}.html"' in again.get_data(as_text=True)
    assert len(of_type(world, *DECISIONS)) == 1
    record = read_decision(world.storage, world.key("C00007"), PENDING)
    assert record is not None and record.decision == "accepted"


def test_rejecting_needs_a_reason_and_keeps_it(june_world_any: GateWorld) -> None:
    world = june_world_any
    client = signed_in(world, "C00008")  # an English portal
    missing = decide(client, PENDING_EN, "reject", reason="   ")
    assert missing.status_code == 400
    assert "To reject the quote, write the reason" in refusal(missing)
    assert read_decision(world.storage, world.key("C00008"), PENDING_EN) is None

    response = decide(client, PENDING_EN, "reject", reason="Too expensive", comment="Maybe later")
    assert response.status_code == 303
    record = read_decision(world.storage, world.key("C00008"), PENDING_EN)
    assert record is not None and record.decision == "rejected"
    assert record.comment == "Too expensive\n\nMaybe later" and record.name == ""
    [event] = of_type(world, *DECISIONS)
    assert event.type == "quote.rejected" and event.data["reason"] == "Too expensive"
    page = page_text(client, f"/portal/quotes/{PENDING_EN}.html")
    assert "Rejected on 15/06/2026 by" in page and "Too expensive" in page
    again = decide_stale(client, PENDING_EN)
    assert again.status_code == 409
    assert f"Quote {PENDING_EN} was rejected on 15/06/2026" in refusal(again)


def decide_stale(client: GateClient, slug: str) -> TestResponse:
    """Post an accept for a quote whose page no longer has forms (an old tab)."""
    return client.post(
        f"/portal/quotes/{slug}/accept", {"csrf_token": client.csrf(), "pdf_sha256": "0" * 64}
    )


def test_expired_decided_and_unknown_quotes_are_refused(june_world_any: GateWorld) -> None:
    world = june_world_any
    client = signed_in(world, "C00008")
    expired = decide_stale(client, EXPIRED)
    assert expired.status_code == 410
    assert f"Quote {EXPIRED} was valid until 27/05/2026" in refusal(expired)

    unknown = decide_stale(client, "P2099-99999")
    assert unknown.status_code == 404 and "There is no such quote" in refusal(unknown)

    spanish = signed_in(world, "C00007")
    accepted = decide_stale(spanish, ACCEPTED)
    assert accepted.status_code == 409
    assert f"El presupuesto {ACCEPTED} ya está aceptado." in refusal(accepted)
    rejected = spanish.post(
        f"/portal/quotes/{REJECTED}/reject",
        {"csrf_token": spanish.csrf(), "pdf_sha256": "0" * 64, "reason": "x"},
    )
    assert rejected.status_code == 409
    assert f"El presupuesto {REJECTED} ya está rechazado." in refusal(rejected)

    assert of_type(world, *DECISIONS) == []
    assert list(world.storage.list("_decisions/")) == []


def test_another_customers_quote_cannot_be_decided(june_world_any: GateWorld) -> None:
    world = june_world_any
    theirs = signed_in(world, "C00008")
    their_form = theirs.get(f"/portal/quotes/{PENDING_EN}.html").get_data(as_text=True)
    from tests.interact_fixtures import form_fields

    mine = signed_in(world, "C00007")
    data = {**form_fields(their_form, "form-accept"), "csrf_token": mine.csrf()}
    response = mine.post(f"/portal/quotes/{PENDING_EN}/accept", data)
    assert response.status_code == 404
    assert list(world.storage.list("_decisions/")) == []
    assert of_type(world, *DECISIONS) == []


def test_a_quote_that_changed_since_the_page_was_opened_is_refused(
    june_world: GateWorld, built_portals: Path
) -> None:
    world = june_world
    client = signed_in(world)
    old_page = client.get(f"/portal/quotes/{PENDING}.html").get_data(as_text=True)
    files = [
        (path, data + b"\n% corrected" if path == f"quotes/{PENDING}.pdf" else data, kind)
        for path, data, kind in portal_files(built_portals / "C00007")
    ]
    from portalgen.publish.manifest import write_portal

    write_portal(world.storage, world.key("C00007"), files, language="es")
    from tests.interact_fixtures import form_fields

    response = client.post(f"/portal/quotes/{PENDING}/accept", form_fields(old_page, "form-accept"))
    assert response.status_code == 409
    assert "Hemos actualizado el presupuesto" in refusal(response)
    assert read_decision(world.storage, world.key("C00007"), PENDING) is None
    assert of_type(world, *DECISIONS) == []


def test_a_quote_expires_at_the_gate_without_waiting_for_a_publish(
    june_world: GateWorld,
) -> None:
    world = june_world
    move_to(world, JUNE + timedelta(days=26).total_seconds())  # 11 July: valid until the 10th
    client = signed_in(world)
    page = client.get(f"/portal/quotes/{PENDING}.html").get_data(as_text=True)
    assert "form-accept" in page  # published on the 15th of June, with its forms
    response = decide(client, PENDING, "accept")
    assert response.status_code == 410
    assert f"El presupuesto {PENDING} era válido hasta el 10/07/2026" in refusal(response)


def test_forms_are_checked_before_anything_is_stored(june_world: GateWorld) -> None:
    world = june_world
    client = signed_in(world)
    too_long = decide(client, PENDING, "accept", comment="x" * 2001)
    assert too_long.status_code == 400 and "hasta 2000 caracteres" in refusal(too_long)
    long_name = decide(client, PENDING, "accept", name="n" * 121)
    assert long_name.status_code == 400
    page = client.get(f"/portal/quotes/{PENDING}.html").get_data(as_text=True)
    from tests.interact_fixtures import form_fields

    fields = form_fields(page, "form-accept")
    no_csrf = client.post(f"/portal/quotes/{PENDING}/accept", {"pdf_sha256": fields["pdf_sha256"]})
    assert no_csrf.status_code == 403
    other_site = client.post(
        f"/portal/quotes/{PENDING}/accept",
        fields,
        headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    )
    assert other_site.status_code == 403
    assert client.get(f"/portal/quotes/{PENDING}/accept").status_code == 404
    anonymous = world.client().post(f"/portal/quotes/{PENDING}/accept", fields)
    assert anonymous.status_code == 403
    assert read_decision(world.storage, world.key("C00007"), PENDING) is None


def test_the_decision_record_is_what_publishing_reads(june_world: GateWorld) -> None:
    client = signed_in(june_world)
    decide(client, PENDING, "accept", name="Ana")
    raw = june_world.storage.get(decision_key(june_world.key("C00007"), PENDING))
    assert raw is not None
    data = json.loads(raw)
    assert set(data) == {
        "version",
        "quote",
        "slug",
        "decision",
        "ts",
        "contact",
        "name",
        "comment",
        "pdf_sha256",
        "event_id",
        "evidence",
    }
    assert data["version"] == 1 and data["quote"] == PENDING and data["slug"] == PENDING
    assert datetime.fromisoformat(data["ts"].replace("Z", "+00:00")).tzinfo is not None
    assert DecisionRecord.from_json(raw).decision == "accepted"


@pytest.mark.parametrize("damaged", [b"{oops", b'{"version": 2}'])
def test_a_damaged_decision_blocks_a_new_one_without_a_traceback(
    june_world: GateWorld, damaged: bytes
) -> None:
    june_world.storage.put(
        decision_key(june_world.key("C00007"), PENDING), damaged, "application/json"
    )
    response = decide(signed_in(june_world), PENDING, "accept", name="Ana")
    assert response.status_code == 500
    assert "Something went wrong" in response.get_data(as_text=True) or "Algo" in refusal(response)
