"""Serving the portal through the gate, on a local folder and on SeaweedFS S3: pages with
their slots filled, theme assets, downloads (streamed or presigned), live decisions,
and revocation killing a link, a session and a presigned URL obtained just before."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from lxml import html as lxml_html

from portalgen import slots
from portalgen.interact.decisions import decision_key
from portalgen.storage import S3Storage
from tests.gate_fixtures import GateClient, GateWorld
from tests.render_fixtures import text_of


def signed_in(world: GateWorld, code: str = "C00007") -> GateClient:
    client = world.client()
    client.sign_in(world.link(code))
    return client


def fetch(url: str) -> tuple[int, bytes, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


def test_every_page_is_served_with_its_forms_ready(
    gate_world_any: GateWorld, built_portals: Path
) -> None:
    client = signed_in(gate_world_any)
    folder = built_portals / "C00007"
    pages = sorted(
        p.relative_to(folder).as_posix() for p in folder.rglob("*.html") if "_live" not in p.parts
    )
    csrf = client.csrf()
    for path in pages:
        response = client.get(f"/portal/{path}")
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "private, no-store"
        body = response.get_data(as_text=True)
        assert slots.CSRF not in body, path
        tree = lxml_html.fromstring(body)
        for form in tree.xpath("//form[@method='post']"):
            assert form.xpath(f"string(.//input[@name='{slots.CSRF_FIELD}']/@value)") == csrf, path
    assert client.get("/portal/").get_data() == client.get("/portal/index.html").get_data()


def test_a_folder_without_its_slash_redirects(gate_world: GateWorld) -> None:
    client = signed_in(gate_world)
    response = client.get("/portal/invoices")
    assert response.status_code == 308 and response.headers["Location"] == "/portal/invoices/"
    assert client.get("/portal").status_code in (301, 308)


def test_theme_assets_are_cacheable_by_etag(gate_world_any: GateWorld, built_portals: Path) -> None:
    client = signed_in(gate_world_any)
    response = client.get("/portal/static/portal.css")
    assert response.status_code == 200
    assert response.get_data() == (built_portals / "C00007/static/portal.css").read_bytes()
    etag = response.headers["ETag"]
    again = client.get("/portal/static/portal.css", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""


@pytest.mark.parametrize(
    "path",
    [
        "invoices/F2026A-00010.pdf",
        "payments/statement.csv",
        "download/all-documents.zip",
        "documents/files/Contrato de suministro 2026.pdf",
    ],
)
def test_downloads_are_streamed_or_presigned(
    gate_world_any: GateWorld, built_portals: Path, path: str
) -> None:
    client = signed_in(gate_world_any)
    expected = (built_portals / "C00007" / path).read_bytes()
    response = client.get("/portal/" + path.replace(" ", "%20"))
    filename = path.rsplit("/", 1)[1]
    if isinstance(gate_world_any.storage, S3Storage):
        assert response.status_code == 303
        url = response.headers["Location"]
        assert "X-Amz-Expires=60" in url and "X-Amz-Signature=" in url
        status, body, headers = fetch(url)
        assert status == 200 and body == expected
        disposition = headers["Content-Disposition"]
    else:
        assert response.status_code == 200
        assert response.get_data() == expected
        disposition = response.headers["Content-Disposition"]
        assert response.headers["Content-Length"] == str(len(expected))
    assert disposition.startswith("attachment;")
    assert filename.encode("ascii", "ignore").decode().replace(" ", "") in disposition.replace(
        " ", ""
    ).replace("%20", "")


def test_a_missing_portal_says_it_is_being_prepared(gate_world: GateWorld) -> None:
    gate_world.storage.delete(f"portals/{gate_world.key('C00008')}/manifest.json")
    response = signed_in(gate_world, "C00008").get("/portal/")
    assert response.status_code == 404
    assert "Estamos preparando su portal" in response.get_data(as_text=True)  # no manifest: es


def write_decision(world: GateWorld, slug: str, decision: str, name: str) -> None:
    record = {
        "version": 1,
        "quote": slug,
        "slug": slug,
        "decision": decision,
        "ts": "2026-06-15T21:30:00Z",  # 23:30 in Madrid: still the 15th there
        "contact": world.grants["C00007"].links[0].email,
        "name": name,
        "comment": "",
        "pdf_sha256": "0" * 64,
        "event_id": "01J0000000000000000000000",
    }
    world.storage.put_if_absent(
        decision_key(world.key("C00007"), slug), json.dumps(record).encode(), "application/json"
    )


def test_a_decision_shows_at_once_on_the_quote_list_home_and_page(
    gate_world_any: GateWorld,
) -> None:
    client = signed_in(gate_world_any)
    slug = "P2026A-00017"  # C00007's open quote
    before = client.get(f"/portal/quotes/{slug}.html").get_data(as_text=True)
    assert 'class="stack-form form-accept"' in before
    write_decision(gate_world_any, slug, "accepted", "Ana <b>López</b>")
    for path in (f"quotes/{slug}.html", "quotes/index.html", "index.html"):
        body = client.get(f"/portal/{path}").get_data(as_text=True)
        assert "Aceptado el 15/06/2026 por Ana <b>López</b>" in text_of(
            lxml_html.fromstring(body)
        ), path
        assert "por Ana &lt;b&gt;López&lt;/b&gt;" in body and "<b>López</b>" not in body
    page = client.get(f"/portal/quotes/{slug}.html").get_data(as_text=True)
    assert "form-accept" not in page and "form-reject" not in page  # the forms are gone
    other = client.get("/portal/quotes/P2025A-00013.html").get_data(as_text=True)
    assert "15/06/2026 por" not in other  # only the decided quote changes


def test_a_rejection_without_a_name_shows_the_contact(gate_world: GateWorld) -> None:
    client = signed_in(gate_world)
    write_decision(gate_world, "P2026A-00017", "rejected", "")
    body = client.get("/portal/quotes/P2026A-00017.html").get_data(as_text=True)
    email = gate_world.grants["C00007"].links[0].email
    assert f"Rechazado el 15/06/2026 por {email}" in text_of(lxml_html.fromstring(body))


BAD_DATE = {"version": 1, "quote": "P2026A-00017", "slug": "P2026A-00017", "contact": "a@b.es"}


@pytest.mark.parametrize(
    "damaged",
    [b"{oops", json.dumps({**BAD_DATE, "decision": "accepted", "ts": "ayer"}).encode()],
)
def test_a_damaged_decision_is_ignored(gate_world: GateWorld, damaged: bytes) -> None:
    client = signed_in(gate_world)
    gate_world.storage.put(
        decision_key(gate_world.key("C00007"), "P2026A-00017"), damaged, "application/json"
    )
    body = client.get("/portal/quotes/P2026A-00017.html").get_data(as_text=True)
    assert "form-accept" in body


def test_another_customers_decision_never_shows(gate_world: GateWorld) -> None:
    slug = "P2026A-00017"
    record = {  # a well-formed decision: only whose it is keeps it off the page
        "version": 1,
        "quote": slug,
        "slug": slug,
        "decision": "accepted",
        "ts": "2026-06-15T10:00:00Z",
        "name": "Intruso",
        "contact": "intruso@example.com",
    }
    gate_world.storage.put(
        decision_key(gate_world.key("C00008"), slug),
        json.dumps(record).encode(),
        "application/json",
    )
    body = signed_in(gate_world).get("/portal/quotes/P2026A-00017.html").get_data(as_text=True)
    assert "Intruso" not in body


@pytest.mark.s3
def test_revoke_kills_link_session_and_presigned_url_on_s3(
    demo_dir: Path, built_portals: Path, tmp_path: Path, s3_storage_config: dict[str, str]
) -> None:
    from tests.gate_fixtures import build_world

    world = build_world(demo_dir, built_portals, tmp_path, s3_storage_config)
    client = signed_in(world)
    link_page = world.client().get(world.link("C00007"))
    assert link_page.status_code == 200
    download = client.get("/portal/invoices/F2026A-00010.pdf")
    assert download.status_code == 303
    presigned = download.headers["Location"]
    assert fetch(presigned)[0] == 200  # works a moment before

    world.service.revoke("C00007")

    assert client.get("/portal/index.html").status_code == 410  # the session
    assert world.client().get(world.link("C00007")).status_code == 410  # the link
    status, body, _ = fetch(presigned)  # the URL handed out before, still unexpired
    assert status in (403, 404) and not body.startswith(b"%PDF")
    assert list(world.storage.list(f"portals/{world.key('C00007')}/")) == []
    assert signed_in(world, "C00008").get("/portal/").status_code == 200  # others untouched
    events = [json.loads(world.storage.get(i.key) or b"{}") for i in world.storage.list("_events/")]
    assert [e["type"] for e in events].count("session.started") == 2  # on S3: one object each
    assert not (tmp_path / "audit.jsonl").exists()


def test_after_a_revoke_refusals_speak_the_customers_language(gate_world: GateWorld) -> None:
    """The portal (and its manifest) is gone after a revoke: the registry keeps its
    language, so a Spanish customer whose browser asks for English still reads Spanish."""
    client = signed_in(gate_world)
    gate_world.service.revoke("C00007")
    english = {"Accept-Language": "en-GB,en;q=0.9"}
    for response in (
        client.get("/portal/index.html", headers=english),  # the session
        gate_world.client().get(gate_world.link("C00007"), headers=english),  # the link
    ):
        assert response.status_code == 410
        page = lxml_html.fromstring(response.get_data(as_text=True))
        assert page.get("lang") == "es"
    # C00008's portal is English: its refusal stays English for a Spanish browser
    other = signed_in(gate_world, "C00008")
    gate_world.service.revoke("C00008")
    refused = other.get("/portal/", headers={"Accept-Language": "es-ES,es"})
    assert lxml_html.fromstring(refused.get_data(as_text=True)).get("lang") == "en"


@pytest.mark.s3
def test_presigned_urls_use_the_public_endpoint(
    demo_dir: Path, built_portals: Path, tmp_path: Path, s3_storage_config: dict[str, str]
) -> None:
    """The gate reaches storage on an internal address; customers get the public one,
    and the URL signed for that host works there."""
    from tests.gate_fixtures import build_world

    internal = s3_storage_config["endpoint_url"]
    public = internal.replace("127.0.0.1", "localhost")
    assert public != internal
    config = {**s3_storage_config, "public_endpoint_url": public}
    world = build_world(demo_dir, built_portals, tmp_path, config)
    download = signed_in(world).get("/portal/invoices/F2026A-00010.pdf")
    assert download.status_code == 303
    location = download.headers["Location"]
    assert location.startswith(f"{public}/")
    status, body, _ = fetch(location)
    assert status == 200 and body.startswith(b"%PDF")
    assert world.storage.get("_access/index.json") is not None  # the rest: endpoint_url
