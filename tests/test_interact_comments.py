"""Comments on every kind of document and a general one, on a local folder and SeaweedFS:
shown back on the page in a thread, each one audit event, escaped, length-limited, and
only on the customer's own documents."""

from __future__ import annotations

from lxml import html as lxml_html

from portalgen.interact.comments import THREAD_LIMIT, load_thread, thread_of
from tests.gate_fixtures import GateWorld
from tests.interact_fixtures import BROWSER, comment, of_type, signed_in, thread
from tests.render_fixtures import text_of

PAGES = {
    "quotes/P2026A-00017.html": "¿Incluye el montaje?",
    "orders/PED2026A-00008.html": "¿Cuándo llega?",
    "delivery-notes/ALB2026A-00010.html": "Faltaba una caja.",
    "invoices/F2026A-00048.html": "Pagado ayer por transferencia.",
}
SHARED = "documents/files/Tarifa de precios 2026.pdf"


def test_comments_on_every_document_show_in_their_own_thread(june_world_any: GateWorld) -> None:
    world = june_world_any
    client = signed_in(world)
    for page, text in PAGES.items():
        response = comment(client, page, text)
        assert response.status_code == 303
        assert response.headers["Location"] == f"/portal/{page}#comments"
    shared = comment(client, "documents/index.html", "¿Hay versión en inglés?", document=SHARED)
    assert shared.headers["Location"] == "/portal/documents/index.html#comments"
    general = comment(client, "contact.html", "Cambiamos de dirección.\nNueva: Calle Mayor 1")
    assert general.headers["Location"] == "/portal/contact.html#comments"

    for page, text in PAGES.items():
        assert thread(client, page) == [text], page
    assert thread(client, "documents/index.html") == ["¿Hay versión en inglés?"]
    assert thread(client, "contact.html") == ["Cambiamos de dirección.\nNueva: Calle Mayor 1"]
    documents = client.get("/portal/documents/index.html").get_data(as_text=True)
    assert "Tarifa de precios 2026.pdf" in text_of(
        lxml_html.fromstring(documents).xpath("//ol[@class='comment-thread']")[0]
    )
    assert thread(client, "invoices/F2026A-00040.html") == []  # no comment there

    added = of_type(world, "comment.added")
    assert [(e.document, e.data["comment"]) for e in added] == [
        *PAGES.items(),
        (SHARED, "¿Hay versión en inglés?"),
        ("", "Cambiamos de dirección.\nNueva: Calle Mayor 1"),
    ]
    assert {e.customer for e in added} == {"C00007"}
    assert {e.contact for e in added} == {world.grants["C00007"].links[0].email}


def test_a_thread_grows_in_order_and_shows_the_time(june_world: GateWorld) -> None:
    client = signed_in(june_world)
    page = "invoices/F2026A-00048.html"
    for text in ("uno", "dos", "tres"):
        comment(client, page, text)
        june_world.clock.advance(60)
    assert thread(client, page) == ["uno", "dos", "tres"]
    tree = lxml_html.fromstring(client.get(f"/portal/{page}").get_data(as_text=True))
    meta = text_of(tree.xpath("//ol[@class='comment-thread']/li/p[1]")[0])
    email = june_world.grants["C00007"].links[0].email
    assert meta == f"{email} · 15/06/2026 10:30"


def test_another_customer_never_sees_nor_writes_into_a_thread(june_world_any: GateWorld) -> None:
    world = june_world_any
    mine = signed_in(world, "C00007")
    comment(mine, "contact.html", "solo para C00007")
    theirs = signed_in(world, "C00008")
    assert thread(theirs, "contact.html") == []
    for document in (
        "invoices/F2026A-00048.html",  # C00007's invoice: not in C00008's portal
        "index.html",
        "quotes/index.html",
        "../../_access/index.json",
        "_live/quotes.json",
        "static/portal.css",
    ):
        response = theirs.post(
            "/portal/comments",
            {"csrf_token": theirs.csrf(), "document": document, "comment": "hola"},
            headers=BROWSER,
        )
        assert response.status_code == 404, document
    assert [e.customer for e in of_type(world, "comment.added")] == ["C00007"]


def test_comments_are_escaped_wherever_they_show(june_world: GateWorld) -> None:
    client = signed_in(june_world)
    attack = '<script>alert(1)</script><img src=x onerror="alert(2)"> & </ol><b>bold</b>'
    page = "quotes/P2026A-00017.html"
    comment(client, page, attack)
    june_world.clock.advance(60)
    from tests.interact_fixtures import decide

    decide(client, "P2026A-00017", "accept", name="<i>Ana</i>", comment="<svg onload=alert(3)>")
    body = client.get(f"/portal/{page}").get_data(as_text=True)
    tree = lxml_html.fromstring(body)
    assert [s.get("src") for s in tree.xpath("//script")] == ["../static/portal.js"]
    assert not tree.xpath("//img") and not tree.xpath("//svg")
    assert not tree.xpath("//*[@onerror or @onload]") and not tree.xpath("//b | //main//i")
    assert thread(client, page) == [attack, "<svg onload=alert(3)>"]
    assert "Aceptado el 15/06/2026 por <i>Ana</i>" in text_of(tree)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_comment_limits_and_empty_comments(june_world: GateWorld) -> None:
    client = signed_in(june_world)
    page = "invoices/F2026A-00048.html"
    html = client.get(f"/portal/{page}").get_data(as_text=True)
    assert 'maxlength="2000"' in html and "Hasta 2000 caracteres" in html
    assert comment(client, page, "é" * 2000).status_code == 303  # characters, not bytes
    too_long = comment(client, page, "x" * 2001)
    assert too_long.status_code == 400
    assert "hasta 2000 caracteres" in too_long.get_data(as_text=True)
    assert f'href="/portal/{page}"' in too_long.get_data(as_text=True)  # back to the page
    empty = comment(client, page, " \r\n\t ")
    assert empty.status_code == 400 and "Su comentario está vacío" in empty.get_data(as_text=True)
    assert comment(client, page, "y" * 70_000).status_code == 413  # past the body limit
    assert len(of_type(june_world, "comment.added")) == 1
    assert comment(client, page, "a\r\nb\x00c\x1b").status_code == 303
    assert thread(client, page)[-1] == "a\nbc"


def test_a_long_thread_shows_the_latest_comments(june_world: GateWorld) -> None:
    from portalgen.interact.comments import CommentRecord, add_comment

    world = june_world
    key = world.key("C00007")
    page = "orders/PED2026A-00008.html"
    for n in range(THREAD_LIMIT + 5):
        record = CommentRecord(
            f"01J{n:023d}", f"2026-06-01T10:{n % 60:02d}:00.000Z", "a@b.es", page, f"c{n}"
        )
        add_comment(world.storage, key, record)
    shown = load_thread(world.storage, key, thread_of(page))
    assert len(shown) == THREAD_LIMIT and shown[-1].text == f"c{THREAD_LIMIT + 4}"
    assert len(thread(signed_in(world), page)) == THREAD_LIMIT


def test_a_comment_sent_through_another_gate_shows_within_seconds(june_world: GateWorld) -> None:
    from portalgen.gate.threads import LISTING_TTL

    page = "invoices/F2026A-00048.html"
    here = signed_in(june_world)
    assert thread(here, page) == []
    there = signed_in(june_world, clock=june_world.clock)  # a second gate process
    comment(there, page, "desde otro servidor")
    assert thread(there, page) == ["desde otro servidor"]  # the gate that stored it: at once
    june_world.clock.advance(LISTING_TTL + 1)
    assert thread(here, page) == ["desde otro servidor"]
