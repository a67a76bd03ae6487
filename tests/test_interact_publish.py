"""A quote decided in the portal stays decided after the nightly publish, although the
invoicing program's export still says pending: the gate writes the decision record
(``_decisions/<customer_key>/<slug>.json``, the format in interact/decisions.py) and
`publish_export` renders the quote from it, statically, without its decision forms."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from lxml import html as lxml_html

from portalgen.publish.manifest import blob_key, load_manifest
from portalgen.publish.run import publish_export
from tests.conftest import TODAY, load_demo
from tests.gate_fixtures import GateWorld
from tests.interact_fixtures import PENDING, decide, signed_in

PAGE = f"quotes/{PENDING}.html"
FORMS = "//form[contains(@class, 'form-accept') or contains(@class, 'form-reject')]"


def stored_page(world: GateWorld, code: str, path: str) -> lxml_html.HtmlElement:
    """A page of the customer's portal as published in storage (not through the gate)."""
    manifest = load_manifest(world.storage, world.key(code))
    assert manifest is not None
    raw = world.storage.get(blob_key(world.key(code), manifest.files[path].sha256))
    assert raw is not None
    return lxml_html.fromstring(raw)


def test_a_decision_made_at_the_gate_is_published_decided(
    june_world: GateWorld, demo_dir: Path, tmp_path: Path
) -> None:
    world = june_world
    export = load_demo(demo_dir).export
    [quote] = [q for q in export.quotes if q.number == PENDING]
    assert quote.status == "pending"  # in the export, before and after
    before = stored_page(world, "C00007", PAGE)
    assert len(before.xpath(FORMS)) == 2
    assert "Pendiente" in " ".join(before.xpath("string(//main)").split())

    client = signed_in(world)
    response = decide(client, PENDING, "accept", name="Ana López", comment="Adelante")
    assert response.status_code == 303
    assert client.app.flush()

    settings = dataclasses.replace(  # the render cache in the test's folder, not the demo's
        world.settings,
        publish=dataclasses.replace(world.settings.publish, cache_dir=tmp_path / "cache"),
    )
    report = publish_export(settings, export, only=("C00007",), today=TODAY, jobs=1)
    assert report.ok and report.published == 1, report.failed
    assert not [w for w in report.warnings if "decision" in w]

    page = stored_page(world, "C00007", PAGE)
    assert page.xpath(FORMS) == []
    badge = " ".join(page.xpath("string(//main)").split())
    assert "Aceptado" in badge and "Pendiente" not in badge
    listing = stored_page(world, "C00007", "quotes/index.html")
    [row] = listing.xpath(f"//tr[.//a[contains(., '{PENDING}')]]")
    assert "Aceptado" in row.text_content() and row.xpath(FORMS) == []
