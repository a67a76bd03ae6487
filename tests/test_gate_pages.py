"""Pages served from their examined, pre-encoded form are byte for byte the pages the
slot fillers make from the text: with and without decisions and comments."""

from __future__ import annotations

from werkzeug.test import EnvironBuilder

from portalgen.gate.live import PublishedPage, fill_csrf, fill_page, fill_quotes
from portalgen.gate.request import GateRequest
from portalgen.gate.threads import fill_comments
from portalgen.publish.manifest import blob_key, load_manifest
from tests.gate_fixtures import GateClient, GateWorld
from tests.test_gate_portal import write_decision


def by_text(world: GateWorld, client: GateClient) -> dict[str, bytes]:
    """Every page of C00007 filled on its text, for the client's session."""
    gate = world.gate
    cookie = f"pg_session={client.cookie('pg_session')}"
    environ = EnvironBuilder(path="/portal/", headers=[("Cookie", cookie)]).get_environ()
    visit = gate.require_visit(GateRequest(environ))
    manifest = load_manifest(world.storage, world.key("C00007"))
    assert manifest is not None
    pages: dict[str, bytes] = {}
    for path, entry in manifest.files.items():
        if entry.content_type.startswith("text/html") and not path.startswith(("_live/", "doc")):
            raw = world.storage.get(blob_key(world.key("C00007"), entry.sha256))
            assert raw is not None
            text = raw.decode("utf-8")
            filled = fill_quotes(gate, visit, text)
            filled = fill_csrf(gate, visit, fill_comments(gate, visit, filled))
            pages[path] = filled.encode("utf-8")
            assert fill_page(gate, visit, PublishedPage(text)) == pages[path], path
    return pages


def check_served(world: GateWorld, client: GateClient) -> None:
    for path, expected in by_text(world, client).items():
        served = client.get(f"/portal/{path}")
        assert served.status_code == 200
        assert served.get_data() == expected, path
        assert served.headers["Content-Length"] == str(len(expected))


def test_pages_are_the_fillers_output_before_and_after_comments_and_decisions(
    gate_world: GateWorld,
) -> None:
    client = GateClient(gate_world.gate)
    client.sign_in(gate_world.link("C00007"))
    check_served(gate_world, client)
    page = "quotes/P2026A-00017.html"
    for document in (page, ""):
        response = client.post(
            "/portal/comments",
            {"csrf_token": client.csrf(), "document": document, "comment": "¿Y el <b>IVA</b>?"},
        )
        assert response.status_code == 303
    write_decision(gate_world, "P2026A-00017", "accepted", "Ana")
    gate_world.gate.threads._listings.clear()  # as after the listings' few seconds
    served = client.get(f"/portal/{page}").get_data(as_text=True)
    assert "¿Y el &lt;b&gt;IVA&lt;/b&gt;?" in served and "badge-accepted" in served
    check_served(gate_world, client)


def test_a_list_of_quotes_awaiting_a_decision_empties_only_when_all_are_decided() -> None:
    from portalgen import slots

    rows = "".join(f"{slots.open_start(s)}<tr>{s}</tr>{slots.OPEN_END}" for s in ("P-1", "P-2"))
    html = f"{slots.awaiting_start(['P-1', 'P-2'])}<table>{rows}</table>{slots.AWAITING_END}"
    none = '<p class="empty">none</p>'
    one = slots.fill_decided(html, {"P-1"}, none)
    assert "<tr>P-1</tr>" not in one and "<tr>P-2</tr>" in one and none not in one
    assert slots.fill_decided(html, {"P-1", "P-2"}, none) == none
    # A portal published before the fragment existed keeps its list, less the decided rows.
    assert "<table>" in slots.fill_decided(html, {"P-1", "P-2"}, None)
