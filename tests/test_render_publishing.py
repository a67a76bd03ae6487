"""What the renderer offers publishing: decided quotes, cached bytes for the ZIP, and keys
that do not depend on where the export lies."""

from __future__ import annotations

import io
import shutil
import zipfile
from dataclasses import replace
from pathlib import Path

from lxml import html

from portalgen.render import build_context, plan_portal
from portalgen.render.portal import document_token
from tests.conftest import TODAY
from tests.render_fixtures import render_settings, small_customer, text_of


def test_a_decision_in_the_portal_wins_over_a_pending_export(demo_dir: Path) -> None:
    context = build_context(render_settings(demo_dir), today=TODAY)
    data = small_customer()
    assert data.quotes[0].status == "pending"
    before = {f.path: f for f in plan_portal(data, context)}
    after = {f.path: f for f in plan_portal(data, context, {"P2026-001": "accepted"})}
    changed = {p for p in before if before[p].key != after[p].key}
    assert {"quotes/P2026-001.html", "quotes/index.html", "index.html"} <= changed
    assert "quotes/P2026-001.pdf" not in changed  # the quote itself did not change
    for planned in after.values():
        if planned.content_type == "application/pdf":
            context.digests[planned.key] = "ab" * 32
    page = html.fromstring(after["quotes/P2026-001.html"].render())
    assert page.xpath("//span[contains(@class, 'badge-accepted')]")
    assert not page.xpath("//form[contains(@class, 'form-accept')]")
    listing = html.fromstring(after["quotes/index.html"].render())
    assert "Aceptado" in text_of(listing)
    home = html.fromstring(after["index.html"].render())
    assert not home.xpath("//section[h2[@id='quotes-title']]//tbody/tr")  # none open now
    rejected = {f.path: f for f in plan_portal(data, context, {"P2026-001": "rejected"})}
    assert rejected["quotes/P2026-001.html"].key != after["quotes/P2026-001.html"].key


def test_the_zip_takes_pdfs_from_fetch_instead_of_rendering_them(demo_dir: Path) -> None:
    fake = b"%PDF-1.7 made earlier, kept in the cache"
    context = build_context(render_settings(demo_dir), today=TODAY)
    planned = {f.path: f for f in plan_portal(small_customer(), context)}
    pdfs = {f.key for f in planned.values() if f.content_type == "application/pdf"}
    asked: list[str] = []

    def fetch(key: str) -> bytes | None:
        asked.append(key)
        return fake

    context.fetch = fetch
    archive = zipfile.ZipFile(io.BytesIO(planned["download/all-documents.zip"].render()))
    assert set(asked) == pdfs
    assert {archive.read(name) for name in archive.namelist()} == {fake}
    assert context._pdf is None  # WeasyPrint never ran


def test_document_keys_follow_file_content_not_folder(tmp_path: Path) -> None:
    data = small_customer()
    first, second = tmp_path / "a" / "F.pdf", tmp_path / "b" / "F.pdf"
    for path in (first, second):
        path.parent.mkdir()
        path.write_bytes(b"%PDF original")
    invoice = data.invoices[0]
    token = document_token(replace(invoice, original_pdf=first))
    assert document_token(replace(invoice, original_pdf=second)) == token
    second.write_bytes(b"%PDF corrected")
    assert document_token(replace(invoice, original_pdf=second)) != token
    shutil.rmtree(tmp_path / "a")
    assert document_token(replace(invoice, original_pdf=first)) != token  # now missing
